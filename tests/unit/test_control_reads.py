"""NodeControl's read side over a node whose stores fail, and the ids it takes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, NoReturn

import pytest

from spreadwire.api.errors import UnavailableError
from spreadwire.api.schemas import OrderQuery, OrderRequest, StrategySpec
from spreadwire.control import NodeControl
from spreadwire.domain.enums import OrderSide
from spreadwire.errors import StoreError, ValidationError


def _locked() -> NoReturn:
    raise StoreError("read models sqlite:///rm.db: database is locked")


def _closed(**_: Any) -> NoReturn:
    raise StoreError("the recorder is closed")


def _control(**node: Any) -> NodeControl:
    return NodeControl(SimpleNamespace(**node))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "read",
    [
        lambda control: control.orders(OrderQuery()),
        lambda control: control.order("O-1"),
        lambda control: control.positions(),
    ],
    ids=["orders", "order", "positions"],
)
def test_control_read_models_that_cannot_be_caught_up_are_unavailable(read: Any) -> None:
    """Read models another connection holds locked past their timeout, or a log that can
    no longer be read, are a 503 naming the store's error (they were a StoreError, which
    the API answered with 500 ``internal_error``)."""
    control = _control(read_models=_locked, oms=SimpleNamespace(order=lambda _: None))

    with pytest.raises(UnavailableError, match=r"read models .* database is locked") as error:
        read(control)

    assert (error.value.status, error.value.code) == (503, "unavailable")


def test_control_events_of_a_log_that_cannot_be_read_are_unavailable() -> None:
    control = _control(committed=lambda: None, recorder=SimpleNamespace(read=_closed))

    with pytest.raises(UnavailableError, match=r"event log .* the recorder is closed"):
        control.events(0, 10)


def test_control_refuses_an_order_id_with_a_slash_it_could_not_serve_again() -> None:
    """``GET``/``DELETE /v1/orders/{id}`` take one path segment: an order taken under
    ``desk/a-1`` could never be read or cancelled (404 from the router, also as %2F)."""
    control = _control(store_error=None, instruments={"AAA.SIM": object()})
    order = OrderRequest(
        instrument_id="AAA.SIM", side=OrderSide.BUY, quantity="1", client_order_id="desk/a-1"
    )
    strategy = StrategySpec(strategy_id="desk/pairs", leg_y="AAA.SIM", leg_x="BBB.SIM")

    with pytest.raises(ValidationError) as submitted:
        control.submit_order(order, actor="ops")
    with pytest.raises(ValidationError) as added:
        control.add_strategy(strategy, actor="ops")

    assert submitted.value.field == "client_order_id"
    assert added.value.field == "strategy_id"
