"""What the API needs from the node: one synchronous port, implemented by the composition root.

Handlers run on the event-loop thread and call these methods directly, so each must be
quick and must not block. Reads come from read models; every mutating method takes the
``actor`` (the API key id or JWT subject) so the node can audit the change through its
command side. Unknown ids raise :class:`spreadwire.api.errors.NotFoundError`, conflicts
:class:`~spreadwire.api.errors.ConflictError`, bad values
:class:`spreadwire.errors.ValidationError` naming the field.
"""

from __future__ import annotations

from typing import Protocol

from spreadwire.api.schemas import (
    BreakerReset,
    EventPage,
    InstrumentView,
    KillSwitchRequest,
    KillSwitchResult,
    LatencyView,
    OrderQuery,
    OrderRequest,
    OrderView,
    PnlView,
    PositionView,
    Readiness,
    RiskLimits,
    RiskLimitsPatch,
    StoreView,
    StrategyParams,
    StrategySpec,
    StrategyView,
    TradingStateChange,
    TradingStateView,
)


class NodeService(Protocol):
    """The node as the REST API sees it."""

    def readiness(self) -> Readiness: ...

    def instruments(self) -> list[InstrumentView]: ...

    def strategies(self) -> list[StrategyView]: ...

    def add_strategy(self, spec: StrategySpec, *, actor: str) -> StrategyView: ...

    def start_strategy(self, strategy_id: str, *, actor: str) -> StrategyView: ...

    def stop_strategy(self, strategy_id: str, *, actor: str) -> StrategyView: ...

    def set_strategy_params(
        self, strategy_id: str, params: StrategyParams, *, actor: str
    ) -> StrategyView: ...

    def risk_limits(self) -> RiskLimits: ...

    def set_risk_limits(self, patch: RiskLimitsPatch, *, actor: str) -> RiskLimits: ...

    def trading_state(self) -> TradingStateView: ...

    def set_trading_state(self, change: TradingStateChange, *, actor: str) -> TradingStateView: ...

    def engage_kill_switch(self, request: KillSwitchRequest, *, actor: str) -> KillSwitchResult: ...

    def release_kill_switch(
        self, request: KillSwitchRequest, *, actor: str
    ) -> KillSwitchResult: ...

    def reset_breaker(self, request: BreakerReset, *, actor: str) -> TradingStateView: ...

    def orders(self, query: OrderQuery) -> list[OrderView]: ...

    def order(self, client_order_id: str) -> OrderView: ...

    def submit_order(self, request: OrderRequest, *, actor: str) -> OrderView: ...

    def cancel_order(self, client_order_id: str, *, actor: str) -> OrderView: ...

    def positions(self) -> list[PositionView]: ...

    def pnl(self) -> PnlView: ...

    def latency(self) -> LatencyView: ...

    def store(self) -> StoreView: ...

    def events(self, after: int, limit: int) -> EventPage: ...
