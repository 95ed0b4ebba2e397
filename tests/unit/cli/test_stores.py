"""Opening stores from the command line: errors are one line, name the option, and never
show a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwire.cli.stores import existing_read_models, one_line, open_recorder, stored_head
from spreadwire.errors import ConfigError
from spreadwire.persistence.store import redact, require_database_name


def test_one_line_multi_line_text_is_joined_with_single_spaces() -> None:
    text = 'connection failed: FATAL:  role "x"\n\tIs the server running?\n'

    assert one_line(text) == 'connection failed: FATAL: role "x" Is the server running?'


def test_redact_url_with_password_keeps_only_the_user() -> None:
    text = 'in URI: "postgresql://trader:s3cret@db:5432/events" and postgres://a:b@h/d'

    assert redact(text) == 'in URI: "postgresql://trader@db:5432/events" and postgres://a@h/d'


def test_open_recorder_missing_sqlite_file_raises_naming_the_option_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "absent.db"

    with pytest.raises(ConfigError, match="--store: no event store at"):
        open_recorder(f"sqlite:///{path}")

    assert not path.exists()


def test_stored_head_missing_sqlite_file_is_zero_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "events.db"

    assert stored_head(f"sqlite:///{path}", "--out") == 0
    assert not (tmp_path / "sub").exists()


def test_open_recorder_refuses_memory_when_the_store_must_exist() -> None:
    with pytest.raises(ConfigError, match="--store: memory:// is an in-process store"):
        open_recorder("memory://")
    open_recorder("memory://", must_exist=False).close()


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            "cannot connect to postgresql://app:Sup3r@Secret-pw@127.0.0.1:5432/db: refused",
            "cannot connect to postgresql://app@127.0.0.1:5432/db: refused",
        ),
        (
            "cannot connect to postgresql://audit:pa/ss@127.0.0.1:5432/db: x",
            "cannot connect to postgresql://audit@127.0.0.1:5432/db: x",
        ),
        (
            "postgresql://u:pw@db1.internal?dbname=x&application_name=me@desk: refused",
            "postgresql://u@db1.internal?dbname=x&application_name=me@desk: refused",
        ),
        ("x postgresql://u:p@h", "x postgresql://u@h"),
        (
            "cannot connect to postgresql://bob@h/db?password=hunter2&sslmode=require: x",
            "cannot connect to postgresql://bob@h/db?password=&sslmode=require: x",
        ),
        (
            "postgres://h/db?sslmode=disable&password=s3&x=1",
            "postgres://h/db?sslmode=disable&password=&x=1",
        ),
    ],
)
def test_redact_removes_the_whole_password_and_keeps_the_host(text: str, redacted: str) -> None:
    assert redact(text) == redacted


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3cr@t@127.0.0.1:5432/db",
        "postgresql://a@b@127.0.0.1/db",
        "postgresql://app:s3cr/t@127.0.0.1:5432/db",
    ],
)
def test_require_database_name_refuses_an_unencoded_at_sign_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigError, match="unencoded '@' or '/'; write them as %40") as caught:
        require_database_name(url, "--store")

    assert "s3cr" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://r@127.0.0.1:5432/?dbname=",
        "postgresql://r@127.0.0.1:5432/?dbname=%20",
        "postgresql://r@127.0.0.1:5432/?application_name=dbname=x",
        "postgresql://r@127.0.0.1:5432",
    ],
)
def test_require_database_name_refuses_urls_without_a_database(url: str) -> None:
    with pytest.raises(ConfigError, match="--store: a PostgreSQL URL names its database"):
        require_database_name(url, "--store")


@pytest.mark.parametrize(
    "url",
    ["postgresql://r@127.0.0.1:5432/events", "postgresql://r@127.0.0.1:5432/?dbname=events"],
)
def test_require_database_name_accepts_a_named_database(url: str) -> None:
    require_database_name(url, "--store")


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:5432/", "postgres://127.0.0.1"])
def test_existing_read_models_refuses_a_postgres_url_without_a_database(url: str) -> None:
    """``projections status`` and ``events verify`` looked in the database libpq picks
    (named like the user) and answered 'no read models' with exit 0."""
    with pytest.raises(ConfigError, match="--read-models: a PostgreSQL URL names its database"):
        existing_read_models(url, "--read-models")
