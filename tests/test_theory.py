"""Closed forms of Duan & Montúfar (Thm 6, Prop 8, Thm 9, Prop 11, Thm 12, Prop B.9) against brute force."""

import math

import pytest
import torch

from invlearn.duan.problem import mnist_problem, with_group
from invlearn.core.groups import c4_rotations, equivalent_representation
from invlearn.core.models import BatchedMLP
from invlearn.duan.theory import (
    augmented_accuracy,
    balanced_factors,
    closed_forms,
    critical_point_search,
    critical_points,
    swap_descent,
    da_objective,
    data_loss,
    hardwired_optimum,
    paper_lambda,
    parameter_hessian,
    pseudo_inverse_targets,
    reg_objective,
    regularization_path,
    riemannian_gradient,
    truncate_svd,
)
from invlearn.core.training import TrainConfig, invariance_penalty, train

F64 = torch.float64
RANK = 2


def random_problem(seed: int, n: int = 30, side: int = 4, outputs: int = 3):
    """C4 on ``side x side`` images (unitary), Gaussian inputs, Gaussian targets."""
    gen = torch.Generator().manual_seed(seed)
    group = c4_rotations(side)
    x = torch.randn(n, side * side, generator=gen, dtype=F64)
    y = torch.randn(n, outputs, generator=gen, dtype=F64)
    return group, x, y


def random_rank_r(shape, rank, gen, scale=1.0):
    a = torch.randn(shape[0], rank, generator=gen, dtype=F64)
    b = torch.randn(rank, shape[1], generator=gen, dtype=F64)
    return scale * a @ b


def nonunitary(group, seed: int = 0, strength: float = 0.5) -> torch.Tensor:
    """``S rho(h) S^{-1}`` with a fixed non-orthogonal ``S``: a non-unitary representation of the same group."""
    gen = torch.Generator().manual_seed(seed)
    d = group.dim
    s = torch.eye(d, dtype=F64) + strength * torch.randn(d, d, generator=gen, dtype=F64) / d**0.5
    return s @ group.rho @ torch.linalg.inv(s)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whitening_and_completed_squares(seed):
    group, x, y = random_problem(seed)
    cf = closed_forms(x, y, group.rho, ridge=1e-3)
    gen = torch.Generator().manual_seed(100 + seed)
    n = x.shape[0]
    const = {}
    for k in range(3):
        w = torch.randn(3, 16, generator=gen, dtype=F64)
        # (4): n * data_loss = ||W P - Z||^2 + const
        const.setdefault("inv", []).append(n * data_loss(w, x, y, cf.eps) - float(((w @ cf.p - cf.z) ** 2).sum()))
        # (7): n * objective = ||W̃ B - Z B^{-1}||^2 + const, B^{-1} from the SVD of G̃
        lam = 0.3
        b_inv = cf.b_reg_inv(lam)
        b = torch.linalg.inv(b_inv)
        wt = w @ cf.p
        const.setdefault("reg", []).append(
            n * reg_objective(w, x, y, cf.constraint, lam, cf.eps) - float(((wt @ b - cf.z @ b_inv) ** 2).sum())
        )
        # (9): n|G| * objective = ||W Q - Z̄_da||^2 + const
        const.setdefault("da", []).append(
            n * 4 * da_objective(w, x, y, group.rho, cf.eps) - float(((w @ cf.q - cf.z_da) ** 2).sum())
        )
    for name, values in const.items():
        assert max(values) - min(values) < 1e-9 * max(abs(v) for v in values), name
    assert torch.allclose(cf.b_reg_inv(0.3) @ cf.b_reg_inv(0.3),
                          torch.linalg.inv(torch.eye(16, dtype=F64) + n * 0.3 * cf.p_inv @ cf.constraint @ cf.constraint.T @ cf.p_inv),
                          atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_forms_beat_random_rank_r_matrices(seed):
    """Eckart–Young: each closed form has the lowest objective among rank-r (and, for (4), invariant) matrices."""
    group, x, y = random_problem(seed)
    cf = closed_forms(x, y, group.rho, ridge=0.0)
    gen = torch.Generator().manual_seed(seed)
    gbar = cf.gbar
    w_inv, w_da, lam = cf.w_inv(RANK), cf.w_da(RANK), 0.05
    w_reg = cf.w_reg(lam, RANK)
    best_inv, best_reg, best_da = data_loss(w_inv, x, y), reg_objective(w_reg, x, y, cf.constraint, lam), da_objective(w_da, x, y, group.rho)
    for w in (w_inv, w_reg, w_da):
        assert int(torch.linalg.matrix_rank(w, atol=1e-9)) == RANK
    assert float((w_inv @ cf.constraint).abs().max()) < 1e-12
    for trial in range(200):
        scale = 10 ** (-trial % 3)  # far random matrices and small perturbations of the optimum
        v = random_rank_r((3, 16), RANK, gen, 0.3)
        assert data_loss(truncate_svd(w_inv + scale * v, RANK) @ gbar, x, y) >= best_inv - 1e-12
        assert reg_objective(truncate_svd(w_reg + scale * v, RANK), x, y, cf.constraint, lam) >= best_reg - 1e-12
        assert da_objective(truncate_svd(w_da + scale * v, RANK), x, y, group.rho) >= best_da - 1e-12


def _trained_objective(dims, x, y, basis=None, lam_mse=None, constraint=None, epochs=800):
    model = BatchedMLP(dims, seeds=[0, 1, 2], basis=basis, dtype=F64)
    penalty = None if lam_mse is None else invariance_penalty(constraint, [lam_mse] * 3)
    history = train(model, x, y, TrainConfig(epochs=epochs, lr=1e-2), penalty=penalty)
    return history.loss[-1], model.end_to_end().detach()


def test_gradient_descent_never_beats_and_reaches_the_closed_forms():
    """Two-layer networks trained by the engine (MSE mean over n*c entries) against the closed forms (spec §5 item 6);
    the regularized runs use λ_t = λ / c (paper_lambda), so this also tests the loss normalisation."""
    group, x, y = random_problem(3)
    c = y.shape[1]
    cf = closed_forms(x, y, group.rho, ridge=0.0)
    dims = (16, RANK, c)
    basis = group.orbit_basis("orthonormal")
    loss, w = _trained_objective(dims, x, y, basis=basis)
    best = data_loss(cf.w_inv(RANK), x, y) / c
    assert loss.min() >= best - 1e-12 and loss.max() < best * (1 + 1e-6)
    lam = 0.2
    loss, w = _trained_objective(dims, x, y, lam_mse=lam / c, constraint=cf.constraint)
    best = reg_objective(cf.w_reg(paper_lambda(lam / c, c), RANK), x, y, cf.constraint, lam) / c
    assert loss.min() >= best - 1e-12 and loss.max() < best * (1 + 1e-6)
    assert float((w - cf.w_reg(lam, RANK)).norm(dim=(1, 2)).max() / cf.w_reg(lam, RANK).norm()) < 1e-3
    x_aug = group.act(x).reshape(-1, 16)
    loss, w = _trained_objective(dims, x_aug, y.repeat(4, 1))
    best = da_objective(cf.w_da(RANK), x, y, group.rho) / c
    assert loss.min() >= best - 1e-12 and loss.max() < best * (1 + 1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_paper_form_of_thm6_matches_orbit_feature_form(seed):
    group, x, y = random_problem(seed, n=10)  # n < d_0: X X^T singular, the ridge matters
    cf = closed_forms(x, y, group.rho, ridge=1e-4)
    w_orbit = hardwired_optimum(x, y, group.orbit_basis("orthonormal"), RANK, ridge=1e-4)
    assert float((cf.w_inv(RANK) - w_orbit).norm() / w_orbit.norm()) < 1e-10


def test_ridge_is_the_problem_with_pseudo_samples():
    group, x, y = random_problem(4, n=10)
    cf = closed_forms(x, y, group.rho, ridge=1e-2)
    d = x.shape[1]
    x_p = torch.cat([x, cf.eps**0.5 * torch.eye(d, dtype=F64)])
    y_p = torch.cat([y, torch.zeros(d, y.shape[1], dtype=F64)])
    cf_p = closed_forms(x_p, y_p, group.rho, ridge=0.0)
    for a, b in [(cf.w_inv(RANK), cf_p.w_inv(RANK)), (cf.w_da(RANK), cf_p.w_da(RANK)),
                 (cf.w_reg(0.1, RANK), cf_p.w_reg(0.1 * x.shape[0] / x_p.shape[0], RANK))]:
        assert float((a - b).norm() / b.norm()) < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_thm12_da_equals_hardwired_and_identity_42_for_unitary_rho(seed):
    group, x, y = random_problem(seed)
    cf = closed_forms(x, y, group.rho, ridge=1e-6)
    w_inv, w_da = cf.w_inv(RANK), cf.w_da(RANK)
    assert float((w_da - w_inv).norm() / w_inv.norm()) < 1e-10
    assert float((w_da @ cf.constraint).abs().max()) < 1e-10 * float(w_da.abs().max())
    lhs = cf.order * cf.gbar @ cf.q_inv @ cf.q_inv
    rhs = cf.p_inv @ cf.pi @ cf.p_inv
    assert float((lhs - rhs).norm() / rhs.norm()) < 1e-10


@pytest.mark.parametrize("strength", [0.5, 2.0])
def test_non_unitary_representation_keeps_thm12_but_not_identity_42(strength):
    """``S rho S^{-1}`` is a non-unitary representation of C4. Identity (42) fails, yet the DA optimum is still
    invariant and equal to the hard-wired one, with the same spectra ratio: ``Q^2`` commutes with the group
    (``rho Q^2 rho^T = Q^2``) and ``Z̄_da Q^{-1} G = 0`` for any representation of a finite group."""
    group, x, y = random_problem(5)
    rho = nonunitary(group, strength=strength)
    assert torch.allclose(torch.linalg.matrix_power(rho[1], 4), torch.eye(16, dtype=F64), atol=1e-10)
    assert float((rho[1] @ rho[1].T - torch.eye(16, dtype=F64)).norm()) > 0.5
    cf = closed_forms(x, y, rho, ridge=1e-6)
    w_inv, w_da = cf.w_inv(RANK), cf.w_da(RANK)
    assert float((w_inv @ cf.constraint).abs().max()) < 1e-10
    assert float((w_da @ cf.constraint).norm() / w_da.norm()) < 1e-10
    assert float((w_da - w_inv).norm() / w_inv.norm()) < 1e-10
    s_inv, s_da = torch.linalg.svdvals(cf.z_inv), torch.linalg.svdvals(cf.z_da)
    assert float((s_da / s_inv - 2).abs().max()) < 1e-10
    lhs = cf.order * cf.gbar @ cf.q_inv @ cf.q_inv
    rhs = cf.p_inv @ cf.pi @ cf.p_inv
    assert float((lhs - rhs).norm() / rhs.norm()) > 0.1
    # still the optimum of its own problem
    gen = torch.Generator().manual_seed(0)
    best = da_objective(w_da, x, y, rho, cf.eps)
    for _ in range(50):
        w = truncate_svd(w_da + random_rank_r((3, 16), RANK, gen, 0.1), RANK)
        assert da_objective(w, x, y, rho, cf.eps) >= best - 1e-12


def test_augmenting_with_part_of_the_group_is_not_invariant():
    """Augmenting with {I, rho(g)} (not a group) gives a non-invariant optimum, unlike the full orbit."""
    group, x, y = random_problem(7)
    cf = closed_forms(x, y, group.rho[:2], ridge=0.0)
    w_da = cf.w_da(RANK)
    assert float((w_da @ cf.constraint).norm() / w_da.norm()) > 1e-2


@pytest.mark.parametrize("seed", [0, 1])
def test_target_spectra_relations(seed):
    group, x, y = random_problem(seed, n=12, side=6, outputs=5)  # n < d_0, ridge matters
    cf = closed_forms(x, y, group.rho, ridge=1e-6)
    s_inv = torch.linalg.svdvals(cf.z_inv)
    s_da = torch.linalg.svdvals(cf.z_da)
    assert float((s_da - 2 * s_inv).abs().max() / s_inv[0]) < 1e-8  # sqrt(|G|) = 2
    assert torch.allclose(cf.z_da @ cf.z_da.T, 4 * cf.z_inv @ cf.z_inv.T, atol=1e-8 * float(s_da[0] ** 2))
    previous = None
    for lam in [1e-3, 1e-2, 1e-1, 1.0, 10.0, 1e6]:
        s_reg = torch.linalg.svdvals(cf.z_reg(lam))
        assert bool((s_reg >= s_inv - 1e-10).all())
        if previous is not None:
            assert bool((s_reg <= previous + 1e-10).all())
        previous = s_reg
    assert float((previous - s_inv).abs().max() / s_inv[0]) < 1e-4


def test_thm9_regularization_path_converges_to_hardwired_optimum():
    group, x, y = random_problem(6, n=12, side=6, outputs=5)
    cf = closed_forms(x, y, group.rho, ridge=1e-6)
    lambdas = [10.0**k for k in range(-3, 13)]
    path = regularization_path(cf, x, y, lambdas, rank=3)
    dist = path.distance_to_inv
    assert float(dist[-1]) < 1e-8
    assert bool((dist[4:][1:] <= dist[4:][:-1] * 1.0001).all())  # monotone once λ is large
    # rate: ||Ŵ_reg(λ) - Ŵ_inv|| = O(1/λ) for large λ (λ = 1e3 -> 1e4)
    assert 5 < float(dist[6] / dist[7]) < 20
    assert torch.allclose(cf.b_reg_inv(1e14), cf.pi, atol=1e-6)
    assert float(path.invariant_proportion[-1]) > 1 - 1e-12
    # continuity on a fine grid
    fine = torch.logspace(-1, 1, 201, dtype=F64).tolist()
    ws = torch.stack([cf.w_reg(lam, 3) for lam in fine])
    steps = (ws[1:] - ws[:-1]).norm(dim=(1, 2)) / ws[0].norm()
    assert float(steps.max()) < 0.01


def test_prop_b9_critical_points():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(5, 7, generator=gen, dtype=F64)
    u, s, vh = torch.linalg.svd(z, full_matrices=False)
    points = critical_points(z, RANK)
    assert len(points) == math.comb(5, RANK)
    for idx, w in points:
        assert float(riemannian_gradient(w, z, RANK).norm()) < 1e-10
        excluded = [i for i in range(5) if i not in idx]
        assert abs(float(((z - w) ** 2).sum()) - float((s[excluded] ** 2).sum())) < 1e-10
        # second-order test on the rank-r manifold: turn one kept singular pair (u_i, v_i) toward an excluded one
        loss = float(((z - w) ** 2).sum())
        lowered = False
        for i in idx:
            for j in excluded:
                t = 0.1
                u_t = math.cos(t) * u[:, i] + math.sin(t) * u[:, j]
                v_t = math.cos(t) * vh[i] + math.sin(t) * vh[j]
                w_t = w - s[i] * torch.outer(u[:, i], vh[i]) + (u_t @ z @ v_t) * torch.outer(u_t, v_t)
                lowered |= float(((z - w_t) ** 2).sum()) < loss - 1e-12
        assert lowered == (idx != tuple(range(RANK)))
        if not lowered:  # the top block: no rank-r perturbation lowers the loss
            for _ in range(100):
                w_p = truncate_svd(w + 0.01 * random_rank_r((5, 7), RANK, gen), RANK)
                assert float(((z - w_p) ** 2).sum()) >= loss - 1e-12
    best = points[0][1]
    assert torch.allclose(best, truncate_svd(z, RANK))


def test_mnist_subset_thm12_and_spectra():
    problem = mnist_problem(n_samples=200, seed=2)
    cf = closed_forms(problem.x, problem.y, problem.group.rho, ridge=1e-6)
    w_inv, w_da = cf.w_inv(5), cf.w_da(5)
    assert float((w_da - w_inv).norm() / w_inv.norm()) < 1e-6
    s_inv, s_da = torch.linalg.svdvals(cf.z_inv), torch.linalg.svdvals(cf.z_da)
    assert float((s_da / s_inv - 2).abs().max()) < 1e-8
    w_orbit = hardwired_optimum(problem.x, problem.y, problem.group.orbit_basis("orthonormal"), 5, ridge=1e-6)
    assert float((w_inv - w_orbit).norm() / w_orbit.norm()) < 1e-8
    assert float((cf.w_reg(1e12, 5) - w_inv).norm() / w_inv.norm()) < 1e-8
    acc = augmented_accuracy(w_inv, problem.x_aug, problem.labels_aug)
    assert acc == augmented_accuracy(w_inv, problem.x, problem.labels)  # invariant: every orbit member scores alike


def test_equivalent_representation_and_with_group():
    problem = mnist_problem(n_samples=20, seed=0)
    d = torch.diag(torch.linspace(1.0, 2.0, 196, dtype=F64))
    group = equivalent_representation(c4_rotations(14), d)
    for a in group.rho:
        for b in group.rho:
            assert min(float((a @ b - c).abs().max()) for c in group.rho) < 1e-10  # closed under products
    moved = with_group(problem, group)
    assert moved.x_aug.shape == (80, 196)
    expected = group.rho[1] @ problem.x[0].double()  # D rho(g) D^{-1} x
    assert torch.allclose(moved.x_aug[20].double(), expected, atol=1e-5)
    assert torch.equal(moved.labels_aug[20:40], problem.labels)


def test_pseudo_inverse_targets_agree_with_closed_forms_when_gram_is_invertible():
    group, x, y = random_problem(8)
    cf = closed_forms(x, y, group.rho, ridge=0.0)
    z_inv, z_da = pseudo_inverse_targets(x, y, group.rho)
    assert torch.allclose(z_inv, cf.z_inv, atol=1e-10) and torch.allclose(z_da, cf.z_da, atol=1e-10)


def test_parameter_hessian_classifies_critical_points_of_two_layer_networks():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(4, 6, generator=gen, dtype=F64)

    def loss(w):
        return ((z - w) ** 2).sum()

    for idx, w in critical_points(z, RANK):
        a, b = balanced_factors(w, RANK)
        assert torch.allclose(a @ b, w, atol=1e-12)
        eig, grad = parameter_hessian(loss, a, b)
        assert grad < 1e-10
        zero = 1e-9 * float(eig.abs().max())
        assert int((eig.abs() <= zero).sum()) == RANK**2  # the GL(r) symmetry
        assert (int((eig < -zero).sum()) == 0) == (idx == tuple(range(RANK)))


def test_critical_point_search_finds_only_listed_points():
    gen = torch.Generator().manual_seed(2)
    z = torch.randn(4, 5, generator=gen, dtype=F64)
    listed = [w for k in range(RANK + 1) for _, w in critical_points(z, k)]
    found = critical_point_search(lambda w: ((z - w) ** 2).sum(), (4, 5), RANK, starts=6, seed=0)
    converged = [w for w, g in found if g < 1e-9]
    assert len(converged) >= 3
    for w in converged:
        assert min(float((w - c).norm()) for c in listed) < 1e-6


def test_swap_descent_matches_prop_b9_closed_form():
    """Along the swap curve the loss falls by 2 σ_j (σ_k − σ_j) sin² t / ||Z||² for the best pair: positive exactly
    when I is not the top block."""
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(5, 8, generator=gen, dtype=torch.float64)
    s = torch.linalg.svdvals(z)
    t = 1e-2
    for idx, _ in critical_points(z, 2):
        expected = max(2 * s[j] * (s[k] - s[j]) * math.sin(t) ** 2 for j in idx for k in range(5) if k not in idx) / float((z**2).sum())
        assert swap_descent(z, idx, t) == pytest.approx(float(expected), rel=1e-6, abs=1e-15)
        assert (swap_descent(z, idx, t) > 0) == (tuple(idx) != (0, 1))
