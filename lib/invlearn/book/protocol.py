"""The paper's protocol, declared once per notebook, and the label of a run: ``paper`` or ``scaled``.

A notebook declares the paper's value of each parameter at the end of that parameter's comment in the
``parameters`` cell, as ``[paper: VALUE]`` (``VALUE`` in YAML flow syntax: ``3000``, ``0.001``, ``[0.001, 0.01]``,
``full batch``)::

    epochs = 3000  # full-batch epochs [paper: 3000]
    lr = 0.01  # Adam learning rate; betas (0.9, 0.999) [paper: 0.001]
    rise = 0.01  # minimal rise counted as non-monotone (our check's tolerance)

The paper value is the value of the paper's protocol: stated in the paper or shown by its figure, or, where the
paper is silent and the authors' released code fixes it, the code's value (the comment then says "author's code").
A parameter without the bracket is one the protocol does not fix (our choice, a check tolerance, a seed): the page
says "not stated" and it does not enter the label. The notebook header's ``data:`` entry names the paper's data in
the words :func:`invlearn.core.data.data_label` uses (``MNIST (full)``), or ``synthetic`` for data generated from
the parameters; the notebook passes the data it used to :func:`invlearn.book.results.save_results`.

A run is at the **paper protocol** only when every parameter with a paper value has that value and the data are
the paper's; otherwise it is **scaled**, with one deviation per difference, ``name: ours vs paper``.

Profiles: ``default`` runs the notebooks' own defaults (the book), ``paper`` sets every parameter to its paper
value (:func:`paper_overrides`), ``quick`` reads ``notebooks/profiles/quick.yaml`` (tests and CI).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from invlearn.book.runner import NotebookSpec

__all__ = [
    "NOT_STATED",
    "SYNTHETIC",
    "split_comment",
    "same_value",
    "paper_overrides",
    "deviations",
    "protocol_label",
    "format_value",
]

NOT_STATED = "not stated"
"""The paper value of a parameter whose comment has no ``[paper: …]``."""
SYNTHETIC = "synthetic"
"""The header ``data:`` of a page whose data are generated from its parameters."""

_BRACKET = re.compile(r"\[paper:\s*")


def split_comment(comment: str) -> tuple[str, Any]:
    """A parameter comment ``"meaning [paper: VALUE]"`` -> ``("meaning", VALUE)``; without the bracket the paper
    value is :data:`NOT_STATED`. ``VALUE`` is read as a Python literal, else as YAML flow (numbers, lists, words: ``true``, ``full batch``); brackets may nest.

    Raises:
        ValueError: an unclosed ``[paper:`` bracket.
    """
    import yaml

    match = _BRACKET.search(comment)
    if match is None:
        return comment.strip(), NOT_STATED
    depth, end = 1, None
    for i in range(match.end(), len(comment)):
        depth += {"[": 1, "]": -1}.get(comment[i], 0)
        if depth == 0:
            end = i
            break
    if end is None:
        raise ValueError(f"unclosed [paper: ...] in parameter comment {comment!r}")
    raw = comment[match.end():end].strip()
    try:
        value = ast.literal_eval(raw)  # Python literals first: YAML reads 1e-3 as a string
    except (ValueError, SyntaxError):
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
    if value is None or isinstance(value, (dict, set)):
        value = raw
    help_text = (comment[: match.start()] + comment[end + 1:]).strip().rstrip(";,").strip()
    return help_text, value


def same_value(ours: Any, paper: Any) -> bool:
    """Equality of a run's value and the paper's: numbers to 1e-12 relative, sequences elementwise, else ``==``."""
    if isinstance(ours, bool) or isinstance(paper, bool):
        return isinstance(ours, bool) and isinstance(paper, bool) and ours == paper
    if isinstance(ours, (int, float)) and isinstance(paper, (int, float)):
        return math.isclose(float(ours), float(paper), rel_tol=1e-12, abs_tol=0.0)
    if isinstance(ours, (list, tuple)) and isinstance(paper, (list, tuple)):
        return len(ours) == len(paper) and all(same_value(a, b) for a, b in zip(ours, paper))
    return ours == paper


def format_value(value: Any) -> str:
    """A value as the parameters table and the deviations show it (``repr`` for literals, words as they are)."""
    return value if isinstance(value, str) else repr(value)


def paper_overrides(spec: NotebookSpec) -> dict[str, Any]:
    """The ``paper`` profile of a notebook: every stated paper value whose type fits the parameter's default (a
    paper value written in words, e.g. ``5,000 train + 5,000 test``, cannot be run and stays a deviation)."""
    from invlearn.book.runner import ParameterError, validate_parameters

    stated = {p.name: p.paper for p in spec.parameters.values() if p.paper != NOT_STATED}
    out = {}
    for name, value in stated.items():
        try:
            out.update(validate_parameters(spec, {name: value}, origin="paper values"))
        except ParameterError:
            continue
    return out


def deviations(spec: NotebookSpec, params: Mapping[str, Any], data: str | None, paper_data: str | None) -> list[str]:
    """Every difference between this run and the paper's protocol, ``"name: ours vs paper"``, in parameter order,
    the data last.

    Args:
        spec: the notebook (its parameters carry their paper values).
        params: the run's parameters that differ from the defaults (the defaults fill the rest).
        data: the data the run recorded (``None``: generated from the parameters).
        paper_data: the header's ``data:`` entry (``None``: not declared).
    """
    out = []
    for p in spec.parameters.values():
        if p.paper == NOT_STATED:
            continue
        ours = params.get(p.name, p.default)
        if not same_value(ours, p.paper):
            out.append(f"{p.name}: {format_value(ours)} vs {format_value(p.paper)}")
    ours_data = data if data is not None else SYNTHETIC
    if paper_data is None:
        out.append(f"data: {ours_data} vs not declared")
    elif ours_data != paper_data:
        out.append(f"data: {ours_data} vs {paper_data}")
    return out


def protocol_label(found: list[str]) -> str:
    """``"paper"`` when there is no deviation, else ``"scaled"``."""
    return "scaled" if found else "paper"
