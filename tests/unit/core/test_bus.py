from __future__ import annotations

from typing import Any

import msgspec
import pytest

from spreadwire.core.bus import MessageBus


class Ping(msgspec.Struct, frozen=True):
    n: int


class Pong(msgspec.Struct, frozen=True):
    n: int


class LoudPing(Ping, frozen=True):
    pass


class Recorder:
    def __init__(self, name: str = "", log: list[tuple[str, object]] | None = None) -> None:
        self.name = name
        self.log: list[tuple[str, object]] = [] if log is None else log

    def __call__(self, message: object) -> None:
        self.log.append((self.name, message))

    @property
    def messages(self) -> list[object]:
        return [message for _, message in self.log]


def test_bus_publish_routes_to_handlers_of_exact_type() -> None:
    # Arrange
    bus = MessageBus()
    pings, pongs = Recorder(), Recorder()
    bus.subscribe(Ping, pings)
    bus.subscribe(Pong, pongs)

    # Act
    bus.publish(Ping(1))
    bus.publish(Pong(2))

    # Assert
    assert pings.messages == [Ping(1)]
    assert pongs.messages == [Pong(2)]


def test_bus_publish_subclass_does_not_reach_base_type_handlers() -> None:
    # Arrange
    bus = MessageBus()
    pings, loud = Recorder(), Recorder()
    bus.subscribe(Ping, pings)
    bus.subscribe(LoudPing, loud)

    # Act
    bus.publish(LoudPing(1))

    # Assert
    assert pings.messages == []
    assert loud.messages == [LoudPing(1)]


def test_bus_publish_calls_handlers_in_subscription_order() -> None:
    # Arrange
    bus = MessageBus()
    log: list[tuple[str, object]] = []
    for name in ("a", "b", "c"):
        bus.subscribe(Ping, Recorder(name, log))

    # Act
    bus.publish(Ping(1))

    # Assert
    assert [name for name, _ in log] == ["a", "b", "c"]


def test_bus_subscribe_iterable_of_types_routes_each() -> None:
    # Arrange
    bus = MessageBus()
    both = Recorder()
    bus.subscribe([Ping, Pong], both)

    # Act
    bus.publish(Ping(1))
    bus.publish(Pong(2))

    # Assert
    assert both.messages == [Ping(1), Pong(2)]
    assert bus.subscribers(Ping) == 1
    assert bus.subscribers(Pong) == 1


def test_bus_subscribe_all_sees_every_message_after_typed_handlers() -> None:
    # Arrange
    bus = MessageBus()
    log: list[tuple[str, object]] = []
    bus.subscribe_all(Recorder("all", log))
    bus.subscribe(Ping, Recorder("ping", log))

    # Act
    bus.publish(Ping(1))
    bus.publish(Pong(2))
    bus.publish("unrouted")

    # Assert
    assert log == [("ping", Ping(1)), ("all", Ping(1)), ("all", Pong(2)), ("all", "unrouted")]


def test_bus_publish_without_subscribers_counts_message() -> None:
    # Arrange
    bus = MessageBus()

    # Act
    bus.publish(Ping(1))
    bus.publish(Pong(1))

    # Assert
    assert bus.published == 2
    assert bus.subscribers(Ping) == 0


def test_bus_unsubscribe_stops_delivery_to_that_handler_only() -> None:
    # Arrange
    bus = MessageBus()
    kept, removed = Recorder(), Recorder()
    bus.subscribe(Ping, kept)
    bus.subscribe(Ping, removed)

    # Act
    bus.unsubscribe(Ping, removed)
    bus.publish(Ping(1))

    # Assert
    assert kept.messages == [Ping(1)]
    assert removed.messages == []
    assert bus.subscribers(Ping) == 1


def test_bus_unsubscribe_unknown_type_raises_key_error_naming_type() -> None:
    # Arrange
    bus = MessageBus()

    # Act / Assert
    with pytest.raises(KeyError, match="Ping"):
        bus.unsubscribe(Ping, Recorder())


def test_bus_unsubscribe_handler_not_subscribed_raises_key_error() -> None:
    # Arrange
    bus = MessageBus()
    bus.subscribe(Ping, Recorder())

    # Act / Assert
    with pytest.raises(KeyError, match="not subscribed"):
        bus.unsubscribe(Ping, Recorder())


def test_bus_unsubscribe_twice_raises_key_error() -> None:
    # Arrange
    bus = MessageBus()
    handler = Recorder()
    bus.subscribe(Ping, handler)
    bus.unsubscribe(Ping, handler)

    # Act / Assert
    with pytest.raises(KeyError):
        bus.unsubscribe(Ping, handler)


def test_bus_handler_unsubscribing_itself_during_publish_does_not_skip_next() -> None:
    # Arrange
    bus = MessageBus()
    log: list[str] = []

    def once(message: Any) -> None:
        log.append("once")
        bus.unsubscribe(Ping, once)

    def always(message: Any) -> None:
        log.append("always")

    bus.subscribe(Ping, once)
    bus.subscribe(Ping, always)

    # Act
    bus.publish(Ping(1))
    bus.publish(Ping(2))

    # Assert
    assert log == ["once", "always", "always"]


def test_bus_handler_subscribing_during_publish_takes_effect_next_message() -> None:
    # Arrange
    bus = MessageBus()
    late = Recorder()

    def subscriber(message: Any) -> None:
        if message == Ping(1):
            bus.subscribe(Ping, late)
            bus.subscribe_all(late)

    bus.subscribe(Ping, subscriber)

    # Act
    bus.publish(Ping(1))
    bus.publish(Ping(2))

    # Assert
    assert late.messages == [Ping(2), Ping(2)]


def test_bus_handler_error_propagates_to_publisher() -> None:
    # Arrange
    bus = MessageBus()

    def broken(message: Any) -> None:
        raise RuntimeError("boom")

    bus.subscribe(Ping, broken)

    # Act / Assert
    with pytest.raises(RuntimeError, match="boom"):
        bus.publish(Ping(1))
