"""Keeping the hot path warm while a real-time node waits for its next tick.

Between two ticks a few milliseconds apart, the chain's code and data leave the caches
and the branch predictors, even when the driver spins instead of sleeping (measured in
docs/performance.md, "Why spinning is not enough"). The answer used on trading desks is
to run the same code while idle. :class:`ShadowNode` is a second, independent
:class:`~spreadwire.app.TradingNode` in the same process, on a simulated market of its
own: the same strategies, risk checks, OMS and venue code, fed by its own seed, advanced
by the spinning driver a little at a time.

It shares nothing with the real node but the code: its own clock, scheduler, bus,
simulated venue and OMS. Its events go to a :class:`~spreadwire.eventstore.null.NullRecorder`
(nothing kept); it serves no API; its collector stays CPython's own (the real node's
controlled collector sets the thresholds). Its memory is bounded: the simulated venue
keeps its last 100,000 orders, the OMS its ``retain_closed`` latest closed orders, the
risk engine its last ``duplicate_id_memory`` ids (10,000 here), and the store nothing
(measured: the process levels off about 50 MB higher). It plays no scenario (and no
fat-finger size) and its loss limits are lifted, so that nothing on its own market halts
it; every check still runs, only the thresholds differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import final

import msgspec

from spreadwire.app import TradingNode
from spreadwire.config import GcConfig, NodeConfig, StoreConfig
from spreadwire.eventstore.null import NullRecorder
from spreadwire.node import WARM_EVERY_NS

#: Simulated time the shadow moves per unit of idle wall time. Measured against 5 and 20
#: (docs/performance.md): 10 took about a fifth off the real tick-to-order p50 against
#: 5; 20 took a little more but stretched the real deliveries' lateness tail.
SHADOW_SPEED = 10.0

#: Order ids the shadow's risk engine remembers (the node's default is 1,000,000).
SHADOW_ID_MEMORY = 10_000

#: Loss limits of the shadow: far beyond anything its market can lose.
_NO_LOSS_LIMIT = "1000000000000"


def shadow_config(config: NodeConfig) -> NodeConfig:
    """The real node's configuration for a shadow: another seed, no scenario, nothing
    kept, no API, limits that cannot halt it."""
    risk = msgspec.structs.replace(
        config.risk,
        duplicate_id_memory=SHADOW_ID_MEMORY,
        daily_loss_limit=_NO_LOSS_LIMIT,
        max_drawdown=_NO_LOSS_LIMIT,
    )
    return msgspec.structs.replace(
        config,
        seed=(config.seed + 1) % 2**32,
        strategy=msgspec.structs.replace(config.strategy, size_multiplier=1),
        venue=msgspec.structs.replace(config.venue, scenario=None),
        risk=risk,
        store=StoreConfig(url="null://", durability="relaxed"),
        gc=GcConfig(mode="automatic"),
    )


@final
class ShadowNode:
    """A node on a market of its own, advanced while the real node is idle."""

    __slots__ = ("_advance", "_now", "_step_ns", "node")

    def __init__(
        self, config: NodeConfig, *, speed: float = SHADOW_SPEED, every_ns: int = WARM_EVERY_NS
    ) -> None:
        """``speed``: simulated time the shadow moves per unit of wall time between its
        steps; ``every_ns``: the spinning driver's wall time between two steps."""
        if not speed > 0:
            raise ValueError(f"speed: must be > 0, got {speed!r}")
        self.node = TradingNode(
            shadow_config(config),
            store_url="null://",
            recorder=NullRecorder(),
            latency_breaker=False,
        )
        self._advance = self.node.advance
        self._now = self.node.now
        self._step_ns = max(1, int(speed * every_ns))

    def start(self, warm_up_s: float = 10.0) -> None:
        """Start the shadow and run it ``warm_up_s`` simulated seconds at once, so its
        strategies' windows are full and it trades from the first idle step."""
        self.node.start()
        end = self._now() + int(warm_up_s * 1e9)
        while self._now() < end:
            self._advance(min(end, self._now() + 5_000_000))

    def step(self) -> None:
        """One idle step: the shadow's next slice of simulated time."""
        self._advance(self._now() + self._step_ns)

    def busy(self) -> bool:
        """Whether the shadow's event writer has work (see ``EventWriter.busy``)."""
        return self.node.writer.busy()

    def describe(self) -> str:
        """One line on what the shadow did, for the end of a run."""
        node = self.node
        return (
            f"shadow node: {node.orders} orders, {node.fills} fills, "
            f"trading state {node.risk.trading_state}"
        )

    def close(self) -> None:
        self.node.close()
        self.node.close_read_models()
        self.node.recorder.close()


def writers_busy(node: TradingNode, shadow: ShadowNode | None) -> Callable[[], bool]:
    """The spinning driver's ``busy`` hint: the node's event writer has work, or the
    shadow's has (both threads need the GIL that a spinning driver holds)."""
    if shadow is None:
        return node.writer.busy
    real, other = node.writer.busy, shadow.busy

    def either() -> bool:
        return real() or other()

    return either
