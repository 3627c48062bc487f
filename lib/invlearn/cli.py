"""Command line: ``invlearn list | run | scorecard`` (also ``python -m invlearn``).

Exit codes: 0 success, 1 a notebook failed, 2 invalid command line (unknown notebook, parameter or type).
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from invlearn import runner
from invlearn.results import repo_root

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invlearn", description="Run and inspect the figure notebooks of the book.")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="every notebook with its figure, parameters, defaults and meaning")

    run = sub.add_parser("run", help="execute notebooks into book/generated/")
    run.add_argument("names", nargs="*", help="notebook or variant names (file stems in notebooks/, keys of "
                     "notebooks/variants.yaml); see 'invlearn list'")
    run.add_argument("--all", action="store_true", help="run every notebook and variant")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    run.add_argument("--profile", default="paper", help="paper (the notebooks' defaults) or quick (notebooks/profiles/quick.yaml)")
    run.add_argument("-j", "--jobs", type=int, default=1, help="notebooks executed in parallel (each gets cores/N threads)")
    run.add_argument("--force", action="store_true", help="rerun even when the cached output is current")

    sub.add_parser("scorecard", help="write book/generated/scorecard_table.md from the result files")
    return parser


def _cmd_list() -> int:
    for spec in runner.discover().values():
        print(f"{spec.name}  [{spec.paper}, {spec.figure}]")
        print(f"    {spec.title}")
        if spec.is_variant:
            fixed = ", ".join(f"{k} = {v!r}" for k, v in spec.fixed.items())
            print(f"    variant of {spec.source} with {fixed}; parameters as for {spec.source}")
            continue
        for p in spec.parameters.values():
            print(f"    {p.name} = {p.default!r}  ({p.type_name})  {p.help}")
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
        print(f"cached  {outcome.name} (unchanged source, parameters and library; --force reruns)")
    else:
        print(f"ok      {outcome.name} in {outcome.runtime_s:.1f}s -> {outcome.outputs[0]}")


def _cmd_run(args: argparse.Namespace) -> int:
    specs = runner.discover()
    selected = _select(args, specs)
    overrides = dict(runner.parse_assignment(text) for text in args.param)
    # Validate everything before any kernel starts.
    plan: list[tuple[runner.NotebookSpec, dict[str, Any]]] = [
        (spec, runner.resolve_parameters(spec, args.profile, overrides)) for spec in selected
    ]
    root = repo_root()
    outcomes = []
    if args.jobs <= 1 or len(plan) == 1:
        for spec, params in plan:
            outcomes.append(runner.run_notebook(spec, params, args.profile, args.force, root))
            _report(outcomes[-1])
    else:
        threads = max(1, (os.cpu_count() or 1) // args.jobs)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [
                pool.submit(runner.run_notebook, spec, params, args.profile, args.force, root, threads)
                for spec, params in plan
            ]
            for future in as_completed(futures):
                outcomes.append(future.result())
                _report(outcomes[-1])
    failed = [o.name for o in outcomes if o.status == "failed"]
    if failed:
        print(f"{len(failed)} of {len(outcomes)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _cmd_scorecard() -> int:
    from invlearn.scorecard import write_scorecard

    path = write_scorecard()
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "run":
            return _cmd_run(args)
        return _cmd_scorecard()
    except runner.ParameterError as exc:
        print(f"invlearn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("invlearn: interrupted; no partial output was kept", file=sys.stderr)
        return 130
