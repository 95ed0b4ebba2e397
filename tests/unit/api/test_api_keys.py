"""API keys: hashed at rest, roles, revocation, file sharing between processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwire.api.keys import KeyStore, digest, role_allows
from spreadwire.core.clock import SimClock
from spreadwire.errors import ValidationError


def make_store(path: Path | None = None, clock: SimClock | None = None) -> KeyStore:
    clock = clock or SimClock(start_ns=1_000)
    return KeyStore(path, clock=clock, monotonic_ns=clock.timestamp_ns, reload_interval_ns=1)


def test_key_store_created_key_verifies_with_its_role() -> None:
    store = make_store()

    record, key = store.create("trader", "desk")

    verified = store.verify(key)
    assert verified is not None
    assert (verified.key_id, verified.role, verified.label) == (record.key_id, "trader", "desk")


def test_key_store_keeps_only_the_hash() -> None:
    store = make_store()

    record, key = store.create("viewer")

    assert record.digest == digest(key)
    assert key not in repr(store.records())


@pytest.mark.parametrize(
    "presented",
    ["", "swk_", "swk_abc_def", "nonsense", "Bearer x"],
)
def test_key_store_malformed_or_unknown_key_is_refused(presented: str) -> None:
    store = make_store()
    store.create("admin")

    assert store.verify(presented) is None


def test_key_store_key_with_wrong_secret_is_refused() -> None:
    store = make_store()
    record, key = store.create("admin")

    forged = f"swk_{record.key_id}_{'A' * 43}"

    assert store.verify(forged) is None
    assert store.verify(key) is not None


def test_key_store_revoked_key_is_refused_and_listeners_hear_it() -> None:
    store = make_store()
    record, key = store.create("admin")
    heard: list[str] = []
    store.on_revoke(heard.append)

    revoked = store.revoke(record.key_id)

    assert revoked is True
    assert store.verify(key) is None
    assert heard == [record.key_id]
    assert store.revoke(record.key_id) is False


def test_key_store_unknown_role_is_a_validation_error_naming_role() -> None:
    store = make_store()

    with pytest.raises(ValidationError) as raised:
        store.create("root")

    assert raised.value.field == "role"


def test_key_store_file_is_private_and_shared_between_instances(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    writer = make_store(path)
    reader = make_store(path)

    _, key = writer.create("viewer")

    assert path.stat().st_mode & 0o777 == 0o600
    assert key not in path.read_text()
    assert reader.verify(key) is not None


def test_key_store_revocation_in_another_instance_reaches_a_running_one(tmp_path: Path) -> None:
    clock = SimClock(start_ns=1_000)
    path = tmp_path / "keys.json"
    running = make_store(path, clock)
    record, key = running.create("admin")
    assert running.verify(key) is not None

    make_store(path).revoke(record.key_id)
    clock.advance(10)

    assert running.verify(key) is None


def test_key_store_imported_key_verifies_and_import_is_idempotent() -> None:
    store = make_store()
    chosen = "my-operator-chosen-admin-key-0123456789"

    first = store.import_key(chosen, "admin")
    again = store.import_key(chosen, "admin")

    assert first == again
    verified = store.verify(chosen)
    assert verified is not None
    assert verified.role == "admin"


def test_key_store_short_imported_key_is_refused() -> None:
    store = make_store()

    with pytest.raises(ValidationError) as raised:
        store.import_key("short", "admin")

    assert raised.value.field == "key"


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [
        ("viewer", "viewer", True),
        ("viewer", "trader", False),
        ("trader", "viewer", True),
        ("trader", "admin", False),
        ("admin", "trader", True),
        ("nobody", "viewer", False),
    ],
)
def test_role_allows_follows_viewer_trader_admin_order(
    role: str, required: str, allowed: bool
) -> None:
    assert role_allows(role, required) is allowed
