"""The build report: its phases and totals, the comparison of two reports, and the README's runtime column,
which must be what the committed reference report generates."""

import json

import pytest

from conftest import ROOT
from invlearn.book import report
from invlearn.book.runner import RunOutcome


def _report():
    outcomes = [RunOutcome("a", "ok", 12.345, threads=1), RunOutcome("b", "cached", 0.01, threads=1),
                RunOutcome("c", "ok", 3.0, reproduced=False, threads=1)]
    sweeps = [{"name": "s", "page": "a", "points": 4, "run": 3, "reused": 1, "failed": 0, "wall_s": 20.0}]
    return report.run_report(outcomes, sweeps, profile="default", jobs=2, wall_s=50.0)


def test_run_report_splits_sweeps_from_pages_and_adds_phases():
    data = _report()
    assert [p["name"] for p in data["pages"]] == ["a", "b", "c"]
    assert data["pages"][0] == {"name": "a", "status": "ok", "cache": "miss", "runtime_s": 12.35, "threads": 1,
                                "reproduced": True}
    assert data["pages"][1]["cache"] == "hit" and data["pages"][2]["reproduced"] is False
    assert data["phases"] == {"sweeps": 20.0, "pages": 30.0}
    data = report.add_phases(data, {"book": 7.5, "install": 60})
    assert list(data["phases"]) == ["install", "sweeps", "pages", "book"] and data["total_s"] == 117.5
    text = report.totals_text(data)
    assert "install 1:00, sweeps 0:20, pages 0:30, book 0:08; total 1:58" in text
    assert "3 pages (1 from the cache), 2 at a time; slowest: a 12 s, c 3 s" in text


def test_compare_gives_the_ratio_per_page_and_phase_and_skips_cache_hits():
    old, new = _report(), _report()
    new["pages"][0]["runtime_s"] = 6.175
    rows = {name: (a, b, r) for name, a, b, r in report.compare(old, new)}
    assert rows["a"] == (12.35, 6.175, 0.5)
    assert "b" not in rows  # a cache hit measures nothing
    assert rows["phase:pages"] == (30.0, 30.0, 1.0)


def test_readme_runtime_column_is_generated_from_the_reference_report():
    readme = (ROOT / "README.md").read_text()
    reference = json.loads((ROOT / "benchmarks" / "book_build_report.json").read_text())
    assert report.readme_runtimes(readme, reference) == readme, (
        "README runtimes differ from benchmarks/book_build_report.json: run "
        "'invlearn report benchmarks/book_build_report.json --readme'")
    names = {p["name"] for p in reference["pages"]}
    table = readme[readme.index(report.README_START):readme.index(report.README_END)]
    assert all(f"`notebooks/{n}.py`" in table or f"variant `{n}`" in table for n in names)


def test_readme_runtimes_rewrites_only_the_marked_table():
    text = (f"intro | 1 s |\n{report.README_START}\n| a | `notebooks/a.py` | old |\n| b | `notebooks/b.py` | old |\n"
            f"{report.README_END}\nafter")
    out = report.readme_runtimes(text, report.add_phases(_report(), {"install": 1}))
    assert out.startswith("intro | 1 s |\n") and out.endswith("after")
    assert "| a | `notebooks/a.py` | 12 s (after its sweep: 4 points, 20 s) |" in out
    assert "| b | `notebooks/b.py` | cached |" in out
    with pytest.raises(ValueError):
        report.readme_runtimes("no table", _report())
