"""Every notebook under the quick profile, then the strict book build, in a copy of the book
(so that a reader's paper-profile outputs in book/generated/ are never overwritten)."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, invlearn
from invlearn.book import apilinks, runner

SPECS = runner.discover(ROOT)
NOTEBOOKS = sorted(SPECS)  # notebooks and variants


def _copy_book(dest: Path) -> Path:
    for name in ("_config.yml", "_toc.yml", "jupytext.toml"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks")
    shutil.copytree(ROOT / "sweeps", dest / "sweeps")
    shutil.copytree(ROOT / "book", dest / "book", ignore=shutil.ignore_patterns("generated", "api"))  # api: generated stubs
    return dest


@pytest.fixture(scope="module")
def quick_book(tmp_path_factory) -> Path:
    book = _copy_book(tmp_path_factory.mktemp("quick_book"))
    result = invlearn("run", "--all", "--profile", "quick", "-j", "2", "--publish", cwd=book)
    # 3: every page made, some claim not reproduced; the per-page test below names it
    assert result.returncode in (0, 3), result.stdout + result.stderr
    assert invlearn("scorecard", cwd=book).returncode == 0
    return book


@pytest.fixture(scope="module")
def built_html(quick_book) -> Path:
    # autodoc imports the library of this checkout (the Library part documents it)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "lib"), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", ".", "-W", "-n", "--keep-going"], cwd=quick_book, capture_output=True, text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return quick_book / "_build" / "html"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_quick_profile_passes_its_check(quick_book, name):
    record = json.loads((quick_book / "book" / "generated" / f"{name}.json").read_text())
    assert record["profile"] == "quick"
    assert record["check"]["passed"] is True and record["check"]["checks"]
    assert record["series"] and record["metrics"]
    assert (quick_book / "book" / "generated" / "figures" / f"{name}.png").is_file()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_quick_page_is_honest(quick_book, name):
    """No result number typed into the page's markdown; every not-reproduced finding has a verdict; the protocol
    label agrees with the deviations and the page shows it."""
    record = json.loads((quick_book / "book" / "generated" / f"{name}.json").read_text())
    assert record["typed_numbers"] == [], f"{name}: result numbers typed into markdown: {record['typed_numbers']}"
    for claim, finding in record["check"]["findings"].items():
        assert finding["reproduced"] or finding["verdict"].strip(), f"{name}: finding {claim!r} has no verdict"
    label = "scaled" if record["deviations"] else "paper"
    assert record["protocol"] == label
    nb = json.loads((quick_book / "book" / "generated" / f"{name}.ipynb").read_text())
    box = [c for c in nb["cells"] if c["metadata"].get("invlearn", {}).get("role") == "protocol"]
    assert len(box) == 1 and f"Protocol: {label}" in "".join(box[0]["source"])
    assert all(d in "".join(box[0]["source"]) for d in record["deviations"])


@pytest.mark.parametrize("chapter", sorted((ROOT / "book").glob("*.md")), ids=lambda p: p.name)
def test_no_quick_result_number_typed_into_a_chapter(quick_book, chapter):
    from invlearn.book.audit import typed_numbers

    from test_trust import chapter_covers

    records = [json.loads(p.read_text()) for p in (quick_book / "book" / "generated").glob("*.json")
               if chapter_covers(chapter, p.stem)]
    hits = [hit for record in records if "metrics" in record
            for hit in typed_numbers(chapter.read_text(), record, chapter=True)]
    assert not hits, f"{chapter.name}: result numbers typed into prose: {hits}"


def test_fig2_result_file_schema(quick_book):
    record = json.loads((quick_book / "book" / "generated" / "duan_fig02_training_curves.json").read_text())
    names = {"DA", "constrained", "reg_0.001", "reg_0.01", "reg_0.1"}
    assert names <= set(record["series"]) and set(record["metrics"]["final_accuracy"]) == names
    epochs = record["parameters"]["epochs"]
    assert len(record["series"]["epoch"]) == epochs + 1
    for name in names:
        curve = record["series"][name]
        assert len(curve) == epochs + 1 and curve[-1] == record["metrics"]["final_accuracy"][name]
        assert all(0 <= v <= 1 for v in curve)


# --- clients: every way a researcher reruns a page leaves the book's outputs as they are ----------------------

CLIENT_PAGE = "duan_fig05_target_spectra"  # closed forms only: the cheapest page at its defaults (the script run)


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_every_client_leaves_the_books_outputs_byte_identical(quick_book, tmp_path):
    """``invlearn run -p``, the plain papermill command on a jupytext-converted notebook, ``python
    notebooks/<name>.py``, and JupyterLab (its jupytext contents manager opens and saves the ``.py`` as a notebook;
    the paired ``.ipynb`` executes) each run the page and write its result file to a scratch folder; the book's
    outputs stay byte-identical and the scorecard still builds."""
    gen = quick_book / "book" / "generated"
    before = _tree_digest(gen)
    assert f"{CLIENT_PAGE}.json" in before
    page = f"notebooks/{CLIENT_PAGE}.py"
    scratch = quick_book / "runs" / "interactive" / f"{CLIENT_PAGE}.json"

    # invlearn run with an override: an exploration run into runs/<page>/<profile>-<digest>/
    result = invlearn("run", CLIENT_PAGE, "-p", "n_samples=200", cwd=quick_book)
    assert result.returncode == 0, result.stderr
    folder = Path(re.search(rf"^  {CLIENT_PAGE}: (\S+)$", result.stderr, re.M).group(1))
    assert folder.parent == quick_book / "runs" / CLIENT_PAGE
    assert "KeyboardInterrupt" not in result.stdout + result.stderr  # no SIGINT at kernel shutdown
    assert json.loads((folder / f"{CLIENT_PAGE}.json").read_text())["parameters"]["n_samples"] == 200

    # the plain papermill command on the notebook converted by jupytext
    subprocess.run([_tool("jupytext"), "--to", "ipynb", page, "-o", str(tmp_path / "in.ipynb")], cwd=quick_book,
                   check=True, capture_output=True)
    result = subprocess.run([_tool("papermill"), str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"),
                             "-p", "n_samples", "200"], cwd=quick_book, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert scratch.is_file() and json.loads(scratch.read_text())["metrics"]
    scratch.unlink()

    # the notebook as a script
    result = subprocess.run([sys.executable, page], cwd=quick_book, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"result file: {scratch}" in result.stdout and scratch.is_file()
    scratch.unlink()

    # JupyterLab: open the .py as a notebook and save it (jupytext.toml pairs it with runs/jupyter/<name>.ipynb),
    # then execute the paired notebook as a Jupyter session would (its kernel runs in runs/jupyter/)
    from jupytext import TextFileContentsManager

    manager = TextFileContentsManager(root_dir=str(quick_book))
    model = manager.get(page)
    assert model["type"] == "notebook"
    manager.save(model, page)
    paired = quick_book / "runs" / "jupyter" / f"{CLIENT_PAGE}.ipynb"
    assert paired.is_file()
    saved = runner.read_spec(quick_book / page)  # a notebook saved by JupyterLab still reads as the same page
    assert saved.parameters == SPECS[CLIENT_PAGE].parameters and saved.data == SPECS[CLIENT_PAGE].data
    assert runner.light_spec(quick_book / page).parameters == saved.parameters
    result = subprocess.run([_tool("jupyter"), "nbconvert", "--to", "notebook", "--execute", str(paired),
                             "--output", "executed"], cwd=quick_book, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert scratch.is_file()

    assert _tree_digest(gen) == before
    assert invlearn("scorecard", cwd=quick_book).returncode == 0


DETERMINISM_RUN = ("gideoni_fig01_reflection_decay",  # SGD with reshuffles and Monte-Carlo draws, at small sizes
                   "-p", "epochs=20", "-p", "component_epochs=10", "-p", "control_models=3", "-p", "control_draws=50")


def test_same_page_and_parameters_give_identical_series(quick_book):
    """Two runs of one page with the same parameters, threads and no stored training runs give identical
    series, metrics (timings aside) and checks (CPU)."""
    name = DETERMINISM_RUN[0]
    env = {**os.environ, "INVLEARN_RUN_CACHE": "off", "OMP_NUM_THREADS": "1"}
    records = []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "invlearn", "run", *DETERMINISM_RUN, "--force"],
                                cwd=quick_book, capture_output=True, text=True, env=env)
        assert result.returncode in (0, 3), result.stderr[-3000:]
        folder = Path(re.search(rf"^  {name}: (\S+)$", result.stderr, re.M).group(1))
        records.append(json.loads((folder / f"{name}.json").read_text()))
    from invlearn.book.audit import without_timings

    assert records[0]["series"] and records[0]["series"] == records[1]["series"]
    assert without_timings(records[0]["metrics"]) == without_timings(records[1]["metrics"])
    assert records[0]["check"] == records[1]["check"]


def _toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]
    stack = list(toc.get("parts", [])) + list(toc.get("chapters", []))
    while stack:
        entry = stack.pop()
        if "file" in entry:
            files.append(entry["file"])
        stack.extend(entry.get("chapters", []) + entry.get("sections", []))
    return files


def test_every_toc_entry_produced_a_page(built_html):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for file in _toc_files(toc):
        page = built_html / f"{file}.html"
        assert page.is_file(), f"no page for {file}"
        assert len(page.read_text()) > 2000


def test_html_loads_no_external_resource(built_html):
    external = re.compile(r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)=[\"'](https?:)?//", re.I)
    font = re.compile(r"url\([\"']?(https?:)?//", re.I)
    for page in built_html.rglob("*.html"):
        text = page.read_text(errors="replace")
        assert not external.search(text), f"{page} loads {external.search(text).group(0)}"
    for css in built_html.rglob("*.css"):
        assert not font.search(css.read_text(errors="replace")), f"{css} loads a remote resource"


def test_math_renders_offline(built_html):
    page = (built_html / "book" / "duan_montufar.html").read_text()
    scripts = re.findall(r"<script[^>]*src=\"([^\"]*mathjax[^\"]*)\"", page, re.I)
    assert scripts, "no MathJax script on a page with math"
    for src in scripts:
        assert (built_html / "book" / src.split("?")[0]).resolve().is_file(), src


def test_fig2_page_and_scorecard(built_html):
    page = (built_html / "book" / "generated" / "duan_fig02_training_curves.html").read_text()
    assert re.search(r"<img[^>]+src=\"[^\"]+\.png\"", page)
    assert "Parameters of this run" in page and "Assumptions" in page
    assert "injected-parameters" not in page and "# Parameters" not in page
    scorecard = (built_html / "book" / "scorecard.html").read_text()
    assert "Fig. 2" in scorecard and "passed" in scorecard and "duan_fig02_training_curves.html" in scorecard
    assert "Summary" in scorecard and "findings reproduced" in scorecard and "scaled (" in scorecard
    assert "Protocol: scaled" in page


LIBRARY_PAGES = ("index", "core", "duan", "gideoni", "flinth", "book")


def _documented_modules() -> list[str]:
    """The modules listed for API pages in book/library/_templates/modules.rst."""
    text = (ROOT / "book" / "library" / "_templates" / "modules.rst").read_text()
    return re.findall(r"^   (invlearn\.[\w.]+)$", text, re.M)


def test_library_pages_exist(built_html):
    for name in LIBRARY_PAGES:
        page = built_html / "book" / "library" / f"{name}.html"
        assert page.is_file(), f"no library page {name}"
    modules = _documented_modules()
    assert len(modules) >= 25
    for module in modules:
        page = built_html / "book" / "library" / "api" / f"{module}.html"
        assert page.is_file(), f"no API page for {module}"
        assert f'id="module-{module}"' in page.read_text(), f"{module}'s page does not document the module"
        for href in set(re.findall(r'href="([^"#]*_modules/[^"#]+)', page.read_text())):  # the [source] links
            assert (page.parent / href).resolve().is_file(), f"{module}: no source page {href}"
    sources = list((built_html / "_modules" / "invlearn").rglob("*.html"))
    assert len(sources) >= len(modules) - 2, "modules without a source page"


def test_fig2_page_links_to_the_api_and_the_source(built_html):
    page = (built_html / "book" / "generated" / "duan_fig02_training_curves.html").read_text()
    assert apilinks.LIBRARY_CELL_TITLE in page
    target = "invlearn.duan.pages.html#invlearn.duan.pages.linear_runs"
    link = re.search(rf'href="([^"]*/{re.escape(target)})"', page)
    assert link, "the Fig. 2 page does not link to linear_runs"
    api = (built_html / "book" / "generated" / link.group(1).split("#")[0]).resolve()
    assert api == built_html / "book" / "library" / "api" / "invlearn.duan.pages.html"
    api_text = api.read_text()
    assert 'id="invlearn.duan.pages.linear_runs"' in api_text
    source = re.search(r'href="([^"]*_modules/invlearn/duan/pages\.html)#linear_runs"', api_text)
    assert source, "no [source] link for linear_runs"
    source_page = (api.parent / source.group(1)).resolve()
    assert source_page.is_file() and "def linear_runs" in re.sub(r"<[^>]+>", "", source_page.read_text())


def test_every_page_links_the_library_objects_it_uses(quick_book, built_html):
    from sphinx.util.inventory import InventoryFile

    with open(built_html / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    documented = {name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries}
    for name in NOTEBOOKS:
        nb = json.loads((quick_book / "book" / "generated" / f"{name}.ipynb").read_text())
        cells = [c for c in nb["cells"] if c["cell_type"] == "markdown" and apilinks.LIBRARY_CELL_TITLE in "".join(c["source"])]
        assert len(cells) == 1, f"{name}: {len(cells)} library cells"
        linked = set(re.findall(r"\{py:obj\}`~?([\w.]+)`", "".join(cells[0]["source"])))
        assert set(apilinks.notebook_objects(nb)) <= linked, name
        assert linked <= documented, f"{name} links undocumented objects {sorted(linked - documented)}"


def fig2_reading_order(page: str) -> list[int]:
    """Positions in the Fig 2 page of: the figure image, the check table, the parameters table, the assumptions."""
    figure = re.search(r"<img[^>]+src=\"[^\"]+\.png\"", page)
    check = re.search(r"<table[^>]*class=\"[^\"]*dataframe", page)
    assert figure and check, "no figure image or no check table on the Fig 2 page"
    return [figure.start(), check.start(), page.index("Parameters of this run"), page.index("<h2>Assumptions<")]


def test_fig2_page_reads_figure_then_check_then_parameters(built_html):
    page = (built_html / "book" / "generated" / "duan_fig02_training_curves.html").read_text()
    positions = fig2_reading_order(page)
    assert positions == sorted(positions), positions
    assert len(re.findall(r"<img[^>]+src=\"[^\"]+\.png\"", page)) == 1  # the figure is shown once
    tables = re.findall(r"<table[^>]*class=\"[^\"]*dataframe.*?</table>", page, re.S)
    assert tables and len(tables) == len(set(tables))  # check, findings and control tables, each shown once
    assert page.count('id="fig-duan-02"') == 1
    assert "Parameters and code" in page


def link_texts(page: str) -> list[str]:
    """The text of every link of an HTML page (sidebar, body, previous/next) as a reader sees it: math that MathJax
    typesets (a ``math`` span, e.g. in the previous/next links) becomes ``[math]``, any other TeX stays raw."""
    links = re.findall(r"<a\b[^>]*>(.*?)</a>", page, re.S)
    typeset = [re.sub(r"<span class=\"math[^\"]*\">.*?</span>", "[math]", text, flags=re.S) for text in links]
    return [re.sub(r"<[^>]+>", "", text).strip() for text in typeset]


def test_no_raw_tex_in_link_texts_of_the_theory_chapter(built_html):
    page = (built_html / "book" / "duan_theory.html").read_text()
    texts = link_texts(page)
    assert any("Theorem 6" in t for t in texts) and any("(ZΠ)ᵣP⁻¹" in t for t in texts)
    raw = [t for t in texts if "\\" in t or "$" in t]
    assert not raw, raw


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_default_profile_passes_its_check(tmp_path, name):
    book = _copy_book(tmp_path)
    result = invlearn("run", name, cwd=book, timeout=3600)
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads((book / "book" / "generated" / f"{name}.json").read_text())
    assert record["profile"] == "default" and record["check"]["passed"] is True
