"""API keys with roles, stored hashed in a JSON file.

A key reads ``swk_<key id>_<secret>``: a 48-bit public id and a 256-bit random secret.
The store keeps ``sha256(key)`` only, so a leaked file gives no usable key; since the
secret has full entropy a slow hash buys nothing, and one SHA-256 plus a constant-time
compare costs well under a microsecond per request. The id in front makes the lookup a
dict access instead of a scan.

The file (``keys.json``, mode 0600) is rewritten atomically under an advisory lock, so
``spreadwire keys create`` and a running node can share it: the node re-reads it when it
changed, at most once per ``reload_interval_ns``. Revoked keys stay in the file (audit)
and never authenticate again; revocation through the API takes effect at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, final

import msgspec

from spreadwire.api.schemas import Role
from spreadwire.core.clock import Clock, perf_counter_ns
from spreadwire.errors import ConfigError, ValidationError

KEY_PREFIX: Final = "swk"
ROLES: Final[tuple[Role, ...]] = ("viewer", "trader", "admin")
ROLE_RANK: Final[dict[str, int]] = {"viewer": 0, "trader": 1, "admin": 2}


def role_allows(role: str, required: str) -> bool:
    """Roles are ordered: admin can do what a trader can, a trader what a viewer can."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[required]


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _imported_id(key: str) -> str:
    """The id of a key not in ``swk_`` form: ``x`` + 11 hex digits of another hash."""
    return "x" + hashlib.sha256(b"spreadwire-key-id:" + key.encode()).hexdigest()[:11]


class StoredKey(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    role: Role
    label: str = ""
    digest: str
    ts_created: int
    ts_revoked: int | None = None

    @property
    def revoked(self) -> bool:
        return self.ts_revoked is not None


class KeyFile(msgspec.Struct, kw_only=True):
    version: int = 1
    keys: list[StoredKey] = msgspec.field(default_factory=list)


@final
class KeyStore:
    """Hashed API keys with roles; file-backed when given a path, else in memory."""

    __slots__ = (
        "_checked_ns",
        "_clock",
        "_keys",
        "_listeners",
        "_monotonic_ns",
        "_path",
        "_reload_interval_ns",
        "_stamp",
    )

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Clock,
        monotonic_ns: Callable[[], int] = perf_counter_ns,
        reload_interval_ns: int = 1_000_000_000,
    ) -> None:
        self._path = path
        self._clock = clock
        self._monotonic_ns = monotonic_ns
        self._reload_interval_ns = reload_interval_ns
        self._keys: dict[str, StoredKey] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._stamp: tuple[int, int] | None = None
        self._checked_ns = monotonic_ns()
        if path is not None:
            self._load()

    @property
    def path(self) -> Path | None:
        return self._path

    # --- hot path -------------------------------------------------------------------------

    def verify(self, presented: str) -> StoredKey | None:
        """The live key record for a presented key, or None (unknown, revoked, malformed)."""
        if self._path is not None:
            now = self._monotonic_ns()
            if now - self._checked_ns >= self._reload_interval_ns:
                self._checked_ns = now
                self._reload_if_changed()
        parts = presented.split("_", 2)
        key_id = parts[1] if len(parts) == 3 and parts[0] == KEY_PREFIX else _imported_id(presented)
        stored = self._keys.get(key_id)
        if stored is None and self._path is not None:
            # a key created a moment ago by another process: look at the file once more
            self._reload_if_changed()
            stored = self._keys.get(key_id)
        if stored is None or stored.ts_revoked is not None:
            return None
        if not hmac.compare_digest(digest(presented), stored.digest):
            return None
        return stored

    # --- management -----------------------------------------------------------------------

    def create(self, role: str, label: str = "") -> tuple[StoredKey, str]:
        """Make a new key for ``role``; return its record and the secret key (shown once)."""
        if role not in ROLE_RANK:
            raise ValidationError("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
        with self._locked():
            key_id = secrets.token_hex(6)
            while key_id in self._keys:
                key_id = secrets.token_hex(6)
            key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
            record = StoredKey(
                key_id=key_id,
                role=role,  # type: ignore[arg-type]
                label=label,
                digest=digest(key),
                ts_created=self._clock.timestamp_ns(),
            )
            self._keys[key_id] = record
            self._save()
        return record, key

    def import_key(self, key: str, role: str, label: str = "") -> StoredKey:
        """Store a key chosen elsewhere (``--admin-key``); idempotent for the same key.

        A key in the ``swk_<id>_<secret>`` form keeps its id; any other string of at least
        24 characters gets an id derived from its hash.
        """
        if role not in ROLE_RANK:
            raise ValidationError("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
        parts = key.split("_", 2)
        if len(parts) == 3 and parts[0] == KEY_PREFIX and len(parts[2]) >= 24:
            key_id = parts[1]
        elif len(key) >= 24:
            key_id = _imported_id(key)
        else:
            raise ValidationError("key", "must be at least 24 characters")
        with self._locked():
            stored = self._keys.get(key_id)
            if stored is not None and stored.digest == digest(key) and not stored.revoked:
                return stored
            if stored is not None:
                raise ValidationError("key", f"key id {key_id} is taken or revoked")
            stored = StoredKey(
                key_id=key_id,
                role=role,  # type: ignore[arg-type]
                label=label,
                digest=digest(key),
                ts_created=self._clock.timestamp_ns(),
            )
            self._keys[key_id] = stored
            self._save()
        return stored

    def revoke(self, key_id: str) -> bool:
        """Revoke ``key_id``; False when it is unknown or already revoked."""
        with self._locked():
            stored = self._keys.get(key_id)
            if stored is None or stored.revoked:
                return False
            self._keys[key_id] = msgspec.structs.replace(
                stored, ts_revoked=self._clock.timestamp_ns()
            )
            self._save()
        for listener in self._listeners:
            listener(key_id)
        return True

    def get(self, key_id: str) -> StoredKey | None:
        return self._keys.get(key_id)

    def records(self) -> list[StoredKey]:
        return sorted(self._keys.values(), key=lambda k: (k.ts_created, k.key_id))

    def on_revoke(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(key_id)`` after every revocation (live sessions close)."""
        self._listeners.append(listener)

    # --- file -----------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._path is None:
            yield
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self._path.with_name(self._path.name + ".lock")
        with open(lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._load()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _file_stamp(self) -> tuple[int, int] | None:
        assert self._path is not None
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _reload_if_changed(self) -> None:
        if self._file_stamp() != self._stamp:
            self._load()

    def _load(self) -> None:
        assert self._path is not None
        stamp = self._file_stamp()
        if stamp is None:
            self._keys = {}
            self._stamp = None
            return
        try:
            data = msgspec.json.decode(self._path.read_bytes(), type=KeyFile)
        except (msgspec.DecodeError, OSError) as error:
            raise ConfigError(f"key store {self._path}: {error}") from None
        self._keys = {key.key_id: key for key in data.keys}
        self._stamp = stamp

    def _save(self) -> None:
        if self._path is None:
            return
        payload = msgspec.json.format(msgspec.json.encode(KeyFile(keys=self.records())), indent=2)
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._path)
        self._stamp = self._file_stamp()
