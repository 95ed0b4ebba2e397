"""The event writer's configuration and statistics (``eventstore/writer.py``).

Kept apart from the writer: ``writer.py`` is compiled with mypyc, which would build these
``msgspec.Struct`` classes without their class keywords (``frozen``, ``kw_only``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import msgspec.inspect

from spreadwire.eventstore.records import Durability


class WriterConfig(msgspec.Struct, frozen=True, kw_only=True):
    capacity: Annotated[int, msgspec.Meta(gt=0)] = 65_536
    max_batch: Annotated[int, msgspec.Meta(gt=0)] = 1_024
    durability: Durability = Durability.DURABLE
    retries: Annotated[int, msgspec.Meta(ge=0)] = 5
    retry_backoff_ns: Annotated[int, msgspec.Meta(gt=0)] = 2_000_000
    #: How long the writer may wait for blocked callers to append before committing.
    linger_ns: Annotated[int, msgspec.Meta(ge=0)] = 200_000

    def __post_init__(self) -> None:
        # ``Meta`` bounds are checked only when decoding; a config built in code (what
        # ``EventWriter(capacity=...)`` does) is checked here: a capacity of 0 blocked
        # every append for ever, a max_batch of 0 stopped the writer at its first batch.
        for name, low in _LOWEST.items():
            value = getattr(self, name)
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")


def _lowest(struct: type[msgspec.Struct]) -> dict[str, int]:
    """The lowest value each bounded int field of ``struct`` takes, from its ``Meta``."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    lowest: dict[str, int] = {}
    for field in info.fields:
        kind = field.type
        if isinstance(kind, msgspec.inspect.IntType):
            if kind.ge is not None:
                lowest[field.name] = kind.ge
            elif kind.gt is not None:
                lowest[field.name] = kind.gt + 1
    return lowest


_LOWEST = _lowest(WriterConfig)


class WriterStats(msgspec.Struct, frozen=True, kw_only=True):
    appended: int
    committed: int
    batches: int
    largest_batch: int
    queue_depth: int
    queue_peak: int
    capacity: int
    backpressure_waits: int
    retries: int
    ack_p50_ns: int
    ack_p99_ns: int
    ack_max_ns: int
    last_position: int
    durability: str
    failed: bool
    #: Events refused for a stream name the store does not take (never written; each is
    #: logged, and a durable caller got the ValidationError).
    refused: int = 0
