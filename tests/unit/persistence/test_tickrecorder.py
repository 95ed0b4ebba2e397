"""The tick recorder's hand-off: a quiet feed still reaches the writer, and a failing
writer never leaves the dispatch thread blocked."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow.parquet
import pytest

from spreadwire.errors import StoreError
from spreadwire.persistence.tickrecorder import TickRecorder
from spreadwire.persistence.ticks import NS_PER_DAY, TickHistory
from tests.unit.persistence.test_ticks import DAY, trade

SECOND = 1_000_000_000


def test_expire_hands_a_quiet_feeds_ticks_over_once_they_are_old_enough(tmp_path: Path) -> None:
    recorder = TickRecorder(tmp_path, handoff=1_000, max_delay_ns=2 * SECOND)
    for n in range(3):
        recorder.record(trade("AAA.SIM", DAY + n, "10", "1", n))

    recorder.expire(DAY + SECOND)
    early = recorder.recorded
    recorder.expire(DAY + 2 * SECOND)
    handed = recorder.recorded
    recorder.expire(DAY + 3 * SECOND)  # nothing left: nothing happens
    recorder.close()

    assert (early, handed) == (0, 3)
    assert TickHistory(tmp_path).count_trades("AAA.SIM", DAY, DAY + NS_PER_DAY) == 3


def test_failing_writer_never_blocks_or_raises_into_the_producer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:  # slow, then full
        threading.Event().wait(0.05)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pyarrow.parquet, "write_table", full_disk)
    recorder = TickRecorder(tmp_path, batch_rows=1, handoff=1, max_pending_batches=1)
    raised: list[BaseException] = []

    def produce() -> None:  # the node's dispatch thread: it must go on trading
        try:
            for n in range(200):
                recorder.record(trade("AAA.SIM", DAY + n, "10", "1", n))
                recorder.expire(DAY + n + 3 * SECOND)
        except BaseException as error:
            raised.append(error)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    producer.join(timeout=30)

    assert not producer.is_alive(), "the producer is blocked on the hand-off queue"
    assert raised == []
    with pytest.raises(StoreError, match=r"No space left on device'?\)?; 200 ticks were not"):
        recorder.close()
    assert 198 <= recorder.dropped <= 200
