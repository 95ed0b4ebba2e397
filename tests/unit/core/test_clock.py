from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadwire.core.clock import Clock, LiveClock, SimClock, perf_counter_ns, sleep_until_perf


def test_sim_clock_default_start_is_zero() -> None:
    # Arrange
    clock = SimClock()

    # Act
    now = clock.timestamp_ns()

    # Assert
    assert now == 0


def test_sim_clock_negative_start_raises_naming_start_ns() -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueError, match="start_ns"):
        SimClock(-1)


def test_sim_clock_set_time_forward_moves_clock() -> None:
    # Arrange
    clock = SimClock(100)

    # Act
    clock.set_time(250)

    # Assert
    assert clock.timestamp_ns() == 250


def test_sim_clock_set_time_same_time_is_allowed() -> None:
    # Arrange
    clock = SimClock(100)

    # Act
    clock.set_time(100)

    # Assert
    assert clock.timestamp_ns() == 100


def test_sim_clock_set_time_backwards_raises_and_keeps_time() -> None:
    # Arrange
    clock = SimClock(100)

    # Act
    with pytest.raises(ValueError, match="before the current time"):
        clock.set_time(99)

    # Assert
    assert clock.timestamp_ns() == 100


def test_sim_clock_advance_adds_delta() -> None:
    # Arrange
    clock = SimClock(10)

    # Act
    clock.advance(5)
    clock.advance(0)

    # Assert
    assert clock.timestamp_ns() == 15


def test_sim_clock_advance_negative_raises_and_keeps_time() -> None:
    # Arrange
    clock = SimClock(10)

    # Act
    with pytest.raises(ValueError, match="delta_ns"):
        clock.advance(-1)

    # Assert
    assert clock.timestamp_ns() == 10


def test_sim_clock_mixed_moves_never_go_backwards() -> None:
    # Arrange
    clock = SimClock()
    moves: list[tuple[str, int]] = [("set", 5), ("advance", 3), ("set", 7), ("set", 8)]
    seen = [clock.timestamp_ns()]

    # Act
    for kind, amount in moves:
        try:
            if kind == "set":
                clock.set_time(amount)
            else:
                clock.advance(amount)
        except ValueError:
            pass
        seen.append(clock.timestamp_ns())

    # Assert
    assert seen == sorted(seen)
    assert seen[-1] == 8


def test_clocks_both_satisfy_clock_protocol() -> None:
    # Arrange
    clocks: list[Clock] = [LiveClock(), SimClock(42)]

    # Act
    stamps = [clock.timestamp_ns() for clock in clocks]

    # Assert
    assert all(isinstance(stamp, int) for stamp in stamps)
    assert stamps[1] == 42


def test_live_clock_timestamp_is_after_2020() -> None:
    # Arrange
    clock = LiveClock()

    # Act
    now = clock.timestamp_ns()

    # Assert
    assert now > 1_577_836_800 * 1_000_000_000


def test_sleep_until_perf_past_deadline_returns() -> None:
    # Arrange
    deadline = perf_counter_ns() - 1

    # Act
    sleep_until_perf(deadline)

    # Assert
    assert perf_counter_ns() > deadline


_moves = st.lists(
    st.tuples(st.sampled_from(["set", "advance"]), st.integers(min_value=-50, max_value=1_000)),
    max_size=50,
)


@given(st.integers(min_value=0, max_value=10**18), _moves)
def test_sim_clock_any_moves_never_go_backwards(start: int, moves: list[tuple[str, int]]) -> None:
    # Arrange
    clock = SimClock(start)
    seen = [clock.timestamp_ns()]

    # Act
    for kind, amount in moves:
        before = clock.timestamp_ns()
        target = amount if kind == "set" else before + amount
        try:
            if kind == "set":
                clock.set_time(amount)
            else:
                clock.advance(amount)
        except ValueError:
            assert target < before
        else:
            assert clock.timestamp_ns() == target
        seen.append(clock.timestamp_ns())

    # Assert
    assert seen == sorted(seen)
