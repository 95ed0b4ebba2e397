"""Opening stores from the command line: errors are one line, name the option, and never
show a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from spreadwire.cli.stores import one_line, open_recorder, stored_head
from spreadwire.errors import ConfigError
from spreadwire.persistence.store import redact


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
