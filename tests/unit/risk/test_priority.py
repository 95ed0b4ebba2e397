"""Priority work queue: kill switch and cancels before new orders and market data."""

from __future__ import annotations

import pytest

from spreadwire.domain.commands import CancelOrder, EngageKillSwitch, SubmitOrder
from spreadwire.domain.enums import OrderSide, OrderType
from spreadwire.domain.values import Quantity
from spreadwire.errors import QueueFullError
from spreadwire.risk.priority import Priority, PriorityWorkQueue, classify
from tests.builders import make_quote


def _submit(cid: str) -> SubmitOrder:
    return SubmitOrder(
        strategy_id="S1",
        instrument_id="AAA.SIM",
        client_order_id=cid,
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=Quantity.parse("1"),
        ts_init=0,
    )


def _cancel(cid: str) -> CancelOrder:
    return CancelOrder(strategy_id="S1", instrument_id="AAA.SIM", client_order_id=cid, ts_init=0)


def test_priority_queue_kill_and_cancels_run_before_orders_and_quotes() -> None:
    queue = PriorityWorkQueue()
    kill = EngageKillSwitch(operator="ops", ts_init=0)
    quote = make_quote()
    for message in (quote, _submit("A"), _cancel("A"), kill, _submit("B")):
        queue.put(message)
    seen: list[object] = []

    queue.drain(seen.append)

    assert [classify(m) for m in seen] == [
        Priority.CONTROL,
        Priority.CANCEL,
        Priority.ORDER,
        Priority.ORDER,
        Priority.MARKET_DATA,
    ]
    assert [m.client_order_id for m in seen[2:4]] == ["A", "B"]  # type: ignore[attr-defined]


def test_priority_queue_cancel_queued_by_a_handler_runs_next() -> None:
    queue = PriorityWorkQueue()
    for cid in ("A", "B", "C"):
        queue.put(_submit(cid))
    seen: list[str] = []

    def handle(message: object) -> None:
        seen.append(type(message).__name__)
        if len(seen) == 1:
            queue.put(_cancel("A"))

    queue.drain(handle)

    assert seen == ["SubmitOrder", "CancelOrder", "SubmitOrder", "SubmitOrder"]


def test_priority_queue_market_data_drops_oldest_when_full() -> None:
    queue = PriorityWorkQueue({Priority.MARKET_DATA: 2})

    accepted = [queue.put(make_quote(ts_event=t)) for t in (1, 2, 3)]

    assert accepted == [True, True, False]
    assert len(queue) == 2
    assert queue.stats()["market_data"].dropped == 1


def test_priority_queue_full_command_class_raises() -> None:
    queue = PriorityWorkQueue({Priority.ORDER: 1})
    queue.put(_submit("A"))

    with pytest.raises(QueueFullError):
        queue.put(_submit("B"))


def test_priority_queue_drain_respects_limit() -> None:
    queue = PriorityWorkQueue()
    for cid in "ABC":
        queue.put(_submit(cid))

    done = queue.drain(lambda message: None, limit=2)

    assert (done, len(queue)) == (2, 1)


def test_priority_queue_takes_a_message_at_once_only_when_idle_with_put_get_statistics() -> None:
    idle, queued = PriorityWorkQueue(), PriorityWorkQueue()
    assert idle.take_if_idle(make_quote())
    queued.put(make_quote())
    queued.get()
    assert idle.stats() == queued.stats() and len(idle) == 0
    idle.put(_submit("O-1"))  # now busy: a quote must wait behind the order
    assert not idle.take_if_idle(make_quote())
    assert idle.stats()["market_data"].enqueued == 1 and len(idle) == 1
