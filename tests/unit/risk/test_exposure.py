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
    at_least,
    ceil1,
    floor1,
    raw1_notional,
    sum_at_most,
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
                st.sampled_from(["take", "add"]),
                st.integers(min_value=-(10**15), max_value=10**15),
                st.integers(min_value=-(10**14), max_value=10**14),
            ),
            # around the bounds of the machine-word path: |quantity| 1e18, |price| 2**30
            st.tuples(
                st.sampled_from(["take", "add"]),
                st.integers(min_value=-(10**19), max_value=10**19),
                st.integers(min_value=-(2**31), max_value=2**31),
            ),
            st.tuples(
                st.sampled_from(["take", "add"]),
                st.sampled_from([10**18 - 1, 10**18, -(10**18) + 1, -(10**18), 999_999_999]),
                st.sampled_from([2**30 - 1, 2**30, -(2**30) + 1, -(2**30), 0, 1, -1]),
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
        elif kind == "take":
            room.take(a, b)
            exact -= a * b
        else:
            room.add(a, b)
            exact += a * b
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


@settings(max_examples=300, deadline=None)
@given(a=_amounts, b=_amounts, c=_amounts)
def test_split_amounts_compare_and_move_as_their_raw2_values(a: int, b: int, c: int) -> None:
    x, y, z = Room(a), Room(b), Room(c)
    assert sum_at_most(x, y, z) == (a + b <= c)
    assert at_least(x, y) == (a >= b)
    x.add_room(y)
    assert x.raw2 == a + b
    z.move_by(y, Room(a))
    assert z.raw2 == c + a - b
    y.set_room(z)
    assert (y.whole, y.frac) == (z.whole, z.frac)


_fill = st.tuples(
    st.just("fill"),
    st.sampled_from(["AAA.SIM", "BBB.SIM"]),
    st.sampled_from(["S1", "S2"]),
    st.integers(min_value=-(10**13), max_value=10**13),  # signed quantity, raw
    st.integers(min_value=1, max_value=10**13),  # price, raw
)
_mark = st.tuples(
    st.just("mark"),
    st.sampled_from(["AAA.SIM", "BBB.SIM"]),
    st.just(""),
    st.just(0),
    st.integers(min_value=1, max_value=10**13),
)


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.one_of(_fill, _mark), max_size=40))
def test_portfolio_sums_equal_a_recount_from_positions_fills_and_marks(
    steps: list[tuple[str, str, str, int, int]],
) -> None:
    """Exposure, cash, PnL and high water, moved incrementally by fills and marks (in
    machine words where they can be), equal the same sums recounted from scratch."""
    gate = Gate(
        RiskConfig(),
        {"AAA.SIM": make_instrument("AAA"), "BBB.SIM": make_instrument("BBB")},
        KillSwitch(),
        {},
        0,
    )
    portfolio = gate.portfolio
    positions: dict[tuple[str, str], int] = {}
    cash: dict[str, int] = {"S1": 0, "S2": 0}
    high_water = 0
    for kind, instrument_id, strategy_id, quantity, price in steps:
        inst = gate.instruments[instrument_id]
        if kind == "mark":
            portfolio.mark(inst, price)
        elif quantity:
            leg = portfolio.leg(gate.strategy(strategy_id, 0), inst)
            sign = 1 if quantity > 0 else -1
            portfolio.apply_fill(leg, sign, abs(quantity), price)
            positions[strategy_id, instrument_id] = leg.position
            cash[strategy_id] -= quantity * price
        marks = {key: gate.instruments[key].mark for key in gate.instruments}
        for name, strategy in portfolio.strategies.items():
            mine = {i: q for (s, i), q in positions.items() if s == name}
            assert strategy.gross2 == sum(abs(q) * marks[i] for i, q in mine.items())
            assert strategy.net2 == sum(q * marks[i] for i, q in mine.items())
            assert strategy.cash2 == cash[name]
        gross = sum(abs(q) * marks[i] for (_, i), q in positions.items())
        net = sum(q * marks[i] for (_, i), q in positions.items())
        pnl = sum(cash.values()) + net
        high_water = max(high_water, pnl)
        assert portfolio.gross2 == gross
        assert portfolio.net2 == net
        assert portfolio.cash2 == sum(cash.values())
        assert portfolio.pnl2 == pnl
        assert portfolio.high_water2 == high_water
        for room in (portfolio.gross, portfolio.net, portfolio.cash, portfolio.pnl):
            assert 0 <= room.frac < _S
