from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, ClassVar

import msgspec

from spreadwire.eventstore import verify
from spreadwire.eventstore.codec import Codec
from spreadwire.eventstore.compare import compare_read_models
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.recorder import Linked
from spreadwire.eventstore.records import Append, NewEvent, Record
from spreadwire.eventstore.replay import replay, replay_entries
from spreadwire.eventstore.tail import first_bad_position
from spreadwire.eventstore.verify import verify_log
from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore
from tests.unit.eventstore.builders import order_flow, record_order_flow


def stored() -> MemoryRecorder:
    recorder = record_order_flow(MemoryRecorder())
    return recorder


class BeganEarlier:
    """A store as ``verify_log`` sees it when a writer keeps committing during the check:
    the head it reads first is ``head``, everything after was committed meanwhile."""

    def __init__(self, recorder: Any, head: int) -> None:
        self._recorder = recorder
        self._head: int | None = head

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)

    def last_position(self) -> int:
        head, self._head = self._head, None
        return self._recorder.last_position() if head is None else head


def test_verify_log_of_a_store_written_during_the_check_is_sound_as_of_its_head() -> None:
    """``events verify`` on a live store (a node running) reported ``head is 6 but the last
    entry is at 11`` and every stream written meanwhile as a version mismatch."""
    report = verify_log(BeganEarlier(stored(), 6))

    assert report.sound, report.details
    assert (report.entries, report.head) == (6, 6)


def test_verify_log_written_by_the_writer_is_sound() -> None:
    report = verify_log(stored())

    assert report.sound
    assert (report.entries, report.head, report.streams) == (11, 11, 3)


class LinkedMemory:
    """A memory log that also hands out stored links (as SQLite does), with some of them
    replaced: ``verify_log`` must need nothing of SQLite to check them."""

    def __init__(self, recorder: MemoryRecorder, changed: dict[int, int]) -> None:
        self._recorder = recorder
        self._changed = changed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)

    def stream_tips(self, streams: Collection[str]) -> dict[str, tuple[int, int]]:
        tips = {r.stream: (r.version, r.position) for r in self._recorder.records()}
        return {stream: tips[stream] for stream in streams if stream in tips}

    def linked_records(self, after: int = 0) -> Iterator[tuple[Record, int]]:
        last: dict[str, int] = {}
        for record in self._recorder.records():
            previous = last.get(record.stream, 0)
            last[record.stream] = record.position
            if record.position > after:
                yield record, self._changed.get(record.position, previous)


def test_verify_log_checks_the_links_of_a_recorder_that_has_them() -> None:
    sound = LinkedMemory(stored(), {})
    broken = LinkedMemory(stored(), {4: 0, 9: 2})

    assert isinstance(sound, Linked)
    assert verify_log(sound).sound
    report = verify_log(broken)
    assert report.problems == 2
    assert report.details == [
        "position 4: stream 'order-O-1' links back to position 0, expected 3",
        "position 9: stream 'order-O-2' links back to position 2, expected 8",
    ]


def commit_one_more(recorder: MemoryRecorder, stream: str) -> None:
    """What a node running beside ``events verify`` does: one more event on ``stream``."""
    last = [r for r in recorder.records() if r.stream == stream][-1]
    recorder.commit(
        [Append(stream=stream, events=(NewEvent(last.type, last.schema, 0, last.payload),))]
    )


class WrittenWhileAsked(LinkedMemory):
    """A linked store that a writer commits to while it answers for the stream tips."""

    def stream_tips(self, streams: Collection[str]) -> dict[str, tuple[int, int]]:
        commit_one_more(self._recorder, "order-O-1")
        return super().stream_tips(streams)


class VersionWrittenWhileAsked:
    """A store with no links that a writer commits to while it answers for a version."""

    def __init__(self, recorder: MemoryRecorder) -> None:
        self._recorder = recorder
        self._asked = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)

    def stream_version(self, stream: str) -> int:
        if not self._asked:
            self._asked = True
            commit_one_more(self._recorder, stream)
        return self._recorder.stream_version(stream)


def test_verify_log_of_a_stream_written_while_the_store_gives_its_tips_is_sound() -> None:
    """The head "now" was read before the store was asked for its tips: a commit landing
    in between put a tip past it, reported as an entry that is gone."""
    report = verify_log(WrittenWhileAsked(stored(), {}))

    assert report.sound, report.details
    assert report.head == 11


def test_verify_log_of_a_stream_written_while_the_store_gives_its_version_is_sound() -> None:
    recorder = VersionWrittenWhileAsked(stored())

    report = verify_log(recorder)

    assert report.sound, report.details
    assert recorder.last_position() == 12


class Widget(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    schema_version: ClassVar[int] = 2
    size: int


def _broken_upcaster(state: dict[str, Any]) -> dict[str, Any]:
    return {"size": state["width"]}


def test_verify_log_lists_an_entry_whose_upcaster_fails_and_goes_on() -> None:
    recorder = MemoryRecorder(
        Codec(extra_types=[Widget], upcasters={("Widget", 1): _broken_upcaster})
    )
    old = msgspec.msgpack.encode({"type": "Widget", "depth": 3})
    recorder.commit([Append(stream="widget-1", events=(NewEvent("Widget", 1, 1, old),))])
    current = recorder.codec.encode(Widget(size=2))
    recorder.commit([Append(stream="widget-1", events=(NewEvent(*current[:2], 2, current[2]),))])

    report = verify_log(recorder)

    assert not report.sound
    assert report.entries == 2
    assert report.problems == 1
    assert "position 1: upcasting Widget from schema 1 failed: KeyError" in report.details[0]


def test_first_bad_position_finds_checksum_mismatch_and_gap() -> None:
    records = list(stored().records())
    tampered = [*records[:4], msgspec.structs.replace(records[4], checksum=0), *records[5:]]
    gapped = [*records[:6], *records[7:]]

    assert first_bad_position(records, 0) is None
    assert first_bad_position(tampered, 0) == 5
    assert first_bad_position(gapped, 0) == 7


def test_compare_read_models_tampered_document_is_a_difference() -> None:
    recorder = stored()
    live = SQLiteReadModelStore(":memory:")
    scratch = SQLiteReadModelStore(":memory:")
    ProjectionRunner(recorder, live, standard_projections()).catch_up()

    assert compare_read_models(recorder, live, scratch, standard_projections()) == []

    doc = live.get("orders", "O-1")
    assert doc is not None
    live._connection.execute(
        "UPDATE rm_orders SET doc = ? WHERE key = 'O-1'", ('{"status": "CANCELED"}',)
    )
    differences = compare_read_models(recorder, live, scratch, standard_projections())

    assert len(differences) == 1
    assert differences[0].startswith("orders.orders[O-1]")


def test_replay_feeds_every_message_in_order_from_a_position() -> None:
    recorder = stored()
    seen: list[object] = []
    positions: list[int] = []

    result = replay(recorder, seen.append)
    tail = replay_entries(recorder, lambda entry: positions.append(entry.position), after=8)

    assert seen == order_flow()
    assert (result.count, result.last_position) == (11, 11)
    assert positions == [9, 10, 11]
    assert tail.count == 3


def test_verify_log_and_the_rebuilds_report_their_progress(monkeypatch: Any) -> None:

    monkeypatch.setattr(verify, "PROGRESS_EVERY", 4)
    recorder = stored()
    checked: list[int] = []
    applied: list[int] = []
    compared: list[tuple[str, int, int]] = []
    live = SQLiteReadModelStore(":memory:")
    scratch = SQLiteReadModelStore(":memory:")

    verify.verify_log(recorder, checked.append)
    ProjectionRunner(recorder, live, standard_projections(), batch=5).rebuild(
        progress=applied.append
    )
    compare_read_models(
        recorder, live, scratch, standard_projections()[:1], lambda *a: compared.append(a)
    )

    assert checked == [4, 8]  # every 4 of the 11 entries
    assert applied == [5, 10, 11]  # after each batch, up to the head
    name = standard_projections()[0].name
    assert compared and compared[-1] == (name, 11, 11)
