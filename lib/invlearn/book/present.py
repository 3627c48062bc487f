"""Lay out an executed figure notebook for the reader: claim, figure, verdict, check, then parameters and code.

The runner executes a notebook in its source order (setup, computation, figure, check, notes). A reader wants the
result first. :func:`present_page` reorders the *executed* notebook, generically, by cell roles read from tags and
metadata; the notebook source is not changed and every executed output is kept (moved, never recomputed):

1. **Title and claim** — the first markdown cell whose text starts with a level-1 (``#``) heading, with the markdown cells
   directly after it (up to the first code cell); then, given the run's result record, a "not reproduced" banner
   when a check failed and the protocol box (``paper``, or ``scaled`` with its deviations).
2. **Figure** — every code cell with ``mystnb.figure`` metadata: a copy shows its image outputs (``remove-input``)
   with the figure's caption and label.
3. **What this run shows** — the *reading* cells under a generated heading: a code cell tagged ``reading`` (it
   displays Markdown computed from the run's numbers), or, untagged, a code cell whose outputs are all Markdown and
   that directly follows a markdown cell mentioning "what this run shows".
4. **Check** — the code cells tagged ``check`` or calling ``save_results(`` / ``check_table(``: their outputs
   (``remove-input``), after the ``## Check`` markdown cell that precedes the first of them (moved here) or a
   generated ``## Check`` heading.
5. **Controls** — every *control section* (a markdown heading mentioning "control", e.g. ``### Control: …``, and
   the cells up to the next heading), moved as a whole with its outputs under a generated ``## Controls`` heading:
   the experiments that decide the verdicts of the findings; their code cells collapsed (``hide-input``), their
   figures in place.
6. **Parameters and code** — a generated heading, the table of the parameters of this run, then every remaining
   cell in source order: the ``parameters`` cell and papermill's ``injected-parameters`` cell removed
   (``remove-cell``); figure, reading and check cells with their input but their output removed (``remove-output``;
   reading and check inputs also collapsed, ``hide-input``), so nothing is shown twice and figure labels stay unique;
   *setup* cells collapsed (``hide-input``). The notes at the end of the notebook ("Where this differs from the
   paper", "Assumptions") stay at the end.

A **setup** cell is a code cell with at least one import whose statements are all imports, assignments, function
or class definitions, bare calls and ``if`` branches made of those (no loop, no ``with``, no displayed expression):
bookkeeping a reader may expand, not an analysis step. A cell tagged ``setup`` counts as one too.

Tags the notebooks may set: ``reading``, ``check``, ``setup`` (see above). Cells the step generates carry
``metadata.invlearn.role`` (``banner``, ``protocol``, ``figure``, ``reading``, ``check``, ``heading``, ``parameters``,
``pointer``, ``variant``);
moved source cells keep their metadata and gain ``metadata.invlearn.role`` too.

A **variant** page (:func:`retitle_variant`) gets its own title, a line naming the notebook it runs, and figure
labels suffixed with the variant's name.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from invlearn.book.runner import NotebookSpec

__all__ = [
    "READING_TAG",
    "CHECK_TAG",
    "SETUP_TAG",
    "PARAMETERS_HEADING",
    "READING_HEADING",
    "parameters_markdown",
    "protocol_markdown",
    "banner_markdown",
    "present_page",
    "retitle_variant",
    "is_setup_source",
]

READING_TAG = "reading"
CHECK_TAG = "check"
SETUP_TAG = "setup"
PARAMETERS_HEADING = "## Parameters and code"
READING_HEADING = "## What this run shows"
CHECK_HEADING = "## Check"

CONTROLS_HEADING = "## Controls"
_CONTROL = re.compile(r"#{1,6}\s.*\bcontrol", re.I)
_READING_LEAD = re.compile(r"what this run shows", re.I)
_CHECK_CALL = re.compile(r"\b(save_results|check_table)\(")


def parameters_markdown(spec: NotebookSpec, params: Mapping[str, Any], profile: str) -> str:
    """The table of a run's parameters: this run | our default | paper | allowed | meaning. A value of this run that
    differs from the paper's stated value is in bold; "not stated" marks a parameter the paper leaves open;
    "allowed" gives the values a run may set (:mod:`invlearn.book.allowed`)."""
    from invlearn.book.protocol import NOT_STATED, same_value

    rows = [
        f"**Parameters of this run** (profile `{profile}`; values of this run that differ from the paper's are in "
        f"bold; rerun with `invlearn run {spec.name} -p name=value`, or `--profile paper` for every paper value):",
        "",
        "| parameter | this run | our default | paper | allowed | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for p in spec.parameters.values():
        value = params.get(p.name, p.default)
        shown = f"`{value!r}`"
        if p.paper == NOT_STATED:
            paper = "not stated"
        else:
            paper = f"`{p.paper!r}`" if not isinstance(p.paper, str) else p.paper.replace("|", "/")
            if not same_value(value, p.paper):
                shown = f"**{shown}**"
        allowed = p.allowed.text.replace("|", "or") if p.allowed else "any"
        rows.append(f"| `{p.name}` | {shown} | `{p.default!r}` | {paper} | {allowed} | {p.help.replace('|', '/')} |")
    return "\n".join(rows)


def protocol_markdown(record: Mapping[str, Any]) -> str:
    """The page's protocol box: ``paper`` when the run matches the paper's protocol and data, else ``scaled`` with
    every deviation (``name: ours vs paper``)."""
    found = list(record.get("deviations") or [])
    if record.get("protocol") == "paper" and not found:
        return ":::{admonition} Protocol: paper\n:class: tip\nEvery parameter the paper states and the data are "\
               "the paper's.\n:::"
    lines = [f":::{{admonition}} Protocol: scaled — {len(found)} deviation{'s' if len(found) != 1 else ''} from the paper",
             ":class: note", "This run differs from the paper's protocol (ours vs paper):", ""]
    lines += [f"* {d}" for d in found]
    lines.append(":::")
    return "\n".join(lines)


def banner_markdown(record: Mapping[str, Any]) -> str:
    """A "not reproduced" banner naming the failed checks; ``""`` when every check holds."""
    from invlearn.book.results import failed_checks

    failed = failed_checks(record)
    if not failed:
        return ""
    lines = [":::{admonition} Not reproduced by this run", ":class: error",
             "The page's claim fails at these parameters. Failed checks:", ""]
    lines += [f"* {name}" for name in failed]
    lines.append(":::")
    return "\n".join(lines)


def is_setup_source(source: str) -> bool:
    """True for bookkeeping code: at least one import, and only imports, assignments, definitions, bare calls and
    ``if`` branches made of those (no loop, no ``with``, no displayed expression)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    has_import = any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in body)
    return has_import and _plain(body)


def _plain(body: list) -> bool:
    """Imports, assignments, definitions, bare calls, and ``if`` branches made only of those (configuration)."""
    allowed = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.ClassDef)
    return all(
        isinstance(node, allowed)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
        or (isinstance(node, ast.If) and _plain(node.body) and _plain(node.orelse))
        for node in body
    )


def _tags(cell) -> list[str]:
    return cell.setdefault("metadata", {}).setdefault("tags", [])


def _add_tags(cell, *tags: str) -> None:
    current = _tags(cell)
    current.extend(t for t in tags if t not in current)


def _mark(cell, role: str):
    cell.setdefault("metadata", {}).setdefault("invlearn", {})["role"] = role
    return cell


def _is_figure(cell) -> bool:
    return cell.cell_type == "code" and "figure" in cell.get("metadata", {}).get("mystnb", {})


def _only_markdown_outputs(cell) -> bool:
    outputs = cell.get("outputs", [])
    return bool(outputs) and all(
        o.get("output_type") in ("display_data", "execute_result") and "text/markdown" in o.get("data", {})
        for o in outputs
    )


def _is_reading(cells: list, index: int) -> bool:
    cell = cells[index]
    if cell.cell_type != "code":
        return False
    if READING_TAG in cell.get("metadata", {}).get("tags", []):
        return True
    previous = cells[index - 1] if index > 0 else None
    return (_only_markdown_outputs(cell) and previous is not None and previous.cell_type == "markdown"
            and bool(_READING_LEAD.search(previous.source)))


def _is_check(cell) -> bool:
    return cell.cell_type == "code" and (
        CHECK_TAG in cell.get("metadata", {}).get("tags", []) or bool(_CHECK_CALL.search(cell.source)))


def _is_setup(cell) -> bool:
    return cell.cell_type == "code" and (
        SETUP_TAG in cell.get("metadata", {}).get("tags", []) or is_setup_source(cell.source))


def _top_copy(cell, role: str, suffix: str):
    """A copy of an executed code cell showing only its outputs, with a fresh cell id."""
    top = copy.deepcopy(cell)
    if "id" in top:
        top["id"] = f"{cell['id'][:56]}-{suffix}"
    _add_tags(top, "remove-input")
    return _mark(top, role)


def _images(cell) -> list:
    """A figure cell's image outputs: a text result of its last line would get the figure's label a second time."""
    return [o for o in cell.get("outputs", []) if any(k.startswith("image/") for k in o.get("data", {}))]


def _drop_figure_metadata(cell) -> None:
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    mystnb.pop("figure", None)
    if not mystnb:
        cell["metadata"].pop("mystnb", None)


def present_page(nb, spec: NotebookSpec, params: Mapping[str, Any], profile: str,
                 record: Mapping[str, Any] | None = None) -> None:
    """Reorder the executed notebook ``nb`` in place for display (see the module docstring); variants retitled.
    With the run's result ``record``, a "not reproduced" banner (failed checks) and the protocol box (paper or
    scaled with its deviations) follow the title."""
    import nbformat

    def markdown(text: str, role: str):
        return _mark(nbformat.v4.new_markdown_cell(text), role)

    cells = list(nb.cells)
    title_end = 0
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            title_end = i + 1
            while title_end < len(cells) and cells[title_end].cell_type == "markdown":
                title_end += 1
            break
    head, body = cells[:title_end], cells[title_end:]

    figures, readings, checks, controls, rest = [], [], [], [], []
    check_intro = None
    in_control = False
    for i, cell in enumerate(body):
        tags = _tags(cell)
        heading = cell.cell_type == "markdown" and cell.source.lstrip().startswith("#")
        if heading:
            in_control = bool(_CONTROL.match(cell.source.lstrip().splitlines()[0]))
        if in_control:
            if cell.cell_type == "code":
                _add_tags(cell, "hide-input")
                if _is_figure(cell):
                    cell["outputs"] = _images(cell)
            controls.append(_mark(cell, "control"))
            continue
        if "parameters" in tags or "injected-parameters" in tags:
            _add_tags(cell, "remove-cell")
        elif _is_figure(cell):
            top = _top_copy(cell, "figure", "figure")
            top["outputs"] = _images(top)
            figures.append(top)
            _drop_figure_metadata(cell)
            _add_tags(cell, "remove-output")
            _mark(cell, "figure-code")
        elif _is_reading(body, i):
            readings.append(_top_copy(cell, "reading", "reading"))
            _add_tags(cell, "hide-input", "remove-output")
            _mark(cell, "reading-code")
            rest.append(cell)
            rest.append(markdown(f"*The output of this cell is shown at the top of the page, under "
                                 f"“{READING_HEADING.lstrip('# ')}”.*", "pointer"))
            continue
        elif _is_check(cell):
            if not checks and rest and rest[-1].cell_type == "markdown" and \
                    rest[-1].source.lstrip().lower().startswith(CHECK_HEADING.lower()):
                check_intro = _mark(rest.pop(), "check-intro")
            checks.append(_top_copy(cell, "check", "check"))
            _add_tags(cell, "hide-input", "remove-output")
            _mark(cell, "check-code")
        elif _is_setup(cell):
            _add_tags(cell, "hide-input")
            _mark(cell, "setup")
        rest.append(cell)

    page = list(head)
    if record is not None:
        banner = banner_markdown(record)
        if banner:
            page.append(markdown(banner, "banner"))
        page.append(markdown(protocol_markdown(record), "protocol"))
    page += figures
    if readings:
        page += [markdown(READING_HEADING, "heading"), *readings]
    if checks:
        page += [check_intro or markdown(CHECK_HEADING, "heading"), *checks]
    if controls:
        page += [markdown(CONTROLS_HEADING, "heading"), *controls]
    page += [markdown(PARAMETERS_HEADING, "heading"), markdown(parameters_markdown(spec, params, profile), "parameters")]
    page += rest
    nb.cells = page
    if spec.is_variant:
        retitle_variant(nb, spec)


def retitle_variant(nb, spec: NotebookSpec) -> None:
    """A variant's page: its own title as the first heading, a line naming the notebook it runs, and figure labels
    suffixed with the variant's name (labels must be unique across the book)."""
    import nbformat

    for cell in nb.cells:
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if "name" in figure:
            figure["name"] = f"{figure['name']}-{spec.name}"

    fixed = ", ".join(f"`{k} = {v!r}`" for k, v in spec.fixed.items())
    note = _mark(nbformat.v4.new_markdown_cell(
        f"*Variant `{spec.name}` of {{doc}}`{spec.source} <{spec.source}>`, run with {fixed}.*"), "variant")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            cell.source = "\n".join([f"# {spec.title}", *cell.source.lstrip().splitlines()[1:]])
            nb.cells.insert(index + 1, note)
            return
    nb.cells[:0] = [nbformat.v4.new_markdown_cell(f"# {spec.title}"), note]
