"""A message bus that routes by message type, not by string topic.

``publish`` looks the handlers up by ``type(message)`` in a dict and calls them in
subscription order, synchronously: the core is single-writer and deterministic.

Handler lists are copied on write, so a handler may subscribe or unsubscribe during a
publish: the message being delivered still reaches exactly the handlers subscribed when
its publish began.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, final

Handler = Callable[[Any], None]


@final
class MessageBus:
    __slots__ = ("_catch_all", "_published", "_routes")

    def __init__(self) -> None:
        self._routes: dict[type, list[Handler]] = {}
        self._catch_all: list[Handler] = []
        self._published = 0

    def subscribe(self, message_type: type | Iterable[type], handler: Handler) -> None:
        """Call ``handler`` for every published message of exactly this type (or types)."""
        types = (message_type,) if isinstance(message_type, type) else tuple(message_type)
        for each in types:
            self._routes[each] = [*self._routes.get(each, ()), handler]

    def subscribe_all(self, handler: Handler) -> None:
        """Call ``handler`` for every published message, after the typed handlers."""
        self._catch_all = [*self._catch_all, handler]

    def unsubscribe(self, message_type: type, handler: Handler) -> None:
        handlers = self._routes.get(message_type)
        if handlers is None or handler not in handlers:
            raise KeyError(f"handler is not subscribed to {message_type.__name__}")
        remaining = list(handlers)
        remaining.remove(handler)
        self._routes[message_type] = remaining

    def publish(self, message: object) -> None:
        self._published += 1
        handlers = self._routes.get(type(message))
        catch_all = self._catch_all
        if handlers is not None:
            for handler in handlers:
                handler(message)
        for handler in catch_all:
            handler(message)

    @property
    def published(self) -> int:
        return self._published

    def subscribers(self, message_type: type) -> int:
        return len(self._routes.get(message_type, ()))
