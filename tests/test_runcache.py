"""The run store (invlearn.core.runcache) and Duan's linear programs stored in it: a changed protocol argument is a new
run, a stored run is reused without recomputing, two processes asking at once compute once, and a stored run
equals a fresh one."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest

from invlearn.core.runcache import RunCache, default_cache_dir, run_id
from invlearn.core.settings import RUN_CACHE_ENV

PROTOCOL = {"method": "DA", "epochs": 30, "lr": 0.01, "seeds": [0, 1], "data": {"n_samples": 200, "digest": "ab"}}


def counted(calls: list, value: float = 1.0):
    def compute():
        calls.append(1)
        return {"curve": np.arange(4.0) * value, "final": np.float32(value)}, {"note": "x"}
    return compute


def test_every_protocol_entry_changes_the_run_id():
    base = run_id(PROTOCOL)
    assert run_id(dict(PROTOCOL)) == base
    assert run_id({**PROTOCOL, "seeds": (0, 1)}) == base  # tuples and lists are the same protocol
    changed = [{**PROTOCOL, "epochs": 31}, {**PROTOCOL, "lr": 0.001}, {**PROTOCOL, "seeds": [0]},
               {**PROTOCOL, "method": "constrained"}, {**PROTOCOL, "data": {"n_samples": 200, "digest": "ac"}},
               {**PROTOCOL, "extra": None}]
    ids = {run_id(p) for p in changed}
    assert base not in ids and len(ids) == len(changed)


def test_a_stored_run_is_reused_not_recomputed(tmp_path):
    cache, calls = RunCache(tmp_path), []
    first = cache.get_or_compute(PROTOCOL, counted(calls))
    second = cache.get_or_compute(PROTOCOL, counted(calls, value=2.0))
    assert len(calls) == 1 and first.computed and not second.computed
    assert (first.status, second.status) == ("computed", "reused") and first.run_id == second.run_id
    np.testing.assert_array_equal(second.arrays["curve"], np.arange(4.0))
    assert second.arrays["final"].dtype == np.float32 and second.meta["protocol"]["epochs"] == 30
    other = cache.get_or_compute({**PROTOCOL, "epochs": 31}, counted(calls, value=3.0))
    assert len(calls) == 2 and other.computed and other.run_id != first.run_id
    np.testing.assert_array_equal(other.arrays["curve"], 3 * np.arange(4.0))
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary file


def test_a_refused_run_is_recomputed_and_replaced(tmp_path):
    cache, calls = RunCache(tmp_path), []
    cache.get_or_compute(PROTOCOL, counted(calls))
    run = cache.get_or_compute(PROTOCOL, counted(calls, value=5.0), accept=lambda stored: "missing" in stored.arrays)
    assert len(calls) == 2 and run.computed
    assert cache.load(run.run_id).arrays["final"] == np.float32(5.0)


def _slow_compute(root: str, log: str, barrier) -> tuple[str, bool, list[float]]:
    def compute():
        with open(log, "a") as f:
            f.write("computed\n")
        time.sleep(1.5)
        return {"curve": np.linspace(0, 1, 5)}, {}

    barrier.wait()
    run = RunCache(root).get_or_compute(PROTOCOL, compute)
    return run.run_id, run.computed, run.arrays["curve"].tolist()


def test_two_processes_asking_at_once_compute_once(tmp_path):
    log = tmp_path / "calls.log"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(2)
        with ctx.Pool(2) as pool:
            results = pool.starmap(_slow_compute, [(str(tmp_path / "store"), str(log), barrier)] * 2)
    assert log.read_text().count("computed") == 1
    assert sorted(r[1] for r in results) == [False, True]  # one computed, the other waited and loaded
    assert results[0][0] == results[1][0] and results[0][2] == results[1][2] == np.linspace(0, 1, 5).tolist()


def test_store_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(RUN_CACHE_ENV, str(tmp_path / "runs"))
    assert default_cache_dir() == tmp_path / "runs" and RunCache.from_env().root == tmp_path / "runs"
    monkeypatch.setenv(RUN_CACHE_ENV, "off")
    assert default_cache_dir() is None and RunCache.from_env() is None
    monkeypatch.delenv(RUN_CACHE_ENV)
    assert default_cache_dir() == Path.home() / ".cache" / "invlearn" / "runs"


# --- Duan's linear programs in the store -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def problem():
    from invlearn.duan.problem import mnist_problem
    return mnist_problem(n_samples=120, seed=0)


KW = dict(epochs=25, lr=0.01, seeds=[0, 1], lambdas=[0.01, 0.1])


def test_a_stored_linear_run_equals_a_fresh_one(problem, tmp_path):
    from invlearn.duan.linear import train_linear_methods

    cache = RunCache(tmp_path)
    fresh = train_linear_methods(problem, metrics=("accuracy", "end_to_end"), **KW)
    computed = train_linear_methods(problem, metrics=("accuracy", "end_to_end"), cache=cache, **KW)
    # another page reads other metrics of the same runs: every program is reused
    reused = train_linear_methods(problem, metrics=("noninvariant_norm", "invariant_proportion"), cache=cache, **KW)
    assert {v["status"] for v in computed.run_ids.values()} == {"computed"}
    assert {v["status"] for v in reused.run_ids.values()} == {"reused"}
    assert computed.run_ids.keys() == {"constrained", "DA", "regularized"}
    assert all(computed.run_ids[m]["id"] == reused.run_ids[m]["id"] for m in computed.run_ids)
    also = train_linear_methods(problem, metrics=("noninvariant_norm", "invariant_proportion"), **KW)
    for name in fresh.accuracy:
        for got in (computed, reused):
            np.testing.assert_array_equal(got.loss[name], fresh.loss[name])
            np.testing.assert_array_equal(got.final_accuracy[name], fresh.final_accuracy[name])
        np.testing.assert_array_equal(computed.accuracy[name], fresh.accuracy[name])
        np.testing.assert_array_equal(computed.end_to_end[name], fresh.end_to_end[name])
        np.testing.assert_array_equal(reused.noninvariant_norm[name], also.noninvariant_norm[name])
        np.testing.assert_array_equal(reused.invariant_proportion[name], also.invariant_proportion[name])
        assert not reused.accuracy  # only the metrics asked for are returned


def test_a_changed_linear_protocol_is_a_new_run(problem, tmp_path):
    from invlearn.duan.linear import train_linear_methods
    from invlearn.duan.problem import mnist_problem

    cache = RunCache(tmp_path)
    kw = {**KW, "methods": ("DA",), "metrics": ("accuracy",)}
    base = train_linear_methods(problem, cache=cache, **kw).run_ids["DA"]["id"]
    variants = [
        train_linear_methods(problem, cache=cache, **{**kw, "epochs": 26}),
        train_linear_methods(problem, cache=cache, **{**kw, "lr": 0.02}),
        train_linear_methods(problem, cache=cache, **{**kw, "seeds": [0]}),
        train_linear_methods(problem, cache=cache, **{**kw, "loss": "ce"}),
        train_linear_methods(problem, cache=cache, **{**kw, "hidden": 4}),
        train_linear_methods(problem, cache=cache, **{**kw, "batch_size": 60}),
        train_linear_methods(mnist_problem(n_samples=120, seed=1), cache=cache, **kw),
    ]
    ids = [v.run_ids["DA"] for v in variants]
    assert all(i["status"] == "computed" for i in ids)
    assert len({i["id"] for i in ids} | {base}) == len(ids) + 1
    # the λ grid is part of the regularized program only: DA is shared across grids
    grid = train_linear_methods(problem, cache=cache, **{**kw, "methods": ("DA", "regularized"), "lambdas": [1.0]})
    assert grid.run_ids["DA"] == {"id": base, "status": "reused"} and grid.run_ids["regularized"]["status"] == "computed"
