"""Requests sent to the venue and not answered yet (unknown outcome after a timeout)."""

from __future__ import annotations

from typing import Final, final

from spreadwire.domain.enums import ReportKind
from spreadwire.domain.order import Order
from spreadwire.domain.reports import ExecutionReport

K: Final = ReportKind

#: the reason of a modify the OMS refuses itself (no venue answer, no request settled)
QUANTITY_BELOW_FILLED: Final = "QUANTITY_BELOW_FILLED"

#: which report kinds answer which request (besides a closed order and a STATUS)
ANSWERS: Final[dict[str, frozenset[ReportKind]]] = {
    "submit": frozenset(ReportKind),
    "cancel": frozenset({K.CANCELED, K.CANCEL_REJECTED, K.EXPIRED, K.REJECTED}),
    "modify": frozenset({K.MODIFIED, K.MODIFY_REJECTED, K.CANCELED, K.EXPIRED, K.REJECTED}),
}


@final
class InFlight:
    """One request in flight: ``submit``, ``cancel`` or ``modify``, due at ``due_ns``."""

    __slots__ = ("attempts", "due_ns", "request", "unknown")

    def __init__(self, request: str, due_ns: int) -> None:
        self.request = request
        self.due_ns = due_ns
        self.attempts = 0
        self.unknown = 0

    def answered_by(self, order: Order, report: ExecutionReport) -> bool:
        """Does ``report`` settle this request? Any report answers a submit; a cancel or
        modify needs its own answer (a fill alone does not), or a closed order; a STATUS
        answers unless the venue shows fills not seen yet."""
        if order.is_terminal:
            return True
        kind = report.kind
        if kind is K.STATUS:
            return report.cum_qty.raw <= order.filled_qty.raw
        return kind in ANSWERS[self.request]
