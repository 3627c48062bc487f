"""C4 CNN machinery (Flinth & Ohlsson, Nordenfors & Flinth; spec §2–§4): projectors, parametrisations, weight loading,
distance to E, batch makers, and the exact float64 checks N1–N3."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from invlearn.flinth import c4cnn as C
from invlearn.flinth import a1 as A1
from invlearn.flinth import data as FD
from invlearn.core.groups import rotation_permutation
from invlearn.core.training import train_steps

SMALL = (4, 6, 6)


def _images(n: int, seed: int = 0, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g, dtype=dtype), torch.randint(0, 10, (n,), generator=g)


def _net(support, parametrisation, seed=0, widths=SMALL, dtype=torch.float32):
    return C.c4_cnn(widths, support, parametrisation, torch.Generator().manual_seed(seed), dtype=dtype)


def _loaded(support, parametrisation, seed=0, widths=SMALL, dtype=torch.float64):
    """An unconstrained net loaded from a fresh equivariant net with the same support (a point of E)."""
    eq = _net(support, "equivariant", seed, widths, dtype)
    net = _net(support, parametrisation, seed + 100, widths, dtype)
    C.load_equivariant(net, eq)
    return eq, net


# ------------------------------------------------------------------------------------------------ actions, projectors


def test_rotate_is_rot90_and_matches_the_index_permutation():
    x = torch.arange(49.0).reshape(1, 1, 7, 7)
    for k in range(4):
        assert torch.equal(C.rotate(x, k), torch.rot90(x, k, dims=(-2, -1)))
        assert torch.equal(C.rotate(x, k).flatten(), x.flatten()[torch.from_numpy(rotation_permutation(7, k))])
    assert torch.equal(C.rotate(C.rotate(x, 3), 1), x)
    k = torch.tensor([0, 1, 2, 3])
    xs = torch.randn(4, 2, 5, 5)
    each = C.rotate_each(xs, k)
    for b in range(4):
        assert torch.equal(each[b], C.rotate(xs[b], b))


def test_supports_and_the_kept_orbits():
    assert C.SUPPORTS["cross"].sum() == 5 and C.SUPPORTS["skew"].sum() == 5 and C.SUPPORTS["full"].sum() == 9
    # Ω' = ∩ gΩ: cross and full are invariant, skew loses its corner and has no centre: only the 4 edges remain
    for name, kept in (("cross", "010111010"), ("skew", "010101010"), ("full", "111111111")):
        proj = C.kernel_projector(name)
        ones = proj.project(torch.ones(3, 3, dtype=torch.float64))
        assert "".join(str(int(v)) for v in (ones.flatten() != 0).tolist()) == kept
    basis = C.kernel_projector("full").basis().reshape(-1, 3, 3)  # corner ½, side ½, mid 1
    assert sorted(float(b.abs().max()) for b in basis) == [0.5, 0.5, 1.0]
    assert C.map_projector(7).dim == 13


@pytest.mark.parametrize("support", ["cross", "skew", "full"])
def test_projector_is_an_idempotent_orthogonal_projection_onto_rotation_invariant_kernels(support):
    proj = C.kernel_projector(support)
    g = torch.Generator().manual_seed(1)
    w, v = torch.randn(5, 4, 3, 3, generator=g, dtype=torch.float64), torch.randn(5, 4, 3, 3, generator=g, dtype=torch.float64)
    pw, pv = proj.project(w), proj.project(v)
    assert torch.allclose(proj.project(pw), pw, atol=1e-15)
    assert abs(float(((w - pw) * pv).sum())) < 1e-12  # w − Πw ⟂ E
    assert abs(float((pw * v).sum() - (w * pv).sum())) < 1e-12  # self-adjoint
    assert torch.allclose(C.rotate(pw), pw, atol=0)  # E is rotation-invariant
    assert torch.equal(pw[..., ~torch.from_numpy(C.support_mask(support))], torch.zeros_like(pw[..., ~torch.from_numpy(C.support_mask(support))]))
    lin = C.map_projector(7)
    m = torch.randn(3, 2, 7, 7, generator=g, dtype=torch.float64)
    assert torch.allclose(lin.project(m), sum(C.rotate(m, k) for k in range(4)) / 4, atol=1e-15)


# ---------------------------------------------------------------------------------------------------------- networks


def test_parameter_counts_of_the_a1_nets():
    widths = (32, 64, 64)
    assert C.count_parameters(C.c4_cnn(widths, "cross", "equivariant")) == 20_672
    assert C.count_parameters(C.c4_cnn(widths, "skew", "equivariant")) == 14_496
    for support in ("cross", "skew"):
        for par in ("pixel", "random"):
            assert C.count_parameters(C.c4_cnn(widths, support, par)) == 62_240
    # B1: full support, widths (16, 16)
    assert C.count_parameters(C.c4_cnn((16, 16), "full", "equivariant")) == 2_896
    assert C.count_parameters(C.c4_cnn((16, 16), "full", "pixel")) == 10_288


def test_layer_shapes_and_output():
    net = C.c4_cnn((16, 16), "full", "pixel")
    assert [tuple(w.shape) for w in net.weights()] == [(16, 1, 3, 3), (16, 16, 3, 3), (10, 16, 7, 7)]
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError):
        C.c4_cnn((16,), "full", "pixel")


def test_pooled_conv_equals_conv_then_average_pooling():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 4, 28, 28, generator=g, dtype=torch.float64)
    k = torch.randn(5, 4, 3, 3, generator=g, dtype=torch.float64)
    expected = F.avg_pool2d(F.conv2d(x, k, padding=1), 2)
    assert torch.allclose(C.pooled_conv(x, k), expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("support", ["cross", "skew", "full"])
def test_equivariant_net_is_invariant_and_lies_in_e(support):
    net = _net(support, "equivariant", dtype=torch.float64)
    x, _ = _images(4)
    out = net(x)
    for k in range(1, 4):
        assert torch.allclose(net(C.rotate(x, k)), out, atol=1e-12, rtol=0)
    assert C.distance_to_e(net) == 0.0
    unconstrained = _net(support, "pixel", dtype=torch.float64)
    assert C.distance_to_e(unconstrained) > 0.1


def test_equivariant_init_bounds_on_the_materialised_entries():
    net = C.c4_cnn((32, 64, 64), "cross", "equivariant", torch.Generator().manual_seed(3))
    weights = [w.detach() for w in net.weights()]
    for w, cin in zip(weights[:3], (1, 32, 64)):
        bound = cin ** -0.5
        assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.9 * bound
    lin = weights[-1]  # (10, 64, 7, 7)
    centre = lin[..., 3, 3]
    ring = lin.clone()
    ring[..., 3, 3] = 0
    assert 0.9 * 64 ** -0.5 < float(centre.abs().max()) <= 64 ** -0.5
    assert 0.9 * (12 * 64) ** -0.5 < float(ring.abs().max()) <= (12 * 64) ** -0.5


def test_random_basis_is_unit_norm_and_not_orthogonal():
    b = C.random_basis(C.SUPPORTS["cross"], torch.Generator().manual_seed(4)).flatten(1)
    assert torch.allclose(b.norm(dim=1), torch.ones(5, dtype=b.dtype), atol=1e-14)
    gram = b @ b.T
    assert float((gram - torch.eye(5, dtype=b.dtype)).abs().max()) > 0.05
    assert int(torch.linalg.matrix_rank(b)) == 5
    assert bool((b.reshape(-1, 3, 3)[:, ~torch.from_numpy(C.SUPPORTS["cross"])] == 0).all())


# ------------------------------------------------------------------------------------------------ loading, distances


def test_loading_an_equivariant_net_starts_on_e():
    x, _ = _images(3, dtype=torch.float32)
    for support in ("cross", "skew"):
        eq = _net(support, "equivariant", widths=(32, 64, 64))
        pix = _net(support, "pixel", 1, widths=(32, 64, 64))
        assert C.load_equivariant(pix, eq) == 0.0
        assert C.distance_to_e(pix) == 0.0  # pixel copies: exact
        assert torch.equal(pix(x), eq(x))
    eq = _net("cross", "equivariant", widths=(32, 64, 64))
    nu = _net("cross", "random", 1, widths=(32, 64, 64))
    assert C.load_equivariant(nu, eq) < 1e-12  # float64 least squares
    assert C.distance_to_e(nu) < 1e-4  # float32 coefficients: round-off
    assert torch.allclose(nu(x), eq(x), atol=1e-4)
    _, nu64 = _loaded("cross", "random", widths=(32, 64, 64))
    assert C.distance_to_e(nu64) < 1e-12


def test_set_weights_reports_weights_outside_the_span():
    net = _net("skew", "pixel", dtype=torch.float64)
    weights = [torch.zeros_like(w) for w in net.weights()]
    weights[0][0, 0, 1, 1] = 1.0  # the centre is not in the skew support
    assert abs(C.set_weights(net, weights) - 1.0) < 1e-12


def test_distance_is_the_norm_of_the_perpendicular_part():
    net = _net("skew", "random", dtype=torch.float64)
    d = C.layer_distances(net)
    assert d.shape == (4,)
    manual = [float((w - layer.projector.project(w)).norm()) for w, layer in zip([w.detach() for w in net.weights()], net.layers)]
    np.testing.assert_allclose(d, manual, rtol=1e-14)
    sq = C.perp_norm_sq(net)
    assert sq.requires_grad and abs(float(sq.detach()) - C.distance_to_e(net) ** 2) < 1e-10
    sq.backward()
    assert net.convs[0].coef.grad is not None


# ---------------------------------------------------------------------------------------------------------- batches


def test_rotated_copies_epoch_covers_every_image_under_every_rotation_once():
    n = 12
    x = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1) * torch.ones(1, 1, 28, 28)
    x[:, :, 0, 0] += 1000  # a marker that reveals the rotation
    labels = torch.arange(n)
    seen = []
    batches = list(FD.make_batches(x, labels, batch_size=5, epochs=1, mode="rotated_copies", generator=torch.Generator().manual_seed(0)))
    assert len(batches) == FD.n_batches(n, 5, "rotated_copies") == 10
    for xb, yb in batches:
        for img, y in zip(xb, yb):
            k = [j for j in range(4) if torch.equal(C.rotate(x[int(y)], j), img)]
            assert len(k) == 1
            seen.append((int(y), k[0]))
    assert sorted(seen) == [(i, k) for i in range(n) for k in range(4)]


def test_orbit_complete_and_random_rotation_batches():
    x, labels = _images(20, dtype=torch.float32)
    gen = torch.Generator().manual_seed(1)
    batches = list(FD.make_batches(x, labels, batch_size=8, epochs=2, mode="orbit_complete", generator=gen))
    assert len(batches) == 2 * FD.n_batches(20, 8, "orbit_complete") == 20
    for xb, yb in batches:
        q = xb.shape[0] // 4
        for k in range(4):
            assert torch.equal(xb[k * q : (k + 1) * q], C.rotate(xb[:q], k))
            assert torch.equal(yb[k * q : (k + 1) * q], yb[:q])
    steps = list(FD.make_batches(x, labels, batch_size=8, epochs=3, mode="random_rotation", generator=gen, shuffle=False, max_steps=4))
    assert len(steps) == 4 and FD.n_batches(20, 8, "random_rotation") == 3
    xb, yb = steps[0]
    assert torch.equal(yb, labels[:8])
    ks = [[j for j in range(4) if torch.equal(C.rotate(x[i], j), xb[i])] for i in range(8)]
    assert all(len(k) == 1 for k in ks) and len({k[0] for k in ks}) > 1
    with pytest.raises(ValueError):
        next(FD.make_batches(x, labels, batch_size=6, epochs=1, mode="orbit_complete", generator=gen))


def test_mse_one_hot_is_the_mean_over_batch_and_classes():
    net = _net("cross", "pixel", dtype=torch.float64)
    x, y = _images(5)
    out = net(x)
    manual = ((out - torch.eye(10, dtype=out.dtype)[y]) ** 2).sum() / 50
    assert abs(float((FD.mse_one_hot(net, (x, y)) - manual).detach())) < 1e-14


# ------------------------------------------------------------------------------------- exact checks N1-N3 (float64)


def _directions(net, x, y):
    net.zero_grad(set_to_none=True)
    FD.mse_one_hot(net, (x, y)).backward()
    return C.step_directions(net)


def _orbit_vs_projection(net, x, y):
    """(relative gap between the orbit-averaged direction and Π_E of the raw one, relative E⊥ part of the former)."""
    raw = _directions(net, x, y)
    aug = _directions(net, torch.cat([C.rotate(x, k) for k in range(4)]), y.repeat(4))
    proj = [layer.projector.project(d) for layer, d in zip(net.layers, raw)]
    norm = sum(float((a**2).sum()) for a in aug) ** 0.5
    gap = sum(float(((a - p) ** 2).sum()) for a, p in zip(aug, proj)) ** 0.5
    perp = sum(float(((a - layer.projector.project(a)) ** 2).sum()) for a, layer in zip(aug, net.layers)) ** 0.5
    return gap / norm, perp / norm


def test_n1_cross_unitary_orbit_averaged_gradient_is_the_projected_gradient():
    _, net = _loaded("cross", "pixel")
    x, y = _images(6)
    gap, perp = _orbit_vs_projection(net, x, y)
    assert gap < 1e-12 and perp < 1e-12


def test_n2_skew_and_non_unitary_orbit_averaged_gradient_leaves_e():
    x, y = _images(6)
    _, skew = _loaded("skew", "pixel")
    gap, perp = _orbit_vs_projection(skew, x, y)
    assert gap > 1e-3 and perp > 1e-3
    # skew: the whole E⊥ part sits in the corner entry (0, 0) of the kernels
    aug = _directions(skew, torch.cat([C.rotate(x, k) for k in range(4)]), y.repeat(4))
    for d, layer in zip(aug[:-1], skew.layers[:-1]):
        perp_part = d - layer.projector.project(d)
        corner = torch.zeros_like(perp_part)
        corner[..., 0, 0] = d[..., 0, 0]
        scale = float(d.abs().max())
        assert torch.allclose(perp_part, corner, atol=1e-13 * scale, rtol=0) and float(corner.abs().max()) > 1e-3 * scale
    assert float((aug[-1] - skew.linear.projector.project(aug[-1])).abs().max()) < 1e-13 * float(aug[-1].abs().max())
    _, nu = _loaded("cross", "random")
    gap, perp = _orbit_vs_projection(nu, x, y)
    assert gap > 1e-3 and perp > 1e-3


def test_n3_orbit_complete_gradient_steps_keep_cross_on_e_while_skew_and_non_unitary_drift():
    x, y = _images(24, seed=5)
    distances = {}
    for name, support, par in (("cross", "cross", "pixel"), ("skew", "skew", "pixel"), ("nu", "cross", "random")):
        _, net = _loaded(support, par, seed=7)
        batches = FD.make_batches(x, y, batch_size=16, epochs=2, mode="orbit_complete", generator=torch.Generator().manual_seed(0))
        log = C.DistanceLog()
        train_steps(net, batches, FD.mse_one_hot, torch.optim.SGD(net.parameters(), lr=0.05), callbacks=[log])
        distances[name] = np.asarray(log.values)
    assert len(distances["cross"]) == 1 + 2 * FD.n_batches(24, 16, "orbit_complete")
    assert distances["cross"].max() < 1e-13
    for name in ("skew", "nu"):
        assert distances[name][0] < 1e-13 and distances[name][-1] > 1e-5
        assert distances[name][-1] > distances[name][1]


# ---------------------------------------------------------------------------------------------------- A1 protocol


def test_epoch_means_prepend_the_start_and_average_partial_epochs():
    per_step = np.array([[0.0, 1, 2, 3, 4, 5], [1.0, 1, 1, 1, 1, 1]])
    np.testing.assert_allclose(A1.epoch_means(per_step, 2), [[0.0, 1.5, 3.5, 5.0], [1.0, 1.0, 1.0, 1.0]])


def test_run_a1_records_every_step_and_starts_on_e():
    x, labels = _images(40, seed=3, dtype=torch.float32)
    data = FD.ImageData(x=x, labels=labels, mean=0.0, std=1.0, indices=np.arange(40), source="random")
    runs = {}
    for name in A1.A1_CONFIGS:
        runs[name] = run = A1.run_a1(data, name, 0, widths=(4, 4), equi_epochs=1, aug_epochs=2, batch_size=20, equi_lr=0.01,
                       aug_lr=0.01, orbit_steps=5, eval_images=(x[:10], labels[:10]))
        assert run.equi_loss.shape == (2,) and run.aug_loss.shape == (16,)
        assert run.aug_distance.shape == (17,) and run.orbit_distance.shape == (6,)
        assert run.aug_distance[0] < 1e-5 and run.aug_distance[-1] > 0
        assert run.orbit_distance[0] == run.aug_distance[0]
        assert set(run.evaluation) == {"equivariant", "augmented"} and 0 <= run.evaluation["augmented"][1] <= 1
        if name == "Cross":
            assert run.aug_distance[0] == 0.0 and run.orbit_distance.max() < 1e-5
        else:
            assert run.orbit_distance[-1] > 1e-4
    again = A1.run_a1(data, "Skew", 0, widths=(4, 4), equi_epochs=1, aug_epochs=1, batch_size=20, equi_lr=0.01, aug_lr=0.01,
                     aug_steps=3)
    np.testing.assert_array_equal(again.aug_distance, runs["Skew"].aug_distance[:4])  # seeded: same run, phase 2 capped


def test_runs_panels_draw_thin_runs_under_a_thick_median():
    from invlearn.flinth import plots as flinth_plots

    x = np.arange(5)
    values = np.vstack([x, 2 * x, 4 * x]).astype(float)
    fig = flinth_plots.runs_panels([flinth_plots.RunsPanel(xlabel="Batch", ylabel="d", runs={"A": (x, values)},
                                                   colors={"A": "#D81B60"}, ylim=(0, 0.01), sci=True)],
                               suptitle="Experimental results")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4 and [ln.get_linewidth() for ln in lines] == [0.5, 0.5, 0.5, 2.0]
    np.testing.assert_array_equal(lines[-1].get_ydata(), 2 * x)
    assert fig.axes[0].get_ylim() == (0, 0.01) and fig._suptitle.get_text() == "Experimental results"


def test_mnist_images_name_the_data_they_were_drawn_from():
    from invlearn.core.data import EMBEDDED_MNIST_LABEL, FULL_MNIST_LABEL, find_mnist_dir

    data = FD.mnist_images(40, seed=0)
    assert data.x.shape == (40, 1, 28, 28)
    assert data.label == (FULL_MNIST_LABEL if find_mnist_dir() is not None else EMBEDDED_MNIST_LABEL)
