"""Schemathesis against ``/openapi.json``: generated requests, every response checked.

Runs in process (ASGI) with an admin key; the app is built when the module is collected
because schemathesis parametrizes from the loaded document. Requests that satisfy the
schema but break a business rule of the node (two legs the same, an unknown instrument)
get 422 naming the field, so 422 is an expected answer to schema-valid data as well.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.unit.api.harness import build_api

CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
"""

KEYS, APP = build_api()[2:]
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", APP, config=SchemathesisConfig.from_str(CONFIG)
)


def filter_query(_context: Any, query: dict[str, Any] | None) -> bool:
    """Keep only queries the client can send as generated. A parameter with an empty name,
    a null value or an empty list is dropped on the way, so a "negative" case built on one
    (``{'status': [], 'limit': 316}``) reached the API as a valid request, was answered
    200, and failed the run now and then."""
    return not query or all(
        name and value is not None and value != [] for name, value in query.items()
    )


@schema.hooks.apply(filter_query)
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_schema_every_operation_conforms(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers=KEYS.header("admin"))
