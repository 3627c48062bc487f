"""Every figure notebook is registered everywhere the book needs it (CONTRIBUTING.md, "Adding a figure").

Each check is a function of a repository root that returns its problems, one sentence each (empty: all registered).
The tests run every check on this repository, then show on a temporary copy that each check fails when one
registration is removed.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import shutil
import tokenize
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from invlearn.book import runner
from test_layers import PAPERS as PAPER_PACKAGES

PAPERS: dict[str, dict] = {
    "duan": {"package": "duan", "chapters": ("book/duan_montufar", "book/duan_theory")},
    "gideoni": {"package": "gideoni", "chapters": ("book/gideoni",)},
    "flinth": {"package": "flinth", "chapters": ("book/flinth_nordenfors",)},
    "nordenfors": {"package": "flinth", "chapters": ("book/flinth_nordenfors",)},
}
"""Known notebook name prefixes: the paper package holding their code and the chapter pages that may list them."""

NAME = re.compile(r"^(?P<paper>[a-z]+)_(?P<figure>[a-z]+\d+)_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)$")
HEADER_KEYS = ("paper", "figure", "title")
DOC_LINK = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`<>]+)>?`")
TOC_DIRECTIVE = re.compile(r"^```\{tableofcontents\}", re.M)

Problems = list[str]


def notebook_names(root: Path) -> list[str]:
    """The figure notebooks ``notebooks/*.py``, by name."""
    return sorted(p.stem for p in (root / "notebooks").glob("*.py"))


def variant_names(root: Path) -> list[str]:
    """The variants declared in ``notebooks/variants.yaml``."""
    path = root / "notebooks" / "variants.yaml"
    return sorted(yaml.safe_load(path.read_text()) or {}) if path.is_file() else []


def _read(root: Path, name: str):
    return _parse((root / "notebooks" / f"{name}.py").read_text())


@functools.lru_cache(maxsize=None)
def _parse(text: str):
    """A jupytext percent script as a notebook (cached by content: the copies below share unchanged notebooks)."""
    import jupytext

    return jupytext.reads(text, fmt="py:percent")


def _toc_sections(root: Path) -> dict[str, str]:
    """Every file listed in ``_toc.yml`` mapped to the chapter it is a section of (``""`` for a chapter or root)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = {toc["root"]: ""}
    stack = [(entry, "") for entry in toc.get("parts", []) + toc.get("chapters", [])]
    while stack:
        entry, parent = stack.pop()
        if "file" in entry:
            found[entry["file"]] = parent
        children = entry.get("chapters", []) + entry.get("sections", [])
        stack.extend((child, entry.get("file", parent)) for child in children)
    return found


def _figures_table(root: Path) -> str:
    """The rows of README.md's table under the heading ``## Figures``."""
    text = (root / "README.md").read_text()
    match = re.search(r"^## Figures\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not match:
        return ""
    return "\n".join(line for line in match.group(1).splitlines() if line.startswith("|"))


def check_names(root: Path) -> Problems:
    """Every notebook is named ``<paper>_<figure>_<slug>`` with a known paper prefix."""
    problems = []
    for name in notebook_names(root):
        match = NAME.match(name)
        if not match:
            problems.append(f"{name}: not of the form <paper>_<figure>_<slug> (e.g. duan_fig02_training_curves)")
        elif match["paper"] not in PAPERS:
            problems.append(f"{name}: unknown paper prefix {match['paper']!r} (known: {sorted(PAPERS)})")
    return problems


def check_headers(root: Path) -> Problems:
    """Every notebook's YAML header has an ``invlearn:`` block with non-empty ``paper``, ``figure`` and ``title``."""
    problems = []
    for name in notebook_names(root):
        meta = _read(root, name).metadata.get("invlearn") or {}
        missing = [key for key in HEADER_KEYS if not str(meta.get(key) or "").strip()]
        if missing:
            problems.append(f"{name}: header 'invlearn:' block lacks {missing}")
    return problems


def parameter_cell_problems(source: str) -> Problems:
    """Problems of a ``parameters`` cell: every statement a literal assignment to one name, each with a comment."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse: {exc}"]
    comments = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT and tok.string.lstrip("#").strip()
    }
    problems = []
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            problems.append(f"line {node.lineno} is not an assignment to one name")
            continue
        target = node.targets[0].id
        try:
            ast.literal_eval(node.value)
        except (ValueError, SyntaxError, TypeError):
            problems.append(f"{target} is not assigned a literal")
        if not comments & set(range(node.lineno, node.end_lineno + 1)):
            problems.append(f"{target} has no comment saying what it means")
    if not tree.body:
        problems.append("assigns nothing")
    return problems


def check_parameters(root: Path) -> Problems:
    """Every notebook has exactly one cell tagged ``parameters``: literal assignments, one comment each."""
    problems = []
    for name in notebook_names(root):
        cells = [c for c in _read(root, name).cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        if len(cells) != 1:
            problems.append(f"{name}: {len(cells)} cells tagged 'parameters' (expected 1)")
            continue
        problems += [f"{name}: parameters cell: {p}" for p in parameter_cell_problems(cells[0].source)]
    return problems


def check_quick_profile(root: Path) -> Problems:
    """Every notebook has an entry in ``notebooks/profiles/quick.yaml`` (``{}`` when its defaults are quick)."""
    quick = yaml.safe_load((root / "notebooks" / "profiles" / "quick.yaml").read_text()) or {}
    return [f"{name}: no entry in notebooks/profiles/quick.yaml" for name in notebook_names(root) if name not in quick]


def check_toc(root: Path) -> Problems:
    """Every notebook and every variant is a page ``book/generated/<name>`` of ``_toc.yml``."""
    files = _toc_sections(root)
    return [
        f"{name}: book/generated/{name} is not in _toc.yml"
        for name in notebook_names(root) + variant_names(root)
        if f"book/generated/{name}" not in files
    ]


def _paper_of(name: str, root: Path) -> str:
    if name in variant_names(root):
        name = (yaml.safe_load((root / "notebooks" / "variants.yaml").read_text())[name] or {}).get("notebook", "")
    match = NAME.match(name)
    return match["paper"] if match else ""


def _links(chapter_text: str, chapter: str) -> set[str]:
    """The documents a chapter page links with ``{doc}``, as paths from the repository root without suffix."""
    folder = chapter.rsplit("/", 1)[0]
    targets = set()
    for target in DOC_LINK.findall(chapter_text):
        target = target.strip()
        targets.add(target.lstrip("/") if target.startswith("/") else f"{folder}/{target}")
    return targets


def check_chapter_links(root: Path) -> Problems:
    """Every notebook and variant is linked from a chapter page of its paper: it is a section of that chapter in
    ``_toc.yml`` and the page either lists its sections (a ``{tableofcontents}`` directive) or links it with
    ``{doc}``. A page missing from ``_toc.yml`` is left to :func:`check_toc`."""
    sections = _toc_sections(root)
    problems = []
    for name in notebook_names(root) + variant_names(root):
        page = f"book/generated/{name}"
        if page not in sections:
            continue  # check_toc reports it
        chapter = sections[page]
        allowed = PAPERS.get(_paper_of(name, root), {}).get("chapters", ())
        if chapter not in allowed:
            problems.append(f"{name}: a section of {chapter or 'no chapter'} in _toc.yml, not of a chapter of its "
                            f"paper {list(allowed)}")
            continue
        path = root / f"{chapter}.md"
        text = path.read_text() if path.is_file() else ""
        if not (TOC_DIRECTIVE.search(text) or page in _links(text, chapter)):
            problems.append(f"{name}: {chapter}.md neither links it with {{doc}} nor has a {{tableofcontents}}")
    return problems


def check_readme(root: Path) -> Problems:
    """Every notebook's path, and every variant's name, appears in a row of README.md's figures table."""
    table = _figures_table(root)
    problems = [f"{name}: notebooks/{name}.py is not in README.md's figures table"
                for name in notebook_names(root) if f"`notebooks/{name}.py`" not in table]
    problems += [f"{name}: variant not in README.md's figures table"
                 for name in variant_names(root) if f"`{name}`" not in table]
    return problems


CHECKS: dict[str, Callable[[Path], Problems]] = {
    "name": check_names,
    "header": check_headers,
    "parameters": check_parameters,
    "quick_profile": check_quick_profile,
    "toc": check_toc,
    "chapter": check_chapter_links,
    "readme": check_readme,
}


# --- this repository -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CHECKS)
def test_every_notebook_is_registered(kind):
    problems = CHECKS[kind](ROOT)
    assert not problems, "\n".join(problems)


def test_paper_prefixes_name_the_paper_packages():
    """A new paper package needs a prefix here, and the layer test's list of paper packages needs the package."""
    assert {paper["package"] for paper in PAPERS.values()} == set(PAPER_PACKAGES)
    for paper in PAPERS.values():
        for chapter in paper["chapters"]:
            assert (ROOT / f"{chapter}.md").is_file(), chapter


def test_every_notebook_is_in_the_quick_profile_and_the_toc():
    """The runner's view: every notebook and variant it discovers runs under the quick profile and is in the toc."""
    specs = runner.discover(ROOT)
    assert set(specs) == set(notebook_names(ROOT)) | set(variant_names(ROOT))
    quick = yaml.safe_load((ROOT / "notebooks" / "profiles" / "quick.yaml").read_text())
    toc = (ROOT / "_toc.yml").read_text()
    for name in sorted(specs):
        assert specs[name].source in quick, f"{specs[name].source} has no quick profile"
        assert f"book/generated/{name}" in toc, f"{name} is not in _toc.yml"


# --- each check fails when one registration is removed -------------------------------------------------------------


def _copy(dest: Path) -> Path:
    for name in ("_toc.yml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks")
    shutil.copytree(ROOT / "book", dest / "book", ignore=shutil.ignore_patterns("generated"))
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: expected {old!r} once"
    path.write_text(text.replace(old, new))


def _drop_lines(path: Path, needle: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if needle not in line]
    assert len(kept) < len(lines), f"{path.name}: no line holds {needle!r}"
    path.write_text("".join(kept))


def _drop_toc_entry(root: Path, file: str) -> None:
    """Remove the toc entry of ``file`` with everything it carries (``title:``, sections)."""
    path = root / "_toc.yml"
    toc = yaml.safe_load(path.read_text())

    def prune(entries: list) -> list:
        kept = [e for e in entries if e.get("file") != file]
        for e in kept:
            for key in ("parts", "chapters", "sections"):
                if key in e:
                    e[key] = prune(e[key])
        return kept

    before = path.read_text()
    toc["parts"] = prune(toc["parts"])
    path.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False))
    assert file not in path.read_text() and file in before, f"_toc.yml: no entry {file}"


def _drop_quick_entry(root: Path, name: str) -> None:
    path = root / "notebooks" / "profiles" / "quick.yaml"
    quick = yaml.safe_load(path.read_text())
    del quick[name]
    path.write_text(yaml.safe_dump(quick, allow_unicode=True))


def _move_section(root: Path, name: str, chapter: str) -> None:
    """Make ``name`` a section of ``chapter`` instead of its own chapter."""
    path = root / "_toc.yml"
    _drop_lines(path, f"file: book/generated/{name}\n")
    _edit(path, f"- file: {chapter}\n        sections:\n",
          f"- file: {chapter}\n        sections:\n          - file: book/generated/{name}\n")


V = "duan_fig03_noninvariant_norm_5seeds"
NB = "notebooks"
REMOVALS: dict[str, tuple[str, str, Callable[[Path], None]]] = {
    # id: (check kind, the name that must be reported, how the copy is broken)
    "name-unknown-paper": ("name", "smith_fig02_incomplete_orbits", lambda r: (r / NB / "gideoni_fig02_incomplete_orbits.py")
                           .rename(r / NB / "smith_fig02_incomplete_orbits.py")),
    "name-no-figure": ("name", "duan_training_curves", lambda r: (r / NB / "duan_fig02_training_curves.py")
                       .rename(r / NB / "duan_training_curves.py")),
    "header-title": ("header", "gideoni_fig02_incomplete_orbits",
                     lambda r: _drop_lines(r / NB / "gideoni_fig02_incomplete_orbits.py", "#     title: ")),
    "header-paper": ("header", "flinth_a2_graph_connectivity",
                     lambda r: _drop_lines(r / NB / "flinth_a2_graph_connectivity.py", "#     paper: ")),
    "parameters-comment": ("parameters", "gideoni_fig02_incomplete_orbits",
                           lambda r: _edit(r / NB / "gideoni_fig02_incomplete_orbits.py",
                                           "n_points = 20  # training points, without their swapped copies [paper: 20] [allowed: ≥ 1]\n", "n_points = 20\n")),
    "parameters-literal": ("parameters", "nordenfors_b1_regularised_projection_error",
                           lambda r: _edit(r / NB / "nordenfors_b1_regularised_projection_error.py",
                                           "\nlr = 0.001  #", "\nlr = 1 / 1000  #")),
    "parameters-untagged": ("parameters", "duan_fig05_target_spectra",
                            lambda r: _edit(r / NB / "duan_fig05_target_spectra.py", '# %% tags=["parameters"]', "# %%")),
    "quick_profile": ("quick_profile", "duan_thm09_regularization_path",
                      lambda r: _drop_quick_entry(r, "duan_thm09_regularization_path")),
    "toc-notebook": ("toc", "flinth_a1_c4_cnn_distance",
                     lambda r: _drop_toc_entry(r, "book/generated/flinth_a1_c4_cnn_distance")),
    "toc-variant": ("toc", V, lambda r: _drop_toc_entry(r, f"book/generated/{V}")),
    "chapter-doc-link": ("chapter", "nordenfors_b1_regularised_projection_error",
                         lambda r: _drop_lines(r / "book" / "flinth_nordenfors.md",
                                               "generated/nordenfors_b1_regularised_projection_error")),
    "chapter-tableofcontents": ("chapter", "gideoni_fig04_swap_equivariance",
                                lambda r: _edit(r / "book" / "gideoni.md", "```{tableofcontents}\n```", "")),
    "chapter-other-paper": ("chapter", "gideoni_fig03_label_noise",
                            lambda r: _move_section(r, "gideoni_fig03_label_noise", "book/duan_montufar")),
    "readme-notebook": ("readme", "duan_fig05_target_spectra",
                        lambda r: _drop_lines(r / "README.md", "`notebooks/duan_fig05_target_spectra.py`")),
    "readme-variant": ("readme", V, lambda r: _drop_lines(r / "README.md", f"variant `{V}`")),
}


@pytest.mark.parametrize("case", REMOVALS)
def test_check_fails_when_a_registration_is_removed(tmp_path, case):
    kind, name, breaks = REMOVALS[case]
    root = _copy(tmp_path)
    assert CHECKS[kind](root) == [], "the copy starts fully registered"
    breaks(root)
    problems = CHECKS[kind](root)
    assert any(p.startswith(f"{name}: ") for p in problems), problems
    if kind != "name":  # a renamed file also loses its other registrations; every other removal is caught by one check
        others = {k: CHECKS[k](root) for k in CHECKS if k != kind}
        assert not any(others.values()), others


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a = 1  # one\nb = [0.1, 1.0]  # two\n", []),
        ("a = 1\n", ["a has no comment saying what it means"]),
        ("a = 1  #\n", ["a has no comment saying what it means"]),
        ("a = f(1)  # calls\n", ["a is not assigned a literal"]),
        ("a = b = 1  # chained\n", ["line 1 is not an assignment to one name"]),
        ("import os  # no\n", ["line 1 is not an assignment to one name"]),
        ("a = [\n    1,\n    2,\n]  # spans lines\n", []),
    ],
)
def test_parameter_cell_rules(source, expected):
    assert parameter_cell_problems(source) == expected
