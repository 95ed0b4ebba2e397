"""Kill-switch scopes: everything, one strategy, or one instrument.

An engaged scope blocks risk-increasing orders at once (the gate asks :meth:`blocks`
before anything else) and lets risk-reducing orders through. Engaging and releasing are
audited: ``history`` keeps ``(ts_ns, action, scope, target, operator, reason)``.
"""

from __future__ import annotations

from typing import final


@final
class KillSwitch:
    __slots__ = ("all", "engaged", "history", "instruments", "strategies")

    def __init__(self) -> None:
        self.all = False
        self.strategies: set[str] = set()
        self.instruments: set[str] = set()
        self.engaged = False
        self.history: list[tuple[int, str, str, str, str, str]] = []

    def blocks(self, strategy_id: str, instrument_id: str) -> bool:
        return self.all or strategy_id in self.strategies or instrument_id in self.instruments

    def engage(self, scope: str, target: str | None, operator: str, reason: str, ts: int) -> str:
        """Engage ``scope``; return its label (``all``, ``strategy:S``, ``instrument:I``)."""
        label = self._set(scope, target, True)
        self.history.append((ts, "engage", scope, target or "", operator, reason))
        return label

    def release(self, scope: str, target: str | None, operator: str, reason: str, ts: int) -> str:
        label = self._set(scope, target, False)
        self.history.append((ts, "release", scope, target or "", operator, reason))
        return label

    def is_engaged(self, scope: str, target: str | None) -> bool:
        if scope == "all":
            return self.all
        if scope == "strategy":
            return target in self.strategies
        return target in self.instruments

    def _set(self, scope: str, target: str | None, on: bool) -> str:
        if scope == "all":
            self.all = on
            label = "all"
        else:
            if not target:
                raise ValueError(f"target: a {scope} kill switch needs a target")
            names = self.strategies if scope == "strategy" else self.instruments
            if on:
                names.add(target)
            else:
                names.discard(target)
            label = f"{scope}:{target}"
        self.engaged = self.all or bool(self.strategies) or bool(self.instruments)
        return label

    def in_scope(
        self, scope: str, target: str | None, strategy_id: str, instrument_id: str
    ) -> bool:
        if scope == "all":
            return True
        if scope == "strategy":
            return strategy_id == target
        return instrument_id == target
