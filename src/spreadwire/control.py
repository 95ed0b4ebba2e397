"""The node's control surface: :class:`spreadwire.api.ports.NodeService` over a
:class:`~spreadwire.app.TradingNode`.

Changes become commands (``domain.commands`` / ``domain.admin``) carrying the operator,
recorded in the event store before they are applied, so the audit log says who did
what. Order and position reads come from the event store's read models (the projection
runner catches up before each read); strategies, limits and latency come from the live
engines, which own them.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, TypeVar, final

import msgspec

from spreadwire.api.errors import ConflictError, NotFoundError, UnavailableError
from spreadwire.api.schemas import (
    BreakerReset,
    EventPage,
    EventView,
    InstrumentLimitsPatch,
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
    StoreState,
    StoreView,
    StrategyParams,
    StrategySpec,
    StrategyView,
    TradingStateChange,
    TradingStateView,
)
from spreadwire.app import CURRENCY, TradingNode, money_text
from spreadwire.domain.admin import (
    AddStrategy,
    ChangeRiskLimits,
    ChangeStrategyParams,
    StartStrategy,
    StopStrategy,
)
from spreadwire.domain.commands import (
    CancelOrder,
    EngageKillSwitch,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
    TripTradingState,
)
from spreadwire.domain.enums import OrderStatus, TimeInForce, TradingState
from spreadwire.domain.order import Order
from spreadwire.domain.values import FIXED_SCALAR, Price, Quantity, decimal_text
from spreadwire.errors import StoreError, ValidationError
from spreadwire.eventstore.queries import ReadModelQueries
from spreadwire.eventstore.recorder import Pooled
from spreadwire.strategy.pairs import PairsStrategy

_STRATEGY_FIELDS = ("strategy_id", "leg_y", "leg_x")
T = TypeVar("T")


@final
class NodeControl:
    """What the REST API calls; every method runs on the node's event-loop thread."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node

    # ------------------------------------------------------------------ system

    def readiness(self) -> Readiness:
        node = self._node
        failure = node.store_error
        checks = {
            "venue": node.started,
            "event_store": node.writer_open and failure is None and not node.writer.stats().failed,
            "market_data": node.marketdata.stats().quotes > 0,
        }
        ready = all(checks.values())
        detail = "" if ready else "starting"
        if failure is not None:
            detail = f"the event store failed, trading is halted: {failure}"
        return Readiness(ready=ready, checks=checks, detail=detail)

    def instruments(self) -> list[InstrumentView]:
        return [
            InstrumentView(
                symbol=i.symbol,
                instrument_id=i.instrument_id,
                venue=i.venue,
                currency=i.currency,
                price_precision=i.price_precision,
                size_precision=i.size_precision,
                tick_size=str(i.tick_size),
                lot_size=str(i.lot_size),
                min_notional=i.min_notional.amount(),
                tradable=i.tradable,
            )
            for i in self._node.instruments.values()
        ]

    # ------------------------------------------------------------------ strategies

    def _strategy(self, strategy_id: str) -> PairsStrategy:
        for strategy in self._node.strategies.strategies():
            if strategy.strategy_id == strategy_id:
                return strategy
        raise NotFoundError(f"no strategy {strategy_id!r}", field="strategy_id")

    @staticmethod
    def _strategy_view(strategy: PairsStrategy) -> StrategyView:
        params = {
            key: value
            for key, value in msgspec.structs.asdict(strategy.config).items()
            if key not in _STRATEGY_FIELDS
        }
        return StrategyView(
            strategy_id=strategy.strategy_id,
            legs=list(strategy.instrument_ids),
            running=strategy.running,
            params=params,
            state=str(strategy.state),
        )

    def strategies(self) -> list[StrategyView]:
        return [self._strategy_view(s) for s in self._node.strategies.strategies()]

    def add_strategy(self, spec: StrategySpec, *, actor: str) -> StrategyView:
        self._require_store("strategy_id")
        _check_path_id(spec.strategy_id, "strategy_id")
        if any(s.strategy_id == spec.strategy_id for s in self._node.strategies.strategies()):
            raise ConflictError(f"strategy {spec.strategy_id!r} exists", field="strategy_id")
        params = msgspec.structs.asdict(spec)
        start = params.pop("start")
        for key in _STRATEGY_FIELDS:
            params.pop(key)
        self._node.admin(
            AddStrategy(
                operator=actor,
                strategy_id=spec.strategy_id,
                leg_y=spec.leg_y,
                leg_x=spec.leg_x,
                params=params,
                start=start,
                ts_init=self._node.now(),
            )
        )
        return self._strategy_view(self._strategy(spec.strategy_id))

    def start_strategy(self, strategy_id: str, *, actor: str) -> StrategyView:
        self._require_store("strategy_id")
        self._strategy(strategy_id)
        self._node.admin(
            StartStrategy(operator=actor, strategy_id=strategy_id, ts_init=self._node.now())
        )
        return self._strategy_view(self._strategy(strategy_id))

    def stop_strategy(self, strategy_id: str, *, actor: str) -> StrategyView:
        self._strategy(strategy_id)
        self._node.admin(
            StopStrategy(operator=actor, strategy_id=strategy_id, ts_init=self._node.now())
        )
        return self._strategy_view(self._strategy(strategy_id))

    def set_strategy_params(
        self, strategy_id: str, params: StrategyParams, *, actor: str
    ) -> StrategyView:
        self._require_store("params")
        self._strategy(strategy_id)
        changes = {k: v for k, v in msgspec.structs.asdict(params).items() if v is not None}
        if not changes:
            raise ValidationError("params", "name at least one parameter to change")
        self._node.admin(
            ChangeStrategyParams(
                operator=actor, strategy_id=strategy_id, changes=changes, ts_init=self._node.now()
            )
        )
        return self._strategy_view(self._strategy(strategy_id))

    # ------------------------------------------------------------------ risk

    def risk_limits(self) -> RiskLimits:
        config = self._node.risk.config
        return RiskLimits(
            max_order_quantity=config.max_order_quantity,
            min_order_quantity=config.min_order_quantity,
            max_order_notional=config.max_order_notional,
            collar_bps=config.collar_bps,
            max_open_orders=config.max_open_orders,
            strategy_max_open_orders=config.strategy_max_open_orders,
            order_rate=RateLimitView(
                limit=config.order_rate.limit, interval_ns=config.order_rate.interval_ns
            ),
            strategy_order_rate=RateLimitView(
                limit=config.strategy_order_rate.limit,
                interval_ns=config.strategy_order_rate.interval_ns,
            ),
            max_position=config.max_position,
            strategy_notional_budget=config.strategy_notional_budget,
            max_gross_exposure=config.max_gross_exposure,
            max_net_exposure=config.max_net_exposure,
            daily_loss_limit=config.daily_loss_limit,
            max_drawdown=config.max_drawdown,
            instrument_limits={
                key: msgspec.convert(msgspec.to_builtins(value), InstrumentLimitsView)
                for key, value in config.instrument_limits.items()
            },
        )

    def set_risk_limits(self, patch: RiskLimitsPatch, *, actor: str) -> RiskLimits:
        self._require_store("limits")
        changes = msgspec.to_builtins(patch)
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            raise ValidationError("limits", "name at least one limit to change")
        unknown = sorted(set(patch.instrument_limits or ()) - set(self._node.instruments))
        if unknown:
            # a typo must not be recorded and shown as a limit in force that limits nothing
            raise ValidationError(
                "instrument_limits", f"unknown instrument {', '.join(map(repr, unknown))}"
            )
        if patch.instrument_limits is not None:
            # recorded as the overrides in force after the change, which the engine (and
            # a restore) puts in place of the old ones
            changes["instrument_limits"] = self._merged_instrument_limits(patch.instrument_limits)
        self._node.admin(
            ChangeRiskLimits(operator=actor, changes=changes, ts_init=self._node.now())
        )
        return self.risk_limits()

    def _merged_instrument_limits(
        self, patch: dict[str, InstrumentLimitsPatch | None]
    ) -> dict[str, dict[str, Any]]:
        """The per-instrument overrides in force with ``patch`` merged in: only the named
        fields of the named instruments change (null clears); none left, none kept."""
        merged: dict[str, dict[str, Any]] = {
            key: msgspec.to_builtins(value)
            for key, value in self._node.risk.config.instrument_limits.items()
        }
        for key, change in patch.items():
            fields = {} if change is None else merged.get(key, {}) | msgspec.to_builtins(change)
            if any(value is not None for value in fields.values()):
                merged[key] = fields
            else:
                merged.pop(key, None)
        return merged

    def trading_state(self) -> TradingStateView:
        node = self._node
        last = node.trading_events[-1] if node.trading_events else None
        kill = node.risk.kill_switch
        switches: list[KillSwitchView] = []
        engaged_at = {(entry[2], entry[3] or None): entry for entry in kill.history}
        if kill.all:
            switches.append(self._switch_view("all", None, engaged_at))
        switches += [self._switch_view("strategy", s, engaged_at) for s in sorted(kill.strategies)]
        switches += [
            self._switch_view("instrument", i, engaged_at) for i in sorted(kill.instruments)
        ]
        state = node.risk.trading_state
        if kill.all and state is TradingState.ACTIVE:
            state = TradingState.REDUCING  # a global kill switch restricts like REDUCING
        return TradingStateView(
            state=state,
            reason="" if last is None else last.reason,
            ts_changed=0 if last is None else last.ts_event,
            kill_switches=switches,
        )

    @staticmethod
    def _switch_view(
        scope: Any, target: str | None, history: dict[tuple[str, str | None], Any]
    ) -> KillSwitchView:
        entry = history.get((scope, target))
        return KillSwitchView(
            scope=scope,
            target=target,
            reason="" if entry is None else entry[5],
            ts_engaged=0 if entry is None else entry[0],
        )

    def _require_store(self, field: str) -> None:
        """Trading stays halted while the event store is failed: nothing done now could
        be recorded (the node halted itself when the store failed)."""
        failure = self._node.store_error
        if failure is not None:
            raise ConflictError(
                f"the event store failed ({failure}); trading stays halted until the node"
                " restarts from its log",
                field=field,
            )

    def set_trading_state(self, change: TradingStateChange, *, actor: str) -> TradingStateView:
        if change.state is TradingState.ACTIVE:
            return self._reset(change.reason, actor, "state")
        # a command like the reset's: recorded first, so the audit log holds the
        # operator's request also when the breaker is already there (or beyond) and
        # nothing changes; the answer then shows the state and its last change
        node = self._node
        node.submit_command(
            TripTradingState(
                state=change.state, operator=actor, reason=change.reason, ts_init=node.now()
            )
        )
        return self.trading_state()

    def engage_kill_switch(self, request: KillSwitchRequest, *, actor: str) -> KillSwitchResult:
        return self._kill_switch(EngageKillSwitch, request, actor)

    def release_kill_switch(self, request: KillSwitchRequest, *, actor: str) -> KillSwitchResult:
        self._require_store("scope")
        return self._kill_switch(ReleaseKillSwitch, request, actor)

    def _kill_switch(
        self,
        command: type[EngageKillSwitch] | type[ReleaseKillSwitch],
        request: KillSwitchRequest,
        actor: str,
    ) -> KillSwitchResult:
        node = self._node
        self._check_target(request)
        before = node.cancels_sent
        node.submit_command(
            command(
                scope=request.scope,
                target=request.target,
                operator=actor,
                reason=request.reason,
                ts_init=node.now(),
            )
        )
        return KillSwitchResult(
            engaged=command is EngageKillSwitch,
            scope=request.scope,
            target=request.target,
            orders_canceled=node.cancels_sent - before,
            state=self.trading_state(),
        )

    def _check_target(self, request: KillSwitchRequest) -> None:
        if request.scope == "all":
            if request.target is not None:
                raise ValidationError("target", "an 'all' kill switch takes no target")
            return
        if request.target is None:
            raise ValidationError("target", f"a {request.scope} kill switch needs a target")
        known = (
            {s.strategy_id for s in self._node.strategies.strategies()}
            if request.scope == "strategy"
            else set(self._node.instruments)
        )
        if request.target not in known:
            raise NotFoundError(f"no {request.scope} {request.target!r}", field="target")

    def reset_breaker(self, request: BreakerReset, *, actor: str) -> TradingStateView:
        return self._reset(request.reason, actor, "reason")

    def _reset(self, reason: str, actor: str, field: str) -> TradingStateView:
        """A reset to ACTIVE, recorded; refused (409) while the event store is failed
        (not recorded then) or during the cool-down after an automatic trip (recorded
        with the breaker's refusal, as the risk engine takes it)."""
        self._require_store(field)
        node = self._node
        cooling_until = node.risk.reset_cooldown_until()
        node.submit_command(ResetTradingState(operator=actor, reason=reason, ts_init=node.now()))
        if cooling_until is not None:
            raise ConflictError(
                "reset refused: the cool-down after an automatic trip runs until"
                f" {cooling_until} (ns since the epoch); try again then",
                field=field,
            )
        return self.trading_state()

    # ------------------------------------------------------------------ orders

    @staticmethod
    def _order_view(order: Order, reason: str = "") -> OrderView:
        filled = order.filled_qty.raw
        return OrderView(
            client_order_id=order.client_order_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            quantity=str(order.quantity),
            price=None if order.price is None else str(order.price),
            trigger_price=None if order.trigger_price is None else str(order.trigger_price),
            time_in_force=order.time_in_force,
            status=order.status,
            filled_quantity=str(order.filled_qty),
            avg_price=decimal_text(Fraction(order.avg_px_numerator, filled * FIXED_SCALAR))
            if filled
            else None,
            venue_order_id=order.venue_order_id,
            reason=reason,
            ts_last=order.ts_last,
        )

    def orders(self, query: OrderQuery) -> list[OrderView]:
        views: list[OrderView] = []
        for doc in reversed(
            self._read_models().orders(None if query.status is None else str(query.status))
        ):
            if query.strategy_id is not None and doc.get("strategy_id") != query.strategy_id:
                continue
            if query.instrument_id is not None and doc.get("instrument_id") != query.instrument_id:
                continue
            if not _described(doc):
                continue
            if query.open_only and not OrderStatus(doc["status"]).is_open:
                continue
            views.append(_order_doc_view(doc))
            if len(views) >= query.limit:
                break
        return views

    def order(self, client_order_id: str) -> OrderView:
        live = self._node.oms.order(client_order_id)
        if live is not None:
            return self._order_view(live, self._node.denials.get(client_order_id, ""))
        doc = self._read_models().order(client_order_id)
        if doc is None or not _described(doc):
            raise NotFoundError(f"no order {client_order_id!r}", field="client_order_id")
        return _order_doc_view(doc)

    def submit_order(self, request: OrderRequest, *, actor: str) -> OrderView:
        self._require_store("client_order_id")
        node = self._node
        instrument = node.instruments.get(request.instrument_id)
        if instrument is None:
            raise ValidationError("instrument_id", f"unknown instrument {request.instrument_id!r}")
        _check_path_id(request.client_order_id, "client_order_id")
        client_order_id = request.client_order_id or node.manual_ids.next()
        node.manual_ids.advance_past(client_order_id)  # a given "manual-<n>" is used up too
        command = SubmitOrder(
            strategy_id=request.strategy_id,
            instrument_id=instrument.instrument_id,
            client_order_id=client_order_id,
            side=request.side,
            order_type=request.order_type,
            quantity=_parse(
                Quantity.parse, request.quantity, "quantity", instrument.size_precision
            ),
            price=None
            if request.price is None
            else _parse(Price.parse, request.price, "price", instrument.price_precision),
            trigger_price=None
            if request.trigger_price is None
            else _parse(
                Price.parse, request.trigger_price, "trigger_price", instrument.price_precision
            ),
            time_in_force=request.time_in_force,
            expire_time_ns=request.expire_time_ns,
            post_only=request.post_only,
            reduce_only=request.reduce_only,
            operator=actor,
            ts_init=node.now(),
        )
        existing = node.oms.order(client_order_id)
        if existing is not None:
            if request.client_order_id is not None and _repeats(existing, command):
                # a retry (its answer lost, say): the order as it stands, sent once
                return self._order_view(existing, node.denials.get(client_order_id, ""))
            raise ConflictError(
                f"order {client_order_id!r} exists with other parameters;"
                " a retry must repeat the order exactly, a new order needs a new id",
                field="client_order_id",
            )
        denied = node.denials.get(client_order_id)
        if denied is not None:
            raise ConflictError(
                f"order {client_order_id!r} was denied ({denied}); a new order needs a new id",
                field="client_order_id",
            )
        if request.client_order_id is not None:
            # an order closed long ago is no longer in the OMS's memory: the read models
            # hold every order of the log
            closed = self._read_models().order(client_order_id)
            if closed is not None:
                raise ConflictError(
                    f"order {client_order_id!r} exists ({closed.get('status')});"
                    " a new order needs a new id",
                    field="client_order_id",
                )
        node.submit_command(command)
        order = node.oms.order(client_order_id)
        if order is not None:
            return self._order_view(order)
        reason = node.denials.get(client_order_id, "")
        return OrderView(
            client_order_id=client_order_id,
            strategy_id=request.strategy_id,
            instrument_id=instrument.instrument_id,
            side=request.side,
            order_type=request.order_type,
            quantity=str(command.quantity),
            price=None if command.price is None else str(command.price),
            trigger_price=None if command.trigger_price is None else str(command.trigger_price),
            time_in_force=request.time_in_force,
            status=OrderStatus.DENIED,
            reason=reason,
            ts_last=node.now(),
        )

    def cancel_order(self, client_order_id: str, *, actor: str) -> OrderView:
        node = self._node
        order = node.oms.order(client_order_id)
        if order is None:
            raise NotFoundError(f"no order {client_order_id!r}", field="client_order_id")
        if not order.is_open:
            raise ConflictError(
                f"order {client_order_id!r} is {order.status}", field="client_order_id"
            )
        node.submit_command(
            CancelOrder(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=client_order_id,
                operator=actor,
                ts_init=node.now(),
            )
        )
        return self._order_view(order)

    # ------------------------------------------------------------------ positions and PnL

    def positions(self) -> list[PositionView]:
        node = self._node
        views = []
        for doc in self._read_models().positions():
            mark = node.marks.get(doc["instrument_id"])
            qty = Fraction(int(doc["quantity_raw"]), FIXED_SCALAR)
            cost = Fraction(doc["cost_basis"])
            unrealized = (
                Fraction(mark.raw, FIXED_SCALAR) * qty - cost if mark is not None and qty else 0
            )
            views.append(
                PositionView(
                    strategy_id=doc["strategy_id"],
                    instrument_id=doc["instrument_id"],
                    side=doc["side"],
                    quantity=doc["quantity"],
                    avg_price=doc.get("avg_open_price"),
                    realized_pnl=doc["realized_pnl"],
                    unrealized_pnl=money_text(Fraction(unrealized)),
                    currency=CURRENCY,
                )
            )
        return views

    def pnl(self) -> PnlView:
        node = self._node
        realized = Fraction(0)
        unrealized = Fraction(0)
        by_strategy: dict[str, Fraction] = {}
        for position in node.oms.positions():
            mark = node.marks.get(position.instrument_id)
            open_pnl = position.unrealized(mark) if mark is not None else Fraction(0)
            realized += position.realized
            unrealized += open_pnl
            by_strategy[position.strategy_id] = (
                by_strategy.get(position.strategy_id, Fraction(0)) + position.realized + open_pnl
            )
        return PnlView(
            realized=money_text(realized),
            unrealized=money_text(unrealized),
            total=money_text(realized + unrealized),
            currency=CURRENCY,
            by_strategy={k: money_text(v) for k, v in sorted(by_strategy.items())},
            ts=node.now(),
        )

    def latency(self) -> LatencyView:
        node = self._node
        return LatencyView(
            stages=[
                StageLatency(
                    stage=name,
                    count=s.count,
                    p50_ns=s.p50,
                    p99_ns=s.p99,
                    p999_ns=s.p999,
                    max_ns=s.max,
                )
                for name, s in node.latency.summaries().items()
            ],
            ts=node.now(),
        )

    def store(self) -> StoreView:
        """The event store as the node sees it: no query is sent to the store (the
        position is the highest this node's writer had acknowledged)."""
        node = self._node
        writer = node.writer
        stats = writer.stats()
        recorder = node.recorder
        error = node.store_error or ""
        state: StoreState
        if error or stats.failed:
            state = "failed"
            if not error and writer.failure is not None:
                error = str(writer.failure)
        elif not node.writer_open:
            state = "closed"
        elif writer.retrying:
            state = "retrying"
        else:
            state = "ok"
        url = recorder.url
        return StoreView(
            url=url,
            backend=url.partition(":")[0],
            state=state,
            error=error,
            durability=stats.durability,
            last_position=stats.last_position,
            appended=stats.appended,
            committed=stats.committed,
            unrecorded=node.unrecorded,
            commits=stats.batches,
            largest_batch=stats.largest_batch,
            queue_depth=stats.queue_depth,
            queue_peak=stats.queue_peak,
            capacity=stats.capacity,
            backpressure_waits=stats.backpressure_waits,
            retries=stats.retries,
            refused=stats.refused,
            ack_p50_ns=stats.ack_p50_ns,
            ack_p99_ns=stats.ack_p99_ns,
            ack_max_ns=stats.ack_max_ns,
            pool=recorder.pool_stats() if isinstance(recorder, Pooled) else None,
            ts=node.now(),
        )

    def events(self, after: int, limit: int) -> EventPage:
        node = self._node
        node.committed()
        views = [
            EventView(
                position=entry.position,
                stream=entry.stream,
                type=entry.type,
                ts=entry.ts,
                data=msgspec.to_builtins(entry.message),
            )
            for entry in _unavailable_on_store_error(
                "the event log", lambda: list(node.recorder.read(after=after, limit=limit))
            )
        ]
        return EventPage(events=views, next_after=views[-1].position if views else after)

    def _read_models(self) -> ReadModelQueries:
        """The node's read models, caught up; 503 when they cannot be: a log that cannot
        be read (the store failed or went away) or read models another connection holds
        locked past their timeout are the store's state, not a bug of the request (they
        were a 500 ``internal_error``)."""
        return _unavailable_on_store_error("the read models", self._node.read_models)


def _unavailable_on_store_error(what: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except StoreError as error:
        raise UnavailableError(f"{what} cannot be read now: {error}") from None


def _check_path_id(value: str | None, field: str) -> None:
    """An order or strategy id is one segment of the paths that address it
    (``/v1/orders/{id}``, ``/v1/strategies/{id}/start``; a strategy's orders are
    ``<strategy id>-<n>``): one with a ``/`` was taken, then never found again (404 from
    the router, even as ``%2F``) nor cancelled. The schema's identifier allows ``/``
    for instrument ids (``BTC/USD``)."""
    if value is not None and "/" in value:
        raise ValidationError(field, f"{value!r}: an id used in a path cannot contain '/'")


def _described(doc: dict[str, Any]) -> bool:
    """Whether an orders read-model document describes an order: one past the risk gate
    (a status), whose stored order gave its side (not an older document of a denial)."""
    return doc.get("status") is not None and "side" in doc


def _repeats(order: Order, command: SubmitOrder) -> bool:
    """Whether ``command`` asks for ``order`` again, field by field."""
    return (
        order.strategy_id == command.strategy_id
        and order.instrument_id == command.instrument_id
        and order.side is command.side
        and order.order_type is command.order_type
        and order.quantity == command.quantity
        and order.price == command.price
        and order.trigger_price == command.trigger_price
        and order.time_in_force is command.time_in_force
        and order.expire_time_ns == command.expire_time_ns
        and order.post_only == command.post_only
        and order.reduce_only == command.reduce_only
    )


def _parse(parse: Any, text: str, field: str, precision: int) -> Any:
    try:
        return parse(text, precision)
    except ValidationError as error:
        raise ValidationError(field, error.message) from None


def _order_doc_view(doc: dict[str, Any]) -> OrderView:
    return OrderView(
        client_order_id=doc["client_order_id"],
        strategy_id=doc.get("strategy_id", ""),
        instrument_id=doc.get("instrument_id", ""),
        side=doc["side"],
        order_type=doc["order_type"],
        quantity=doc["quantity"],
        price=doc.get("price"),
        trigger_price=doc.get("trigger_price"),
        time_in_force=doc.get("time_in_force", TimeInForce.GTC),
        status=doc["status"],
        filled_quantity=doc.get("filled_qty", "0"),
        avg_price=doc.get("avg_px"),
        venue_order_id=doc.get("venue_order_id"),
        reason=doc.get("reason") or "",
        ts_last=doc.get("ts_last", 0),
    )
