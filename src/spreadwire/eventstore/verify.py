"""Checking the log: positions, stream versions, checksums, payloads, the torn tail, and
each entry's link to its stream's previous entry where the backend stores one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import msgspec

from spreadwire.errors import StoreError
from spreadwire.eventstore.recorder import Linked, Recorder
from spreadwire.eventstore.records import Record
from spreadwire.eventstore.tail import record_is_sound

#: Stop listing problems after this many (the count is still exact).
MAX_LISTED = 50


class LogReport(msgspec.Struct, kw_only=True):
    entries: int = 0
    streams: int = 0
    head: int = 0
    problems: int = 0
    details: list[str] = msgspec.field(default_factory=list)

    @property
    def sound(self) -> bool:
        return self.problems == 0

    def problem(self, text: str) -> None:
        self.problems += 1
        if len(self.details) < MAX_LISTED:
            self.details.append(text)


#: Entries between two calls of ``verify_log``'s ``progress``.
PROGRESS_EVERY = 50_000


def verify_log(recorder: Recorder, progress: Callable[[int], None] | None = None) -> LogReport:
    """Read the whole log and report every broken invariant; ``progress`` is called with
    the position reached every :data:`PROGRESS_EVERY` entries.

    A :class:`~spreadwire.eventstore.recorder.Linked` recorder hands each entry out with
    its stored link to the stream's previous entry, in the same pass; a link that is not
    the position of the stream's entry before it in the log is a problem (the checksum
    does not cover it, and ``read_stream`` would only log a warning and scan).

    The log is checked as of the head read first: a store that a node (or ``store
    stress``) keeps writing meanwhile is not reported broken for the entries and stream
    versions committed after that (they are checked by the next run)."""
    report = LogReport(head=recorder.last_position())
    recovery = recorder.recovery
    if recovery.torn_at and not recovery.truncated:
        report.problem(f"torn tail: entries from position {recovery.torn_at} fail their checks")
    versions: dict[str, int] = {}
    #: position of each stream's last entry so far: what its next entry links back to
    tips: dict[str, int] = {}
    expected = 1
    codec = recorder.codec
    for record, link in _linked(recorder):
        if record.position > report.head:
            break  # committed after the check began
        report.entries += 1
        if progress is not None and not report.entries % PROGRESS_EVERY:
            progress(record.position)
        _check_record(report, record, expected, versions.get(record.stream, 0))
        if link is not None:
            _check_link(report, record, link, tips.get(record.stream, 0))
            tips[record.stream] = record.position
        expected = record.position + 1
        versions[record.stream] = record.version
        try:
            codec.decode(record.type, record.schema, record.payload)
        except StoreError as error:
            report.problem(f"position {record.position}: {error}")
    if expected - 1 != report.head:
        report.problem(f"head is {report.head} but the last entry is at {expected - 1}")
    _check_versions(report, recorder, versions, tips)
    report.streams = len(versions)
    return report


def _check_record(report: LogReport, record: Record, expected: int, previous: int) -> None:
    """Position, checksum and stream version of one entry."""
    if record.position != expected:
        report.problem(f"position {record.position}: expected {expected} (gap or reorder)")
    if not record_is_sound(record):
        report.problem(f"position {record.position}: checksum mismatch")
    if record.version != previous + 1:
        report.problem(
            f"position {record.position}: stream {record.stream!r} version"
            f" {record.version} follows {previous}"
        )


def _check_versions(
    report: LogReport, recorder: Recorder, versions: dict[str, int], tips: dict[str, int]
) -> None:
    """The store's own idea of each stream's version (SQLite keeps it in a tips table):
    a stream whose last entries are gone from the log still has them there. A
    :class:`Linked` store is also asked where the stream's chain starts: a tip at the
    right version but the wrong position would make every read of it walk a wrong
    chain (and fall back to a scan).

    The store answers as of now, the log was read as of ``report.head``: a tip past that
    head but within the head now, or (a store without links) a higher version while the
    head has moved, is a stream written since, not a problem. (A tip past the head now
    names an entry that is gone: reported.) "Now" is read after the store answered, so
    that a commit landing while it answers is within it."""
    if isinstance(recorder, Linked) and tips:
        stored_tips = recorder.stream_tips(list(versions))
        now = recorder.last_position()
        for stream, version in versions.items():
            tip = stored_tips.get(stream)
            if tip is not None and report.head < tip[1] <= now and tip[0] > version:
                continue
            if tip != (version, tips[stream]):
                stored = "nothing" if tip is None else f"version {tip[0]} at position {tip[1]}"
                report.problem(
                    f"stream {stream!r}: the store has its tip at {stored} but its last"
                    f" entry in the log is version {version} at position {tips[stream]}"
                )
        return
    stored_versions = {stream: recorder.stream_version(stream) for stream in versions}
    moved = recorder.last_position() > report.head
    for stream, version in versions.items():
        stored_version = stored_versions[stream]
        if stored_version != version and not (moved and stored_version > version):
            report.problem(
                f"stream {stream!r}: the store has it at version {stored_version}"
                f" but its last entry in the log is version {version}"
            )


def _linked(recorder: Recorder) -> Iterator[tuple[Record, int | None]]:
    """The log's records, each with its stored link (None: the backend stores none)."""
    if isinstance(recorder, Linked):
        yield from recorder.linked_records()
    else:
        for record in recorder.records():
            yield record, None


def _check_link(report: LogReport, record: Record, link: int, previous: int) -> None:
    """The entry's stored link against ``previous``, its stream's last entry so far (0:
    none, it is the stream's first)."""
    if link != previous:
        first = " (its first entry)" if previous == 0 else ""
        report.problem(
            f"position {record.position}: stream {record.stream!r} links back to position"
            f" {link}, expected {previous}{first}"
        )
