"""A vectorised complementary error function (numpy has none; scipy is not a dependency)."""

import math

import numpy as np
import numpy.typing as npt
from numba import njit

Floats = npt.NDArray[np.float64]


@njit(cache=True)
def _erfc_kernel(values: Floats, out: Floats) -> None:  # pragma: no cover - compiled
    for i in range(values.shape[0]):
        out[i] = math.erfc(values[i])


def erfc_array(values: Floats) -> Floats:
    """Elementwise ``math.erfc`` of a float array of any shape."""
    flat = np.ascontiguousarray(values, dtype=np.float64).ravel()
    out = np.empty_like(flat)
    _erfc_kernel(flat, out)
    return out.reshape(np.shape(values))
