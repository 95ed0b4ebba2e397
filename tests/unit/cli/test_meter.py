"""Progress of long passes over the log: plain lines off a terminal, a bar on one."""

from __future__ import annotations

import io

from spreadwire.cli.meter import Meter


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_is_silent_for_a_pass_shorter_than_its_interval() -> None:
    out, clock = io.StringIO(), _Clock()
    meter = Meter(out, live=False, interval_s=5.0, now=clock)
    step = meter.stage("checking the log", 1_000)
    for done in range(0, 1_001, 100):
        clock.now += 0.4
        step(done)
    meter.close()

    assert out.getvalue() == ""


def test_meter_prints_a_line_per_interval_with_share_and_rate() -> None:
    out, clock = io.StringIO(), _Clock()
    meter = Meter(out, live=False, interval_s=5.0, now=clock)
    meter.update("applying", 0, 400_000)
    clock.now += 5.0
    meter.update("applying", 100_000, 400_000)
    clock.now += 1.0
    meter.update("applying", 120_000, 400_000)  # within the interval: no line
    clock.now += 4.0
    meter.update("applying", 200_000, 400_000)

    assert out.getvalue().splitlines() == [
        "applying: 100,000 of 400,000 (25%), 20,000/s",
        "applying: 200,000 of 400,000 (50%), 20,000/s",
    ]


def test_meter_counts_each_label_from_its_own_start() -> None:
    out, clock = io.StringIO(), _Clock()
    meter = Meter(out, live=False, interval_s=1.0, now=clock)
    clock.now += 10.0
    meter.update("rebuilding orders", 500, 1_000)  # first sight of the label: its start
    clock.now += 2.0
    meter.update("rebuilding orders", 900, 1_000)

    assert out.getvalue().splitlines()[-1] == "rebuilding orders: 900 of 1,000 (90%), 200/s"


def test_meter_on_a_terminal_draws_a_bar_and_clears_it() -> None:
    out = io.StringIO()
    with Meter(out, live=True) as meter:
        meter.update("checking the log", 10, 20)
        meter.update("checking the log", 20, 20)

    assert "checking the log" in out.getvalue()
