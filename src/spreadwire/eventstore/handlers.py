"""Command handlers: validate a command, decide its events, append them atomically.

A :class:`CommandBus` routes each command type to an :class:`Aggregate` that names the
stream, folds the stream's stored messages into a state and decides what happens. The
command and the decided events are appended together with ``expected_version`` set to
the version the decision saw (optimistic concurrency): if another writer got there
first the state is reloaded and the decision made again. An idempotency key makes a
retried command a no-op that reports the first outcome.

States are cached per stream (LRU) and brought up to date with the entries appended
since, so a command costs one small read plus the append.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar, final

import msgspec

from spreadwire.core.clock import Clock
from spreadwire.errors import ConcurrencyError, ConfigError, ValidationError
from spreadwire.eventstore.codec import message_types
from spreadwire.eventstore.recorder import Recorder, encode_append
from spreadwire.eventstore.records import Committed, Conflict, Duplicate, KeyRecord, Outcome
from spreadwire.eventstore.writer import EventWriter

S = TypeVar("S")
_PATH = re.compile(r"at `\$\.?([^`]*)`")
#: msgspec's message for a missing field, which carries no path at the top level.
_MISSING = re.compile(r"missing required field `([^`]+)`")


class Decision(msgspec.Struct, frozen=True):
    """What an aggregate decided: messages to append, or a refusal with a reason code."""

    events: tuple[Any, ...] = ()
    refused: str = ""
    #: what was wrong, in words (with ``refused``)
    detail: str = ""


class Aggregate(Protocol[S]):
    """The consistency boundary of one stream."""

    def stream(self, command: Any) -> str: ...

    def initial(self) -> S: ...

    def evolve(self, state: S, message: Any) -> S:
        """The state after one stored message (ignore what does not concern it)."""
        ...

    def decide(self, state: S, command: Any) -> Decision: ...


class CommandResult(msgspec.Struct, frozen=True, kw_only=True):
    accepted: bool
    reason: str = ""
    detail: str = ""
    duplicate: bool = False
    events: tuple[Any, ...] = ()
    first_position: int = 0
    last_position: int = 0
    attempts: int = 1


def decode_command(data: bytes | str, types: Sequence[type] | None = None) -> Any:
    """Decode and validate a JSON command (tagged by ``type``); a bad field raises
    :class:`ValidationError` naming it."""
    chosen = tuple(types or message_types(["spreadwire.domain.commands"]))
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(Any if not chosen else _union(chosen))
    try:
        command = decoder.decode(data)
    except msgspec.ValidationError as error:
        text = str(error)
        path = _PATH.search(text)
        missing = _MISSING.search(text)
        at = path.group(1) if path else ""
        # a missing field's path is the object that lacks it (``$.first`` for a pair's
        # leg): the field is the one named in the message, under that path
        field = f"{at}.{missing.group(1)}".lstrip(".") if missing else at
        raise ValidationError(field or "command", text) from None
    except msgspec.DecodeError as error:
        raise ValidationError("command", f"not valid JSON: {error}") from None
    raw = msgspec.json.decode(data)
    # the domain types take unknown fields (stored messages of a newer schema), a command
    # must not: a misspelt optional field would be dropped and its default used
    unknown = _unknown_field(command, raw)
    if unknown is not None:
        raise ValidationError(unknown, "unknown field")
    # JSON integers have no bound, stored payloads (msgpack) do: such a command would
    # fail only when the bus encodes it, with no field named
    unstorable = _unstorable_int(raw)
    if unstorable is not None:
        raise ValidationError(
            unstorable,
            f"integer out of range: the event store holds {_INTS.start} to {_INTS.stop - 1}",
        )
    return command


def _unknown_field(value: Any, raw: Any) -> str | None:
    """The path of the first field of ``raw`` (the JSON ``value`` was decoded from) that
    ``value``'s type does not have, nested structs included; None when there is none."""
    if not isinstance(value, msgspec.Struct) or not isinstance(raw, dict):
        return None
    names = dict(zip(value.__struct_encode_fields__, value.__struct_fields__, strict=True))
    tag_field = value.__struct_config__.tag_field
    for key, item in raw.items():
        if key == tag_field:
            continue
        name = names.get(key)
        if name is None:
            return str(key)
        nested = _unknown_field(getattr(value, name), item)
        if nested is not None:
            return f"{key}.{nested}"
    return None


#: The integers a stored payload (msgpack) can hold.
_INTS = range(-(2**63), 2**64)


def _unstorable_int(raw: Any) -> str | None:
    """The path of the first integer in ``raw`` (decoded JSON) outside :data:`_INTS`;
    None when there is none."""
    if isinstance(raw, dict):
        items: Iterable[tuple[Any, Any]] = raw.items()
    elif isinstance(raw, list):
        items = enumerate(raw)
    else:
        return None
    for key, item in items:
        at = f"[{key}]" if isinstance(raw, list) else str(key)
        if isinstance(item, int) and item not in _INTS:
            return at
        nested = _unstorable_int(item)
        if nested is not None:
            return f"{at}{nested}" if nested.startswith("[") else f"{at}.{nested}"
    return None


def _same_command(stored: Any, command: Any) -> bool:
    """Whether ``command`` repeats ``stored`` (``ts_init`` aside)."""
    if type(stored) is not type(command):
        return False
    if isinstance(stored, msgspec.Struct) and hasattr(stored, "ts_init"):
        stored = msgspec.structs.replace(stored, ts_init=command.ts_init)
    return bool(stored == command)


def _union(types: tuple[type, ...]) -> Any:
    union: Any = types[0]
    for each in types[1:]:
        union = union | each
    return union


@final
class _Cached(Generic[S]):
    __slots__ = ("state", "version")

    def __init__(self, state: S, version: int) -> None:
        self.state = state
        self.version = version


@final
class CommandBus:
    """Handles commands against the event store, one at a time per caller."""

    __slots__ = ("_cache", "_cache_size", "_clock", "_recorder", "_retries", "_routes", "_writer")

    def __init__(
        self,
        recorder: Recorder,
        *,
        clock: Clock,
        writer: EventWriter | None = None,
        retries: int = 3,
        cache_size: int = 10_000,
    ) -> None:
        if cache_size < 1:
            raise ConfigError(f"cache_size: must be at least 1, got {cache_size}")
        if retries < 0:
            raise ConfigError(f"retries: must be at least 0, got {retries}")
        self._recorder = recorder
        self._clock = clock
        self._writer = writer
        self._retries = retries
        self._routes: dict[type, Aggregate[Any]] = {}
        self._cache: OrderedDict[str, _Cached[Any]] = OrderedDict()
        self._cache_size = cache_size

    def register(self, command_types: Sequence[type], aggregate: Aggregate[Any]) -> None:
        for command_type in command_types:
            if command_type in self._routes:
                raise ConfigError(f"{command_type.__name__} already has a handler")
            self._routes[command_type] = aggregate

    def handle(self, command: Any, *, idempotency_key: str | None = None) -> CommandResult:
        aggregate = self._routes.get(type(command))
        if aggregate is None:
            raise ConfigError(f"no handler for {type(command).__name__}")
        stream = aggregate.stream(command)
        if idempotency_key is not None:
            # Looked up before deciding: a retry must not be judged against the state
            # its own first attempt created (a resubmitted order would be refused as a
            # duplicate client order id instead of reported as already done).
            known = self._recorder.find_key(idempotency_key)
            if known is not None:
                return self._retried(known, stream, command, attempt=1)
        conflict: Conflict | None = None
        for attempt in range(1, self._retries + 2):
            cached = self._load(aggregate, stream)
            decision = aggregate.decide(cached.state, command)
            if decision.refused:
                return CommandResult(
                    accepted=False,
                    reason=decision.refused,
                    detail=decision.detail,
                    attempts=attempt,
                )
            outcome = self._append(stream, decision, cached.version, idempotency_key)
            if isinstance(outcome, Conflict):
                self._cache.pop(stream, None)
                conflict = outcome
                continue
            if isinstance(outcome, Duplicate):
                # the key was stored meanwhile (another caller, maybe for another stream)
                self._cache.pop(stream, None)
                known = self._recorder.find_key(idempotency_key or "")
                if known is not None:
                    return self._retried(known, stream, command, attempt=attempt)
            return self._result(aggregate, stream, cached, decision, outcome, attempt=attempt)
        # a lost race, not a failed store: the caller may try again
        assert conflict is not None
        raise ConcurrencyError(
            f"{stream}: expected version {conflict.expected_version}, found"
            f" {conflict.actual_version}; still conflicting after {self._retries} retries"
        )

    def _retried(
        self, known: KeyRecord, stream: str, command: Any, *, attempt: int
    ) -> CommandResult:
        """The first outcome of the command that used ``known.key``, if ``command`` is
        that command again; a :class:`ValidationError` on ``idempotency_key`` otherwise."""
        key = known.key
        if known.stream != stream:
            raise ValidationError(
                "idempotency_key",
                f"{key!r} was used for stream {known.stream!r}; this command is for {stream!r}",
            )
        first = next(iter(self._recorder.read(after=known.first_position - 1, limit=1)), None)
        stored = None if first is None else first.message
        # the standard aggregates store the command first; compare it (not its ts_init,
        # which a client's retry stamps again) when it is one of this bus's commands
        if type(stored) in self._routes and not _same_command(stored, command):
            raise ValidationError(
                "idempotency_key",
                f"{key!r} was used for another command on stream {stream!r}"
                f" ({type(stored).__name__} at position {known.first_position})",
            )
        return CommandResult(
            accepted=True,
            duplicate=True,
            first_position=known.first_position,
            last_position=known.last_position,
            attempts=attempt,
        )

    def _result(
        self,
        aggregate: Aggregate[Any],
        stream: str,
        cached: _Cached[Any],
        decision: Decision,
        outcome: Outcome,
        *,
        attempt: int,
    ) -> CommandResult:
        if isinstance(outcome, Duplicate):
            self._cache.pop(stream, None)
            return CommandResult(
                accepted=True,
                duplicate=True,
                first_position=outcome.first_position,
                last_position=outcome.last_position,
                attempts=attempt,
            )
        assert isinstance(outcome, Committed)
        for message in decision.events:
            cached.state = aggregate.evolve(cached.state, message)
        cached.version = outcome.version
        return CommandResult(
            accepted=True,
            events=decision.events,
            first_position=outcome.first_position,
            last_position=outcome.last_position,
            attempts=attempt,
        )

    def _load(self, aggregate: Aggregate[Any], stream: str) -> _Cached[Any]:
        cached = self._cache.get(stream)
        if cached is None:
            cached = _Cached(aggregate.initial(), 0)
            self._cache[stream] = cached
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(stream)
        for entry in self._recorder.read_stream(stream, after_version=cached.version):
            cached.state = aggregate.evolve(cached.state, entry.message)
            cached.version = entry.version
        return cached

    def _append(self, stream: str, decision: Decision, version: int, key: str | None) -> Outcome:
        append = encode_append(
            self._recorder.codec,
            stream,
            decision.events,
            self._clock.timestamp_ns(),
            expected_version=version,
            idempotency_key=key,
        )
        if self._writer is not None:
            return self._writer.submit(append)
        return self._recorder.commit([append])[0]
