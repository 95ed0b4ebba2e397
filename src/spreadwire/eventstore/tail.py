"""Torn-tail detection: where the verified prefix of the log ends.

A torn tail is a trailing run of entries that fail their checksum or are missing (a
write cut short by a crash or a lost sector): nothing sound comes after its first bad
position, so cutting the log there loses nothing that was whole. An entry that fails
its checks while later entries are sound is not a torn tail but damage inside the log:
opening a store reports it and leaves it as it is (``events verify`` lists it), because
truncating there would delete the sound entries after it.

Opening a store checks the newest entries with :func:`check_tail`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from spreadwire.eventstore.checksum import entry_checksum
from spreadwire.eventstore.records import Record, RecoveryReport

_log = logging.getLogger("spreadwire.eventstore.tail")


def record_is_sound(record: Record) -> bool:
    return record.checksum == entry_checksum(
        record.position,
        record.stream,
        record.version,
        type_name=record.type,
        schema=record.schema,
        ts=record.ts,
        payload=record.payload,
    )


def check_tail(
    records: Iterable[Record], after: int, head: int | None = None
) -> tuple[int, bool] | None:
    """Check the entries above ``after`` (``records`` in position order, starting right
    after it; those above ``head``, when given, are not looked at: they were committed
    after the head was read). None when every position up to the last entry (or up to
    ``head``) is present and sound. Otherwise ``(first bad position, torn)``: ``torn``
    when no entry after that position is sound, i.e. the log may be cut there."""
    expected = after + 1
    first_bad = 0
    sound_after = False
    for record in records:
        position = record.position
        if head is not None and position > head:
            break
        intact = record_is_sound(record)
        if first_bad:
            sound_after = sound_after or intact
        elif position != expected:
            first_bad = min(expected, position)
            sound_after = intact and position > first_bad
        elif not intact:
            first_bad = position
        expected = position + 1
    if not first_bad and head is not None and expected <= head:
        first_bad = expected  # the head is ahead of the last entry: entries are missing
    if not first_bad:
        return None
    return first_bad, not sound_after


def first_bad_position(records: Iterable[Record], after: int) -> int | None:
    """The position of the first entry above ``after`` that is corrupt or out of sequence,
    None when every entry checks. ``records`` must start right after ``after``."""
    found = check_tail(records, after)
    return None if found is None else found[0]


def torn(checked: int, position: int, head: int) -> RecoveryReport:
    """The report of a torn tail found and left as it is (opened with ``repair=False``)."""
    return RecoveryReport(
        checked=checked, torn_at=position, head=head, detail=f"torn tail from position {position}"
    )


def truncated(checked: int, position: int, removed: int, store: str) -> RecoveryReport:
    """The report of a torn tail cut from ``position`` on (``removed`` entries), logged
    as a warning."""
    _log.warning("%s: torn tail from position %d: %d entries removed", store, position, removed)
    return RecoveryReport(
        checked=checked,
        torn_at=position,
        truncated=removed,
        head=position - 1,
        detail=f"torn tail from position {position} truncated",
    )


def damaged(checked: int, position: int, head: int, store: str) -> RecoveryReport:
    """The report of damage inside the log (not a torn tail), logged as a warning:
    nothing is removed."""
    detail = (
        f"the entry at position {position} fails its checks but later entries are sound:"
        " damage inside the log, not a torn tail; nothing was removed"
        " (spreadwire events verify lists every problem)"
    )
    _log.warning("%s: %s", store, detail)
    return RecoveryReport(checked=checked, damaged_at=position, head=head, detail=detail)


def verdict(
    found: tuple[int, bool] | None, checked: int, head: int, store: str, *, repair: bool
) -> RecoveryReport | int:
    """What opening does with ``check_tail``'s finding: the report when nothing is to be
    cut (a sound tail, damage inside the log, or a torn tail left as it is without
    ``repair``), else the first position of the torn tail to cut."""
    if found is None:
        return RecoveryReport(checked=checked, head=head)
    position, is_torn = found
    if not is_torn:
        return damaged(checked, position, head, store)
    if not repair:
        return torn(checked, position, head)
    return position
