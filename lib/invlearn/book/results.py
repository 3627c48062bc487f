"""Result files: the machine-readable numbers behind every figure page.

A notebook writes ``<output dir>/<notebook>.json`` with its claim, check outcome, summary ``metrics`` and
the ``series`` behind its figure. The runner then adds what the notebook's header and the run know (paper,
figure, profile, parameters, runtime, package versions, cache key) and moves the file into ``book/generated/``.

The output directory is ``$INVLEARN_OUTPUT_DIR`` when set (the runner points it at a staging folder so that
nothing half-written reaches ``book/generated/``), else ``<repo root>/book/generated``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from invlearn.core.settings import CHECKS_ENV, OUTPUT_ENV

__all__ = [
    "repo_root",
    "generated_dir",
    "output_dir",
    "figure_stem",
    "to_jsonable",
    "save_results",
    "load_results",
    "check_table",
    "assert_checks",
]


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding ``_toc.yml``; else ``start`` itself."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    return here


def generated_dir(root: str | os.PathLike | None = None) -> Path:
    """``<repo root>/book/generated``: executed notebooks, result files and figures."""
    return repo_root(root) / "book" / "generated"


def output_dir() -> Path:
    """Where the running notebook writes its result file and figures (see module docstring)."""
    env = os.environ.get(OUTPUT_ENV)
    path = Path(env) if env else generated_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def figure_stem(notebook: str) -> Path:
    """``<output dir>/figures/<notebook>``; :func:`invlearn.core.plotting.save_figure` adds ``.png``/``.svg``."""
    return output_dir() / "figures" / notebook


def to_jsonable(value: Any) -> Any:
    """Numpy/torch arrays and scalars to lists and floats; non-finite floats to ``None`` (valid JSON)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value


def save_results(
    notebook: str,
    *,
    claim: str,
    checks: Mapping[str, bool],
    metrics: Mapping[str, Any],
    series: Mapping[str, Any],
    findings: Mapping[str, bool] | None = None,
) -> Path:
    """Write ``<output dir>/<notebook>.json``.

    Args:
        notebook: notebook name without extension, e.g. ``"duan_fig02_training_curves"``.
        claim: the paper's claim that the check cell tests, one sentence.
        checks: named sub-checks, asserted by the page; ``check.passed`` is their conjunction.
        findings: further claims of the paper evaluated on this run but **not** asserted, because the page
            reports that they do not (or not robustly) reproduce; ``True`` where this run shows the claim.
        metrics: summary numbers.
        series: every plotted curve as named arrays (include the x axis, e.g. ``"epoch"``).
    """
    record = {
        "notebook": notebook,
        "check": {
            "claim": claim,
            "passed": all(bool(v) for v in checks.values()),
            "checks": dict(checks),
            "findings": dict(findings or {}),
        },
        "metrics": metrics,
        "series": series,
    }
    path = output_dir() / f"{notebook}.json"
    path.write_text(json.dumps(to_jsonable(record), indent=1))
    return path


def load_results(path: str | os.PathLike) -> dict[str, Any]:
    """Read a result file."""
    return json.loads(Path(path).read_text())


def check_table(checks: Mapping[str, bool]):
    """A two-column ``pandas.DataFrame`` (check, passed) for display on the page."""
    import pandas as pd

    return pd.DataFrame({"check": list(checks), "passed": [bool(v) for v in checks.values()]})


def assert_checks(checks: Mapping[str, bool]) -> None:
    """Raise ``AssertionError`` naming every failed sub-check.

    When ``$INVLEARN_CHECKS`` is ``record`` (set by the runner for sweep points) a failure is only printed: the
    result file written before already carries ``check.passed = false``.
    """
    failed = [name for name, ok in checks.items() if not ok]
    if failed and os.environ.get(CHECKS_ENV) == "record":
        print("claim not reproduced at these parameters (recorded, not raised); failed checks: " + "; ".join(failed))
        return
    assert not failed, "claim not reproduced; failed checks: " + "; ".join(failed)
