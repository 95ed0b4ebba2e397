"""SimulatedVenue: latency, determinism, reconciliation and scenarios."""

from __future__ import annotations

import msgspec

from spreadwire.core.clock import SimClock
from spreadwire.core.scheduler import Scheduler
from spreadwire.domain.commands import CancelOrder, SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, ReportKind, TimeInForce
from spreadwire.domain.market import BookDelta, BookSnapshot, TradeTick
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Price, Quantity
from spreadwire.venue.config import GeneratorConfig, ScenarioConfig, VenueConfig, default_pairs
from spreadwire.venue.reasons import VenueReason
from spreadwire.venue.simulator import SimulatedVenue

SECOND = 1_000_000_000


class _Node:
    """A node stand-in that records what the venue delivers and when."""

    def __init__(self, config: VenueConfig, seed: int = 7) -> None:
        self.clock = SimClock(0)
        self.scheduler = Scheduler(self.clock)
        self.venue = SimulatedVenue(config, self.clock, self.scheduler, seed)
        self.data: list[object] = []
        self.reports: list[tuple[int, ExecutionReport]] = []
        self.venue.connect(self.data.append, self._report)

    def _report(self, report: ExecutionReport) -> None:
        self.reports.append((self.clock.timestamp_ns(), report))

    def run(self, seconds: float) -> None:
        self.scheduler.run_until(self.clock.timestamp_ns() + int(seconds * SECOND))

    def market_buy(self, cid: str, quantity: str = "3", instrument_id: str = "AAA.SIM") -> None:
        self.venue.send(
            SubmitOrder(
                strategy_id="s1",
                instrument_id=instrument_id,
                client_order_id=cid,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=Quantity.parse(quantity),
                ts_init=self.clock.timestamp_ns(),
            )
        )


def _quiet(**overrides: object) -> VenueConfig:
    return msgspec.convert(overrides, VenueConfig)


def test_simulator_start_publishes_book_for_every_instrument() -> None:
    node = _Node(VenueConfig(generator=GeneratorConfig(pairs=default_pairs(2))))
    node.venue.start()

    node.run(1.0)

    seen = {m.instrument_id for m in node.data if isinstance(m, BookDelta)}
    assert seen == {i.instrument_id for i in node.venue.instruments}
    assert len(node.venue.instruments) == 4
    assert any(isinstance(m, TradeTick) for m in node.data)


def test_simulator_order_and_report_latency_delay_the_answer() -> None:
    config = _quiet(
        order_latency_ns=40_000, order_jitter_ns=0, report_latency_ns=60_000, report_jitter_ns=0
    )
    node = _Node(config)
    node.venue.start()
    node.run(0.5)
    sent_at = node.clock.timestamp_ns()

    node.market_buy("c1")
    node.run(0.000_05)
    assert node.reports == []
    node.run(0.000_1)

    times = [t for t, _ in node.reports]
    assert times and all(t == sent_at + 100_000 for t in times)
    assert [r.kind for _, r in node.reports] == [ReportKind.ACCEPTED, ReportKind.FILL]


def test_simulator_links_keep_command_order_under_jitter() -> None:
    node = _Node(_quiet(order_jitter_ns=1_000_000))
    node.venue.start()
    node.run(0.5)
    for n in range(20):
        node.venue.send(
            SubmitOrder(
                strategy_id="s1",
                instrument_id="AAA.SIM",
                client_order_id=f"c{n}",
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                price=Price.parse("50.00"),
                quantity=Quantity.parse("1"),
                ts_init=node.clock.timestamp_ns(),
            )
        )
        node.venue.send(
            CancelOrder(
                strategy_id="s1", instrument_id="AAA.SIM", client_order_id=f"c{n}", ts_init=0
            )
        )
        node.run(0.000_01)
    node.run(0.01)

    kinds = [r.kind for _, r in node.reports]
    assert kinds == [ReportKind.ACCEPTED, ReportKind.CANCELED] * 20


def test_simulator_same_seed_gives_identical_messages() -> None:
    def run(seed: int) -> bytes:
        node = _Node(VenueConfig(generator=GeneratorConfig(pairs=default_pairs(2))), seed=seed)
        node.venue.start()
        node.run(2.0)
        node.market_buy("c1", "25")
        node.run(3.0)
        encoder = msgspec.json.Encoder()
        return encoder.encode([*node.data, *(r for _, r in node.reports)])

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_simulator_query_order_returns_status_for_reconciliation() -> None:
    node = _Node(VenueConfig())
    node.venue.start()
    node.run(0.5)
    node.market_buy("c1")
    node.run(0.01)

    status = node.venue.query_order("c1")

    assert status is not None
    assert (status.kind, status.reason) == (ReportKind.STATUS, "FILLED")
    assert node.venue.query_order("missing") is None


def test_simulator_reject_storm_rejects_node_orders_with_venue_busy() -> None:
    scenario = ScenarioConfig(start_ns=SECOND, duration_ns=SECOND, reject_probability=1.0)
    node = _Node(VenueConfig(scenario="reject-storm", scenario_params=scenario))
    node.venue.start()
    node.run(1.5)
    node.market_buy("during")
    node.run(1.0)
    node.market_buy("after")
    node.run(0.01)

    by_id = {r.client_order_id: r for _, r in node.reports}
    assert (by_id["during"].kind, by_id["during"].reason) == (
        ReportKind.REJECTED,
        VenueReason.VENUE_BUSY,
    )
    assert by_id["after"].kind is ReportKind.FILL


def test_simulator_stale_feed_silences_one_instrument_then_resyncs() -> None:
    scenario = ScenarioConfig(start_ns=SECOND, duration_ns=2 * SECOND, instrument="BBB.SIM")
    node = _Node(VenueConfig(scenario="stale-feed", scenario_params=scenario))
    node.venue.start()

    node.run(1.0 + 0.01)
    before = len(node.data)
    node.run(1.9)
    silent = node.data[before:]
    node.run(0.2)

    assert silent and all(getattr(m, "instrument_id", "") != "BBB.SIM" for m in silent)
    snapshots = [m for m in node.data if isinstance(m, BookSnapshot)]
    assert [s.instrument_id for s in snapshots] == ["BBB.SIM"]
    later = [m for m in node.data if isinstance(m, BookDelta) and m.instrument_id == "BBB.SIM"]
    after_snapshot = [d for d in later if d.sequence > snapshots[0].sequence]
    assert after_snapshot[0].sequence == snapshots[0].sequence + 1
    assert node.venue.stale_dropped > 0


def test_simulator_flash_crash_gaps_leg_and_recovers() -> None:
    scenario = ScenarioConfig(start_ns=SECOND, duration_ns=SECOND, recovery_ns=SECOND, move=0.08)
    node = _Node(VenueConfig(scenario="flash-crash", scenario_params=scenario))
    venue = node.venue
    venue.start()
    node.run(0.99)
    before = venue.generator.fair_value("AAA.SIM")
    book = venue.exchange.book("AAA.SIM")

    node.run(0.02)
    crashed_bid = book.best_bid()
    node.run(2.5)
    recovered = venue.generator.fair_value("AAA.SIM")

    assert crashed_bid is not None
    assert crashed_bid / 1e9 < before * 0.93
    assert abs(recovered - before) < before * 0.01


def test_simulator_gtd_order_expires_at_its_expire_time() -> None:
    node = _Node(_quiet(order_jitter_ns=0, report_jitter_ns=0))
    node.venue.start()
    node.run(0.5)
    expire_at = node.clock.timestamp_ns() + SECOND
    node.venue.send(
        SubmitOrder(
            strategy_id="s1",
            instrument_id="AAA.SIM",
            client_order_id="gtd",
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            price=Price.parse("50.00"),
            quantity=Quantity.parse("1"),
            time_in_force=TimeInForce.GTD,
            expire_time_ns=expire_at,
            ts_init=node.clock.timestamp_ns(),
        )
    )

    node.run(0.9)
    assert [r.kind for _, r in node.reports] == [ReportKind.ACCEPTED]
    node.run(0.2)

    assert [r.kind for _, r in node.reports] == [ReportKind.ACCEPTED, ReportKind.EXPIRED]
    assert node.reports[-1][0] == expire_at + 50_000


def _session_ids(start_ns: int, seed: int = 7) -> tuple[set[str], set[str]]:
    """The venue order ids and trade ids one venue session gives the node and the tape:
    the venue starts at ``start_ns`` (a restarted node starts it after its log)."""
    node = _Node(VenueConfig(generator=GeneratorConfig(pairs=default_pairs(1))), seed)
    node.clock.set_time(start_ns)
    node.venue.start()
    node.run(0.5)
    for n in range(5):
        node.market_buy(f"c{n}")
        node.run(0.2)
    venue_ids = {r.venue_order_id for _, r in node.reports if r.venue_order_id}
    trade_ids = {m.trade_id for m in node.data if isinstance(m, TradeTick)}
    trade_ids |= {r.trade_id for _, r in node.reports if r.trade_id is not None}
    return venue_ids, trade_ids


def test_simulator_sessions_never_reuse_venue_order_or_trade_ids() -> None:
    """A node restarted from its log starts a new venue session (a fresh process): its
    venue order ids and trade ids must not repeat those of the run before, as a real
    venue's never do, and a session started at the same time still gives the same ids."""
    first_orders, first_trades = _session_ids(0)
    later_orders, later_trades = _session_ids(10 * SECOND)
    again_orders, again_trades = _session_ids(0)

    assert len(first_orders) == 5 and first_trades and later_trades
    assert first_orders.isdisjoint(later_orders)
    assert first_trades.isdisjoint(later_trades)
    assert (again_orders, again_trades) == (first_orders, first_trades)
