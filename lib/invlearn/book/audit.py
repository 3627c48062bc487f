"""Audits of a page's honesty that need no kernel: result numbers typed into prose.

The text that reads a figure must be generated from the run's numbers; a number typed into a notebook's markdown
silently becomes false under another seed, profile or library change. :func:`typed_numbers` finds the numbers of a
markdown text that equal, to the digits written, one of a result file's metrics (and are not one of the run's
parameter values). The runner records the hits of each page in its result file (``typed_numbers``); the tests
require none. Timing metrics (keys with ``seconds``, ``hours``, ``time``, a ``_s`` suffix) are machine-dependent, not results: skipped.

What counts as a number: decimal and scientific notation (``0.38``, ``4e-4``, ``1,000``, ``3×10^{-2}``) outside math
(``$…$``), inline code and links; a one-significant-digit number must be within 5 % of the metric. Integers of one digit are not counted (small counts); an integer matches only an integer-valued metric exactly.
Nor numbers after ``Fig.``, ``§``, ``Thm``, ``Prop``,
``Table``, ``Eq.`` and the like (references).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["notebook_markdown", "strip_code", "prose_numbers", "typed_numbers", "is_timing", "without_timings"]

_REFERENCE = re.compile(r"(Fig\.|Figs\.|Figure|Figures|§|Thm|Theorem|Prop\.?|Proposition|Lemma|Eq\.|Eqs\.|Table|Sec\.|"
                        r"Section|App\.|Appendix|Cor\.|Corollary|Def\.|Definition|arXiv:?|v)\s*$")
_TIMING = re.compile(r"(second|minute|hour|_s$|_s\.|time|elapsed)", re.I)
"""Metric keys that are wall-clock timings: machine-dependent, never a result a page reads."""
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?(?:[eE][-−+]?\d+)?|\.\d+)(?:\s*[×x]\s*10\^?\{?([-−]?\d+)\}?)?")


def notebook_markdown(path: str | os.PathLike) -> str:
    """The text of the markdown cells of a jupytext percent script (``# %% [markdown]`` cells), comment marks removed."""
    lines, inside = [], False
    for line in Path(path).read_text().splitlines():
        if line.startswith("# %%"):
            inside = "[markdown]" in line
            continue
        if inside and line.startswith("#"):
            lines.append(line[1:])
    return "\n".join(lines)


def strip_code(text: str) -> str:
    """``text`` without display and inline math, inline code, roles and link targets (numbers there are not prose)."""
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"\{\w+\}`[^`]*`", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def prose_numbers(text: str) -> list[tuple[str, float, int]]:
    """The numbers written in prose ``text`` (see the module docstring): ``(as written, value, significant digits)``."""
    out = []
    text = strip_code(text)
    for match in _NUMBER.finditer(text):
        if _REFERENCE.search(text[max(0, match.start() - 12):match.start()]):
            continue
        raw = match.group(1).replace(",", "")
        mantissa = re.split(r"[eE]", raw)[0]
        try:
            value = float(raw.replace("−", "-"))
        except ValueError:
            continue
        if match.group(2):
            value *= 10 ** int(match.group(2).replace("−", "-"))
        if "." not in mantissa and "e" not in raw.lower() and not match.group(2) and abs(value) < 10:
            continue
        digits = mantissa.replace(".", "").lstrip("0")
        if "." not in mantissa:
            digits = digits.rstrip("0")
        written = match.group(0).strip()
        after = text[match.end():match.end() + 4].lstrip()
        if after[:1] in ("×", "%") and not match.group(2) and not after[1:2].strip().isdigit():
            written += after[0]  # a ratio or a percentage: a result even when written as an integer
        out.append((written, value, max(len(digits), 1)))
    return out


def is_timing(key: str) -> bool:
    """Whether a metric key names a wall-clock timing (``train_seconds``, ``runtime_s``, ``fit_time``)."""
    return bool(_TIMING.search(key))


def without_timings(value: Any) -> Any:
    """``value`` (nested mappings and lists) without the entries whose keys are timings (:func:`is_timing`): what
    two runs of one page must agree on exactly."""
    if isinstance(value, Mapping):
        return {k: without_timings(v) for k, v in value.items() if not is_timing(str(k))}
    if isinstance(value, (list, tuple)):
        return [without_timings(v) for v in value]
    return value


def _leaves(value: Any) -> Iterator[tuple[str, float]]:
    stack = [("", value)]
    while stack:
        prefix, item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend((f"{prefix}.{k}" if prefix else str(k), v) for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{prefix}[{i}]", v) for i, v in enumerate(item[:64]))
        elif isinstance(item, (int, float)) and not isinstance(item, bool) and math.isfinite(item):
            yield prefix, float(item)


def _equal_as_written(written: float, digits: int, metric: float) -> bool:
    """``metric`` rounds to ``written`` at its significant digits; a one-digit number (``0.2``, ``4e-4``) must also
    be within 5 % of the metric, since rounding to one digit would match half of all numbers by chance."""
    if metric == 0.0 or written == 0.0:
        return False
    rounded = float(f"{abs(metric):.{digits}g}")
    if not math.isclose(rounded, abs(written), rel_tol=1e-9):
        return False
    return digits > 1 or math.isclose(abs(metric), abs(written), rel_tol=0.05)


def typed_numbers(markdown: str, record: Mapping[str, Any], *, chapter: bool = False,
                  known: frozenset[float] = frozenset()) -> list[str]:
    """The numbers of ``markdown`` equal to a metric of the result ``record`` that are not one of the run's parameter
    values (nor in ``known``): ``["'0.38' equals metrics.ratio = 0.3812", …]``.

    A number written with a decimal point or an exponent matches a metric that rounds to it at its significant
    digits; an integer matches an integer-valued metric exactly (a count typed into prose), never a rounded float,
    unless it is written as a ratio or percentage (``20×``, ``35%``).
    ``chapter=True`` (a chapter page speaking of many figures and of the paper's constants) matches only numbers
    written with two or more significant digits and a decimal point or exponent.
    """
    parameter_values = {v for _, v in _leaves(record.get("parameters") or {})} | set(known)
    metrics = sorted((k, v) for k, v in _leaves(record.get("metrics") or {})
                     if v not in parameter_values and not _TIMING.search(k))
    hits = []
    for written, value, digits in prose_numbers(markdown):
        if value in parameter_values:
            continue
        integer = not re.search(r"[.eE×%]", written)
        if chapter and (integer or digits < 2):
            continue
        for key, metric in metrics:
            equal = (metric == value and float(metric).is_integer()) if integer else _equal_as_written(value, digits, metric)
            if equal:
                hits.append(f"{written!r} equals metrics.{key} = {metric:.6g}")
                break
    return hits
