"""The error tree of spreadwire.

Business outcomes (a risk denial, a venue rejection, a breaker trip) are events, not
exceptions. Exceptions are for bad input at an edge and for broken invariants::

    SpreadwireError
    ├── ValidationError        bad input at an edge; names the offending field
    │   └── ValueOverflowError a fixed-point value outside the int64 range
    ├── ConfigError            bad configuration (file, environment, CLI)
    ├── InvariantError         a broken internal invariant: the node must stop
    ├── QueueFullError         a bounded queue with the ``raise`` policy is full
    └── StoreError             the event store failed (I/O, corruption, concurrency)
        └── ConcurrencyError   optimistic-concurrency conflict on (stream, version)
"""

from __future__ import annotations

import re


class SpreadwireError(Exception):
    """Root of every error raised by spreadwire."""


class ValidationError(SpreadwireError, ValueError):
    """Bad input at an edge. ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, str]]:
        # The default pickling replays ``args`` (one string) into a two-argument
        # __init__, so the error could not cross a process boundary.
        return type(self), (self.field, self.message)


class ValueOverflowError(ValidationError):
    """A fixed-point value does not fit the int64 raw range."""


class ConfigError(SpreadwireError):
    """Invalid configuration; the message names the setting."""


class InvariantError(SpreadwireError):
    """An internal invariant is broken; the node stops rather than trade on bad state."""


class QueueFullError(SpreadwireError):
    """A bounded queue whose overflow policy is ``raise`` is full."""


class StoreError(SpreadwireError):
    """The event store failed."""


class ConcurrencyError(StoreError):
    """An append expected a stream version that is no longer current."""


_AT_FIELD = re.compile(r"^(?P<message>.*) - at `\$\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)")
_NAMED = re.compile(r"^(?P<field>[A-Za-z_]+): (?P<message>.*)$")


def validation_error(text: str, default_field: str) -> ValidationError:
    """A msgspec validation message as a :class:`ValidationError` naming its field: the
    top-level field of ``... - at `$.field...```, or ``field`` of ``field: ...`` (a
    ``__post_init__`` check); ``default_field`` when the message names none."""
    match = _AT_FIELD.match(text) or _NAMED.match(text)
    if match is None:
        return ValidationError(default_field, text)
    return ValidationError(match["field"], match["message"])
