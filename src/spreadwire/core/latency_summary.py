"""The summary of a latency histogram, a message of its own.

It lives outside :mod:`spreadwire.core.histogram` because that module is compiled with
mypyc (see ``setup.py``), and mypyc builds a class that derives from ``msgspec.Struct``
without its class keywords (``frozen``, ``kw_only``).
"""

from __future__ import annotations

import msgspec


class LatencySummary(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    p50: int
    p99: int
    p999: int
    max: int
    mean: float
