"""The own book behind the self-trade check: best own bid/ask with emptied levels."""

from __future__ import annotations

from spreadwire.risk.config import RiskConfig
from spreadwire.risk.exposure import NO_BID, InstrumentRisk
from spreadwire.risk.gate import Gate
from spreadwire.risk.killswitch import KillSwitch
from tests.builders import make_instrument


def _instrument() -> InstrumentRisk:
    gate = Gate(RiskConfig(), {"AAA.SIM": make_instrument("AAA")}, KillSwitch(), {}, 0)
    return gate.instruments["AAA.SIM"]


def test_own_book_best_bid_skips_emptied_levels() -> None:
    inst = _instrument()
    for price in (100, 101, 102):
        inst.add_resting(1, price)

    inst.remove_resting(1, 102)
    inst.remove_resting(1, 101)

    assert inst.best_own_bid == 100


def test_own_book_last_order_removed_leaves_no_best_bid() -> None:
    inst = _instrument()
    inst.add_resting(1, 100)

    inst.remove_resting(1, 100)

    assert inst.best_own_bid == NO_BID


def test_own_book_emptied_level_counts_again_when_reused() -> None:
    inst = _instrument()
    inst.add_resting(-1, 105)
    inst.remove_resting(-1, 105)

    inst.add_resting(-1, 105)

    assert inst.best_own_ask == 105
    assert inst.own_asks[105] == 1


def test_own_book_drops_empty_levels_beyond_the_bound() -> None:
    inst = _instrument()
    inst.add_resting(1, 1)
    for price in range(2, 200):
        inst.add_resting(1, price)
        inst.remove_resting(1, price)

    assert len(inst.own_bids) <= 65
    assert inst.best_own_bid == 1


def test_own_book_removal_of_an_unknown_price_changes_nothing() -> None:
    inst = _instrument()
    inst.add_resting(1, 100)

    inst.remove_resting(1, 99)

    assert inst.best_own_bid == 100
    assert dict(inst.own_bids) == {100: 1}
