"""Vectors in JSON answers: numbers with at most 9 significant digits, each read back as
exactly the float32 the model made.

``ndarray.tolist()`` turns float32 into float64 whose shortest form has 17 digits
(0.0183649343 becomes 0.018364934250712395): the answer is half again as long, and the
server's ``json.dumps`` and every client's parser spend their time on digits that carry
nothing. Nine significant digits always identify a float32 (FLT_DECIMAL_DIG).
"""

from __future__ import annotations

import numpy as np


def float_rows(vectors: np.ndarray) -> list[list[float]]:
    """``vectors`` (n, dim) as lists of Python floats that print with <= 9 digits (for
    magnitudes from about 1e-14 to 1e8, so every value of a unit vector that matters;
    others keep their full form, still exact)."""
    v = np.asarray(vectors, dtype=np.float32)
    x = v.astype(np.float64)
    size = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.where(size > 0, size, 1.0)))
        scale = 10.0 ** (8 - exponent)
        # round(x * 10^k) is an integer below 1e9; dividing by the exact power of ten gives
        # the double nearest to that 9-digit decimal, whose repr is the decimal itself
        short = np.round(x * scale) / scale
    exact = short.astype(np.float32) == v  # anything that would not come back: full form
    return np.where(exact, short, x).tolist()


def float_row(vector: np.ndarray) -> list[float]:
    return float_rows(np.asarray(vector)[None, :])[0]
