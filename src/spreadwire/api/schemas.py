"""Wire schemas of the REST API: what handlers read and return (msgspec Structs).

Prices, quantities and money are exact decimal strings (``"101.25"``); timestamps are int
nanoseconds since the Unix epoch (``ts_*``); durations are ``*_ns``. Request bodies reject
unknown fields so a typo is a 422 naming the field rather than a silent no-op. These are
the return types of :class:`spreadwire.api.ports.NodeService`; the node maps its read
models onto them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from spreadwire.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce, TradingState

Decimal = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^-?[0-9]{1,18}(\.[0-9]{1,9})?$",
        description="exact decimal number as a string",
        examples=["101.25"],
    ),
]
Amount = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{1,18}(\.[0-9]{1,9})?$",
        description="non-negative exact decimal number as a string",
        examples=["100"],
    ),
]
Identifier = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")
]
Text = Annotated[str, msgspec.Meta(max_length=256)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0, le=2**53)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
#: a point in time, int ns since the Unix epoch (as every ``ts_*``): past 2**53 today
Timestamp = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
Bps = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Role = Literal["viewer", "trader", "admin"]
KillSwitchScope = Literal["all", "strategy", "instrument"]


class _Body(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields are an error."""


# --- health --------------------------------------------------------------------------


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ok"] = "ok"


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """``ready`` is False until the node can serve (store open, venue connected)."""

    ready: bool
    checks: dict[str, bool] = msgspec.field(default_factory=dict)
    detail: str = ""


# --- instruments and strategies --------------------------------------------------------


class InstrumentView(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    instrument_id: str
    venue: str
    currency: str
    price_precision: int
    size_precision: int
    tick_size: str
    lot_size: str
    min_notional: str
    tradable: bool


class StrategySpec(_Body, frozen=True, kw_only=True):
    """A pair strategy to add: trade the residual of ``y = alpha + beta * x``."""

    strategy_id: Annotated[
        str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.]+$")
    ]
    leg_y: Identifier
    leg_x: Identifier
    window: Annotated[int, msgspec.Meta(ge=10, le=100_000)] = 300
    entry_z: Annotated[float, msgspec.Meta(gt=0, le=100)] = 2.0
    exit_z: Annotated[float, msgspec.Meta(ge=0, le=100)] = 0.5
    stop_z: Annotated[float, msgspec.Meta(gt=0, le=100)] = 4.5
    notional: Amount = "10000"
    size_multiplier: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    cooldown_ns: NonNegativeInt = 5_000_000_000
    start: bool = False


class StrategyParams(_Body, frozen=True, kw_only=True):
    """A partial change of a strategy's parameters; absent fields keep their value."""

    window: Annotated[int, msgspec.Meta(ge=10, le=100_000)] | None = None
    entry_z: Annotated[float, msgspec.Meta(gt=0, le=100)] | None = None
    exit_z: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    stop_z: Annotated[float, msgspec.Meta(gt=0, le=100)] | None = None
    notional: Amount | None = None
    size_multiplier: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    cooldown_ns: NonNegativeInt | None = None


class StrategyView(msgspec.Struct, frozen=True, kw_only=True):
    strategy_id: str
    kind: str = "pair"
    legs: list[str]
    running: bool
    params: dict[str, Any]
    state: str = ""


# --- risk and trading state ------------------------------------------------------------


class RateLimitView(_Body, frozen=True, kw_only=True):
    """At most ``limit`` per ``interval_ns``."""

    limit: PositiveInt
    interval_ns: PositiveInt


class InstrumentLimitsView(_Body, frozen=True, kw_only=True):
    max_order_quantity: Amount | None = None
    min_order_quantity: Amount | None = None
    max_order_notional: Amount | None = None
    max_position: Amount | None = None
    collar_bps: Bps | None = None


class InstrumentLimitsPatch(_Body, frozen=True, kw_only=True):
    """A change of one instrument's overrides: an absent field keeps its value, null
    clears it (the engine-wide limit applies again)."""

    max_order_quantity: Amount | msgspec.UnsetType | None = msgspec.UNSET
    min_order_quantity: Amount | msgspec.UnsetType | None = msgspec.UNSET
    max_order_notional: Amount | msgspec.UnsetType | None = msgspec.UNSET
    max_position: Amount | msgspec.UnsetType | None = msgspec.UNSET
    collar_bps: Bps | msgspec.UnsetType | None = msgspec.UNSET


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The pre-trade limits in force (account currency for money amounts)."""

    max_order_quantity: str
    min_order_quantity: str
    max_order_notional: str
    collar_bps: int
    max_open_orders: int
    strategy_max_open_orders: int
    order_rate: RateLimitView
    strategy_order_rate: RateLimitView
    max_position: str
    strategy_notional_budget: str
    max_gross_exposure: str
    max_net_exposure: str
    daily_loss_limit: str
    max_drawdown: str
    instrument_limits: dict[str, InstrumentLimitsView] = msgspec.field(default_factory=dict)


class RiskLimitsPatch(_Body, frozen=True, kw_only=True):
    """A partial change of the limits; absent fields keep their value."""

    max_order_quantity: Amount | None = None
    min_order_quantity: Amount | None = None
    max_order_notional: Amount | None = None
    collar_bps: Bps | None = None
    max_open_orders: PositiveInt | None = None
    strategy_max_open_orders: PositiveInt | None = None
    order_rate: RateLimitView | None = None
    strategy_order_rate: RateLimitView | None = None
    max_position: Amount | None = None
    strategy_notional_budget: Amount | None = None
    max_gross_exposure: Amount | None = None
    max_net_exposure: Amount | None = None
    daily_loss_limit: Amount | None = None
    max_drawdown: Amount | None = None
    #: merged per instrument and field (see :class:`InstrumentLimitsPatch`); an
    #: instrument given as null loses every override
    instrument_limits: dict[Identifier, InstrumentLimitsPatch | None] | None = None


class KillSwitchView(msgspec.Struct, frozen=True, kw_only=True):
    scope: KillSwitchScope
    target: str | None = None
    reason: str = ""
    ts_engaged: int


class TradingStateView(msgspec.Struct, frozen=True, kw_only=True):
    state: TradingState
    reason: str = ""
    ts_changed: int = 0
    kill_switches: list[KillSwitchView] = msgspec.field(default_factory=list)


class TradingStateChange(_Body, frozen=True, kw_only=True):
    """Move the trading state by hand (ACTIVE needs a reason; it is audited)."""

    state: TradingState
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class KillSwitchRequest(_Body, frozen=True, kw_only=True):
    """Engage (or release) a kill switch; ``target`` names the strategy or instrument."""

    scope: KillSwitchScope = "all"
    target: Identifier | None = None
    reason: Text = ""


class KillSwitchResult(msgspec.Struct, frozen=True, kw_only=True):
    engaged: bool
    scope: KillSwitchScope
    target: str | None = None
    orders_canceled: int = 0
    state: TradingStateView


class BreakerReset(_Body, frozen=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


# --- orders, positions, PnL ------------------------------------------------------------


class OrderRequest(_Body, frozen=True, kw_only=True):
    """A manual order; it goes through the pre-trade risk gate like any other."""

    instrument_id: Identifier
    side: OrderSide
    order_type: OrderType = OrderType.LIMIT
    quantity: Amount
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time_ns: Timestamp | None = None
    post_only: bool = False
    reduce_only: bool = False
    client_order_id: Identifier | None = None
    strategy_id: Identifier = "manual"


class OrderQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of ``GET /v1/orders``; every given filter must match."""

    status: OrderStatus | None = None
    strategy_id: str | None = None
    instrument_id: str | None = None
    open_only: bool = False
    limit: int = 100


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    client_order_id: str
    strategy_id: str
    instrument_id: str
    side: OrderSide
    order_type: OrderType
    quantity: str
    price: str | None = None
    trigger_price: str | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    status: OrderStatus
    filled_quantity: str = "0"
    avg_price: str | None = None
    venue_order_id: str | None = None
    reason: str = ""
    ts_last: int = 0


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    strategy_id: str
    instrument_id: str
    side: Literal["LONG", "SHORT", "FLAT"]
    quantity: str
    avg_price: str | None = None
    realized_pnl: str
    unrealized_pnl: str
    currency: str


class PnlView(msgspec.Struct, frozen=True, kw_only=True):
    realized: str
    unrealized: str
    total: str
    currency: str
    by_strategy: dict[str, str] = msgspec.field(default_factory=dict)
    ts: int = 0


class StageLatency(msgspec.Struct, frozen=True, kw_only=True):
    """Percentiles of one pipeline stage, in nanoseconds."""

    stage: str
    count: int
    p50_ns: int
    p99_ns: int
    p999_ns: int
    max_ns: int


class LatencyView(msgspec.Struct, frozen=True, kw_only=True):
    stages: list[StageLatency]
    ts: int = 0


StoreState = Literal["ok", "retrying", "failed", "closed"]


class StoreView(msgspec.Struct, frozen=True, kw_only=True):
    """The node's event store and its writer: where it is, whether it is sound, and what
    went through it. Counts are since the node started; durations are nanoseconds.

    ``state``: ``ok``; ``retrying`` (a commit failed and is being tried again: trading is
    halted); ``failed`` (the writer gave up: trading is halted until a restart, ``error``
    says why); ``closed`` (the node is shutting down). ``pool`` holds the connection
    pool's statistics (psycopg_pool's names) for a PostgreSQL store, else it is null."""

    url: str
    backend: str
    state: StoreState
    error: str = ""
    durability: str
    last_position: int
    appended: int
    committed: int
    unrecorded: int
    commits: int
    largest_batch: int
    queue_depth: int
    queue_peak: int
    capacity: int
    backpressure_waits: int
    retries: int
    #: events refused for a stream name the store does not take (never written)
    refused: int
    ack_p50_ns: int
    ack_p99_ns: int
    ack_max_ns: int
    pool: dict[str, int] | None = None
    ts: int = 0


# --- audit log -------------------------------------------------------------------------


class EventView(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    stream: str
    type: str
    ts: int
    data: dict[str, Any]


class EventPage(msgspec.Struct, frozen=True, kw_only=True):
    """Events after ``after`` in global position order; ask again from ``next_after``."""

    events: list[EventView]
    next_after: int


# --- API keys --------------------------------------------------------------------------


class KeyCreate(_Body, frozen=True, kw_only=True):
    role: Role
    label: Text = ""


class KeyView(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    role: Role
    label: str = ""
    ts_created: int
    revoked: bool = False


class KeyCreated(msgspec.Struct, frozen=True, kw_only=True):
    """The secret ``key`` is shown once; only its hash is stored."""

    key_id: str
    role: Role
    label: str = ""
    key: str


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    """The one error shape: ``code`` is machine readable, ``field`` names bad input."""

    status: int
    code: str
    message: str
    field: str | None = None
