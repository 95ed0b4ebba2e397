"""The market-data engine: quotes from deltas, sequence gaps, snapshots, staleness."""

from __future__ import annotations

from spreadwire.core.clock import SimClock
from spreadwire.domain.enums import BookAction, BookSide
from spreadwire.domain.market import BookDelta, BookLevel, BookSnapshot, DataGap, QuoteTick
from spreadwire.marketdata.config import MarketDataConfig
from spreadwire.marketdata.engine import MarketDataEngine
from tests.builders import make_book_delta, make_instrument, make_trade, price, qty

STALE_NS = 1_000


class Feed:
    """Captures what the engine publishes and the snapshots it asks for."""

    def __init__(self) -> None:
        self.published: list[object] = []
        self.snapshot_requests: list[str] = []

    def publish(self, message: object) -> None:
        self.published.append(message)

    def request_snapshot(self, instrument_id: str) -> None:
        self.snapshot_requests.append(instrument_id)

    def quotes(self) -> list[QuoteTick]:
        return [m for m in self.published if isinstance(m, QuoteTick)]

    def gaps(self) -> list[DataGap]:
        return [m for m in self.published if isinstance(m, DataGap)]


def _engine(clock: SimClock | None = None) -> tuple[MarketDataEngine, Feed, SimClock]:
    clock = clock or SimClock(1_000_000)
    feed = Feed()
    instruments = {i.instrument_id: i for i in (make_instrument("AAA"), make_instrument("BBB"))}
    engine = MarketDataEngine(
        MarketDataConfig(stale_after_ns=STALE_NS),
        clock,
        instruments,
        publish=feed.publish,
        request_snapshot=feed.request_snapshot,
    )
    return engine, feed, clock


def _delta(
    sequence: int,
    side: BookSide,
    level_price: str,
    size: str = "10",
    *,
    last: bool = True,
    action: BookAction = BookAction.ADD,
    instrument_id: str = "AAA.SIM",
) -> BookDelta:
    return make_book_delta(
        instrument_id,
        action=action,
        side=side,
        level_price=level_price,
        size=size,
        sequence=sequence,
        last=last,
        ts_event=500 + sequence,
    )


def _two_sided(engine: MarketDataEngine, instrument_id: str = "AAA.SIM") -> None:
    """Sequences 1-2: bid 100.00 x 10, ask 100.02 x 10, one quote."""
    engine.on_delta(_delta(1, BookSide.BID, "100.00", last=False, instrument_id=instrument_id))
    engine.on_delta(_delta(2, BookSide.ASK, "100.02", instrument_id=instrument_id))


def _snapshot(sequence: int, bid: str = "100.01", ask: str = "100.03") -> BookSnapshot:
    return BookSnapshot(
        instrument_id="AAA.SIM",
        bids=(BookLevel(price=price(bid), size=qty("8")),),
        asks=(BookLevel(price=price(ask), size=qty("9")),),
        sequence=sequence,
        ts_event=900,
        ts_init=900,
    )


def test_engine_last_delta_of_batch_publishes_quote_with_top_of_book() -> None:
    engine, feed, clock = _engine()

    _two_sided(engine)

    assert feed.quotes() == [
        QuoteTick(
            instrument_id="AAA.SIM",
            bid_price=price("100.00"),
            ask_price=price("100.02"),
            bid_size=qty("10"),
            ask_size=qty("10"),
            ts_event=502,
            ts_init=clock.timestamp_ns(),
        )
    ]


def test_engine_delta_not_last_in_batch_publishes_nothing() -> None:
    engine, feed, _ = _engine()

    engine.on_delta(_delta(1, BookSide.BID, "100.00", last=False))
    engine.on_delta(_delta(2, BookSide.ASK, "100.02", last=False))

    assert feed.published == []
    assert engine.book("AAA.SIM").best_ask == price("100.02").raw


def test_engine_one_sided_book_publishes_no_quote() -> None:
    engine, feed, _ = _engine()

    engine.on_delta(_delta(1, BookSide.BID, "100.00"))

    assert feed.quotes() == []


def test_engine_change_below_top_publishes_no_new_quote() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)

    engine.on_delta(_delta(3, BookSide.BID, "99.95"))

    assert len(feed.quotes()) == 1


def test_engine_top_size_change_publishes_new_quote() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)

    engine.on_delta(_delta(3, BookSide.BID, "100.00", "4", action=BookAction.UPDATE))

    assert [q.bid_size for q in feed.quotes()] == [qty("10"), qty("4")]


def test_engine_delete_best_level_publishes_quote_from_next_level() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)
    engine.on_delta(_delta(3, BookSide.BID, "99.99", "6"))

    engine.on_delta(_delta(4, BookSide.BID, "100.00", "0", action=BookAction.DELETE))

    last = feed.quotes()[-1]
    assert (last.bid_price, last.bid_size) == (price("99.99"), qty("6"))


def test_engine_crossed_book_publishes_no_quote() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)

    engine.on_delta(_delta(3, BookSide.BID, "100.02"))

    assert len(feed.quotes()) == 1


def test_engine_sequence_gap_publishes_data_gap_and_requests_snapshot() -> None:
    engine, feed, clock = _engine()
    _two_sided(engine)

    engine.on_delta(_delta(5, BookSide.BID, "100.01"))

    assert feed.gaps() == [
        DataGap(
            instrument_id="AAA.SIM",
            reason="sequence_gap",
            expected_sequence=3,
            received_sequence=5,
            ts_event=505,
            ts_init=clock.timestamp_ns(),
        )
    ]
    assert feed.snapshot_requests == ["AAA.SIM"]
    assert not engine.is_valid("AAA.SIM")
    assert engine.stats().gaps == 1


def test_engine_invalid_book_publishes_no_quotes_and_requests_once() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)
    engine.on_delta(_delta(5, BookSide.BID, "100.01"))

    engine.on_delta(_delta(6, BookSide.ASK, "100.05", "3", action=BookAction.UPDATE))
    engine.on_delta(_delta(9, BookSide.BID, "100.01", "1"))

    assert len(feed.quotes()) == 1
    assert len(feed.gaps()) == 1
    assert feed.snapshot_requests == ["AAA.SIM"]


def test_engine_gap_on_one_instrument_leaves_other_valid() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine, "BBB.SIM")
    engine.on_delta(_delta(7, BookSide.BID, "100.00"))

    engine.on_delta(_delta(3, BookSide.BID, "100.01", instrument_id="BBB.SIM"))

    assert engine.is_valid("BBB.SIM")
    assert not engine.is_valid("AAA.SIM")
    assert feed.quotes()[-1].instrument_id == "BBB.SIM"


def test_engine_snapshot_after_gap_restores_book_and_quotes() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)
    engine.on_delta(_delta(5, BookSide.BID, "100.01"))

    engine.on_snapshot(_snapshot(sequence=6))

    assert engine.is_valid("AAA.SIM")
    last = feed.quotes()[-1]
    assert (last.bid_price, last.ask_price, last.ts_event) == (
        price("100.01"),
        price("100.03"),
        900,
    )
    assert engine.book("AAA.SIM").sequence == 6
    assert engine.stats().snapshots == 1


def test_engine_delta_after_snapshot_continues_from_snapshot_sequence() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)
    engine.on_delta(_delta(5, BookSide.BID, "100.01"))
    engine.on_snapshot(_snapshot(sequence=6))

    engine.on_delta(_delta(7, BookSide.ASK, "100.02", "2"))

    assert feed.quotes()[-1].ask_price == price("100.02")
    assert len(feed.gaps()) == 1


def test_engine_late_delta_already_in_snapshot_is_ignored_not_a_gap() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)
    engine.on_delta(_delta(5, BookSide.BID, "100.01"))
    engine.on_snapshot(_snapshot(sequence=8))

    engine.on_delta(_delta(7, BookSide.BID, "99.00", "1"))
    engine.on_delta(_delta(8, BookSide.BID, "99.00", "1"))

    assert engine.is_valid("AAA.SIM")
    assert len(feed.gaps()) == 1
    assert feed.snapshot_requests == ["AAA.SIM"]
    assert price("99.00").raw not in engine.book("AAA.SIM").bids


def test_engine_duplicate_delta_is_ignored() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)

    engine.on_delta(_delta(2, BookSide.ASK, "100.02"))

    assert engine.is_valid("AAA.SIM")
    assert feed.gaps() == []
    assert len(feed.quotes()) == 1


def test_engine_snapshot_older_than_valid_book_is_ignored() -> None:
    engine, feed, _ = _engine()
    _two_sided(engine)
    engine.on_delta(_delta(3, BookSide.BID, "100.00", "5", action=BookAction.UPDATE))

    engine.on_snapshot(_snapshot(sequence=1))

    assert engine.book("AAA.SIM").sequence == 3
    assert feed.quotes()[-1].bid_size == qty("5")


def test_engine_unknown_instrument_messages_are_ignored() -> None:
    engine, feed, _ = _engine()

    engine.on_delta(_delta(1, BookSide.BID, "1.00", instrument_id="ZZZ.SIM"))
    engine.on_trade(make_trade("ZZZ.SIM"))

    assert feed.published == []
    assert engine.stats().deltas == 0


def test_engine_trade_passes_through_unchanged() -> None:
    engine, feed, _ = _engine()
    trade = make_trade("AAA.SIM")

    engine.on_trade(trade)

    assert feed.published == [trade]
    assert engine.stats().trades == 1


def test_engine_staleness_not_flagged_within_limit() -> None:
    engine, feed, clock = _engine()
    _two_sided(engine)
    clock.advance(STALE_NS)

    flagged = engine.check_staleness()

    assert flagged == []
    assert feed.gaps() == []


def test_engine_staleness_flags_each_stale_instrument_once_per_period() -> None:
    engine, feed, clock = _engine()
    _two_sided(engine)
    clock.advance(STALE_NS + 1)

    first = engine.check_staleness()
    clock.advance(10 * STALE_NS)
    second = engine.check_staleness()

    assert first == ["AAA.SIM", "BBB.SIM"]
    assert second == []
    assert [(g.instrument_id, g.reason) for g in feed.gaps()] == [
        ("AAA.SIM", "stale"),
        ("BBB.SIM", "stale"),
    ]
    assert engine.stats().stale == 2


def test_engine_staleness_update_rearms_flag_for_next_stale_period() -> None:
    engine, _, clock = _engine()
    _two_sided(engine)
    clock.advance(STALE_NS + 1)
    engine.check_staleness()

    engine.on_delta(_delta(3, BookSide.BID, "99.90"))
    fresh = engine.check_staleness()
    clock.advance(STALE_NS + 1)
    stale_again = engine.check_staleness()

    assert fresh == []
    assert stale_again == ["AAA.SIM"]


def test_engine_staleness_snapshot_rearms_flag_for_next_stale_period() -> None:
    engine, _, clock = _engine()
    _two_sided(engine)
    clock.advance(STALE_NS + 1)
    engine.check_staleness()

    engine.on_snapshot(_snapshot(sequence=2))
    clock.advance(STALE_NS + 1)
    stale_again = engine.check_staleness()

    assert "AAA.SIM" in stale_again


def test_engine_stats_count_deltas_and_quotes() -> None:
    engine, _, _ = _engine()

    _two_sided(engine)

    stats = engine.stats()
    assert (stats.deltas, stats.quotes, stats.gaps) == (2, 1, 0)


def test_engine_snapshot_with_the_quoted_top_publishes_it_again() -> None:
    # a reloaded book starts a fresh quote stream, even at the top last quoted
    engine, feed, _ = _engine()
    engine.on_snapshot(_snapshot(sequence=1))
    engine.on_snapshot(_snapshot(sequence=2))
    assert len(feed.quotes()) == 2
    engine.on_delta(_delta(3, BookSide.BID, "99.00"))  # below the top: no new quote
    assert len(feed.quotes()) == 2
