"""The standard aggregates: orders (submit, cancel, modify) and the trading state
(kill switch, reset after a breaker trip)."""

from __future__ import annotations

from typing import Any, final

import msgspec

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import (
    PRICED_TYPES,
    TRIGGERED_TYPES,
    CancelOrder,
    EngageKillSwitch,
    ModifyOrder,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
    TripTradingState,
    submit_problem,
)
from spreadwire.domain.enums import TradingState
from spreadwire.domain.events import (
    OrderEvent,
    OrderInitialized,
    OrderPendingCancel,
    OrderPendingUpdate,
    TradingStateChanged,
)
from spreadwire.domain.order import Order
from spreadwire.eventstore.handlers import CommandBus, Decision
from spreadwire.eventstore.streams import TRADING_STREAM, stream_of


@final
class OrderAggregate:
    """Stream ``order-<client_order_id>``; the state is the domain :class:`Order`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def stream(self, command: Any) -> str:
        return stream_of(command)

    def initial(self) -> Order | None:
        return None

    def evolve(self, state: Order | None, message: Any) -> Order | None:
        if isinstance(message, OrderInitialized):
            return Order(message) if state is None else state
        if state is not None and isinstance(message, OrderEvent) and state.can_apply(message):
            state.apply(message)
        return state

    def decide(self, state: Order | None, command: Any) -> Decision:
        now = self._clock.timestamp_ns()
        match command:
            case SubmitOrder():
                if state is not None:
                    return Decision(refused="DUPLICATE_CLIENT_ORDER_ID")
                problem = submit_problem(command)
                if problem is not None:
                    return Decision(refused="INVALID_ORDER", detail=problem)
                fields = msgspec.structs.asdict(command)
                fields.pop("ts_init")
                fields.pop("operator")  # who asked stays on the command
                return Decision((command, OrderInitialized(**fields, ts_event=now, ts_init=now)))
            case CancelOrder() | ModifyOrder() if state is None:
                return Decision(refused="UNKNOWN_ORDER")
            case CancelOrder():
                pending: OrderEvent = OrderPendingCancel(**_ids(command), ts_event=now, ts_init=now)
            case ModifyOrder():
                pending = OrderPendingUpdate(**_ids(command), ts_event=now, ts_init=now)
            case _:
                return Decision(refused="UNSUPPORTED_COMMAND")
        assert state is not None
        refusal = _amend_refusal(state, command, pending)
        return refusal if refusal is not None else Decision((command, pending))


def _amend_refusal(
    order: Order, command: CancelOrder | ModifyOrder, pending: OrderEvent
) -> Decision | None:
    """Why a cancel or modify of ``order`` is refused (None: it is not)."""
    mismatch = _mismatch(order, command)
    if mismatch is not None:
        return Decision(refused="INVALID_COMMAND", detail=mismatch)
    if not order.can_apply(pending):
        return Decision(refused=f"ORDER_{order.status}")
    if isinstance(command, ModifyOrder):
        problem = _modify_problem(order, command)
        if problem is not None:
            return Decision(refused="INVALID_ORDER", detail=problem)
    return None


def _mismatch(order: Order, command: CancelOrder | ModifyOrder) -> str | None:
    """The id ``command`` names other than ``order``'s (the stream is the client order
    id's, so another order was meant); None when they agree."""
    for field, ours, given in (
        ("strategy_id", order.strategy_id, command.strategy_id),
        ("instrument_id", order.instrument_id, command.instrument_id),
    ):
        if given != ours:
            return f"{field}: order {order.client_order_id!r} has {ours!r}, not {given!r}"
    return None


def _modify_problem(order: Order, command: ModifyOrder) -> str | None:
    """What makes the amended order one no venue would take (None: nothing)."""
    if command.quantity is None and command.price is None and command.trigger_price is None:
        return "nothing to change: give quantity, price or trigger_price"
    if command.quantity is not None and command.quantity.raw <= 0:
        return f"quantity must be > 0, got {command.quantity}"
    if command.price is not None and order.order_type not in PRICED_TYPES:
        return f"a {order.order_type} order takes no price"
    if command.trigger_price is not None and order.order_type not in TRIGGERED_TYPES:
        return f"a {order.order_type} order takes no trigger_price"
    return None


def _ids(command: CancelOrder | ModifyOrder) -> dict[str, str]:
    return {
        "strategy_id": command.strategy_id,
        "instrument_id": command.instrument_id,
        "client_order_id": command.client_order_id,
    }


class TradingStatus(msgspec.Struct, kw_only=True):
    state: TradingState = TradingState.ACTIVE
    kill_switch: bool = False


@final
class TradingStateAggregate:
    """Stream ``trading``: the node-wide trading state and the global kill switch."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def stream(self, command: Any) -> str:
        return TRADING_STREAM

    def initial(self) -> TradingStatus:
        return TradingStatus()

    def evolve(self, state: TradingStatus, message: Any) -> TradingStatus:
        if isinstance(message, TradingStateChanged) and message.scope == "all":
            state.state = message.state
        elif isinstance(message, EngageKillSwitch) and message.scope == "all":
            state.kill_switch = True
        elif isinstance(message, ReleaseKillSwitch) and message.scope == "all":
            state.kill_switch = False
        return state

    def decide(self, state: TradingStatus, command: Any) -> Decision:
        match command:
            case EngageKillSwitch(scope="all"):
                return Decision((command, *self._move(state, TradingState.HALTED, command)))
            case ReleaseKillSwitch(scope="all"):
                if not state.kill_switch:
                    return Decision(refused="KILL_SWITCH_NOT_ENGAGED")
                return Decision((command,))
            case EngageKillSwitch() | ReleaseKillSwitch():
                if not command.target:
                    return Decision(
                        refused="INVALID_COMMAND",
                        detail=f"target: a {command.scope} kill switch names the {command.scope}",
                    )
                return Decision((command,))
            case ResetTradingState():
                if state.kill_switch:
                    return Decision(refused="KILL_SWITCH_ENGAGED")
                return Decision((command, *self._move(state, TradingState.ACTIVE, command)))
            case TripTradingState():
                return self._trip(state, command)
        return Decision(refused="UNSUPPORTED_COMMAND")

    def _trip(self, state: TradingStatus, command: TripTradingState) -> Decision:
        """Recorded whatever the state; a trip never lowers it (no change published then)."""
        if command.state is TradingState.ACTIVE:
            return Decision(
                refused="INVALID_COMMAND",
                detail="state: a trip goes to REDUCING or HALTED (a reset to ACTIVE)",
            )
        if _SEVERITY[state.state] >= _SEVERITY[command.state]:
            return Decision((command,))
        return Decision((command, *self._move(state, command.state, command)))

    def _move(self, state: TradingStatus, target: TradingState, command: Any) -> tuple[Any, ...]:
        if state.state is target:
            return ()
        now = self._clock.timestamp_ns()
        reason = f"{type(command).__name__} by {command.operator}: {command.reason}".rstrip(": ")
        return (
            TradingStateChanged(
                state=target,
                previous=state.state,
                reason=reason,
                operator=command.operator,
                ts_event=now,
                ts_init=now,
            ),
        )


#: How far each state is from trading freely: a trip only ever moves up this order.
_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def standard_command_bus(bus: CommandBus, clock: Clock) -> CommandBus:
    """Register the standard aggregates on ``bus`` and return it."""
    bus.register((SubmitOrder, CancelOrder, ModifyOrder), OrderAggregate(clock))
    bus.register(
        (EngageKillSwitch, ReleaseKillSwitch, ResetTradingState, TripTradingState),
        TradingStateAggregate(clock),
    )
    return bus
