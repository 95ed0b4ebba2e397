"""Which damage at the end of the log is a torn tail (cut on open) and which is not."""

from __future__ import annotations

from spreadwire.eventstore.checksum import entry_checksum
from spreadwire.eventstore.records import Record
from spreadwire.eventstore.tail import check_tail, first_bad_position


def entry(position: int, *, sound: bool = True) -> Record:
    payload = b"\x91\x01"
    checksum = entry_checksum(
        position, "s", position, type_name="T", schema=1, ts=0, payload=payload
    )
    return Record(
        position=position,
        stream="s",
        version=position,
        type="T",
        schema=1,
        ts=0,
        payload=payload,
        checksum=checksum if sound else checksum ^ 1,
    )


def log(count: int, *, bad: tuple[int, ...] = (), missing: tuple[int, ...] = ()) -> list[Record]:
    return [entry(p, sound=p not in bad) for p in range(1, count + 1) if p not in missing]


def test_a_sound_log_has_nothing_to_cut() -> None:
    assert check_tail(log(10), 0) is None
    assert check_tail(log(10)[4:], 4) is None
    assert check_tail([], 0) is None


def test_a_trailing_run_of_bad_entries_is_a_torn_tail() -> None:
    assert check_tail(log(10, bad=(8, 9, 10)), 0) == (8, True)
    assert check_tail(log(10, bad=(10,)), 0) == (10, True)
    # missing entries at the end of a run of bad ones: still nothing sound after
    assert check_tail(log(10, bad=(8, 10), missing=(9,)), 0) == (8, True)


def test_a_bad_entry_followed_by_sound_ones_is_damage_not_a_torn_tail() -> None:
    assert check_tail(log(10, bad=(5,)), 0) == (5, False)
    assert check_tail(log(10, bad=(5, 9)), 0) == (5, False)
    assert check_tail(log(10, bad=(5, 10)), 0) == (5, False)


def test_a_missing_entry_followed_by_sound_ones_is_damage_not_a_torn_tail() -> None:
    assert check_tail(log(10, missing=(5,)), 0) == (5, False)
    assert check_tail(log(10, missing=(5, 6)), 0) == (5, False)


def test_a_head_ahead_of_the_last_entry_means_missing_entries_at_the_end() -> None:
    assert check_tail(log(8), 0, head=10) == (9, True)
    assert check_tail(log(10), 0, head=10) is None


def test_entries_committed_after_the_head_was_read_are_not_looked_at() -> None:
    # another process committed 11 and 12 between reading the head (10) and the tail
    assert check_tail(log(12), 0, head=10) is None
    assert check_tail(log(12, bad=(12,)), 0, head=10) is None
    assert check_tail(log(12, bad=(9, 10)), 0, head=10) == (9, True)


def test_first_bad_position_reports_the_first_problem_of_either_kind() -> None:
    assert first_bad_position(log(10), 0) is None
    assert first_bad_position(log(10, bad=(5,)), 0) == 5
    assert first_bad_position(log(10, missing=(5,)), 0) == 5
