"""The shared service fixtures skip locally and fail under CI when a service is down."""

from __future__ import annotations

import pytest

from tests import services


@pytest.fixture
def closed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(services.SERVICES, "postgres", ("127.0.0.1", 1))


@pytest.mark.usefixtures("closed_port")
def test_require_service_down_locally_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception, match=r"not reachable on 127\.0\.0\.1:1"):
        services.require_service("postgres")


@pytest.mark.usefixtures("closed_port")
def test_require_service_down_under_ci_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        services.require_service("postgres")
