"""The composition root: builds a trading node from its configuration and wires it.

This is the only module that picks concrete adapters (the event-store backend, the
simulated venue). Engines never see each other: they get callables, and the bus routes
messages between them by type.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Final, final

import msgspec

from spreadwire.config import NodeConfig
from spreadwire.core.bus import MessageBus
from spreadwire.core.clock import SimClock, perf_counter_ns
from spreadwire.core.gcpolicy import ControlledCollector
from spreadwire.core.histogram import LatencyHistogram
from spreadwire.core.ids import IdGenerator
from spreadwire.core.scheduler import Scheduler
from spreadwire.domain.admin import (
    AddStrategy,
    AdminCommand,
    ChangeRiskLimits,
    ChangeStrategyParams,
    StartStrategy,
    StopStrategy,
)
from spreadwire.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    EngageKillSwitch,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
)
from spreadwire.domain.enums import ReportKind, TradingState
from spreadwire.domain.events import (
    ORDER_EVENT_TYPES,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderInitialized,
    OrderPartiallyFilled,
    OrderRejected,
    PairStateChanged,
    TradingAlert,
    TradingStateChanged,
    VenueStateChanged,
)
from spreadwire.domain.market import BookDelta, BookSnapshot, DataGap, QuoteTick, TradeTick
from spreadwire.domain.position import PositionRow
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Money
from spreadwire.errors import ConfigError, StoreError, ValidationError, validation_error
from spreadwire.eventstore.projection import ProjectionRunner, ReadModelStore
from spreadwire.eventstore.queries import ReadModelQueries
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.writer import EventWriter
from spreadwire.marketdata.engine import MarketDataEngine
from spreadwire.node import NodeView, PairView
from spreadwire.oms.manager import OrderManager
from spreadwire.oms.marks import QuoteMarks
from spreadwire.persistence.store import default_read_models_url, open_read_models, open_store
from spreadwire.risk.engine import RiskEngine
from spreadwire.risk.priority import PriorityWorkQueue
from spreadwire.stats import RollingOLS
from spreadwire.strategy.config import PairStrategyConfig
from spreadwire.strategy.engine import StrategyEngine
from spreadwire.strategy.pairs import PairsStrategy
from spreadwire.telemetry.latency import LatencyTracker
from spreadwire.venue.config import GeneratorConfig, VenueConfig, default_pairs
from spreadwire.venue.reasons import VenueReason
from spreadwire.venue.simulator import SimulatedVenue

log = logging.getLogger("spreadwire.app")

#: Venue rejections that say the venue could not take the order (overload, outage),
#: as opposed to business rejections (bad price, FOK unfillable): they count as venue
#: errors for the venue breaker and the error-burst trip.
TECHNICAL_REJECTS: Final = frozenset({VenueReason.VENUE_BUSY.value})

MAX_REMEMBERED_DENIALS: Final = 10_000
#: how long a read waits for the writer to commit this node's last commands
READ_FLUSH_TIMEOUT_S: Final = 0.1
#: how long the node's own reads wait for SQLite read models another connection holds
#: locked (a rebuild's batch, a CLI catch-up): they run on the event loop, which the
#: store's default 5 s would stall; past it the API answers 503
READ_MODELS_LOCK_TIMEOUT_S: Final = 0.5
#: order events the node counts itself (fills, denials, rejections)
_COUNTED_EVENTS: Final = frozenset({OrderFilled, OrderPartiallyFilled, OrderDenied, OrderRejected})

#: the prefix of the client order ids the API gives manual orders (``manual-<n>``)
MANUAL_ID_PREFIX: Final = "manual"

#: Simulated time starts here (2026-01-05 14:30:00 UTC), so a seeded run replays exactly.
SIM_EPOCH_NS: Final = 1_767_623_400_000_000_000
CURRENCY: Final = "USD"


#: The simulated pairs' spread: reverts with a half-life of about 0.35 s (rate 2/s) and
#: a stationary standard deviation of about 0.08, so a strategy on a 300-quote window
#: (about 5 s) sees many round trips in a short demo.
SPREAD_REVERSION: Final = 2.0
SPREAD_VOLATILITY: Final = 0.16


def _venue_config(config: NodeConfig) -> VenueConfig:
    """The venue as configured; with no explicit pairs, ``config.pairs`` default pairs."""
    venue = config.venue
    if venue.generator.pairs == GeneratorConfig().pairs:
        pairs = default_pairs(
            config.pairs,
            spread_reversion=SPREAD_REVERSION,
            spread_volatility=SPREAD_VOLATILITY,
        )
        generator = msgspec.structs.replace(venue.generator, pairs=pairs)
        venue = msgspec.structs.replace(venue, generator=generator)
    return venue


def money_text(amount: Fraction) -> str:
    """An exact amount as account-currency text, rounded half-even to cents."""
    return Money.from_fraction(amount, 2, CURRENCY).amount()


@final
class TradingNode:
    """One node: simulated venue, market data, strategies, risk, OMS and event store."""

    def __init__(
        self,
        config: NodeConfig,
        *,
        store_url: str,
        recorder: Recorder | None = None,
        latency_breaker: bool = True,
    ) -> None:
        """``latency_breaker=False`` keeps wall-clock latency out of the risk engine's
        breaker: a ``--speed max`` replay is then a pure function of config and seed."""
        self.config = config
        self.latency_breaker = latency_breaker
        self.store_url = store_url
        self.clock = SimClock(SIM_EPOCH_NS)
        self.scheduler = Scheduler(self.clock)
        self.bus = MessageBus()
        self.latency = LatencyTracker()
        self.venue = SimulatedVenue(_venue_config(config), self.clock, self.scheduler, config.seed)
        self.instruments = {i.instrument_id: i for i in self.venue.instruments}
        self.recorder = recorder if recorder is not None else open_store(store_url)
        self.writer = EventWriter(
            self.recorder,
            clock=self.clock,
            capacity=config.store.capacity,
            durability=config.store.durability,
        )
        self.oms = OrderManager(
            self.clock,
            self.instruments,
            send=self._send,
            publish=self.bus.publish,
            query_order=self.venue.query_order,
            route=self._route,
            config=config.oms,
        )
        self.risk = RiskEngine(
            config.risk,
            self.clock,
            self.instruments,
            forward=self._forward,
            publish=self.bus.publish,
        )
        self.marketdata = MarketDataEngine(
            config.marketdata,
            self.clock,
            self.instruments,
            publish=self.bus.publish,
            request_snapshot=self._request_snapshot,
        )
        self.strategies = StrategyEngine(
            self.clock, self.instruments, submit=self._submit, model_factory=RollingOLS
        )
        #: instrument id -> mark at the last quote's mid (built when read)
        self.marks = QuoteMarks(bid_precision=True)
        self._mark_quotes = self.marks.quotes
        self.orders = 0
        self.fills = 0
        self.denied = 0
        self.rejected = 0
        self.cancels_sent = 0
        #: client order id -> reason code of orders the risk gate denied (bounded)
        self.denials: dict[str, str] = {}
        #: client order ids of orders sent through the API without one (``manual-<n>``);
        #: a restore moves it past every id in the log, so none is issued twice
        self.manual_ids = IdGenerator(MANUAL_ID_PREFIX)
        self._read_models: ReadModelQueries | None = None
        self._projections: ProjectionRunner | None = None
        self._read_model_store: ReadModelStore | None = None
        self.trading_events: list[TradingStateChanged] = []
        self.alerts: list[TradingAlert] = []
        self._sent_at: dict[str, int] = {}
        # commands and events of the current dispatch, handed to the event writer once the
        # dispatch is done, so that recording never sits between a tick and its order
        self._outbox: list[object] = []
        # inbound work: venue deliveries and operator commands, drained highest class
        # first (kill switch, cancels, reports, orders, then market data)
        self.inbox = PriorityWorkQueue()
        self._t_arrival = 0
        self._t_tick = 0
        self._t_quote = 0
        self._t_submit = 0
        self._t_forward = 0
        self._stage = {name: self.latency.stage(name) for name in self.latency.names()}
        self._stage_marketdata = self._stage["marketdata"]
        self._stage_strategy = self._stage["strategy"]
        self._stage_risk = self._stage["risk"]
        self._stage_oms = self._stage["oms"]
        self._stage_tick_to_order = self._stage["tick_to_order"]
        self._stage_first_order = self._stage["first_order"]
        # (histogram, ns) measured during a dispatch, recorded when it hands off its events
        self._timings: list[tuple[LatencyHistogram, int]] = []
        gc_config = config.gc
        self.collector = ControlledCollector(
            self.latency.stage("gc"),
            safety_limit=gc_config.safety_limit,
            middle_every=gc_config.middle_every,
            full_every=gc_config.full_every,
        )
        self._wire()
        self._add_default_strategies()
        self._started = False
        self.writer_open = True
        self.restored = 0
        #: why the event store stopped taking events (None while it works); trading is
        #: halted from then on (see ``_store_failed``)
        self.store_error: str | None = None
        #: whether the writer was retrying a failed commit at the last hand-off
        self._store_retrying = False
        #: messages not recorded because the store failed: those the writer held when it
        #: stopped, and every one handed to recording after that
        self.unrecorded = 0

    # ------------------------------------------------------------------ wiring

    def _wire(self) -> None:
        bus = self.bus
        bus.subscribe(QuoteTick, self._on_quote)
        bus.subscribe(TradeTick, self.risk.on_event)
        bus.subscribe(DataGap, self._on_data_gap)
        for event_type in ORDER_EVENT_TYPES:
            bus.subscribe(event_type, self._order_event_route(event_type))
        bus.subscribe(TradingStateChanged, self._on_trading_state)
        bus.subscribe(TradingAlert, self._on_alert)
        bus.subscribe((VenueStateChanged, PairStateChanged), self._outbox.append)
        self.venue.connect(on_market_data=self._deliver, on_report=self._deliver)

    def _add_default_strategies(self) -> None:
        defaults = self.config.strategy
        for pair in _venue_config(self.config).generator.pairs:
            y, x = (f"{symbol}.{pair.venue}" for symbol in (pair.leg_a, pair.leg_b))
            self.strategies.add(
                PairStrategyConfig(
                    strategy_id=f"pairs.{pair.leg_a}_{pair.leg_b}",
                    leg_y=y,
                    leg_x=x,
                    window=defaults.window,
                    entry_z=defaults.entry_z,
                    exit_z=defaults.exit_z,
                    stop_z=defaults.stop_z,
                    notional=defaults.notional,
                    size_multiplier=defaults.size_multiplier,
                )
            )

    # ------------------------------------------------------------------ hot path

    def _deliver(self, message: object) -> None:
        """A venue delivery arrives: queue it by priority and work the queue."""
        self._t_arrival = perf_counter_ns()
        inbox = self.inbox
        # an empty inbox: this message is the highest-priority work, run it at once;
        # whatever its handlers queue is then drained in priority order as usual
        if inbox.take_if_idle(message):
            self._dispatch(message)  # a native call (no bound method per delivery)
        else:
            inbox.put(message)
        if inbox:
            inbox.drain(self._dispatch)
        self._t_arrival = 0

    def submit_command(self, command: object) -> None:
        """An operator or API command: queued by priority (a kill switch or a cancel runs
        before waiting orders and market data), then the queue is worked."""
        self.inbox.put(command)
        self.inbox.drain(self._dispatch)

    def _dispatch(self, message: object) -> None:
        kind = type(message)
        if kind is BookDelta or kind is TradeTick or kind is BookSnapshot:
            self._on_market_data(message)
        elif kind is ExecutionReport:
            self._on_report(message)  # type: ignore[arg-type]
        else:
            match message:
                case BookDelta() | TradeTick() | BookSnapshot():
                    self._on_market_data(message)  # a subclass
                case ExecutionReport():
                    self._on_report(message)
                case _:
                    self.execute(message)

    def _on_market_data(self, message: object) -> None:
        self._t_tick = self._t_arrival or perf_counter_ns()
        # exact types first: an isinstance that fails against a msgspec type is a full
        # subclass check, several hundred instructions per delta
        trade = False
        if type(message) is BookDelta:
            self.marketdata.on_delta(message)
        elif type(message) is TradeTick:
            trade = True
            self.marketdata.on_trade(message)
        elif isinstance(message, BookDelta):
            self.marketdata.on_delta(message)
        elif isinstance(message, TradeTick):
            trade = True
            self.marketdata.on_trade(message)
        elif isinstance(message, BookSnapshot):
            self.marketdata.on_snapshot(message)
        self._t_tick = 0
        if not trade:  # trades are published by market data
            self.bus.publish(message)  # book deltas and snapshots, for subscribers
        if self._outbox:
            self._record()

    def _on_quote(self, quote: QuoteTick) -> None:
        now = perf_counter_ns()
        self._t_quote = now
        # the fields risk, the OMS and the strategies read, read once (a msgspec field is
        # a generic attribute lookup from compiled code); the mark's Price is built when
        # read (views): see QuoteMarks
        instrument_id = quote.instrument_id
        bid = quote.bid_price.raw
        ask = quote.ask_price.raw
        self._mark_quotes[instrument_id] = quote
        self.risk.on_top(instrument_id, bid, ask, quote.ts_init)
        oms = self.oms
        oms.on_top(quote, instrument_id, bid, ask)
        # the strategies' orders go out first, their events right after (see OMS.hold)
        oms.hold()
        try:
            self.strategies.on_top(quote, instrument_id, bid, ask)
        finally:
            oms.release()
        self._t_quote = 0
        if self._t_tick:
            self._stage_marketdata.record(now - self._t_tick)

    def _submit(self, command: SubmitOrder) -> None:
        """Strategy -> risk gate."""
        now = perf_counter_ns()
        if self._t_quote:
            self._timings.append((self._stage_strategy, now - self._t_quote))
        self._t_submit = now
        self.orders += 1
        self._outbox.append(command)
        self.risk.execute(command)
        self._t_submit = 0

    def execute(self, command: object) -> None:
        """An operator or API command: recorded, then through the risk gate. While the
        event store is failed, nothing that would resume trading is applied."""
        if self.store_error is not None and isinstance(
            command, (ResetTradingState, ReleaseKillSwitch)
        ):
            log.warning(
                "%s refused: the event store failed (%s)", type(command).__name__, self.store_error
            )
            return
        self._outbox.append(command)
        self._t_submit = perf_counter_ns()
        self.risk.execute(command)
        self._t_submit = 0
        self._record()

    def _forward(self, command: Any) -> None:
        """Risk gate -> OMS."""
        now = perf_counter_ns()
        if self._t_submit:
            self._timings.append((self._stage_risk, now - self._t_submit))
        self._t_forward = now
        self.oms.execute(command)
        self._t_forward = 0

    def admin(self, command: AdminCommand) -> None:
        """Apply an operator's configuration change; recorded (audited) first."""
        self._outbox.append(command)
        try:
            self._apply_admin(command)
        finally:
            self._record()

    def _apply_admin(self, command: AdminCommand, *, live: bool = True) -> None:
        """Apply an operator command; ``live=False`` (restoring) sends nothing."""
        match command:
            case AddStrategy():
                fields = {
                    "strategy_id": command.strategy_id,
                    "leg_y": command.leg_y,
                    "leg_x": command.leg_x,
                } | command.params
                try:
                    strategy_config = msgspec.convert(fields, PairStrategyConfig)
                except msgspec.ValidationError as error:
                    raise validation_error(str(error), "params") from None
                strategy = self.strategies.add(strategy_config)
                if not command.start:
                    strategy.stop()
                strategy.set_trading_state(self._strategy_state(strategy))
            case StartStrategy():
                self.strategies.start(command.strategy_id)
            case StopStrategy():
                self.strategies.stop(command.strategy_id)
                if live:
                    self.risk.execute(
                        CancelAllOrders(strategy_id=command.strategy_id, ts_init=self.now())
                    )
            case ChangeStrategyParams():
                self.strategies.update_params(command.strategy_id, command.changes)
            case ChangeRiskLimits():
                try:
                    self.risk.change_limits(command.changes)
                except msgspec.ValidationError as error:
                    raise validation_error(str(error), "params") from None

    def flush_outbox(self) -> None:
        """Hand anything recorded outside a dispatch to the event writer."""
        if self._outbox or self._timings:
            self._record()

    def read_models(self) -> ReadModelQueries:
        """The read side, caught up with everything this node has recorded so far (a
        read right after a command sees it)."""
        if self._read_models is None or self._projections is None:
            store = open_read_models(
                default_read_models_url(self.store_url), timeout_s=READ_MODELS_LOCK_TIMEOUT_S
            )
            self._read_model_store = store
            self._projections = ProjectionRunner(self.recorder, store, standard_projections())
            self._read_models = ReadModelQueries(store)
        self.committed()
        self._projections.catch_up()
        return self._read_models

    def close_read_models(self) -> None:
        """Close the read models :meth:`read_models` opened (their file or connection);
        the next read opens them again."""
        store, self._read_model_store = self._read_model_store, None
        self._read_models = self._projections = None
        if store is not None:
            store.close()

    def committed(self) -> None:
        """Wait (briefly) until what was handed to the event writer is committed, so reads
        of the log and the read models see this node's last commands. A store that is
        failing or retrying is not waited for: reads then serve what is committed."""
        if self.store_error is not None or not self.writer_open or self.writer.retrying:
            return
        # a failure is reported by the writer on the next hand-off
        with contextlib.suppress(StoreError):
            self.writer.flush(timeout_s=READ_FLUSH_TIMEOUT_S)

    @property
    def started(self) -> bool:
        return self._started

    def restore(self) -> int:
        """Rebuild the node from its event log before :meth:`start`: strategies and
        limits changed by operators, orders, positions, kill switches and the trading
        state; then reconcile every open order with the venue. Returns how many stored
        messages were read."""
        if self._started:
            raise RuntimeError("restore() must run before start()")
        count = 0
        last_ts = self.clock.timestamp_ns()
        # what the log traded that this configuration does not define
        unknown_instruments: set[str] = set()
        unknown_strategies: set[str] = set()
        instruments = self.instruments
        for entry in self.recorder.read():
            message = entry.message
            count += 1
            last_ts = max(last_ts, entry.ts)
            self._restore_one(message)
            kind = type(message)
            if kind is OrderInitialized:
                if message.instrument_id not in instruments:
                    unknown_instruments.add(message.instrument_id)
            elif kind is SubmitOrder and self._decided_by_unknown_strategy(message):
                unknown_strategies.add(message.strategy_id)
        if unknown_instruments or unknown_strategies:
            raise ConfigError(_other_configuration(unknown_instruments, unknown_strategies))
        for strategy in self.strategies.strategies():
            strategy.resume()
            # what the restored gate lets it do (the breaker's state, REDUCING under a
            # kill switch of its scope), as live: not ACTIVE trades the restored position
            # out again, as it did before the stop
            strategy.set_trading_state(self._strategy_state(strategy))
        # simulated time continues after the last stored fact; the venue's session starts
        # then too (SimulatedVenue.start), so its order and trade ids are not the log's
        self.clock.set_time(last_ts + self.config.timer_interval_ns)
        self.restored = count
        log.info("restored %d stored messages from %s", count, self.store_url)
        return count

    def _restore_one(self, message: object) -> None:
        match message:
            case AddStrategy() | StartStrategy() | StopStrategy() | ChangeStrategyParams():
                try:
                    self._apply_admin(message, live=False)
                except ValidationError as error:
                    # admin() records a command before applying it, so a refused one is
                    # in the log too: it changed nothing then and changes nothing now
                    log.warning(
                        "restore: %s was refused when given and is skipped: %s",
                        type(message).__name__,
                        error,
                    )
            case TradingStateChanged():
                self.trading_events.append(message)
                self.strategies.on_trading_state(message)
        self.oms.restore(message)
        self.risk.restore(message)
        if type(message) is SubmitOrder:
            # a strategy's decision, also when the gate denied one of its legs
            owner = self.strategies.find(message.strategy_id)
            if owner is not None:
                owner.restore(message)
        if isinstance(message, OrderEvent):
            self.manual_ids.advance_past(message.client_order_id)
            if type(message) is OrderDenied:
                # a retried POST /v1/orders with a denied id stays a 409 after a restart
                self._remember_denial(message)
            strategy = self.strategies.find(message.strategy_id)
            if strategy is not None:
                strategy.restore(message)

    def _decided_by_unknown_strategy(self, order: SubmitOrder) -> bool:
        """Whether ``order`` is a decision of a strategy this node does not have: the
        node's own order (no operator, no pair) under the strategy's own ids
        (``<strategy_id>-<n>``). The API's ``manual-<n>`` ids are not a strategy's (a log
        written before orders named their operator holds them without one)."""
        if order.operator is not None or order.pair_id is not None:
            return False
        strategy_id = order.strategy_id
        if strategy_id == MANUAL_ID_PREFIX or self.strategies.find(strategy_id) is not None:
            return False
        head, _, tail = order.client_order_id.rpartition("-")
        return head == strategy_id and tail.isascii() and tail.isdigit()

    def reconcile(self) -> int:
        """Ask the venue about every open order (after :meth:`restore` and :meth:`start`)."""
        count = self.oms.reconcile_all()
        self.flush_outbox()
        return count

    def _route(self, command: object) -> None:
        """Orders the OMS makes itself (pair completion, unwind) go through the gate."""
        self._outbox.append(command)
        self.risk.execute(command)

    def _send(self, command: Any) -> None:
        """OMS -> venue gateway."""
        now = perf_counter_ns()
        timings = self._timings
        if self._t_forward:
            timings.append((self._stage_oms, now - self._t_forward))
        if self._t_tick:
            timings.append((self._stage_tick_to_order, now - self._t_tick))
        if isinstance(command, SubmitOrder):
            self._sent_at[command.client_order_id] = self.clock.timestamp_ns()
        elif isinstance(command, CancelOrder):
            self.cancels_sent += 1
        self.venue.send(command)

    def _on_report(self, report: ExecutionReport) -> None:
        start = perf_counter_ns()
        if report.kind in (ReportKind.ACCEPTED, ReportKind.REJECTED, ReportKind.FILL):
            sent = self._sent_at.pop(report.client_order_id, None)
            if sent is not None:
                self._stage["order_ack"].record(self.clock.timestamp_ns() - sent)
        self.oms.on_report(report)
        self._stage["report"].record(perf_counter_ns() - start)
        if self._outbox:
            self._record()

    def _record(self) -> None:
        """Hand this dispatch's commands and events to the event writer, in order; its
        stage latencies go into their histograms (kept off the path they measure)."""
        if self._timings:
            self._record_timings()
        outbox = self._outbox
        if self.store_error is not None:
            self.unrecorded += len(outbox)
            outbox.clear()
            return
        append = self.writer.append
        handed = 0
        try:
            for message in outbox:
                append(message)
                handed += 1
        except StoreError as error:
            del outbox[:handed]  # those are counted with what the writer held
            self._store_failed(error)
            return
        outbox.clear()
        if self.writer.retrying:
            if not self._store_retrying:
                self._store_retrying = True
                self._store_stalled()
        elif self._store_retrying:
            self._store_retrying = False

    def _store_stalled(self) -> None:
        """A commit failed and the writer is retrying it: until the store confirms again,
        nothing new is sent. The breaker goes to HALTED (working orders stay; an operator
        resets it once the store is sound); if the writer gives up, ``_store_failed``
        follows."""
        now = self.clock.timestamp_ns()
        reason = "EVENT_STORE_RETRYING: an event store commit failed and is being retried"
        log.error("%s; trading halted", reason)
        self.risk.trip(TradingState.HALTED, reason)
        self._store_alert(
            "EVENT_STORE_RETRYING",
            "an event store commit failed; trading halted while it is retried",
            now,
        )

    def _store_failed(self, error: StoreError) -> None:
        """The event writer stopped (the store failed): what happens now could no longer
        be recorded, so trading stops. Working orders are cancelled (kill switch), the
        breaker goes to HALTED, a critical alert goes out, and the node keeps serving
        its API. A restart from the log reconciles with the venue."""
        self.store_error = str(error)
        now = self.clock.timestamp_ns()
        log.critical("event store failed, trading halted: %s", error)
        reason = f"EVENT_STORE_FAILED: {error}"
        self.risk.engage_kill_switch(
            EngageKillSwitch(operator="event-store", reason=reason, ts_init=now)
        )
        self.risk.trip(TradingState.HALTED, reason)
        self._store_alert(
            "EVENT_STORE_FAILED", f"the event store failed; trading halted: {error}", now
        )
        # what the stopped writer held but never committed, and this dispatch's rest
        stats = self.writer.stats()
        self.unrecorded += stats.appended - stats.committed + len(self._outbox)
        self._outbox.clear()

    def _store_alert(self, code: str, message: str, now: int) -> None:
        self.bus.publish(
            TradingAlert(
                source="store",
                code=code,
                message=message,
                severity="critical",
                ts_event=now,
                ts_init=now,
            )
        )

    def _record_timings(self) -> None:
        tick_to_order = self._stage_tick_to_order
        breaker = self.risk.record_latency if self.latency_breaker else None
        first = True  # one dispatch is one delta: its first order is the first sent
        for histogram, value in self._timings:
            histogram.record(value)
            if histogram is tick_to_order:
                if first:
                    self._stage_first_order.record(value)
                    first = False
                if breaker is not None:
                    breaker(value)
        self._timings.clear()

    def _request_snapshot(self, instrument_id: str) -> None:
        snapshot = self.venue.snapshot(instrument_id)
        self.scheduler.after(0, lambda: self.marketdata.on_snapshot(snapshot))

    # ------------------------------------------------------------------ bus handlers

    def _order_event_route(self, event_type: type) -> Callable[[Any], None]:
        """The handler of one order event type: :meth:`_on_order_event`, or for the
        types only some of its parts act on (``OrderInitialized``, ``OrderSubmitted``,
        pending and accepted events: no counter, no strategy state), just those parts,
        in the same order (recorded, then risk)."""
        if event_type in _COUNTED_EVENTS or self.strategies.handles(event_type):
            return self._on_order_event
        record = self._outbox.append
        risk = self.risk.event_handler(event_type)
        if risk is None:
            return record

        def route(event: Any) -> None:
            record(event)
            risk(event)

        return route

    def _remember_denial(self, event: OrderDenied) -> None:
        denials = self.denials
        denials[event.client_order_id] = event.reason
        if len(denials) > MAX_REMEMBERED_DENIALS:
            del denials[next(iter(denials))]

    def _on_order_event(self, event: Any) -> None:
        self._outbox.append(event)
        self.risk.on_event(event)
        self.strategies.on_event(event)
        # exact types (the OMS makes these events; see _on_market_data on isinstance)
        kind = type(event)
        if kind is OrderFilled or kind is OrderPartiallyFilled:
            self.fills += 1
        elif kind is OrderDenied:
            self.denied += 1
            self._remember_denial(event)
        elif kind is OrderRejected:
            self.rejected += 1
            if event.reason in TECHNICAL_REJECTS:
                instrument = self.instruments.get(event.instrument_id)
                if instrument is not None:
                    self.risk.record_venue_error(instrument.venue, event.reason)

    def _on_alert(self, alert: TradingAlert) -> None:
        self._outbox.append(alert)
        self.alerts.append(alert)
        self.risk.on_event(alert)

    def _on_data_gap(self, gap: DataGap) -> None:
        self._outbox.append(gap)
        self.risk.on_event(gap)

    def _on_trading_state(self, event: TradingStateChanged) -> None:
        self._outbox.append(event)
        self.trading_events.append(event)
        # the strategies in the event's scope follow the gate, not the event's state: a
        # breaker reset or a release does not lift another kill switch, an engage does
        # not lift a HALTED breaker
        self.strategies.on_trading_state(event, self._strategy_state)

    def _strategy_state(self, strategy: PairsStrategy) -> TradingState:
        """What the risk gate lets ``strategy`` do: the breaker's state, REDUCING while a
        kill switch blocks one of its legs (it may only trade out)."""
        state = self.risk.trading_state
        kill = self.risk.kill_switch
        if state is TradingState.ACTIVE and any(
            kill.blocks(strategy.strategy_id, leg) for leg in strategy.instrument_ids
        ):
            return TradingState.REDUCING
        return state

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.venue.start()
        self._schedule_timer()
        # everything built so far lives as long as the node: keep it out of the
        # collector's generations so collections stay short on the hot path
        gc.collect()
        gc.freeze()
        if self.config.gc.mode == "controlled":
            self.collector.start()

    def _schedule_timer(self) -> None:
        interval = self.config.timer_interval_ns

        def tick() -> None:
            now = self.clock.timestamp_ns()
            self.marketdata.check_staleness()
            self.risk.check(now)
            self.oms.on_timer(now)
            if self._outbox:
                self._record()
            elif self.store_error is None and self.writer.failure is not None:
                # the writer gave up with nothing new to hand it: halt now, not at the
                # next event
                self._store_failed(StoreError(f"the event writer stopped: {self.writer.failure}"))
            # between two dispatches: the collector's pause never lands inside a chain
            self.collector.tick()
            self.scheduler.after(interval, tick)

        self.scheduler.after(interval, tick)

    def advance(self, ts_ns: int) -> int:
        """Run everything due up to simulated time ``ts_ns``."""
        return self.scheduler.run_until(ts_ns)

    def now(self) -> int:
        return self.clock.timestamp_ns()

    def close(self) -> None:
        """Make every handed-in event durable (the store stays open for reading)."""
        self.collector.stop()
        if self.writer_open:
            self._record()
            self.writer.close()
            self.writer_open = False

    # ------------------------------------------------------------------ views

    def strategy_pnl(self, strategy_id: str) -> Fraction:
        total = Fraction(0)
        for position in self.oms.positions():
            if position.strategy_id == strategy_id:
                total += position.realized
                mark = self.marks.get(position.instrument_id)
                if mark is not None:
                    total += position.unrealized(mark)
        return total

    def position_rows(self) -> list[PositionRow]:
        rows = []
        for p in sorted(self.oms.positions(), key=lambda p: (p.strategy_id, p.instrument_id)):
            mark = self.marks.get(p.instrument_id)
            avg = p.avg_open_price()
            rows.append(
                PositionRow(
                    strategy_id=p.strategy_id,
                    instrument_id=p.instrument_id,
                    quantity=str(Fraction(p.quantity_raw, 10**9)),
                    avg_price=None if avg is None else f"{float(avg):.6f}",
                    realized_pnl=money_text(p.realized),
                    unrealized_pnl=money_text(p.unrealized(mark)) if mark else "0.00",
                    mark=None if mark is None else str(mark),
                )
            )
        return rows

    def view(self) -> NodeView:
        pairs = []
        total = Fraction(0)
        for strategy in self.strategies.strategies():
            pnl = self.strategy_pnl(strategy.strategy_id)
            total += pnl
            y, x = strategy.instrument_ids
            size_y = strategy.y.size_precision
            size_x = strategy.x.size_precision
            pairs.append(
                PairView(
                    strategy_id=strategy.strategy_id,
                    leg_y=y,
                    leg_x=x,
                    zscore=strategy.zscore,
                    beta=strategy.beta,
                    state=str(strategy.state),
                    running=strategy.running,
                    position_y=_signed(strategy.positions[y], size_y),
                    position_x=_signed(strategy.positions[x], size_x),
                    pnl=money_text(pnl),
                )
            )
        return NodeView(
            ts_ns=self.clock.timestamp_ns(),
            sim_seconds=(self.clock.timestamp_ns() - SIM_EPOCH_NS) / 1e9,
            quotes=self.marketdata.stats().quotes,
            orders=self.orders,
            fills=self.fills,
            denied=self.denied,
            rejected=self.rejected,
            events_stored=self.writer.stats().committed,
            trading_state=str(self.risk.trading_state),
            pairs=pairs,
            pnl_total=money_text(total),
            latency_ns=self.latency.summaries(),
        )


def _other_configuration(instruments: set[str], strategies: set[str]) -> str:
    """Why a log cannot be restored under this configuration: what it traded that the
    configuration does not define."""
    lacking = []
    if instruments:
        lacking.append(f"instruments {', '.join(sorted(instruments))}")
    if strategies:
        lacking.append(f"strategies {', '.join(sorted(strategies))}")
    return (
        f"the event log was written under another configuration: it holds orders of"
        f" {' and '.join(lacking)}, which this configuration does not define; restore"
        " it with the configuration that wrote it (its pairs, [venue.generator] pairs)"
    )


def _signed(raw: int, precision: int) -> str:
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), 10**9)
    if precision == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:09d}"[: len(f"{sign}{whole}.") + precision]


ProgressCallback = Callable[[NodeView], None]
