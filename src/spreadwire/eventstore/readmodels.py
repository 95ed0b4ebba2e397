"""The standard read models: orders, fills, positions, PnL, risk state and audit log.

Documents hold display strings (``"101.25"``) beside the exact raw integers and
fractions they are computed from, so a rebuild reproduces them bit for bit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, final

import msgspec

from spreadwire.domain.commands import SubmitOrder, SubmitPairOrder
from spreadwire.domain.enums import OrderSide, OrderStatus, TradingState
from spreadwire.domain.events import (
    OrderDenied,
    OrderEvent,
    OrderFill,
    OrderInitialized,
    OrderModifyRejected,
    OrderTriggered,
    OrderUpdated,
)
from spreadwire.domain.order import PREVIOUS, TRANSITIONS
from spreadwire.domain.position import Position
from spreadwire.domain.reasons import (
    KILL_SWITCH_ENGAGED_BY,
    KILL_SWITCH_RELEASED_BY,
    denied_by_gate,
)
from spreadwire.domain.values import FIXED_SCALAR, Money, Quantity, decimal_text
from spreadwire.eventstore.projection import Doc, Projection, ReadModelView
from spreadwire.eventstore.records import Entry

CURRENCY = "USD"
MONEY_PRECISION = 2


def _fraction(text: str) -> Fraction:
    return Fraction(text)


def _money(amount: Fraction) -> str:
    return Money.from_fraction(amount, MONEY_PRECISION, CURRENCY).amount()


def _decimals(text: str | None) -> int:
    """How many decimals a quantity was written with (``"3.50"``: 2)."""
    return 0 if text is None else len(text.partition(".")[2])


def _order_doc(
    order: OrderInitialized | SubmitOrder, entry: Entry, status: str | None, ts_last: int
) -> Doc:
    """An order's document as opened at ``entry`` (what was asked, nothing filled)."""
    return {
        "client_order_id": order.client_order_id,
        "strategy_id": order.strategy_id,
        "instrument_id": order.instrument_id,
        "side": str(order.side),
        "order_type": str(order.order_type),
        "quantity": str(order.quantity),
        "price": None if order.price is None else str(order.price),
        "trigger_price": None if order.trigger_price is None else str(order.trigger_price),
        "time_in_force": str(order.time_in_force),
        "status": status,
        "previous": status,
        "filled_qty_raw": 0,
        "notional": "0",
        "avg_px": None,
        "venue_order_id": None,
        "reason": None,
        "anomalies": 0,
        "opened_position": entry.position,
        "last_position": entry.position,
        "ts_last": ts_last,
    }


_UNTRIGGERED = (OrderStatus.ACCEPTED, OrderStatus.SUBMITTED)
_RESTING = (*_UNTRIGGERED, OrderStatus.TRIGGERED)


@final
class OrdersProjection:
    """``orders``: one document per client order id, its status from the order FSM."""

    name = "orders"
    tables = ("orders",)

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        message = entry.message
        if isinstance(message, OrderInitialized):
            view.put("orders", message.client_order_id, self._opened(message, entry))
            return
        if isinstance(message, SubmitOrder | SubmitPairOrder):
            # the order as asked: a denial by the risk gate comes without an
            # OrderInitialized, and its document still needs side, type and quantity
            legs = (
                (message,) if isinstance(message, SubmitOrder) else (message.first, message.second)
            )
            for leg in legs:
                if view.get("orders", leg.client_order_id) is None:
                    view.put("orders", leg.client_order_id, self._asked(leg, entry))
            return
        if not isinstance(message, OrderEvent):
            return
        doc = view.get("orders", message.client_order_id)
        if type(message) is OrderModifyRejected and denied_by_gate(
            message.reason,
            modify_in_flight=doc is not None
            and doc.get("status") == OrderStatus.PENDING_UPDATE.value,
        ):
            return  # a modify the risk gate denied never reached the order (as OmsRestorer)
        if doc is None:
            doc = {"client_order_id": message.client_order_id, "status": None, "anomalies": 0}
        self._move(doc, message)
        self._fields(doc, message)
        doc["last_position"] = entry.position
        doc["ts_last"] = message.ts_event
        view.put("orders", message.client_order_id, doc)

    @staticmethod
    def _opened(message: OrderInitialized, entry: Entry) -> Doc:
        return _order_doc(message, entry, str(OrderStatus.INITIALIZED), message.ts_event)

    @staticmethod
    def _asked(command: SubmitOrder, entry: Entry) -> Doc:
        """A submitted order not yet past the risk gate (``status`` None until its
        ``OrderInitialized`` replaces this document or its ``OrderDenied`` denies it)."""
        return _order_doc(command, entry, None, command.ts_init)

    @staticmethod
    def _move(doc: Doc, message: OrderEvent) -> None:
        status: str | None = doc.get("status")
        if status is None and type(message) is OrderDenied and "side" in doc:
            doc["status"] = str(OrderStatus.DENIED)  # denied by the gate, never initialized
            doc["reason"] = message.reason
            return
        key = None if status is None else (OrderStatus(status), type(message))
        if status is None or key is None or key not in TRANSITIONS:
            doc["anomalies"] = doc.get("anomalies", 0) + 1
            return
        target = TRANSITIONS[key]
        # what a pending request goes back to moves on with a trigger or a fill that
        # overtook it (as Order._apply_fields)
        previous = doc.get("previous")
        if isinstance(message, OrderFill) and previous in _RESTING:
            doc["previous"] = str(OrderStatus.PARTIALLY_FILLED)
        elif type(message) is OrderTriggered and previous in _UNTRIGGERED:
            doc["previous"] = str(OrderStatus.TRIGGERED)
        if target is PREVIOUS:
            target = OrderStatus(doc.get("previous") or status)
        elif target in (OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL) and status not in (
            OrderStatus.PENDING_UPDATE,
            OrderStatus.PENDING_CANCEL,
        ):
            doc["previous"] = status
        doc["status"] = str(target)

    @staticmethod
    def _fields(doc: Doc, message: OrderEvent) -> None:
        venue_order_id = getattr(message, "venue_order_id", None)
        if venue_order_id:
            doc["venue_order_id"] = venue_order_id
        reason = getattr(message, "reason", None)
        if reason:
            doc["reason"] = reason
        if isinstance(message, OrderUpdated):
            # a modify names only what changes (as Order._apply_fields)
            doc["quantity"] = str(message.quantity)
            if message.price is not None:
                doc["price"] = str(message.price)
            if message.trigger_price is not None:
                doc["trigger_price"] = str(message.trigger_price)
        if isinstance(message, OrderFill):
            filled = doc.get("filled_qty_raw", 0) + message.last_qty.raw
            notional = _fraction(doc.get("notional", "0")) + Fraction(
                message.last_px.raw * message.last_qty.raw, FIXED_SCALAR * FIXED_SCALAR
            )
            # the finest precision any fill came at: a coarser one cannot hold the sum
            precision = max(message.last_qty.precision, _decimals(doc.get("filled_qty")))
            doc["filled_qty_raw"] = filled
            doc["filled_qty"] = str(Quantity(raw=filled, precision=precision))
            doc["notional"] = str(notional)
            doc["avg_px"] = (
                decimal_text(notional / Fraction(filled, FIXED_SCALAR)) if filled else None
            )


@final
class FillsProjection:
    """``fills``: one document per fill, keyed ``<client_order_id>:<trade_id>``."""

    name = "fills"
    tables = ("fills",)

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        message = entry.message
        if not isinstance(message, OrderFill):
            return
        key = f"{message.client_order_id}:{message.trade_id}"
        if view.get("fills", key) is not None:
            return  # a duplicate fill report: counted once
        view.put(
            "fills",
            key,
            {
                "client_order_id": message.client_order_id,
                "trade_id": message.trade_id,
                "strategy_id": message.strategy_id,
                "instrument_id": message.instrument_id,
                "side": str(message.side),
                "last_qty": str(message.last_qty),
                "last_px": str(message.last_px),
                "liquidity_side": str(message.liquidity_side),
                "position": entry.position,
                "ts_event": message.ts_event,
            },
        )


def _position_from(doc: Doc | None, strategy_id: str, instrument_id: str, size: int) -> Position:
    position = Position(strategy_id, instrument_id, size_precision=size)
    if doc is not None:
        position.quantity_raw = doc["quantity_raw"]
        position.cost_basis = _fraction(doc["cost_basis"])
        position.realized = _fraction(doc["realized_exact"])
        position.buy_qty_raw = doc["buy_qty_raw"]
        position.sell_qty_raw = doc["sell_qty_raw"]
        position.fills = doc["fills"]
    return position


@final
class PositionsProjection:
    """``positions`` per strategy and instrument, and realized ``pnl`` per strategy and
    in total, from fills (a repeated trade id is applied once)."""

    name = "positions"
    tables = ("positions", "pnl", "position_trades")

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        fill = entry.message
        if not isinstance(fill, OrderFill):
            return
        trade_key = f"{fill.client_order_id}:{fill.trade_id}"
        if view.get("position_trades", trade_key) is not None:
            return
        view.put("position_trades", trade_key, {"position": entry.position})
        key = f"{fill.strategy_id}:{fill.instrument_id}"
        doc = view.get("positions", key)
        # the finest precision any fill came at: a coarser one cannot hold the sum
        size = max(fill.last_qty.precision, _decimals(None if doc is None else doc["quantity"]))
        position = _position_from(doc, fill.strategy_id, fill.instrument_id, size)
        realized = position.apply_fill(OrderSide(fill.side), fill.last_qty, fill.last_px)
        average = position.avg_open_price()
        view.put(
            "positions",
            key,
            {
                "strategy_id": fill.strategy_id,
                "instrument_id": fill.instrument_id,
                "side": position.side,
                "quantity": str(position.quantity),
                "quantity_raw": position.quantity_raw,
                "cost_basis": str(position.cost_basis),
                "avg_open_price": None if average is None else decimal_text(average),
                "realized_exact": str(position.realized),
                "realized_pnl": _money(position.realized),
                "buy_qty_raw": position.buy_qty_raw,
                "sell_qty_raw": position.sell_qty_raw,
                "fills": position.fills,
            },
        )
        for pnl_key in (fill.strategy_id, "*"):
            self._add_pnl(view, pnl_key, realized)

    @staticmethod
    def _add_pnl(view: ReadModelView, key: str, realized: Fraction) -> None:
        doc = view.get("pnl", key) or {"realized_exact": "0", "fills": 0}
        total = _fraction(doc["realized_exact"]) + realized
        view.put(
            "pnl",
            key,
            {
                "realized_exact": str(total),
                "realized_pnl": _money(total),
                "fills": doc["fills"] + 1,
            },
        )


@final
class RiskStateProjection:
    """``risk``: trading state per scope, kill switches, venue breakers, alert counts."""

    name = "risk"
    tables = ("risk",)

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        message = entry.message
        kind = type(message).__name__
        fields: dict[str, Any] = {"position": entry.position, "type": kind}
        if kind == "TradingStateChanged":
            key = f"trading:{message.scope}"
            fields |= self._trading(view.get("risk", key), message)
        elif kind in ("EngageKillSwitch", "ReleaseKillSwitch"):
            key = f"kill_switch:{message.scope}:{message.target or '*'}"
            fields |= {"engaged": kind == "EngageKillSwitch", "operator": message.operator}
        elif kind == "VenueStateChanged":
            key = f"venue:{message.venue}"
            fields |= {"state": message.state, "reason": message.reason}
        elif kind == "TradingAlert":
            key = f"alert:{message.source}:{message.code}"
            previous = view.get("risk", key)
            fields |= {"count": (previous or {}).get("count", 0) + 1, "last": message.message}
        else:
            return
        view.put("risk", key, fields)

    @staticmethod
    def _trading(previous: Doc | None, message: Any) -> Doc:
        """A scope's state as the risk engine sees it: the breaker's state and the scope's
        kill switch move it apart (a global kill switch and the breaker share the scope
        ``all``; releasing the switch does not lift a trip), and an engaged kill switch
        restricts an ACTIVE breaker to REDUCING (as ``NodeControl.trading_state``)."""
        previous = previous or {}
        breaker = previous.get("breaker", str(TradingState.ACTIVE))
        kill_switch = previous.get("kill_switch", False)
        reason: str = message.reason
        if reason.startswith(KILL_SWITCH_ENGAGED_BY):
            kill_switch = True
        elif reason.startswith(KILL_SWITCH_RELEASED_BY):
            kill_switch = False
        else:
            breaker = str(message.state)
        state = breaker
        if kill_switch and breaker == TradingState.ACTIVE:
            state = str(TradingState.REDUCING)
        return {"state": state, "breaker": breaker, "kill_switch": kill_switch, "reason": reason}


#: reasons of the ``TradingStateChanged`` a kill switch publishes (``RiskEngine``)


_AUDITED_EVENTS = frozenset(
    {
        "TradingStateChanged",
        "OrderDenied",
        "OrderRejected",
        "TradingAlert",
        "VenueStateChanged",
        "PairStateChanged",
    }
)


@final
class AuditLogProjection:
    """``audit``: every operator command and every state change or refusal, in order,
    keyed by zero-padded log position."""

    name = "audit"
    tables = ("audit",)

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        message = entry.message
        operator = getattr(message, "operator", None)
        if operator is None and entry.type not in _AUDITED_EVENTS:
            return
        view.put(
            "audit",
            f"{entry.position:015d}",
            {
                "position": entry.position,
                "ts": entry.ts,
                "stream": entry.stream,
                "type": entry.type,
                "operator": operator,
                "detail": msgspec.to_builtins(message),
            },
        )


def standard_projections() -> tuple[Projection, ...]:
    """Fresh instances of every standard read model."""
    return (
        OrdersProjection(),
        FillsProjection(),
        PositionsProjection(),
        RiskStateProjection(),
        AuditLogProjection(),
    )


__all__ = [
    "AuditLogProjection",
    "FillsProjection",
    "OrdersProjection",
    "PositionsProjection",
    "RiskStateProjection",
    "standard_projections",
]
