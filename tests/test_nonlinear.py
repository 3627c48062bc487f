"""Two-layer nonlinear networks of Duan & Montúfar App. C.3: per-configuration activations, the batched trainer,
the held-out split and the invariance discrepancy ε_inv."""

import numpy as np
import pytest
import torch

from invlearn.duan.problem import mnist_problem
from invlearn.duan.nonlinear import heldout_split, median_invariance_discrepancy, nonlinear_key, orbit_outputs, train_nonlinear_methods
from invlearn.core.groups import c4_rotations
from invlearn.duan.metrics import invariance_discrepancy
from invlearn.core.models import BatchedMLP
from invlearn.core.training import TrainConfig, train

ACTS = ("leaky_relu", "relu", "swish", "tanh")


@pytest.fixture(scope="module")
def problem():
    return mnist_problem(n_samples=120, seed=3)


def test_mixed_activations_equal_single_activation_networks():
    x = torch.randn(30, 16, dtype=torch.float64)
    mixed = BatchedMLP((16, 5, 3), [0, 1, 2, 3], activation=list(ACTS), dtype=torch.float64)
    out = mixed(x)
    for k, act in enumerate(ACTS):
        single = BatchedMLP((16, 5, 3), [k], activation=act, dtype=torch.float64)
        torch.testing.assert_close(out[k : k + 1], single(x), rtol=0, atol=1e-14)
    with pytest.raises(ValueError):
        BatchedMLP((16, 5, 3), [0, 1], activation=["relu"])


def test_eps_inv_is_zero_exactly_for_an_invariant_network_and_positive_otherwise():
    group = c4_rotations(6, dtype=torch.float64)
    x = torch.randn(50, 36, dtype=torch.float64)
    basis = group.orbit_basis("average")
    invariant = BatchedMLP((36, 4, 3), [0, 1], activation="tanh", basis=basis, dtype=torch.float64)
    eps = invariance_discrepancy(orbit_outputs(invariant, group, x, chunk=17))
    assert eps.shape == (2, 50) and float(eps.abs().max()) < 1e-25
    free = BatchedMLP((36, 4, 3), [0, 1], activation="tanh", dtype=torch.float64)
    assert float(invariance_discrepancy(orbit_outputs(free, group, x)).min()) > 1e-6


def test_eps_inv_matches_the_papers_scalar_formula():
    orbit = torch.tensor([[1.0], [2.0], [3.0], [6.0]]).reshape(4, 1, 1)  # (|G|, n, c)
    mean = 3.0
    paper = np.mean([(1 - v / mean) ** 2 for v in (1.0, 2.0, 3.0, 6.0)])
    assert float(invariance_discrepancy(orbit)) == pytest.approx(paper)
    assert float(invariance_discrepancy(orbit, per_class=True)) == pytest.approx(paper)
    two = torch.cat([orbit, 2 * orbit], dim=-1)  # a second output, twice the first: same relative spread
    assert float(invariance_discrepancy(two)) == pytest.approx(paper)


def test_orbit_outputs_layout():
    group = c4_rotations(4, dtype=torch.float64)
    model = BatchedMLP((16, 3, 2), [0], activation="relu", dtype=torch.float64)
    x = torch.randn(5, 16, dtype=torch.float64)
    out = orbit_outputs(model, group, x, chunk=2)
    torch.testing.assert_close(out[0, 1], model(x @ group.rho[1].T)[0])


def test_batched_nonlinear_training_equals_separate_runs(problem):
    runs = train_nonlinear_methods(problem, activations=("relu", "tanh"), widths=(3,), epochs=15, lr=1e-2, seeds=(0, 1), log_every=5)
    assert runs.epochs.tolist() == [0, 5, 10, 15]
    basis = problem.group.orbit_basis("average").to(torch.float32)
    cfg = TrainConfig(epochs=15, loss="mse", lr=1e-2)
    for act in ("relu", "tanh"):
        for s, seed in enumerate((0, 1)):
            da = BatchedMLP((196, 3, 9), [seed], activation=act)
            alone = train(da, problem.x_aug, problem.y_aug, cfg).loss[:, 0]
            np.testing.assert_allclose(runs.loss[nonlinear_key(act, 3, "DA")][:, s], alone[[0, 5, 10, 15]], rtol=1e-5)
            hard = BatchedMLP((196, 3, 9), [seed], activation=act, basis=basis)  # basis inside the network
            alone = train(hard, problem.x, problem.y, cfg).loss[:, 0]
            np.testing.assert_allclose(runs.final_loss[nonlinear_key(act, 3, "constrained")][s], alone[-1], rtol=1e-5)
    assert runs.final_loss[nonlinear_key("relu", 3, "DA")][0] < runs.loss[nonlinear_key("relu", 3, "DA")][0, 0]


def test_constrained_network_is_invariant_and_da_network_is_not(problem):
    runs = train_nonlinear_methods(problem, activations=("swish",), widths=(4,), epochs=5, lr=1e-2)
    x = torch.randn(40, 196)
    medians = median_invariance_discrepancy(runs, problem.group, {"gaussian": x})
    assert set(medians) == {nonlinear_key("swish", 4, "DA")}
    assert medians[nonlinear_key("swish", 4, "DA")]["gaussian"][0] > 1e-4
    constrained = runs.models["constrained", 4]
    features = problem.group.act(x) @ problem.group.orbit_basis("average").to(torch.float32).T  # (|G|, n, 49)
    with torch.no_grad():
        outs = torch.stack([constrained(f) for f in features], dim=1)  # (K, |G|, n, c)
    assert float(invariance_discrepancy(outs).max()) < 1e-10


def test_heldout_split_is_disjoint_and_reports_reductions():
    split = heldout_split([100, 10**6], n_test=300, seed=0, min_test=50)
    assert split.x_test.shape[1] == 196 and len(split.labels_test) == len(split.test_indices)
    assert int(split.labels_test.max()) <= 8
    assert split.n_train[100] == 100 and split.reduced and split.n_train[10**6] < 10**6
    big, small = split.problems[10**6], split.problems[100]
    assert np.array_equal(small.indices, big.indices[:100])  # nested draws
    if split.test_source.startswith("embedded"):
        assert not set(split.test_indices.tolist()) & set(big.indices.tolist())
        assert split.n_train[10**6] + len(split.test_indices) == 4500  # the embedded non-9 pool, all used


def test_eps_inv_is_zero_where_the_network_is_zero_on_the_orbit():
    orbit = torch.zeros(4, 3, 2)
    orbit[:, 1, 0] = torch.tensor([1.0, 2.0, 3.0, 6.0])  # only input 1 varies over its orbit
    eps = invariance_discrepancy(orbit)
    assert eps[0] == 0 and eps[2] == 0 and eps[1] > 0
    assert torch.isfinite(invariance_discrepancy(orbit, per_class=True)).all()


def test_fig10_and_fig11_plots_have_their_facets_and_one_legend():
    from invlearn.core import plotting
    from invlearn.duan import plots as duan_plots

    x = np.arange(5)
    panels = {a: {"c": np.ones(5), "d": np.zeros(5)} for a in ("A", "B", "C", "D")}
    fig = plotting.panel_curves(x, panels, xlabel="Epoch", ylabel="Loss", colors={"c": 0, "d": 0}, shared_legend=True)
    assert [ax.get_title() for ax in fig.axes] == ["A", "B", "C", "D"]
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends[0].get_texts()) == 2
    assert fig.axes[0].lines[0].get_color() == fig.axes[0].lines[1].get_color()
    bars = {r: {c: {a: {"FALSE": 2.0, "TRUE": 1.0} for a in ("x", "y", "z")} for c in ("G", "M")} for r in ("N1", "N2")}
    fig = duan_plots.facet_bars(bars, xlabel="a", ylabel="b", legend_title="Bottleneck", log=True)
    assert len(fig.axes) == 4 and fig.axes[3].get_title() == "N2 | M" and fig.axes[0].get_yscale() == "log"
    assert sorted(p.get_height() for p in fig.axes[0].patches) == [1.0] * 3 + [2.0] * 3


def test_run_store_gives_the_batched_result_and_shares_seeds(problem, tmp_path):
    from invlearn.core.runcache import RunCache

    kw = dict(methods=("DA",), activations=("relu", "tanh"), widths=(3,), epochs=12, lr=1e-2, log_every=4)
    plain = train_nonlinear_methods(problem, seeds=(0, 1), **kw)
    cache = RunCache(tmp_path)
    first = train_nonlinear_methods(problem, seeds=(0,), cache=cache, **kw)
    both = train_nonlinear_methods(problem, seeds=(0, 1), cache=cache, **kw)
    assert [r["status"] for r in first.run_ids["DA", 3]] == ["computed"]
    assert [r["status"] for r in both.run_ids["DA", 3]] == ["reused", "computed"]
    for name in plain.loss:
        np.testing.assert_allclose(both.loss[name], plain.loss[name], rtol=1e-5)
    x = torch.randn(20, 196)
    torch.testing.assert_close(both.models["DA", 3](x), plain.models["DA", 3](x), rtol=1e-4, atol=1e-6)
