"""Torn-tail detection: where the verified prefix of the log ends.

A torn tail is a trailing run of entries that fail their checksum or break the
position sequence (a write cut short by a crash or a lost sector). Opening a store checks
the newest entries with :func:`first_bad_position` and truncates from the result.
"""

from __future__ import annotations

from collections.abc import Iterable

from spreadwire.eventstore.checksum import entry_checksum
from spreadwire.eventstore.records import Record


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


def first_bad_position(records: Iterable[Record], after: int) -> int | None:
    """The position of the first entry above ``after`` that is corrupt or out of sequence,
    None when every entry checks. ``records`` must start right after ``after``."""
    expected = after + 1
    for record in records:
        if record.position != expected or not record_is_sound(record):
            return expected if record.position > expected else record.position
        expected += 1
    return None
