"""Sweeps: one notebook (or variant) executed over a grid of parameters and seeds, resumable, on this machine
or on a Dask cluster.

A sweep is a notebook name, fixed ``parameters``, a ``grid`` (parameter -> values) and optionally ``seeds`` N
(adds ``seed = 0 … N−1`` to the grid). Its points are the Cartesian product of the grid, in the order the grid
names them. Every point is one :func:`invlearn.book.runner.run_notebook` execution (same validation, cache, atomic
writes and result file) into ``sweeps_out/<sweep>/points/<point id>/`` (``sweeps_out/<sweep>.<profile>/`` under
a profile other than ``default``); the point id is a digest of the point's
notebook, profile and parameters, so a rerun of the same sweep finds its finished points (cache hits) and redoes
only the failed or missing ones. ``sweeps_out/<sweep>/manifest.json`` records the sweep, its points, their
status, runtime and error, and is rewritten atomically after every point.

A committed sweep file ``sweeps/<name>.yaml``:

.. code-block:: yaml

    notebook: duan_fig03_noninvariant_norm
    description: one line
    parameters: {n_seeds: 1}              # the same for every point
    grid:
      lambdas: {logspace: [-4, 1, 16]}    # or a list of values
    seeds: 5
    quick:                                # replaces grid/seeds/parameters under --profile quick (optional)
      grid: {lambdas: [0.001, 0.1]}
      seeds: 2

A scalar grid value for a parameter whose default is a list means the one-element list (``lambdas: 0.1`` runs
``lambdas = [0.1]``). ``{logspace: [a, b, n]}`` is ``n`` values from ``10**a`` to ``10**b`` rounded to 4
significant digits; ``{linspace: [a, b, n]}`` likewise on a linear scale.

Points run with their checks recorded, not asserted (see :func:`invlearn.book.results.assert_checks`): a point where
the figure's claim does not hold is a result (``check_passed`` false in the table), a point whose notebook raises
is a failure.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from invlearn.book import runner
from invlearn.book.results import repo_root

__all__ = [
    "SweepSpec",
    "Point",
    "SweepOutcome",
    "BACKENDS",
    "parse_grid_values",
    "grid_values",
    "load_sweep_file",
    "sweep_from_file",
    "expand",
    "sweep_dir",
    "find_sweep",
    "run_sweep",
    "run_point",
    "collect",
    "seed_matrix",
    "SweepProgress",
    "sweep_progress",
    "stack_series",
]

BACKENDS = ("local", "dask")
SWEEPS_DIR = "sweeps"
OUTPUT_DIR = "sweeps_out"
STATUSES = ("pending", "queued", "running", "ok", "cached", "failed", "interrupted")


@dataclass
class SweepSpec:
    """What a sweep runs. ``grid`` values are raw (validated in :func:`expand`); ``seeds`` adds ``seed = 0 … N−1``."""

    name: str
    notebook: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    seeds: int = 0
    profile: str = "default"
    description: str = ""
    source: str = ""
    """The sweep file it came from, relative to the repository root (``""`` for a command-line grid)."""

    @property
    def folder_name(self) -> str:
        """``<name>`` under the default profile, ``<name>.<profile>`` under another: profiles never share points."""
        return self.name if self.profile == "default" else f"{self.name}.{self.profile}"

    def full_grid(self) -> dict[str, list[Any]]:
        grid = dict(self.grid)
        if self.seeds:
            if "seed" in grid:
                raise runner.ParameterError(f"sweep {self.name!r}: give seeds either as 'seeds' or as a 'seed' grid, not both")
            grid["seed"] = list(range(self.seeds))
        return grid


@dataclass
class Point:
    """One execution of a sweep: ``coords`` are its grid values, ``parameters`` every override it runs with."""

    id: str
    index: int
    coords: dict[str, Any]
    parameters: dict[str, Any]
    status: str = "pending"
    runtime_s: float = 0.0
    error: str = ""


@dataclass
class SweepOutcome:
    """The points after a run, with counts and the wall time; ``interrupted`` after Ctrl-C."""

    folder: Path
    points: list[Point]
    wall_s: float
    interrupted: bool = False

    def count(self, status: str) -> int:
        return sum(p.status == status for p in self.points)

    @property
    def failed(self) -> list[Point]:
        return [p for p in self.points if p.status == "failed"]


# --- grid parsing and expansion --------------------------------------------------------------------------------


def parse_grid_values(text: str) -> tuple[str, list[Any]]:
    """``"key=v1,v2,…"`` -> ``(key, [v1, v2, …])``: commas inside brackets or quotes do not split; each value is
    read like a ``-p`` value (:func:`invlearn.book.runner.parse_assignment`)."""
    if "=" not in text:
        raise runner.ParameterError(f"--grid expects key=v1,v2,…, got {text!r}")
    key, raw = text.split("=", 1)
    items, depth, quote, current = [], 0, "", ""
    for ch in raw:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        current += ch
    items.append(current)
    if any(not item.strip() for item in items):
        raise runner.ParameterError(f"--grid {text!r}: empty value")
    return key.strip(), [runner.parse_assignment(f"{key}={item}")[1] for item in items]


def _round(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def grid_values(name: str, values: Any) -> list[Any]:
    """A grid entry of a sweep file as a list: a list as is, ``{logspace: [a, b, n]}``, ``{linspace: [a, b, n]}``,
    or one scalar."""
    if isinstance(values, Mapping):
        if len(values) != 1 or next(iter(values)) not in ("logspace", "linspace"):
            raise runner.ParameterError(f"grid {name!r}: expected a list, {{logspace: [a, b, n]}} or {{linspace: [a, b, n]}}")
        kind, args = next(iter(values.items()))
        if not (isinstance(args, Sequence) and len(args) == 3 and isinstance(args[2], int) and args[2] >= 1):
            raise runner.ParameterError(f"grid {name!r}: {kind} takes [start, stop, count]")
        a, b, n = float(args[0]), float(args[1]), args[2]
        steps = [a + (b - a) * i / (n - 1) for i in range(n)] if n > 1 else [a]
        return [_round(10**s) if kind == "logspace" else _round(s) for s in steps]
    return list(values) if isinstance(values, list) else [values]


def load_sweep_file(path: str | os.PathLike, profile: str | None = None, root: str | os.PathLike | None = None) -> SweepSpec:
    """Read ``sweeps/<name>.yaml`` (see the module docstring); ``profile`` overrides the file's ``profile``
    (default ``paper``), and its section of the same name replaces ``grid``, ``seeds`` and ``parameters``."""
    import yaml

    path = Path(path)
    data = yaml.safe_load(path.read_text()) or {}
    known = {"notebook", "description", "parameters", "grid", "seeds", "profile", "quick", "paper", "default"}
    unknown = set(data) - known
    if unknown:
        raise runner.ParameterError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(known)}")
    if "notebook" not in data:
        raise runner.ParameterError(f"{path}: no 'notebook'")
    profile = profile or data.get("profile", "default")
    section = dict(data.get(profile) or {})
    bad = set(section) - {"grid", "seeds", "parameters"}
    if bad:
        raise runner.ParameterError(f"{path}: section {profile!r} may only set grid, seeds, parameters; not {sorted(bad)}")
    grid = section.get("grid", data.get("grid")) or {}
    root = repo_root(root)
    try:
        source = path.resolve().relative_to(root).as_posix()
    except ValueError:
        source = str(path)
    return SweepSpec(
        name=path.stem,
        notebook=data["notebook"],
        grid={k: grid_values(k, v) for k, v in grid.items()},
        parameters=dict(section.get("parameters", data.get("parameters")) or {}),
        seeds=int(section.get("seeds", data.get("seeds", 0)) or 0),
        profile=profile,
        description=data.get("description", ""),
        source=source,
    )


def sweep_from_file(name: str, root: str | os.PathLike | None = None) -> Path | None:
    """The sweep file meant by ``name``: an existing path, or ``sweeps/<name>.yaml``; else ``None``."""
    root = repo_root(root)
    for candidate in (Path(name), root / name, root / SWEEPS_DIR / f"{name}.yaml"):
        if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
            return candidate
    return None


def _as_parameter_value(spec: runner.NotebookSpec, name: str, value: Any) -> Any:
    default = spec.parameters[name].default if name in spec.parameters else None
    if isinstance(default, (list, tuple)) and not isinstance(value, (list, tuple)):
        return [value]
    return value


def _point_id(spec: runner.NotebookSpec, profile: str, params: Mapping[str, Any]) -> str:
    text = json.dumps({"notebook": spec.name, "profile": profile, "parameters": params}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def expand(sweep: SweepSpec, root: str | os.PathLike | None = None) -> tuple[runner.NotebookSpec, list[Point]]:
    """Validate the sweep and list its points, before anything runs.

    Raises:
        ParameterError: unknown notebook, unknown parameter, a value of the wrong type, an empty grid value list,
            ``seeds`` for a notebook without a ``seed`` parameter, or two points with the same parameters.
    """
    specs = runner.light_discover(root)  # the notebooks' text suffices to validate (fast: before any kernel)
    if sweep.notebook not in specs:
        raise runner.ParameterError(f"sweep {sweep.name!r}: unknown notebook {sweep.notebook!r}; available: {', '.join(specs)}")
    spec = specs[sweep.notebook]
    grid = sweep.full_grid()
    for name, values in grid.items():
        if name not in spec.parameters:
            runner.validate_parameters(spec, {name: None}, origin=f"the grid of sweep {sweep.name!r}")
        if not values:
            raise runner.ParameterError(f"sweep {sweep.name!r}: grid {name!r} has no values")
    fixed = runner.validate_parameters(spec, sweep.parameters, origin=f"the parameters of sweep {sweep.name!r}")
    overlap = set(fixed) & set(grid)
    if overlap:
        raise runner.ParameterError(f"sweep {sweep.name!r}: {sorted(overlap)} both fixed and in the grid")
    points, seen = [], {}
    for index, combo in enumerate(itertools.product(*grid.values())):
        coords = dict(zip(grid, combo))
        values = {k: _as_parameter_value(spec, k, v) for k, v in coords.items()}
        origin = f"the grid of sweep {sweep.name!r}"
        params = runner.resolve_parameters(spec, sweep.profile, {**fixed, **runner.validate_parameters(spec, values, origin)}, root)
        pid = _point_id(spec, sweep.profile, params)
        if pid in seen:
            raise runner.ParameterError(f"sweep {sweep.name!r}: points {seen[pid]} and {index} have the same parameters")
        seen[pid] = index
        points.append(Point(pid, index, coords, params))
    return spec, points


# --- the sweep folder --------------------------------------------------------------------------------------------


def sweep_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """``<repo root>/sweeps_out/<name>``."""
    return repo_root(root) / OUTPUT_DIR / name


def find_sweep(name: str, root: str | os.PathLike | None = None, profile: str | None = None) -> Path:
    """The folder of a sweep given by name, sweep file or folder path; ``profile`` (default ``$INVLEARN_PROFILE``,
    set by the runner, else ``default``) selects ``<name>.<profile>`` for profiles other than ``default``."""
    from invlearn.core.settings import PROFILE_ENV

    path = Path(name)
    if (path / "manifest.json").is_file():
        return path
    stem = path.stem if path.suffix in (".yaml", ".yml") else name
    profile = profile or os.environ.get(PROFILE_ENV) or "default"
    folder = sweep_dir(stem if profile == "default" else f"{stem}.{profile}", root)
    if not (folder / "manifest.json").is_file():
        raise runner.ParameterError(f"no sweep {name!r}: {folder / 'manifest.json'} does not exist")
    return folder


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=repr))
    os.replace(tmp, path)


def _write_manifest(folder: Path, sweep: SweepSpec, spec: runner.NotebookSpec, points: list[Point], extra: Mapping) -> None:
    _write_json_atomic(
        folder / "manifest.json",
        {
            "sweep": asdict(sweep),
            "notebook": spec.source,
            "variant": spec.name if spec.is_variant else None,
            "output_name": spec.name,
            **extra,
            "counts": {s: sum(p.status == s for p in points) for s in STATUSES},
            "points": [{**asdict(p), "folder": f"points/{p.id}"} for p in points],
        },
    )


def _clean_staging(point_dir: Path) -> None:
    """Remove staging folders left by a killed run of this point (only one run of a point exists at a time)."""
    if point_dir.is_dir():
        for path in point_dir.glob(".*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)


def run_point(spec: runner.NotebookSpec, params: dict[str, Any], profile: str, point_dir: str, root: str,
              threads: int | None, force: bool = False) -> dict[str, Any]:
    """Execute one point (in a worker): returns ``{status, runtime_s, error}``; never raises on notebook failure."""
    if threading.current_thread() is threading.main_thread():
        # a sweep started in the background inherits an ignored SIGINT; the coordinator's forwarded SIGINT must stop us
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _clean_staging(Path(point_dir))
    outcome = runner.run_notebook(spec, params, profile, force, root, threads, out_dir=point_dir)
    return {"status": outcome.status, "runtime_s": round(outcome.runtime_s, 3), "error": outcome.error}


def _is_finished(spec: runner.NotebookSpec, point: Point, profile: str, point_dir: Path,
                 root: str | os.PathLike | None = None) -> bool:
    """A point's outputs exist and its result file carries the point's current cache key (the page cache key:
    notebook, parameters, profile, imported modules, data, versions)."""
    result = point_dir / f"{spec.name}.json"
    if not (result.is_file() and (point_dir / f"{spec.name}.ipynb").is_file()):
        return False
    try:
        record = json.loads(result.read_text())
    except json.JSONDecodeError:
        return False
    point.runtime_s = float(record.get("runtime_s", 0.0))
    return record.get("cache_key") == runner.cache_key(spec, point.parameters, profile, root)


# --- execution ---------------------------------------------------------------------------------------------------


class _Progress:
    """One tqdm bar over points: done / failed / running, with ETA."""

    def __init__(self, total: int, initial: int, enabled: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, initial=initial, unit="point", disable=not enabled, file=sys.stderr, smoothing=0.1,
                        dynamic_ncols=True)

    def update(self, points: list[Point], advance: int = 0) -> None:
        done = sum(p.status in ("ok", "cached") for p in points)
        failed = sum(p.status == "failed" for p in points)
        running = sum(p.status == "running" for p in points)
        queued = sum(p.status == "queued" for p in points)
        state = f"done {done}, failed {failed}, " + (f"submitted {queued}" if queued else f"running {running}")
        self.bar.set_postfix_str(state, refresh=False)
        self.bar.update(advance)

    def close(self) -> None:
        self.bar.close()


def _local_executor(jobs: int):
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs)


def run_sweep(
    sweep: SweepSpec,
    *,
    backend: str = "local",
    jobs: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
    force: bool = False,
    progress: bool = True,
    root: str | os.PathLike | None = None,
    on_point: Callable[[Point], None] | None = None,
) -> SweepOutcome:
    """Validate, then run every unfinished point of ``sweep`` and keep the manifest current.

    Args:
        backend: ``"local"`` (a process pool of ``jobs`` workers on this machine) or ``"dask"`` (``dask.distributed``:
            a loopback ``LocalCluster`` of ``jobs`` single-threaded worker processes, or the cluster at ``scheduler``).
        jobs: parallel points; default: the number of cores (``local``, ``LocalCluster``).
        threads: BLAS/OpenMP threads per point; default: cores // jobs on this machine, 1 on an existing cluster.
        force: rerun finished points too.
    Returns:
        The outcome; ``KeyboardInterrupt`` is caught, recorded (``interrupted``) and leaves only finished points.
    Raises:
        ParameterError: before anything runs, for an invalid sweep or backend.
    """
    if backend not in BACKENDS:
        raise runner.ParameterError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if scheduler and backend != "dask":
        raise runner.ParameterError("--scheduler needs --backend dask")
    root = repo_root(root)
    spec, points = expand(sweep, root)
    cores = os.cpu_count() or 1
    jobs = max(1, jobs or cores)
    if threads is None:
        threads = 1 if scheduler else max(1, cores // jobs)
    folder = sweep_dir(sweep.folder_name, root)
    (folder / "points").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    meta = {"backend": backend, "scheduler": scheduler, "jobs": jobs, "threads": threads,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    todo = []
    for point in points:
        if not force and _is_finished(spec, point, sweep.profile, folder / "points" / point.id, root):
            point.status = "cached"
        else:
            todo.append(point)
    _write_manifest(folder, sweep, spec, points, meta)
    bar = _Progress(len(points), len(points) - len(todo), progress)
    bar.update(points)

    def save() -> None:
        _write_manifest(folder, sweep, spec, points, meta)

    def finished(point: Point, result: Mapping[str, Any]) -> None:
        point.status = "ok" if result["status"] in ("ok", "cached") else "failed"
        point.runtime_s, point.error = result["runtime_s"], result["error"]
        save()
        bar.update(points, 1)
        if on_point:
            on_point(point)

    def args(point: Point) -> tuple:
        return (spec, point.parameters, sweep.profile, str(folder / "points" / point.id), str(root), threads, force)

    interrupted = False
    try:
        if todo:
            if backend == "local":
                _run_local(todo, jobs, args, finished, save, bar, points)
            else:
                _run_dask(todo, jobs, scheduler, args, finished, save, bar, points)
    except KeyboardInterrupt:
        interrupted = True
        for point in points:
            if point.status in ("running", "queued", "pending"):
                point.status = "interrupted"
    finally:
        bar.close()
        meta["wall_s"] = round(time.perf_counter() - started, 3)
        _write_manifest(folder, sweep, spec, points, meta)
        for point in points:
            if point.status == "interrupted":
                _clean_staging(folder / "points" / point.id)
    return SweepOutcome(folder, points, meta["wall_s"], interrupted)


def _run_local(todo, jobs, args, finished, save, bar, points) -> None:
    """A process pool fed at most ``jobs`` points at a time, so that exactly the running points are in flight: an
    interruption starts nothing new, and a worker that dies fails only the points then running (the pool is
    renewed for the rest)."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    queue = list(reversed(todo))
    pool = _local_executor(jobs)
    futures: dict = {}
    try:
        while queue or futures:
            while queue and len(futures) < jobs:
                point = queue.pop()
                futures[pool.submit(run_point, *args(point))] = point
                point.status = "running"
            save()
            bar.update(points)
            done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                point = futures.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    result = {"status": "failed", "runtime_s": 0.0, "error": "the worker process died (killed?)"}
                except Exception as exc:  # noqa: BLE001 - a point's failure never stops the others
                    result = {"status": "failed", "runtime_s": 0.0, "error": f"{type(exc).__name__}: {exc}"}
                finished(point, result)
            if broken:
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _local_executor(jobs)
    except KeyboardInterrupt:
        # Workers in the terminal's process group get Ctrl-C themselves; a signal sent to this process only is
        # forwarded, so that every running notebook stops and removes its staging folder.
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            try:
                os.kill(process.pid, signal.SIGINT)
            except (ProcessLookupError, OSError):
                pass
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.time() + 60
        for process in processes:
            process.join(max(0.0, deadline - time.time()))
            if process.is_alive():
                process.terminate()
        raise
    pool.shutdown(wait=True)


def _run_dask(todo, jobs, scheduler, args, finished, save, bar, points) -> None:
    from distributed import Client, LocalCluster, as_completed

    if scheduler:
        cluster, client = None, Client(scheduler)
    else:
        # One single-threaded worker process per job: the runner sets per-run environment variables for the kernel,
        # so two points must not share a process. Loopback only; no dashboard.
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, worker_dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {}
        for point in todo:
            futures[client.submit(run_point, *args(point), key=f"point-{point.id}", pure=False)] = point
            point.status = "queued"
        save()
        bar.update(points)
        for future in as_completed(futures):
            point = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: recorded, the others go on
                result = {"status": "failed", "runtime_s": 0.0, "error": f"{type(exc).__name__}: {exc}"}
            finished(point, result)
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- collection --------------------------------------------------------------------------------------------------


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str)) or value is None


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif _is_scalar(value) or (isinstance(value, list) and all(_is_scalar(v) for v in value)):
        out[prefix] = value


def _finished_points(folder: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(manifest point, result record)`` of every finished point (status ok or cached, result file present) of the
    sweep folder ``folder``, in the manifest's order; none without a manifest."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return []
    manifest = json.loads(manifest_path.read_text())
    out = []
    for point in manifest["points"]:
        result = folder / point["folder"] / f"{manifest['output_name']}.json"
        if point["status"] in ("ok", "cached") and result.is_file():
            out.append((point, json.loads(result.read_text())))
    return out


def collect(name: str | os.PathLike, root: str | os.PathLike | None = None, write: bool = True, profile: str | None = None):
    """The tidy table of a sweep: one row per finished point of its manifest.

    Columns: ``point`` (id), the grid parameters (one-element lists as their element), ``check_passed``,
    ``runtime_s``, then every scalar and every flat list of scalars (e.g. per-seed values) of the result file's
    ``metrics``, nested keys joined with ``.``. Written to ``sweeps_out/<sweep>/<sweep>.csv`` when ``write``
    (lists as JSON text).

    Returns:
        ``pandas.DataFrame`` sorted by the grid, in the grid's order.
    """
    import pandas as pd

    folder = find_sweep(str(name), root, profile)
    rows = []
    for point, record in _finished_points(folder):
        row: dict[str, Any] = {"point": point["id"]}
        for key, value in point["coords"].items():
            row[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
        row["check_passed"] = record["check"]["passed"]
        row["runtime_s"] = record["runtime_s"]
        metrics: dict[str, Any] = {}
        _flatten("", record.get("metrics", {}), metrics)
        row.update({k: v for k, v in metrics.items() if k not in row})
        rows.append(row)
    table = pd.DataFrame(rows)
    if write:
        as_text = table.apply(lambda col: col.map(lambda v: json.dumps(v) if isinstance(v, list) else v))
        as_text.to_csv(folder / f"{folder.name}.csv", index=False)
    return table


def seed_matrix(table, x: str, y: str, seed: str = "seed"):
    """A sweep's values as ``(xs (X,), values (X, S))``, one row per ``x`` value (sorted), one column per seed: the
    input of :func:`invlearn.core.plotting.sweep_panels`.

    Seeds come either from a ``seed`` column (one point per seed; missing points are NaN) or, when ``y`` holds
    per-seed lists (one point ran every seed as one batched program), from the lists; then one point per ``x``.
    """
    import numpy as np

    if len(table) and isinstance(table[y].iloc[0], list):
        ordered = table.sort_values(x)
        if ordered[x].duplicated().any():
            raise ValueError(f"several points share {x} = …; pick one row per {x} first")
        return ordered[x].to_numpy(dtype=float), np.array(ordered[y].tolist(), dtype=float)
    wide = table.pivot_table(index=x, columns=seed, values=y, aggfunc="first").sort_index()
    return wide.index.to_numpy(dtype=float), wide.to_numpy(dtype=float)


@dataclass
class SweepProgress:
    """What a page that aggregates a sweep without running it (its ``cluster_sweep`` parameter) can read.

    Attributes:
        name: the sweep; profile: the profile whose folder was read.
        total: points the sweep file declares (0 without a sweep file); records: the result records (as
            :func:`invlearn.book.results.save_results` wrote them) of the finished points, in grid order.
        coords: the grid coordinates of each finished point.
        per_run: the parameter counting a page's runs when each point is one run of the protocol (e.g. ``runs``):
            a point whose only deviation is that count is one run *of* the paper protocol.
    """

    name: str
    profile: str
    total: int
    records: list[dict[str, Any]] = field(default_factory=list)
    coords: list[dict[str, Any]] = field(default_factory=list)
    per_run: str | None = None

    @property
    def finished(self) -> int:
        return len(self.records)

    def is_paper_run(self, record: Mapping[str, Any]) -> bool:
        """Whether a point is at the paper protocol: labelled ``paper``, or deviating only in :attr:`per_run`."""
        if record.get("protocol") == "paper":
            return True
        devs = record.get("deviations") or []
        return bool(self.per_run) and bool(devs) and all(d.startswith(f"{self.per_run}:") for d in devs)

    @property
    def at_paper_protocol(self) -> int:
        """Finished points that are runs of the paper protocol (:meth:`is_paper_run`)."""
        return sum(1 for r in self.records if self.is_paper_run(r))

    def headline(self) -> str:
        """A figure title: ``"3 of 30 points finished, 0 of them runs at the paper protocol"``."""
        return (f"{self.finished} of {self.total} points finished, {self.at_paper_protocol} of them runs at the paper "
                f"protocol")

    def summary(self) -> str:
        """One sentence: how many points finished, how many at the paper protocol, and the deviations of the others."""
        text = f"Sweep `{self.name}`{'' if self.profile == 'default' else f' (profile {self.profile})'}: {self.headline()}"
        others = sorted({d for r in self.records if not self.is_paper_run(r) for d in r.get("deviations", [])
                         if not (self.per_run and d.startswith(f"{self.per_run}:"))})
        if others:
            text += "; the others are scaled (" + "; ".join(others) + ")"
        return text + "."


def sweep_progress(name: str, root: str | os.PathLike | None = None, profile: str | None = None,
                   per_run: str | None = None) -> SweepProgress:
    """The finished points of a sweep, read from its folder without running anything (an absent folder: none).

    ``profile`` defaults to ``$INVLEARN_PROFILE`` (set by the runner), else ``default``; the sweep file's section of
    that profile sets the declared points. ``per_run`` (see :class:`SweepProgress`) defaults to the parameter ending
    in ``runs`` that the sweep file sets to 1.
    """
    import numpy as np

    from invlearn.core.settings import PROFILE_ENV

    profile = profile or os.environ.get(PROFILE_ENV) or "default"
    path = sweep_from_file(name, root)
    total = 0
    if path is not None:  # counted, not expanded: a paper point may not be valid on this machine (e.g. its data size)
        declared = load_sweep_file(path, profile, root)
        total = max(declared.seeds, 1) * int(np.prod([len(v) for v in declared.grid.values()]))
        if per_run is None:  # the run count the sweep file fixes to one run per point
            per_run = next((k for k, v in declared.parameters.items() if k.endswith("runs") and v == 1), None)
    progress = SweepProgress(name=name, profile=profile, total=total, per_run=per_run)
    for point, record in _finished_points(sweep_dir(name if profile == "default" else f"{name}.{profile}", root)):
        progress.records.append(record)
        progress.coords.append(point["coords"])
    return progress


def stack_series(records: Sequence[Mapping[str, Any]], *keys: str):
    """The series ``record["series"][k1][k2]…`` of every record, each ``(R_i, T)`` or ``(T,)``, stacked into
    ``(Σ R_i, T)`` (points with another ``T`` than the first are left out)."""
    import numpy as np

    rows = []
    for record in records:
        value: Any = record["series"]
        for key in keys:
            value = value[key]
        arr = np.atleast_2d(np.asarray(value, dtype=float))
        if not rows or arr.shape[1] == rows[0].shape[1]:
            rows.append(arr)
    return np.concatenate(rows) if rows else np.zeros((0, 0))
