"""Mutating endpoints: they go through the node's command side, which audits them.

Roles: a ``trader`` may submit and cancel orders, start and stop strategies and engage a
kill switch (anyone who can trade can stop trading); an ``admin`` may also add strategies,
change parameters and limits, move the trading state, release a kill switch and reset the
breaker.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, patch, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody

from spreadwire.api.ports import NodeService
from spreadwire.api.rest.common import ADMIN, NOT_FOUND, TRADER, WRITE_ERRORS, PathId, actor
from spreadwire.api.schemas import (
    BreakerReset,
    KillSwitchRequest,
    KillSwitchResult,
    OrderRequest,
    OrderView,
    RiskLimits,
    RiskLimitsPatch,
    StrategyParams,
    StrategySpec,
    StrategyView,
    TradingStateChange,
    TradingStateView,
)

AnyRequest = Request[Any, Any, Any]
WRITE_OR_MISSING = {**WRITE_ERRORS, **NOT_FOUND}


def strategy_routes(service: NodeService) -> list[HTTPRouteHandler]:
    """Strategy lifecycle and parameters."""

    @post("/v1/strategies", opt=ADMIN, responses=WRITE_ERRORS, tags=["strategies"])
    async def add_strategy(request: AnyRequest, data: JSONBody[StrategySpec]) -> StrategyView:
        """Add a pair strategy (optionally started at once)."""
        return service.add_strategy(data, actor=actor(request))

    @post(
        "/v1/strategies/{strategy_id:str}/start",
        opt=TRADER,
        status_code=200,
        responses=WRITE_OR_MISSING,
        tags=["strategies"],
    )
    async def start_strategy(request: AnyRequest, strategy_id: PathId) -> StrategyView:
        """Start a strategy."""
        return service.start_strategy(strategy_id, actor=actor(request))

    @post(
        "/v1/strategies/{strategy_id:str}/stop",
        opt=TRADER,
        status_code=200,
        responses=WRITE_OR_MISSING,
        tags=["strategies"],
    )
    async def stop_strategy(request: AnyRequest, strategy_id: PathId) -> StrategyView:
        """Stop a strategy (its working orders are canceled by the node)."""
        return service.stop_strategy(strategy_id, actor=actor(request))

    @patch(
        "/v1/strategies/{strategy_id:str}/params",
        opt=ADMIN,
        responses=WRITE_OR_MISSING,
        tags=["strategies"],
    )
    async def set_params(
        request: AnyRequest, strategy_id: PathId, data: JSONBody[StrategyParams]
    ) -> StrategyView:
        """Change some of a strategy's parameters."""
        return service.set_strategy_params(strategy_id, data, actor=actor(request))

    return [add_strategy, start_strategy, stop_strategy, set_params]


def risk_routes(service: NodeService) -> list[HTTPRouteHandler]:
    """Limits, trading state, kill switch and breaker."""

    @patch("/v1/risk/limits", opt=ADMIN, responses=WRITE_ERRORS, tags=["risk"])
    async def set_limits(request: AnyRequest, data: JSONBody[RiskLimitsPatch]) -> RiskLimits:
        """Change some limits; returns the limits now in force."""
        return service.set_risk_limits(data, actor=actor(request))

    @put("/v1/trading-state", opt=ADMIN, responses=WRITE_ERRORS, tags=["risk"])
    async def set_state(
        request: AnyRequest, data: JSONBody[TradingStateChange]
    ) -> TradingStateView:
        """Move the trading state by hand (audited, with a reason)."""
        return service.set_trading_state(data, actor=actor(request))

    @post(
        "/v1/kill-switch",
        opt=TRADER,
        status_code=200,
        responses=WRITE_ERRORS,
        tags=["risk"],
    )
    async def engage(request: AnyRequest, data: JSONBody[KillSwitchRequest]) -> KillSwitchResult:
        """Block risk-increasing orders in scope and cancel its working orders."""
        return service.engage_kill_switch(data, actor=actor(request))

    @post(
        "/v1/kill-switch/release",
        opt=ADMIN,
        status_code=200,
        responses=WRITE_ERRORS,
        tags=["risk"],
    )
    async def release(request: AnyRequest, data: JSONBody[KillSwitchRequest]) -> KillSwitchResult:
        """Release a kill switch engaged with the same scope and target."""
        return service.release_kill_switch(data, actor=actor(request))

    @post(
        "/v1/breaker/reset",
        opt=ADMIN,
        status_code=200,
        responses=WRITE_ERRORS,
        tags=["risk"],
    )
    async def reset(request: AnyRequest, data: JSONBody[BreakerReset]) -> TradingStateView:
        """Return to ACTIVE after a breaker trip (audited, after any cool-down)."""
        return service.reset_breaker(data, actor=actor(request))

    return [set_limits, set_state, engage, release, reset]


def order_routes(service: NodeService) -> list[HTTPRouteHandler]:
    """Manual orders through the risk gate."""

    @post("/v1/orders", opt=TRADER, responses=WRITE_ERRORS, tags=["orders"])
    async def submit(request: AnyRequest, data: JSONBody[OrderRequest]) -> OrderView:
        """Submit an order; a risk denial comes back as status DENIED with its reason."""
        return service.submit_order(data, actor=actor(request))

    @delete(
        "/v1/orders/{client_order_id:str}",
        opt=TRADER,
        status_code=200,
        responses=WRITE_OR_MISSING,
        tags=["orders"],
    )
    async def cancel(request: AnyRequest, client_order_id: PathId) -> OrderView:
        """Request the cancel of a working order."""
        return service.cancel_order(client_order_id, actor=actor(request))

    return [submit, cancel]
