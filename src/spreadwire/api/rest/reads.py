"""Read endpoints (role ``viewer``): answered from the node's read models."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter

from spreadwire.api.ports import NodeService
from spreadwire.api.rest.common import NOT_FOUND, READ_ERRORS, VIEWER, PathId
from spreadwire.api.schemas import (
    EventPage,
    InstrumentView,
    LatencyView,
    OrderQuery,
    OrderView,
    PnlView,
    PositionView,
    RiskLimits,
    StoreView,
    StrategyView,
    TradingStateView,
)
from spreadwire.domain.enums import OrderStatus

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="page size")]
After = Annotated[int, QueryParameter(ge=0, le=2**53, description="position to read after")]
OptionalFilter = Annotated[str | None, QueryParameter(max_length=64)]
StatusFilter = Annotated[OrderStatus | None, QueryParameter()]
OpenOnly = Annotated[bool, QueryParameter(description="only orders still working")]


def read_routes(service: NodeService) -> list[HTTPRouteHandler]:
    """The GET endpoints under ``/v1``, bound to ``service``."""
    return [*_config_reads(service), *_trading_reads(service)]


def _config_reads(service: NodeService) -> list[HTTPRouteHandler]:

    @get("/v1/instruments", opt=VIEWER, responses=READ_ERRORS, tags=["market"])
    async def instruments() -> list[InstrumentView]:
        """Tradable instruments; WebSocket channels use their ``symbol``."""
        return service.instruments()

    @get("/v1/strategies", opt=VIEWER, responses=READ_ERRORS, tags=["strategies"])
    async def strategies() -> list[StrategyView]:
        """Strategies with their parameters and whether they run."""
        return service.strategies()

    @get("/v1/risk/limits", opt=VIEWER, responses=READ_ERRORS, tags=["risk"])
    async def risk_limits() -> RiskLimits:
        """Pre-trade limits in force."""
        return service.risk_limits()

    @get("/v1/trading-state", opt=VIEWER, responses=READ_ERRORS, tags=["risk"])
    async def trading_state() -> TradingStateView:
        """ACTIVE, REDUCING or HALTED, with the engaged kill switches."""
        return service.trading_state()

    return [instruments, strategies, risk_limits, trading_state]


def _trading_reads(service: NodeService) -> list[HTTPRouteHandler]:
    @get("/v1/orders", opt=VIEWER, responses=READ_ERRORS, tags=["orders"])
    async def orders(
        status: StatusFilter = None,
        strategy_id: OptionalFilter = None,
        instrument_id: OptionalFilter = None,
        open_only: OpenOnly = False,
        limit: Limit = 100,
    ) -> list[OrderView]:
        """Orders, most recent first, filtered by every given parameter."""
        query = OrderQuery(
            status=status,
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            open_only=open_only,
            limit=limit,
        )
        return service.orders(query)

    @get(
        "/v1/orders/{client_order_id:str}",
        opt=VIEWER,
        responses={**READ_ERRORS, **NOT_FOUND},
        tags=["orders"],
    )
    async def order(client_order_id: PathId) -> OrderView:
        """One order by client order id."""
        return service.order(client_order_id)

    @get("/v1/positions", opt=VIEWER, responses=READ_ERRORS, tags=["portfolio"])
    async def positions() -> list[PositionView]:
        """Open and closed positions per strategy and instrument."""
        return service.positions()

    @get("/v1/pnl", opt=VIEWER, responses=READ_ERRORS, tags=["portfolio"])
    async def pnl() -> PnlView:
        """Realized, unrealized and total PnL, in total and per strategy."""
        return service.pnl()

    @get("/v1/latency", opt=VIEWER, responses=READ_ERRORS, tags=["telemetry"])
    async def latency() -> LatencyView:
        """Per-stage latency percentiles of the hot path, in nanoseconds."""
        return service.latency()

    @get("/v1/store", opt=VIEWER, responses=READ_ERRORS, tags=["telemetry"])
    async def store() -> StoreView:
        """The event store: state (ok, retrying, failed), writer figures, pool statistics."""
        return service.store()

    @get("/v1/events", opt=VIEWER, responses=READ_ERRORS, tags=["audit"])
    async def events(after: After = 0, limit: Limit = 100) -> EventPage:
        """The audit log: stored events after a global position, in commit order."""
        return service.events(after, limit)

    return [orders, order, positions, pnl, latency, store, events]
