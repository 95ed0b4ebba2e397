"""The pre-trade gate: one test per check, each with its distinct reason code."""

from __future__ import annotations

from spreadwire.domain.commands import CancelOrder, ModifyOrder
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
from spreadwire.domain.events import OrderModifyRejected
from spreadwire.domain.values import Price, Quantity
from spreadwire.risk.config import InstrumentLimits, RateLimit, RiskConfig
from spreadwire.risk.reasons import DenyReason
from tests.unit.risk.support import SECOND, Harness

BUY = OrderSide.BUY
SELL = OrderSide.SELL


def test_gate_valid_limit_order_is_forwarded() -> None:
    h = Harness()

    assert h.submit()

    assert len(h.forwarded) == 1
    assert h.denials() == []


def test_gate_unknown_instrument_is_denied() -> None:
    h = Harness()

    assert not h.submit(instrument_id="ZZZ.SIM")

    assert h.last_denial() == DenyReason.INSTRUMENT_NOT_TRADABLE
    assert h.forwarded == []


def test_gate_price_off_tick_is_denied_for_precision() -> None:
    h = Harness()

    h.submit(price="100.005")

    assert h.last_denial() == DenyReason.PRICE_PRECISION


def test_gate_quantity_off_lot_is_denied_for_precision() -> None:
    h = Harness()

    h.submit(quantity="1.5")

    assert h.last_denial() == DenyReason.QUANTITY_PRECISION


def test_gate_limit_without_price_is_denied_as_invalid() -> None:
    h = Harness()

    h.submit(price=None, order_type=OrderType.LIMIT)

    assert h.last_denial() == DenyReason.INVALID_ORDER


def test_gate_gtd_without_expiry_is_denied_as_invalid() -> None:
    h = Harness()

    h.submit(time_in_force=TimeInForce.GTD)

    assert h.last_denial() == DenyReason.INVALID_ORDER


def test_gate_quantity_above_max_is_denied() -> None:
    h = Harness(RiskConfig(max_order_quantity="100"))

    h.submit(quantity="101")

    assert h.last_denial() == DenyReason.QUANTITY_ABOVE_MAX


def test_gate_quantity_below_min_is_denied() -> None:
    h = Harness(RiskConfig(min_order_quantity="5", check_min_notional=False))

    h.submit(quantity="4")

    assert h.last_denial() == DenyReason.QUANTITY_BELOW_MIN


def test_gate_instrument_override_limits_quantity() -> None:
    config = RiskConfig(instrument_limits={"AAA.SIM": InstrumentLimits(max_order_quantity="5")})
    h = Harness(config)

    h.submit(quantity="6")
    ok = h.submit(quantity="6", instrument_id="BBB.SIM", price="50.00")

    assert h.last_denial() == DenyReason.QUANTITY_ABOVE_MAX
    assert ok


def test_gate_notional_above_max_is_denied() -> None:
    h = Harness(RiskConfig(max_order_notional="999"))

    h.submit(quantity="10", price="100.00")

    assert h.last_denial() == DenyReason.NOTIONAL_ABOVE_MAX


def test_gate_notional_below_instrument_minimum_is_denied() -> None:
    h = Harness()

    h.submit(quantity="1", price="9.99", instrument_id="BBB.SIM")

    assert DenyReason.NOTIONAL_BELOW_MIN in h.denials()


def test_gate_market_order_without_reference_is_denied() -> None:
    h = Harness(quote=False)

    h.submit(price=None)

    assert h.last_denial() == DenyReason.NO_REFERENCE_PRICE


def test_gate_stale_reference_price_is_denied() -> None:
    h = Harness(RiskConfig(reference_max_age_ns=SECOND))
    h.clock.advance(2 * SECOND)

    h.submit()

    assert h.last_denial() == DenyReason.STALE_REFERENCE_PRICE


def test_gate_price_outside_collar_is_denied() -> None:
    h = Harness(RiskConfig(collar_bps=100))

    h.submit(price="101.10")
    ok = h.submit(price="100.90")

    assert h.last_denial() == DenyReason.PRICE_COLLAR
    assert ok


def test_gate_instrument_override_collar_is_the_instruments_collar() -> None:
    """An instrument's own ``collar_bps`` (an int, where the amounts are text) is its
    collar; the compiled gate raised a TypeError building the instrument's limits."""
    h = Harness(
        RiskConfig(collar_bps=500, instrument_limits={"AAA.SIM": InstrumentLimits(collar_bps=100)})
    )

    h.submit(price="101.10")
    ok = h.submit(price="100.90")

    assert h.last_denial() == DenyReason.PRICE_COLLAR
    assert ok


def test_gate_stop_trigger_outside_stop_collar_is_denied() -> None:
    h = Harness(RiskConfig(stop_collar_bps=500))

    h.submit(price=None, order_type=OrderType.STOP_MARKET, trigger_price="110.00")

    assert h.last_denial() == DenyReason.PRICE_COLLAR


def test_gate_reduce_only_order_that_increases_is_denied() -> None:
    h = Harness()

    h.submit(reduce_only=True)

    assert h.last_denial() == DenyReason.REDUCE_ONLY


def test_gate_reduce_only_order_that_reduces_is_forwarded() -> None:
    h = Harness()
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy)

    ok = h.submit(SELL, quantity="10", reduce_only=True)

    assert ok


def test_gate_insufficient_margin_is_denied() -> None:
    h = Harness(RiskConfig(starting_balance="500", check_min_notional=False))

    h.submit(quantity="10", price="100.00")

    assert h.last_denial() == DenyReason.INSUFFICIENT_MARGIN


def test_gate_open_order_count_over_max_is_denied() -> None:
    h = Harness(RiskConfig(max_open_orders=2))
    h.submit()
    h.submit()

    h.submit()

    assert h.last_denial() == DenyReason.MAX_OPEN_ORDERS


def test_gate_strategy_open_order_count_over_max_is_denied() -> None:
    h = Harness(RiskConfig(strategy_max_open_orders=1))
    h.submit()

    h.submit()
    other = h.submit(strategy_id="S2")

    assert h.last_denial() == DenyReason.STRATEGY_MAX_OPEN_ORDERS
    assert other


def test_gate_strategy_order_rate_exceeded_is_denied_until_refill() -> None:
    h = Harness(RiskConfig(strategy_order_rate=RateLimit(limit=2, interval_ns=SECOND)))
    h.submit()
    h.submit()

    h.submit()
    h.clock.advance(SECOND // 2)
    h.quote("AAA.SIM", "100.00", "100.02")
    refilled = h.submit()

    assert h.denials() == [DenyReason.STRATEGY_ORDER_RATE]
    assert refilled


def test_gate_global_order_rate_exceeded_is_denied() -> None:
    h = Harness(RiskConfig(order_rate=RateLimit(limit=2, interval_ns=SECOND)))
    h.submit(strategy_id="S1")
    h.submit(strategy_id="S2")

    h.submit(strategy_id="S3")

    assert h.last_denial() == DenyReason.ORDER_RATE


def test_gate_denied_order_does_not_use_a_token() -> None:
    h = Harness(RiskConfig(strategy_order_rate=RateLimit(limit=1, interval_ns=SECOND)))
    h.submit(price="500.00")

    ok = h.submit()

    assert ok


def test_gate_cancel_rate_exceeded_blocks_new_orders_not_cancels() -> None:
    config = RiskConfig(strategy_cancel_rate=RateLimit(limit=1, interval_ns=SECOND))
    h = Harness(config)
    first = h.order()
    h.engine.execute(first)
    cancel = CancelOrder(
        strategy_id="S1", instrument_id="AAA.SIM", client_order_id=first.client_order_id, ts_init=0
    )
    h.engine.execute(cancel)

    second_cancel_passed = h.engine.execute(cancel)
    h.submit()

    assert second_cancel_passed
    assert h.last_denial() == DenyReason.CANCEL_RATE


def test_gate_duplicate_client_order_id_is_denied() -> None:
    h = Harness()
    h.submit(client_order_id="X")

    h.submit(client_order_id="X")

    assert h.last_denial() == DenyReason.DUPLICATE_CLIENT_ORDER_ID


def test_gate_buy_crossing_own_resting_sell_is_denied_as_self_trade() -> None:
    h = Harness()
    h.submit(SELL, price="100.01", strategy_id="S2")

    h.submit(BUY, price="100.01")
    passive = h.submit(BUY, price="100.00")

    assert h.last_denial() == DenyReason.SELF_TRADE
    assert passive


def test_gate_self_trade_clears_when_the_resting_order_is_filled() -> None:
    h = Harness()
    sell = h.order(SELL, price="100.01")
    h.engine.execute(sell)
    h.fill(sell)

    ok = h.submit(BUY, price="100.01")

    assert ok


def test_gate_projected_position_over_limit_is_denied() -> None:
    h = Harness(RiskConfig(max_position="15"))
    h.submit(quantity="10")

    h.submit(quantity="10")

    assert h.last_denial() == DenyReason.POSITION_LIMIT


def test_gate_position_limit_lets_a_reducing_order_through() -> None:
    h = Harness(RiskConfig(max_position="10"))
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy)

    ok = h.submit(SELL, quantity="10")

    assert ok


def test_gate_strategy_notional_budget_is_enforced() -> None:
    h = Harness(RiskConfig(strategy_notional_budget="1500"))
    h.submit(quantity="10")

    h.submit(quantity="10")

    assert h.last_denial() == DenyReason.STRATEGY_NOTIONAL_BUDGET


def test_gate_gross_exposure_cap_applies_across_strategies() -> None:
    h = Harness(RiskConfig(max_gross_exposure="1500"))
    h.submit(quantity="10", strategy_id="S1")

    h.submit(quantity="10", strategy_id="S2")

    assert h.last_denial() == DenyReason.GROSS_EXPOSURE


def test_gate_net_exposure_cap_is_enforced() -> None:
    h = Harness(RiskConfig(max_net_exposure="1500"))
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy)

    h.submit(quantity="10", instrument_id="BBB.SIM", price="50.00", strategy_id="S2")
    h.submit(quantity="10", instrument_id="BBB.SIM", price="50.00", strategy_id="S2")

    assert h.last_denial() == DenyReason.NET_EXPOSURE


def test_gate_daily_loss_breach_denies_increasing_orders() -> None:
    h = Harness(RiskConfig(daily_loss_limit="50", max_drawdown="0"))
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy, price="100.00")
    h.quote("AAA.SIM", "94.00", "94.02")
    h.engine.reset("ops", "test")

    h.submit(quantity="1", price="94.00")
    reducing = h.submit(SELL, quantity="10", price="94.00")

    assert DenyReason.DAILY_LOSS_LIMIT in h.denials() or DenyReason.REDUCE_ONLY in h.denials()
    assert reducing


def test_gate_drawdown_breach_is_denied_with_its_code() -> None:
    config = RiskConfig(daily_loss_limit="0", max_drawdown="50")
    h = Harness(config)
    buy = h.order(quantity="10")
    h.engine.execute(buy)
    h.fill(buy, price="100.00")
    h.quote("AAA.SIM", "110.00", "110.02")
    h.quote("AAA.SIM", "103.00", "103.02")
    h.engine.reset("ops", "test")

    h.submit(quantity="1", price="103.00")

    assert h.last_denial() == DenyReason.MAX_DRAWDOWN


def test_gate_cancel_always_passes_even_when_halted() -> None:
    h = Harness()
    h.engine.trip(h.engine.trading_state.HALTED, "MANUAL")
    cancel = CancelOrder(strategy_id="S1", instrument_id="AAA.SIM", client_order_id="X", ts_init=0)

    ok = h.engine.execute(cancel)

    assert ok
    assert h.forwarded == [cancel]


def test_gate_modify_within_limits_is_forwarded() -> None:
    h = Harness()
    order = h.order(quantity="10")
    h.engine.execute(order)
    modify = ModifyOrder(
        strategy_id="S1",
        instrument_id="AAA.SIM",
        client_order_id=order.client_order_id,
        quantity=Quantity.parse("12"),
        ts_init=0,
    )

    ok = h.engine.execute(modify)

    assert ok
    assert h.forwarded[-1] is modify


def test_gate_modify_over_max_quantity_is_rejected_not_denied() -> None:
    h = Harness(RiskConfig(max_order_quantity="20"))
    order = h.order(quantity="10")
    h.engine.execute(order)
    modify = ModifyOrder(
        strategy_id="S1",
        instrument_id="AAA.SIM",
        client_order_id=order.client_order_id,
        quantity=Quantity.parse("25"),
        price=Price.parse("100.00"),
        ts_init=0,
    )

    ok = h.engine.execute(modify)

    rejected = [e for e in h.published if isinstance(e, OrderModifyRejected)]
    assert not ok
    assert rejected[-1].reason == DenyReason.QUANTITY_ABOVE_MAX


def test_gate_checks_run_in_the_documented_order() -> None:
    h = Harness(RiskConfig(max_order_quantity="5", collar_bps=10))

    h.submit(quantity="6", price="150.005")

    assert h.last_denial() == DenyReason.PRICE_PRECISION
