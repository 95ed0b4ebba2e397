"""Per-stage latency tracking and p99 threshold alerts (values below 64 ns are exact)."""

from __future__ import annotations

import msgspec
import pytest

from spreadwire.telemetry.latency import (
    STAGES,
    LatencyAlert,
    LatencyAlerter,
    LatencyAlertRule,
    LatencyTracker,
)


def _record(tracker: LatencyTracker, stage: str, value_ns: int, times: int) -> None:
    histogram = tracker.stage(stage)
    for _ in range(times):
        histogram.record(value_ns)


def _alerter(
    tracker: LatencyTracker, *rules: LatencyAlertRule
) -> tuple[LatencyAlerter, list[LatencyAlert]]:
    published: list[LatencyAlert] = []
    return LatencyAlerter(tracker, rules, published.append), published


def test_tracker_default_has_every_hot_path_stage() -> None:
    tracker = LatencyTracker()

    assert tracker.names() == list(STAGES)


def test_tracker_stage_unknown_name_creates_histogram_once() -> None:
    tracker = LatencyTracker(["a"])

    first = tracker.stage("b")
    second = tracker.stage("b")

    assert first is second
    assert tracker.names() == ["a", "b"]


def test_tracker_summaries_report_each_stage() -> None:
    tracker = LatencyTracker(["a", "b"])
    _record(tracker, "a", 10, 3)

    summaries = tracker.summaries()

    assert (summaries["a"].count, summaries["a"].p50, summaries["a"].max) == (3, 10, 10)
    assert summaries["b"].count == 0


def test_tracker_merge_adds_counts_by_stage_name() -> None:
    tracker = LatencyTracker(["a"])
    other = LatencyTracker(["a", "c"])
    _record(tracker, "a", 10, 2)
    _record(other, "a", 20, 3)
    _record(other, "c", 30, 1)

    tracker.merge(other)

    assert tracker.stage("a").count == 5
    assert tracker.stage("a").max == 20
    assert tracker.stage("c").count == 1


def test_alerter_p99_below_threshold_raises_nothing() -> None:
    tracker = LatencyTracker(["risk"])
    _record(tracker, "risk", 10, 100)
    alerter, published = _alerter(tracker, LatencyAlertRule(stage="risk", p99_ns=20))

    raised = alerter.evaluate(now_ns=1)

    assert raised == [] and published == []
    assert alerter.active == frozenset()


def test_alerter_p99_above_threshold_raises_and_publishes_alert() -> None:
    tracker = LatencyTracker(["risk"])
    _record(tracker, "risk", 50, 100)
    alerter, published = _alerter(tracker, LatencyAlertRule(stage="risk", p99_ns=20))

    raised = alerter.evaluate(now_ns=7)

    expected = LatencyAlert(stage="risk", p99_ns=50, threshold_ns=20, count=100, ts_event=7)
    assert raised == [expected]
    assert published == [expected]
    assert alerter.active == frozenset({"risk"})


def test_alerter_alert_still_above_threshold_is_not_raised_again() -> None:
    tracker = LatencyTracker(["risk"])
    _record(tracker, "risk", 50, 100)
    alerter, published = _alerter(tracker, LatencyAlertRule(stage="risk", p99_ns=20))
    alerter.evaluate(now_ns=1)

    _record(tracker, "risk", 60, 100)
    raised = alerter.evaluate(now_ns=2)

    assert raised == []
    assert len(published) == 1
    assert alerter.active == frozenset({"risk"})


def test_alerter_p99_back_below_threshold_clears_and_can_raise_again() -> None:
    tracker = LatencyTracker(["risk"])
    _record(tracker, "risk", 50, 100)
    alerter, published = _alerter(tracker, LatencyAlertRule(stage="risk", p99_ns=20))
    alerter.evaluate(now_ns=1)
    tracker.stage("risk").reset()
    _record(tracker, "risk", 10, 100)

    cleared = alerter.evaluate(now_ns=2)
    active_after_clear = alerter.active
    _record(tracker, "risk", 40, 100)
    again = alerter.evaluate(now_ns=3)

    assert cleared == []
    assert active_after_clear == frozenset()
    assert [a.ts_event for a in again] == [3]
    assert len(published) == 2


def test_alerter_p99_equal_to_threshold_does_not_alert() -> None:
    tracker = LatencyTracker(["risk"])
    _record(tracker, "risk", 20, 100)
    alerter, _ = _alerter(tracker, LatencyAlertRule(stage="risk", p99_ns=20))

    assert alerter.evaluate(now_ns=1) == []


def test_alerter_too_few_samples_does_not_alert() -> None:
    tracker = LatencyTracker(["risk"])
    _record(tracker, "risk", 50, 9)
    alerter, _ = _alerter(tracker, LatencyAlertRule(stage="risk", p99_ns=20, min_count=10))

    raised = alerter.evaluate(now_ns=1)

    assert raised == []


def test_alerter_two_rules_on_one_stage_raise_and_clear_independently() -> None:
    tracker = LatencyTracker(["oms"])
    _record(tracker, "oms", 30, 100)
    warning = LatencyAlertRule(stage="oms", p99_ns=20)
    critical = LatencyAlertRule(stage="oms", p99_ns=40)
    alerter, _ = _alerter(tracker, warning, critical)
    first = alerter.evaluate(now_ns=1)

    _record(tracker, "oms", 50, 1_000)
    second = alerter.evaluate(now_ns=2)

    assert [a.threshold_ns for a in first] == [20]
    assert [a.threshold_ns for a in second] == [40]
    assert alerter.active == frozenset({"oms"})


def test_alerter_rules_on_different_stages_are_independent() -> None:
    tracker = LatencyTracker(["risk", "oms"])
    _record(tracker, "risk", 50, 100)
    _record(tracker, "oms", 10, 100)
    alerter, _ = _alerter(
        tracker, LatencyAlertRule(stage="risk", p99_ns=20), LatencyAlertRule(stage="oms", p99_ns=20)
    )

    raised = alerter.evaluate(now_ns=1)

    assert [a.stage for a in raised] == ["risk"]
    assert alerter.active == frozenset({"risk"})


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"stage": "risk", "p99_ns": 0}, "p99_ns"),
        ({"stage": "risk", "p99_ns": 1, "min_count": 0}, "min_count"),
    ],
)
def test_alert_rule_invalid_value_is_rejected_naming_field(
    fields: dict[str, object], name: str
) -> None:
    with pytest.raises(msgspec.ValidationError) as error:
        msgspec.convert(fields, LatencyAlertRule)

    assert f"$.{name}" in str(error.value)
