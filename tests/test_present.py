"""The presentation step of the runner on a small synthetic executed notebook (no kernel)."""

import copy
import dataclasses
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from invlearn.book import present
from invlearn.book.runner import NotebookSpec, Parameter

v4 = nbformat.v4

SPEC = NotebookSpec(
    name="demo", path=Path("demo.py"), paper="Nobody (2000)", figure="Fig. 0", title="a demo",
    parameters={"epochs": Parameter("epochs", 100, "int", "training epochs", 100),
                "lr": Parameter("lr", 0.1, "float", "learning rate")},
)


def _png(tag: str):
    return v4.new_output("display_data", data={"image/png": f"PNG-{tag}", "text/plain": f"<Figure {tag}>"})


def _md_out(text: str):
    return v4.new_output("display_data", data={"text/markdown": text, "text/plain": "<Markdown>"})


def _code(source: str, outputs=(), tags=(), **metadata):
    cell = v4.new_code_cell(source, outputs=list(outputs), metadata=dict(metadata))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def executed_notebook():
    """The cell pattern of the book's notebooks, with outputs as papermill leaves them."""
    cells = [
        v4.new_markdown_cell("# Fig. 0 — a claim\n\n**Claim.** Something holds."),
        v4.new_markdown_cell("**Setup.** More prose about the claim."),
        _code("epochs = 100  # training epochs\nlr = 0.1  # learning rate", tags=["parameters"]),
        _code("# Parameters\nepochs = 10\n", tags=["injected-parameters"]),
        _code("import time\n\nfrom x import y\n\nNOTEBOOK = 'demo'\nstarted = time.perf_counter()\ny.style()\n"
              "def helper(a):\n    return a\n"),
        v4.new_markdown_cell("Train the networks."),
        _code("runs = train(epochs)\nprint(runs)", outputs=[v4.new_output("stream", name="stdout", text="runs\n")]),
        _code("fig = plot(runs)", outputs=[_png("a")], mystnb={"figure": {"caption": "A.", "name": "fig-demo-a"}}),
        _code("fig = plot2(runs)", outputs=[_png("b")], mystnb={"figure": {"caption": "B.", "name": "fig-demo-b"}}),
        v4.new_markdown_cell("## Check\n\nAsserted: the claim."),
        _code("checks = {'ok': True}\nsave_results('demo', checks=checks)\ndisplay(check_table(checks))",
              outputs=[v4.new_output("display_data", data={"text/html": "<table>check</table>", "text/plain": "t"})]),
        v4.new_markdown_cell("## Where this differs from the paper\n\nWhat this run shows, read from the numbers above:"),
        _code("display(Markdown(summary))", outputs=[_md_out("* **Verdict** one")]),
        _code("display(Markdown(more))", outputs=[_md_out("* **Verdict** two")], tags=["reading"]),
        v4.new_markdown_cell("The data used."),
        _code("display(Markdown(split_note))", outputs=[_md_out("500 digits")]),
        v4.new_markdown_cell("## Assumptions\n\n* none"),
    ]
    return v4.new_notebook(cells=cells)


def _role(cell) -> str:
    return cell.metadata.get("invlearn", {}).get("role", "")


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _visible_outputs(nb) -> Counter:
    shown = Counter()
    for cell in nb.cells:
        if cell.cell_type == "code" and not {"remove-cell", "remove-output"} & set(_tags(cell)):
            for out in cell.outputs:
                shown[repr(sorted(out.get("data", {"text": out.get("text")}).items()))] += 1
    return shown


@pytest.fixture()
def page():
    nb = executed_notebook()
    original = copy.deepcopy(nb)
    present.present_page(nb, SPEC, {"epochs": 10}, "quick")
    nbformat.validate(nb)
    return original, nb


def test_reader_order(page):
    _, nb = page
    roles = [_role(c) for c in nb.cells]
    sources = [c.source for c in nb.cells]
    assert sources[0].startswith("# Fig. 0") and sources[1].startswith("**Setup.**")
    assert roles[2:12] == ["figure", "figure", "heading", "reading", "reading", "check-intro", "check", "heading",
                           "parameters", ""]
    assert sources[4] == present.READING_HEADING and sources[7].startswith("## Check")
    assert sources[9] == present.PARAMETERS_HEADING
    assert "**`10`**" in sources[10] and "`0.1`" in sources[10] and "Parameters of this run" in sources[10]
    assert "| `lr` | `0.1` | `0.1` | not stated |" in sources[10]  # bold only where this run differs from the paper
    assert nb.cells[-1].source.startswith("## Assumptions")
    # the figures in source order, the tagged and the detected reading cells in source order
    assert [c.metadata["mystnb"]["figure"]["name"] for c in nb.cells[2:4]] == ["fig-demo-a", "fig-demo-b"]
    assert [c.outputs[0]["data"]["text/markdown"] for c in nb.cells[5:7]] == ["* **Verdict** one", "* **Verdict** two"]


def test_code_section_keeps_every_source_cell_in_order(page):
    original, nb = page
    code_section = nb.cells[[c.source for c in nb.cells].index(present.PARAMETERS_HEADING) + 2:]
    kept = [c.source for c in code_section if _role(c) != "pointer"]
    moved = {"## Check\n\nAsserted: the claim."}  # the check's prose goes to the top with its table
    assert kept == [c.source for c in original.cells[2:] if c.source not in moved]


def test_every_output_is_shown_once_and_kept(page):
    original, nb = page
    assert _visible_outputs(nb) == _visible_outputs(original)
    assert all(n == 1 for n in _visible_outputs(nb).values())
    # executed outputs stay in the notebook file, hidden by tags rather than deleted
    by_source = {c.source: c for c in nb.cells if c.cell_type == "code" and "remove-input" not in _tags(c)}
    for cell in original.cells:
        if cell.cell_type == "code":
            assert by_source[cell.source].outputs == cell.outputs


def test_tags_of_each_role(page):
    _, nb = page
    by_role = {}
    for cell in nb.cells:
        by_role.setdefault(_role(cell), []).append(cell)
    assert all("remove-input" in _tags(c) for r in ("figure", "reading", "check") for c in by_role[r])
    assert all({"hide-input", "remove-output"} <= set(_tags(c)) for r in ("reading-code", "check-code")
               for c in by_role[r])
    assert "remove-output" in _tags(by_role["figure-code"][0]) and "mystnb" not in by_role["figure-code"][0].metadata
    assert [c.source.splitlines()[0] for c in by_role["setup"]] == ["import time"]
    assert "hide-input" in _tags(by_role["setup"][0])
    removed = [c for c in nb.cells if "remove-cell" in _tags(c)]
    assert [_tags(c)[0] for c in removed] == ["parameters", "injected-parameters"]
    # computation cells and a Markdown display outside "what this run shows" stay as they are
    for source in ("runs = train(epochs)\nprint(runs)", "display(Markdown(split_note))"):
        cell = next(c for c in nb.cells if c.source == source)
        assert _tags(cell) == [] and _role(cell) == ""


def test_figure_labels_and_cell_ids_unique(page):
    _, nb = page
    names = [c.metadata["mystnb"]["figure"]["name"] for c in nb.cells if "figure" in c.metadata.get("mystnb", {})]
    assert sorted(names) == ["fig-demo-a", "fig-demo-b"]
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))


def test_variant_page_is_retitled_with_unique_labels():
    variant = dataclasses.replace(SPEC, name="demo_long", notebook="demo", fixed={"epochs": 500},
                                  title="Fig. 0 at 500 epochs")
    nb = executed_notebook()
    present.present_page(nb, variant, {"epochs": 500}, "paper")
    nbformat.validate(nb)
    assert nb.cells[0].source.startswith("# Fig. 0 at 500 epochs\n")
    assert _role(nb.cells[1]) == "variant" and "Variant `demo_long`" in nb.cells[1].source
    names = [c.metadata["mystnb"]["figure"]["name"] for c in nb.cells if "figure" in c.metadata.get("mystnb", {})]
    assert names == ["fig-demo-a-demo_long", "fig-demo-b-demo_long"]


def test_page_without_title_figure_or_check():
    nb = v4.new_notebook(cells=[_code("x = 1  # a value", tags=["parameters"]),
                                _code("print(x)", outputs=[v4.new_output("stream", name="stdout", text="1\n")])])
    present.present_page(nb, SPEC, {}, "paper")
    assert [c.source for c in nb.cells[:1]] == [present.PARAMETERS_HEADING]
    assert [_role(c) for c in nb.cells[:2]] == ["heading", "parameters"] and len(nb.cells) == 4
    assert "**`" not in nb.cells[1].source  # nothing differs from the defaults


@pytest.mark.parametrize("source,expected", [
    ("import a\nfrom b import c\nX = 1\nc.setup()\ndef f():\n    return 1\n", True),
    ("X = 1\nY = f(X)\n", False),  # no import: a computation step
    ("import a\nfor i in range(3):\n    a.step(i)\n", False),
    ("import a\nif a.ok:\n    a.configure(1)\nelse:\n    X = 2\n", True),  # configuration
    ("import a\nif a.ok:\n    for i in range(3):\n        a.step(i)\n", False),
    ("import a\nwith a.ctx():\n    a.run()\n", False),
    ("import a\na.value\n", False),  # a bare expression is displayed: not bookkeeping
    ("%matplotlib inline\nimport a\n", False),
])
def test_setup_rule(source, expected):
    assert present.is_setup_source(source) is expected


def test_control_sections_follow_the_check_with_their_figures():
    nb = executed_notebook()
    text_result = v4.new_output("execute_result", data={"text/plain": "'saved.png'"}, execution_count=1)
    control = [
        v4.new_markdown_cell("### Control: the claim over many seeds"),
        _code("table = control(20)\ndisplay(table)", outputs=[v4.new_output("stream", name="stdout", text="20 seeds\n")]),
        _code("fig = plot(table)\nsave(fig)", outputs=[text_result, _png("c")],
              mystnb={"figure": {"caption": "C.", "name": "fig-demo-control"}}),
    ]
    check_at = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Check"))
    nb.cells[check_at:check_at] = control
    nb.cells[7].outputs.insert(0, text_result)  # a figure cell whose last line returns text
    present.present_page(nb, SPEC, {}, "default")
    roles = [_role(c) for c in nb.cells]
    sources = [c.source for c in nb.cells]
    heading = sources.index(present.CONTROLS_HEADING)
    assert roles.index("check") < heading < roles.index("parameters")
    assert sources[heading + 1].startswith("### Control") and roles[heading + 1:heading + 4] == ["control"] * 3
    moved_figure = nb.cells[heading + 3]
    assert moved_figure.metadata["mystnb"]["figure"]["name"] == "fig-demo-control" and len(moved_figure.outputs) == 1
    assert "hide-input" in moved_figure.metadata["tags"]
    names = [c.metadata.get("mystnb", {}).get("figure", {}).get("name") for c in nb.cells]
    assert names.count("fig-demo-control") == 1 and names.count("fig-demo-a") == 1
    top_a = next(c for c in nb.cells if _role(c) == "figure")
    assert [o["output_type"] for o in top_a.outputs] == ["display_data"]  # the text result dropped
