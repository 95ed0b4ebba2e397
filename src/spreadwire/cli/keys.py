"""``spreadwire keys``: manage the API keys of the REST and WebSocket gateway.

* ``keys create --role viewer|trader|admin [--label TEXT] [--store PATH]`` prints a new
  key on stdout (only its hash is stored, so this is the one time it is shown);
* ``keys list [--store PATH]`` prints id, role, state and label of every key;
* ``keys revoke KEY_ID [--store PATH]`` revokes a key (a running node re-reads the file
  within a second).

The store is a JSON file, ``runs/keys.json`` by default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from spreadwire.api.keys import ROLES, KeyStore
from spreadwire.core.clock import LiveClock

DEFAULT_STORE = Path("runs") / "keys.json"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("keys", help="create, list and revoke API keys")
    commands = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--role", choices=ROLES, required=True, help="what the key may do")
    create.add_argument("--label", default="", help="a note stored with the key")
    create.set_defaults(handler=run_create)
    listing = commands.add_parser("list", help="list keys (never their secrets)")
    listing.set_defaults(handler=run_list)
    revoke = commands.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id", help="the id shown by 'keys list'")
    revoke.set_defaults(handler=run_revoke)
    for command in (create, listing, revoke):
        command.add_argument(
            "--store", type=Path, default=DEFAULT_STORE, help=f"key file (default {DEFAULT_STORE})"
        )


def _open(args: argparse.Namespace) -> KeyStore:
    return KeyStore(args.store, clock=LiveClock())


def run_create(args: argparse.Namespace) -> int:
    record, key = _open(args).create(args.role, args.label)
    print(key)
    print(f"created key {record.key_id} ({record.role}) in {args.store}", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    for record in _open(args).records():
        state = "revoked" if record.revoked else "active"
        print(f"{record.key_id}\t{record.role}\t{state}\t{record.label}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    if not _open(args).revoke(args.key_id):
        print(f"spreadwire keys: no active key {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}", file=sys.stderr)
    return 0
