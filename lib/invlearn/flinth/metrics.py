"""Curve fits of the Flinth & Ohlsson pages: slope of a line through the origin and a log–log exponent (A2's
"grows linearly" reading)."""

from __future__ import annotations

import numpy as np

__all__ = ["line_through_origin", "power_law_exponent"]


def line_through_origin(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares fit ``y ≈ s x`` of a curve through the origin, ``x``, ``y`` ``(T,)``.

    Returns:
        ``(s, r)``: the slope ``s = <x, y> / <x, x>`` and the relative residual ``r = ‖y − s x‖ / ‖y‖`` (0 for a
        straight line through the origin).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    slope = float(x @ y / (x @ x))
    return slope, float(np.linalg.norm(y - slope * x) / np.linalg.norm(y))


def power_law_exponent(x: np.ndarray, y: np.ndarray) -> float:
    """Exponent ``a`` of the least-squares fit ``log y ≈ a log x + b`` over the points with ``x, y > 0``.

    1 for a curve growing linearly in ``x``, 1/2 for ``y ∝ √x`` (e.g. a random walk against steps taken).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = (x > 0) & (y > 0)
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])
