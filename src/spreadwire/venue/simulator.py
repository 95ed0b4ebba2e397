"""The simulated venue: exchange + market generator + latency model, on a Scheduler.

The node talks to it like to a remote venue: :meth:`SimulatedVenue.send` delivers a
command to the exchange after the order-entry latency (constant + seeded jitter);
execution reports and market data (``BookDelta``, ``TradeTick``, ``BookSnapshot``) come
back through the callbacks given to :meth:`SimulatedVenue.connect` after their own
latencies. Links keep order: nothing overtakes an earlier message.

Everything runs on the injected :class:`~spreadwire.core.clock.SimClock` and
:class:`~spreadwire.core.scheduler.Scheduler`; the same config, seed and node behaviour
give the same messages, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never, final

import numpy as np

from spreadwire.core.clock import SimClock
from spreadwire.core.scheduler import Scheduler
from spreadwire.domain.commands import CancelAllOrders, CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import TimeInForce
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta, BookSnapshot, TradeTick
from spreadwire.domain.reports import ExecutionReport
from spreadwire.venue.config import VenueConfig
from spreadwire.venue.exchange import SimulatedExchange
from spreadwire.venue.generator import MarketGenerator
from spreadwire.venue.link import DelayLink
from spreadwire.venue.reasons import VenueReason
from spreadwire.venue.scenarios import schedule_scenario

MarketData = BookDelta | TradeTick | BookSnapshot
VenueCommand = SubmitOrder | CancelOrder | ModifyOrder | CancelAllOrders

_LATENCY_STREAM = 0x5EED_1A7E


@final
class SimulatedVenue:
    """A simulated exchange with background flow, latency and scenarios."""

    def __init__(
        self, config: VenueConfig, clock: SimClock, scheduler: Scheduler, seed: int
    ) -> None:
        self._config = config
        self._clock = clock
        self._scheduler = scheduler
        self._seed = seed
        instruments = config.generator.instruments()
        self._exchange = SimulatedExchange(
            instruments,
            clock,
            on_report=self._from_exchange_report,
            on_delta=self._from_exchange_data,
            on_trade=self._from_exchange_data,
        )
        self._generator = MarketGenerator(config.generator, self._exchange, scheduler, seed)
        order_rng, report_rng, data_rng, scenario_rng = (
            np.random.Generator(np.random.PCG64(s))
            for s in np.random.SeedSequence([seed, _LATENCY_STREAM]).spawn(4)
        )
        self._scenario_rng = scenario_rng
        self._orders: DelayLink[VenueCommand] = DelayLink(
            clock,
            scheduler,
            order_rng,
            latency_ns=config.order_latency_ns,
            jitter_ns=config.order_jitter_ns,
            deliver=self._dispatch,
        )
        self._reports: DelayLink[ExecutionReport] = DelayLink(
            clock,
            scheduler,
            report_rng,
            latency_ns=config.report_latency_ns,
            jitter_ns=config.report_jitter_ns,
        )
        self._data: DelayLink[MarketData] = DelayLink(
            clock,
            scheduler,
            data_rng,
            latency_ns=config.market_data_latency_ns,
            jitter_ns=config.market_data_jitter_ns,
        )
        self._stale: str | None = None
        self._busy = 0.0
        self._started = False
        self.stale_dropped = 0
        self.busy_rejected = 0

    # ------------------------------------------------------------------ surface

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return self._exchange.instruments

    @property
    def exchange(self) -> SimulatedExchange:
        return self._exchange

    @property
    def generator(self) -> MarketGenerator:
        return self._generator

    def connect(
        self,
        on_market_data: Callable[[object], None],
        on_report: Callable[[ExecutionReport], None],
    ) -> None:
        """Route market data and execution reports to the node (after their latency)."""
        self._data.deliver = on_market_data
        self._reports.deliver = on_report

    def start(self) -> None:
        """Start the background market and schedule the configured scenario.

        The venue's session is named by its start time on the simulated clock: its venue
        order ids and trade ids (``V-<session>-<n>``, ``T-<session>-<n>``) never repeat
        those of an earlier process, since a node restarted from its log starts after
        everything the log holds (``TradingNode.restore``), and a given seed and start
        time still give the same ids."""
        if self._started:
            raise RuntimeError("venue: already started")
        self._started = True
        self._exchange.open_session(self._clock.timestamp_ns())
        self._generator.start()
        name = self._config.scenario
        if name is not None:
            params = self._config.scenario_params
            instrument_id = params.instrument or self.instruments[0].instrument_id
            if instrument_id not in self._generator.instrument_ids:
                raise ValueError(f"scenario_params.instrument: unknown {instrument_id!r}")
            schedule_scenario(
                name,
                params,
                self,
                self._scheduler,
                origin_ns=self._clock.timestamp_ns(),
                instrument_id=instrument_id,
                step_ns=self._config.generator.step_ns,
            )

    def send(self, command: VenueCommand) -> None:
        """Send a node command; the exchange sees it after the order-entry latency."""
        self._orders.push(command)

    def query_order(self, client_order_id: str) -> ExecutionReport | None:
        """The venue's current view of a node order (a STATUS report), for reconciliation."""
        return self._exchange.order_status(client_order_id)

    def snapshot(self, instrument_id: str) -> BookSnapshot:
        """The L2 book now, with the sequence of its last delta (for gap recovery)."""
        return self._exchange.snapshot(instrument_id)

    # ------------------------------------------------------------------ scenario hooks

    def set_shock(self, instrument_id: str, factor: float) -> None:
        self._generator.set_shock(instrument_id, factor)

    def set_stale(self, instrument_id: str | None) -> None:
        """Silence one instrument's market data (None ends it, with a snapshot)."""
        previous = self._stale
        self._stale = instrument_id
        if previous is not None and previous != instrument_id:
            self._data.push(self._exchange.snapshot(previous))

    def set_busy(self, probability: float) -> None:
        """Reject node orders with this probability (``VENUE_BUSY``); 0 ends it."""
        self._busy = probability

    # ------------------------------------------------------------------ internals

    def _dispatch(self, command: VenueCommand) -> None:
        exchange = self._exchange
        match command:
            case SubmitOrder():
                if self._busy and float(self._scenario_rng.random()) < self._busy:
                    self.busy_rejected += 1
                    exchange.reject(command, VenueReason.VENUE_BUSY)
                else:
                    exchange.submit(command)
                    self._schedule_expiry(command)
            case CancelOrder():
                exchange.cancel(command)
            case ModifyOrder():
                exchange.modify(command)
            case CancelAllOrders():
                exchange.cancel_all(command)
            case _:
                assert_never(command)

    def _schedule_expiry(self, command: SubmitOrder) -> None:
        expire_ns = command.expire_time_ns
        if command.time_in_force is TimeInForce.GTD and expire_ns is not None:
            cid = command.client_order_id
            self._scheduler.at(expire_ns, lambda: self._exchange.expire(cid))

    def _from_exchange_report(self, report: ExecutionReport) -> None:
        self._reports.push(report)

    def _from_exchange_data(self, message: BookDelta | TradeTick) -> None:
        if self._stale is not None and message.instrument_id == self._stale:
            self.stale_dropped += 1
            return
        self._data.push(message)
