"""The strategy engine: owns the running strategies and routes quotes and events to them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, final

import msgspec

from spreadwire.core.clock import Clock
from spreadwire.domain.commands import SubmitOrder
from spreadwire.domain.enums import TradingState
from spreadwire.domain.events import OrderEvent, TradingStateChanged
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import QuoteTick
from spreadwire.errors import ValidationError, validation_error
from spreadwire.strategy.config import PairStrategyConfig
from spreadwire.strategy.pairs import HedgeModel, PairsStrategy

log = logging.getLogger("spreadwire.strategy")

ModelFactory = Callable[[int], HedgeModel]


@final
class StrategyEngine:
    __slots__ = (
        "_by_instrument",
        "_clock",
        "_instruments",
        "_model_factory",
        "_strategies",
        "_submit",
    )

    def __init__(
        self,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        *,
        submit: Callable[[SubmitOrder], None],
        model_factory: ModelFactory,
    ) -> None:
        self._clock = clock
        self._instruments = dict(instruments)
        self._submit = submit
        self._model_factory = model_factory
        self._strategies: dict[str, PairsStrategy] = {}
        self._by_instrument: dict[str, list[PairsStrategy]] = {}

    def add(self, config: PairStrategyConfig) -> PairsStrategy:
        if config.strategy_id in self._strategies:
            raise ValidationError("strategy_id", f"{config.strategy_id!r} already exists")
        for field, iid in (("leg_y", config.leg_y), ("leg_x", config.leg_x)):
            if iid not in self._instruments:
                raise ValidationError(field, f"unknown instrument {iid!r}")
        strategy = PairsStrategy(
            config,
            y=self._instruments[config.leg_y],
            x=self._instruments[config.leg_x],
            model=self._model_factory(config.window),
            clock=self._clock,
            submit=self._submit,
        )
        self._strategies[config.strategy_id] = strategy
        for iid in strategy.instrument_ids:
            self._by_instrument.setdefault(iid, []).append(strategy)
        log.info("strategy %s added on %s/%s", config.strategy_id, config.leg_y, config.leg_x)
        return strategy

    def get(self, strategy_id: str) -> PairsStrategy:
        strategy = self._strategies.get(strategy_id)
        if strategy is None:
            raise ValidationError("strategy_id", f"unknown strategy {strategy_id!r}")
        return strategy

    def find(self, strategy_id: str) -> PairsStrategy | None:
        return self._strategies.get(strategy_id)

    def strategies(self) -> list[PairsStrategy]:
        return list(self._strategies.values())

    def start(self, strategy_id: str) -> None:
        self.get(strategy_id).start()
        log.info("strategy %s started", strategy_id)

    def stop(self, strategy_id: str) -> None:
        self.get(strategy_id).stop()
        log.info("strategy %s stopped", strategy_id)

    def update_params(self, strategy_id: str, changes: Mapping[str, Any]) -> PairStrategyConfig:
        """Apply parameter changes (validated); a new window restarts the model."""
        strategy = self.get(strategy_id)
        for name in changes:
            if name in ("strategy_id", "leg_y", "leg_x"):
                raise ValidationError(name, "cannot be changed; add a new strategy instead")
            if name not in PairStrategyConfig.__struct_fields__:
                raise ValidationError(name, "unknown parameter")
        merged = msgspec.structs.asdict(strategy.config) | dict(changes)
        try:
            config = msgspec.convert(merged, PairStrategyConfig)
        except msgspec.ValidationError as error:
            raise validation_error(str(error), "params") from None
        if config.window != strategy.config.window:
            strategy.model = self._model_factory(config.window)
        strategy.config = config
        log.info("strategy %s parameters changed: %s", strategy_id, sorted(changes))
        return config

    def on_quote(self, quote: QuoteTick) -> None:
        self.on_top(quote, quote.instrument_id, quote.bid_price.raw, quote.ask_price.raw)

    def on_top(self, quote: QuoteTick, instrument_id: str, bid: int, ask: int) -> None:
        """:meth:`on_quote` with the quote's id and raw prices already read (the node
        reads them once for every consumer of the quote)."""
        strategies = self._by_instrument.get(instrument_id)
        if strategies is not None:
            for strategy in strategies:
                strategy.on_top(quote, instrument_id, bid, ask)

    def on_trading_state(
        self,
        event: TradingStateChanged,
        state_of: Callable[[PairsStrategy], TradingState] | None = None,
    ) -> None:
        """Apply a trading-state change to the strategies in its scope (``all``,
        ``strategy:<id>``, ``instrument:<id>``): ``state_of(strategy)`` when given (what
        the risk gate lets it do now), else the event's state."""
        kind, _, target = event.scope.partition(":")
        for strategy in self._strategies.values():
            if (
                kind == "all"
                or (kind == "strategy" and target == strategy.strategy_id)
                or (kind == "instrument" and target in strategy.instrument_ids)
            ):
                strategy.set_trading_state(event.state if state_of is None else state_of(strategy))

    @staticmethod
    def handles(event_type: type) -> bool:
        """Does :meth:`on_event` act on events of this type (fills and terminal events)?
        Other order events reach no strategy state, so a router may skip them."""
        return PairsStrategy.handles(event_type)

    def on_event(self, event: OrderEvent) -> None:
        strategy = self._strategies.get(event.strategy_id)
        if strategy is not None:
            strategy.on_event(event)
