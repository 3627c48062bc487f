"""The scorecard: one row per figure notebook, read from the result files in ``book/generated/``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from invlearn.book.results import generated_dir, repo_root
from invlearn.book.runner import discover

__all__ = ["scorecard_rows", "scorecard_markdown", "write_scorecard"]


def scorecard_rows(root: str | os.PathLike | None = None) -> list[dict[str, str]]:
    """One dict per notebook: figure, paper, claim, check, profile, runtime, page (a doc path or ""), and
    not_reproduced (the findings of the paper that this run did not show)."""
    out = generated_dir(root)
    rows = []
    for name, spec in discover(root).items():
        result_file = out / f"{name}.json"
        row = {"name": name, "figure": spec.figure, "paper": spec.paper, "claim": "", "profile": "", "runtime": ""}
        if result_file.is_file():
            record = json.loads(result_file.read_text())
            row.update(
                claim=record["check"]["claim"],
                check="passed" if record["check"]["passed"] else "failed",
                not_reproduced=[k for k, v in record["check"].get("findings", {}).items() if not v],
                profile=record["profile"],
                runtime=f"{record['runtime_s']:.1f} s",
                page=f"/book/generated/{name}",
            )
        else:
            row.update(check="failed" if (out / f"{name}.failed.ipynb").is_file() else "not run", page="")
        rows.append(row)
    return rows


def scorecard_markdown(rows: list[dict[str, str]]) -> str:
    """A MyST table; figure cells link to the figure pages that exist."""
    lines = ["| figure | paper | claim | our check | profile | runtime |", "|---|---|---|---|---|---|"]
    for r in rows:
        figure = f"{{doc}}`{r['figure']} <{r['page']}>`" if r["page"] else r["figure"]
        mark = {"passed": "passed", "failed": "**FAILED**"}.get(r["check"], r["check"])
        if r.get("not_reproduced"):
            mark += "; not reproduced: " + "; ".join(r["not_reproduced"])
        claim = r["claim"].replace("|", "/")
        lines.append(f"| {figure} | {r['paper']} | {claim} | {mark} | {r['profile']} | {r['runtime']} |")
    return "\n".join(lines) + "\n"


def write_scorecard(root: str | os.PathLike | None = None) -> Path:
    """Write ``book/generated/scorecard_table.md`` (included by ``book/scorecard.md``)."""
    path = generated_dir(root) / "scorecard_table.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scorecard_markdown(scorecard_rows(repo_root(root))))
    return path
