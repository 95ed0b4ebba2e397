"""Restart from the log: feed every stored message, in order, to a caller's sink."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from spreadwire.eventstore.recorder import Recorder
from spreadwire.eventstore.records import Entry


class ReplayResult(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    last_position: int


def replay_entries(
    recorder: Recorder,
    sink: Callable[[Entry], None],
    *,
    after: int = 0,
    until: int | None = None,
    page: int = 10_000,
) -> ReplayResult:
    """Call ``sink(entry)`` for every entry above ``after`` (up to ``until``, default the
    head when called), in position order."""
    stop = recorder.last_position() if until is None else until
    count = 0
    position = after
    while position < stop:
        progressed = False
        for entry in recorder.read(position, min(page, stop - position)):
            sink(entry)
            position = entry.position
            count += 1
            progressed = True
        if not progressed:
            break
    return ReplayResult(count=count, last_position=position)


def replay(
    recorder: Recorder,
    sink: Callable[[Any], None],
    *,
    after: int = 0,
    until: int | None = None,
) -> ReplayResult:
    """Call ``sink(message)`` with every stored domain message above ``after``, in order
    (how the node rebuilds OMS, positions, limits and trading state on restart)."""
    return replay_entries(recorder, lambda entry: sink(entry.message), after=after, until=until)
