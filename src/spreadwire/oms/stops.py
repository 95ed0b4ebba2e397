"""Stop and stop-limit orders held in the OMS until their trigger price trades through,
and the expiry time of DAY and GTD orders.

A buy stop triggers when the ask rises to the trigger price, a sell stop when the bid
falls to it. The OMS then publishes ``OrderTriggered`` and sends the order to the venue
as a market (stop-market) or limit (stop-limit) order under the same client order id.
"""

from __future__ import annotations

from typing import Final, final

from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
from spreadwire.domain.market import QuoteTick
from spreadwire.domain.order import Order
from spreadwire.oms.config import DAY_NS

# read once per new order, without a class lookup
_GTD: Final = TimeInForce.GTD
_DAY: Final = TimeInForce.DAY


def released_order(order: Order, now: int) -> SubmitOrder:
    """The order a triggered stop sends: MARKET for a stop, LIMIT for a stop-limit, for
    the quantity still open, under the same client order id."""
    stop_limit = order.order_type is OrderType.STOP_LIMIT
    return SubmitOrder(
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        side=order.side,
        order_type=OrderType.LIMIT if stop_limit else OrderType.MARKET,
        quantity=order.leaves_qty,
        price=order.price if stop_limit else None,
        time_in_force=order.time_in_force,
        expire_time_ns=order.expire_time_ns,
        reduce_only=order.reduce_only,
        pair_id=order.pair_id,
        ts_init=now,
    )


def expiry_deadline(order: Order, session_close_ns: int) -> int | None:
    """When the order expires: GTD at ``expire_time_ns``, DAY at the first session close
    (``session_close_ns`` after a UTC midnight) after it was created, else never."""
    time_in_force = order.time_in_force
    if time_in_force is _GTD:
        return order.expire_time_ns
    if time_in_force is _DAY:
        created = order.ts_init
        close = (created // DAY_NS) * DAY_NS + session_close_ns
        return close if close > created else close + DAY_NS
    return None


@final
class StopBook:
    __slots__ = ("_by_instrument", "_count")

    def __init__(self) -> None:
        self._by_instrument: dict[str, dict[str, Order]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, order: Order) -> None:
        if order.trigger_price is None:
            raise ValueError(f"trigger_price: stop order {order.client_order_id} has none")
        held = self._by_instrument.setdefault(order.instrument_id, {})
        if order.client_order_id not in held:
            held[order.client_order_id] = order
            self._count += 1

    def holds(self, order: Order) -> bool:
        held = self._by_instrument.get(order.instrument_id)
        return held is not None and order.client_order_id in held

    def remove(self, order: Order) -> None:
        held = self._by_instrument.get(order.instrument_id)
        if held is not None and held.pop(order.client_order_id, None) is not None:
            self._count -= 1

    def triggered(self, quote: QuoteTick) -> list[Order]:
        """Held orders of the quote's instrument whose trigger price was reached."""
        held = self._by_instrument.get(quote.instrument_id)
        if not held:
            return []
        bid = quote.bid_price.raw
        ask = quote.ask_price.raw
        out = []
        for order in held.values():
            trigger = order.trigger_price
            assert trigger is not None
            if order.side is OrderSide.BUY:
                if ask > 0 and ask >= trigger.raw:
                    out.append(order)
            elif bid > 0 and bid <= trigger.raw:
                out.append(order)
        return out
