"""Tests of the S_10 graph-connectivity experiment (Flinth & Ohlsson A2): data, projections, training modes."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from invlearn.flinth import a2 as graphs

SMALL = dict(channels=(4, 8), hidden=8)  # narrow networks: same layer shapes per channel, fast


def union_find_connected(adj: np.ndarray) -> bool:
    """Connectivity by merging the endpoints of every edge (independent of the library's graph search)."""
    parent = list(range(adj.shape[0]))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(adj, 1))):
        parent[root(int(i))] = root(int(j))
    return len({root(i) for i in range(adj.shape[0])}) == 1


def test_labels_are_true_connectivity():
    data = graphs.graph_connectivity_data(1000, seed=0)
    adj = data.adjacency.numpy().astype(np.uint8)
    labels = data.labels.numpy().astype(bool)
    # independent check 1: number of zero Laplacian eigenvalues (float64) = number of components
    a = adj.astype(np.float64)
    lap = a.sum(axis=2)[:, :, None] * np.eye(10) - a
    components = (np.abs(np.linalg.eigvalsh(lap)) < 1e-8).sum(axis=1)
    np.testing.assert_array_equal(labels, components == 1)
    # independent check 2: union-find
    np.testing.assert_array_equal(labels, [union_find_connected(g) for g in adj])
    assert 0 < labels.sum() < len(labels)  # both classes occur


def test_sbm_graphs_are_simple_undirected_and_follow_the_blocks():
    adj = graphs.sbm_graphs(2000, seed=1)
    assert adj.shape == (2000, 10, 10)
    assert (adj == adj.transpose(0, 2, 1)).all() and (np.einsum("nii->ni", adj) == 0).all()
    pairs = 2 * 10 + 25  # intra- and inter-block pairs
    expected = (20 * 0.5 + 25 * 0.05) / pairs
    density = adj.sum() / 2 / (2000 * pairs)
    assert abs(density - expected) < 4 * (expected * (1 - expected) / (2000 * pairs)) ** 0.5
    # p = 1, q = 0: two disjoint 5-cliques, relabelled (not always the first five nodes)
    cliques = graphs.sbm_graphs(50, p=1.0, q=0.0, seed=2)
    assert (cliques.sum(axis=2) == 4).all() and not graphs.connectivity_labels(cliques).any()
    assert any(cliques[k, 0, 1:5].sum() < 4 for k in range(50))


def test_laplacian_threshold_rule_differs_only_by_marking_disconnected_graphs():
    data = graphs.graph_connectivity_data(1000, seed=0)
    adj = data.adjacency.numpy().astype(np.uint8)
    truth = data.labels.numpy().astype(bool)
    rule = graphs.laplacian_threshold_labels(adj)
    assert (rule[truth]).all()  # every connected graph has λ_2 well above 1e-15


def test_projectors_have_the_maron_orbit_counts_and_are_orthogonal():
    p1, p2 = graphs.s_n_projectors(10)
    assert p1.n_orbits == 15 and p2.n_orbits == 2
    w = torch.randn(3, 100, 100, dtype=torch.float64)
    pw = p1.project(w)
    assert torch.allclose(p1.project(pw), pw, atol=1e-13)
    assert abs(float(((w - pw) * pw).sum())) < 1e-9
    v = torch.randn(5, 2, 100, dtype=torch.float64)
    pv = p2.project(v).reshape(5, 2, 10, 10)
    diag = torch.einsum("abii->abi", pv)
    assert torch.allclose(diag, diag[..., :1].expand_as(diag))
    off = pv.masked_select(~torch.eye(10, dtype=torch.bool))
    assert torch.allclose(off.reshape(5, 2, 90), off.reshape(5, 2, 90)[..., :1].expand(5, 2, 90))


def _layer1_map(w1: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
    """Layer-1 pre-activation as the network computes it: ``(c1, 100, 100)``, ``(10, 10)`` -> ``(c1, 10, 10)``."""
    return (graphs.graph_inputs(adj) @ w1.reshape(-1, 100).T).reshape(w1.shape[0], 10, 10)


def test_projected_layer1_commutes_with_permutations():
    p1, _ = graphs.s_n_projectors(10)
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(2, 100, 100, dtype=torch.float64, generator=gen)
    adj = torch.as_tensor(graphs.sbm_graphs(1, seed=3)[0], dtype=torch.float64)
    perm = graphs.random_permutations(1, 10, gen)
    moved = graphs.permute_graphs(adj[None], perm)[0]
    for layer, equivariant in ((p1.project(w), True), (w, False)):
        lhs = _layer1_map(layer, moved)
        rhs = graphs.permute_graphs(_layer1_map(layer, adj), perm.expand(layer.shape[0], 10))
        assert torch.allclose(lhs, rhs, atol=1e-12) is equivariant


def test_network_with_projected_layers_is_invariant():
    gen = torch.Generator().manual_seed(1)
    net = graphs.init_graph_net(graphs.GraphNet(channels=(4, 8), hidden=8), gen).double()
    adj = torch.as_tensor(graphs.sbm_graphs(20, seed=4), dtype=torch.float64)
    moved = graphs.permute_graphs(adj, graphs.random_permutations(20, 10, gen))
    with torch.no_grad():
        net.head1.normal_(generator=gen)  # the head is never projected: invariance needs only layers 1-2 in E
        assert torch.allclose(net(graphs.graph_inputs(adj)), net(graphs.graph_inputs(moved)), atol=1e-12)
        net.layer2.add_(0.1 * torch.randn(net.layer2.shape, dtype=torch.float64, generator=gen))
        assert not torch.allclose(net(graphs.graph_inputs(adj)), net(graphs.graph_inputs(moved)), atol=1e-6)


def test_init_starts_in_e_with_the_specified_layer2():
    gen = torch.Generator().manual_seed(2)
    net = graphs.init_graph_net(graphs.GraphNet(), gen)
    start = tuple(w.detach().double().clone() for w in net.measured())
    moved, perp, code = graphs.layer_distances(net, start)
    assert moved == 0.0 and perp == 0.0 and code == 0.0
    assert (net.layer2 == net.layer2[:, :, :1]).all()  # constant over positions
    assert 0.08 < float(net.layer2.detach()[:, :, 0].std()) < 0.17  # N(0, 1/64): sd 1/8


def test_augmented_inputs_relabel_every_graph_independently():
    adj = torch.as_tensor(graphs.sbm_graphs(30, seed=5), dtype=torch.float32)
    gen = torch.Generator().manual_seed(3)
    x = graphs.augmented_inputs(adj, 4, gen)
    perms = graphs.random_permutations(120, 10, torch.Generator().manual_seed(3))
    assert x.shape == (120, 100)
    expected = graphs.graph_inputs(graphs.permute_graphs(adj.repeat(4, 1, 1), perms))
    assert torch.equal(x, expected)
    assert len({tuple(p.tolist()) for p in perms}) > 100  # independent draws, not one permutation per pass
    np.testing.assert_array_equal(  # each row is a relabelling of its graph: same degree sequence
        np.sort((x.reshape(120, 10, 10) + 0.5).sum(-1).numpy(), axis=1),
        np.sort(adj.repeat(4, 1, 1).sum(-1).numpy(), axis=1),
    )


def _first_step(data, seed, passes, lr):
    """Weights of the three modes before and after step 1 of :func:`graphs.train_graph_run`."""
    captured = {}

    def grab(step, models, _loss):
        captured[step] = copy.deepcopy(models)

    graphs.train_graph_run(data, seed, steps=1, aug_passes=passes, lr=lr, callbacks=[grab], **SMALL)
    return captured[0], captured[1]


def _grad(net, x, y):
    net = copy.deepcopy(net)
    nn.functional.binary_cross_entropy_with_logits(net(x), y).backward()
    return [p.grad.clone() for p in net.parameters()]


def test_one_step_of_each_mode_is_what_it_claims():
    data = graphs.graph_connectivity_data(200, seed=6)
    seed, passes, lr = 11, 3, 1e-2
    before, after = _first_step(data, seed, passes, lr)
    eqv, aug, nom = (graphs.MODES.index(m) for m in ("equivariant", "augmented", "nominal"))
    for k in range(3):  # identical starting copies
        for p, q in zip(before[0].parameters(), before[k].parameters()):
            assert torch.equal(p, q)
    x, y = graphs.graph_inputs(data.adjacency), data.labels
    # the augmentation draws of step 1: same generator, after the initialisation
    gen = torch.Generator().manual_seed(seed)
    graphs.init_graph_net(graphs.GraphNet(**SMALL), gen)
    x_aug = graphs.augmented_inputs(data.adjacency, passes, gen).reshape(passes, 200, 100)
    per_pass = [_grad(before[aug], x_aug[l], y) for l in range(passes)]
    mean_grad = [torch.stack(g).mean(0) for g in zip(*per_pass)]
    raw = _grad(before[nom], x, y)

    def update(k):
        return [(p0 - p1).detach() / lr for p0, p1 in zip(before[k].parameters(), after[k].parameters())]

    def close(a, b, rtol=1e-3):
        return all(float((u - v).norm()) <= rtol * float(v.norm()) for u, v in zip(a, b))

    assert close(update(aug), mean_grad)  # augmented: the gradient averaged over the L passes
    assert not close(update(aug), per_pass[0])  # ... not that of one pass
    assert close(update(nom), raw)  # nominal: the raw gradient
    p1, p2 = graphs.s_n_projectors(10)
    projected = [p1.project(raw[0].double()).float(), p2.project(raw[1].double()).float(), raw[2], raw[3]]
    assert close(update(eqv), projected)  # equivariant: Π_E of the raw gradient on layers 1-2, head unprojected
    assert not close(update(eqv), raw)


def test_equivariant_mode_stays_in_e_and_nominal_leaves_it():
    data = graphs.graph_connectivity_data(100, seed=7)
    runs = graphs.train_graph_runs(data, [0, 1], steps=4, aug_passes=2, lr=1e-2, **SMALL)
    eqv, nom = graphs.MODES.index("equivariant"), graphs.MODES.index("nominal")
    assert runs.perp.shape == (2, 5, 3) and runs.loss.shape == (2, 4, 3)
    assert runs.perp[:, :, eqv].max() < 1e-12
    assert runs.distance[:, -1, eqv].min() > 1e-4  # it did move
    assert runs.perp[:, -1, nom].min() > 1e-5
    assert (runs.perp[:, 0] == 0).all() and (runs.distance[:, 0] == 0).all()  # A⁰ is a real copy
    np.testing.assert_array_equal(runs.seeds, [0, 1])


def test_code_quantity_is_the_root_of_summed_fourth_powers():
    gen = torch.Generator().manual_seed(4)
    net = graphs.init_graph_net(graphs.GraphNet(**SMALL), gen)
    start = tuple(w.detach().double().clone() for w in net.measured())
    with torch.no_grad():
        net.layer1.add_(torch.randn(net.layer1.shape, generator=gen) * 1e-2)
        net.layer2.add_(torch.randn(net.layer2.shape, generator=gen) * 1e-3)
    _, perp, code = graphs.layer_distances(net, start)
    d = []
    for w, proj in zip(net.measured(), graphs.s_n_projectors(10)):
        w64 = w.detach().double()
        d.append(float((w64 - proj.project(w64)).norm()))
    assert perp == pytest.approx((d[0] ** 2 + d[1] ** 2) ** 0.5, rel=1e-12)
    assert code == pytest.approx((d[0] ** 4 + d[1] ** 4) ** 0.5, rel=1e-12)


def test_run_path_panels_draw_runs_and_their_median():
    import matplotlib

    matplotlib.use("Agg")
    from invlearn.flinth import plots as flinth_plots

    x = np.array([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0], [0.0, 3.0, 6.0]])
    y = 0.1 * x
    fig = flinth_plots.run_path_panels({"a": (x, y), "b": (x, 2 * y)}, styles={"a": ("green", "-"), "b": ("red", ":")},
                                   ylims=[1.0, 0.5], xlabel="x", ylabel="y")
    left, right = fig.axes
    assert len(left.lines) == 8 and right.get_ylim() == (0.0, 0.5)
    np.testing.assert_allclose(left.lines[3].get_xdata(), [0.0, 2.0, 4.0])  # median of the runs
    np.testing.assert_allclose(left.lines[7].get_ydata(), [0.0, 0.4, 0.8])
    assert left.lines[7].get_linestyle() == ":" and left.lines[7].get_linewidth() > left.lines[4].get_linewidth()


def test_start_gradients_are_the_nominal_gradient_at_the_runs_start_point():
    data = graphs.graph_connectivity_data(60, seed=1)
    found = graphs.start_gradients(data, [3, 4], **SMALL)
    assert found.norm.shape == found.perp.shape == (2,)
    assert np.all(found.perp > 0) and np.all(found.perp < found.norm)
    # the same start point as train_graph_run: its first nominal step moves the layers by lr · ‖∇R(A⁰)‖
    run = graphs.train_graph_run(data, 3, steps=1, aug_passes=1, lr=1e-3, **SMALL)
    nominal = graphs.MODES.index("nominal")
    np.testing.assert_allclose(run.distance[0, 1, nominal], 1e-3 * found.norm[0], rtol=1e-4)
    np.testing.assert_allclose(run.perp[0, 1, nominal], 1e-3 * found.perp[0], rtol=1e-4)


def test_augmentation_noise_is_the_perp_part_of_averaged_pass_gradients_and_shrinks():
    data = graphs.graph_connectivity_data(60, seed=1)
    noise = graphs.augmentation_noise(data, 5, 16, **SMALL)
    assert noise.shape == (16,) and np.all(noise > 0)
    # the first value is one augmented step with one pass: its E⊥ displacement is lr · noise[0]
    run = graphs.train_graph_run(data, 5, steps=1, aug_passes=1, lr=1e-3, **SMALL)
    np.testing.assert_allclose(run.perp[0, 1, graphs.MODES.index("augmented")], 1e-3 * noise[0], rtol=1e-4)
    # independent passes: roughly 1/√L (a factor 4 at L = 16), within a factor 2 either way
    assert 2.0 < noise[0] / noise[-1] < 8.0
