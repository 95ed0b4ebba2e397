"""Kill-switch scopes: everything, one strategy, or one instrument.

An engaged scope blocks risk-increasing orders at once (the gate asks :meth:`blocks`
before anything else) and lets risk-reducing orders through. Engaging and releasing are
audited: ``history`` keeps ``(ts_ns, action, scope, target, operator, reason)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import final

from spreadwire.domain.commands import CancelOrder, SubmitOrder
from spreadwire.risk.exposure import WorkingOrder


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

    def labels(self) -> list[str]:
        """Every engaged scope: ``all``, ``strategy:S``…, ``instrument:I``…"""
        labels = ["all"] if self.all else []
        labels += [f"strategy:{s}" for s in sorted(self.strategies)]
        labels += [f"instrument:{i}" for i in sorted(self.instruments)]
        return labels

    def in_scope(
        self, scope: str, target: str | None, strategy_id: str, instrument_id: str
    ) -> bool:
        if scope == "all":
            return True
        if scope == "strategy":
            return strategy_id == target
        return instrument_id == target

    def cancel_working(
        self,
        scope: str,
        target: str | None,
        orders: Mapping[str, WorkingOrder | SubmitOrder],
        forward: Callable[[CancelOrder], None],
        now: int,
    ) -> int:
        """Forward a ``CancelOrder`` for every working order in ``scope``; return how many."""
        in_scope = self.in_scope
        everything = scope == "all"
        sent = 0
        for client_order_id, order in list(orders.items()):
            if type(order) is SubmitOrder:
                strategy_id = order.strategy_id
                instrument_id = order.instrument_id
            else:
                leg = order.leg  # type: ignore[union-attr]
                strategy_id = leg.strategy.strategy_id
                instrument_id = leg.instrument.instrument_id
            if everything or in_scope(scope, target, strategy_id, instrument_id):
                forward(
                    CancelOrder(
                        strategy_id=strategy_id,
                        instrument_id=instrument_id,
                        client_order_id=client_order_id,
                        ts_init=now,
                    )
                )
                sent += 1
        return sent
