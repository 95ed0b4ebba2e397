"""Pair orders: both legs as one decision; legging policy and residual exposure."""

from __future__ import annotations

from spreadwire.domain.commands import LeggingPolicy, SubmitOrder, SubmitPairOrder
from spreadwire.domain.enums import OrderSide, OrderStatus, OrderType, ReportKind
from spreadwire.domain.events import PairStateChanged
from spreadwire.domain.order import Order
from spreadwire.domain.values import Price, Quantity
from spreadwire.oms.pairs import COMPLETE, COMPLETING, FAILED, UNWINDING, UNWOUND, WORKING
from tests.unit.oms.support import SECOND, Harness

K = ReportKind
S = OrderStatus


def _leg(cid: str, instrument_id: str, side: OrderSide, quantity: str, price: str) -> SubmitOrder:
    return SubmitOrder(
        strategy_id="S1",
        instrument_id=instrument_id,
        client_order_id=cid,
        side=side,
        order_type=OrderType.LIMIT,
        quantity=Quantity.parse(quantity),
        price=Price.parse(price),
        pair_id="P1",
        ts_init=0,
    )


def _pair(
    h: Harness, legging: LeggingPolicy = "unwind", *, max_attempts: int = 3
) -> tuple[Order, Order]:
    cmd = SubmitPairOrder(
        pair_id="P1",
        strategy_id="S1",
        first=_leg("P1-a", "AAA.SIM", OrderSide.BUY, "10", "100.00"),
        second=_leg("P1-b", "BBB.SIM", OrderSide.SELL, "20", "50.00"),
        legging=legging,
        leg_timeout_ns=SECOND,
        max_attempts=max_attempts,
        ts_init=0,
    )
    assert h.oms.submit_pair(cmd)
    first = h.oms.order("P1-a")
    second = h.oms.order("P1-b")
    assert first is not None and second is not None
    return first, second


def _states(h: Harness) -> list[str]:
    return [e.state for e in h.published if isinstance(e, PairStateChanged)]


def _last(h: Harness) -> PairStateChanged:
    return [e for e in h.published if isinstance(e, PairStateChanged)][-1]


def test_pair_submits_both_legs_as_one_decision() -> None:
    h = Harness()

    first, second = _pair(h)

    assert [c.client_order_id for c in h.sent] == ["P1-a", "P1-b"]
    assert first.pair_id == second.pair_id == "P1"
    assert _states(h) == [WORKING]


def test_pair_both_legs_filled_is_complete_without_residual() -> None:
    h = Harness()
    first, second = _pair(h)

    h.fill(first, "10")
    h.fill(second, "20", "50.00")

    assert _states(h) == [WORKING, COMPLETE]
    assert (_last(h).residual_first_raw, _last(h).residual_second_raw) == (0, 0)


def test_pair_unwind_flattens_the_filled_leg_when_the_other_is_rejected() -> None:
    h = Harness()
    first, second = _pair(h, "unwind")
    h.fill(first, "10")

    h.report(second, K.REJECTED, cum="0", leaves="0", reason="NO_LIQUIDITY")

    unwind = h.sent[-1]
    assert _states(h)[-1] == UNWINDING
    assert _last(h).residual_first_raw == 10 * 10**9
    assert (unwind.side, unwind.quantity, unwind.order_type) == (
        OrderSide.SELL,
        Quantity.parse("10"),
        OrderType.MARKET,
    )
    assert unwind.reduce_only


def test_pair_unwound_when_the_unwind_order_fills() -> None:
    h = Harness()
    first, second = _pair(h, "unwind")
    h.fill(first, "10")
    h.report(second, K.REJECTED, cum="0", leaves="0")
    unwind = h.oms.order(h.sent[-1].client_order_id)
    assert unwind is not None

    h.fill(unwind, "10", "99.90")

    position = h.oms.position("S1", "AAA.SIM")
    assert _states(h)[-1] == UNWOUND
    assert position is not None and position.is_flat


def test_pair_unwind_cancels_the_working_leg_when_the_other_fails() -> None:
    h = Harness()
    first, second = _pair(h, "unwind")
    h.report(first, K.ACCEPTED)

    h.report(second, K.REJECTED, cum="0", leaves="0")

    assert first.status is S.PENDING_CANCEL


def test_pair_partial_leg_is_unwound_to_the_hedge_ratio() -> None:
    h = Harness()
    first, second = _pair(h, "unwind")
    h.fill(first, "10")
    h.fill(second, "10", "50.00")

    h.report(second, K.CANCELED, leaves="0")

    unwind = h.sent[-1]
    assert _last(h).residual_first_raw == 5 * 10**9
    assert unwind.quantity == Quantity.parse("5")
    assert unwind.instrument_id == "AAA.SIM"


def test_pair_complete_resends_the_missing_quantity_of_the_lagging_leg() -> None:
    h = Harness()
    first, second = _pair(h, "complete")
    h.fill(first, "10")
    h.fill(second, "5", "50.00")

    h.report(second, K.CANCELED, leaves="0")

    completion = h.sent[-1]
    assert _states(h)[-1] == COMPLETING
    assert completion.instrument_id == "BBB.SIM"
    assert (completion.side, completion.quantity) == (OrderSide.SELL, Quantity.parse("15"))


def test_pair_complete_ends_complete_when_the_completion_fills() -> None:
    h = Harness()
    first, second = _pair(h, "complete")
    h.fill(first, "10")
    h.report(second, K.REJECTED, cum="0", leaves="0")
    completion = h.oms.order(h.sent[-1].client_order_id)
    assert completion is not None

    h.fill(completion, "20", "49.98")

    assert _states(h)[-1] == COMPLETE
    assert _last(h).residual_second_raw == 0


def test_pair_complete_falls_back_to_unwind_after_max_attempts() -> None:
    h = Harness()
    first, second = _pair(h, "complete", max_attempts=1)
    h.fill(first, "10")
    h.report(second, K.REJECTED, cum="0", leaves="0")
    completion = h.oms.order(h.sent[-1].client_order_id)
    assert completion is not None

    h.report(completion, K.CANCELED, cum="0", leaves="0", reason="NO_LIQUIDITY")

    assert _states(h)[-2:] == [COMPLETING, UNWINDING]
    assert h.sent[-1].instrument_id == "AAA.SIM"


def test_pair_complete_after_the_deadline_unwinds_instead() -> None:
    h = Harness()
    first, second = _pair(h, "complete")
    h.fill(first, "10")
    h.report(second, K.ACCEPTED)
    h.clock.advance(SECOND)

    h.oms.on_timer()
    h.report(second, K.CANCELED, leaves="0")

    assert _states(h)[-1] == UNWINDING


def test_pair_both_legs_rejected_is_failed_without_residual() -> None:
    h = Harness()
    first, second = _pair(h)

    h.report(first, K.REJECTED, cum="0", leaves="0")
    h.report(second, K.REJECTED, cum="0", leaves="0")

    assert _states(h)[-1] == FAILED
    assert (_last(h).residual_first_raw, _last(h).residual_second_raw) == (0, 0)
    assert h.oms.pair("P1") is not None


def test_pair_synchronous_venue_answer_during_unwind_is_evaluated_once() -> None:
    h = Harness()
    first, second = _pair(h, "unwind")
    h.fill(first, "10")

    def answer(command: object) -> None:
        h.sent.append(command)
        if isinstance(command, SubmitOrder) and command.client_order_id.startswith("P1-u"):
            unwind = h.oms.order(command.client_order_id)
            assert unwind is not None
            h.fill(unwind, "10", "99.90")

    h.oms._send = answer
    h.report(second, K.REJECTED, cum="0", leaves="0")

    unwinds = [c for c in h.sent if getattr(c, "client_order_id", "").startswith("P1-u")]
    assert len(unwinds) == 1
    assert _states(h)[-1] == UNWOUND
