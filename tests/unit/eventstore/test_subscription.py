from __future__ import annotations

import threading

from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.records import Entry
from spreadwire.eventstore.subscription import Subscription
from spreadwire.eventstore.writer import EventWriter
from tests.unit.eventstore.builders import halted, order_flow


def test_subscription_hands_out_stored_then_live_entries_in_order() -> None:
    recorder = MemoryRecorder()
    flow = order_flow()
    with EventWriter(recorder) as writer:
        for message in flow[:5]:
            writer.append(message)
    subscription = Subscription(recorder, after=2, idle_timeout_s=30)
    seen: list[Entry] = []
    done = threading.Event()

    def follow() -> None:
        for entry in subscription:
            seen.append(entry)
            if entry.position == len(flow):
                done.set()
                return

    follower = threading.Thread(target=follow)
    follower.start()
    with EventWriter(recorder) as writer:
        for message in flow[5:]:
            writer.append(message)
    done.wait(30)
    subscription.close()
    follower.join()

    assert [e.position for e in seen] == list(range(3, len(flow) + 1))
    assert [e.message for e in seen] == flow[2:]
    assert subscription.position == len(flow)


def test_subscription_poll_with_nothing_new_returns_empty_after_the_timeout() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        writer.append(halted())
    subscription = Subscription(recorder, after=1)

    assert subscription.poll(0.001) == []
    assert subscription.position == 1


def test_subscription_waiting_without_timeout_returns_when_the_recorder_closes() -> None:
    """CommitSignal.wake (called by Recorder.close) must wake a waiter that has no
    timeout; Condition.wait_for re-checked only the position and slept on forever."""
    recorder = MemoryRecorder()
    subscription = Subscription(recorder)
    waiting = threading.Event()
    returned: list[list[Entry]] = []

    def follow() -> None:
        waiting.set()
        returned.append(subscription.poll(None))

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    waiting.wait(5)
    follower.join(0.1)  # let it block in wait_for
    recorder.close()
    follower.join(5)

    assert not follower.is_alive(), "poll(None) still waits on a closed recorder"
    assert returned == [[]]


def test_subscription_waiting_without_timeout_after_the_recorder_closed_returns() -> None:
    """A wait that begins after close() woke the waiters was not woken by anything."""
    recorder = MemoryRecorder()
    subscription = Subscription(recorder)
    recorder.close()
    returned: list[list[Entry]] = []
    follower = threading.Thread(
        target=lambda: returned.append(subscription.poll(None)), daemon=True
    )
    follower.start()
    follower.join(5)

    assert not follower.is_alive(), "poll(None) waits for ever on a recorder already closed"
    assert returned == [[]]


def test_subscription_iteration_stopped_mid_batch_resumes_after_the_last_entry_handed_out() -> None:
    """The iterator moved the position to the end of a batch before handing out its first
    entry: a consumer that broke off (or raised) after one entry and resumed from
    ``position`` lost the rest of the batch."""
    recorder = MemoryRecorder()
    flow = order_flow()
    with EventWriter(recorder) as writer:
        for message in flow:
            writer.append(message)
    subscription = Subscription(recorder, idle_timeout_s=0.01)

    for entry in subscription:
        assert entry.position == 1
        break

    assert subscription.position == 1
    assert [e.position for e in subscription.poll(0)] == list(range(2, len(flow) + 1))
