from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from spreadwire.core.clock import SimClock
from spreadwire.core.scheduler import Scheduler


def _recorder(clock: SimClock, log: list[tuple[str, int]], name: str) -> Callable[[], None]:
    def callback() -> None:
        log.append((name, clock.timestamp_ns()))

    return callback


def test_scheduler_run_until_orders_by_time() -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []
    scheduler.at(30, _recorder(clock, log, "c"))
    scheduler.at(10, _recorder(clock, log, "a"))
    scheduler.at(20, _recorder(clock, log, "b"))

    # Act
    ran = scheduler.run_until(100)

    # Assert
    assert ran == 3
    assert log == [("a", 10), ("b", 20), ("c", 30)]
    assert clock.timestamp_ns() == 100


def test_scheduler_same_time_keeps_insertion_order() -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []
    for name in "abcde":
        scheduler.at(50, _recorder(clock, log, name))

    # Act
    scheduler.run_until(50)

    # Assert
    assert [name for name, _ in log] == list("abcde")


def test_scheduler_run_until_leaves_later_callbacks_pending() -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []
    scheduler.at(10, _recorder(clock, log, "due"))
    scheduler.at(11, _recorder(clock, log, "later"))

    # Act
    ran = scheduler.run_until(10)

    # Assert
    assert ran == 1
    assert len(scheduler) == 1
    assert scheduler.next_time() == 11
    assert clock.timestamp_ns() == 10


def test_scheduler_empty_next_time_is_none_and_run_moves_clock() -> None:
    # Arrange
    clock = SimClock(5)
    scheduler = Scheduler(clock)

    # Act
    ran = scheduler.run_until(40)

    # Assert
    assert ran == 0
    assert scheduler.next_time() is None
    assert clock.timestamp_ns() == 40


def test_scheduler_run_until_earlier_than_now_keeps_clock() -> None:
    # Arrange
    clock = SimClock(100)
    scheduler = Scheduler(clock)

    # Act
    scheduler.run_until(50)

    # Assert
    assert clock.timestamp_ns() == 100


def test_scheduler_at_past_time_runs_at_now() -> None:
    # Arrange
    clock = SimClock(100)
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []

    # Act
    scheduler.at(10, _recorder(clock, log, "late"))
    scheduler.run_until(100)

    # Assert
    assert log == [("late", 100)]


def test_scheduler_after_delays_from_now() -> None:
    # Arrange
    clock = SimClock(1_000)
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []

    # Act
    scheduler.after(250, _recorder(clock, log, "x"))
    scheduler.run_until(2_000)

    # Assert
    assert log == [("x", 1_250)]


def test_scheduler_callback_scheduling_at_now_runs_in_same_pass() -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []

    def first() -> None:
        log.append(("first", clock.timestamp_ns()))
        scheduler.after(0, _recorder(clock, log, "chained"))
        scheduler.after(5, _recorder(clock, log, "next"))

    scheduler.at(10, first)
    scheduler.at(10, _recorder(clock, log, "sibling"))

    # Act
    ran = scheduler.run_until(12)

    # Assert
    assert ran == 3
    assert log == [("first", 10), ("sibling", 10), ("chained", 10)]
    assert scheduler.next_time() == 15


def test_scheduler_clock_moved_past_pending_callback_runs_it_late() -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []
    scheduler.at(100, _recorder(clock, log, "stale"))
    clock.set_time(200)

    # Act
    ran = scheduler.run_until(300)

    # Assert
    assert ran == 1
    assert log == [("stale", 200)]
    assert clock.timestamp_ns() == 300


def test_scheduler_clock_never_goes_backwards_during_run() -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    seen: list[int] = []
    for when in (50, 10, 40, 10, 30, 20):
        scheduler.at(when, lambda: seen.append(clock.timestamp_ns()))

    # Act
    scheduler.run_until(60)

    # Assert
    assert seen == sorted(seen)
    assert seen == [10, 10, 20, 30, 40, 50]


def _trace(seed_times: list[int]) -> list[tuple[str, int]]:
    clock = SimClock()
    scheduler = Scheduler(clock)
    log: list[tuple[str, int]] = []
    for index, when in enumerate(seed_times):
        scheduler.at(when, _recorder(clock, log, f"e{index}"))
    scheduler.run_until(max(seed_times) + 1)
    return log


def test_scheduler_same_schedule_twice_gives_identical_trace() -> None:
    # Arrange
    times = [7, 3, 3, 9, 1, 7, 7, 2, 9, 3]

    # Act
    first = _trace(times)
    second = _trace(times)

    # Assert
    assert first == second
    assert [name for name, when in first if when == 7] == ["e0", "e5", "e6"]


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=60))
def test_scheduler_any_schedule_runs_in_time_then_insertion_order(times: list[int]) -> None:
    # Arrange
    clock = SimClock()
    scheduler = Scheduler(clock)
    ran: list[tuple[int, int]] = []

    def stamp(index: int) -> Callable[[], None]:
        return lambda: ran.append((clock.timestamp_ns(), index))

    for index, when in enumerate(times):
        scheduler.at(when, stamp(index))

    # Act
    count = scheduler.run_until(20)

    # Assert
    assert count == len(times)
    assert ran == sorted((when, index) for index, when in enumerate(times))
    assert len(scheduler) == 0
