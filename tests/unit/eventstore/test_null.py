"""The recorder that keeps nothing: acknowledges like the others, reads nothing back."""

from __future__ import annotations

import pytest

from spreadwire.errors import ConfigError, StoreError
from spreadwire.eventstore.null import NullRecorder
from spreadwire.eventstore.recorder import encode_append
from spreadwire.eventstore.records import Committed
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.store import open_store
from tests.builders import make_accepted


def test_null_recorder_commits_get_consecutive_positions_and_nothing_is_kept() -> None:
    recorder = NullRecorder()
    first = encode_append(
        recorder.codec, "order-1", [make_accepted("1", 1), make_accepted("1", 2)], 1
    )
    second = encode_append(recorder.codec, "order-2", [make_accepted("2", 3)], 2)

    outcomes = recorder.commit([first, second])

    assert outcomes == [
        Committed(first_position=1, last_position=2, version=2),
        Committed(first_position=3, last_position=3, version=1),
    ]
    assert recorder.last_position() == 3
    assert recorder.recovery.head == 3
    assert list(recorder.read()) == []
    assert list(recorder.records()) == []
    assert list(recorder.read_stream("order-1")) == []
    assert recorder.wait_for(0, timeout_s=0.0) == 3


def test_null_recorder_behind_the_writer_acknowledges_every_append() -> None:
    recorder = NullRecorder()
    with EventWriter(recorder) as writer:
        for n in range(100):
            writer.append(make_accepted(str(n % 7), n))
        position = writer.append_durable(make_accepted("last", 100))

    assert position == 101
    assert recorder.last_position() == 101
    assert writer.stats().committed == 101


def test_null_recorder_refuses_commits_once_closed() -> None:
    recorder = NullRecorder()
    recorder.close()

    with pytest.raises(StoreError, match="closed"):
        recorder.commit([encode_append(recorder.codec, "s", [make_accepted("1")], 1)])


def test_null_recorder_is_not_reachable_by_a_store_url() -> None:
    with pytest.raises(ConfigError, match="null://"):
        open_store("null://")
