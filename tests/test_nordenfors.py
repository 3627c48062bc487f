"""Nordenfors & Flinth B1 (spec §7): the off-E perturbation, the stacked lockstep nets, the fixed-order and
per-image-rotated batches, the regularised objective and the exact check N4."""

import numpy as np
import pytest
import torch

from invlearn.flinth import c4cnn as C
from invlearn.flinth import a1 as A1
from invlearn.flinth import b1 as N
from invlearn.core.training import train_steps

B1_WIDTHS = (16, 16)


def _pixel_on_e(seed: int = 0, widths=B1_WIDTHS, dtype=torch.float64, support="full"):
    gen = torch.Generator().manual_seed(seed)
    eq = C.c4_cnn(widths, support, "equivariant", gen, dtype=dtype)
    net = C.c4_cnn(widths, support, "pixel", gen, dtype=dtype)
    C.load_equivariant(net, eq)
    return net


def _split(net):
    """(E parts, E⊥ parts) of the materialised float64 weights."""
    ws = [w.detach() for w in net.weights(dtype=torch.float64)]
    par = [layer.projector.project(w) for layer, w in zip(net.layers, ws)]
    return par, [w - p for w, p in zip(ws, par)]


def _images(n: int, seed: int = 0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g, dtype=dtype), torch.randint(0, 10, (n,), generator=g)


# ------------------------------------------------------------------------------------------------------ perturbation


def test_perturbation_is_orthogonal_to_e_with_the_requested_size():
    net = _pixel_on_e()
    before_par, before_perp = _split(net)
    assert sum(float((p**2).sum()) for p in before_perp) == 0.0
    sigma = 1e-3
    norm = C.perturb_off_e(net, sigma, torch.Generator().manual_seed(1))
    after_par, after_perp = _split(net)
    for a, b in zip(after_par, before_par):  # the E component is untouched: Π_E Δ = 0
        assert torch.allclose(a, b, atol=1e-15, rtol=0)
    assert abs(C.distance_to_e(net) - norm) < 1e-12 * norm
    dim_perp = C.count_parameters(net) - C.count_parameters(C.c4_cnn(B1_WIDTHS, "full", "equivariant"))
    assert dim_perp == 7_392
    # ‖Δ‖² / σ² is chi-square with 7,392 degrees of freedom: relative sd of ‖Δ‖ is 1/sqrt(2·7392) ≈ 0.8 %
    assert abs(norm / (sigma * dim_perp**0.5) - 1) < 0.04
    # independent draws differ, same seed repeats
    other = _pixel_on_e()
    assert abs(C.perturb_off_e(other, sigma, torch.Generator().manual_seed(2)) - norm) > 1e-9
    again = _pixel_on_e()
    assert C.perturb_off_e(again, sigma, torch.Generator().manual_seed(1)) == norm


def test_perturbation_in_float32_and_on_a_smaller_support():
    net = _pixel_on_e(dtype=torch.float32)
    norm = C.perturb_off_e(net, 1e-3, torch.Generator().manual_seed(3))
    assert abs(C.distance_to_e(net) / norm - 1) < 1e-5  # float32 coefficients: round-off only
    cross = _pixel_on_e(support="cross")
    norm = C.perturb_off_e(cross, 1e-2, torch.Generator().manual_seed(4))
    for w in cross.weights()[:-1]:  # stays inside Ω
        assert bool((w[..., ~torch.from_numpy(C.SUPPORTS["cross"])] == 0).all())
    assert abs(C.distance_to_e(cross) - norm) < 1e-12 * norm
    with pytest.raises(ValueError):  # an equivariant net cannot leave E
        C.perturb_off_e(C.c4_cnn(B1_WIDTHS, "full", "equivariant", dtype=torch.float64), 1e-3, torch.Generator())


# ------------------------------------------------------------------------------------------------------ stacked nets


def _stack(k: int, dtype=torch.float64, widths=(4, 6)):
    nets = []
    for i in range(k):
        net = _pixel_on_e(i, widths, dtype)
        C.perturb_off_e(net, 0.05, torch.Generator().manual_seed(10 + i))
        nets.append(net)
    return nets, C.StackedC4CNN(nets)


def test_stacked_forward_distances_and_members_match_the_standalone_nets():
    nets, model = _stack(3)
    x, _ = _images(5, dtype=torch.float64)
    xs = torch.stack([x, C.rotate(x), x.flip(-1)])
    out = model(xs)
    assert out.shape == (3, 5, 10)
    for k, net in enumerate(nets):
        assert torch.allclose(out[k], net(xs[k]), atol=1e-12, rtol=0)
        assert torch.equal(model.member(k).convs[1].coef, net.convs[1].coef)
    np.testing.assert_allclose(model.distances(), [C.distance_to_e(n) for n in nets], rtol=1e-13)
    np.testing.assert_allclose(model.perp_norm_sq().detach().numpy(), [float(C.perp_norm_sq(n).detach()) for n in nets], rtol=1e-12)
    assert C.count_parameters(model) == 3 * C.count_parameters(nets[0])
    with pytest.raises(ValueError):
        C.StackedC4CNN([nets[0], C.c4_cnn((4, 6), "full", "equivariant", dtype=torch.float64)])


def test_a_lockstep_sgd_step_is_every_member_s_standalone_step():
    nets, model = _stack(2)
    x, y = _images(6, dtype=torch.float64)
    xs = torch.stack([x, C.rotate(x, 2)])
    gammas = torch.tensor([0.5, 3.0], dtype=torch.float64)
    train_steps(model, [(xs, y)], N.regularised_loss(gammas), torch.optim.SGD(model.parameters(), lr=0.1))
    for k, net in enumerate(nets):
        gamma = float(gammas[k])
        train_steps(net, [(xs[k], y)], lambda m, b, g=gamma: A1.ce_over_batch(m, b) + g / 2 * C.perp_norm_sq(m),
                    torch.optim.SGD(net.parameters(), lr=0.1))
        for stacked, own in zip(model.coefs, net.parameters()):
            assert torch.allclose(stacked[k], own, atol=1e-14, rtol=0)


def test_ce_over_batch_is_the_mean_cross_entropy_divided_by_the_batch_size():
    net = _pixel_on_e(widths=(4, 6))
    x, y = _images(8, dtype=torch.float64)
    logits = net(x)
    manual = -torch.log_softmax(logits, 1)[torch.arange(8), y].sum() / 8 / 8
    assert abs(float((A1.ce_over_batch(net, (x, y)) - manual).detach())) < 1e-15


def test_regularised_loss_gradient_is_data_gradient_plus_gamma_times_the_perp_part():
    nets, model = _stack(2)
    x, y = _images(4, dtype=torch.float64)
    xs = torch.stack([x, x])
    gammas = torch.tensor([2.0, 7.0], dtype=torch.float64)
    N.regularised_loss(gammas)(model, (xs, y)).backward()
    for k, net in enumerate(nets):
        net.zero_grad()
        A1.ce_over_batch(net, (x, y)).backward()
        _, perp = _split(net)
        for layer, stacked_grad, w_perp in zip(net.layers, model.coefs, perp):
            expected = layer.coef.grad + float(gammas[k]) * w_perp.reshape(layer.coef.shape)  # pixel basis: coef = entry
            assert torch.allclose(stacked_grad.grad[k], expected, atol=1e-13, rtol=0)


# --------------------------------------------------------------------------------------------------- exact check N4


@pytest.mark.parametrize("lr,gamma", [(1e-3, 1e2), (1e-3, 1.0), (0.05, 10.0)])
def test_n4_the_penalty_alone_shrinks_the_perp_part_by_one_minus_lr_gamma_per_step(lr, gamma):
    net = _pixel_on_e(widths=(6, 8))
    C.perturb_off_e(net, 0.1, torch.Generator().manual_seed(5))
    par0, perp0 = _split(net)
    log = C.DistanceLog()
    steps = 30
    train_steps(net, range(steps), lambda m, _: gamma / 2 * C.perp_norm_sq(m), torch.optim.SGD(net.parameters(), lr=lr),
                callbacks=[log])
    par, perp = _split(net)
    factor = (1 - lr * gamma) ** steps
    for a, b in zip(par, par0):
        assert torch.allclose(a, b, atol=1e-15, rtol=0)
    for a, b in zip(perp, perp0):
        assert torch.allclose(a, factor * b, atol=1e-14 * float(b.abs().max()), rtol=0)
    expected = N.penalty_decay(log.values[0], lr, gamma, np.arange(steps + 1))
    np.testing.assert_allclose(log.values, expected, rtol=1e-10, atol=1e-13 * log.values[0])  # float64 floor


def test_n4_lr_gamma_one_projects_onto_e_in_one_step_and_above_two_diverges():
    net = _pixel_on_e(widths=(6, 8))
    C.perturb_off_e(net, 0.1, torch.Generator().manual_seed(6))
    d0 = C.distance_to_e(net)
    train_steps(net, [None], lambda m, _: 50.0 / 2 * C.perp_norm_sq(m), torch.optim.SGD(net.parameters(), lr=0.02))
    assert C.distance_to_e(net) < 1e-13 * d0
    C.perturb_off_e(net, 0.1, torch.Generator().manual_seed(7))
    d0 = C.distance_to_e(net)
    train_steps(net, range(5), lambda m, _: 125.0 / 2 * C.perp_norm_sq(m), torch.optim.SGD(net.parameters(), lr=0.02))
    assert abs(C.distance_to_e(net) / d0 - 1.5**5) < 1e-10


# ----------------------------------------------------------------------------------------------------------- batches


def test_lockstep_batches_fixed_order_and_independent_rotations():
    n, b = 12, 5
    x = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(8))
    labels = torch.arange(n)
    layout = N.Layout((0.1, 10.0), runs=2)
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    batches = list(N.lockstep_batches(x, labels, batch_size=b, steps=7, layout=layout, rotation_generators=gens))
    assert len(batches) == 7
    order = [list(range(0, 5)), list(range(5, 10)), [10, 11]] * 3  # fixed order, cycling, last batch partial
    rotations = {}
    for step, (xs, ys) in enumerate(batches):
        assert torch.equal(ys, labels[order[step]])
        assert xs.shape == (layout.n_members, len(order[step]), 1, 28, 28)
        for g, run, mode in layout.members():
            xb = xs[layout.index(g, run, mode)]
            if mode == "nominal":
                assert torch.equal(xb, x[order[step]])
                continue
            ks = []
            for img, i in zip(xb, order[step]):
                k = [j for j in range(4) if torch.equal(C.rotate(x[i], j), img)]
                assert len(k) == 1
                ks.append(k[0])
            rotations.setdefault((run, step), []).append(ks)
    all_k = [k for (run, _), per_gamma in rotations.items() for k in per_gamma[0]]
    assert set(all_k) == {0, 1, 2, 3}  # every rotation occurs
    for (run, step), per_gamma in rotations.items():
        assert per_gamma[0] == per_gamma[1]  # the same rotations for the run at every γ
    for per_gamma in rotations.values():  # images of one batch are rotated independently (full batches of 5)
        assert len(per_gamma[0]) < 5 or len(set(per_gamma[0])) > 1
    assert any(rotations[(0, s)][0] != rotations[(1, s)][0] for s in range(7))  # runs draw their own rotations
    with pytest.raises(ValueError):
        next(N.lockstep_batches(x, labels, batch_size=b, steps=1, layout=layout, rotation_generators=gens[:1]))


def test_layout_order_and_unstack():
    layout = N.Layout((0.01, 1.0, 100.0), runs=2)
    assert layout.n_members == 12
    assert [layout.index(*m) for m in layout.members()] == list(range(12))
    values = np.arange(12)[None, :] * np.ones((3, 1))  # (T, K): member index at every step
    grid = layout.unstack(values)
    assert grid.shape == (3, 2, 2, 3)
    for g, r, m in layout.members():
        assert (grid[g, N.MODES.index(m), r] == layout.index(g, r, m)).all()
    np.testing.assert_array_equal(layout.member_gammas().numpy(), [0.01] * 4 + [1.0] * 4 + [100.0] * 4)


def test_series_steps_keeps_the_head_and_the_end():
    s = N.series_steps(2000)
    assert s[0] == 0 and s[-1] == 2000 and (np.diff(s) > 0).all()
    assert set(range(101)) <= set(s.tolist()) and len(s) < 520
    assert N.series_steps(50).tolist() == list(range(51))
    np.testing.assert_allclose(N.penalty_decay(np.array([2.0]), 1e-3, 100.0, np.array([0, 1, 2])), [[2.0, 1.8, 1.62]])


def test_train_b1_starts_every_net_at_its_perturbation_and_logs_every_step():
    x, y = _images(30, seed=9)
    res = N.train_b1(x, y, gammas=[0.01, 100.0], runs=2, steps=4, lr=1e-3, batch_size=10, widths=(4, 4), sigma=1e-3,
                     seed=3)
    assert res.distances.shape == (2, 2, 2, 5) and res.losses.shape == (4,)
    for g in range(2):  # same start for every γ, the perturbation's norm (float32 round-off)
        np.testing.assert_allclose(res.distances[g, :, :, 0], res.perturbation_norms.T, rtol=1e-5)
    assert res.perturbation_norms[0, 0] != res.perturbation_norms[0, 1]  # independent perturbations
    # γ = 100: the penalty dominates, one step shrinks the distance by about (1 − ηγ) = 0.9
    np.testing.assert_allclose(res.distances[1, :, :, 1] / res.distances[1, :, :, 0], 0.9, atol=0.01)


def test_log_run_panels_draws_runs_medians_and_the_overlay():
    import matplotlib

    matplotlib.use("Agg")
    from invlearn.flinth.plots import log_run_panels

    x = np.arange(5)
    runs = np.array([[1.0, 0.5, 0.25, 0.1, 0.1], [2.0, 1.0, 0.5, 0.3, 0.2], [3.0, 2.0, 1.0, 0.5, 0.4]])
    fig = log_run_panels(x, [{"a": runs, "b": runs / 10}, {"a": runs}], styles={"a": ("tab:blue", "-"), "b": ("tab:red", "--")},
                         titles=["one", "two"], xlabel="step", ylabel="d", ylim=(1e-3, 10),
                         overlays=[(x, 0.9**x), None], overlay_label="N4")
    first, second = fig.axes
    assert first.get_title() == "one" and first.get_yscale() == "log" and first.get_ylim() == (1e-3, 10)
    assert len(first.lines) == 2 * (3 + 1) + 1 and len(second.lines) == 3 + 1  # runs + median per series, overlay
    np.testing.assert_array_equal(first.lines[3].get_ydata(), np.median(runs, axis=0))
    assert [t.get_text() for t in first.get_legend().get_texts()] == ["a", "b", "N4"]
