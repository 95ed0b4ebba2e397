from __future__ import annotations

import pytest

from spreadwire.core.ids import IdGenerator


def test_id_generator_next_counts_from_one() -> None:
    # Arrange
    ids = IdGenerator("O")

    # Act
    issued = [ids.next() for _ in range(3)]

    # Assert
    assert issued == ["O-1", "O-2", "O-3"]
    assert ids.issued == 3


def test_id_generator_same_prefix_twice_gives_same_sequence() -> None:
    # Arrange
    first, second = IdGenerator("S"), IdGenerator("S")

    # Act
    a = [first.next() for _ in range(5)]
    b = [second.next() for _ in range(5)]

    # Assert
    assert a == b


@pytest.mark.parametrize("prefix", ["", "O-"])
def test_id_generator_bad_prefix_raises_naming_prefix(prefix: str) -> None:
    # Arrange / Act / Assert
    with pytest.raises(ValueError, match="prefix"):
        IdGenerator(prefix)


def test_id_generator_advance_past_later_id_skips_it() -> None:
    # Arrange
    ids = IdGenerator("O")

    # Act
    ids.advance_past("O-41")

    # Assert
    assert ids.next() == "O-42"


def test_id_generator_advance_past_earlier_id_keeps_count() -> None:
    # Arrange
    ids = IdGenerator("O")
    for _ in range(10):
        ids.next()

    # Act
    ids.advance_past("O-3")

    # Assert
    assert ids.next() == "O-11"


def test_id_generator_advance_past_dashed_prefix_uses_last_dash() -> None:
    # Arrange
    ids = IdGenerator("strat-a")

    # Act
    ids.advance_past("strat-a-7")

    # Assert
    assert ids.next() == "strat-a-8"


@pytest.mark.parametrize(
    "identifier",
    ["X-99", "O", "O-", "O-abc", "O-9x", "O--5", "O-²", "O-١٢", "OO-99", "-99"],
)
def test_id_generator_advance_past_foreign_id_is_ignored(identifier: str) -> None:
    # Arrange
    ids = IdGenerator("O")

    # Act
    ids.advance_past(identifier)

    # Assert
    assert ids.next() == "O-1"


def test_id_generator_advance_past_then_replay_never_reissues() -> None:
    # Arrange
    stored = ["O-1", "O-5", "O-3"]
    ids = IdGenerator("O")

    # Act
    for identifier in stored:
        ids.advance_past(identifier)
    fresh = [ids.next() for _ in range(3)]

    # Assert
    assert not set(fresh) & set(stored)
    assert fresh == ["O-6", "O-7", "O-8"]
