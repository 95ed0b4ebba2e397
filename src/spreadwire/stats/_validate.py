"""Input checks shared by the package: every failure is a ``ValueError`` naming the argument."""

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def window_size(window: int, name: str = "window", minimum: int = 2) -> int:
    """Return ``window`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {window!r}")
    if window < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {window}")
    return int(window)


def smoothing(alpha: float, name: str = "alpha") -> float:
    """Return ``alpha`` as a float in (0, 1], or raise."""
    value = float(alpha)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {alpha!r}")
    return value


def positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0), or raise."""
    number = float(value)
    if not math.isfinite(number) or number < 0.0 or (number == 0.0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return number


def series(values: Any, name: str, *, min_length: int = 1) -> Floats:
    """Return a contiguous 1-D float64 copy-free view of ``values``, finite, long enough."""
    try:
        array = np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 1-D array of numbers") from error
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.shape[0] < min_length:
        raise ValueError(f"{name} needs at least {min_length} observations, got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def matrix(values: Any, name: str, *, min_rows: int = 1, min_columns: int = 1) -> Floats:
    """Return a finite 2-D float64 array (observations x variables) or raise."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 2-D array of numbers") from error
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (observations x variables), got shape {array.shape}")
    rows, columns = array.shape
    if rows < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} observations, got {rows}")
    if columns < min_columns:
        raise ValueError(f"{name} needs at least {min_columns} columns, got {columns}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def same_length(first: Floats, second: Floats, names: str) -> None:
    """Raise unless both series have the same length."""
    if first.shape[0] != second.shape[0]:
        raise ValueError(
            f"{names} must have the same length, got {first.shape[0]} and {second.shape[0]}"
        )


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    """Return ``value`` lower-cased if it is one of ``options``, else raise."""
    if not isinstance(value, str) or value.lower() not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value.lower()
