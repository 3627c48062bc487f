"""Curve readings and discrepancy measures of Duan & Montúfar's pages: spread on a rotation orbit (Figs 1, 6),
settling epoch (Figs 2, 7), first crossing (Figs 4, 9), the double-descent detector (Figs 3, 8), where the
non-invariant part of a linear map lives (Fig 3) and the invariance discrepancy ε_inv of App. C.3 (Fig. 11)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["orbit_spread", "settling_epoch", "first_crossing", "double_descent", "noninvariant_parts",
           "invariance_discrepancy"]


def orbit_spread(entries: np.ndarray, relative: bool = False) -> np.ndarray:
    """Spread ``max - min`` over the last axis (the entries of one orbit), ``(..., k)`` -> ``(...)``.

    ``relative=True`` divides by the mean absolute entry: the spread relative to the entries' magnitude (Fig 6,
    where cross-entropy keeps growing the logit scale).
    """
    spread = entries.max(axis=-1) - entries.min(axis=-1)
    return spread / np.abs(entries).mean(axis=-1) if relative else spread


def settling_epoch(epochs: np.ndarray, curve: np.ndarray, tol: float) -> int:
    """First logged epoch from which ``curve`` ``(T,)`` stays within ``tol`` of its final value."""
    outside = np.flatnonzero(np.abs(curve - curve[-1]) > tol)
    return int(epochs[outside[-1] + 1]) if outside.size else int(epochs[0])


def first_crossing(epochs: np.ndarray, curve: np.ndarray, level: float) -> float:
    """First logged epoch at which ``curve`` ``(T,)`` reaches ``level``; ``inf`` if it never does."""
    above = np.flatnonzero(curve >= level)
    return float(epochs[above[0]]) if above.size else float("inf")


def double_descent(epochs: np.ndarray, curve: np.ndarray, rise: float) -> dict:
    """Look for the shape decrease -> rise -> decrease in ``curve`` ``(T,)`` (Fig 3's "double descent").

    The interior maximum is the point highest above the running minimum before it; the shape is ``found`` when
    that height exceeds ``rise`` and the curve ends more than ``rise`` below the maximum.
    Returns ``found``, ``epoch_min``, ``epoch_max``, ``rise`` (height above the running minimum) and
    ``drop_after_max``.
    """
    lifted = curve - np.minimum.accumulate(curve)
    t_max = int(np.argmax(lifted))
    t_min = int(np.argmin(curve[: t_max + 1]))
    return {
        "found": bool(lifted[t_max] > rise and curve[-1] < curve[t_max] - rise),
        "epoch_min": int(epochs[t_min]),
        "epoch_max": int(epochs[t_max]),
        "rise": float(lifted[t_max]),
        "drop_after_max": float(curve[t_max] - curve[-1]),
    }


def noninvariant_parts(w: np.ndarray, projector: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """Where the non-invariant part ``W_⊥ = W (I - Gbar)`` of linear maps lives, measured against data ``x``.

    Args:
        w: ``(..., d_L, d_0)`` end-to-end matrices.
        projector: ``(d_0, d_0)`` the group average ``Gbar`` (orthogonal projector onto invariant inputs).
        x: ``(N, d_0)`` inputs, e.g. the orbit-augmented training set (closed under the group).
    Returns:
        ``(...)`` arrays: ``total`` ``||W_⊥||_F``; ``unseen`` the part of ``||W_⊥||_F`` on the input coordinates
        that are 0 in every row of ``x`` (no gradient of a data loss ever reaches them); ``seen`` the rest
        (``total² = unseen² + seen²`` when those coordinates form whole orbits, as for an augmented set); ``on_data``
        ``sqrt(mean_x ||W_⊥ x||²) = sqrt(mean_x ||W x - W Gbar x||²)``, the non-invariant part of the outputs
        on the data (``||W_⊥ Σ^{1/2}||_F`` with ``Σ = x^T x / N``).
    """
    w_perp = w @ (np.eye(projector.shape[0]) - projector)
    dead = ~np.any(x != 0, axis=0)
    on_data = np.sqrt(np.mean(np.sum((w_perp @ x.T) ** 2, axis=-2), axis=-1))
    return {
        "total": np.linalg.norm(w_perp, axis=(-2, -1)),
        "unseen": np.linalg.norm(w_perp[..., dead], axis=(-2, -1)),
        "seen": np.linalg.norm(w_perp[..., ~dead], axis=(-2, -1)),
        "on_data": on_data,
    }


def invariance_discrepancy(orbit_outputs: torch.Tensor, per_class: bool = False) -> torch.Tensor:
    """Discrepancy from invariance ``ε_inv(f, x)`` of Duan & Montúfar (App. C.3), per input.

    For a scalar ``f`` the paper defines ``ε_inv(f, x) = E_h (1 - f(hx) / fbar(x))^2`` with ``fbar(x) = E_h f(hx)``
    and ``h`` uniform on the group. For ``c`` outputs:

    * ``per_class=False`` (default): ``E_h ||f(hx) - fbar(x)||^2 / ||fbar(x)||^2``, the orbit variance of the output
      vector relative to the squared norm of its orbit mean; for ``c = 1`` it is the paper's formula.
    * ``per_class=True``: the paper's formula on each output ``f_c``, averaged over the ``c`` outputs.

    A network that is constant on the orbit of ``x`` has ``ε_inv(f, x) = 0``, also where ``fbar(x) = 0`` (e.g. a ReLU
    network whose units are all inactive on the orbit), where the ratio would be 0/0.

    Args:
        orbit_outputs: ``(..., |G|, n, c)``, entry ``[..., h, i, :] = f(rho(h) x_i)``.
    Returns:
        ``(..., n)``; 0 exactly when ``f`` is constant on the orbit of ``x_i``.
    """
    mean = orbit_outputs.mean(dim=-3, keepdim=True)
    deviation = orbit_outputs - mean
    if per_class:
        ratio = torch.where(deviation == 0, torch.zeros_like(deviation), deviation / mean)
        return (ratio**2).mean(dim=(-3, -1))
    spread = (deviation**2).sum(dim=-1).mean(dim=-2)
    norm = (mean.squeeze(-3) ** 2).sum(dim=-1)
    return torch.where(spread == 0, torch.zeros_like(spread), spread / norm)
