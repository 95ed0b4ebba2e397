"""Deterministic identifier generators.

Identifiers come from counters, not randomness, so that a seeded simulation produces
the same ids every run.
"""

from __future__ import annotations

from typing import final


@final
class IdGenerator:
    """Produces ``<prefix>-<n>`` with ``n`` counting from 1."""

    __slots__ = ("_count", "_prefix")

    def __init__(self, prefix: str) -> None:
        if not prefix or prefix.endswith("-"):
            raise ValueError(f"prefix: must be a non-empty name, got {prefix!r}")
        self._prefix = prefix
        self._count = 0

    def next(self) -> str:
        self._count += 1
        return f"{self._prefix}-{self._count}"

    @property
    def issued(self) -> int:
        return self._count

    def advance_past(self, identifier: str) -> None:
        """Make sure ``next()`` never re-issues ``identifier`` (used on restart)."""
        head, _, tail = identifier.rpartition("-")
        if head == self._prefix and tail.isascii() and tail.isdigit():
            self._count = max(self._count, int(tail))
