"""The driver that advances simulated time: what it runs, and whom it lets run.

Real-time runs here last a few tens of milliseconds of wall time; nothing is asserted
about how long anything took, only about what ran and in which order.
"""

from __future__ import annotations

import asyncio
import threading
from functools import partial

import pytest

from spreadwire.core.clock import SimClock, perf_counter_ns
from spreadwire.core.scheduler import Scheduler
from spreadwire.node import Driver, Idle, Speed, Waker

MS = 1_000_000


def _scheduled(count: int, every_ns: int) -> tuple[SimClock, Scheduler, list[int]]:
    clock = SimClock()
    scheduler = Scheduler(clock)
    ran: list[int] = []
    for i in range(1, count + 1):
        scheduler.at(i * every_ns, partial(ran.append, i))
    return clock, scheduler, ran


@pytest.mark.parametrize("idle", list(Idle))
def test_realtime_driver_runs_everything_due_in_order(idle: Idle) -> None:
    clock, scheduler, ran = _scheduled(count=30, every_ns=MS)
    driver = Driver(clock.timestamp_ns, scheduler.run_until)

    asyncio.run(driver.run(seconds=0.030, speed=Speed.REALTIME, idle=idle))

    assert ran == list(range(1, 31))
    assert clock.timestamp_ns() == 30 * MS


def test_spinning_driver_gives_the_event_loop_turns() -> None:
    clock, scheduler, _ = _scheduled(count=0, every_ns=MS)
    driver = Driver(clock.timestamp_ns, scheduler.run_until)
    jobs: list[tuple[int, int]] = []

    async def main() -> None:
        async def server() -> None:
            # A job of three callbacks through the ready queue, as a server's request
            # takes (an I/O callback resolves a future, which wakes a task, which replies).
            while True:
                began = clock.timestamp_ns()
                await asyncio.sleep(0)
                await asyncio.sleep(0)
                jobs.append((began, clock.timestamp_ns()))

        task = asyncio.create_task(server())
        await driver.run(seconds=0.040, speed=Speed.REALTIME, idle=Idle.SPIN)
        task.cancel()

    asyncio.run(main())

    # the server ran while simulated time moved, not only at the end ...
    assert len({began for began, _ in jobs}) >= 5
    # ... and a three-callback job can finish within one step (simulated time only moves
    # while the driver spins): the loop gets several turns a step, not one
    assert any(began == ended for began, ended in jobs)


def test_spinning_driver_asks_whether_the_node_is_busy_and_still_finishes() -> None:
    clock, scheduler, ran = _scheduled(count=20, every_ns=MS)
    asked: list[bool] = []

    def busy() -> bool:
        asked.append(True)
        return len(asked) % 2 == 0  # busy half the time: the driver sleeps in slices

    driver = Driver(clock.timestamp_ns, scheduler.run_until, busy=busy)

    asyncio.run(driver.run(seconds=0.020, speed=Speed.REALTIME, idle=Idle.SPIN))

    assert ran == list(range(1, 21))
    assert len(asked) > 20


def test_sleeping_driver_never_asks_whether_the_node_is_busy() -> None:
    clock, scheduler, _ = _scheduled(count=5, every_ns=MS)
    asked: list[bool] = []

    def busy() -> bool:
        asked.append(True)
        return False

    driver = Driver(clock.timestamp_ns, scheduler.run_until, busy=busy)

    asyncio.run(driver.run(seconds=0.005, speed=Speed.REALTIME, idle=Idle.SLEEP))

    assert asked == []


def test_spinning_driver_stops_when_asked() -> None:
    clock, scheduler, ran = _scheduled(count=10_000, every_ns=MS)
    driver = Driver(clock.timestamp_ns, scheduler.run_until)
    stop = asyncio.Event()

    async def main() -> None:
        async def stopper() -> None:
            while not ran:
                await asyncio.sleep(0)
            stop.set()

        task = asyncio.create_task(stopper())
        await driver.run(seconds=10.0, speed=Speed.REALTIME, idle=Idle.SPIN, stop=stop)
        await task

    asyncio.run(main())

    assert 0 < len(ran) < 10_000
    assert clock.timestamp_ns() < 10_000 * MS


def test_max_speed_ignores_idle() -> None:
    clock, scheduler, ran = _scheduled(count=100, every_ns=10 * MS)
    driver = Driver(clock.timestamp_ns, scheduler.run_until, busy=lambda: True)

    asyncio.run(driver.run(seconds=1.0, speed=Speed.MAX, idle=Idle.SPIN))

    assert ran == list(range(1, 101))


def test_spinning_driver_runs_its_warming_work_while_idle() -> None:
    clock, scheduler, ran = _scheduled(count=20, every_ns=MS)
    warmed: list[int] = []
    driver = Driver(
        clock.timestamp_ns, scheduler.run_until, warm=lambda: warmed.append(clock.timestamp_ns())
    )

    asyncio.run(driver.run(seconds=0.020, speed=Speed.REALTIME, idle=Idle.SPIN))

    assert ran == list(range(1, 21))
    assert len(set(warmed)) >= 5  # again and again while simulated time moved


def test_spinning_driver_does_no_warming_work_while_the_node_is_busy() -> None:
    clock, scheduler, ran = _scheduled(count=5, every_ns=MS)
    warmed: list[int] = []
    driver = Driver(
        clock.timestamp_ns, scheduler.run_until, busy=lambda: True, warm=lambda: warmed.append(1)
    )

    asyncio.run(driver.run(seconds=0.005, speed=Speed.REALTIME, idle=Idle.SPIN))

    assert ran == list(range(1, 6))
    assert warmed == []


@pytest.mark.parametrize("speed", list(Speed))
def test_only_a_spinning_real_time_driver_does_warming_work(speed: Speed) -> None:
    clock, scheduler, _ = _scheduled(count=5, every_ns=MS)
    warmed: list[int] = []
    driver = Driver(clock.timestamp_ns, scheduler.run_until, warm=lambda: warmed.append(1))

    asyncio.run(driver.run(seconds=0.005, speed=speed, idle=Idle.SLEEP))
    asyncio.run(driver.run(seconds=0.005, speed=Speed.MAX, idle=Idle.SPIN))

    assert warmed == []


def test_failing_warming_work_is_logged_and_dropped_and_the_run_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, scheduler, ran = _scheduled(count=10, every_ns=MS)
    calls: list[int] = []

    def warm() -> None:
        calls.append(1)
        raise RuntimeError("shadow broke")

    driver = Driver(clock.timestamp_ns, scheduler.run_until, warm=warm)

    asyncio.run(driver.run(seconds=0.010, speed=Speed.REALTIME, idle=Idle.SPIN))

    assert ran == list(range(1, 11))
    assert calls == [1]
    assert "warming work failed" in caplog.text


def test_spinning_driver_gives_the_loop_its_turn_right_after_a_delivery() -> None:
    clock = SimClock()
    scheduler = Scheduler(clock)
    advances = [0]
    handed_at: list[int] = []
    flushed_at: list[int] = []

    def advance(ts_ns: int) -> int:
        advances[0] += 1
        return scheduler.run_until(ts_ns)

    def deliver() -> None:
        # as the WebSocket sessions do: the delivery hands its output to the loop
        handed_at.append(advances[0])
        asyncio.get_running_loop().call_soon(lambda: flushed_at.append(advances[0]))

    for i in range(1, 11):
        scheduler.at(i * MS, deliver)
    driver = Driver(clock.timestamp_ns, advance)

    asyncio.run(driver.run(seconds=0.010, speed=Speed.REALTIME, idle=Idle.SPIN))

    assert len(handed_at) == 10
    assert flushed_at == handed_at  # flushed before simulated time moved on


def test_waker_returns_no_earlier_than_asked_and_at_once_for_a_past_time() -> None:
    async def main() -> tuple[int, int]:
        waker = Waker(asyncio.get_running_loop())
        try:
            target = perf_counter_ns() + 2 * MS
            await waker.sleep_until(target)
            woke = perf_counter_ns()
            await waker.sleep_until(perf_counter_ns() - MS)  # already past: returns
            return target, woke
        finally:
            waker.close()

    target, woke = asyncio.run(main())

    assert woke >= target


def test_waker_leaves_the_loop_free_while_it_waits() -> None:
    hops: list[int] = []

    async def main() -> None:
        waker = Waker(asyncio.get_running_loop())

        async def other() -> None:
            while True:
                await asyncio.sleep(0)
                hops.append(1)

        task = asyncio.create_task(other())
        try:
            await waker.sleep_until(perf_counter_ns() + 20 * MS)
        finally:
            task.cancel()
            waker.close()

    asyncio.run(main())

    assert len(hops) > 100  # the loop ran the other task all along, not once


def test_sleeping_driver_with_next_due_runs_everything_in_order_and_stops_its_thread() -> None:
    clock, scheduler, ran = _scheduled(count=30, every_ns=MS // 3)
    driver = Driver(clock.timestamp_ns, scheduler.run_until, next_due=scheduler.next_time)

    asyncio.run(driver.run(seconds=0.012, speed=Speed.REALTIME, idle=Idle.SLEEP))

    assert ran == list(range(1, 31))
    assert not any(t.name == "driver-waker" for t in threading.enumerate())
