"""Measurements of the Flinth & Ohlsson pages: projecting measured layers (and their gradients) onto ``E`` and their
distances from ``E`` and from the start (A2–A5), the slope of a line through the origin and a log–log exponent (the
"grows linearly" reading)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from invlearn.core.groups import OrbitProjector

__all__ = ["project_layers", "project_grads", "distances_to_e", "line_through_origin", "power_law_exponent"]


def _project64(t: torch.Tensor, projector: OrbitProjector) -> torch.Tensor:
    """``Π_E t`` computed in float64, returned in ``t``'s dtype."""
    return projector.project(t.detach().to(torch.float64)).to(t.dtype)


def project_layers(layers: Sequence[torch.Tensor], projectors: Sequence[OrbitProjector]) -> None:
    """Replace each layer by its projection onto ``E`` (in place; float64 projection)."""
    with torch.no_grad():
        for w, proj in zip(layers, projectors):
            w.copy_(_project64(w, proj))


def project_grads(layers: Sequence[torch.Tensor], projectors: Sequence[OrbitProjector]) -> None:
    """Equivariant training: ``grad <- Π_E grad`` for each layer that has a gradient (in place)."""
    for w, proj in zip(layers, projectors):
        if w.grad is not None:
            w.grad.copy_(_project64(w.grad, proj))


def distances_to_e(layers: Sequence[torch.Tensor], start: Sequence[torch.Tensor],
                   projectors: Sequence[OrbitProjector]) -> tuple[float, float, float]:
    """``(‖A − A⁰‖, ‖A_{E⊥}‖, (Σ_k ‖A_{k,E⊥}‖⁴)^{1/2})`` over the layers ``A_k``, in float64.

    Args:
        start: float64 copies of the layers at step 0 (``A⁰``), same shapes.
    The last value is the authors' plotted quantity (squared per-layer distances, then the root of the sum of their
    squares).
    """
    moved, perp = [], []
    with torch.no_grad():
        for w, w0, proj in zip(layers, start, projectors):
            w64 = w.detach().to(torch.float64)
            moved.append(float(((w64 - w0) ** 2).sum()))
            perp.append(float(((w64 - proj.project(w64)) ** 2).sum()))
    return sum(moved) ** 0.5, sum(perp) ** 0.5, sum(p**2 for p in perp) ** 0.5


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
