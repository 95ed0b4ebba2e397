"""What a user sees when the command line meets a bad store, path or range: one line
naming the option, exit status 2, no traceback, and nothing already stored is touched."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from spreadwire.cli.main import main
from spreadwire.eventstore.checksum import entry_checksum
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.store import open_store
from tests.builders import make_accepted
from tests.services import postgres_database_url

#: How many orders the read-model test stores: more than ``events verify`` lists.
ORDERS = 60


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``spreadwire ARGS`` in its own process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "spreadwire.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def _assert_one_line_error(
    result: subprocess.CompletedProcess[str], command: str, *expected: str, usage: bool = False
) -> None:
    """Exit status 2 and one error line naming ``expected`` (after argparse's usage lines
    when ``usage``), no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert usage or len(lines) == 1, result.stderr
    assert lines[-1].startswith(f"spreadwire {command}: error: "), result.stderr
    for text in expected:
        assert text in lines[-1]


def _store_with_orders(path: Path, orders: int) -> str:
    url = f"sqlite:///{path}"
    recorder = open_store(url)
    with EventWriter(recorder) as writer:
        for order in range(orders):
            writer.append(make_accepted(f"c{order:03d}", order + 1))
    recorder.close()
    return url


def _demo_args(out: Path, *extra: str, seconds: str = "30") -> list[str]:
    return [
        "demo",
        *("--seconds", seconds, "--speed", "max", "--no-live", "--no-api"),
        *("--out", str(out)),
        *extra,
    ]


def _replace_payload(path: Path, position: int, payload: bytes) -> None:
    """Store ``payload`` at ``position`` with a checksum that matches it (so only the
    decoding fails, not the checksum)."""
    with sqlite3.connect(path) as connection:
        stream, version, type_name, schema, ts = connection.execute(
            "SELECT stream, version, type, schema, ts FROM events WHERE position = ?",
            (position,),
        ).fetchone()
        checksum = entry_checksum(
            position, stream, version, type_name=type_name, schema=schema, ts=ts, payload=payload
        )
        connection.execute(
            "UPDATE events SET payload = ?, checksum = ? WHERE position = ?",
            (payload, checksum, position),
        )


def _head(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (head,) = connection.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
    return int(head)


def _files(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def test_cli_events_last_store_is_a_directory_exits_2_naming_store(tmp_path: Path) -> None:
    directory = tmp_path / "adir"
    directory.mkdir()

    result = _cli(tmp_path, "events", "last", "--store", f"sqlite:///{directory}")

    _assert_one_line_error(result, "events", "--store", str(directory))


def test_cli_events_last_store_not_a_database_exits_2_and_leaves_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "summary.json"
    path.write_text('{"run_id": "r"}\n')

    result = _cli(tmp_path, "events", "last", "--store", f"sqlite:///{path}")

    _assert_one_line_error(result, "events", "--store", "file is not a database")
    assert path.read_text() == '{"run_id": "r"}\n'


def test_cli_projections_rebuild_undecodable_payload_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    url = _store_with_orders(path, 3)
    _replace_payload(path, 1, msgspec.msgpack.encode({"unexpected": 1}))

    result = _cli(tmp_path, "projections", "rebuild", "--store", url)

    _assert_one_line_error(result, "projections", "cannot decode OrderAccepted")
    assert _head(path) == 3


def test_cli_projections_rebuild_malformed_payload_bytes_exits_2_naming_it(
    tmp_path: Path,
) -> None:
    """Bytes that are not MessagePack at all (not only the wrong fields)."""
    path = tmp_path / "events.db"
    url = _store_with_orders(path, 3)
    _replace_payload(path, 2, b"\xc1\xc1\xc1")  # 0xc1 is never used in MessagePack

    result = _cli(tmp_path, "projections", "rebuild", "--store", url)

    _assert_one_line_error(result, "projections", "cannot decode OrderAccepted")
    assert _head(path) == 3


def test_cli_events_verify_says_how_far_the_read_models_are_behind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "events.db"
    url = _store_with_orders(path, 5)
    assert main(["projections", "rebuild", "--store", url]) == 0
    recorder = open_store(url)
    with EventWriter(recorder) as writer:
        for order in range(5, 8):
            writer.append(make_accepted(f"c{order:03d}", order + 1))
    recorder.close()
    capsys.readouterr()

    status = main(["events", "verify", "--store", url])

    out = capsys.readouterr().out
    assert status == 0
    assert "read models: 0 differences from a rebuild (they have not applied the last 3" in out


@pytest.mark.postgres
def test_cli_events_last_missing_postgres_database_exits_2_with_the_server_reason(
    tmp_path: Path, postgres_server: str
) -> None:
    name = f"sw_missing_{uuid.uuid4().hex[:12]}"

    result = _cli(tmp_path, "events", "last", "--store", postgres_database_url(name))

    _assert_one_line_error(result, "events", "--store", f'database "{name}" does not exist')


@pytest.mark.postgres
def test_cli_store_stress_unknown_postgres_role_exits_2_without_the_password(
    tmp_path: Path, postgres_server: str
) -> None:
    role = f"sw_nobody_{uuid.uuid4().hex[:12]}"
    url = postgres_database_url("test").replace("postgres@", f"{role}:hunter2@")

    result = _cli(tmp_path, "store", "stress", "--store", url, "--seconds", "1")

    _assert_one_line_error(result, "store", "--store", f'role "{role}" does not exist')
    assert "hunter2" not in result.stderr


@pytest.mark.postgres
def test_cli_projections_status_missing_postgres_read_models_exits_2_naming_read_models(
    tmp_path: Path, postgres_server: str
) -> None:
    url = _store_with_orders(tmp_path / "events.db", 1)
    name = f"sw_missing_{uuid.uuid4().hex[:12]}"

    result = _cli(
        tmp_path,
        "projections",
        "status",
        "--store",
        url,
        "--read-models",
        postgres_database_url(name),
    )

    _assert_one_line_error(
        result, "projections", "--read-models", f'database "{name}" does not exist'
    )


def test_cli_projections_catch_up_on_locked_read_models_exits_2_naming_them(
    tmp_path: Path,
) -> None:
    """Another process holds the read models' write lock past the busy timeout: one
    line naming the read models, no traceback."""
    url = _store_with_orders(tmp_path / "events.db", 1)
    assert main(["projections", "rebuild", "--store", url]) == 0
    _store_with_orders(tmp_path / "events.db", 2)  # entries the read models have not seen
    holder = sqlite3.connect(tmp_path / "events.readmodels.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = _cli(tmp_path, "projections", "catch-up", "--store", url)
    finally:
        holder.close()

    _assert_one_line_error(result, "projections", "read models", "database is locked")


def test_cli_demo_out_is_an_existing_file_exits_2_naming_out(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("{}\n")

    result = _cli(tmp_path, *_demo_args(path))

    _assert_one_line_error(result, "demo", "--out", str(path), "not a directory")
    assert path.read_text() == "{}\n"


def test_cli_demo_out_cannot_be_created_exits_2_naming_out(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "run"

    result = _cli(tmp_path, *_demo_args(out))

    _assert_one_line_error(result, "demo", "--out", "cannot create directory")


@pytest.mark.parametrize(
    ("option", "start", "end"),
    [
        ("--end", "0", "99999999999999999999999"),
        ("--start", "-99999999999999999999999", "1"),
    ],
)
def test_cli_data_query_time_outside_int64_exits_2_naming_the_option(
    tmp_path: Path, option: str, start: str, end: str
) -> None:
    root = tmp_path / "ticks"
    synth = _cli(tmp_path, "data", "synth", "--root", str(root), "--rows", "10")
    assert synth.returncode == 0, synth.stderr

    result = _cli(
        tmp_path, "data", "query", "--root", str(root), "--vwap", f"--start={start}", f"--end={end}"
    )

    _assert_one_line_error(result, "data query", f"argument {option}", "int64", usage=True)


def test_cli_events_verify_counts_every_read_model_difference(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = _store_with_orders(tmp_path / "events.db", ORDERS)
    assert main(["projections", "rebuild", "--store", url]) == 0
    with sqlite3.connect(tmp_path / "events.readmodels.db") as connection:
        connection.execute("DELETE FROM rm_orders")
    capsys.readouterr()

    status = main(["events", "verify", "--store", url])

    out = capsys.readouterr().out
    assert status == 1
    assert f"read models: {ORDERS} differences from a rebuild" in out
    listed = [line for line in out.splitlines() if line.startswith("  orders.orders[")]
    assert len(listed) == 50
    assert f"  ... {ORDERS - 50} more" in out.splitlines()


def test_cli_demo_twice_into_one_out_refuses_the_second_run_and_keeps_the_first(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    assert main(_demo_args(out)) == 0
    head, ticks = _head(out / "events.db"), _files(out / "ticks")
    summary = (out / "summary.json").read_bytes()
    assert head > 0
    assert ticks

    result = _cli(tmp_path, *_demo_args(out))

    _assert_one_line_error(result, "demo", "--out", str(out), "--resume", f"{head} events")
    assert _head(out / "events.db") == head
    assert _files(out / "ticks") == ticks
    assert (out / "summary.json").read_bytes() == summary


def test_cli_demo_second_run_with_another_store_refuses_the_previous_ticks(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    first = f"sqlite:///{tmp_path / 'first.db'}"
    assert main(_demo_args(out, "--store", first)) == 0
    ticks = _files(out / "ticks")

    result = _cli(tmp_path, *_demo_args(out, "--store", f"sqlite:///{tmp_path / 'second.db'}"))

    _assert_one_line_error(result, "demo", "--out", "ticks", "--resume")
    assert _files(out / "ticks") == ticks
    assert not (tmp_path / "second.db").exists()


def test_cli_demo_store_with_events_refuses_naming_store(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    url = _store_with_orders(path, 2)

    result = _cli(tmp_path, *_demo_args(tmp_path / "run", "--store", url))

    _assert_one_line_error(result, "demo", "--store", "2 events", "--resume")
    assert _head(path) == 2
    assert not (tmp_path / "run").exists()


def test_cli_demo_second_run_with_resume_continues_the_first(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(_demo_args(out)) == 0
    head = _head(out / "events.db")

    status = main(_demo_args(out, "--resume", seconds="5"))

    assert status == 0
    assert _head(out / "events.db") >= head
    summary = msgspec.json.decode((out / "summary.json").read_bytes())
    assert summary["sim_seconds"] == pytest.approx(35.0, abs=0.5)


def test_cli_demo_resume_with_fewer_pairs_exits_2_naming_what_the_log_traded(
    tmp_path: Path,
) -> None:
    """The log holds orders on the second pair; a configuration with one pair cannot
    restore them: one line naming the instruments and the strategy, nothing stored."""
    out = tmp_path / "run"
    assert main(_demo_args(out, "--pairs", "2", seconds="25")) == 0
    head, ticks = _head(out / "events.db"), _files(out / "ticks")

    result = _cli(tmp_path, *_demo_args(out, "--resume", "--pairs", "1", seconds="5"))

    _assert_one_line_error(result, "demo", "--resume", "CCC.SIM, DDD.SIM", "pairs.CCC_DDD")
    assert _head(out / "events.db") == head
    assert _files(out / "ticks") == ticks


def _ticks_by_writer(root: Path) -> dict[str, tuple[int, int]]:
    """(first, last) ts_init of the ticks each writer (file-name token) recorded."""
    spans: dict[str, tuple[int, int]] = {}
    for path in root.rglob("part-*.parquet"):
        token = path.name.split("-")[2]
        column = pq.read_table(path, columns=["ts_init"]).column("ts_init").to_pylist()
        first, last = spans.get(token, (min(column), max(column)))
        spans[token] = (min(first, *column), max(last, *column))
    return spans


def test_cli_demo_resume_after_a_halt_records_ticks_after_the_first_runs(
    tmp_path: Path,
) -> None:
    """A halted run stores no events after the halt but goes on recording ticks: the
    resumed run's simulated time starts after those ticks, so the two never overlap."""
    out = tmp_path / "run"
    assert main(_demo_args(out, "--scenario", "reject-storm", seconds="60")) == 0
    first = _ticks_by_writer(out / "ticks")

    assert main(_demo_args(out, "--resume", seconds="5")) == 0
    both = _ticks_by_writer(out / "ticks")

    (token,) = first
    (second,) = [span for writer, span in both.items() if writer != token]
    assert second[0] > first[token][1]


def test_cli_data_query_root_without_tick_history_exits_2_naming_root(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "ticks" / "trades").mkdir(parents=True)
    missing = _cli(
        tmp_path,
        "data",
        "query",
        "--root",
        str(tmp_path / "nope"),
        "--vwap",
        "--start",
        "0",
        "--end",
        "10",
    )
    not_history = _cli(
        tmp_path, "data", "query", "--root", str(run), "--vwap", "--start", "0", "--end", "10"
    )

    _assert_one_line_error(missing, "data", "--root", "is not a directory")
    _assert_one_line_error(not_history, "data", "--root", "no tick history", str(run / "ticks"))


def test_cli_data_query_corrupt_parquet_file_exits_2_naming_the_history(tmp_path: Path) -> None:
    root = tmp_path / "tape"
    assert _cli(tmp_path, "data", "synth", "--root", str(root), "--rows", "20").returncode == 0
    (next(root.rglob("*.parquet"))).write_bytes(b"PAR1 torn")

    result = _cli(
        tmp_path,
        "data",
        "query",
        "--root",
        str(root),
        "--vwap",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-05",
    )

    _assert_one_line_error(result, "data", "cannot read tick history under", str(root))


def test_cli_data_synth_refuses_a_root_that_already_holds_trades(tmp_path: Path) -> None:
    root = tmp_path / "tape"
    first = _cli(tmp_path, "data", "synth", "--root", str(root), "--rows", "20")
    files = _files(root)
    second = _cli(tmp_path, "data", "synth", "--root", str(root), "--rows", "20")
    on_a_file = _cli(tmp_path, "data", "synth", "--root", str(next(iter(files))), "--rows", "5")
    too_late = _cli(
        tmp_path, "data", "synth", "--root", str(tmp_path / "late"), "--start", str(2**63 - 10)
    )

    assert first.returncode == 0, first.stderr
    _assert_one_line_error(second, "data", "--root", "already holds trades")
    _assert_one_line_error(on_a_file, "data", "--root", "is not a directory")
    _assert_one_line_error(too_late, "data", "--start", "passes 2262-04-11")
    assert _files(root) == files


def test_cli_data_query_output_cut_short_by_the_reader_is_no_traceback(tmp_path: Path) -> None:
    root = tmp_path / "tape"
    assert _cli(tmp_path, "data", "synth", "--root", str(root), "--rows", "5000").returncode == 0
    command = [sys.executable, "-m", "spreadwire.cli.main", "data", "query", "--root", str(root)]
    command += ["--instrument", "SYN0.SIM", "--start", "2024-01-01", "--end", "2024-01-05"]
    command += ["--limit", "5000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # the reader goes away, as `| head -1` does
        errors = process.stderr.read().decode()
        status = process.wait(timeout=120)

    assert "Traceback" not in errors
    assert status == 1
