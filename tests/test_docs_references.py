"""The documentation names only things that exist: every ``invlearn.…`` reference in README.md, CONTRIBUTING.md and
the hand-written book pages resolves (a module, or an attribute of one), every repository file they name in
backticks exists, and README's *Layout* table lists exactly the modules of each layer."""

from __future__ import annotations

import importlib
import re

import pytest

from conftest import ROOT

DOCS = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "book").glob("*.md")])
REFERENCE = re.compile(r"(?<![\w/.])invlearn(?:\.[A-Za-z_]\w*)+")
PATH = re.compile(r"`((?:lib|notebooks|tests|sweeps|benchmarks|scripts|book)/[^`\s]*)`")
UNCHECKED_PATH = re.compile(r"[<>*{}]|^book/generated/|^book/library/api/")  # templates and build outputs
LIB = ROOT / "lib" / "invlearn"


def resolve(reference: str) -> bool:
    """``invlearn.a.b.c``: import the longest module prefix, then look up the rest as attributes."""
    parts = reference.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return False
        return True
    return False


def references(text: str) -> set[str]:
    return set(REFERENCE.findall(text))


REFERENCES = sorted({(doc.relative_to(ROOT).as_posix(), ref) for doc in DOCS for ref in references(doc.read_text())})


def test_the_docs_name_modules():
    """The scan sees the references (guards against a pattern that matches nothing)."""
    docs = {doc for doc, _ in REFERENCES}
    assert {"README.md", "CONTRIBUTING.md"} <= docs and any(d.startswith("book/") for d in docs)


@pytest.mark.parametrize(("doc", "reference"), REFERENCES, ids=[f"{d}:{r}" for d, r in REFERENCES])
def test_reference_resolves(doc, reference):
    assert resolve(reference), f"{doc} names {reference}, which does not exist"


@pytest.mark.parametrize(
    ("reference", "exists"),
    [
        ("invlearn.core.training.train", True),
        ("invlearn.book.sweep.collect", True),
        ("invlearn.theory", False),  # the flat layout before the layers
        ("invlearn.core.plotting.no_such_function", False),
        ("invlearn.flinth.c4cnn", True),
        ("invlearn.c4cnn", False),
    ],
)
def test_resolve(reference, exists):
    assert resolve(reference) is exists


def test_reference_pattern():
    text = "`invlearn.core.groups.OrbitProjector`: see lib/invlearn.toml, `invlearn.<paper>.plots`, python -m invlearn."
    assert references(text) == {"invlearn.core.groups.OrbitProjector"}


def test_named_files_exist():
    missing = []
    for doc in DOCS:
        for path in PATH.findall(doc.read_text()):
            if not UNCHECKED_PATH.search(path) and not (ROOT / path.rstrip("/")).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {path}")
    assert not missing, missing


def layout_table(readme: str) -> dict[str, set[str]]:
    """README's *Layout* rows for ``lib/invlearn/<layer>/``: layer -> the names in backticks of its row."""
    section = re.search(r"^## Layout\s*$(.*?)(?=^## |\Z)", readme, re.M | re.S).group(1)
    rows = {}
    for match in re.finditer(r"^\| `lib/invlearn/(\w+)/` \|(.*)\|\s*$", section, re.M):
        rows[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    return rows


def test_layout_table_lists_every_module():
    rows = layout_table((ROOT / "README.md").read_text())
    layers = {p.name for p in LIB.iterdir() if (p / "__init__.py").is_file()}
    assert set(rows) == layers
    for layer, names in rows.items():
        modules = {p.stem for p in (LIB / layer).glob("*.py") if p.stem != "__init__"}
        assert names == modules, f"lib/invlearn/{layer}/: README lists {sorted(names)}, the package has {sorted(modules)}"
