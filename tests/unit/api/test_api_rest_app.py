"""The REST app in process (ASGI transport): roles, errors, validation, documents."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import msgspec.inspect
import pytest

from spreadwire.api.errors import UnavailableError
from spreadwire.api.schemas import ErrorBody, OrderRequest, PositionView, StrategySpec
from spreadwire.eventstore.records import MAX_NAME_BYTES
from tests.unit.api.harness import Keys, build_api
from tests.unit.api.twin import MemoryNodeService

ORDER = {"instrument_id": "AAA.SIM", "side": "BUY", "quantity": "3", "price": "100.10"}
STRATEGY = {"strategy_id": "pair9", "leg_y": "AAA.SIM", "leg_x": "BBB.SIM"}


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, Keys, MemoryNodeService]]:
    service, _, keys, app = build_api()
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4567))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client, keys, service


def error_of(response: httpx.Response) -> ErrorBody:
    return msgspec.json.decode(response.content, type=ErrorBody)


# (method, path, body, least role)
ENDPOINTS = [
    ("GET", "/v1/instruments", None, "viewer"),
    ("GET", "/v1/strategies", None, "viewer"),
    ("GET", "/v1/risk/limits", None, "viewer"),
    ("GET", "/v1/trading-state", None, "viewer"),
    ("GET", "/v1/orders", None, "viewer"),
    ("GET", "/v1/positions", None, "viewer"),
    ("GET", "/v1/pnl", None, "viewer"),
    ("GET", "/v1/latency", None, "viewer"),
    ("GET", "/v1/events", None, "viewer"),
    ("GET", "/metrics", None, "viewer"),
    ("POST", "/v1/orders", ORDER, "trader"),
    ("POST", "/v1/kill-switch", {"scope": "strategy", "target": "pair1"}, "trader"),
    ("POST", "/v1/strategies", STRATEGY, "admin"),
    ("PATCH", "/v1/risk/limits", {"max_open_orders": 7}, "admin"),
    ("PUT", "/v1/trading-state", {"state": "REDUCING", "reason": "test"}, "admin"),
    ("POST", "/v1/breaker/reset", {"reason": "checked"}, "admin"),
    ("POST", "/v1/kill-switch/release", {"scope": "all"}, "admin"),
    ("GET", "/v1/keys", None, "admin"),
    ("POST", "/v1/keys", {"role": "viewer"}, "admin"),
]
RANK = {"viewer": 0, "trader": 1, "admin": 2}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
@pytest.mark.parametrize("role", ["viewer", "trader", "admin"])
async def test_rest_role_matrix_allows_role_and_above_else_403(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
    endpoint: tuple[str, str, object, str],
    role: str,
) -> None:
    client, keys, _ = api
    method, path, body, needed = endpoint

    response = await client.request(method, path, json=body, headers=keys.header(role))

    if RANK[role] >= RANK[needed]:
        assert response.status_code in (200, 201), response.text
    else:
        assert response.status_code == 403
        assert error_of(response).code == "forbidden"


@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS)
async def test_rest_without_credential_is_401_in_error_shape(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
    method: str,
    path: str,
    body: object,
    needed: str,
) -> None:
    client, _, _ = api

    response = await client.request(method, path, json=body)

    assert response.status_code == 401
    assert error_of(response).code == "unauthenticated"


async def test_rest_health_and_ready_need_no_credential(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, _, service = api

    health = await client.get("/health")
    ready = await client.get("/ready")
    service.ready = False
    not_ready = await client.get("/ready")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert not_ready.status_code == 503
    assert not_ready.json()["ready"] is False


async def test_rest_invalid_body_is_422_naming_the_field(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.post(
        "/v1/orders", json={**ORDER, "quantity": "-1"}, headers=keys.header("trader")
    )

    assert response.status_code == 422
    assert error_of(response).field == "quantity"


async def test_rest_unknown_body_field_is_422_naming_it(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.post(
        "/v1/orders", json={**ORDER, "qty": "1"}, headers=keys.header("trader")
    )

    assert response.status_code == 422
    assert error_of(response).field == "qty"


async def test_rest_missing_body_field_is_422_naming_it(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api
    body = {k: v for k, v in ORDER.items() if k != "side"}

    response = await client.post("/v1/orders", json=body, headers=keys.header("trader"))

    assert response.status_code == 422
    assert error_of(response).field == "side"


async def test_rest_business_rule_from_node_is_422_naming_the_field(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.post(
        "/v1/orders", json={**ORDER, "instrument_id": "ZZZ.SIM"}, headers=keys.header("trader")
    )

    assert response.status_code == 422
    assert error_of(response).field == "instrument_id"


async def test_rest_unknown_query_parameter_is_422_naming_it(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.get("/v1/orders?stauts=FILLED", headers=keys.header("viewer"))

    assert response.status_code == 422
    assert error_of(response).field == "stauts"


async def test_rest_repeated_query_parameter_is_422_naming_it(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.get("/v1/orders?limit=1&limit=2", headers=keys.header("viewer"))

    assert response.status_code == 422
    assert error_of(response).field == "limit"


async def test_rest_malformed_json_is_400_in_error_shape(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.post(
        "/v1/orders",
        content=b"{not json",
        headers={**keys.header("trader"), "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert error_of(response).code == "bad_request"


async def test_rest_unknown_order_is_404_and_duplicate_id_is_409(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api
    headers = keys.header("trader")
    body = {**ORDER, "client_order_id": "C-1"}

    missing = await client.get("/v1/orders/NOPE", headers=headers)
    first = await client.post("/v1/orders", json=body, headers=headers)
    second = await client.post("/v1/orders", json=body, headers=headers)

    assert missing.status_code == 404
    assert error_of(missing).field == "client_order_id"
    assert first.status_code == 201
    assert second.status_code == 409


async def test_rest_order_lifecycle_is_audited_with_the_key_id(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, service = api
    headers = keys.header("trader")

    created = await client.post("/v1/orders", json=ORDER, headers=headers)
    order_id = created.json()["client_order_id"]
    canceled = await client.delete(f"/v1/orders/{order_id}", headers=headers)
    listed = await client.get("/v1/orders?status=PENDING_CANCEL", headers=headers)
    events = await client.get("/v1/events?after=0&limit=10", headers=headers)

    assert canceled.json()["status"] == "PENDING_CANCEL"
    assert [o["client_order_id"] for o in listed.json()] == [order_id]
    trader_id = keys.trader.split("_")[1]
    assert service.audit == [("OrderSubmitted", trader_id), ("OrderCancelRequested", trader_id)]
    assert [e["type"] for e in events.json()["events"]] == [
        "OrderSubmitted",
        "OrderCancelRequested",
    ]


async def test_rest_denied_order_comes_back_with_status_and_reason(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api
    await client.post("/v1/kill-switch", json={"scope": "all"}, headers=keys.header("trader"))

    response = await client.post("/v1/orders", json=ORDER, headers=keys.header("trader"))

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["reason"]) == ("DENIED", "TRADING_HALTED")


async def test_rest_strategy_add_start_params_flow(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api
    admin = keys.header("admin")

    added = await client.post("/v1/strategies", json=STRATEGY, headers=admin)
    started = await client.post("/v1/strategies/pair9/start", headers=admin)
    changed = await client.patch(
        "/v1/strategies/pair9/params", json={"entry_z": 2.5}, headers=admin
    )
    missing = await client.post("/v1/strategies/nope/stop", headers=admin)

    assert added.status_code == 201
    assert started.json()["running"] is True
    assert changed.json()["params"]["entry_z"] == 2.5
    assert missing.status_code == 404


async def test_rest_key_created_by_admin_works_once_and_revocation_stops_it(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api
    admin = keys.header("admin")

    created = (await client.post("/v1/keys", json={"role": "viewer"}, headers=admin)).json()
    new_key = {"Authorization": f"Bearer {created['key']}"}
    before = await client.get("/v1/pnl", headers=new_key)
    listed = (await client.get("/v1/keys", headers=admin)).json()
    revoked = await client.delete(f"/v1/keys/{created['key_id']}", headers=admin)
    after = await client.get("/v1/pnl", headers=new_key)
    again = await client.delete(f"/v1/keys/{created['key_id']}", headers=admin)

    assert before.status_code == 200
    assert all("key" not in entry for entry in listed)
    assert revoked.status_code == 204
    assert after.status_code == 401
    assert again.status_code == 404


async def test_rest_options_lists_every_method_of_the_path(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    response = await client.options("/v1/strategies", headers=keys.header("viewer"))

    assert response.headers["allow"] == "GET, OPTIONS, POST"


async def test_rest_openapi_document_is_31_with_exact_body_schemas(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, _, _ = api

    document = (await client.get("/openapi.json")).json()
    docs = await client.get("/docs")

    assert document["openapi"].startswith("3.1")
    patch = document["components"]["schemas"]["RiskLimitsPatch"]
    assert patch["additionalProperties"] is False
    assert "security" not in document["paths"]["/health"]["get"]
    assert document["paths"]["/v1/pnl"]["get"]["security"] == [{"bearer": []}]
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_rest_metrics_count_requests_by_route_and_status(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api
    await client.get("/v1/pnl", headers=keys.header("viewer"))
    await client.get("/v1/pnl")

    text = (await client.get("/metrics", headers=keys.header("viewer"))).text

    assert 'spreadwire_http_requests_total{method="GET",route="/v1/pnl",status="200"} 1.0' in text
    assert 'spreadwire_gateway_rejections_total{reason="unauthenticated"} 1.0' in text
    assert 'spreadwire_stage_latency_seconds{quantile="0.99",stage="tick_to_order"}' in text
    assert "spreadwire_http_request_duration_seconds_bucket" in text


async def test_rest_store_reports_the_writer_and_pool_to_viewers_and_metrics(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, service = api
    service.store_view = msgspec.structs.replace(
        service.store_view, state="failed", error="disk full", unrecorded=3, refused=2
    )

    body = (await client.get("/v1/store", headers=keys.header("viewer"))).json()
    anonymous = await client.get("/v1/store")
    text = (await client.get("/metrics", headers=keys.header("viewer"))).text

    assert body["state"] == "failed"
    assert body["error"] == "disk full"
    assert body["pool"]["pool_size"] == 4
    assert body["unrecorded"] == 3
    assert body["refused"] == 2
    assert anonymous.status_code == 401
    assert 'spreadwire_event_store_state{backend="postgresql",state="failed"} 1.0' in text
    assert 'spreadwire_event_store_state{backend="postgresql",state="ok"} 0.0' in text
    assert 'spreadwire_event_store_unrecorded_total{backend="postgresql"} 3.0' in text
    assert 'spreadwire_event_store_refused_total{backend="postgresql"} 2.0' in text
    assert 'spreadwire_event_store_committed_total{backend="postgresql"} 42.0' in text
    assert 'spreadwire_event_store_queue_peak{backend="postgresql"} 12.0' in text
    assert 'spreadwire_event_store_ack_seconds{backend="postgresql",quantile="0.99"} 0.0009' in text
    assert 'spreadwire_event_store_pool_pool_size{backend="postgresql"} 4.0' in text
    assert 'spreadwire_event_store_pool_requests_num_total{backend="postgresql"} 55.0' in text


@pytest.mark.parametrize(
    "path",
    ["/v1/instruments", "/v1/strategies", "/v1/risk/limits", "/v1/trading-state",
     "/v1/positions", "/v1/pnl", "/v1/latency", "/v1/store"],
)  # fmt: skip
async def test_rest_fast_reads_answer_the_same_bytes_as_the_routed_handlers(path: str) -> None:
    service = MemoryNodeService()
    bodies = []
    for fast in (True, False):
        *_, keys, app = build_api(service=service, fast_reads=fast)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.get(path, headers=keys.header("viewer"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        bodies.append(response.content)

    assert bodies[0] == bodies[1]


async def test_rest_fast_read_with_query_or_without_credential_takes_the_routed_path(
    api: tuple[httpx.AsyncClient, Keys, MemoryNodeService],
) -> None:
    client, keys, _ = api

    anonymous = await client.get("/v1/positions")
    with_query = await client.get("/v1/positions?verbose=1", headers=keys.header("viewer"))

    assert anonymous.status_code == 401
    assert (with_query.status_code, error_of(with_query).field) == (422, "verbose")


@pytest.mark.parametrize("fast", [True, False])
async def test_rest_read_the_node_cannot_serve_is_one_503_in_error_shape(fast: bool) -> None:
    """A read the node answers with an API error (503: its read models could not be
    brought up to date) is asked once: the fast path used to fall through to the route,
    which asked the node again (a read that waited 5 s for a locked store waited 10 s,
    holding the event loop), and both paths answer the same error."""
    service = MemoryNodeService()
    calls = []

    def positions() -> list[PositionView]:
        calls.append(1)
        raise UnavailableError("the read models cannot be read now: database is locked")

    service.positions = positions  # type: ignore[method-assign]
    *_, keys, app = build_api(service=service, fast_reads=fast)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/v1/positions", headers=keys.header("viewer"))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert error_of(response) == ErrorBody(
        status=503,
        code="unavailable",
        message="the read models cannot be read now: database is locked",
    )
    assert len(calls) == 1


def test_api_ids_that_name_streams_always_fit_the_event_store() -> None:
    # A client order id or strategy id the API accepts becomes a stream name
    # (``order-<id>``, ``strategy-<id>``, eventstore/streams.py): none may be one the
    # store refuses, or an accepted request would fail when its events are recorded.
    ids = {
        "OrderRequest.client_order_id": (OrderRequest, "client_order_id"),
        "OrderRequest.strategy_id": (OrderRequest, "strategy_id"),
        "StrategySpec.strategy_id": (StrategySpec, "strategy_id"),
    }
    longest = {}
    for name, (struct, field) in ids.items():
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        kind = next(f.type for f in info.fields if f.name == field)
        if isinstance(kind, msgspec.inspect.UnionType):  # ``Identifier | None``
            kind = next(t for t in kind.types if isinstance(t, msgspec.inspect.StrType))
        assert isinstance(kind, msgspec.inspect.StrType)
        assert kind.min_length == 1
        assert kind.max_length is not None
        longest[name] = kind.max_length

    # four bytes of UTF-8 a character at most, behind the longest category prefix
    assert all(len("strategy-") + 4 * n <= MAX_NAME_BYTES for n in longest.values()), longest
