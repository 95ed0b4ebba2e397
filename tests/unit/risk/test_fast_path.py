"""The gate's fast path (``Gate.execute``) and the structures it relies on give the same
verdicts as the ordered checks: grid tests by precision, the approved command kept as the
working order, working ids in the duplicate check, the price band's precomputed bounds,
the gross cap without a division, and an unchanged mid that only ages the reference."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import EngageKillSwitch, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.values import Price, Quantity
from spreadwire.risk.breaker import CircuitBreaker
from spreadwire.risk.config import BreakerConfig, PriceBandTrip, RiskConfig
from spreadwire.risk.engine import RiskEngine
from spreadwire.risk.exposure import InstrumentRisk, WorkingOrder
from spreadwire.risk.gate import Gate, Limits
from spreadwire.risk.reasons import DenyReason
from spreadwire.risk.tripwires import Tripwires
from tests.builders import make_instrument, make_quote
from tests.unit.risk.support import START_NS, Harness

BUY = OrderSide.BUY
SELL = OrderSide.SELL
S = 10**9


def _fast_only(gate: Gate, cmd: SubmitOrder) -> bool:
    """``Gate.execute`` with the ordered path cut off: True when the fast path approved."""
    ordered, forward = gate._ordered, gate._forward

    def refuse(command: SubmitOrder, now: int) -> bool:
        return False

    gate._ordered, gate._forward = refuse, lambda command: None
    try:
        return gate.execute(cmd)
    finally:
        gate._ordered, gate._forward = ordered, forward


def _warm(h: Harness) -> None:
    """A strategy's first order in an instrument takes the ordered path (it makes the
    leg the fast path looks up): one order, canceled."""
    first = h.order()
    h.engine.execute(first)
    h.cancel(first)


def test_fast_path_first_order_of_a_leg_takes_the_ordered_path() -> None:
    h = Harness()

    assert not _fast_only(h.engine._gate, h.order())
    assert h.submit()


def test_fast_path_plain_limit_order_is_approved_without_the_ordered_path() -> None:
    h = Harness()
    _warm(h)
    gate = h.engine._gate

    assert _fast_only(gate, h.order())

    assert gate.portfolio.open_count == 1


def test_fast_path_price_with_more_decimals_than_the_tick_tests_the_remainder() -> None:
    h = Harness()
    _warm(h)
    on_grid = h.order(price="100.000")  # precision 3 > the tick's 2 decimals
    off_grid = h.order(price="100.005")

    assert _fast_only(h.engine._gate, on_grid)
    assert not h.engine.execute(off_grid)
    assert h.last_denial() == DenyReason.PRICE_PRECISION


def test_fast_path_tick_not_a_power_of_ten_tests_the_remainder() -> None:
    engine = _engine_on(make_instrument("CCC", tick_size="0.05"), "100.00", "100.10")
    assert engine.execute(_order("CCC.SIM", "first", "100.05"))  # makes the leg
    on_grid = _order("CCC.SIM", "on", "100.05")
    off_grid = _order("CCC.SIM", "off", "100.03")

    assert _fast_only(engine._gate, on_grid)
    assert not engine.execute(off_grid)
    assert engine.stats().denied_by_reason == {DenyReason.PRICE_PRECISION: 1}


def _engine_on(instrument: Instrument, bid: str, ask: str) -> RiskEngine:
    """A risk engine trading ``instrument`` alone, with one quote on it."""
    engine = RiskEngine(
        RiskConfig(),
        SimClock(START_NS),
        {instrument.instrument_id: instrument},
        forward=lambda command: None,
        publish=lambda event: None,
    )
    engine.on_quote(make_quote(instrument.instrument_id, bid=bid, ask=ask, ts_event=START_NS))
    return engine


def _order(
    instrument_id: str, cid: str, price: str, quantity: str = "1", size_precision: int = 0
) -> SubmitOrder:
    return SubmitOrder(
        strategy_id="S1",
        instrument_id=instrument_id,
        client_order_id=cid,
        side=BUY,
        order_type=OrderType.LIMIT,
        quantity=Quantity.parse(quantity, size_precision),
        price=Price.parse(price),
        ts_init=0,
    )


def test_fast_path_command_becomes_the_working_order_when_read() -> None:
    h = Harness()
    _warm(h)
    cmd = h.order(quantity="10")
    assert h.engine.execute(cmd)
    portfolio = h.engine._gate.portfolio
    assert portfolio.orders[cmd.client_order_id] is cmd

    order = portfolio.order(cmd.client_order_id)

    assert isinstance(order, WorkingOrder)
    assert (order.sign, order.leaves, order.notional_price, order.resting_price) == (
        1,
        10 * S,
        100 * S,
        100 * S,
    )
    assert portfolio.orders[cmd.client_order_id] is order


def test_fast_path_partial_fill_and_cancel_release_what_the_command_reserved() -> None:
    h = Harness()
    _warm(h)
    cmd = h.order(quantity="10")
    h.engine.execute(cmd)
    leg = h.engine._gate.portfolio.strategies["S1"].legs["AAA.SIM"]

    h.fill(cmd, "4", "100.00")
    assert leg.open_buy == 6 * S
    h.cancel(cmd)

    assert leg.open_buy == 0
    assert leg.position == 4 * S
    assert h.engine.stats().open_orders == 0


def test_fast_path_modify_of_a_command_record_is_checked_as_amended() -> None:
    h = Harness()
    _warm(h)
    cmd = h.order(quantity="10")
    h.engine.execute(cmd)

    approved = h.engine.execute(
        ModifyOrder(
            strategy_id="S1",
            instrument_id="AAA.SIM",
            client_order_id=cmd.client_order_id,
            quantity=Quantity.parse("5"),
            ts_init=0,
        )
    )

    assert approved
    leg = h.engine._gate.portfolio.strategies["S1"].legs["AAA.SIM"]
    assert leg.open_buy == 5 * S


def test_fast_path_kill_switch_cancels_command_records_and_working_orders() -> None:
    h = Harness()
    _warm(h)
    fast = h.order(quantity="10")
    h.engine.execute(fast)
    slow = h.order(quantity="10", price="99.99")
    h.engine.execute(slow)
    h.engine._gate.portfolio.order(slow.client_order_id)  # now a WorkingOrder

    sent = h.engine.engage_kill_switch(EngageKillSwitch(operator="ops", reason="t", ts_init=0))

    assert sent == 2
    assert type(h.engine._gate.portfolio.orders[fast.client_order_id]) is SubmitOrder
    assert {c.client_order_id for c in h.cancels()} == {
        fast.client_order_id,
        slow.client_order_id,
    }


def test_duplicate_id_of_a_working_order_is_denied() -> None:
    h = Harness()
    h.submit(client_order_id="A")

    assert not h.submit(client_order_id="A")

    assert h.last_denial() == DenyReason.DUPLICATE_CLIENT_ORDER_ID


def test_duplicate_id_of_a_closed_order_is_remembered_until_trimmed() -> None:
    h = Harness(RiskConfig(duplicate_id_memory=1))
    first = h.order(client_order_id="A")
    h.engine.execute(first)
    h.cancel(first)

    assert not h.submit(client_order_id="A")
    assert h.last_denial() == DenyReason.DUPLICATE_CLIENT_ORDER_ID

    second = h.order(client_order_id="B")
    h.engine.execute(second)
    h.cancel(second)  # the memory keeps one closed id: A goes
    h.engine.check()

    assert h.submit(client_order_id="A")


def test_fast_path_denied_id_is_not_remembered() -> None:
    h = Harness()

    assert not h.submit(client_order_id="A", quantity="0")
    assert h.submit(client_order_id="A")


def test_on_quote_unchanged_mid_ages_the_reference_and_keeps_the_collar() -> None:
    h = Harness()
    inst = h.engine._gate.instruments["AAA.SIM"]
    low, high, expiry = inst.collar_low, inst.collar_high, inst.reference_expiry

    h.clock.advance(1_000)
    h.quote("AAA.SIM", "100.00", "100.02")

    assert (inst.collar_low, inst.collar_high) == (low, high)
    assert inst.reference_expiry == expiry + 1_000
    assert inst.reference_ts == START_NS + 1_000


@settings(max_examples=300, deadline=None)
@given(
    anchor=st.integers(min_value=1, max_value=10**15),
    move=st.integers(min_value=-(10**14), max_value=10**14),
    band_bps=st.integers(min_value=0, max_value=5_000),
)
def test_price_band_bounds_hold_exactly_the_mids_that_do_not_trip(
    anchor: int, move: int, band_bps: int
) -> None:
    config = BreakerConfig(price_band=PriceBandTrip(band_bps=band_bps, window_ns=10**12))
    trips = Tripwires(config, CircuitBreaker(lambda event: None))
    inst = InstrumentRisk(
        make_instrument("AAA"),
        min_quantity=0,
        max_quantity=10**20,
        min_notional2=0,
        max_notional2=10**40,
        max_position=10**20,
        collar_bps=100,
    )
    trips.band(inst, anchor, 1)
    mid = max(1, anchor + move)

    inside = inst.band_low <= mid <= inst.band_high

    assert inside == (abs(mid - anchor) * 10_000 <= band_bps * anchor)


@settings(max_examples=300, deadline=None)
@given(
    pnl=st.integers(min_value=-(10**30), max_value=10**30),
    balance=st.integers(min_value=1, max_value=10**12),
    gross=st.integers(min_value=1, max_value=10**12),
    margin_bps=st.integers(min_value=1, max_value=20_000),
)
def test_gross_cap_without_division_equals_the_margin_formula(
    pnl: int, balance: int, gross: int, margin_bps: int
) -> None:
    limits = Limits(
        RiskConfig(
            starting_balance=str(balance),
            max_gross_exposure=str(gross),
            margin_bps=margin_bps,
        )
    )

    margin_cap2 = (limits.balance2 + pnl) * 10_000 // margin_bps

    assert limits.gross_cap2(pnl) == min(margin_cap2, limits.gross2)


def _fractional_engine(lot: str, size_precision: int) -> RiskEngine:
    instrument = make_instrument("CCC", size_precision=size_precision, lot_size=lot)
    engine = _engine_on(instrument, "100.00", "100.02")
    assert engine.execute(_sized("first", "1", size_precision))  # makes the leg
    return engine


def _sized(cid: str, quantity: str, size_precision: int) -> SubmitOrder:
    return _order("CCC.SIM", cid, "100.01", quantity, size_precision)


def test_fast_path_fractional_quantity_reserves_the_exact_notional() -> None:
    engine = _fractional_engine("0.001", 3)
    gate = engine._gate
    portfolio = gate.portfolio
    strategy = portfolio.strategies["S1"]
    gross_before, budget_before = portfolio.gross_room2, strategy.budget_room2

    assert _fast_only(gate, _sized("frac", "1.234", 3))

    notional2 = Price.parse("100.01").raw * Quantity.parse("1.234", 3).raw
    assert portfolio.gross_room2 == gross_before - notional2
    assert strategy.budget_room2 == budget_before - notional2


def test_fast_path_notional_finer_than_raw1_takes_the_ordered_path_and_is_approved() -> None:
    # 9 quantity decimals times a price with 2: the raw2 notional is not a whole raw1
    engine = _fractional_engine("0.000000001", 9)
    order = _sized("fine", "1.000000001", 9)

    assert not _fast_only(engine._gate, order)
    assert engine.execute(order)
    assert engine._gate.portfolio.order("fine") is not None


def test_fast_path_notional_exactly_at_the_budget_passes_one_tick_more_is_denied() -> None:
    # budget 5,000: 49 at 100.00 leave a room of exactly 100.00
    h = Harness(RiskConfig(strategy_notional_budget="5000"))
    _warm(h)
    gate = h.engine._gate
    assert _fast_only(gate, h.order(quantity="49", price="100.00"))
    assert not _fast_only(gate, h.order(quantity="1", price="100.01"))
    assert not h.submit(quantity="1", price="100.01")
    assert h.last_denial() == DenyReason.STRATEGY_NOTIONAL_BUDGET
    assert _fast_only(gate, h.order(quantity="1", price="100.00"))
