"""Closed-form optima of the linear problems of Duan & Montúfar, in float64.

Inputs follow the package convention (rows are samples: ``x`` ``(n, d_0)``, ``y`` ``(n, d_L)``); internally the
paper's column convention ``X = x^T``, ``Y = y^T`` is used so that formulas read as in the paper.

Ridge (spec §5): ``X X^T`` is singular on MNIST (border pixels are always 0), so every whitening uses
``X X^T + ε I`` with ``ε = ridge * mean eigenvalue of X X^T``; this is the exact problem with ``sqrt(ε) I``
zero-target pseudo-samples appended.
"""

from __future__ import annotations

import torch

__all__ = ["ridge_epsilon", "sym_power", "truncate_svd", "hardwired_optimum", "squared_error"]


def ridge_epsilon(x: torch.Tensor, ridge: float) -> float:
    """``ε = ridge * tr(X X^T) / d_0`` for ``x`` ``(n, d_0)``."""
    x = x.to(torch.float64)
    return float(ridge * (x**2).sum() / x.shape[1])


def sym_power(s: torch.Tensor, power: float) -> torch.Tensor:
    """``S^power`` of a symmetric positive-definite ``(d, d)`` matrix via ``eigh``."""
    evals, evecs = torch.linalg.eigh(s)
    return (evecs * evals.clamp_min(torch.finfo(s.dtype).tiny) ** power) @ evecs.T


def truncate_svd(a: torch.Tensor, rank: int) -> torch.Tensor:
    """``A_r``: best rank-``r`` approximation (Eckart–Young), ``(m, k)`` -> ``(m, k)``."""
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vh[:rank]


def hardwired_optimum(x: torch.Tensor, y: torch.Tensor, orbit_basis_orthonormal: torch.Tensor, rank: int, ridge: float = 1e-6) -> torch.Tensor:
    """Global minimiser of ``||W X - Y||_F^2`` s.t. ``W G = 0``, ``rank W <= r`` (problem (4), Thm 6).

    Computed as reduced-rank regression on the orbit features ``F = B_o X`` (spec §5, the cross-check form of
    Thm 6): every invariant ``W`` is ``V B_o``, and with ``S = B_o (X X^T + ε I) B_o^T``,
    ``W_inv = (Y F^T S^{-1/2})_r S^{-1/2} B_o``.

    Args:
        x: ``(n, d_0)`` inputs; y: ``(n, d_L)`` targets.
        orbit_basis_orthonormal: ``B_o`` ``(m, d_0)`` with orthonormal rows spanning the invariant inputs
            (``B_o^T B_o = Gbar``).
        rank: ``r``.
        ridge: relative ridge (see module docstring).
    Returns:
        ``(d_L, d_0)`` float64 ``W_inv``.
    """
    xt = x.to(torch.float64).T
    yt = y.to(torch.float64).T
    b = orbit_basis_orthonormal.to(torch.float64)
    eps = ridge_epsilon(x, ridge)
    s = b @ (xt @ xt.T + eps * torch.eye(xt.shape[0], dtype=torch.float64)) @ b.T
    s_inv_half = sym_power(s, -0.5)
    v = truncate_svd(yt @ (b @ xt).T @ s_inv_half, rank) @ s_inv_half
    return v @ b


def squared_error(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """``||W X - Y||_F^2`` for ``w`` ``(d_L, d_0)``, rows-as-samples ``x`` ``(n, d_0)``, ``y`` ``(n, d_L)``."""
    return float(((x.to(torch.float64) @ w.T.to(torch.float64) - y.to(torch.float64)) ** 2).sum())
