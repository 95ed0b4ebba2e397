"""Node configuration: one frozen tree of Structs, read only by :func:`load`.

The embedded defaults run a demo with no file at all. A TOML file overrides any part,
and ``SPREADWIRE_<SECTION>__<FIELD>=value`` environment variables override the file
(``SPREADWIRE_SEED=3``, ``SPREADWIRE_RISK__MAX_ORDER_QUANTITY=500``). Every error names
the offending setting; a key that names no setting is an error, not silently ignored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import msgspec.inspect

from spreadwire.errors import ConfigError
from spreadwire.marketdata.config import MarketDataConfig
from spreadwire.oms.config import OmsConfig
from spreadwire.risk.config import RiskConfig
from spreadwire.venue.config import ScenarioConfig, VenueConfig

ENV_PREFIX = "SPREADWIRE_"


class StrategyDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """Parameters of the pair strategy the node starts on every simulated pair."""

    window: Annotated[int, msgspec.Meta(ge=10, le=100_000)] = 300
    entry_z: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    exit_z: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    stop_z: Annotated[float, msgspec.Meta(gt=0)] = 4.5
    notional: Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$")] = "10000"
    size_multiplier: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1


class StoreConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where events go: a store URL; empty means ``sqlite:///<run dir>/events.db``."""

    url: str = ""
    durability: str = "durable"
    capacity: Annotated[int, msgspec.Meta(gt=0)] = 65_536


class GcConfig(msgspec.Struct, frozen=True, kw_only=True):
    """When the garbage collector runs (see ``spreadwire.core.gcpolicy``).

    ``controlled``: from the node's timer (young generation every tick, the middle one
    every ``middle_every`` ticks, all every ``full_every``), with the automatic threshold
    raised to ``safety_limit``; ``automatic``: CPython's own thresholds, untouched."""

    mode: Literal["controlled", "automatic"] = "controlled"
    safety_limit: Annotated[int, msgspec.Meta(ge=1_000)] = 50_000
    middle_every: Annotated[int, msgspec.Meta(ge=1)] = 10
    full_every: Annotated[int, msgspec.Meta(ge=1)] = 600


class DriverConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How a ``--speed realtime`` run waits for the wall clock (``spreadwire.node.Idle``).

    ``sleep``: the node sleeps until its next delivery is due (1 ms at most) and uses
    little CPU; ``spin``: it polls its schedule without sleeping and keeps one core busy
    for the whole run; ``shadow`` adds a shadow node exercising the same code while
    idle."""

    idle: Literal["sleep", "spin"] = "sleep"
    #: With ``idle = "spin"``: run a shadow node (``spreadwire.warmup``) while idle, so
    #: the strategy, risk and OMS code stays warm for the next tick.
    shadow: bool = False

    def __post_init__(self) -> None:
        if self.shadow and self.idle != "spin":
            raise ValueError('shadow = true needs idle = "spin" (a sleeping node has no idle work)')


class ApiConfig(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool = False
    host: str = "127.0.0.1"
    rest_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080
    ws_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8081


#: Scenarios start 12 s into a run, so a short demo shows trading before the stress,
#: and last 6 s, long enough for the protections to see them.
DEFAULT_VENUE = VenueConfig(
    scenario_params=ScenarioConfig(start_ns=12_000_000_000, duration_ns=6_000_000_000)
)

#: The node's risk limits, sized for the demo's strategies (about 10,000 per leg):
#: an order 10x that is denied, and repeated denials trip the breaker.
DEFAULT_RISK = RiskConfig(max_order_quantity="5000", max_order_notional="100000")


class NodeConfig(msgspec.Struct, frozen=True, kw_only=True):
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)] = 7
    pairs: Annotated[int, msgspec.Meta(ge=1, le=13)] = 3
    timer_interval_ns: Annotated[int, msgspec.Meta(gt=0)] = 100_000_000
    venue: VenueConfig = msgspec.field(default_factory=lambda: DEFAULT_VENUE)
    risk: RiskConfig = msgspec.field(default_factory=lambda: DEFAULT_RISK)
    oms: OmsConfig = msgspec.field(default_factory=OmsConfig)
    marketdata: MarketDataConfig = msgspec.field(default_factory=MarketDataConfig)
    strategy: StrategyDefaults = msgspec.field(default_factory=StrategyDefaults)
    store: StoreConfig = msgspec.field(default_factory=StoreConfig)
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    gc: GcConfig = msgspec.field(default_factory=GcConfig)
    driver: DriverConfig = msgspec.field(default_factory=DriverConfig)


def _overlay(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for key, value in sorted(environ.items()):
        if not key.startswith(ENV_PREFIX):
            continue
        path = key.removeprefix(ENV_PREFIX).lower().split("__")
        if path[0] not in NodeConfig.__struct_fields__:
            continue  # other SPREADWIRE_ variables (keys, tokens) are not node settings
        node: dict[str, Any] = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {part} is not a section")
            node = child
        node[path[-1]] = _parse_env_value(value)


def _parse_env_value(value: str) -> Any:
    """An environment value: a TOML string, array or table when it parses as one, else the
    text itself, which the lax conversion in :func:`load` turns into the setting's own type
    (``"500"`` stays a string for a decimal-string setting and becomes 500 for an int)."""
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value
    return parsed if isinstance(parsed, str | list | dict) else value.strip()


def _check_fields(value: dict[str, Any], info: msgspec.inspect.StructType, where: str) -> None:
    fields = {field.encode_name: field.type for field in info.fields}
    for key, item in value.items():
        if key not in fields:
            raise ConfigError(f"config: unknown setting `{where}.{key}`")
        _check_known(item, fields[key], f"{where}.{key}")


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> None:
    """Deep-merge ``top`` into ``base``: a section sets only the fields it names."""
    for key, value in top.items():
        current = base.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value)
        else:
            base[key] = value


def _check_known(value: Any, info: msgspec.inspect.Type, where: str) -> None:
    """Reject a key that names no setting: a misspelt one would otherwise be ignored."""
    match info:
        case msgspec.inspect.Metadata():
            _check_known(value, info.type, where)
        case msgspec.inspect.StructType() if isinstance(value, dict):
            _check_fields(value, info, where)
        case msgspec.inspect.DictType() if isinstance(value, dict):
            for key, item in value.items():
                _check_known(item, info.value_type, f"{where}.{key}")
        case msgspec.inspect.ListType() | msgspec.inspect.VarTupleType() if isinstance(value, list):
            for index, item in enumerate(value):
                _check_known(item, info.item_type, f"{where}[{index}]")
        case msgspec.inspect.UnionType():
            structs = [t for t in info.types if isinstance(t, msgspec.inspect.StructType)]
            if len(structs) == 1:
                _check_known(value, structs[0], where)


def load(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """Read the configuration: defaults, then ``path`` (TOML), then the environment,
    then ``overrides`` (top-level fields, e.g. from the command line)."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config: no such file {str(path)!r}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"config: cannot read {str(path)!r}: {error}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config: {path}: {error}") from None
    if environ is not None:
        _overlay(data, environ)
    if overrides:
        data.update(overrides)
    _check_known(data, msgspec.inspect.type_info(NodeConfig), "$")
    # On top of the defaults, so that ``[risk.order_rate] limit = 5`` (or its variable)
    # keeps the default ``interval_ns`` instead of dropping it.
    merged: dict[str, Any] = msgspec.to_builtins(NodeConfig())
    _merge(merged, data)
    try:
        return msgspec.convert(merged, NodeConfig, strict=False)
    except msgspec.ValidationError as error:
        raise ConfigError(f"config: {error}") from None
