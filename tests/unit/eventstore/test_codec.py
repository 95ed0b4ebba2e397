from __future__ import annotations

from typing import Any, ClassVar

import msgspec
import pytest

from spreadwire.domain import commands, events
from spreadwire.domain.events import OrderAccepted, TradingStateChanged
from spreadwire.errors import StoreError
from spreadwire.eventstore.codec import Codec, message_types
from tests.unit.eventstore.samples import sample


def test_message_types_default_modules_include_every_tagged_domain_struct() -> None:
    types = set(message_types())

    expected = {
        value
        for module in (commands, events)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == module.__name__
        and value.__struct_config__.tag is not None
    }

    assert expected <= types
    assert TradingStateChanged in types


@pytest.mark.parametrize("cls", message_types(), ids=lambda cls: cls.__name__)
def test_codec_every_registered_message_round_trips(cls: type[msgspec.Struct]) -> None:
    codec = Codec()
    message = sample(cls)

    type_name, schema, payload = codec.encode(message)

    assert type_name == cls.__name__
    assert codec.decode(type_name, schema, payload) == message


def test_codec_unregistered_message_raises_store_error() -> None:
    class Stranger(msgspec.Struct, tag=True):
        value: int

    with pytest.raises(StoreError, match="not a registered"):
        Codec().encode(Stranger(value=1))


def test_codec_unknown_stored_type_raises_store_error() -> None:
    with pytest.raises(StoreError, match="unknown stored type"):
        Codec().decode("Nope", 1, b"\x80")


class Renamed(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    schema_version: ClassVar[int] = 3
    venue: str
    size: int


def _v1_to_v2(state: dict[str, Any]) -> dict[str, Any]:
    state["venue"] = state.pop("exchange")
    return state


def _v2_to_v3(state: dict[str, Any]) -> dict[str, Any]:
    state.setdefault("size", 1)
    return state


def test_codec_old_schema_is_upcast_on_read_in_order() -> None:
    codec = Codec(types=[Renamed], upcasters={("Renamed", 1): _v1_to_v2, ("Renamed", 2): _v2_to_v3})
    stored_v1 = msgspec.msgpack.encode({"type": "Renamed", "exchange": "SIM"})

    message = codec.decode("Renamed", 1, stored_v1)

    assert message == Renamed(venue="SIM", size=1)
    assert codec.encode(message)[1] == 3


def test_codec_missing_upcaster_raises_store_error() -> None:
    codec = Codec(types=[Renamed], upcasters={("Renamed", 1): _v1_to_v2})
    stored_v1 = msgspec.msgpack.encode({"type": "Renamed", "exchange": "SIM"})

    with pytest.raises(StoreError, match="no upcaster for Renamed from schema 2"):
        codec.decode("Renamed", 1, stored_v1)


def _raises(state: dict[str, Any]) -> dict[str, Any]:
    return {"venue": state["nonexistent"]}


def _returns_none(state: dict[str, Any]) -> None:
    state.clear()


def test_codec_failing_upcaster_raises_store_error_naming_type_and_schema() -> None:
    codec = Codec(types=[Renamed], upcasters={("Renamed", 1): _raises, ("Renamed", 2): _v2_to_v3})
    stored_v1 = msgspec.msgpack.encode({"type": "Renamed", "exchange": "SIM"})

    with pytest.raises(StoreError, match=r"upcasting Renamed from schema 1 failed: KeyError"):
        codec.decode("Renamed", 1, stored_v1)


def test_codec_upcaster_returning_no_dict_raises_store_error() -> None:
    upcasters: dict[tuple[str, int], Any] = {("Renamed", 1): _returns_none}
    upcasters[("Renamed", 2)] = _v2_to_v3
    codec = Codec(types=[Renamed], upcasters=upcasters)
    stored_v1 = msgspec.msgpack.encode({"type": "Renamed", "exchange": "SIM"})

    with pytest.raises(StoreError, match="upcaster of Renamed from schema 1 returned NoneType"):
        codec.decode("Renamed", 1, stored_v1)


def test_codec_schema_newer_than_code_raises_store_error() -> None:
    codec = Codec()
    _, _, payload = codec.encode(sample(OrderAccepted))

    with pytest.raises(StoreError, match="newer than this code"):
        codec.decode("OrderAccepted", 2, payload)


def test_codec_extra_types_are_registered_beside_the_domain() -> None:
    codec = Codec(extra_types=[Renamed])

    assert "Renamed" in codec.type_names
    assert "OrderFilled" in codec.type_names
