"""Command line: ``invlearn list | run | status | sweep | collect | scorecard`` (also ``python -m invlearn``).

``invlearn run`` writes the book's outputs (``book/generated/``) only at the default profile without ``-p`` values, or
with ``--publish`` (the book build); any other run writes to ``runs/<page>/<profile>-<digest>/`` and prints where.

Exit codes: 0 success, 1 a notebook or sweep point failed (raised; no page), 2 invalid command line (unknown
notebook, parameter or type), 3 every notebook ran and made its page but at least one page's claim is not
reproduced (a check failed; the page carries a "not reproduced" banner), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from invlearn.book import protocol as protocols
from invlearn.book import runner
from invlearn.book.results import generated_dir, repo_root

__all__ = ["main", "build_parser", "scratch_folder", "NOT_REPRODUCED"]

NOT_REPRODUCED = 3
"""Exit status of ``invlearn run`` when every page was made but at least one claim is not reproduced."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invlearn", description="Run and inspect the figure notebooks of the book.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="every notebook with its figure, parameters, defaults and meaning")

    run = sub.add_parser("run", help="execute notebooks: at the default profile without -p into book/generated/, "
                         "else into runs/<page>/ (see --publish)")
    run.add_argument("names", nargs="*", help="notebook or variant names (file stems in notebooks/, keys of "
                     "notebooks/variants.yaml); see 'invlearn list'")
    run.add_argument("--all", action="store_true", help="run every notebook and variant")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    run.add_argument("--profile", default="default", choices=runner.PROFILES,
                     help="default (the notebooks' defaults: the book), paper (every parameter at its paper value), "
                          "quick (notebooks/profiles/quick.yaml: tests)")
    run.add_argument("-j", "--jobs", type=int, default=1, help="notebooks executed in parallel (each gets cores/N threads)")
    run.add_argument("--force", action="store_true", help="rerun even when the cached output is current")
    run.add_argument("--publish", action="store_true",
                     help="write into book/generated/ although the run has -p values or another profile (the book "
                          "build does); without it such a run writes to runs/<page>/<profile>-<digest>/")
    run.add_argument("--report", default=None, metavar="FILE",
                     help="write a build report: per page its runtime, cache hit, threads; the sweeps run first")

    report = sub.add_parser("report", help="add phases to a build report and print its totals; or write the "
                            "README's runtime column from it")
    report.add_argument("file", help="a report written by 'invlearn run --report'")
    report.add_argument("--phase", action="append", default=[], metavar="NAME=SECONDS",
                        help="a phase of the build measured outside 'invlearn run' (install, book)")
    report.add_argument("--readme", action="store_true", help="rewrite the README's runtime column from the report")
    report.add_argument("--compare", default=None, metavar="OLD",
                        help="print the ratio new/old per page and phase against an older report")

    status = sub.add_parser(
        "status", help="which pages are current, stale (and why), missing or failed, without running anything",
        description="Compare every page's result file in book/generated/ with what the page depends on now: its "
        "notebook, parameters and profile, the source of the invlearn modules it imports (transitively), the MNIST "
        "source it reads, the torch and numpy versions and, for a sweep page, its sweep. A page is current, stale "
        "(with the components that changed), missing, or failed (a .failed.ipynb newer than its output). "
        "'invlearn run' reruns exactly the stale, missing and failed ones.")
    status.add_argument("names", nargs="*", help="notebook or variant names (default: every page)")
    status.add_argument("--profile", default="default", choices=runner.PROFILES, help="the profile to compare against")

    sweep = sub.add_parser("sweep", help="run a notebook over a grid of parameters and seeds into sweeps_out/<sweep>/")
    sweep.add_argument("name", help="a sweep file (sweeps/<name>.yaml, or its name) or a notebook/variant name")
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,…", help="values of one parameter")
    sweep.add_argument("--seeds", type=int, default=None, help="add seed = 0 … N-1 to the grid")
    sweep.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter fixed for every point")
    sweep.add_argument("--profile", default=None, help="default (the default), paper or quick; a sweep file's section of that name applies")
    sweep.add_argument("--name", dest="name_opt", default=None, help="sweep folder name for a command-line grid (default: notebook + digest)")
    sweep.add_argument("-j", "--jobs", type=int, default=None, help="points run in parallel (default: the number of cores)")
    sweep.add_argument("--backend", default="local", choices=("local", "dask"), help="local process pool or dask.distributed")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786")
    sweep.add_argument("--threads", type=int, default=None, help="BLAS threads per point (default: cores/jobs; 1 on --scheduler)")
    sweep.add_argument("--force", action="store_true", help="rerun finished points too")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")

    collect = sub.add_parser("collect", help="tidy CSV of a sweep: one row per point (parameters, metrics, runtime)")
    collect.add_argument("sweep", help="sweep name, sweep file or sweeps_out/<sweep> folder")
    collect.add_argument("-o", "--output", default=None, help="CSV path (default: sweeps_out/<sweep>/<sweep>.csv)")
    collect.add_argument("--profile", default=None, help="the profile the sweep ran under (default: default)")

    sub.add_parser("scorecard", help="write book/generated/scorecard_table.md from the result files")
    return parser


def _cmd_list() -> int:
    for spec in runner.discover().values():
        print(f"{spec.name}  [{spec.paper}, {spec.figure}]")
        print(f"    {spec.title}")
        print(f"    data: {spec.data or 'not declared'} (the paper's)")
        if spec.is_variant:
            fixed = ", ".join(f"{k} = {v!r}" for k, v in spec.fixed.items())
            print(f"    variant of {spec.source} with {fixed}; parameters as for {spec.source}")
            continue
        for p in spec.parameters.values():
            paper = "not stated" if p.paper == protocols.NOT_STATED else protocols.format_value(p.paper)
            allowed = f"; allowed: {p.allowed.text}" if p.allowed else ""
            print(f"    {p.name} = {p.default!r}  ({p.type_name}; paper: {paper}{allowed})  {p.help}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    specs = runner.light_discover()
    unknown = [n for n in args.names if n not in specs]
    if unknown:
        raise runner.ParameterError(f"unknown notebook(s) {', '.join(unknown)}; available: {', '.join(specs)}")
    root = repo_root()
    counts: dict[str, int] = {}
    for name in args.names or list(specs):
        spec = specs[name]
        state = runner.page_status(spec, runner.resolve_parameters(spec, args.profile, {}, root), args.profile, root)
        counts[state.state] = counts.get(state.state, 0) + 1
        print(f"{state.state:8s}{name}" + (f"  ({'; '.join(state.reasons)})" if state.reasons else ""))
    summary = ", ".join(f"{counts[s]} {s}" for s in ("current", "stale", "missing", "failed") if s in counts)
    print(f"{sum(counts.values())} page(s), profile {args.profile}: {summary}")
    return 0


def _select(args: argparse.Namespace, specs: dict[str, runner.NotebookSpec]) -> list[runner.NotebookSpec]:
    if args.all:
        return list(specs.values())
    if not args.names:
        raise runner.ParameterError("name at least one notebook, or use --all")
    unknown = [n for n in args.names if n not in specs]
    if unknown:
        raise runner.ParameterError(f"unknown notebook(s) {', '.join(unknown)}; available: {', '.join(specs)}")
    return [specs[n] for n in args.names]


def _report(outcome: runner.RunOutcome) -> None:
    if outcome.status == "failed":
        print(f"FAILED  {outcome.name} after {outcome.runtime_s:.1f}s; kept as {outcome.outputs[0]}", file=sys.stderr)
        print("        " + outcome.error.replace("\n", "\n        "), file=sys.stderr)
    elif outcome.status == "cached":
        print(f"cached  {outcome.name} (unchanged notebook, parameters, imported modules and data; --force reruns)")
    else:
        print(f"ok      {outcome.name} in {outcome.runtime_s:.1f}s -> {outcome.outputs[0]}")
    if outcome.status != "failed" and not outcome.reproduced:
        print(f"NOT REPRODUCED  {outcome.name}: failed checks: {'; '.join(outcome.failed_checks)}", file=sys.stderr)


def _run_sweeps_of_pages(plan, args: argparse.Namespace, outcomes: list) -> list:
    """Run the sweep of every sweep page in ``plan`` (validated first, finished points reused); a page whose sweep
    has failed points is not run and counts as failed."""
    from invlearn.book import sweep

    pages = [(spec, params, runner.sweep_of(spec, params)) for spec, params in plan if runner.sweep_of(spec, params)]
    specs = {}
    for spec, params, name in pages:
        path = sweep.sweep_from_file(name)
        if path is None:
            raise runner.ParameterError(f"{spec.name}: no sweep file sweeps/{name}.yaml")
        specs[spec.name] = sweep.load_sweep_file(path, args.profile)
        sweep.expand(specs[spec.name])
    keep = []
    for spec, params in plan:
        if spec.name not in specs:
            keep.append((spec, params))
            continue
        done = sweep.run_sweep(specs[spec.name], jobs=args.jobs if args.jobs > 1 else None)
        print(f"sweep   {specs[spec.name].name}: {len(done.points)} points, {done.count('ok')} run, "
              f"{done.count('cached')} reused, {len(done.failed)} failed in {done.wall_s:.1f}s")
        args.sweeps_run.append({"name": specs[spec.name].name, "page": spec.name, "points": len(done.points), "run": done.count("ok"),
                                "reused": done.count("cached"), "failed": len(done.failed),
                                "wall_s": round(done.wall_s, 2)})
        if done.interrupted:
            raise KeyboardInterrupt
        if done.failed:
            outcomes.append(runner.RunOutcome(spec.name, "failed", error=f"{len(done.failed)} point(s) of sweep "
                                              f"{specs[spec.name].name} failed; see {done.folder / 'manifest.json'}",
                                              outputs=[done.folder / "manifest.json"]))
            _report(outcomes[-1])
        else:
            keep.append((spec, params))
    return keep


REFERENCE_REPORT = Path("benchmarks") / "book_build_report.json"
"""The report of the reference build (committed), relative to the repository root: expected runtimes of pages never
run in this checkout."""


class _Progress:
    """One line per event on stderr: pages done of the total, the page(s) running, and an ETA from the runtimes
    the result files recorded last time, else from the reference build's report (pages in neither count as the
    mean of the others)."""

    def __init__(self, plan: list, jobs: int, out_dir: Path) -> None:
        import json

        self.expected: dict[str, float] = {}
        reference = {}
        try:  # the reference build's report: runtimes for pages this checkout has not run yet
            reference = {p["name"]: float(p["runtime_s"]) for p in json.loads((repo_root(out_dir) / REFERENCE_REPORT).read_text())["pages"]
                         if p.get("cache") == "miss"}
        except (OSError, ValueError, KeyError, TypeError):
            pass
        for spec, _ in plan:
            try:
                self.expected[spec.name] = float(json.loads((out_dir / f"{spec.name}.json").read_text())["runtime_s"])
            except (OSError, ValueError, KeyError, TypeError):
                if spec.name in reference:
                    self.expected[spec.name] = reference[spec.name]
        mean = sum(self.expected.values()) / len(self.expected) if self.expected else 30.0
        self.basis = ("from recorded runtimes" if len(self.expected) == len(plan) else
                      f"from {len(self.expected)} recorded runtimes, {mean:.0f} s for each page never run")
        self.remaining = {spec.name: self.expected.get(spec.name, mean) for spec, _ in plan}
        self.total, self.done, self.jobs = len(plan), 0, max(1, jobs)

    def line(self, running: list[str]) -> None:
        eta = sum(self.remaining.values()) / min(self.jobs, max(1, len(self.remaining)))
        minutes, seconds = divmod(int(round(eta)), 60)
        print(f"[{self.done}/{self.total}] running {', '.join(running) or '-'}; ETA ≈ {minutes}:{seconds:02d} "
              f"({self.basis})", file=sys.stderr, flush=True)

    def finished(self, name: str) -> None:
        self.done += 1
        self.remaining.pop(name, None)


def scratch_folder(root: Path, name: str, profile: str, params: dict[str, Any]) -> Path:
    """``runs/<page>/<profile>-<digest of the parameters>/``: where an exploration run (``-p`` values, or a profile
    other than the book's, without ``--publish``) writes; the same parameters find their outputs again (cache)."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=repr).encode()).hexdigest()[:10]
    return root / "runs" / name / f"{profile}-{digest}"


def _cmd_run(args: argparse.Namespace) -> int:
    overrides = dict(runner.parse_assignment(text) for text in args.param)
    # Validate names, types and allowed values first from the notebooks' text (fast), then read them fully.
    for spec in _select(args, runner.light_discover()):
        runner.resolve_parameters(spec, args.profile, overrides)
    specs = runner.discover()
    selected = _select(args, specs)
    plan: list[tuple[runner.NotebookSpec, dict[str, Any]]] = [
        (spec, runner.resolve_parameters(spec, args.profile, overrides)) for spec in selected
    ]
    root = repo_root()
    publish = args.publish or (args.profile == runner.DEFAULT_PROFILE and not overrides)
    folders = {spec.name: None if publish else scratch_folder(root, spec.name, args.profile, params)
               for spec, params in plan}
    outcomes = []
    started = time.perf_counter()
    args.sweeps_run = []
    plan = _run_sweeps_of_pages(plan, args, outcomes)
    progress = _Progress(plan, args.jobs, generated_dir(root)) if len(plan) > 1 else None
    if args.jobs <= 1 or len(plan) == 1:
        for spec, params in plan:
            if progress:
                progress.line([spec.name])
            outcomes.append(runner.run_notebook(spec, params, args.profile, args.force, root,
                                                out_dir=folders[spec.name]))
            _report(outcomes[-1])
            if progress:
                progress.finished(spec.name)
    else:
        # Longest first (recorded or reference runtimes), so that the last pages to start are short ones.
        plan = sorted(plan, key=lambda item: -progress.remaining[item[0].name])
        threads = max(1, (os.cpu_count() or 1) // args.jobs)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = {
                pool.submit(runner.run_notebook, spec, params, args.profile, args.force, root, threads,
                            folders[spec.name]): spec.name
                for spec, params in plan
            }
            order = list(futures.values())  # the pool starts the pages in this order, jobs at a time

            def running() -> list[str]:
                return [name for name in order if name in progress.remaining][: args.jobs]

            progress.line(running())
            for future in as_completed(futures):
                outcomes.append(future.result())
                _report(outcomes[-1])
                progress.finished(futures[future])
                if progress.remaining:
                    progress.line(running())
    if args.report:
        from invlearn.book import report

        path = Path(args.report)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report.run_report(outcomes, args.sweeps_run, profile=args.profile, jobs=args.jobs,
                                                     wall_s=time.perf_counter() - started), indent=1))
    if not publish:
        print("outputs (not the book's; --publish writes the book's):", file=sys.stderr)
        for name, folder in folders.items():
            print(f"  {name}: {folder}", file=sys.stderr)
    failed = [o.name for o in outcomes if o.status == "failed"]
    if failed:
        print(f"{len(failed)} of {len(outcomes)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    refuted = [o.name for o in outcomes if not o.reproduced]
    if refuted:
        print(f"{len(refuted)} of {len(outcomes)} page(s) made, claim not reproduced: {', '.join(refuted)}",
              file=sys.stderr)
        return NOT_REPRODUCED
    return 0


def _sweep_spec(args: argparse.Namespace):
    import hashlib
    import json

    from invlearn.book import sweep

    fixed = dict(runner.parse_assignment(text) for text in args.param)
    path = sweep.sweep_from_file(args.name)
    if path is not None:
        if args.grid or args.seeds is not None or args.name_opt:
            raise runner.ParameterError("a sweep file sets its own grid, seeds and name; drop --grid/--seeds/--name")
        spec = sweep.load_sweep_file(path, args.profile)
        spec.parameters.update(fixed)
        return spec
    if not args.grid and not args.seeds:
        raise runner.ParameterError(f"{args.name!r} is not a sweep file; give --grid KEY=V1,V2,… and/or --seeds N")
    grid = dict(sweep.parse_grid_values(text) for text in args.grid)
    seeds = args.seeds or 0
    profile = args.profile or "default"
    digest = hashlib.sha256(json.dumps([grid, seeds, fixed, profile], sort_keys=True, default=repr).encode()).hexdigest()[:8]
    return sweep.SweepSpec(name=args.name_opt or f"{args.name}-{digest}", notebook=args.name, grid=grid,
                           parameters=fixed, seeds=seeds, profile=profile)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _cmd_sweep(args: argparse.Namespace) -> int:
    import signal

    from invlearn.book import sweep

    spec = _sweep_spec(args)
    signal.signal(signal.SIGTERM, _terminate)  # a batch system's stop is handled like Ctrl-C
    outcome = sweep.run_sweep(spec, backend=args.backend, jobs=args.jobs, scheduler=args.scheduler,
                              threads=args.threads, force=args.force, progress=not args.no_progress)
    counts = {s: outcome.count(s) for s in ("ok", "cached", "failed", "interrupted")}
    print(f"sweep {spec.name}: {len(outcome.points)} points; ran {counts['ok']}, reused {counts['cached']}, "
          f"failed {counts['failed']}, interrupted {counts['interrupted']}; {outcome.wall_s:.1f}s -> {outcome.folder}")
    if outcome.failed:
        print(f"{len(outcome.failed)} point(s) failed (rerun the same command to retry them):", file=sys.stderr)
        print("| point | parameters | error |", file=sys.stderr)
        print("|---|---|---|", file=sys.stderr)
        for point in outcome.failed:
            coords = ", ".join(f"{k}={v!r}" for k, v in point.coords.items())
            error = (point.error.strip().splitlines() or [""])[0]
            print(f"| {point.id} | {coords} | {error} |", file=sys.stderr)
    if outcome.interrupted:
        print("invlearn: interrupted; finished points are kept, rerun the same command to resume", file=sys.stderr)
        return 130
    return 1 if outcome.failed else 0


def _cmd_collect(args: argparse.Namespace) -> int:
    from invlearn.book import sweep

    table = sweep.collect(args.sweep, profile=args.profile)
    folder = sweep.find_sweep(args.sweep, profile=args.profile)
    path = folder / f"{folder.name}.csv"
    if args.output:
        table.to_csv(args.output, index=False)
        path = args.output
    print(f"{len(table)} point(s) -> {path}")
    return 0


def _cmd_scorecard() -> int:
    from invlearn.book.scorecard import write_scorecard

    path = write_scorecard()
    print(f"wrote {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from invlearn.book import report

    path = Path(args.file)
    if not path.is_file():
        raise runner.ParameterError(f"no report {path}")
    data = report.load(path)
    if args.phase:
        phases = {}
        for text in args.phase:
            name, _, value = text.partition("=")
            try:
                phases[name.strip()] = float(value)
            except ValueError:
                raise runner.ParameterError(f"--phase expects NAME=SECONDS, got {text!r}") from None
        data = report.add_phases(data, phases)
        path.write_text(json.dumps(data, indent=1))
    if args.readme:
        readme = repo_root() / "README.md"
        readme.write_text(report.readme_runtimes(readme.read_text(), data))
        print(f"wrote the runtime column of {readme}")
    if args.compare:
        print("\n".join(report.compare_lines(report.load(args.compare), data)))
    print(report.totals_text(data))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "status":
            return _cmd_status(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
        if args.command == "collect":
            return _cmd_collect(args)
        if args.command == "report":
            return _cmd_report(args)
        return _cmd_scorecard()
    except runner.ParameterError as exc:
        print(f"invlearn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("invlearn: interrupted; no partial output was kept", file=sys.stderr)
        return 130
