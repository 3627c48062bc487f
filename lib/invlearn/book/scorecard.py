"""The scorecard: what the book reproduces, read from the result files in ``book/generated/``.

Three generated tables (``book/generated/scorecard_table.md``, included by ``book/scorecard.md``):

1. **Summary per paper**: pages at the paper protocol vs scaled, pages whose claim holds, sub-checks passed of
   those asserted, findings reproduced / not reproduced (and how many of those carry a verdict).
2. **One row per page**: the claim its checks assert, the outcome (a failed check is "not reproduced"), the
   protocol (``paper``, or ``scaled`` with the number of deviations; the page lists them), the profile, the runtime.
3. **Every finding**: the paper claims the pages evaluate but do not assert, reproduced or not, with the verdict of
   the control shown on the page.
4. **Paper protocols as distributed sweeps**: per page with a ``cluster_sweep`` (a paper protocol too costly for the
   book build, declared as a sweep of independent runs), the sweep, how many of its points have finished (and how
   many are runs at the paper protocol), and the measured cost of one point (the page's
   ``metrics.cluster_point_seconds``, on the machine that built the page).

A result file that cannot be read (corrupt, foreign, partial) does not stop the scorecard: its row says which file
and what is wrong, and the other rows are built.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from invlearn.book.results import generated_dir, repo_root
from invlearn.book.runner import discover

__all__ = ["scorecard_rows", "summary_rows", "scorecard_markdown", "write_scorecard"]

_REQUIRED = ("check", "profile", "protocol")


def _read(path: Path) -> tuple[dict[str, Any] | None, str]:
    """A result file's record, or ``None`` and what is wrong with it."""
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"unreadable result file {path.name}: {type(exc).__name__}"
    if not isinstance(record, Mapping):
        return None, f"result file {path.name} is not a JSON object"
    missing = [key for key in _REQUIRED if key not in record]
    check = record.get("check")
    if not missing and not (isinstance(check, Mapping) and isinstance(check.get("checks"), Mapping)):
        missing = ["check.checks"]
    if missing:
        return None, (f"result file {path.name} was not written by 'invlearn run' (no {', '.join(missing)}); "
                      "rerun the page with invlearn run")
    return record, ""


def scorecard_rows(root: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One dict per page (notebook or variant): name, figure, paper, page (a doc path or ``""``), claim, check
    (``passed``, ``not reproduced``, ``failed`` (no page), ``not run`` or ``unreadable``), checks (``{name: bool}``),
    protocol, deviations, profile, runtime, findings (``{claim: {reproduced, verdict}}``), problem (what is wrong
    with an unreadable result file)."""
    out = generated_dir(root)
    rows = []
    for name, spec in discover(root).items():
        row: dict[str, Any] = {"name": name, "figure": spec.figure, "paper": spec.paper, "page": "", "claim": "",
                               "check": "not run", "checks": {}, "protocol": "", "deviations": [], "profile": "",
                               "runtime": "", "findings": {}, "problem": "", "cluster_sweep": "",
                               "cluster_point_seconds": None}
        result_file = out / f"{name}.json"
        if result_file.is_file():
            record, problem = _read(result_file)
            if record is None:
                row.update(check="unreadable", problem=problem)
            else:
                check = record["check"]
                checks = {str(k): bool(v) for k, v in check["checks"].items()}
                findings = {}
                for claim, value in (check.get("findings") or {}).items():
                    value = value if isinstance(value, Mapping) else {"reproduced": bool(value), "verdict": ""}
                    findings[str(claim)] = {"reproduced": bool(value.get("reproduced")),
                                            "verdict": str(value.get("verdict") or "")}
                runtime = record.get("runtime_s")
                row.update(
                    claim=str(check.get("claim", "")),
                    check="passed" if checks and all(checks.values()) else "not reproduced",
                    checks=checks,
                    protocol=str(record["protocol"]),
                    deviations=list(record.get("deviations") or []),
                    profile=str(record["profile"]),
                    runtime=f"{runtime:.1f} s" if isinstance(runtime, (int, float)) else "",
                    findings=findings,
                    page=f"/book/generated/{name}" if (out / f"{name}.ipynb").is_file() else "",
                    cluster_sweep=str((record.get("parameters") or {}).get("cluster_sweep") or ""),
                    cluster_point_seconds=(record.get("metrics") or {}).get("cluster_point_seconds"),
                )
        elif (out / f"{name}.failed.ipynb").is_file():
            row.update(check="failed")
        rows.append(row)
    return rows


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per paper (in order of first appearance): pages, at paper protocol, scaled, claims holding, sub-checks
    passed and asserted, findings reproduced, not reproduced, not reproduced with a verdict, unavailable pages."""
    papers: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = papers.setdefault(r["paper"], {"paper": r["paper"], "pages": 0, "paper_protocol": 0, "scaled": 0,
                                           "claims_hold": 0, "checks_passed": 0, "checks": 0, "reproduced": 0,
                                           "not_reproduced": 0, "with_verdict": 0, "unavailable": 0})
        s["pages"] += 1
        if r["check"] in ("passed", "not reproduced"):
            s["paper_protocol" if r["protocol"] == "paper" else "scaled"] += 1
            s["claims_hold"] += r["check"] == "passed"
            s["checks"] += len(r["checks"])
            s["checks_passed"] += sum(r["checks"].values())
            for f in r["findings"].values():
                if f["reproduced"]:
                    s["reproduced"] += 1
                else:
                    s["not_reproduced"] += 1
                    s["with_verdict"] += bool(f["verdict"].strip())
        else:
            s["unavailable"] += 1
    return list(papers.values())


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def _figure(r: Mapping[str, Any]) -> str:
    """The figure, prefixed by the paper's first author (``Duan Fig. 3``), linked to its page when there is one."""
    author = (r["paper"].split() or [""])[0].rstrip(",")
    text = _cell(f"{author} {r['figure']}".strip())
    return f"{{doc}}`{text} <{r['page']}>`" if r["page"] else text


def scorecard_markdown(rows: list[dict[str, Any]]) -> str:
    """The three MyST tables of the module docstring; figure cells link to the pages that exist."""
    lines = ["## Summary", "",
             "| paper | pages with a result | paper protocol / scaled | claims that hold | checks passed | "
             "findings reproduced / not (with verdict) |",
             "|---|---|---|---|---|---|"]
    for s in summary_rows(rows):
        made = s["pages"] - s["unavailable"]
        lines.append(f"| {_cell(s['paper'])} | {made} of {s['pages']} | {s['paper_protocol']} / {s['scaled']} | "
                     f"{s['claims_hold']} of {made} | {s['checks_passed']} of {s['checks']} | "
                     f"{s['reproduced']} / {s['not_reproduced']} ({s['with_verdict']}) |")
    lines += ["", "## Pages", "",
              "| figure | claim (what the checks assert) | our check | protocol | profile | runtime |",
              "|---|---|---|---|---|---|"]
    for r in rows:
        mark = {"passed": "passed", "not reproduced": "**NOT REPRODUCED**", "failed": "**FAILED** (no page)",
                "unavailable": "unavailable"}.get(r["check"], r["check"])
        if r["check"] == "not reproduced":
            mark += ": " + "; ".join(_cell(k) for k, ok in r["checks"].items() if not ok)
        if r["problem"]:
            mark = f"**unreadable**: {_cell(r['problem'])}"
        protocol = r["protocol"]
        if protocol == "scaled":
            n = len(r["deviations"])
            protocol = f"scaled ({n} deviation{'s' if n != 1 else ''}): " + "; ".join(_cell(d) for d in r["deviations"])
        lines.append(f"| {_figure(r)} | {_cell(r['claim'])} | {mark} | {protocol} | {r['profile']} | {r['runtime']} |")
    lines += ["", "## Findings", "",
              "Paper claims the pages evaluate on the same runs but do not assert. A claim that does not reproduce "
              "carries the verdict of the control experiment shown on its page.", "",
              "| figure | finding | reproduced | verdict |", "|---|---|---|---|"]
    for r in rows:
        for claim, f in r["findings"].items():
            verdict = _cell(f["verdict"]) if f["verdict"].strip() else ("" if f["reproduced"] else "**no verdict**")
            lines.append(f"| {_figure(r)} | {_cell(claim)} | {'yes' if f['reproduced'] else '**no**'} | {verdict} |")
    cluster = [r for r in rows if r["cluster_sweep"]]
    if cluster:
        from invlearn.book.sweep import sweep_progress

        lines += ["", "## Paper protocols as distributed sweeps", "",
                  "Paper protocols too costly for the book build, declared as sweeps of independent runs "
                  "(`sweeps/<sweep>.yaml`; run them with `invlearn sweep <sweep> --backend dask --scheduler ADDRESS`). "
                  "The page aggregates whatever points have finished. The cost of a point is measured on the machine "
                  "that built the page.", "",
                  "| figure | this build | sweep | points finished (runs at the paper protocol) | cost of one point |",
                  "|---|---|---|---|---|"]
        for r in cluster:
            progress = sweep_progress(r["cluster_sweep"], profile=r["profile"] or None)
            cost = r["cluster_point_seconds"]
            cost_text = f"{cost / 3600:.1f} h" if isinstance(cost, (int, float)) else "not measured"
            lines.append(f"| {_figure(r)} | {r['protocol']} | `{r['cluster_sweep']}` | {progress.finished} of "
                         f"{progress.total} ({progress.at_paper_protocol}) | {cost_text} |")
    return "\n".join(lines) + "\n"



def write_scorecard(root: str | os.PathLike | None = None) -> Path:
    """Write ``book/generated/scorecard_table.md`` (included by ``book/scorecard.md``) and print a line per
    unreadable result file."""
    rows = scorecard_rows(repo_root(root))
    for r in rows:
        if r["problem"]:
            print(f"scorecard: {r['name']}: {r['problem']}")
    path = generated_dir(root) / "scorecard_table.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scorecard_markdown(rows))
    return path
