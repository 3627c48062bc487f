import numpy as np
import torch

from invlearn.core import groups
from invlearn.core.groups import c4_rotations, constraint_matrix, orbit_basis, permutation_group, rotation_permutation
from invlearn.core.metrics import invariant_proportion, noninvariant_norm


def test_c4_elements_are_permutations_forming_a_group_of_order_4():
    g = c4_rotations(14)
    assert g.order == 4
    for r in g.rho:
        assert torch.all((r == 0) | (r == 1))
        assert torch.all(r.sum(0) == 1) and torch.all(r.sum(1) == 1)
    gen = g.rho[1]
    assert torch.equal(torch.linalg.matrix_power(gen, 4), torch.eye(196, dtype=gen.dtype))
    assert not torch.equal(torch.linalg.matrix_power(gen, 2), torch.eye(196, dtype=gen.dtype))
    # closed under products
    elements = {tuple(r.argmax(1).tolist()) for r in g.rho}
    for a in g.rho:
        for b in g.rho:
            assert tuple((a @ b).argmax(1).tolist()) in elements


def test_rotation_matches_numpy_rot90():
    img = np.arange(36.0).reshape(6, 6)
    g = c4_rotations(6)
    for k in range(4):
        rotated = (g.rho[k] @ torch.from_numpy(img.reshape(-1))).numpy().reshape(6, 6)
        np.testing.assert_array_equal(rotated, np.rot90(img, k))


def test_projector_is_symmetric_idempotent_with_rank_equal_to_orbit_count():
    g = c4_rotations(14)
    p = g.projector()
    assert torch.allclose(p, p.T) and torch.allclose(p @ p, p, atol=1e-12)
    assert int(torch.linalg.matrix_rank(p)) == len(g.orbits()) == 49
    G = g.constraint()
    assert torch.allclose(p, torch.eye(196, dtype=p.dtype) - G @ torch.linalg.pinv(G), atol=1e-10)


def test_orbits_and_basis():
    g = c4_rotations(14)
    orbits = g.orbits()
    assert [45, 52, 143, 150] in orbits and all(len(o) == 4 for o in orbits)
    b = g.orbit_basis("average")
    assert torch.allclose(b @ g.constraint(), torch.zeros(49, 196, dtype=b.dtype))
    assert torch.allclose(4 * b.T @ b, g.projector())
    bo = g.orbit_basis("orthonormal")
    assert torch.allclose(bo @ bo.T, torch.eye(49, dtype=bo.dtype)) and torch.allclose(bo.T @ bo, g.projector())


def test_invariant_matrix_has_zero_noninvariant_norm():
    g = c4_rotations(14)
    w_inv = torch.randn(9, 49, dtype=torch.float64) @ g.orbit_basis()
    assert float(noninvariant_norm(w_inv, g.projector())) < 1e-12
    assert abs(float(invariant_proportion(w_inv, g.projector())) - 1) < 1e-12
    assert torch.allclose(w_inv @ g.constraint(), torch.zeros(9, 196, dtype=w_inv.dtype), atol=1e-12)
    w = torch.randn(9, 196, dtype=torch.float64)
    assert float(noninvariant_norm(w, g.projector())) > 1.0
    assert float(invariant_proportion(w, g.projector())) < 0.5


def test_permutation_group_closure_and_multi_generator_constraint():
    s3 = permutation_group([[1, 0, 2], [1, 2, 0]])
    assert s3.order == 6
    assert s3.constraint().shape == (3, 6)
    # invariant maps of S3 on R^3 are multiples of (1, 1, 1)
    assert int(torch.linalg.matrix_rank(s3.projector())) == 1 == len(s3.orbits())
    assert torch.allclose(constraint_matrix(s3.rho[1]), torch.eye(3, dtype=torch.float64) - s3.rho[1])
    assert sorted(rotation_permutation(2, 1).tolist()) == [0, 1, 2, 3]
    assert orbit_basis([[0, 1, 2]], 3).sum() == 1


def test_seed_band():
    from invlearn.core.metrics import seed_band

    values = np.array([[1.0, 3.0], [2.0, 2.0], [0.0, 4.0]])
    mean, lo, hi = seed_band(values)
    np.testing.assert_array_equal(mean, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(lo, [1.0, 2.0, 0.0])
    np.testing.assert_array_equal(hi, [3.0, 2.0, 4.0])
    _, lo_sd, hi_sd = seed_band(values, "sd")
    np.testing.assert_allclose(hi_sd - mean, values.std(axis=1, ddof=1))
    assert np.all(lo_sd <= mean)


def test_seed_curves_draws_a_band_only_for_several_seeds():
    import matplotlib

    matplotlib.use("Agg")
    from invlearn.core.plotting import seed_curves

    x = np.arange(4)
    fig = seed_curves(x, {"DA": np.ones((4, 3)) * [[1, 2, 3]], "one": np.zeros((4, 1))}, xlabel="e", ylabel="v")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [2, 2, 2, 2])
    assert len(ax.collections) == 1  # one shaded band: the single-seed series has none


def test_orbit_labels_match_enumerated_orbits():
    group = groups.c4_rotations(5)
    labels = groups.orbit_labels([groups.rotation_permutation(5, 1)])
    for orbit in group.orbits():
        assert len(set(labels[orbit].tolist())) == 1
    assert labels.max() + 1 == len(group.orbits())


def test_orbit_projector_equals_group_average_and_is_orthogonal():
    group = groups.c4_rotations(7)
    proj = groups.OrbitProjector.from_generators([groups.rotation_permutation(7, 1)], (7, 7))
    w = torch.randn(3, 5, 7, 7, dtype=torch.float64)
    expected = (w.reshape(15, 49) @ group.projector().T).reshape(w.shape)
    assert torch.allclose(proj.project(w), expected, atol=1e-12)
    p = proj.project(w)
    assert torch.allclose(proj.project(p), p, atol=1e-12)
    assert abs(float(((w - p) * p).sum())) < 1e-10
    b = proj.basis()
    assert torch.allclose(b @ b.T, torch.eye(proj.dim, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(w.reshape(15, 49) @ b.T @ b, p.reshape(15, 49), atol=1e-12)


def test_orbit_projector_support_keeps_the_invariant_intersection():
    skew = np.zeros((3, 3), dtype=bool)
    skew[0, 1] = skew[1, 0] = skew[1, 2] = skew[2, 1] = skew[0, 0] = True  # 4 edges + one corner
    proj = groups.OrbitProjector.from_generators([groups.rotation_permutation(3, 1)], (3, 3), support=skew)
    assert proj.dim == 1  # only the edge orbit lies inside Ω' = ∩ gΩ
    k = torch.randn(3, 3, dtype=torch.float64)
    p = proj.project(k)
    edges = torch.tensor([k[0, 1], k[1, 0], k[1, 2], k[2, 1]]).mean()
    assert torch.allclose(p[0, 1], edges) and float(p[0, 0]) == 0.0 and float(p[1, 1]) == 0.0


def test_s_n_tuple_orbits_are_the_equality_patterns():
    n = 5
    transposition = np.array([1, 0, 2, 3, 4])
    cycle = np.roll(np.arange(n), 1)
    labels2 = groups.orbit_labels([groups.tuple_permutation(g, 2) for g in (transposition, cycle)])
    assert labels2.max() + 1 == 2  # diagonal and off-diagonal
    labels4 = groups.orbit_labels([groups.tuple_permutation(g, 4) for g in (transposition, cycle)])
    assert labels4.max() + 1 == 15  # Bell number B(4) (Maron et al. 2019)
    p = np.random.default_rng(0).permutation(n)
    a = torch.randn(n, n, dtype=torch.float64)
    pa = a[np.argsort(p)][:, np.argsort(p)]
    q = groups.tuple_permutation(p, 2)
    moved = torch.empty(n * n, dtype=torch.float64)
    moved[torch.as_tensor(q)] = a.reshape(-1)
    assert torch.allclose(moved.reshape(n, n), pa)
