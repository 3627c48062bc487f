"""Sweeps on a throwaway book: grid expansion and validation, failure isolation, resume after an interruption,
collection, and identical results from the local and Dask backends."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, invlearn
from invlearn.book import runner, sweep
from test_runner import TINY, default_sigint

SWEEP_FILE = """notebook: tiny
description: the tiny notebook over values and scales
parameters: {scale: 2.0}
grid:
  value: [1, 2, 3]
  fail: [false]
quick:
  grid: {value: [5]}
"""


@pytest.fixture()
def book(tmp_path: Path) -> Path:
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "notebooks" / "profiles").mkdir(parents=True)
    (tmp_path / "notebooks" / "tiny.py").write_text(TINY.replace("scale = 1.5  #", "seed = 0  # a seed [allowed: ≥ 0]\nscale = 1.5  #"))
    (tmp_path / "notebooks" / "profiles" / "quick.yaml").write_text("tiny:\n  sleep: 0.0\n")
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "values.yaml").write_text(SWEEP_FILE)
    return tmp_path


def _manifest(book: Path, name: str) -> dict:
    return json.loads((book / "sweeps_out" / name / "manifest.json").read_text())


def _staging_dirs(book: Path) -> list[Path]:
    return [p for p in (book / "sweeps_out").rglob(".*") if p.is_dir()]


# --- grid parsing, expansion, validation (no kernel) -------------------------------------------------------------


def test_parse_grid_values_splits_on_top_level_commas():
    assert sweep.parse_grid_values("lr=1e-3,0.01") == ("lr", [0.001, 0.01])
    assert sweep.parse_grid_values("lambdas=[0.1, 1],[2],0.5") == ("lambdas", [[0.1, 1], [2], 0.5])
    assert sweep.parse_grid_values("loss='a,b',ce") == ("loss", ["a,b", "ce"])
    assert sweep.parse_grid_values("flag=true,false") == ("flag", [True, False])
    with pytest.raises(runner.ParameterError):
        sweep.parse_grid_values("lr=0.1,,0.2")
    assert sweep.grid_values("lam", {"logspace": [-4, 1, 6]}) == [0.0001, 0.001, 0.01, 0.1, 1.0, 10.0]
    assert sweep.grid_values("lam", {"logspace": [-4, 1, 16]})[1] == 0.0002154
    assert sweep.grid_values("x", {"linspace": [0, 1, 3]}) == [0.0, 0.5, 1.0] and sweep.grid_values("x", 3) == [3]


def test_expand_is_the_product_with_seeds_last_and_validated(book):
    spec = sweep.SweepSpec(name="s", notebook="tiny", grid={"value": [1, 2], "scale": [1, 0.5]}, seeds=3)
    nb, points = sweep.expand(spec, book)
    assert nb.name == "tiny" and len(points) == 12
    assert [p.coords for p in points[:4]] == [
        {"value": 1, "scale": 1, "seed": 0}, {"value": 1, "scale": 1, "seed": 1},
        {"value": 1, "scale": 1, "seed": 2}, {"value": 1, "scale": 0.5, "seed": 0}]
    assert points[0].parameters == {"value": 1, "scale": 1.0, "seed": 0}  # int accepted for float, as with -p
    assert len({p.id for p in points}) == 12
    # the same sweep gives the same point ids; another profile gives others
    assert [p.id for p in sweep.expand(spec, book)[1]] == [p.id for p in points]
    quick = sweep.SweepSpec(name="s", notebook="tiny", grid={"value": [1, 2], "scale": [1, 0.5]}, seeds=3, profile="quick")
    assert not {p.id for p in sweep.expand(quick, book)[1]} & {p.id for p in points}


@pytest.mark.parametrize(
    "spec,message",
    [(dict(grid={"nosuch": [1]}), "unknown parameter 'nosuch'"),
     (dict(grid={"value": [1, "x"]}), "expects int"),
     (dict(grid={"value": []}), "has no values"),
     (dict(grid={"value": [1]}, parameters={"fail": 3}), "expects bool"),
     (dict(grid={"value": [1, 1]}), "the same parameters"),
     (dict(grid={"seed": [1]}, seeds=2), "not both"),
     (dict(notebook="nosuch"), "unknown notebook")],
)
def test_invalid_sweeps_are_rejected(book, spec, message):
    with pytest.raises(runner.ParameterError, match=message):
        sweep.expand(sweep.SweepSpec(**{"name": "s", "notebook": "tiny", **spec}), book)


def test_cli_rejects_invalid_grid_before_anything_runs(book):
    for args, message in [(["--grid", "value=1,abc"], "expects int"), (["--grid", "nosuch=1,2"], "unknown parameter"),
                          (["--seeds", "2", "-p", "value=x"], "expects int"), ([], "not a sweep file"),
                          (["--grid", "value=1,-101"], "-101 is not ≥ -100. Allowed: ≥ -100, ≤ 100"),
                          (["--grid", "value=1,2", "-p", "scale=-1"], "-1.0 is not > 0")]:
        result = invlearn("sweep", "tiny", *args, cwd=book)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    (book / "sweeps" / "bad.yaml").write_text("notebook: tiny\ngrid: {value: [1, 2.5]}\n")
    result = invlearn("sweep", "sweeps/bad.yaml", cwd=book)
    assert result.returncode == 2 and "expects int" in result.stderr
    assert not (book / "sweeps_out").exists()  # nothing started, nothing written


# --- running -----------------------------------------------------------------------------------------------------


def test_sweep_file_runs_collects_and_isolates_a_failing_point(book):
    result = invlearn("sweep", "values", "-j", "2", "--no-progress", cwd=book)
    assert result.returncode == 0, result.stderr
    manifest = _manifest(book, "values")
    assert manifest["sweep"]["source"] == "sweeps/values.yaml" and manifest["counts"]["ok"] == 3
    assert [p["coords"] for p in manifest["points"]] == [{"value": v, "fail": False} for v in (1, 2, 3)]
    for point in manifest["points"]:
        record = json.loads((book / "sweeps_out" / "values" / point["folder"] / "tiny.json").read_text())
        assert record["metrics"]["scaled"] == 2.0 * point["coords"]["value"] and record["profile"] == "default"
        assert set(record) >= {"check", "metrics", "series", "parameters", "runtime_s", "versions", "cache_key"}
    collected = invlearn("collect", "values", cwd=book)
    assert collected.returncode == 0, collected.stderr
    import pandas as pd

    table = pd.read_csv(book / "sweeps_out" / "values" / "values.csv")
    assert list(table["value"]) == [1, 2, 3] and list(table["scaled"]) == [2.0, 4.0, 6.0]
    assert list(table.columns[:5]) == ["point", "value", "fail", "check_passed", "runtime_s"]

    # a failing point is recorded with its error, the others finish, the exit code is 1 with a summary table
    result = invlearn("sweep", "tiny", "--name", "mixed", "--grid", "fail=false,true", "--grid", "value=1,2",
                      "-j", "2", "--no-progress", cwd=book)
    assert result.returncode == 1
    assert "2 point(s) failed" in result.stderr and "| point | parameters | error |" in result.stderr
    assert "asked to fail" in result.stderr
    manifest = _manifest(book, "mixed")
    assert manifest["counts"]["ok"] == 2 and manifest["counts"]["failed"] == 2
    failed = [p for p in manifest["points"] if p["status"] == "failed"]
    assert all(p["coords"]["fail"] and "asked to fail" in p["error"] for p in failed)
    ok_files = {p["id"]: (book / "sweeps_out" / "mixed" / p["folder"] / "tiny.json").stat().st_mtime_ns
                for p in manifest["points"] if p["status"] == "ok"}
    # rerunning retries the failed points only
    again = invlearn("sweep", "tiny", "--name", "mixed", "--grid", "fail=false,true", "--grid", "value=1,2",
                     "-j", "2", "--no-progress", cwd=book)
    assert again.returncode == 1 and "ran 0, reused 2, failed 2" in again.stdout
    assert {pid: (book / "sweeps_out" / "mixed" / "points" / pid / "tiny.json").stat().st_mtime_ns
            for pid in ok_files} == ok_files


def _start_slow_sweep(book: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "invlearn", "sweep", "tiny", "--name", name, "--grid", "value=1,2,3,4,5,6",
         "-p", "sleep=2.0", "-j", "1", "--no-progress"],
        cwd=book, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=default_sigint)


def _wait_for_finished(book: Path, name: str, count: int, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    path = book / "sweeps_out" / name / "manifest.json"
    while time.time() < deadline:
        if path.is_file():
            try:
                if json.loads(path.read_text())["counts"]["ok"] >= count:
                    return
            except (json.JSONDecodeError, KeyError):
                pass
        time.sleep(0.2)
    raise AssertionError(f"{count} point(s) did not finish in {timeout}s")


def _finished_points(book: Path, name: str) -> dict[str, int]:
    folder = book / "sweeps_out" / name / "points"
    return {p.name: (p / "tiny.json").stat().st_mtime_ns for p in folder.iterdir() if (p / "tiny.json").is_file()}


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_resume_after_interruption_recomputes_nothing_finished(book, how):
    name = f"resume_{how}"
    proc = _start_slow_sweep(book, name)
    _wait_for_finished(book, name, 2)
    time.sleep(1.5)  # the third point is running
    if how == "sigint":  # Ctrl-C of the sweep command
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "rerun the same command to resume" in err
        assert not _staging_dirs(book)  # the running point left nothing behind
        manifest = _manifest(book, name)
        assert manifest["counts"]["interrupted"] >= 1
    else:  # the command and its workers killed outright
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finished = _finished_points(book, name)
    assert 2 <= len(finished) < 6
    for pid in finished:  # every point on disk is complete
        assert (book / "sweeps_out" / name / "points" / pid / "tiny.ipynb").is_file()

    rerun = invlearn("sweep", "tiny", "--name", name, "--grid", "value=1,2,3,4,5,6", "-p", "sleep=2.0", "-j", "1",
                     "--no-progress", cwd=book)
    assert rerun.returncode == 0, rerun.stderr
    assert f"ran {6 - len(finished)}, reused {len(finished)}, failed 0" in rerun.stdout
    after = _finished_points(book, name)
    assert len(after) == 6 and {pid: after[pid] for pid in finished} == finished  # nothing finished was recomputed
    assert not _staging_dirs(book)
    statuses = {p["id"]: p["status"] for p in _manifest(book, name)["points"]}
    assert {statuses[pid] for pid in finished} == {"cached"}


FIG3 = "duan_fig03_noninvariant_norm"


def _drop_timings(metrics: dict) -> None:
    """Remove every wall-clock entry (a key ending in ``seconds``), at any depth."""
    for key in list(metrics):
        if key.endswith("seconds"):
            metrics.pop(key)
        elif isinstance(metrics[key], dict):
            _drop_timings(metrics[key])


def test_local_and_dask_backends_give_identical_results(tmp_path):
    """The real Fig 3 notebook at tiny sizes, 2 points, run by a local pool and by a loopback LocalCluster."""
    pytest.importorskip("distributed")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "notebooks" / "profiles").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / f"{FIG3}.py", tmp_path / "notebooks")
    common = ["--grid", "lambdas=0.01,1", "-p", "epochs=40", "-p", "n_samples=100", "-p", "lr=0.01",
              "-j", "2", "--no-progress"]
    local = invlearn("sweep", FIG3, "--name", "local", *common, cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    dask = invlearn("sweep", FIG3, "--name", "dask", "--backend", "dask", *common, cwd=tmp_path)
    assert dask.returncode == 0, dask.stderr
    assert _manifest(tmp_path, "dask")["backend"] == "dask"
    for point in _manifest(tmp_path, "local")["points"]:
        records = [json.loads((tmp_path / "sweeps_out" / which / point["folder"] / f"{FIG3}.json").read_text())
                   for which in ("local", "dask")]
        for record in records:
            record.pop("runtime_s")
            _drop_timings(record["metrics"])
            for run in record["metrics"]["run_ids"].values():  # the same run ids; the second sweep reuses them
                assert run.pop("status") in ("computed", "reused")
        assert records[0] == records[1]
        assert records[0]["series"]["DA"] and records[0]["metrics"]["final_accuracy"]


PAGE = '''# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   invlearn:
#     paper: Nobody (2000)
#     figure: Fig. 0 (sweep)
#     title: a page collecting a sweep
# ---

# %% tags=["parameters"]
sweep = "values"  # the sweep this page collects

# %%
from invlearn.book.results import save_results
from invlearn.book.sweep import collect

table = collect(sweep)
save_results("page", claim="the sweep has points", checks={"points": len(table) > 0},
             metrics={"total": float(table["scaled"].sum()), "points": len(table)}, series={"value": list(table["value"])})
'''


def test_sweep_page_runs_its_sweep_first_and_follows_its_changes(book):
    (book / "notebooks" / "page.py").write_text(PAGE)
    first = invlearn("run", "page", cwd=book)
    assert first.returncode == 0, first.stderr
    assert "sweep   values: 3 points, 3 run, 0 reused, 0 failed" in first.stdout
    record = json.loads((book / "book" / "generated" / "page.json").read_text())
    assert record["metrics"] == {"total": 12.0, "points": 3}
    again = invlearn("run", "page", cwd=book)
    assert "3 reused" in again.stdout and "cached  page" in again.stdout
    # a new grid value: one more point runs and the page is redone
    (book / "sweeps" / "values.yaml").write_text(SWEEP_FILE.replace("value: [1, 2, 3]", "value: [1, 2, 3, 4]"))
    changed = invlearn("run", "page", cwd=book)
    assert "4 points, 1 run, 3 reused" in changed.stdout and "ok      page" in changed.stdout
    assert json.loads((book / "book" / "generated" / "page.json").read_text())["metrics"] == {"total": 20.0, "points": 4}
    # the quick profile has its own sweep folder and section of the sweep file
    quick = invlearn("run", "page", "--profile", "quick", "--publish", cwd=book)
    assert quick.returncode == 0, quick.stderr
    assert (book / "sweeps_out" / "values.quick" / "manifest.json").is_file()
    assert json.loads((book / "book" / "generated" / "page.json").read_text())["metrics"] == {"total": 10.0, "points": 1}
