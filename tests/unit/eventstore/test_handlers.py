from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import (
    CancelOrder,
    EngageKillSwitch,
    ModifyOrder,
    ReleaseKillSwitch,
    ResetTradingState,
    SubmitOrder,
    TripTradingState,
)
from spreadwire.domain.enums import OrderSide, OrderType, TradingState
from spreadwire.domain.events import (
    OrderInitialized,
    OrderPendingCancel,
    TradingStateChanged,
)
from spreadwire.domain.values import Price, Quantity
from spreadwire.errors import ConcurrencyError, ConfigError, StoreError, ValidationError
from spreadwire.eventstore.aggregates import standard_command_bus
from spreadwire.eventstore.handlers import CommandBus, decode_command
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.recorder import encode_append
from spreadwire.eventstore.records import Append, Entry, KeyRecord
from spreadwire.eventstore.writer import EventWriter
from tests.unit.eventstore.builders import accepted, filled, submitted


def submit(coid: str = "O-1") -> SubmitOrder:
    return SubmitOrder(
        strategy_id="pairs-1",
        instrument_id="AAA.SIM",
        client_order_id=coid,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Quantity.parse("5"),
        price=Price.parse("10.5"),
        ts_init=1,
    )


def cancel(coid: str = "O-1") -> CancelOrder:
    return CancelOrder(
        strategy_id="pairs-1", instrument_id="AAA.SIM", client_order_id=coid, ts_init=2
    )


def make_bus(recorder: MemoryRecorder, writer: EventWriter | None = None) -> CommandBus:
    clock = SimClock(100)
    return standard_command_bus(CommandBus(recorder, clock=clock, writer=writer), clock)


def venue_accepts(recorder: MemoryRecorder, client_order_id: str = "O-1") -> None:
    """The venue's answers to a submitted order, as the node records them."""
    with EventWriter(recorder) as writer:
        writer.append(submitted(client_order_id))
        writer.append(accepted(client_order_id))


def test_command_bus_submit_appends_command_and_initialized_event() -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)

    result = bus.handle(submit())

    assert result.accepted
    assert (result.first_position, result.last_position) == (1, 2)
    stored = [e.message for e in recorder.read_stream("order-O-1")]
    assert stored[0] == submit()
    assert isinstance(stored[1], OrderInitialized)
    assert stored[1].quantity == Quantity.parse("5")
    assert stored[1].ts_event == 100


def test_command_bus_same_idempotency_key_is_applied_once() -> None:
    """A retried submit (same key, same command) reports the first outcome, although
    deciding it again would refuse it (its client order id now exists)."""
    recorder = MemoryRecorder()
    bus = make_bus(recorder)

    first = bus.handle(submit(), idempotency_key="req-1")
    again = bus.handle(submit(), idempotency_key="req-1")
    elsewhere = make_bus(recorder).handle(submit(), idempotency_key="req-1")

    assert first.accepted and not first.duplicate
    for retry in (again, elsewhere):
        assert retry.accepted and retry.duplicate
        assert (retry.first_position, retry.last_position) == (1, 2)
    assert recorder.last_position() == 2


def test_command_bus_retry_of_a_command_its_first_attempt_made_moot_is_a_duplicate() -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    bus.handle(EngageKillSwitch(scope="all", operator="op", ts_init=0))
    release = ReleaseKillSwitch(scope="all", operator="op", ts_init=0)

    first = bus.handle(release, idempotency_key="rel-1")
    again = bus.handle(release, idempotency_key="rel-1")

    assert first.accepted and not first.duplicate
    assert again.accepted and again.duplicate
    assert (again.first_position, again.last_position) == (
        first.first_position,
        first.last_position,
    )


def test_command_bus_idempotency_key_reused_for_another_stream_is_refused() -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    bus.handle(submit(), idempotency_key="req-1")

    with pytest.raises(ValidationError, match="'req-1' was used for stream 'order-O-1'") as error:
        bus.handle(submit("O-2"), idempotency_key="req-1")

    assert error.value.field == "idempotency_key"
    assert recorder.stream_version("order-O-2") == 0
    assert recorder.last_position() == 2


def test_command_bus_idempotency_key_the_store_cannot_take_is_refused_before_recording() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        bus = make_bus(recorder, writer)
        with pytest.raises(ValidationError, match="1024 bytes") as error:
            bus.handle(submit(), idempotency_key="req-" + "x" * 1_100)
        result = bus.handle(submit(), idempotency_key="req-1")

    assert error.value.field == "idempotency_key"
    assert result.accepted and (result.first_position, result.last_position) == (1, 2)


def test_command_bus_idempotency_key_reused_for_another_command_on_the_stream_is_refused() -> None:
    """Keys are global: a cancel sent with the key of the order's submit is not a retry
    of that submit (it was reported as a duplicate and the cancel never happened)."""
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    bus.handle(submit(), idempotency_key="req-1")
    venue_accepts(recorder)

    with pytest.raises(ValidationError, match="'req-1' was used for") as error:
        bus.handle(cancel(), idempotency_key="req-1")

    assert error.value.field == "idempotency_key"
    assert recorder.last_position() == 4
    retry = bus.handle(msgspec.structs.replace(submit(), ts_init=9), idempotency_key="req-1")
    assert retry.duplicate and (retry.first_position, retry.last_position) == (1, 2)


class KeyRacingRecorder:
    """Another node commits ``rival`` with the same idempotency key right after the bus
    looked the key up (two requests reusing one key, racing)."""

    def __init__(self, inner: MemoryRecorder, rival: Append) -> None:
        self.inner = inner
        self.rival: Append | None = rival

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def find_key(self, key: str) -> KeyRecord | None:
        found = self.inner.find_key(key)
        if self.rival is not None:
            rival, self.rival = self.rival, None
            self.inner.commit([rival])
        return found


def test_command_bus_idempotency_key_taken_for_another_stream_meanwhile_is_refused() -> None:
    recorder = MemoryRecorder()
    rival = encode_append(recorder.codec, "order-O-1", [submit("O-1")], 1, idempotency_key="k")
    clock = SimClock(100)
    racing = KeyRacingRecorder(recorder, rival)
    bus = standard_command_bus(CommandBus(racing, clock=clock), clock)  # type: ignore[arg-type]

    with pytest.raises(ValidationError, match="'k' was used for stream 'order-O-1'") as error:
        bus.handle(submit("O-2"), idempotency_key="k")

    assert error.value.field == "idempotency_key"


def test_command_bus_duplicate_client_order_id_is_refused_with_a_reason() -> None:
    bus = make_bus(MemoryRecorder())
    bus.handle(submit())

    result = bus.handle(submit())

    assert not result.accepted
    assert result.reason == "DUPLICATE_CLIENT_ORDER_ID"


def test_command_bus_cancel_sees_events_appended_by_the_hot_path() -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    assert not bus.handle(cancel()).accepted
    bus.handle(submit())
    venue_accepts(recorder)

    result = bus.handle(cancel())

    assert result.accepted
    assert isinstance(result.events[1], OrderPendingCancel)
    assert bus.handle(cancel()).accepted  # pending cancel may be repeated
    assert not make_bus(recorder).handle(cancel("O-404")).accepted


@pytest.mark.parametrize("field", ["strategy_id", "instrument_id"])
def test_command_bus_cancel_or_modify_naming_another_strategy_or_instrument_is_refused(
    field: str,
) -> None:
    """The stream is the client order id's; a cancel or modify that names another
    strategy or instrument than the order's was recorded with those ids (a pending
    cancel of order O-1 on the wrong instrument) instead of refused."""
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    bus.handle(submit())
    venue_accepts(recorder)
    modify = ModifyOrder(
        strategy_id="pairs-1",
        instrument_id="AAA.SIM",
        client_order_id="O-1",
        quantity=Quantity.parse("4"),
        ts_init=3,
    )

    results = [
        bus.handle(msgspec.structs.replace(command, **{field: "OTHER"}))
        for command in (cancel(), modify)
    ]

    for result in results:
        assert (result.accepted, result.reason) == (False, "INVALID_COMMAND")
        assert result.detail.startswith(f"{field}:")
    assert recorder.last_position() == 4
    assert bus.handle(cancel()).accepted


def test_command_bus_cancel_of_an_order_not_yet_submitted_is_refused() -> None:
    bus = make_bus(MemoryRecorder())
    bus.handle(submit())

    result = bus.handle(cancel())

    assert not result.accepted
    assert result.reason == "ORDER_INITIALIZED"


class RacingRecorder:
    """Commits a rival append right after the bus has read the stream (a lost race)."""

    def __init__(self, inner: MemoryRecorder, rival: object) -> None:
        self.inner = inner
        self.rival: object | None = rival

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        yield from self.inner.read_stream(stream, after_version)
        if self.rival is not None:
            rival, self.rival = self.rival, None
            self.inner.commit([encode_append(self.inner.codec, stream, [rival], 1)])


def test_command_bus_conflicting_concurrent_append_is_decided_again_on_fresh_state() -> None:
    recorder = MemoryRecorder()
    make_bus(recorder).handle(submit())
    venue_accepts(recorder)
    racing = RacingRecorder(recorder, filled("O-1", "T-1", "5", "10.5", cum="5", leaves="0"))
    clock = SimClock(100)
    bus = standard_command_bus(CommandBus(racing, clock=clock), clock)  # type: ignore[arg-type]

    result = bus.handle(cancel())

    assert not result.accepted
    assert result.reason == "ORDER_FILLED"
    assert result.attempts == 2
    assert [e.type for e in recorder.read_stream("order-O-1")][-1] == "OrderFilled"


class AlwaysRacingRecorder:
    """Another writer appends to the stream right after every read of it (a stream too
    busy for the bus's retries)."""

    def __init__(self, inner: MemoryRecorder) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def read_stream(self, stream: str, after_version: int = 0) -> Iterator[Entry]:
        yield from self.inner.read_stream(stream, after_version)
        rival = ResetTradingState(operator="rival", ts_init=0)
        self.inner.commit([encode_append(self.inner.codec, stream, [rival], 1)])


def test_command_bus_conflicting_past_its_retries_is_a_concurrency_error_naming_versions() -> None:
    """A caller tells a lost race (try again) from a failed store (the node halts on
    one) by the error's type; the message names the stream and the versions."""
    recorder = MemoryRecorder()
    clock = SimClock(100)
    racing = AlwaysRacingRecorder(recorder)
    bus = standard_command_bus(CommandBus(racing, clock=clock, retries=2), clock)  # type: ignore[arg-type]

    with pytest.raises(ConcurrencyError, match="trading: expected version 2, found 3") as error:
        bus.handle(EngageKillSwitch(operator="ops", ts_init=1))

    assert "after 2 retries" in str(error.value)
    assert [e.type for e in recorder.read_stream("trading")] == ["ResetTradingState"] * 3


def test_command_bus_negative_retries_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="retries"):
        CommandBus(MemoryRecorder(), clock=SimClock(0), retries=-1)


def test_command_bus_kill_switch_halts_and_reset_waits_for_release() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        bus = make_bus(recorder, writer)
        engage = bus.handle(EngageKillSwitch(operator="ops", reason="drill", ts_init=1))
        refused = bus.handle(ResetTradingState(operator="ops", ts_init=2))
        release = bus.handle(ReleaseKillSwitch(operator="ops", ts_init=3))
        reset = bus.handle(ResetTradingState(operator="ops", ts_init=4))

    assert engage.accepted and refused.reason == "KILL_SWITCH_ENGAGED"
    assert release.accepted and reset.accepted
    states = [
        e.message.state
        for e in recorder.read_stream("trading")
        if isinstance(e.message, TradingStateChanged)
    ]
    assert states == [TradingState.HALTED, TradingState.ACTIVE]


def test_command_bus_trip_is_recorded_and_never_lowers_the_state() -> None:
    recorder = MemoryRecorder()
    with EventWriter(recorder) as writer:
        bus = make_bus(recorder, writer)
        halt = bus.handle(TripTradingState(state=TradingState.HALTED, operator="ops", ts_init=1))
        again = bus.handle(TripTradingState(state=TradingState.HALTED, operator="ops", ts_init=2))
        lower = bus.handle(
            TripTradingState(state=TradingState.REDUCING, operator="risk", ts_init=3)
        )
        active = bus.handle(TripTradingState(state=TradingState.ACTIVE, operator="ops", ts_init=4))

    assert halt.accepted and again.accepted and lower.accepted
    assert active.reason == "INVALID_COMMAND"
    types = [e.type for e in recorder.read_stream("trading")]
    assert types == [
        "TripTradingState",
        "TradingStateChanged",
        "TripTradingState",
        "TripTradingState",
    ]


def test_command_bus_unregistered_command_type_is_a_config_error() -> None:
    bus = CommandBus(MemoryRecorder(), clock=SimClock())

    with pytest.raises(ConfigError, match="no handler"):
        bus.handle(submit())


def test_decode_command_valid_json_returns_the_command() -> None:
    command = decode_command(
        b'{"type":"CancelOrder","strategy_id":"s","instrument_id":"i",'
        b'"client_order_id":"c","ts_init":1}'
    )

    assert command == CancelOrder(
        strategy_id="s", instrument_id="i", client_order_id="c", ts_init=1
    )


def test_decode_command_bad_field_raises_validation_error_naming_it() -> None:
    with pytest.raises(ValidationError) as error:
        decode_command(
            b'{"type":"CancelOrder","strategy_id":"","instrument_id":"i",'
            b'"client_order_id":"c","ts_init":1}'
        )

    assert error.value.field == "strategy_id"


def test_decode_command_missing_field_raises_validation_error_naming_it() -> None:
    with pytest.raises(ValidationError) as error:
        decode_command(b'{"type":"CancelOrder","strategy_id":"s","instrument_id":"i","ts_init":1}')

    assert error.value.field == "client_order_id"


def test_decode_command_missing_field_of_a_nested_struct_is_named_under_its_path() -> None:
    """msgspec puts the path of the object lacking the field after ``at``: the error
    named the pair's leg (``first``), not the field it lacks, while an unknown field of
    the same leg is named ``first.<field>``."""
    with pytest.raises(ValidationError, match="missing required field `quantity`") as error:
        decode_command(
            b'{"type":"SubmitPairOrder","pair_id":"p","strategy_id":"s",'
            b'"first":{"strategy_id":"s","instrument_id":"i","client_order_id":"c1",'
            b'"side":"BUY","order_type":"MARKET","ts_init":1},'
            b'"second":{"strategy_id":"s","instrument_id":"j","client_order_id":"c2",'
            b'"side":"SELL","order_type":"MARKET","quantity":[1000000000,0],"ts_init":1}}'
        )

    assert error.value.field == "first.quantity"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            b'{"type":"SubmitOrder","strategy_id":"s","instrument_id":"i","client_order_id":"c",'
            b'"side":"SELL","order_type":"MARKET","quantity":[5000000000,0],'
            b'"expire_time_ns":100000000000000000000,"ts_init":1}',
            "expire_time_ns",
        ),
        (
            b'{"type":"SubmitPairOrder","pair_id":"p","strategy_id":"s","ts_init":1,'
            b'"first":{"strategy_id":"s","instrument_id":"i","client_order_id":"c1","side":"BUY",'
            b'"order_type":"MARKET","quantity":[1000000000,0],"ts_init":-9223372036854775809},'
            b'"second":{"strategy_id":"s","instrument_id":"j","client_order_id":"c2",'
            b'"side":"SELL","order_type":"MARKET","quantity":[1000000000,0],"ts_init":1}}',
            "first.ts_init",
        ),
    ],
    ids=["submit", "pair-leg"],
)
def test_decode_command_integer_the_store_cannot_hold_raises_validation_error_naming_it(
    data: bytes, field: str
) -> None:
    """JSON integers are unbounded, msgpack's are not: the command decoded, and handling
    it failed with msgspec's bare ``OverflowError`` naming neither field nor command."""
    with pytest.raises(ValidationError, match="out of range") as error:
        decode_command(data)

    assert error.value.field == field


def test_command_bus_command_the_store_cannot_encode_is_a_store_error_naming_it() -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    command = msgspec.structs.replace(submit(), ts_init=2**70)

    with pytest.raises(StoreError, match="cannot encode SubmitOrder"):
        bus.handle(command)

    assert recorder.last_position() == 0
    assert bus.handle(submit()).accepted


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            b'{"type":"SubmitOrder","strategy_id":"s","instrument_id":"i","client_order_id":"c",'
            b'"side":"SELL","order_type":"MARKET","quantity":[5000000000,0],"reduceOnly":true,'
            b'"ts_init":1}',
            "reduceOnly",
        ),
        (
            b'{"type":"EngageKillSwitch","scope":"strategy","taget":"pairs-1","operator":"o",'
            b'"ts_init":1}',
            "taget",
        ),
        (
            b'{"type":"SubmitPairOrder","pair_id":"p","strategy_id":"s","ts_init":1,'
            b'"first":{"strategy_id":"s","instrument_id":"i","client_order_id":"c1","side":"BUY",'
            b'"order_type":"MARKET","quantity":[1000000000,0],"ts_init":1},'
            b'"second":{"strategy_id":"s","instrument_id":"j","client_order_id":"c2","side":"SELL",'
            b'"order_type":"MARKET","quantity":[1000000000,0],"post_ony":true,"ts_init":1}}',
            "second.post_ony",
        ),
    ],
    ids=["submit", "kill-switch", "pair-leg"],
)
def test_decode_command_unknown_field_raises_validation_error_naming_it(
    data: bytes, field: str
) -> None:
    """A misspelt optional field is refused, not dropped: the order would have gone out
    without the ``reduce_only`` its sender asked for."""
    with pytest.raises(ValidationError, match="unknown field") as error:
        decode_command(data)

    assert error.value.field == field


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"quantity": Quantity.parse("0")}, "quantity must be > 0"),
        ({"price": None}, "a LIMIT order needs a price"),
        ({"order_type": OrderType.MARKET}, "a MARKET order takes no price"),
        ({"order_type": OrderType.STOP_MARKET, "price": None}, "needs a trigger_price"),
        ({"trigger_price": Price.parse("10.4")}, "a LIMIT order takes no trigger_price"),
    ],
)
def test_command_bus_refuses_an_order_no_venue_would_take(
    changes: dict[str, object], detail: str
) -> None:
    recorder = MemoryRecorder()
    command = msgspec.structs.replace(submit(), **changes)

    result = make_bus(recorder).handle(command)

    assert not result.accepted
    assert result.reason == "INVALID_ORDER"
    assert detail in result.detail
    assert recorder.last_position() == 0


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"quantity": Quantity.parse("0")}, "quantity must be > 0"),
        ({"trigger_price": Price.parse("10.4")}, "a LIMIT order takes no trigger_price"),
    ],
)
def test_command_bus_refuses_a_modify_no_venue_would_take(
    changes: dict[str, object], detail: str
) -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    bus.handle(submit())
    venue_accepts(recorder)
    command = ModifyOrder(
        strategy_id="pairs-1", instrument_id="AAA.SIM", client_order_id="O-1", ts_init=3
    )

    result = bus.handle(msgspec.structs.replace(command, **changes))

    assert not result.accepted
    assert result.reason == "INVALID_ORDER"
    assert detail in result.detail
    assert recorder.last_position() == 4


def test_command_bus_refuses_a_modify_that_changes_nothing() -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)
    bus.handle(submit())
    venue_accepts(recorder)

    result = bus.handle(
        ModifyOrder(
            strategy_id="pairs-1", instrument_id="AAA.SIM", client_order_id="O-1", ts_init=3
        )
    )

    assert (result.accepted, result.reason) == (False, "INVALID_ORDER")
    assert "nothing to change" in result.detail
    assert recorder.last_position() == 4


@pytest.mark.parametrize("scope", ["strategy", "instrument"])
def test_command_bus_refuses_a_scoped_kill_switch_without_target(scope: str) -> None:
    recorder = MemoryRecorder()
    bus = make_bus(recorder)

    engage = bus.handle(EngageKillSwitch(scope=scope, operator="ops", ts_init=1))  # type: ignore[arg-type]
    release = bus.handle(ReleaseKillSwitch(scope=scope, operator="ops", ts_init=2))  # type: ignore[arg-type]

    assert (engage.reason, release.reason) == ("INVALID_COMMAND", "INVALID_COMMAND")
    assert engage.detail.startswith("target:")
    assert recorder.last_position() == 0


def test_command_bus_cache_size_below_one_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cache_size"):
        CommandBus(MemoryRecorder(), clock=SimClock(0), cache_size=0)
