"""The risk engine's view: the own book behind the self-trade check (best own bid/ask
with emptied levels), and the raw1 rooms and bounds of the gate's fast path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.risk.config import RiskConfig
from spreadwire.risk.exposure import (
    CAP1,
    INEXACT,
    NO_BID,
    InstrumentRisk,
    Portfolio,
    Room,
    ceil1,
    floor1,
    raw1_notional,
)
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


_S = 10**9
_amounts = st.integers(min_value=-(10**30), max_value=10**30)


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(min_value=-(10**30), max_value=10**30),
    moves=st.lists(
        st.one_of(
            st.tuples(st.just("spend"), _amounts, st.just(0)),
            st.tuples(
                st.just("take"),
                st.integers(min_value=-(10**15), max_value=10**15),
                st.integers(min_value=-(10**14), max_value=10**14),
            ),
        ),
        max_size=30,
    ),
)
def test_room_in_raw1_and_fraction_follows_exact_raw2_arithmetic(
    start: int, moves: list[tuple[str, int, int]]
) -> None:
    room = Room(start)
    exact = start
    for kind, a, b in moves:
        if kind == "spend":
            room.spend(a)
            exact -= a
        else:
            room.take(a, b)
            exact -= a * b
        assert room.raw2 == exact
        assert 0 <= room.frac < _S
        assert room.whole == exact // _S


@settings(max_examples=500, deadline=None)
@given(
    net2=st.integers(min_value=-(10**28), max_value=10**28),
    limit1=st.integers(min_value=0, max_value=10**18),
    n1=st.integers(min_value=0, max_value=10**19),
)
def test_net_bounds_in_raw1_hold_exactly_the_notionals_within_the_cap(
    net2: int, limit1: int, n1: int
) -> None:
    portfolio = Portfolio({})
    portfolio.net2 = net2
    portfolio.rooms(0, limit1)
    limit2 = limit1 * _S
    n2 = n1 * _S

    buy = portfolio.net_buy_low1 <= n1 <= portfolio.net_buy_high1
    sell = portfolio.net_sell_low1 <= n1 <= portfolio.net_sell_high1

    if buy:
        assert -limit2 <= net2 + n2 <= limit2
    if sell:
        assert -limit2 <= net2 - n2 <= limit2
    if n1 < CAP1 and abs(net2) // _S + limit1 < CAP1:  # no bound capped: exact
        assert buy == (-limit2 <= net2 + n2 <= limit2)
        assert sell == (-limit2 <= net2 - n2 <= limit2)


@given(amount2=st.integers(min_value=-(10**40), max_value=10**40), n1=st.integers())
def test_raw1_bounds_of_a_raw2_limit_are_exact_below_the_cap(amount2: int, n1: int) -> None:
    if n1 <= floor1(amount2):
        assert n1 * _S <= amount2
    if n1 >= ceil1(amount2):
        assert n1 * _S >= amount2
    if abs(n1) < CAP1 and abs(amount2) // _S < CAP1:
        assert (n1 <= floor1(amount2)) == (n1 * _S <= amount2)
        assert (n1 >= ceil1(amount2)) == (n1 * _S >= amount2)


@settings(max_examples=500, deadline=None)
@given(
    price=st.integers(min_value=-(10**15), max_value=10**15),
    quantity=st.integers(min_value=0, max_value=10**18),
    decimals=st.integers(min_value=0, max_value=9),
)
def test_raw1_notional_is_the_exact_product_or_inexact(
    price: int, quantity: int, decimals: int
) -> None:
    quantity -= quantity % 10 ** (9 - decimals)  # a quantity with ``decimals`` decimals
    product = price * quantity

    expected = product // _S if product % _S == 0 else INEXACT

    assert raw1_notional(price, quantity) == expected
