from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from spreadwire.api.schemas import OrderQuery
from spreadwire.control import NodeControl
from spreadwire.eventstore.memory import MemoryRecorder
from spreadwire.eventstore.projection import ProjectionRunner, ReadModelView
from spreadwire.eventstore.queries import QueryCache, ReadModelQueries
from spreadwire.eventstore.readmodels import standard_projections
from spreadwire.eventstore.records import Entry
from spreadwire.eventstore.writer import EventWriter
from spreadwire.persistence.readmodels_sqlite import SQLiteReadModelStore
from tests.unit.eventstore.builders import initialized, order_flow, record_order_flow, submitted


def test_query_cache_same_position_hits_and_new_position_reloads() -> None:
    cache = QueryCache()
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    first = cache.get("k", 5, load)
    second = cache.get("k", 5, load)
    third = cache.get("k", 6, load)

    assert (first, second, third) == (1, 1, 2)
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.invalidations) == (1, 2, 1)


def test_query_cache_is_bounded_least_recently_used_first() -> None:
    cache = QueryCache(max_entries=2)
    cache.get("a", 1, lambda: "a")
    cache.get("b", 1, lambda: "b")
    cache.get("a", 1, lambda: "a")
    cache.get("c", 1, lambda: "c")

    assert cache.get("a", 1, lambda: "reloaded") == "a"
    assert cache.get("b", 1, lambda: "reloaded") == "reloaded"


def test_queries_results_follow_the_projection_position() -> None:
    recorder = MemoryRecorder()
    store = SQLiteReadModelStore(":memory:")
    runner = ProjectionRunner(recorder, store, standard_projections())
    queries = ReadModelQueries(store)
    with EventWriter(recorder) as writer:
        for message in order_flow():
            writer.append(message)
        writer.append(initialized("O-3"))
    runner.catch_up()

    assert queries.order("O-3")["status"] == "INITIALIZED"  # type: ignore[index]
    assert queries.order("O-3")["status"] == "INITIALIZED"  # type: ignore[index]
    assert [o["client_order_id"] for o in queries.orders(status="CANCELED")] == ["O-2"]
    assert len(queries.fills("O-1")) == 2
    assert queries.position("pairs-1", "AAA.SIM")["quantity"] == "6"  # type: ignore[index]
    assert queries.pnl()["pairs-1"]["realized_pnl"] == "6.00"
    assert queries.risk_state()["trading:all"]["state"] == "HALTED"
    assert [a["type"] for a in queries.audit()] == ["TradingStateChanged"]
    hits_before = queries.cache_stats().hits

    with EventWriter(recorder) as writer:
        writer.append(submitted("O-3"))
    runner.catch_up()

    assert queries.order("O-3")["status"] == "SUBMITTED"  # type: ignore[index]
    assert hits_before == 1
    assert queries.cache_stats().invalidations == 1
    store.close()


def test_orders_come_in_the_order_they_were_opened_and_the_api_lists_newest_first() -> None:
    recorder = MemoryRecorder()
    store = SQLiteReadModelStore(":memory:")
    with EventWriter(recorder) as writer:
        for n in range(1, 13):  # a strategy's ids: pairs-1-1 ... pairs-1-12
            writer.append(initialized(f"pairs-1-{n}"))
    ProjectionRunner(recorder, store, standard_projections()).catch_up()
    node = SimpleNamespace(read_models=lambda: ReadModelQueries(store))

    opened = [o["client_order_id"] for o in ReadModelQueries(store).orders()]
    newest = NodeControl(node).orders(OrderQuery(limit=3))  # type: ignore[arg-type]

    assert opened == [f"pairs-1-{n}" for n in range(1, 13)]
    assert [v.client_order_id for v in newest] == ["pairs-1-12", "pairs-1-11", "pairs-1-10"]
    store.close()


def test_queries_do_not_serve_documents_a_rebuild_replaced_at_the_same_position(
    tmp_path: Path,
) -> None:
    """The node cached a damaged document; `projections rebuild` (another connection)
    repairs it and ends at the same tracking position: the node serves the repaired one."""
    recorder = record_order_flow(MemoryRecorder())
    node_store = SQLiteReadModelStore(tmp_path / "rm.db")
    ProjectionRunner(recorder, node_store, standard_projections()).catch_up()
    node_store.apply([_Damage()], list(recorder.read()))
    queries = ReadModelQueries(node_store)
    assert queries.position("pairs-1", "AAA.SIM")["quantity"] == "999"  # type: ignore[index]

    cli_store = SQLiteReadModelStore(tmp_path / "rm.db")
    ProjectionRunner(recorder, cli_store, standard_projections()).rebuild()

    assert node_store.tracking()["positions"] == 11
    assert queries.position("pairs-1", "AAA.SIM")["quantity"] == "6"  # type: ignore[index]
    cli_store.close()
    node_store.close()


class _Damage:
    """Overwrites the position document (a damaged read model)."""

    name = "damage"
    tables = ("positions",)

    def apply(self, entry: Entry, view: ReadModelView) -> None:
        doc = view.get("positions", "pairs-1:AAA.SIM")
        if doc is not None:
            view.put("positions", "pairs-1:AAA.SIM", doc | {"quantity": "999"})
