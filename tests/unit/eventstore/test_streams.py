from __future__ import annotations

import pytest

from spreadwire.domain.commands import CancelAllOrders
from spreadwire.domain.events import OrderFilled, TradingStateChanged
from spreadwire.domain.reports import ExecutionReport
from spreadwire.eventstore.codec import message_types
from spreadwire.eventstore.streams import category_of, snake_case, stream_of
from tests.unit.eventstore.builders import halted, initialized
from tests.unit.eventstore.samples import sample


def test_stream_of_order_messages_is_the_client_order_id_stream() -> None:
    assert stream_of(initialized("O-17")) == "order-O-17"
    assert stream_of(sample(OrderFilled)) == "order-x1"
    assert stream_of(sample(ExecutionReport)) == "order-x1"


def test_stream_of_trading_state_is_trading() -> None:
    assert stream_of(halted()) == "trading"
    assert stream_of(sample(TradingStateChanged)) == "trading"


def test_stream_of_strategy_wide_command_is_the_strategy_stream() -> None:
    command = CancelAllOrders(strategy_id="pairs-2", ts_init=1)

    assert stream_of(command) == "strategy-pairs-2"


@pytest.mark.parametrize("cls", message_types(), ids=lambda cls: cls.__name__)
def test_stream_of_every_registered_type_is_a_non_empty_name(cls: type) -> None:
    stream = stream_of(sample(cls))

    assert stream
    assert category_of(stream)


def test_snake_case_and_category_split_on_the_first_dash() -> None:
    assert snake_case("EngageKillSwitch") == "engage_kill_switch"
    assert category_of("order-O-1") == "order"
    assert category_of("trading") == "trading"
