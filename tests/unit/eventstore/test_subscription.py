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
