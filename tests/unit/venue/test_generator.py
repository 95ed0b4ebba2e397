"""The market generator: determinism, independence from the node, cointegrated mids."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from spreadwire.core.clock import SimClock
from spreadwire.core.scheduler import Scheduler
from spreadwire.domain.market import BookDelta, TradeTick
from spreadwire.venue.config import GeneratorConfig, PairSpec, default_pairs
from spreadwire.venue.exchange import SimulatedExchange
from spreadwire.venue.generator import MarketGenerator

SECOND = 1_000_000_000


def _run(
    config: GeneratorConfig, seed: int, seconds: float, *, sample_ns: int | None = None
) -> tuple[list[BookDelta | TradeTick], MarketGenerator, list[list[float]]]:
    clock = SimClock(0)
    scheduler = Scheduler(clock)
    messages: list[BookDelta | TradeTick] = []
    exchange = SimulatedExchange(
        config.instruments(),
        clock,
        on_report=lambda _: None,
        on_delta=messages.append,
        on_trade=messages.append,
    )
    generator = MarketGenerator(config, exchange, scheduler, seed)
    mids: list[list[float]] = []

    def sample() -> None:
        row = []
        for instrument_id in generator.instrument_ids:
            book = exchange.book(instrument_id)
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is not None and ask is not None and bid < ask
            row.append((bid + ask) / 2e9)
        mids.append(row)
        if sample_ns is not None:
            scheduler.after(sample_ns, sample)

    generator.start()
    if sample_ns is not None:
        scheduler.after(sample_ns, sample)
    scheduler.run_until(int(seconds * SECOND))
    return messages, generator, mids


def test_generator_same_seed_gives_identical_message_sequence() -> None:
    config = GeneratorConfig(pairs=default_pairs(2))
    encode = msgspec.json.encode

    first, _, _ = _run(config, 42, 5.0)
    second, _, _ = _run(config, 42, 5.0)
    other, _, _ = _run(config, 43, 5.0)

    assert len(first) > 1_000
    assert encode(first) == encode(second)
    assert encode(first) != encode(other)


def test_generator_books_are_two_sided_and_never_crossed() -> None:
    _, _, mids = _run(GeneratorConfig(), 3, 20.0, sample_ns=SECOND // 10)

    assert len(mids) == 200


def test_generator_fair_value_path_ignores_book_activity() -> None:
    busy = GeneratorConfig(taker_rate=50.0)
    quiet = GeneratorConfig(taker_rate=0.0)

    _, busy_gen, _ = _run(busy, 5, 3.0)
    _, quiet_gen, _ = _run(quiet, 5, 3.0)

    assert busy_gen.fair_value("AAA.SIM") == quiet_gen.fair_value("AAA.SIM")
    assert busy_gen.fair_value("BBB.SIM") == quiet_gen.fair_value("BBB.SIM")


def test_generator_mids_are_cointegrated_with_configured_hedge_ratio() -> None:
    pair = PairSpec(price_a=120.0, price_b=100.0, hedge_ratio=1.2, trend_volatility=0.002)
    _, _, mids = _run(GeneratorConfig(pairs=(pair,)), 9, 600.0, sample_ns=SECOND)
    a, b = np.array(mids).T

    beta, alpha = np.polyfit(b, a, 1)
    spread = a - beta * b - alpha
    phi_spread = np.corrcoef(spread[:-1], spread[1:])[0, 1]
    phi_b = np.corrcoef(b[:-1], b[1:])[0, 1]

    assert beta == pytest.approx(1.2, abs=0.05)
    assert phi_spread < 0.9  # OU at kappa 0.3/s, sampled each second: about exp(-0.3)
    assert phi_b > 0.98  # the shared trend wanders
    assert spread.std() < 0.25 * b.std()


def test_generator_config_rejects_repeated_symbols() -> None:
    with pytest.raises(msgspec.ValidationError, match="pairs"):
        GeneratorConfig(pairs=(PairSpec(), PairSpec()))


def test_generator_default_pairs_names_distinct_legs() -> None:
    pairs = default_pairs(3)

    assert [(p.leg_a, p.leg_b) for p in pairs] == [("AAA", "BBB"), ("CCC", "DDD"), ("EEE", "FFF")]
    with pytest.raises(msgspec.ValidationError, match="count"):
        default_pairs(0)
