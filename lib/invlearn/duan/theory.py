"""Closed-form optima of the linear problems of Duan & Montúfar, in float64.

Inputs follow the package convention (rows are samples: ``x`` ``(n, d_0)``, ``y`` ``(n, d_L)``); internally the
paper's column convention ``X = x^T``, ``Y = y^T`` is used so that formulas read as in the paper.

**Loss normalisation.** Every formula here is for the paper's objectives (spec §3)

* hard-wired (4):  ``(1/n) ||W X - Y||_F^2``  s.t. ``W G = 0``, ``rank W <= r``;
* regularized (7): ``(1/n) ||W X - Y||_F^2 + λ ||W G||_F^2``  s.t. ``rank W <= r``;
* augmented (9):   ``(1/(n|G|)) sum_h ||W rho(h) X - Y||_F^2``  s.t. ``rank W <= r``.

The networks are trained with ``nn.MSELoss()``, the mean over the ``n c`` entries (``c = d_L`` outputs), plus
``λ_t ||W G||_F^2`` (``invlearn.core.training``). That objective is ``(1/c) [(1/n)||W X - Y||^2 + c λ_t ||W G||^2]``:
a positive multiple of problem (7) with ``λ = c λ_t``. A positive factor changes neither the minimiser nor the
critical points, so a network trained with ``λ_t`` is compared with ``Ŵ_reg(λ = c λ_t)``
(:func:`paper_lambda`; ``c = 9`` on MNIST, spec §9), and its logged loss with ``objective / c``. The factor does
not matter for (4) and (9), which have no λ.

**Ridge** (spec §5). ``X X^T`` is singular on MNIST (border pixels are always 0), so every whitening uses
``P^2 = X X^T + ε I`` and ``Q^2 = sum_h rho(h) (X X^T + ε I) rho(h)^T`` with ``ε = ridge * mean eigenvalue of X X^T``.
This is the exact problem with ``sqrt(ε) I`` zero-target pseudo-samples appended (``||W X - Y||^2 + ε ||W||^2``),
so Thms 6, 9, 12 and the spectra relation hold exactly for the ridged problem. The objectives below take the same
``eps`` to evaluate it.

**Numerics.** Symmetric roots via ``eigh``; ``B(λ)^{-1}`` and ``Π`` from the SVD of ``G̃ = P^{-1} G`` (Thm 9's
formula), never ``inv(sqrtm(I + nλ G̃ G̃^T))``, which loses all accuracy for large λ when ``P`` is ill-conditioned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from invlearn.core.groups import constraint_matrix, group_average

__all__ = [
    "ridge_epsilon",
    "sym_power",
    "truncate_svd",
    "hardwired_optimum",
    "squared_error",
    "paper_lambda",
    "whitening",
    "whitened_target",
    "ConstraintSVD",
    "whitened_constraint_svd",
    "invariant_projector",
    "reg_inverse_root",
    "da_gram_root",
    "da_target",
    "ClosedForms",
    "closed_forms",
    "pseudo_inverse_targets",
    "data_loss",
    "reg_objective",
    "da_objective",
    "augmented_accuracy",
    "RegularizationPath",
    "regularization_path",
    "critical_points",
    "swap_descent",
    "tangent_projection",
    "riemannian_gradient",
    "balanced_factors",
    "parameter_hessian",
    "critical_point_search",
]

_F64 = torch.float64


def ridge_epsilon(x: torch.Tensor, ridge: float) -> float:
    """``ε = ridge * tr(X X^T) / d_0`` for ``x`` ``(n, d_0)``."""
    x = x.to(_F64)
    return float(ridge * (x**2).sum() / x.shape[1])


def sym_power(s: torch.Tensor, power: float) -> torch.Tensor:
    """``S^power`` of a symmetric positive-definite ``(d, d)`` matrix via ``eigh``."""
    evals, evecs = torch.linalg.eigh(s)
    return (evecs * evals.clamp_min(torch.finfo(s.dtype).tiny) ** power) @ evecs.T


def truncate_svd(a: torch.Tensor, rank: int) -> torch.Tensor:
    """``A_r``: best rank-``r`` approximation (Eckart–Young), ``(m, k)`` -> ``(m, k)``."""
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vh[:rank]


def paper_lambda(lam_mse: float, n_outputs: int) -> float:
    """The λ of problem (7) equivalent to training with ``nn.MSELoss() + lam_mse ||W G||_F^2``: ``n_outputs * lam_mse``.

    ``mean over n c entries`` = ``(1/c)(1/n)||W X - Y||_F^2``, so the training objective is ``1/c`` times (7) with
    ``λ = c lam_mse`` (module docstring; spec §9: ``λ_eff = 9 λ`` on MNIST).
    """
    return float(n_outputs) * float(lam_mse)


def hardwired_optimum(x: torch.Tensor, y: torch.Tensor, orbit_basis_orthonormal: torch.Tensor, rank: int, ridge: float = 1e-6) -> torch.Tensor:
    """Global minimiser of ``||W X - Y||_F^2`` s.t. ``W G = 0``, ``rank W <= r`` (problem (4), Thm 6).

    Computed as reduced-rank regression on the orbit features ``F = B_o X`` (spec §5, the cross-check form of
    Thm 6): every invariant ``W`` is ``V B_o``, and with ``S = B_o (X X^T + ε I) B_o^T``,
    ``W_inv = (Y F^T S^{-1/2})_r S^{-1/2} B_o``. :meth:`ClosedForms.w_inv` is the paper's form.

    Args:
        x: ``(n, d_0)`` inputs; y: ``(n, d_L)`` targets.
        orbit_basis_orthonormal: ``B_o`` ``(m, d_0)`` with orthonormal rows spanning the invariant inputs
            (``B_o^T B_o = Gbar``).
        rank: ``r``.
        ridge: relative ridge (see module docstring).
    Returns:
        ``(d_L, d_0)`` float64 ``W_inv``.
    """
    xt = x.to(_F64).T
    yt = y.to(_F64).T
    b = orbit_basis_orthonormal.to(_F64)
    eps = ridge_epsilon(x, ridge)
    s = b @ (xt @ xt.T + eps * torch.eye(xt.shape[0], dtype=_F64)) @ b.T
    s_inv_half = sym_power(s, -0.5)
    v = truncate_svd(yt @ (b @ xt).T @ s_inv_half, rank) @ s_inv_half
    return v @ b


def squared_error(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> float:
    """``||W X - Y||_F^2`` for ``w`` ``(d_L, d_0)``, rows-as-samples ``x`` ``(n, d_0)``, ``y`` ``(n, d_L)``."""
    return float(((x.to(_F64) @ w.T.to(_F64) - y.to(_F64)) ** 2).sum())


# --- the paper's building blocks ------------------------------------------------------------------------------


def whitening(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``P = (X X^T + ε I)^{1/2}`` and ``P^{-1}``, both ``(d_0, d_0)`` (spec §1, with the §5 ridge)."""
    xt = x.to(_F64).T
    evals, evecs = torch.linalg.eigh(xt @ xt.T + eps * torch.eye(xt.shape[0], dtype=_F64))
    root = evals.clamp_min(torch.finfo(_F64).tiny).sqrt()
    return (evecs * root) @ evecs.T, (evecs / root) @ evecs.T


def whitened_target(x: torch.Tensor, y: torch.Tensor, p_inv: torch.Tensor) -> torch.Tensor:
    """``Z = Y X^T P^{-1}``, ``(d_L, d_0)``; then ``||W X - Y||^2 + ε||W||^2 = ||W P - Z||^2 + ||Y||^2 - ||Z||^2``."""
    return y.to(_F64).T @ x.to(_F64) @ p_inv


@dataclass(frozen=True)
class ConstraintSVD:
    """SVD ``G̃ = U diag(σ) V^T`` of the whitened constraint ``G̃ = P^{-1} G``.

    Attributes:
        u: ``(d_0, d_0)`` all left singular vectors.
        sigma: ``(d_0,)`` singular values, descending, zero-padded; entries beyond ``rank`` set to exactly 0.
        rank: ``rank G̃ = rank G`` (``P`` is invertible), taken from the well-conditioned ``G``.
    """

    u: torch.Tensor
    sigma: torch.Tensor
    rank: int


def whitened_constraint_svd(p_inv: torch.Tensor, g: torch.Tensor) -> ConstraintSVD:
    """SVD of ``G̃ = P^{-1} G`` for ``g`` ``(d_0, p)``.

    The numerical rank of ``G̃`` is unreliable when ``P`` is ill-conditioned; it equals ``rank G``, which is
    well-conditioned for a representation (``I - rho(g)`` of a permutation has singular values in [0, 2]).
    """
    rank = int(torch.linalg.matrix_rank(g.to(_F64)))
    u, s, _ = torch.linalg.svd(p_inv @ g.to(_F64), full_matrices=True)
    sigma = torch.zeros(u.shape[0], dtype=_F64)
    sigma[:rank] = s[:rank]
    return ConstraintSVD(u=u, sigma=sigma, rank=rank)


def invariant_projector(svd: ConstraintSVD) -> torch.Tensor:
    """``Π = I - G̃ G̃^+ = U_{>k} U_{>k}^T``, the orthogonal projector onto ``ker G̃^T``, ``(d_0, d_0)``.

    ``W̃ Π`` is the nearest ``W̃`` with ``W̃ G̃ = 0``, i.e. ``W = W̃ P^{-1}`` invariant.
    """
    rest = svd.u[:, svd.rank:]
    return rest @ rest.T


def reg_inverse_root(svd: ConstraintSVD, n: int, lam: float) -> torch.Tensor:
    """``B(λ)^{-1} = (I + nλ G̃ G̃^T)^{-1/2} = U diag((1 + nλσ_i^2)^{-1/2}, 1, ..., 1) U^T`` (Thm 9), ``(d_0, d_0)``.

    Tends to ``Π`` as ``λ → ∞``; ``n`` is the number of real samples (the ``1/n`` of problem (7)).
    """
    factors = (1.0 + n * lam * svd.sigma**2) ** -0.5
    factors[svd.rank:] = 1.0
    return (svd.u * factors) @ svd.u.T


def da_gram_root(x: torch.Tensor, rho: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``Q = (sum_h rho(h) (X X^T + ε I) rho(h)^T)^{1/2}`` and ``Q^{-1}`` (Prop 11, §5 ridge), each ``(d_0, d_0)``."""
    xt = x.to(_F64).T
    r = rho.to(_F64)
    gram = xt @ xt.T + eps * torch.eye(xt.shape[0], dtype=_F64)
    s = torch.einsum("hij,jk,hlk->il", r, gram, r)
    evals, evecs = torch.linalg.eigh((s + s.T) / 2)
    root = evals.clamp_min(torch.finfo(_F64).tiny).sqrt()
    return (evecs * root) @ evecs.T, (evecs / root) @ evecs.T


def da_target(x: torch.Tensor, y: torch.Tensor, rho: torch.Tensor, q_inv: torch.Tensor) -> torch.Tensor:
    """``Z̄_da = |G| Y X^T Ḡ^T Q^{-1}`` (Prop 11), ``(d_L, d_0)``.

    The DA objective (9) equals ``(1/(n|G|)) ||W Q - Z̄_da||_F^2 + const``.
    """
    gbar = group_average(rho.to(_F64))
    return rho.shape[0] * y.to(_F64).T @ x.to(_F64) @ gbar.T @ q_inv


@dataclass(frozen=True)
class ClosedForms:
    """Every closed form of Duan & Montúfar for one data set and representation (build with :func:`closed_forms`).

    Attributes (float64; ``d = d_0``):
        n: number of samples; eps: the absolute ridge ε; order: ``|G|``.
        p, p_inv: ``P``, ``P^{-1}`` ``(d, d)``; z: ``Z`` ``(d_L, d)``.
        constraint: ``G`` ``(d, p)``; gbar: ``Ḡ`` ``(d, d)``; svd: SVD of ``G̃``; pi: ``Π`` ``(d, d)``.
        z_inv: ``Z̄_inv = Z Π``; q, q_inv: ``Q``, ``Q^{-1}``; z_da: ``Z̄_da``; ut_p_inv: ``U^T P^{-1}`` (for ``Ŵ_reg``).
    """

    n: int
    eps: float
    order: int
    p: torch.Tensor
    p_inv: torch.Tensor
    z: torch.Tensor
    constraint: torch.Tensor
    gbar: torch.Tensor
    svd: ConstraintSVD
    pi: torch.Tensor
    z_inv: torch.Tensor
    q: torch.Tensor
    q_inv: torch.Tensor
    z_da: torch.Tensor
    ut_p_inv: torch.Tensor

    def w_inv(self, rank: int) -> torch.Tensor:
        """Thm 6: ``Ŵ_inv = (Z Π)_r P^{-1}``, ``(d_L, d)``; the global optimum of (4)."""
        return truncate_svd(self.z_inv, rank) @ self.p_inv

    def b_reg_inv(self, lam: float) -> torch.Tensor:
        """``B(λ)^{-1}`` (see :func:`reg_inverse_root`)."""
        return reg_inverse_root(self.svd, self.n, lam)

    def _reg_factors(self, lam: float) -> torch.Tensor:
        factors = (1.0 + self.n * lam * self.svd.sigma**2) ** -0.5
        factors[self.svd.rank:] = 1.0
        return factors

    def z_reg(self, lam: float) -> torch.Tensor:
        """``Z̄_reg(λ) = Z B(λ)^{-1}``, ``(d_L, d)``; λ in the normalisation of (7) (see :func:`paper_lambda`)."""
        return (self.z @ self.svd.u * self._reg_factors(lam)) @ self.svd.u.T

    def w_reg(self, lam: float, rank: int) -> torch.Tensor:
        """Prop 8: ``Ŵ_reg(λ) = (Z B(λ)^{-1})_r B(λ)^{-1} P^{-1}``, ``(d_L, d)``; the global optimum of (7).

        Evaluated as ``(Z U D U^T)_r U D U^T P^{-1}`` with ``B(λ)^{-1} = U D U^T`` (``D`` diagonal), without forming
        ``B(λ)^{-1}``."""
        factors = self._reg_factors(lam)
        u = self.svd.u
        truncated = truncate_svd((self.z @ u * factors) @ u.T, rank)
        return (truncated @ u * factors) @ self.ut_p_inv

    def w_da(self, rank: int) -> torch.Tensor:
        """Prop 11: ``Ŵ_da = (Z̄_da)_r Q^{-1}``, ``(d_L, d)``; the global optimum of (9)."""
        return truncate_svd(self.z_da, rank) @ self.q_inv


def closed_forms(
    x: torch.Tensor, y: torch.Tensor, rho: torch.Tensor, generators: Sequence[int] = (1,), ridge: float = 1e-6
) -> ClosedForms:
    """Precompute the whitening, projections and targets of problems (4), (7), (9).

    Args:
        x: ``(n, d)`` inputs; y: ``(n, d_L)`` targets (one-hot on MNIST, no ``1/n`` in ``Z``).
        rho: ``(|G|, d, d)`` representation (any, unitary or not), ``rho[0] = I``.
        generators: indices into ``rho`` of the generators defining ``G = [I - rho(g_1), ...]`` (Prop 4).
        ridge: relative ridge ``ε / mean eigenvalue of X X^T`` (module docstring).
    """
    rho = rho.to(_F64)
    eps = ridge_epsilon(x, ridge)
    p, p_inv = whitening(x, eps)
    z = whitened_target(x, y, p_inv)
    g = constraint_matrix(rho[list(generators)])
    svd = whitened_constraint_svd(p_inv, g)
    pi = invariant_projector(svd)
    q, q_inv = da_gram_root(x, rho, eps)
    return ClosedForms(
        n=int(x.shape[0]), eps=eps, order=int(rho.shape[0]), p=p, p_inv=p_inv, z=z, constraint=g,
        gbar=group_average(rho), svd=svd, pi=pi, z_inv=z @ pi, q=q, q_inv=q_inv, z_da=da_target(x, y, rho, q_inv),
        ut_p_inv=svd.u.T @ p_inv,
    )


def pseudo_inverse_targets(
    x: torch.Tensor, y: torch.Tensor, rho: torch.Tensor, generators: Sequence[int] = (1,), rtol: float = 1e-10
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Z̄_inv, Z̄_da)`` with pseudo-inverses instead of the ridge: ``P^+``, ``Q^+`` of the singular ``X X^T``.

    **Not** the paper's problem when ``X X^T`` is singular: ``ker P`` and ``ker Q`` differ (``Q`` sums rotated
    copies of ``X X^T``), so Thm 12 and the spectra relation no longer hold exactly. Kept to show the effect
    of this tempting shortcut (Fig. 5 page). Eigenvalues ``<= rtol * max`` count as zero.
    """
    x, y, rho = x.to(_F64), y.to(_F64), rho.to(_F64)

    def pinv_root(s: torch.Tensor) -> torch.Tensor:
        evals, evecs = torch.linalg.eigh(s)
        keep = evals > rtol * evals.max()
        inv_root = torch.zeros_like(evals)
        inv_root[keep] = evals[keep] ** -0.5
        return (evecs * inv_root) @ evecs.T

    gram = x.T @ x
    p_pinv = pinv_root(gram)
    g_tilde = p_pinv @ constraint_matrix(rho[list(generators)])
    pi = torch.eye(gram.shape[0], dtype=_F64) - g_tilde @ torch.linalg.pinv(g_tilde, rtol=rtol)
    q_pinv = pinv_root(torch.einsum("hij,jk,hlk->il", rho, gram, rho))
    z_inv = y.T @ x @ p_pinv @ pi
    z_da = rho.shape[0] * y.T @ x @ group_average(rho).T @ q_pinv
    return z_inv, z_da


# --- objectives in the paper's normalisation --------------------------------------------------------------------


def data_loss(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, eps: float = 0.0) -> float:
    """``(1/n)(||W X - Y||_F^2 + ε ||W||_F^2)``: the objective of (4); ``eps`` adds the §5 pseudo-samples."""
    w = w.to(_F64)
    return (squared_error(w, x, y) + eps * float((w**2).sum())) / x.shape[0]


def reg_objective(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, constraint: torch.Tensor, lam: float, eps: float = 0.0) -> float:
    """Objective of (7): ``data_loss + λ ||W G||_F^2`` (λ in the paper's normalisation, see :func:`paper_lambda`)."""
    w = w.to(_F64)
    return data_loss(w, x, y, eps) + lam * float(((w @ constraint.to(_F64)) ** 2).sum())


def da_objective(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, rho: torch.Tensor, eps: float = 0.0) -> float:
    """Objective of (9): ``(1/(n|G|)) sum_h (||W rho(h) X - Y||_F^2 + ε ||W rho(h)||_F^2)``."""
    w = w.to(_F64)
    wr = torch.einsum("ij,hjk->hik", w, rho.to(_F64))
    return sum(data_loss(wh, x, y, eps) for wh in wr) / rho.shape[0]


def augmented_accuracy(w: torch.Tensor, x_aug: torch.Tensor, labels_aug: torch.Tensor) -> float:
    """Accuracy of ``x -> W x`` (argmax over outputs) on the augmented set ``x_aug`` ``(|G| n, d)`` (spec §6)."""
    outputs = x_aug.to(_F64) @ w.to(_F64).T
    return float((outputs.argmax(dim=-1) == labels_aug).to(_F64).mean())


@dataclass(frozen=True)
class RegularizationPath:
    """``Ŵ_reg(λ)`` summarised over a λ grid (all ``(L,)`` arrays, λ in the paper's normalisation).

    Attributes:
        lambdas: the grid.
        noninvariant_norm: ``||Ŵ_reg(λ)_⊥||_F``.
        invariant_proportion: ``||Ŵ Ḡ||^2/||Ŵ||^2``.
        distance_to_inv: ``||Ŵ_reg(λ) - Ŵ_inv||_F / ||Ŵ_inv||_F``.
        whitened_distance_to_inv: the same with both matrices multiplied by ``P`` (the metric of the loss).
        objective: value of (7) at ``Ŵ_reg(λ)`` (with the ridge).
        singular_values: ``(L, min(d_L, d))`` spectrum of ``Z̄_reg(λ)``.
    """

    lambdas: torch.Tensor
    noninvariant_norm: torch.Tensor
    invariant_proportion: torch.Tensor
    distance_to_inv: torch.Tensor
    whitened_distance_to_inv: torch.Tensor
    objective: torch.Tensor
    singular_values: torch.Tensor


def regularization_path(
    forms: ClosedForms, x: torch.Tensor, y: torch.Tensor, lambdas: Sequence[float], rank: int
) -> RegularizationPath:
    """Evaluate the closed-form regularized optimum (Prop 8) on a λ grid (paper normalisation)."""
    w_inv = forms.w_inv(rank)
    eye = torch.eye(forms.gbar.shape[0], dtype=_F64)
    rows = []
    for lam in lambdas:
        w = forms.w_reg(lam, rank)
        wbar = w @ forms.gbar
        rows.append(
            (
                float(torch.linalg.matrix_norm(w @ (eye - forms.gbar))),
                float((wbar**2).sum() / (w**2).sum()),
                float(torch.linalg.matrix_norm(w - w_inv) / torch.linalg.matrix_norm(w_inv)),
                float(torch.linalg.matrix_norm((w - w_inv) @ forms.p) / torch.linalg.matrix_norm(w_inv @ forms.p)),
                reg_objective(w, x, y, forms.constraint, lam, forms.eps),
                torch.linalg.svdvals(forms.z_reg(lam)),
            )
        )
    cols = list(zip(*rows))
    return RegularizationPath(
        lambdas=torch.tensor(list(lambdas), dtype=_F64),
        noninvariant_norm=torch.tensor(cols[0], dtype=_F64),
        invariant_proportion=torch.tensor(cols[1], dtype=_F64),
        distance_to_inv=torch.tensor(cols[2], dtype=_F64),
        whitened_distance_to_inv=torch.tensor(cols[3], dtype=_F64),
        objective=torch.tensor(cols[4], dtype=_F64),
        singular_values=torch.stack(cols[5]),
    )


# --- critical points (Prop B.9 / Prop 13) -----------------------------------------------------------------------


def critical_points(target: torch.Tensor, rank: int, tol: float = 1e-10) -> list[tuple[tuple[int, ...], torch.Tensor]]:
    """Rank-``r`` critical points of ``||Z - W̃||_F^2`` on ``{rank W̃ <= r}`` (Prop B.9): ``U Σ_I V^T`` for every
    ``r``-subset ``I`` of the non-zero singular values of ``Z``.

    Args:
        target: ``Z`` ``(m, k)``; tol: singular values ``<= tol * σ_1`` count as zero.
    Returns:
        ``[(I, W̃_I)]``, ``binom(rank Z, r)`` entries, ``I`` 0-based and sorted, ``I = (0..r-1)`` first.
    """
    u, s, vh = torch.linalg.svd(target.to(_F64), full_matrices=False)
    k = int((s > tol * s[0]).sum())
    return [(idx, (u[:, list(idx)] * s[list(idx)]) @ vh[list(idx)]) for idx in itertools.combinations(range(k), rank)]


def swap_descent(target: torch.Tensor, subset: Sequence[int], t: float = 1e-2) -> float:
    """Largest relative decrease of ``||Z - W̃(t)||_F^2`` along the rank-``r`` curves that rotate one kept singular pair
    of the critical point ``W̃_I = U Σ_I V^T`` toward a dropped one (Prop B.9's escape directions from a saddle):
    ``W̃(t) = W̃_I - σ_j u_j v_j^T + σ_j (cos t u_j + sin t u_k)(cos t v_j + sin t v_k)^T`` for ``j ∈ I``, ``k ∉ I``.

    In exact arithmetic the decrease is ``2 σ_j (σ_k - σ_j) sin^2 t / ||Z||_F^2``: positive for some pair iff a dropped
    singular value exceeds a kept one, i.e. iff ``I`` is not the top block. Computed here from the matrices themselves.

    Args:
        target: ``Z`` ``(m, k)``; subset: ``I``, 0-based indices of kept singular values; t: the curve parameter.
    Returns:
        ``max_{j, k} (||Z - W̃_I||^2 - ||Z - W̃(t)||^2) / ||Z||^2``; ``-inf`` when no index is dropped.
    """
    z = target.to(_F64)
    u, s, vh = torch.linalg.svd(z, full_matrices=False)
    kept = list(subset)
    w0 = (u[:, kept] * s[kept]) @ vh[kept]
    base = float(((z - w0) ** 2).sum())
    norm = float((z**2).sum())
    best = float("-inf")
    for j in kept:
        for k in (i for i in range(len(s)) if i not in kept):
            a = math.cos(t) * u[:, j] + math.sin(t) * u[:, k]
            b = math.cos(t) * vh[j] + math.sin(t) * vh[k]
            w = w0 - s[j] * torch.outer(u[:, j], vh[j]) + s[j] * torch.outer(a, b)
            best = max(best, (base - float(((z - w) ** 2).sum())) / norm)
    return best


def tangent_projection(w: torch.Tensor, e: torch.Tensor, rank: int) -> torch.Tensor:
    """Orthogonal projection of ``e`` onto the tangent space at ``w`` of the rank-``r`` matrices (``rank w = r``):
    ``P_U e + e P_V - P_U e P_V`` with ``U``, ``V`` the top-``r`` singular subspaces of ``w``."""
    u, _, vh = torch.linalg.svd(w, full_matrices=False)
    pu = u[:, :rank] @ u[:, :rank].T
    pv = vh[:rank].T @ vh[:rank]
    return pu @ e + e @ pv - pu @ e @ pv


def riemannian_gradient(w: torch.Tensor, target: torch.Tensor, rank: int) -> torch.Tensor:
    """Riemannian gradient of ``||Z - W̃||_F^2`` on the rank-``r`` manifold at ``w``: ``P_T(2 (W̃ - Z))``."""
    return tangent_projection(w, 2.0 * (w - target), rank)


def balanced_factors(w: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``W = A B`` with ``A = U_r Σ_r^{1/2}`` ``(m, r)``, ``B = Σ_r^{1/2} V_r^T`` ``(r, k)``: a two-layer network
    ``W_2 = A``, ``W_1 = B`` realising ``w`` (rank ``<= r``)."""
    u, s, vh = torch.linalg.svd(w.to(_F64), full_matrices=False)
    root = s[:rank].sqrt()
    return u[:, :rank] * root, root[:, None] * vh[:rank]


def parameter_hessian(loss: Callable[[torch.Tensor], torch.Tensor], a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Eigenvalues of the Hessian of ``θ = (W_2, W_1) -> loss(W_2 W_1)`` at ``(a, b)`` and the gradient norm there.

    Args:
        loss: differentiable ``(m, k) -> scalar`` (float64).
        a: ``W_2`` ``(m, r)``; b: ``W_1`` ``(r, k)``.
    Returns:
        ``(eigenvalues ascending (m r + r k,), ||∇_θ loss||)``. At a rank-``r`` point, ``r^2`` eigenvalues are 0 from the
        symmetry ``(W_2, W_1) -> (W_2 M^{-1}, M W_1)``.
    """
    na = a.numel()

    def flat_loss(theta: torch.Tensor) -> torch.Tensor:
        return loss(theta[:na].reshape(a.shape) @ theta[na:].reshape(b.shape))

    theta = torch.cat([a.reshape(-1), b.reshape(-1)]).to(_F64)
    hess = torch.autograd.functional.hessian(flat_loss, theta, vectorize=True)
    grad = torch.autograd.functional.jacobian(flat_loss, theta)
    return torch.linalg.eigvalsh((hess + hess.T) / 2), float(grad.norm())


def critical_point_search(
    loss: Callable[[torch.Tensor], torch.Tensor], shape: tuple[int, int], rank: int, starts: int, seed: int = 0,
    scale: float = 0.5, max_iter: int = 60, tol: float = 1e-12,
) -> list[tuple[torch.Tensor, float]]:
    """Critical points of ``θ = (W_2, W_1) -> loss(W_2 W_1)`` found without the formulas: Newton's method on
    ``∇_θ loss = 0`` with least-squares steps ``θ <- θ - H^+ ∇`` (the Hessian ``H`` is singular along the ``GL(r)``
    symmetry), from ``starts`` random ``θ`` with entries ``N(0, scale^2)``. Newton's method is attracted to saddles as
    well as minima, so it samples all kinds of critical points.

    Args:
        loss: differentiable ``(m, k) -> scalar`` (float64); shape: ``(m, k)``; rank: ``r``, the hidden width.
    Returns:
        ``[(W_2 W_1 (m, k), ||∇_θ loss||)]``, one per start; callers keep those with a small gradient.
    """
    gen = torch.Generator().manual_seed(seed)
    m, k = shape
    na = m * rank

    def flat_loss(theta: torch.Tensor) -> torch.Tensor:
        return loss(theta[:na].reshape(m, rank) @ theta[na:].reshape(rank, k))

    found = []
    for _ in range(starts):
        theta = scale * torch.randn(na + rank * k, generator=gen, dtype=_F64)
        for _ in range(max_iter):
            grad = torch.autograd.functional.jacobian(flat_loss, theta)
            if float(grad.norm()) < tol:
                break
            hess = torch.autograd.functional.hessian(flat_loss, theta, vectorize=True)
            theta = theta - torch.linalg.lstsq(hess, grad[:, None], rcond=1e-10).solution[:, 0]
        grad = torch.autograd.functional.jacobian(flat_loss, theta)
        found.append((theta[:na].reshape(m, rank) @ theta[na:].reshape(rank, k), float(grad.norm())))
    return found
