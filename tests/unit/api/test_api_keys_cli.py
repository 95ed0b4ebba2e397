"""``spreadwire keys``: create prints the key once, list hides secrets, revoke."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from spreadwire.api.keys import KeyStore
from spreadwire.cli import keys as keys_cli
from spreadwire.core.clock import LiveClock


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="spreadwire")
    keys_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


def test_keys_create_prints_a_working_key_and_stores_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "keys.json"

    status = run(["keys", "create", "--role", "trader", "--store", str(store)])

    key = capsys.readouterr().out.strip()
    assert status == 0
    assert key.startswith("swk_")
    assert key not in store.read_text()
    verified = KeyStore(store, clock=LiveClock()).verify(key)
    assert verified is not None
    assert verified.role == "trader"


def test_keys_list_and_revoke_manage_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "keys.json"
    run(["keys", "create", "--role", "viewer", "--label", "grafana", "--store", str(store)])
    key = capsys.readouterr().out.strip()
    key_id = key.split("_")[1]

    run(["keys", "list", "--store", str(store)])
    listed = capsys.readouterr().out
    revoked = run(["keys", "revoke", key_id, "--store", str(store)])
    again = run(["keys", "revoke", key_id, "--store", str(store)])

    assert listed.strip() == f"{key_id}\tviewer\tactive\tgrafana"
    assert key not in listed
    assert (revoked, again) == (0, 1)
    assert KeyStore(store, clock=LiveClock()).verify(key) is None


def test_keys_create_with_unknown_role_exits_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        run(["keys", "create", "--role", "root", "--store", str(tmp_path / "k.json")])

    assert raised.value.code == 2
