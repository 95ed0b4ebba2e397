"""The kill -9 harness: run ``spreadwire store stress``, SIGKILL it at a random moment,
reopen the store and check that every acknowledged position survived.

Each trial checks, after reopening (which truncates a torn tail, if any):

* the child acknowledged something, printed no position twice, and was still running
  when it was killed (a child that failed on its own proves nothing about kill -9);
* every position the child printed (acknowledged) is stored, with its event intact;
* the whole log verifies: positions gap-free, stream versions contiguous, checksums.

Kill -9 proves acknowledged data reached the operating system and that recovery handles
a half-done transaction; it cannot tell fsync from no fsync (that needs a power cut).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO

import msgspec

from spreadwire.core.clock import perf_counter_ns, sleep_until_perf
from spreadwire.eventstore.verify import verify_log
from spreadwire.persistence.store import open_store


class TrialResult(msgspec.Struct, frozen=True, kw_only=True):
    acked: int
    lost: int
    bad_bodies: int
    head: int
    log_problems: int
    torn_at: int
    truncated: int
    kill_after_ms: int
    #: The child's exit status: ``-SIGKILL`` when the harness killed it.
    exit_status: int = -signal.SIGKILL
    duplicates: int = 0
    details: tuple[str, ...] = ()

    @property
    def killed(self) -> bool:
        return self.exit_status == -signal.SIGKILL

    @property
    def ok(self) -> bool:
        return (
            self.acked > 0
            and self.killed
            and self.duplicates == 0
            and self.lost == 0
            and self.bad_bodies == 0
            and self.log_problems == 0
        )


def stress_command(url: str, writers: int, durability: str = "durable") -> list[str]:
    return [
        sys.executable,
        "-m",
        "spreadwire.cli.main",
        "store",
        "stress",
        "--store",
        url,
        "--writers",
        str(writers),
        "--seconds",
        "600",
        "--durability",
        durability,
    ]


def _collect(stream: IO[str], acked: list[int], first: threading.Event) -> None:
    for line in stream:
        if line.endswith("\n") and line.strip().isdigit():
            acked.append(int(line))
            first.set()
    first.set()


def _kill_at_random(
    command: Sequence[str], rng: random.Random, window_ms: tuple[int, int]
) -> tuple[list[int], int, int]:
    acked: list[int] = []
    first = threading.Event()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ
    )
    assert child.stdout is not None
    reader = threading.Thread(target=_collect, args=(child.stdout, acked, first), daemon=True)
    reader.start()
    try:
        first.wait(60)
        delay_ms = rng.randint(*window_ms)
        sleep_until_perf(perf_counter_ns() + delay_ms * 1_000_000)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait()
        reader.join(30)
        child.stdout.close()
    return acked, delay_ms, child.returncode


def run_trial(
    url: str,
    *,
    writers: int = 4,
    rng: random.Random,
    window_ms: tuple[int, int] = (50, 600),
    durability: str = "durable",
) -> TrialResult:
    """One kill -9 trial against the store at ``url`` (reused across trials)."""
    acked, delay_ms, status = _kill_at_random(
        stress_command(url, writers, durability), rng, window_ms
    )
    recorder = open_store(url)
    try:
        recovery = recorder.recovery
        head = recorder.last_position()
        details: list[str] = []
        if not acked:
            details.append("the child acknowledged nothing")
        if status != -signal.SIGKILL:
            details.append(f"the child exited on its own (status {status}) before the kill")
        wanted = set(acked)
        duplicates = len(acked) - len(wanted)
        if duplicates:
            details.append(f"{duplicates} positions printed more than once")
        found: dict[int, bool] = {}
        if wanted:
            low = min(wanted)
            for entry in recorder.read(low - 1):
                if entry.position in wanted:
                    message = entry.message
                    found[entry.position] = getattr(message, "strategy_id", None) == "stress"
        lost = sorted(wanted - found.keys())
        bad = sorted(p for p, good in found.items() if not good)
        if lost:
            details.append(f"lost acknowledged positions {lost[:10]}")
        if bad:
            details.append(f"wrong bodies at {bad[:10]}")
        report = verify_log(recorder)
        details.extend(report.details)
        return TrialResult(
            acked=len(acked),
            lost=len(lost),
            bad_bodies=len(bad),
            head=head,
            log_problems=report.problems,
            torn_at=recovery.torn_at,
            truncated=recovery.truncated,
            kill_after_ms=delay_ms,
            exit_status=status,
            duplicates=duplicates,
            details=tuple(details),
        )
    finally:
        recorder.close()
