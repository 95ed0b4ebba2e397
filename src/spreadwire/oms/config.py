"""Configuration of the order manager."""

from __future__ import annotations

from typing import Annotated

import msgspec

PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
DAY_NS = 86_400_000_000_000


class OmsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """``ack_timeout_ns``: a submit, cancel or modify without any venue answer for this
    long is *in flight with an unknown outcome* and gets reconciled with the venue's order
    status. ``unknown_confirmations``: how many consecutive "the venue does not know this
    order" answers, ``ack_timeout_ns`` apart, make a submit count as never received
    (``OrderRejected(reason="UNKNOWN_AT_VENUE")``). ``emulate_stops``: hold stop and
    stop-limit orders here and release them as market/limit orders when the trigger price
    trades through (the simulated venue has no stop orders). DAY orders expire at the
    next ``session_close_ns`` boundary (ns after UTC midnight); GTD at ``expire_time_ns``.
    ``retain_closed``: how many closed orders (and final pair orders) stay in memory, the
    latest ones; older ones are purged (the event store keeps their history), and a late
    report for a purged order is alerted, not applied.
    """

    ack_timeout_ns: PositiveInt = 2_000_000_000
    unknown_confirmations: PositiveInt = 2
    emulate_stops: bool = True
    session_close_ns: Annotated[int, msgspec.Meta(ge=0, lt=DAY_NS)] = 0
    expire_locally: bool = True
    retain_closed: PositiveInt = 10_000
