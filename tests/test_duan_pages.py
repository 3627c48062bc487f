"""invlearn.duan.pages: what the MSE pages of Figs 1–4 share with their cross-entropy twins (Figs 6–9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from invlearn.core.runcache import RunCache
from invlearn.core.settings import RUN_CACHE_ENV
from invlearn.duan import pages

LAMBDAS = [0.01, 0.1, 1.0]


def test_accuracy_checks_pass_and_fail_on_the_gaps():
    close = {"DA": 0.80, "constrained": 0.81, "reg_0.01": 0.5, "reg_0.1": 0.79, "reg_1": 0.7}
    best, checks = pages.accuracy_checks(close, LAMBDAS, 0.03)
    assert best == "reg_0.1" and list(checks.values()) == [True, True]
    assert list(checks)[0] == "|acc(DA) − acc(constrained)| = 0.0100 < 0.03"
    far = {**close, "constrained": 0.90}
    _, checks = pages.accuracy_checks(far, LAMBDAS, 0.03)
    assert list(checks.values()) == [False, False]  # DA vs constrained 0.10 apart; best λ 0.11 from constrained


def test_proportion_checks_read_the_curves():
    t = np.arange(5)
    mean = {"DA": 0.5 + 0.1249 * t, "reg_0.01": 0.5 + 0.05 * t, "reg_0.1": 0.5 + 0.1 * t, "reg_1": 0.5 + 0.12 * t}
    crossing = pages.proportion_crossing(t, mean, 0.9)
    assert crossing == {"DA": 4.0, "reg_0.01": math.inf, "reg_0.1": 4.0, "reg_1": 4.0}
    checks = pages.proportion_checks(mean, crossing, LAMBDAS, 0.9)
    assert list(checks) == ["every curve ends above its initial value", "DA ends above 0.99", "larger λ reaches 0.9 no later"]
    assert list(checks.values()) == [True, True, True]
    slow_large = {**mean, "reg_1": 0.5 + 0.09 * t}  # the largest λ never reaches 0.9
    checks = pages.proportion_checks(slow_large, pages.proportion_crossing(t, slow_large, 0.9), LAMBDAS, 0.9)
    assert checks["larger λ reaches 0.9 no later"] is False
    falling = {**mean, "DA": 0.9 - 0.01 * t}
    checks = pages.proportion_checks(falling, pages.proportion_crossing(t, falling, 0.9), LAMBDAS, 0.9)
    assert checks["every curve ends above its initial value"] is False and checks["DA ends above 0.99"] is False


def test_spread_checks_and_rows():
    ratio = np.array([0.05, 0.2])
    checks = pages.spread_checks(ratio, [0, 3], "relative spread", 0.1)
    assert checks == {"row 0: final/initial relative spread = 0.0500 < 0.1": True,
                      "row 3: final/initial relative spread = 0.2000 < 0.1": False}
    assert pages.by_row(np.array([[1.0, 2.0], [3.0, 4.0]]), [0, 3]) == {"0": [1.0, 3.0], "3": [2.0, 4.0]}


def test_limit_series_keeps_the_result_file_layout():
    epochs = np.arange(3)
    mean = {"DA": np.ones(3)}
    series = pages.limit_series(epochs, mean, {"DA": np.ones((3, 1))}, 0.0, closed_form={"reg_1": 0.2})
    assert list(series) == ["epoch", "DA", "constrained", "closed_form", "per_seed"]
    assert series["constrained"].dtype == float and not series["constrained"].any()


@pytest.fixture
def store(monkeypatch, tmp_path):
    monkeypatch.setenv(RUN_CACHE_ENV, str(tmp_path / "runs"))
    return RunCache(tmp_path / "runs")


def test_twin_pages_share_runs_through_the_store(store, monkeypatch):
    """A family page computes the runs, the next reuses them, the orbit page reuses the DA run; the store off
    gives the same numbers."""
    kw = dict(n_samples=120, data_seed=0, seeds=[0], hidden=5, epochs=20, lr=0.01, batch_size=0, lambdas=[0.01, 0.1])
    _, first = pages.linear_runs("ce", methods=("constrained", "DA", "regularized"), metrics=("accuracy",), **kw)
    _, second = pages.linear_runs("ce", methods=("DA", "regularized"), metrics=("invariant_proportion",), **kw)
    problem, orbit = pages.linear_runs("ce", methods=("DA",), metrics=("end_to_end",), **{**kw, "lambdas": ()})
    assert {v["status"] for v in first.run_ids.values()} == {"computed"}
    assert second.run_ids == {m: {**first.run_ids[m], "status": "reused"} for m in ("DA", "regularized")}
    assert orbit.run_ids == {"DA": {**first.run_ids["DA"], "status": "reused"}}
    assert len(list(store.root.glob("*.npz"))) == 3
    monkeypatch.setenv(RUN_CACHE_ENV, "off")
    _, fresh = pages.linear_runs("ce", methods=("DA",), metrics=("end_to_end", "invariant_proportion"), **kw)
    assert fresh.run_ids == {}
    np.testing.assert_array_equal(orbit.end_to_end["DA"], fresh.end_to_end["DA"])
    np.testing.assert_array_equal(second.invariant_proportion["DA"], fresh.invariant_proportion["DA"])
    weights = pages.orbit_weights(problem, orbit, [0, 2], [3, 3])
    assert weights.entries.shape == (21, 1, 2, 4) and len(weights.orbit) == 4
    series = pages.orbit_series(orbit.epochs, weights)
    assert set(series) == {"epoch", "row0", "row2", "per_seed"}
    np.testing.assert_array_equal(series["row2"][str(weights.orbit[1])], weights.entries[:, 0, 1, 1])


def test_final_end_to_end_is_the_last_logged_matrix(store):
    kw = dict(n_samples=60, data_seed=0, seeds=[0, 1], hidden=5, epochs=5, lr=0.01, batch_size=0, lambdas=[0.1])
    _, runs = pages.linear_runs("mse", methods=("DA", "regularized"), metrics=("end_to_end",), **kw)
    for name in ("DA", "reg_0.1"):
        assert runs.final_end_to_end[name].shape == (2, 9, 196)
        np.testing.assert_array_equal(runs.final_end_to_end[name], runs.end_to_end[name][-1])


def test_noninvariant_parts_against_a_direct_computation():
    """C4 on 4×4 images; the outer ring of pixels is 0 in every input (a union of orbits)."""
    from invlearn.core.groups import c4_rotations
    from invlearn.duan.metrics import noninvariant_parts

    group = c4_rotations(4, dtype=torch.float64)
    gbar = group.projector().numpy()
    rng = np.random.default_rng(0)
    inner = np.zeros((4, 4), dtype=bool)
    inner[1:3, 1:3] = True
    x = rng.normal(size=(7, 16)) * inner.reshape(-1)
    w = rng.normal(size=(3, 2, 16))
    parts = noninvariant_parts(w, gbar, x)
    w_perp = w - w @ gbar
    for k in range(3):
        assert np.isclose(parts["total"][k], np.sqrt((w_perp[k] ** 2).sum()))
        assert np.isclose(parts["unseen"][k], np.sqrt((w_perp[k][:, ~inner.reshape(-1)] ** 2).sum()))
        outputs = np.array([w[k] @ xi - w[k] @ (gbar @ xi) for xi in x])
        assert np.isclose(parts["on_data"][k], np.sqrt((outputs**2).sum(axis=1).mean()))
    np.testing.assert_allclose(parts["total"] ** 2, parts["unseen"] ** 2 + parts["seen"] ** 2)
    invariant = noninvariant_parts(w @ gbar, gbar, x)
    assert np.allclose(invariant["total"], 0) and np.allclose(invariant["on_data"], 0)
