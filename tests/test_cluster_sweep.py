"""Pages that aggregate a paper-protocol sweep without running it (``cluster_sweep``): progress, series stacking,
the page's dependencies, the scorecard table, and the sweep files of the Flinth & Ohlsson chapter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT
from invlearn.book import runner, scorecard
from invlearn.book.sweep import load_sweep_file, stack_series, sweep_progress

PAPER_SWEEPS = {
    "flinth_a1_paper": ("flinth_a1_c4_cnn_distance", "n_runs"),
    "flinth_b1_paper": ("nordenfors_b1_regularised_projection_error", "runs"),
    "flinth_a3_paper": ("flinth_a3_translation_distance", "runs"),
    "flinth_a4_paper": ("flinth_a4_rotation_segmentation", "runs"),
    "flinth_a5_paper": ("flinth_a5_four_groups", "runs"),
}


def _fake_sweep(root: Path, finished: list[tuple[str, list[str]]], pending: int = 1) -> None:
    """A sweep ``toy`` of ``len(finished) + pending`` seeds; each finished point has a result record with the given
    protocol label and deviations and a ``(1, 3)`` series."""
    (root / "_toc.yml").write_text("root: intro\n")
    (root / "sweeps").mkdir()
    total = len(finished) + pending
    (root / "sweeps" / "toy.yaml").write_text(yaml.safe_dump({"notebook": "toy", "parameters": {"runs": 1},
                                                              "seeds": total}))
    folder = root / "sweeps_out" / "toy"
    points = []
    for i in range(total):
        status = "ok" if i < len(finished) else "pending"
        points.append({"id": f"p{i}", "folder": f"points/p{i}", "status": status, "coords": {"seed": i}})
        if i < len(finished):
            (folder / f"points/p{i}").mkdir(parents=True)
            protocol, deviations = finished[i]
            record = {"protocol": protocol, "deviations": deviations, "series": {"perp": {"nominal": [[i, i, i]]}}}
            (folder / f"points/p{i}/toy.json").write_text(json.dumps(record))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"points": points, "output_name": "toy"}))


def test_progress_counts_points_and_paper_runs(tmp_path):
    _fake_sweep(tmp_path, [("scaled", ["runs: 1 vs 30"]), ("scaled", ["runs: 1 vs 30", "n_images: 100 vs 10000"]),
                           ("paper", [])], pending=2)
    progress = sweep_progress("toy", root=tmp_path, profile="default", per_run="runs")
    assert (progress.total, progress.finished, progress.at_paper_protocol) == (5, 3, 2)
    assert "3 of 5 points finished, 2 of them runs at the paper protocol" in progress.summary()
    assert "n_images: 100 vs 10000" in progress.summary() and "runs: 1 vs 30" not in progress.summary()
    derived = sweep_progress("toy", root=tmp_path, profile="default")  # the sweep file sets runs: 1
    assert derived.per_run == "runs" and derived.at_paper_protocol == 2
    strict = sweep_progress("toy", root=tmp_path, profile="default", per_run="")  # no run count: only the label
    assert strict.at_paper_protocol == 1
    stacked = stack_series(progress.records, "perp", "nominal")
    assert stacked.shape == (3, 3) and np.array_equal(stacked[:, 0], [0, 1, 2])


def test_progress_of_a_sweep_never_run(tmp_path):
    _fake_sweep(tmp_path, [], pending=4)
    (tmp_path / "sweeps_out" / "toy" / "manifest.json").unlink()
    progress = sweep_progress("toy", root=tmp_path, profile="default")
    assert (progress.total, progress.finished) == (4, 0)
    assert stack_series(progress.records, "perp").shape == (0, 0)


@pytest.mark.parametrize("sweep", sorted(PAPER_SWEEPS))
def test_paper_sweeps_declare_the_paper_protocol(sweep):
    """Every paper-protocol sweep sets each parameter with a paper value to that value, except the run count (one run
    per point) and what its own grid sets; its points do not read the sweep; the page names the sweep."""
    notebook, per_run = PAPER_SWEEPS[sweep]
    spec = runner.light_discover(ROOT)[notebook]
    declared = load_sweep_file(ROOT / "sweeps" / f"{sweep}.yaml", "default", ROOT)
    assert declared.notebook == notebook
    assert declared.parameters[runner.CLUSTER_SWEEP] == ""
    assert spec.parameters[runner.CLUSTER_SWEEP].default == sweep
    assert declared.parameters[per_run] == 1 and declared.seeds == 30
    assert sweep_progress(sweep, root=ROOT, profile="default").per_run == per_run
    from invlearn.book.protocol import NOT_STATED, same_value

    for name, param in spec.parameters.items():
        if param.paper == NOT_STATED or name in (per_run, *declared.grid) or name == "aug_steps":
            continue
        value = declared.parameters.get(name, param.default)
        assert same_value(value, param.paper), f"{sweep}: {name} = {value!r}, paper {param.paper!r}"
    quick = load_sweep_file(ROOT / "sweeps" / f"{sweep}.yaml", "quick", ROOT)
    assert quick.parameters[runner.CLUSTER_SWEEP] == ""


def test_cluster_sweep_enters_the_page_dependencies(tmp_path):
    spec = runner.light_discover(ROOT)["flinth_a3_translation_distance"]
    params = {k: p.default for k, p in spec.parameters.items()}
    assert runner.cluster_sweep_of(spec, params) == "flinth_a3_paper"
    assert runner.sweep_of(spec, params) == ""  # not run by invlearn run / the book build
    record = runner.dependencies(spec, params, "default", ROOT)
    assert "cluster_sweep" in record
    assert "cluster_sweep" not in runner.dependencies(spec, {**params, "cluster_sweep": ""}, "default", ROOT)


def test_scorecard_lists_cluster_sweeps():
    rows = [{"name": "flinth_a3_translation_distance", "figure": "A3", "paper": "Flinth & Ohlsson", "page": "",
             "claim": "c", "check": "passed", "checks": {"c": True}, "protocol": "scaled",
             "deviations": ["runs: 3 vs 30"], "profile": "default", "runtime": "1 s", "findings": {}, "problem": "",
             "cluster_sweep": "flinth_a3_paper", "cluster_point_seconds": 7200.0}]
    text = scorecard.scorecard_markdown(rows)
    assert "## Paper protocols as distributed sweeps" in text
    assert "| `flinth_a3_paper` | " in text and "of 30" in text and "2.0 h" in text
    rows[0]["cluster_sweep"] = ""
    assert "distributed sweeps" not in scorecard.scorecard_markdown(rows)
