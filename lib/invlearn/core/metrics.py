"""Metrics of Duan & Montúfar §6 on end-to-end matrices and network outputs.

All functions accept a leading batch of configurations: ``W`` of shape ``(..., d_L, d_0)``.
"""

from __future__ import annotations

import numpy as np
import torch

from invlearn.core.groups import split_weights

__all__ = [
    "accuracy",
    "noninvariant_part",
    "noninvariant_norm",
    "invariant_proportion",
    "seed_band",
]


def accuracy(outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of samples whose argmax output equals the label.

    Args:
        outputs: ``(..., n, c)``; labels: ``(n,)`` int64.
    Returns:
        ``(...)`` accuracies in [0, 1].
    """
    return (outputs.argmax(dim=-1) == labels).to(torch.float64).mean(dim=-1)


def noninvariant_part(w: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
    """``W_⊥ = W (I - Gbar)`` (spec §6), ``(..., d_L, d_0)``; ``W - W_⊥ = W Gbar`` is the invariant part."""
    return split_weights(w, projector)[1]


def noninvariant_norm(w: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
    """``||W_⊥||_F = ||W (I - Gbar)||_F`` (Figs 3/8), shape ``(...)``."""
    return torch.linalg.matrix_norm(noninvariant_part(w, projector))


def invariant_proportion(w: torch.Tensor, projector: torch.Tensor) -> torch.Tensor:
    """``||W Gbar||_F^2 / ||W||_F^2`` (Figs 4/9), shape ``(...)``; 1 exactly for invariant ``W``."""
    inv = torch.linalg.matrix_norm(w @ projector.to(w.dtype)) ** 2
    return inv / torch.linalg.matrix_norm(w) ** 2


def seed_band(values: np.ndarray, band: str = "minmax") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds and a band: ``values`` ``(T, S)`` -> ``(mean, lower, upper)``, each ``(T,)``.

    ``band="minmax"``: the seeds' minimum and maximum; ``band="sd"``: mean ± one standard deviation (ddof 1).
    """
    mean = values.mean(axis=1)
    if band == "minmax":
        return mean, values.min(axis=1), values.max(axis=1)
    if band == "sd":
        sd = values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros_like(mean)
        return mean, mean - sd, mean + sd
    raise ValueError(f"band must be 'minmax' or 'sd', not {band!r}")


