"""Command-line argument types: each accepts good input and names what is wrong otherwise."""

from __future__ import annotations

import argparse

import pytest

from spreadwire.cli.args import bounded_int, positive_float, store_url


def test_bounded_int_value_within_bounds_is_returned() -> None:
    parse = bounded_int(1, 13)

    assert [parse("1"), parse("13"), parse(" 7 ")] == [1, 13, 7]


@pytest.mark.parametrize("text", ["0", "14", "-1"])
def test_bounded_int_value_outside_bounds_raises_naming_range(text: str) -> None:
    parse = bounded_int(1, 13)

    with pytest.raises(argparse.ArgumentTypeError, match=r"within 1\.\.13"):
        parse(text)


@pytest.mark.parametrize("text", ["abc", "2.5", "", "1e3"])
def test_bounded_int_not_an_integer_raises_quoting_input(text: str) -> None:
    parse = bounded_int(0, 100)

    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer") as error:
        parse(text)

    assert repr(text) in str(error.value)


def test_positive_float_value_within_bounds_is_returned() -> None:
    parse = positive_float(3600.0)

    assert [parse("0.5"), parse("3600"), parse("1e2")] == [0.5, 3600.0, 100.0]


@pytest.mark.parametrize("text", ["0", "-1", "3600.5", "nan", "inf", "-inf", "1e400"])
def test_positive_float_out_of_range_or_not_finite_raises(text: str) -> None:
    parse = positive_float(3600.0)

    with pytest.raises(argparse.ArgumentTypeError, match=r"must be > 0 and <= 3600"):
        parse(text)


def test_positive_float_not_a_number_raises_quoting_input() -> None:
    parse = positive_float(10.0)

    with pytest.raises(argparse.ArgumentTypeError, match="expected a number, got 'fast'"):
        parse("fast")


@pytest.mark.parametrize(
    "text",
    [
        "memory://",
        "sqlite:///runs/events.db",
        "sqlite:////tmp/events.db",
        "postgresql://user@localhost:5432/spreadwire",
        "postgres://localhost/db",
    ],
)
def test_store_url_supported_scheme_is_returned_unchanged(text: str) -> None:
    assert store_url(text) == text


@pytest.mark.parametrize("text", ["mysql://localhost/db", "events.db", "sqlite://events.db", ""])
def test_store_url_unsupported_scheme_raises_listing_schemes(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected memory://") as error:
        store_url(text)

    assert repr(text) in str(error.value)


@pytest.mark.parametrize("text", ["sqlite:///", "sqlite:///  "])
def test_store_url_sqlite_without_path_raises(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="names a file"):
        store_url(text)


def test_argument_types_in_parser_report_argument_name(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="spreadwire demo", exit_on_error=True)
    parser.add_argument("--pairs", type=bounded_int(1, 13))

    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--pairs", "99"])

    assert exit_info.value.code == 2
    assert "--pairs" in capsys.readouterr().err
