"""Venue-side checks of incoming orders and modifications (cheapest first)."""

from __future__ import annotations

from spreadwire.domain.commands import ModifyOrder, SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType, TimeInForce
from spreadwire.domain.values import Price, Quantity
from spreadwire.venue.book import NO_LIMIT, BookOrder
from spreadwire.venue.listing import Listing
from spreadwire.venue.reasons import VenueReason

_R = VenueReason


def check_quantity(quantity: Quantity, listing: Listing) -> VenueReason | None:
    if quantity.raw <= 0:
        return _R.INVALID_QUANTITY
    if quantity.raw % listing.lot:
        return _R.INVALID_LOT
    return None


def check_price(price: Price | None, listing: Listing) -> VenueReason | None:
    if price is None:
        return _R.MISSING_PRICE
    if price.raw <= 0:
        return _R.INVALID_PRICE
    if price.raw % listing.tick:
        return _R.INVALID_TICK
    return None


def check_submit(cmd: SubmitOrder, listing: Listing) -> VenueReason | None:
    """Static checks, then the side-effect-free liquidity checks (post-only, FOK, market)."""
    if listing.halted:
        return _R.INSTRUMENT_HALTED
    if cmd.order_type not in (OrderType.LIMIT, OrderType.MARKET):
        return _R.UNSUPPORTED_ORDER_TYPE
    if cmd.time_in_force is TimeInForce.GTD and cmd.expire_time_ns is None:
        return _R.MISSING_EXPIRE_TIME
    reason = check_quantity(cmd.quantity, listing)
    if reason is None and cmd.order_type is OrderType.LIMIT:
        reason = check_price(cmd.price, listing)
    return reason or check_liquidity(cmd, listing)


def check_liquidity(cmd: SubmitOrder, listing: Listing) -> VenueReason | None:
    is_buy = cmd.side is OrderSide.BUY
    book = listing.book
    is_market = cmd.price is None or cmd.order_type is OrderType.MARKET
    limit = NO_LIMIT if is_market or cmd.price is None else cmd.price.raw
    if cmd.post_only and (limit == NO_LIMIT or book.would_cross(is_buy, limit)):
        return _R.POST_ONLY_WOULD_CROSS
    wanted = cmd.quantity.raw
    if cmd.time_in_force is TimeInForce.FOK and book.available(is_buy, limit, wanted) < wanted:
        return _R.FOK_UNFILLABLE
    if limit == NO_LIMIT and (book.best_ask() if is_buy else book.best_bid()) is None:
        return _R.NO_LIQUIDITY
    return None


def check_modify(cmd: ModifyOrder, order: BookOrder, listing: Listing) -> VenueReason | None:
    if not order.live:
        return _R.TOO_LATE
    if listing.halted:
        return _R.INSTRUMENT_HALTED
    if cmd.quantity is not None:
        reason = check_quantity(cmd.quantity, listing)
        if reason is not None:
            return reason
        if cmd.quantity.raw <= order.filled:
            return _R.QUANTITY_BELOW_FILLED
    if cmd.price is not None:
        reason = check_price(cmd.price, listing)
        if reason is not None:
            return reason
        if order.post_only and listing.book.would_cross(order.is_buy, cmd.price.raw):
            return _R.POST_ONLY_WOULD_CROSS
    return None
