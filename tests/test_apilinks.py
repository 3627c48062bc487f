"""The links from a figure page to the library code it uses (``invlearn.book.apilinks``)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import ROOT
from invlearn.book import apilinks

LIB = ROOT / "lib"


def _fake_library(tmp_path: Path) -> Path:
    """A small ``invlearn`` package: a submodule with functions, a constant, a private name, an ``__all__`` and a
    re-exported name."""
    pkg = tmp_path / "invlearn"
    (pkg / "paper").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "paper" / "__init__.py").write_text("")
    (pkg / "paper" / "core.py").write_text(textwrap.dedent("""
        __all__ = ["fit", "LABELS", "Model"]
        LABELS = ("a", "b")
        def fit(x): return x
        def helper(x): return x          # public but not in __all__: not documented
        def _private(x): return x
        class Model: pass
    """))
    (pkg / "paper" / "plots.py").write_text(textwrap.dedent("""
        from .core import fit as refit   # a re-export, linked at its definition
        def draw(x): return x
        def _hidden(x): return x
    """))
    return tmp_path


def test_imports_aliases_and_attribute_uses(tmp_path):
    lib = _fake_library(tmp_path)
    cells = [
        "from invlearn.paper.core import fit, LABELS as names\nfrom invlearn.paper import plots as pl\n%matplotlib inline",
        "import invlearn.paper.core as pc\nimport os\nm = pc.Model()\npl.draw(fit(1))\npl._hidden(1)\npc.helper(2)",
        "from invlearn.paper.plots import refit\nos.path.join('a')\nnot_a_module.attr\n",
    ]
    assert apilinks.used_objects(cells, lib) == [
        "invlearn.paper.core",
        "invlearn.paper.core.LABELS",
        "invlearn.paper.core.Model",
        "invlearn.paper.core.fit",
        "invlearn.paper.plots",
        "invlearn.paper.plots.draw",
    ]


def test_dotted_import_without_alias(tmp_path):
    lib = _fake_library(tmp_path)
    found = apilinks.used_objects(["import invlearn.paper.plots\ninvlearn.paper.plots.draw(1)\ninvlearn.paper.core.fit(2)"], lib)
    assert found == ["invlearn.paper", "invlearn.paper.core", "invlearn.paper.core.fit", "invlearn.paper.plots",
                     "invlearn.paper.plots.draw"]


def test_markdown_and_placement(tmp_path):
    lib = _fake_library(tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_markdown_cell("**Parameters of this run**"),
        nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters", "remove-cell"]}),
        nbformat.v4.new_code_cell("n = 2", metadata={"tags": ["injected-parameters", "remove-cell"]}),
        nbformat.v4.new_code_cell("from invlearn.paper import plots\nplots.draw(n)"),
    ]
    apilinks.add_library_links(nb, lib)
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "code", "code", "markdown", "code"]
    text = nb.cells[4].source
    assert apilinks.LIBRARY_CELL_TITLE in text
    assert "* {py:obj}`invlearn.paper.plots`: {py:obj}`~invlearn.paper.plots.draw`" in text
    empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os")])
    apilinks.add_library_links(empty, lib)
    assert len(empty.cells) == 1


def test_modules_listed_paper_first_then_core_then_book():
    text = apilinks.links_markdown(["invlearn.book.results.save_results", "invlearn.core.plotting.save_figure",
                                    "invlearn.duan.linear.train_linear_methods", "invlearn.core.plotting"], LIB)
    lines = [line for line in text.splitlines() if line.startswith("* ")]
    assert [line.split("`")[1] for line in lines] == ["invlearn.duan.linear", "invlearn.core.plotting",
                                                      "invlearn.book.results"]


NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_linked_object_of_a_real_notebook_exists(name):
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    found = apilinks.notebook_objects(nb, LIB)
    assert found, f"{name} links no library code"
    for full in found:
        try:
            importlib.import_module(full)
            continue
        except ModuleNotFoundError:
            pass
        module, attr = full.rsplit(".", 1)
        obj = getattr(importlib.import_module(module), attr)
        defined_in = getattr(obj, "__module__", module)
        assert defined_in == module, f"{full} is defined in {defined_in}, its API entry is there"
    # every name the notebook imports from invlearn is linked (directly or as its definition)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for line in code.splitlines():
        if line.startswith("from invlearn.") and "(" not in line:
            module = line.split()[1]
            for imported in line.split(" import ", 1)[1].split(","):
                name_ = imported.split(" as ")[0].strip()
                assert any(f.endswith(f".{name_}") for f in found), f"{name}: {module}.{name_} is not linked"


def test_fig02_links_its_training_function():
    nb = jupytext.read(ROOT / "notebooks" / "duan_fig02_training_curves.py")
    assert "invlearn.duan.pages.linear_runs" in apilinks.notebook_objects(nb, LIB)


def test_book_layer_stays_import_light():
    code = "import sys, invlearn.book.apilinks, invlearn.book.runner; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(LIB)})
    loaded = set(json.loads(out.stdout))
    assert not {"torch", "invlearn.duan", "invlearn.gideoni", "invlearn.flinth", "nbformat"} & loaded


def test_library_pages_document_every_module():
    """Every module has an API page (generated from the list in modules.rst) and is listed on its layer's page."""
    generated = (ROOT / "book" / "library" / "_templates" / "modules.rst").read_text()
    for module in _modules():
        assert f"   {module}\n" in generated, f"{module} has no API page: add it to book/library/_templates/modules.rst"
        layer_page = ROOT / "book" / "library" / f"{module.split('.')[1]}.md"
        assert f"   {module}\n" in layer_page.read_text(), f"{module} is not listed on {layer_page.name}"


def _modules() -> list[str]:
    package = LIB / "invlearn"
    modules = [".".join(p.relative_to(LIB).with_suffix("").parts) for p in package.glob("*/*.py")]
    return sorted(m for m in modules if not m.endswith("__init__"))


def test_runner_puts_the_links_after_the_parameters_table(tmp_path):
    """End to end: ``invlearn run`` on a tiny notebook; the library cell follows the table and the hidden cells."""
    from conftest import invlearn
    from test_runner import TINY

    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "tiny.py").write_text(TINY)
    for args, hidden in [((), ["parameters"]), (("-p", "value=3"), ["parameters", "injected-parameters"])]:
        result = invlearn("run", "tiny", *args, "--publish", cwd=tmp_path)  # papermill injects a cell only for given values
        assert result.returncode == 0, result.stdout + result.stderr
        cells = json.loads((tmp_path / "book" / "generated" / "tiny.ipynb").read_text())["cells"]
        sources = ["".join(c["source"]) for c in cells]
        tags = [c["metadata"].get("tags", []) for c in cells]
        table = next(i for i, s in enumerate(sources) if "Parameters of this run" in s)
        links = table + 1 + len(hidden)
        assert [tag for t in tags[table + 1:links] for tag in t if tag != "remove-cell"] == hidden
        assert sources[links].startswith(f"**{apilinks.LIBRARY_CELL_TITLE}**")
        assert "{py:obj}`~invlearn.book.results.save_results`" in sources[links]
        assert sum(apilinks.LIBRARY_CELL_TITLE in s for s in sources) == 1
