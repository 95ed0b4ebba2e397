"""Properties of the simulated exchange under random command sequences.

Reports always carry ``cum + leaves == quantity`` while an order works (and when it
fills); the book is never crossed after a step; the L2 book rebuilt from the published
deltas equals the exchange's own snapshot, and sequences have no gaps.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spreadwire.core.clock import SimClock
from spreadwire.domain.commands import CancelOrder, ModifyOrder, SubmitOrder
from spreadwire.domain.enums import BookSide, OrderSide, OrderType, ReportKind, TimeInForce
from spreadwire.domain.instrument import Instrument
from spreadwire.domain.market import BookDelta
from spreadwire.domain.reports import ExecutionReport
from spreadwire.domain.values import Money, Price, Quantity
from spreadwire.venue.exchange import SimulatedExchange

_ID = "AAA.SIM"
_WORKING_KINDS = {ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.MODIFIED}
_DONE_KINDS = {ReportKind.REJECTED, ReportKind.CANCELED, ReportKind.EXPIRED}

_submit = st.tuples(
    st.just("submit"),
    st.sampled_from(["node", "mm"]),
    st.booleans(),
    st.one_of(st.none(), *[st.integers(9_990, 10_010)] * 4),
    st.integers(1, 30),
    st.sampled_from([TimeInForce.GTC] * 4 + [TimeInForce.IOC, TimeInForce.FOK]),
    st.sampled_from([False, False, False, True]),
)
_cancel = st.tuples(st.just("cancel"), st.integers(0, 1_000))
_modify = st.tuples(
    st.just("modify"),
    st.integers(0, 1_000),
    st.one_of(st.none(), st.integers(1, 30)),
    st.one_of(st.none(), st.integers(9_990, 10_010)),
)
_commands = st.lists(
    st.one_of(_submit, _submit, _submit, _cancel, _modify), min_size=5, max_size=80
)


def _exchange() -> tuple[SimulatedExchange, list[ExecutionReport], list[BookDelta]]:
    instrument = Instrument(
        symbol="AAA",
        price_precision=2,
        size_precision=0,
        tick_size=Price.parse("0.01"),
        lot_size=Quantity.parse("1"),
        min_notional=Money.parse("1", "USD"),
    )
    reports: list[ExecutionReport] = []
    deltas: list[BookDelta] = []
    exchange = SimulatedExchange(
        [instrument],
        SimClock(0),
        on_report=reports.append,
        on_delta=deltas.append,
        on_trade=lambda _: None,
    )
    return exchange, reports, deltas


def _send(exchange: SimulatedExchange, command: tuple[object, ...], ids: list[str]) -> None:
    match command:
        case ("submit", str(owner), bool(is_buy), price, int(size), TimeInForce() as tif, bool(po)):
            cid = f"c{len(ids)}"
            if owner == "node":
                ids.append(cid)
            exchange.submit(
                SubmitOrder(
                    strategy_id="s",
                    instrument_id=_ID,
                    client_order_id=cid,
                    side=OrderSide.BUY if is_buy else OrderSide.SELL,
                    order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
                    quantity=Quantity(raw=size * 10**9, precision=0),
                    price=None
                    if not isinstance(price, int)
                    else Price(raw=price * 10**7, precision=2),
                    time_in_force=tif,
                    post_only=po and price is not None,
                    ts_init=0,
                ),
                owner,
            )
        case ("cancel", int(index)) if ids:
            exchange.cancel(
                CancelOrder(
                    strategy_id="s",
                    instrument_id=_ID,
                    client_order_id=ids[index % len(ids)],
                    ts_init=0,
                )
            )
        case ("modify", int(index), size, price) if ids:
            exchange.modify(
                ModifyOrder(
                    strategy_id="s",
                    instrument_id=_ID,
                    client_order_id=ids[index % len(ids)],
                    quantity=None
                    if not isinstance(size, int)
                    else Quantity(raw=size * 10**9, precision=0),
                    price=None
                    if not isinstance(price, int)
                    else Price(raw=price * 10**7, precision=2),
                    ts_init=0,
                )
            )


def _rebuild(deltas: list[BookDelta]) -> dict[BookSide, dict[int, int]]:
    book: dict[BookSide, dict[int, int]] = {BookSide.BID: {}, BookSide.ASK: {}}
    for delta in deltas:
        side = book[delta.side]
        if delta.size.raw:
            side[delta.price.raw] = delta.size.raw
        else:
            del side[delta.price.raw]
    return book


@settings(max_examples=200, deadline=None)
@given(_commands)
def test_book_exchange_random_commands_keep_report_and_feed_invariants(
    commands: list[tuple[object, ...]],
) -> None:
    exchange, reports, deltas = _exchange()
    ids: list[str] = []
    book = exchange.book(_ID)

    for command in commands:
        _send(exchange, command, ids)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask

    for report in reports:
        if report.kind in _DONE_KINDS:
            assert report.leaves_qty.raw == 0
        elif report.kind in _WORKING_KINDS or report.leaves_qty.raw:
            assert report.quantity is not None
            assert report.cum_qty.raw + report.leaves_qty.raw == report.quantity.raw
    assert [d.sequence for d in deltas] == list(range(1, len(deltas) + 1))
    rebuilt = _rebuild(deltas)
    snapshot = exchange.snapshot(_ID)
    assert rebuilt[BookSide.BID] == {lv.price.raw: lv.size.raw for lv in snapshot.bids}
    assert rebuilt[BookSide.ASK] == {lv.price.raw: lv.size.raw for lv in snapshot.asks}
