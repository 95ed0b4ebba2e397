"""Which stream a domain message belongs to.

Stream names read ``<category>-<id>`` (or just ``<category>``); the category is the text
before the first ``-``. The rules, first match wins:

* anything with a ``client_order_id`` (order commands and order events)
  -> ``order-<client_order_id>``
* ``TradingStateChanged`` -> ``trading``
* anything else with a ``pair_id`` (pair orders and their state) -> ``pair-<pair_id>``
* anything else with a ``strategy_id`` (e.g. ``CancelAllOrders``) -> ``strategy-<strategy_id>``
* otherwise the message's type name in snake case (``BreakerReset`` -> ``breaker_reset``)

A caller that knows better passes the stream explicitly.
"""

from __future__ import annotations

import re
from typing import Final

_CAMEL: Final = re.compile(r"(?<!^)(?=[A-Z])")

ORDER_CATEGORY: Final = "order"
TRADING_STREAM: Final = "trading"
STRATEGY_CATEGORY: Final = "strategy"
PAIR_CATEGORY: Final = "pair"


def snake_case(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def stream_of(message: object) -> str:
    """The stream ``message`` is appended to when no stream is given."""
    client_order_id = getattr(message, "client_order_id", None)
    if isinstance(client_order_id, str):
        return f"{ORDER_CATEGORY}-{client_order_id}"
    name = type(message).__name__
    if name == "TradingStateChanged":
        return TRADING_STREAM
    pair_id = getattr(message, "pair_id", None)
    if isinstance(pair_id, str):
        return f"{PAIR_CATEGORY}-{pair_id}"
    strategy_id = getattr(message, "strategy_id", None)
    if isinstance(strategy_id, str):
        return f"{STRATEGY_CATEGORY}-{strategy_id}"
    return snake_case(name)


def category_of(stream: str) -> str:
    """The category of ``stream``: the text before the first ``-``."""
    return stream.partition("-")[0]
