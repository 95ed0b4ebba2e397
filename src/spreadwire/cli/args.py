"""Argument types for the command line: each rejects bad input with a clear message."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be within {low}..{high}, got {value}")
        return value

    return parse


def positive_float(high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"must be > 0 and <= {high:g}, got {text}")
        return value

    return parse


def store_url(text: str) -> str:
    if not text.startswith(("memory://", "sqlite:///", "postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError(
            f"expected memory://, sqlite:///path or postgresql://..., got {text!r}"
        )
    if text.startswith("sqlite:///") and not text.removeprefix("sqlite:///").strip():
        raise argparse.ArgumentTypeError(
            f"a SQLite URL names a file, sqlite:///path/to/events.db, got {text!r}"
        )
    return text
