from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadwire.core.queue_stats import QueueStats
from spreadwire.core.queues import BoundedQueue, OverflowPolicy
from spreadwire.errors import QueueFullError, SpreadwireError


def _key(item: tuple[str, int]) -> str:
    return item[0]


def _filled(policy: OverflowPolicy, capacity: int = 2) -> BoundedQueue[int]:
    queue: BoundedQueue[int] = BoundedQueue(capacity, policy)
    for item in range(1, capacity + 1):
        queue.put(item)
    return queue


@pytest.mark.parametrize("capacity", [0, -1])
def test_bounded_queue_capacity_below_one_raises_naming_capacity(capacity: int) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueError, match="capacity"):
        BoundedQueue[int](capacity)


def test_bounded_queue_conflate_without_key_raises_naming_key() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueError, match="key"):
        BoundedQueue[int](4, OverflowPolicy.CONFLATE)


def test_bounded_queue_default_policy_is_raise() -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(1)

    # Act
    policy = queue.policy

    # Assert
    assert policy is OverflowPolicy.RAISE


def test_bounded_queue_get_returns_items_in_fifo_order() -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(3)
    for item in (1, 2, 3):
        queue.put(item)

    # Act
    items = [queue.get(), queue.get(), queue.get()]

    # Assert
    assert items == [1, 2, 3]
    assert len(queue) == 0


@pytest.mark.parametrize(
    "policy", [OverflowPolicy.RAISE, OverflowPolicy.DROP_OLDEST, OverflowPolicy.DROP_NEWEST]
)
def test_bounded_queue_get_empty_raises_index_error(policy: OverflowPolicy) -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(1, policy)

    # Act / Assert
    with pytest.raises(IndexError):
        queue.get()


def test_bounded_queue_conflating_get_empty_raises_index_error() -> None:
    # Arrange
    queue: BoundedQueue[tuple[str, int]] = BoundedQueue(1, OverflowPolicy.CONFLATE, key=_key)

    # Act / Assert
    with pytest.raises(IndexError, match="empty"):
        queue.get()


def test_bounded_queue_raise_policy_full_raises_and_keeps_items() -> None:
    # Arrange
    queue = _filled(OverflowPolicy.RAISE)

    # Act
    with pytest.raises(QueueFullError, match="capacity 2"):
        queue.put(3)

    # Assert
    assert queue.drain() == [1, 2]
    assert queue.stats() == QueueStats(
        capacity=2, depth=0, peak=2, enqueued=2, dequeued=2, dropped=0, conflated=0
    )


def test_bounded_queue_full_error_is_a_spreadwire_error() -> None:
    # Arrange
    queue = _filled(OverflowPolicy.RAISE, capacity=1)

    # Act / Assert
    with pytest.raises(SpreadwireError):
        queue.put(2)


def test_bounded_queue_drop_oldest_full_discards_head_and_returns_false() -> None:
    # Arrange
    queue = _filled(OverflowPolicy.DROP_OLDEST)

    # Act
    accepted = queue.put(3)

    # Assert
    assert accepted is False
    assert queue.drain() == [2, 3]
    assert queue.stats() == QueueStats(
        capacity=2, depth=0, peak=2, enqueued=3, dequeued=2, dropped=1, conflated=0
    )


def test_bounded_queue_drop_newest_full_discards_new_item_and_returns_false() -> None:
    # Arrange
    queue = _filled(OverflowPolicy.DROP_NEWEST)

    # Act
    accepted = queue.put(3)

    # Assert
    assert accepted is False
    assert queue.drain() == [1, 2]
    assert queue.stats() == QueueStats(
        capacity=2, depth=0, peak=2, enqueued=3, dequeued=2, dropped=1, conflated=0
    )


def test_bounded_queue_put_below_capacity_returns_true() -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(2, OverflowPolicy.DROP_NEWEST)

    # Act
    accepted = queue.put(1)

    # Assert
    assert accepted is True


def test_bounded_queue_conflate_same_key_replaces_in_place() -> None:
    # Arrange
    queue: BoundedQueue[tuple[str, int]] = BoundedQueue(4, OverflowPolicy.CONFLATE, key=_key)
    queue.put(("A", 1))
    queue.put(("B", 1))

    # Act
    accepted = queue.put(("A", 2))

    # Assert
    assert accepted is True
    assert len(queue) == 2
    assert queue.drain() == [("A", 2), ("B", 1)]
    assert queue.stats() == QueueStats(
        capacity=4, depth=0, peak=2, enqueued=3, dequeued=2, dropped=0, conflated=1
    )


def test_bounded_queue_conflate_full_new_key_drops_oldest_key() -> None:
    # Arrange
    queue: BoundedQueue[tuple[str, int]] = BoundedQueue(2, OverflowPolicy.CONFLATE, key=_key)
    queue.put(("A", 1))
    queue.put(("B", 1))

    # Act
    accepted = queue.put(("C", 1))

    # Assert
    assert accepted is False
    assert queue.drain() == [("B", 1), ("C", 1)]
    assert queue.stats().dropped == 1


def test_bounded_queue_conflate_full_known_key_replaces_without_drop() -> None:
    # Arrange
    queue: BoundedQueue[tuple[str, int]] = BoundedQueue(2, OverflowPolicy.CONFLATE, key=_key)
    queue.put(("A", 1))
    queue.put(("B", 1))

    # Act
    accepted = queue.put(("B", 2))

    # Assert
    assert accepted is True
    assert queue.drain() == [("A", 1), ("B", 2)]
    assert queue.stats().dropped == 0


def test_bounded_queue_conflate_key_reused_after_get_is_enqueued_at_tail() -> None:
    # Arrange
    queue: BoundedQueue[tuple[str, int]] = BoundedQueue(3, OverflowPolicy.CONFLATE, key=_key)
    queue.put(("A", 1))
    queue.put(("B", 1))
    queue.get()

    # Act
    queue.put(("A", 2))

    # Assert
    assert queue.drain() == [("B", 1), ("A", 2)]


def test_bounded_queue_peak_tracks_highest_depth() -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(5)
    for item in range(4):
        queue.put(item)
    queue.drain(3)

    # Act
    queue.put(9)
    stats = queue.stats()

    # Assert
    assert stats.peak == 4
    assert stats.depth == 2


def test_bounded_queue_drain_limit_returns_at_most_limit() -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(5)
    for item in range(5):
        queue.put(item)

    # Act
    first = queue.drain(2)
    none = queue.drain(0)
    rest = queue.drain()

    # Assert
    assert first == [0, 1]
    assert none == []
    assert rest == [2, 3, 4]


@pytest.mark.parametrize("policy", [OverflowPolicy.DROP_OLDEST, OverflowPolicy.DROP_NEWEST])
def test_bounded_queue_stats_balance_after_overflow(policy: OverflowPolicy) -> None:
    # Arrange
    queue: BoundedQueue[int] = BoundedQueue(3, policy)

    # Act
    for item in range(10):
        queue.put(item)
    queue.get()
    stats = queue.stats()

    # Assert
    assert stats.enqueued - stats.dequeued - stats.dropped - stats.conflated == stats.depth
    assert stats.depth == len(queue) == 2
    assert stats.dropped == 7


def test_overflow_policy_values_are_config_strings() -> None:
    # Arrange / Act
    values = {policy.value for policy in OverflowPolicy}

    # Assert
    assert values == {"raise", "drop_oldest", "drop_newest", "conflate"}


class _ModelQueue:
    """A plain-list model of each overflow policy, to check BoundedQueue against."""

    def __init__(self, capacity: int, policy: OverflowPolicy) -> None:
        self.capacity = capacity
        self.policy = policy
        self.items: list[tuple[str, int]] = []
        self.dropped = 0

    def put(self, item: tuple[str, int]) -> bool:
        if self.policy is OverflowPolicy.CONFLATE:
            for position, queued in enumerate(self.items):
                if queued[0] == item[0]:
                    self.items[position] = item
                    return True
        if len(self.items) < self.capacity:
            self.items.append(item)
            return True
        if self.policy is OverflowPolicy.RAISE:
            raise QueueFullError("full")
        self.dropped += 1
        if self.policy is not OverflowPolicy.DROP_NEWEST:
            self.items = [*self.items[1:], item]
        return False


_operations = st.lists(
    st.one_of(st.tuples(st.sampled_from("ABCD"), st.integers(0, 99)), st.none()), max_size=60
)


@given(st.sampled_from(list(OverflowPolicy)), st.integers(min_value=1, max_value=4), _operations)
def test_bounded_queue_any_operations_match_model(
    policy: OverflowPolicy, capacity: int, operations: list[tuple[str, int] | None]
) -> None:
    # Arrange
    queue: BoundedQueue[tuple[str, int]] = BoundedQueue(capacity, policy, key=_key)
    model = _ModelQueue(capacity, policy)
    peak = 0

    # Act / Assert
    for operation in operations:
        if operation is None:
            if model.items:
                assert queue.get() == model.items.pop(0)
            else:
                with pytest.raises(IndexError):
                    queue.get()
            continue
        try:
            expected = model.put(operation)
        except QueueFullError:
            with pytest.raises(QueueFullError):
                queue.put(operation)
        else:
            assert queue.put(operation) is expected
        peak = max(peak, len(model.items))
        assert len(queue) == len(model.items) <= capacity

    stats = queue.stats()
    assert stats.dropped == model.dropped
    assert stats.peak == peak
    assert stats.enqueued - stats.dequeued - stats.dropped - stats.conflated == stats.depth
    assert queue.drain() == model.items


@pytest.mark.parametrize("policy", list(OverflowPolicy))
def test_pass_through_counts_what_put_then_get_would(policy: OverflowPolicy) -> None:
    key = (lambda item: item) if policy is OverflowPolicy.CONFLATE else None
    queued: BoundedQueue[int] = BoundedQueue(4, policy, key=key)
    passed: BoundedQueue[int] = BoundedQueue(4, policy, key=key)
    for item in range(3):
        queued.put(item)
        queued.get()
        passed.pass_through()
    assert passed.stats() == queued.stats()
    assert passed.stats().peak == 1 and len(passed) == 0
