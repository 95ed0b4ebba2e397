"""The codec: domain messages to stored bytes and back, with upcasting on read.

Which messages can be stored is decided in one place, :data:`MESSAGE_MODULES`: every
tagged ``msgspec.Struct`` defined in those modules is registered, so a command or event
appended to ``domain/commands.py`` or ``domain/events.py`` is storable with no change
here. A new module of messages is one more line in that tuple (or ``extra_types``).

Each type is stored with its ``schema`` version (a ``schema_version`` class variable on
the Struct, 1 when absent). Reading an older schema decodes the payload generically and
runs the registered upcasters ``(type, n) -> n + 1`` in order before converting to the
current type; stored bytes are never rewritten.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, final

import msgspec

from spreadwire.errors import StoreError
from spreadwire.eventstore.records import Entry

#: Modules whose tagged Structs are storable messages, in registry order.
MESSAGE_MODULES: tuple[str, ...] = (
    "spreadwire.domain.commands",
    "spreadwire.domain.admin",
    "spreadwire.domain.events",
    "spreadwire.domain.reports",
    "spreadwire.domain.market",
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _tag_of(cls: type) -> str | None:
    config = getattr(cls, "__struct_config__", None)
    tag = None if config is None else config.tag
    return tag if isinstance(tag, str) else None


def message_types(modules: Iterable[str] = MESSAGE_MODULES) -> tuple[type[msgspec.Struct], ...]:
    """Every tagged Struct defined in ``modules`` (not re-exported ones), sorted by tag."""
    found: dict[str, type[msgspec.Struct]] = {}
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__module__ == module.__name__
                and (tag := _tag_of(value)) is not None
            ):
                found[tag] = value
    return tuple(found[tag] for tag in sorted(found))


def schema_of(cls: type) -> int:
    version = getattr(cls, "schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise StoreError(f"{cls.__name__}.schema_version must be an int >= 1, got {version!r}")
    return version


@final
class Codec:
    """Encodes registered messages to msgpack and decodes them by stored type name."""

    __slots__ = (
        "_current",
        "_decoders",
        "_encoder",
        "_generic",
        "_meta",
        "_types",
        "_upcasters",
    )

    def __init__(
        self,
        types: Iterable[type[msgspec.Struct]] | None = None,
        *,
        extra_types: Iterable[type[msgspec.Struct]] = (),
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        registered = tuple(message_types() if types is None else types) + tuple(extra_types)
        self._types: dict[str, type[msgspec.Struct]] = {}
        self._meta: dict[type, tuple[str, int]] = {}
        for cls in registered:
            tag = _tag_of(cls)
            if tag is None:
                raise StoreError(f"{cls.__name__} is not a tagged msgspec.Struct")
            if tag in self._types and self._types[tag] is not cls:
                raise StoreError(f"two message types share the tag {tag!r}")
            self._types[tag] = cls
            self._meta[cls] = (tag, schema_of(cls))
        self._decoders = {tag: msgspec.msgpack.Decoder(cls) for tag, cls in self._types.items()}
        #: type name -> (current schema, bound decode): the catch-up read's per-row lookup.
        self._current = {
            tag: (self._meta[cls][1], self._decoders[tag].decode)
            for tag, cls in self._types.items()
        }
        self._encoder = msgspec.msgpack.Encoder()
        self._generic = msgspec.msgpack.Decoder()
        self._upcasters = dict(upcasters or {})

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(self._types)

    @property
    def metas(self) -> Mapping[type, tuple[str, int]]:
        """``meta`` for every registered class (the writer's per-event lookup)."""
        return self._meta

    def meta(self, cls: type) -> tuple[str, int]:
        """The stored type name and current schema of ``cls``."""
        try:
            return self._meta[cls]
        except KeyError:
            raise StoreError(f"{cls.__name__} is not a registered message type") from None

    def encode(self, message: object) -> tuple[str, int, bytes]:
        """``(type name, schema, payload)`` of ``message``."""
        meta = self._meta.get(type(message))
        if meta is None:
            raise StoreError(f"{type(message).__name__} is not a registered message type")
        try:
            return meta[0], meta[1], self._encoder.encode(message)
        except (msgspec.EncodeError, TypeError, ValueError, OverflowError) as error:
            # a value msgpack cannot hold (an int past 64 bits): name the message
            raise StoreError(f"cannot encode {meta[0]}: {error}") from error

    def decode(self, type_name: str, schema: int, payload: bytes) -> Any:
        """The message stored as ``payload``, upcast to the current schema when older."""
        decoder = self._decoders.get(type_name)
        if decoder is None:
            raise StoreError(f"unknown stored type {type_name!r}")
        current = self._meta[self._types[type_name]][1]
        try:
            if schema == current:
                return decoder.decode(payload)
            return self._upcast(type_name, schema, current, payload)
        except msgspec.DecodeError as error:  # malformed bytes, or valid ones of the wrong shape
            raise StoreError(f"cannot decode {type_name} schema {schema}: {error}") from None

    def entries(self, rows: Sequence[tuple[Any, ...]]) -> list[Entry]:
        """Rows ``(position, stream, version, type, schema, ts, payload)`` as entries.

        The catch-up read's loop: a payload stored with its type's current schema is
        decoded straight away (one dict lookup, no method call); any other goes through
        :meth:`decode` (upcasting, errors named as there).
        """
        current = self._current
        decode = self.decode
        out: list[Entry] = []
        add = out.append
        try:
            for position, stream, version, type_name, schema, ts, payload in rows:
                known = current.get(type_name)
                if known is not None and known[0] == schema:
                    message = known[1](payload)
                else:
                    message = decode(type_name, schema, payload)
                add(Entry(position, stream, version, type_name, ts, message))
        except msgspec.DecodeError:
            for row in rows:
                decode(row[3], row[4], row[6])  # raises the StoreError naming it
            raise
        return out

    def _upcast(self, type_name: str, schema: int, current: int, payload: bytes) -> Any:
        if schema > current:
            raise StoreError(f"{type_name} schema {schema} is newer than this code ({current})")
        state: dict[str, Any] = self._generic.decode(payload)
        for version in range(schema, current):
            upcaster = self._upcasters.get((type_name, version))
            if upcaster is None:
                raise StoreError(f"no upcaster for {type_name} from schema {version}")
            try:
                state = upcaster(state)
            except Exception as error:  # the upcaster is user code: name what failed
                raise StoreError(
                    f"upcasting {type_name} from schema {version} failed: {error!r}"
                ) from error
            if not isinstance(state, dict):
                raise StoreError(
                    f"the upcaster of {type_name} from schema {version} returned"
                    f" {type(state).__name__}, not a dict"
                )
        return msgspec.convert(state, self._types[type_name])
