"""An in-memory :class:`NodeService` twin: enough node to test the HTTP layer against.

It keeps instruments, strategies, limits, trading state, orders and an audit log in
dicts, applies the same rules the real node promises at the port (NotFoundError for an
unknown id, ConflictError for a duplicate, ValidationError naming a field, a DENIED order
while HALTED) and records every mutating call with its actor in ``audit``.
"""

from __future__ import annotations

from typing import Any, final

import msgspec

from spreadwire.api.errors import ConflictError, NotFoundError
from spreadwire.api.schemas import (
    BreakerReset,
    EventPage,
    EventView,
    InstrumentLimitsView,
    InstrumentView,
    KillSwitchRequest,
    KillSwitchResult,
    KillSwitchView,
    LatencyView,
    OrderQuery,
    OrderRequest,
    OrderView,
    PnlView,
    PositionView,
    RateLimitView,
    Readiness,
    RiskLimits,
    RiskLimitsPatch,
    StageLatency,
    StoreView,
    StrategyParams,
    StrategySpec,
    StrategyView,
    TradingStateChange,
    TradingStateView,
)
from spreadwire.domain.enums import OrderStatus, OrderType, TradingState
from spreadwire.domain.instrument import Instrument
from spreadwire.errors import ValidationError
from tests.builders import make_instrument


def instrument_view(instrument: Instrument) -> InstrumentView:
    return InstrumentView(
        symbol=instrument.symbol,
        instrument_id=instrument.instrument_id,
        venue=instrument.venue,
        currency=instrument.currency,
        price_precision=instrument.price_precision,
        size_precision=instrument.size_precision,
        tick_size=str(instrument.tick_size),
        lot_size=str(instrument.lot_size),
        min_notional=instrument.min_notional.amount(),
        tradable=instrument.tradable,
    )


def default_limits() -> RiskLimits:
    return RiskLimits(
        max_order_quantity="100000",
        min_order_quantity="0",
        max_order_notional="1000000",
        collar_bps=500,
        max_open_orders=500,
        strategy_max_open_orders=100,
        order_rate=RateLimitView(limit=1000, interval_ns=1_000_000_000),
        strategy_order_rate=RateLimitView(limit=200, interval_ns=1_000_000_000),
        max_position="100000",
        strategy_notional_budget="5000000",
        max_gross_exposure="20000000",
        max_net_exposure="10000000",
        daily_loss_limit="250000",
        max_drawdown="400000",
    )


@final
class MemoryNodeService:
    """A :class:`spreadwire.api.ports.NodeService` held in memory."""

    def __init__(self, symbols: tuple[str, ...] = ("AAA", "BBB", "CCC")) -> None:
        self.instrument_list = [make_instrument(symbol) for symbol in symbols]
        self.ready = True
        self.strategy_views: dict[str, StrategyView] = {}
        self.limits = default_limits()
        self.state = TradingStateView(state=TradingState.ACTIVE)
        self.order_views: dict[str, OrderView] = {}
        self.audit: list[tuple[str, str]] = []
        self.event_log: list[EventView] = []
        self.store_view = StoreView(
            url="postgresql://trader@db.example:5432/desk",
            backend="postgresql",
            state="ok",
            durability="durable",
            last_position=42,
            appended=42,
            committed=42,
            unrecorded=0,
            commits=7,
            largest_batch=12,
            queue_depth=0,
            queue_peak=12,
            capacity=65_536,
            backpressure_waits=0,
            refused=0,
            retries=1,
            ack_p50_ns=300_000,
            ack_p99_ns=900_000,
            ack_max_ns=1_500_000,
            pool={"pool_size": 4, "pool_available": 3, "requests_num": 55, "requests_waiting": 0},
        )
        self._next_order = 0
        self.position_views = [
            PositionView(
                strategy_id="pair1",
                instrument_id=f"{symbol}.SIM",
                side="LONG",
                quantity="10",
                avg_price="100.00",
                realized_pnl="0.00",
                unrealized_pnl="1.50",
                currency="USD",
            )
            for symbol in symbols
        ]

    def _record(self, action: str, actor: str, data: Any = None) -> None:
        self.audit.append((action, actor))
        payload = {"actor": actor, "data": msgspec.to_builtins(data)}
        position = len(self.event_log) + 1
        self.event_log.append(
            EventView(position=position, stream="audit", type=action, ts=position, data=payload)
        )

    def readiness(self) -> Readiness:
        return Readiness(ready=self.ready, checks={"store": self.ready})

    def instruments(self) -> list[InstrumentView]:
        return [instrument_view(i) for i in self.instrument_list]

    def strategies(self) -> list[StrategyView]:
        return list(self.strategy_views.values())

    def _strategy(self, strategy_id: str) -> StrategyView:
        view = self.strategy_views.get(strategy_id)
        if view is None:
            raise NotFoundError(f"no strategy {strategy_id!r}", field="strategy_id")
        return view

    def add_strategy(self, spec: StrategySpec, *, actor: str) -> StrategyView:
        if spec.strategy_id in self.strategy_views:
            raise ConflictError(f"strategy {spec.strategy_id!r} exists", field="strategy_id")
        if spec.leg_x == spec.leg_y:
            raise ValidationError("leg_x", "must differ from leg_y")
        params = msgspec.to_builtins(spec)
        view = StrategyView(
            strategy_id=spec.strategy_id,
            legs=[spec.leg_y, spec.leg_x],
            running=spec.start,
            params={k: v for k, v in params.items() if k not in ("strategy_id", "start")},
        )
        self.strategy_views[spec.strategy_id] = view
        self._record("StrategyAdded", actor, spec)
        return view

    def _set_running(self, strategy_id: str, running: bool, actor: str) -> StrategyView:
        view = msgspec.structs.replace(self._strategy(strategy_id), running=running)
        self.strategy_views[strategy_id] = view
        self._record("StrategyStarted" if running else "StrategyStopped", actor)
        return view

    def start_strategy(self, strategy_id: str, *, actor: str) -> StrategyView:
        return self._set_running(strategy_id, True, actor)

    def stop_strategy(self, strategy_id: str, *, actor: str) -> StrategyView:
        return self._set_running(strategy_id, False, actor)

    def set_strategy_params(
        self, strategy_id: str, params: StrategyParams, *, actor: str
    ) -> StrategyView:
        view = self._strategy(strategy_id)
        changes = {k: v for k, v in msgspec.to_builtins(params).items() if v is not None}
        view = msgspec.structs.replace(view, params={**view.params, **changes})
        self.strategy_views[strategy_id] = view
        self._record("StrategyParamsChanged", actor, params)
        return view

    def risk_limits(self) -> RiskLimits:
        return self.limits

    def set_risk_limits(self, patch: RiskLimitsPatch, *, actor: str) -> RiskLimits:
        changes = {
            name: getattr(patch, name)
            for name in patch.__struct_fields__
            if getattr(patch, name) is not None
        }
        if patch.instrument_limits is not None:
            # merged per instrument and field, null clearing, as the node does
            merged = {k: msgspec.to_builtins(v) for k, v in self.limits.instrument_limits.items()}
            for key, change in patch.instrument_limits.items():
                fields = {} if change is None else merged.get(key, {}) | msgspec.to_builtins(change)
                if any(value is not None for value in fields.values()):
                    merged[key] = fields
                else:
                    merged.pop(key, None)
            changes["instrument_limits"] = {
                key: msgspec.convert(fields, InstrumentLimitsView) for key, fields in merged.items()
            }
        self.limits = msgspec.structs.replace(self.limits, **changes)
        self._record("RiskLimitsChanged", actor, patch)
        return self.limits

    def trading_state(self) -> TradingStateView:
        return self.state

    def set_trading_state(self, change: TradingStateChange, *, actor: str) -> TradingStateView:
        self.state = msgspec.structs.replace(self.state, state=change.state, reason=change.reason)
        self._record("TradingStateChanged", actor, change)
        return self.state

    def engage_kill_switch(self, request: KillSwitchRequest, *, actor: str) -> KillSwitchResult:
        switch = KillSwitchView(
            scope=request.scope, target=request.target, reason=request.reason, ts_engaged=1
        )
        state = TradingState.HALTED if request.scope == "all" else self.state.state
        self.state = TradingStateView(
            state=state,
            reason=request.reason or "kill switch",
            kill_switches=[*self.state.kill_switches, switch],
        )
        canceled = 0
        for order_id, order in list(self.order_views.items()):
            if order.status.is_open:
                self.order_views[order_id] = msgspec.structs.replace(
                    order, status=OrderStatus.CANCELED
                )
                canceled += 1
        self._record("KillSwitchEngaged", actor, request)
        return KillSwitchResult(
            engaged=True,
            scope=request.scope,
            target=request.target,
            orders_canceled=canceled,
            state=self.state,
        )

    def release_kill_switch(self, request: KillSwitchRequest, *, actor: str) -> KillSwitchResult:
        remaining = [
            k
            for k in self.state.kill_switches
            if (k.scope, k.target) != (request.scope, request.target)
        ]
        self.state = msgspec.structs.replace(self.state, kill_switches=remaining)
        self._record("KillSwitchReleased", actor, request)
        return KillSwitchResult(
            engaged=False, scope=request.scope, target=request.target, state=self.state
        )

    def reset_breaker(self, request: BreakerReset, *, actor: str) -> TradingStateView:
        self.state = TradingStateView(state=TradingState.ACTIVE, reason=request.reason)
        self._record("TradingStateReset", actor, request)
        return self.state

    def orders(self, query: OrderQuery) -> list[OrderView]:
        out = [
            o
            for o in reversed(self.order_views.values())
            if (query.status is None or o.status == query.status)
            and (query.strategy_id is None or o.strategy_id == query.strategy_id)
            and (query.instrument_id is None or o.instrument_id == query.instrument_id)
            and (not query.open_only or o.status.is_open)
        ]
        return out[: query.limit]

    def order(self, client_order_id: str) -> OrderView:
        view = self.order_views.get(client_order_id)
        if view is None:
            raise NotFoundError(f"no order {client_order_id!r}", field="client_order_id")
        return view

    def submit_order(self, request: OrderRequest, *, actor: str) -> OrderView:
        known = {i.instrument_id for i in self.instrument_list}
        if request.instrument_id not in known:
            raise ValidationError("instrument_id", f"unknown instrument {request.instrument_id!r}")
        if request.order_type is OrderType.LIMIT and request.price is None:
            raise ValidationError("price", "a LIMIT order needs a price")
        self._next_order += 1
        order_id = request.client_order_id or f"API-{self._next_order}"
        if order_id in self.order_views:
            raise ConflictError(f"duplicate client order id {order_id!r}", field="client_order_id")
        halted = self.state.state is not TradingState.ACTIVE
        view = OrderView(
            client_order_id=order_id,
            strategy_id=request.strategy_id,
            instrument_id=request.instrument_id,
            side=request.side,
            order_type=request.order_type,
            quantity=request.quantity,
            price=request.price,
            time_in_force=request.time_in_force,
            status=OrderStatus.DENIED if halted else OrderStatus.ACCEPTED,
            reason="TRADING_HALTED" if halted else "",
        )
        self.order_views[order_id] = view
        self._record("OrderSubmitted", actor, request)
        return view

    def cancel_order(self, client_order_id: str, *, actor: str) -> OrderView:
        view = self.order(client_order_id)
        if not view.status.is_open:
            raise ConflictError(f"order {client_order_id!r} is {view.status}")
        view = msgspec.structs.replace(view, status=OrderStatus.PENDING_CANCEL)
        self.order_views[client_order_id] = view
        self._record("OrderCancelRequested", actor)
        return view

    def positions(self) -> list[PositionView]:
        return self.position_views

    def pnl(self) -> PnlView:
        return PnlView(
            realized="0.00",
            unrealized="4.50",
            total="4.50",
            currency="USD",
            by_strategy={"pair1": "4.50"},
        )

    def latency(self) -> LatencyView:
        return LatencyView(
            stages=[
                StageLatency(
                    stage="tick_to_order",
                    count=10,
                    p50_ns=5_000,
                    p99_ns=20_000,
                    p999_ns=30_000,
                    max_ns=40_000,
                )
            ]
        )

    def store(self) -> StoreView:
        return self.store_view

    def events(self, after: int, limit: int) -> EventPage:
        page = [e for e in self.event_log if e.position > after][:limit]
        return EventPage(events=page, next_after=page[-1].position if page else after)
