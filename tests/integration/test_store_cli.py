"""The store commands end to end: stress, events last/verify, projections rebuild."""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from spreadwire.cli import meter
from spreadwire.cli.main import main
from spreadwire.eventstore import verify


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().out


def _exercise(capsys: pytest.CaptureFixture[str], url: str, read_models: list[str]) -> list[int]:
    status, out = run(
        capsys, "store", "stress", "--store", url, "--writers", "3", "--seconds", "0.3"
    )
    assert status == 0
    acked = [int(line) for line in out.split()]
    status, last = run(capsys, "events", "last", "--store", url)
    assert status == 0
    assert int(last) == max(acked)
    status, out = run(capsys, "projections", "rebuild", "--store", url, *read_models)
    assert status == 0
    assert f"to position {max(acked)}" in out
    status, out = run(capsys, "events", "verify", "--store", url, *read_models)
    assert status == 0, out
    assert "0 differences" in out
    return acked


def test_store_cli_sqlite_stress_last_rebuild_verify_agree(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    acked = _exercise(capsys, f"sqlite:///{tmp_path / 'events.db'}", [])

    assert sorted(acked) == list(range(1, len(acked) + 1))


def test_store_cli_sqlite_verify_reports_a_corrupt_entry_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "events.db"
    url = f"sqlite:///{path}"
    _exercise(capsys, url, [])
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE events SET checksum = 1 WHERE position = 1")

    status, out = run(capsys, "events", "verify", "--store", url)

    assert status == 1
    assert "position 1: checksum mismatch" in out
    assert "NOT sound" in out


def test_store_cli_sqlite_verify_reports_a_broken_stream_link_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A changed ``previous`` passes the checksum; verify must still say the log is not
    sound, naming the entry, its stream and both positions."""
    path = tmp_path / "events.db"
    url = f"sqlite:///{path}"
    _exercise(capsys, url, [])
    with sqlite3.connect(path) as connection:
        position, stream, previous = connection.execute(
            "SELECT position, stream, previous FROM events WHERE previous > 0"
            " ORDER BY position DESC LIMIT 1"
        ).fetchone()
        connection.execute("UPDATE events SET previous = 0 WHERE position = ?", (position,))
    connection.close()

    status, out = run(capsys, "events", "verify", "--store", url, "--skip-read-models")

    assert status == 1
    assert (
        f"position {position}: stream {stream!r} links back to position 0,"
        f" expected {previous}" in out
    )
    assert "1 problems" in out
    assert "NOT sound" in out


def test_store_cli_sqlite_verify_reports_a_stale_read_model_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    _exercise(capsys, url, [])
    with sqlite3.connect(tmp_path / "events.readmodels.db") as connection:
        connection.execute("DELETE FROM rm_orders")

    status, out = run(capsys, "events", "verify", "--store", url)

    assert status == 1
    assert "orders.orders[stress-0]: missing" in out


def test_store_cli_missing_sqlite_store_is_an_argument_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["events", "last", "--store", f"sqlite:///{tmp_path / 'absent.db'}"])

    assert exit_info.value.code == 2
    assert "no event store" in capsys.readouterr().err


@pytest.mark.postgres
def test_store_cli_postgres_stress_last_rebuild_verify_agree(
    capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    acked = _exercise(capsys, postgres_url, ["--read-models", postgres_url])

    assert len(set(acked)) == len(acked)


def test_store_cli_data_synth_then_vwap_and_slice_queries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = str(tmp_path / "ticks")
    status, out = run(
        capsys, "data", "synth", "--root", root, "--rows", "2000", "--instruments", "2"
    )
    assert status == 0
    assert "wrote 2000 trades" in out

    status, out = run(
        capsys,
        "data",
        "query",
        "--root",
        root,
        "--vwap",
        "--start",
        "2024-01-02T09:00",
        "--end",
        "2024-01-03",
        "--json",
    )
    assert status == 0
    assert [line.count('"trades":1000') for line in out.splitlines()] == [1, 1]

    status, out = run(
        capsys,
        "data",
        "query",
        "--root",
        root,
        "--instrument",
        "SYN0.SIM",
        "--start",
        "2024-01-02T09:00",
        "--end",
        "2024-01-03",
        "--limit",
        "1",
    )
    assert status == 0
    assert out.splitlines()[0] == "1000 trades"


def test_store_cli_long_passes_report_progress_on_stderr_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    url = f"sqlite:///{tmp_path / 'events.db'}"
    acked = _exercise(capsys, url, [])
    monkeypatch.setattr(meter, "INTERVAL_S", 0.0)
    monkeypatch.setattr(verify, "PROGRESS_EVERY", 100)

    assert main(["projections", "rebuild", "--store", url]) == 0
    rebuilt = capsys.readouterr()
    assert main(["events", "verify", "--store", url]) == 0
    verified = capsys.readouterr()

    head = f"of {max(acked):,}"
    assert f"applying: {max(acked):,} {head} (100%)" in rebuilt.err
    assert f"checking the log: 100 {head}" in verified.err
    assert "rebuilding orders to compare" in verified.err
    assert rebuilt.out.startswith("rebuilt ") and verified.out.endswith("sound\n")
    assert "applying" not in rebuilt.out and "checking" not in verified.out


@pytest.mark.postgres
def test_store_cli_postgres_verify_reports_documents_without_tracking_with_exit_1(
    capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    """Documents whose tracking positions are gone are not a rebuild: as with SQLite."""
    _exercise(capsys, postgres_url, ["--read-models", postgres_url])
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DELETE FROM rm_tracking")

    status, out = run(capsys, "events", "verify", "--store", postgres_url)

    assert status == 1, out
    assert "orders.orders[stress-0]: not in a rebuild" in out


def test_store_cli_verify_report_stays_on_stdout_when_stderr_is_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress bar (on a terminal's standard error) must not take standard output
    with it: ``events verify > report.txt`` keeps the report."""
    url = f"sqlite:///{tmp_path / 'events.db'}"
    _exercise(capsys, url, [])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)

    assert main(["events", "verify", "--store", url]) == 0
    captured = capsys.readouterr()

    assert captured.out.startswith("log: ") and captured.out.endswith("sound\n")
    assert "sound" not in captured.err


class _BreaksAfter:
    """A memory store whose commits fail (for good) after ``good`` of them."""

    def __init__(self, good: int) -> None:
        from spreadwire.eventstore.memory import MemoryRecorder

        self.inner = MemoryRecorder()
        self.good = good

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def commit(self, appends: object, *, durability: object = None) -> object:
        from spreadwire.errors import StoreError

        if self.good <= 0:
            raise StoreError("disk full")
        self.good -= 1
        return self.inner.commit(appends, durability=durability)  # type: ignore[arg-type]


def test_store_cli_stress_store_failure_is_one_line_exit_2_and_counts_what_it_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from spreadwire.cli import store as store_cli

    monkeypatch.setattr(store_cli, "open_recorder", lambda url, must_exist: _BreaksAfter(20))
    with pytest.raises(SystemExit) as exit_info:
        main(["store", "stress", "--store", f"sqlite:///{tmp_path / 'e.db'}", "--seconds", "30"])
    captured = capsys.readouterr()
    printed = captured.out.split()

    assert exit_info.value.code == 2
    assert "Traceback" not in captured.err
    assert captured.err.splitlines()[-1] == "spreadwire store: error: append failed: disk full"
    assert f"stress: {len(printed)} acknowledged (durable)" in captured.err
    assert sorted(map(int, printed)) == list(range(1, len(printed) + 1))


def test_store_cli_stress_stops_at_ctrl_c_with_what_it_acknowledged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Ctrl-C reaches only the main thread: the writer threads went on appending (and the
    process did not exit) until --seconds ran out, and no summary was printed."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    before = threading.active_count()
    ctrl_c = threading.Timer(0.5, signal.pthread_kill, (main_thread, signal.SIGINT))
    ctrl_c.start()

    status = main(["store", "stress", "--store", url, "--writers", "3", "--seconds", "60"])
    ctrl_c.join()
    captured = capsys.readouterr()
    printed = [int(line) for line in captured.out.split()]

    assert status == 130
    assert threading.active_count() == before
    assert f"stress: {len(printed)} acknowledged (durable)" in captured.err
    assert run(capsys, "events", "last", "--store", url) == (0, f"{max(printed)}\n")


def test_store_cli_stress_refuses_a_memory_store_and_says_when_it_is_relaxed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["store", "stress", "--store", "memory://", "--seconds", "0.1"])
    assert exit_info.value.code == 2
    assert "--store: memory:// keeps nothing" in capsys.readouterr().err

    status = main(
        ["store", "stress", "--store", f"sqlite:///{tmp_path / 'e.db'}", "--seconds", "0.1",
         "--durability", "relaxed"]
    )  # fmt: skip
    captured = capsys.readouterr()

    assert status == 0
    assert captured.out.split()
    assert "relaxed durability" in captured.err
    assert "acknowledged (relaxed)" in captured.err


class _Appended:
    """A log a node keeps appending to: each read commits one more entry first (up to
    ``more``), faster than a rebuild can apply them."""

    def __init__(self, inner: Any, more: int) -> None:
        from spreadwire.eventstore.writer import EventWriter

        self.inner = inner
        self.more = more
        self.writer = EventWriter(inner)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read(self, after: int = 0, limit: int | None = None) -> object:
        from spreadwire.cli.store import stress_event

        if self.more > 0:
            self.more -= 1
            self.writer.append_durable(stress_event(99, self.more, 1))
        return self.inner.read(after, limit)

    def close(self) -> None:
        self.writer.close()
        self.inner.close()


def test_store_cli_projections_rebuild_ends_at_the_head_it_began_with(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Beside a node appending faster than it applies, a rebuild chased the log's tail
    and never ended; it goes up to the head it read first (the node's runner goes on)."""
    from spreadwire.cli.stores import open_recorder

    url = f"sqlite:///{tmp_path / 'events.db'}"
    _, out = run(capsys, "store", "stress", "--store", url, "--writers", "1", "--seconds", "0.1")
    head = max(int(line) for line in out.split())
    monkeypatch.setattr(
        "spreadwire.cli.projections.open_recorder",
        lambda url: _Appended(open_recorder(url), more=30),
    )

    status, out = run(capsys, "projections", "rebuild", "--store", url)

    assert status == 0
    assert f"rebuilt 5 projections to position {head} " in out


def test_store_cli_projections_status_reads_only_and_reports_the_lag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    status, out = run(
        capsys, "store", "stress", "--store", url, "--writers", "2", "--seconds", "0.2"
    )
    head = max(int(line) for line in out.split())

    status, out = run(capsys, "projections", "status", "--store", url)

    assert status == 0
    assert out.splitlines()[0] == f"head {head}"
    assert "no read models at" in out and "projections rebuild" in out
    assert not (tmp_path / "events.readmodels.db").exists()

    run(capsys, "projections", "rebuild", "--store", url)
    status, out = run(capsys, "projections", "status", "--store", url)

    assert status == 0
    assert all(line.endswith("behind 0") for line in out.splitlines()[1:]), out


def test_store_cli_status_and_verify_create_nothing_in_a_sqlite_file_without_read_models(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Named as read models, any SQLite file (here the event store itself, and a file in
    rollback-journal mode) got an rm_tracking table and WAL mode from commands that only
    read."""
    url = f"sqlite:///{tmp_path / 'events.db'}"
    run(capsys, "store", "stress", "--store", url, "--writers", "1", "--seconds", "0.05")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()

    for models in (url, f"sqlite:///{other}"):
        status, out = run(capsys, "projections", "status", "--store", url, "--read-models", models)
        assert status == 0 and "no read models at" in out, out
        status, out = run(capsys, "events", "verify", "--store", url, "--read-models", models)
        assert status == 0 and "read models: none at" in out, out

    for path in (tmp_path / "events.db", other):
        with sqlite3.connect(path) as connection:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        connection.close()
        assert "rm_tracking" not in tables, path
    assert mode == "delete"


def test_store_cli_projections_status_exits_1_for_read_models_ahead_of_the_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Read models built from a longer log, shown against a shorter one: not 'behind -N'."""
    long, short = f"sqlite:///{tmp_path / 'long.db'}", f"sqlite:///{tmp_path / 'short.db'}"
    models = f"sqlite:///{tmp_path / 'models.db'}"
    run(capsys, "store", "stress", "--store", long, "--writers", "2", "--seconds", "0.3")
    run(capsys, "store", "stress", "--store", short, "--writers", "1", "--seconds", "0.05")
    with sqlite3.connect(tmp_path / "long.db") as connection:
        long_head = connection.execute("SELECT max(position) FROM events").fetchone()[0]
    with sqlite3.connect(tmp_path / "short.db") as connection:
        short_head = connection.execute("SELECT max(position) FROM events").fetchone()[0]
    assert long_head > short_head
    run(capsys, "projections", "rebuild", "--store", long, "--read-models", models)

    status, out = run(capsys, "projections", "status", "--store", short, "--read-models", models)

    assert status == 1, out
    assert f"orders       {long_head:>12}  ahead of the log by {long_head - short_head}" in out
    assert "built from another log" in out


def test_store_cli_projections_catch_up_exits_1_for_read_models_ahead_of_the_log(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """It printed 'caught up 5 projections to position <the other log's head>', exit 0,
    for read models that status calls ahead of the log (exit 1)."""
    long, short = f"sqlite:///{tmp_path / 'long.db'}", f"sqlite:///{tmp_path / 'short.db'}"
    models = f"sqlite:///{tmp_path / 'models.db'}"
    run(capsys, "store", "stress", "--store", long, "--writers", "2", "--seconds", "0.3")
    run(capsys, "store", "stress", "--store", short, "--writers", "1", "--seconds", "0.05")
    run(capsys, "projections", "rebuild", "--store", long, "--read-models", models)
    _, short_head = run(capsys, "events", "last", "--store", short)

    status, out = run(capsys, "projections", "catch-up", "--store", short, "--read-models", models)

    assert status == 1, out
    assert out.startswith(f"head {short_head}")
    assert "caught up" not in out and "built from another log" in out
    status, out = run(capsys, "projections", "catch-up", "--store", long, "--read-models", models)
    assert status == 0 and out.startswith("caught up 5 projections"), out


@pytest.mark.postgres
def test_store_cli_postgres_projections_status_creates_no_read_models(
    capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    run(capsys, "store", "stress", "--store", postgres_url, "--writers", "1", "--seconds", "0.1")

    status, out = run(capsys, "projections", "status", "--store", postgres_url)

    assert status == 0
    assert "no read models at" in out
    with psycopg.connect(postgres_url) as connection:
        found = connection.execute("SELECT to_regclass('rm_tracking')").fetchone()
    assert found == (None,)
