"""The allowed values of a notebook parameter, declared next to its default and checked before any kernel starts.

A parameter states its allowed values at the end of its comment in the ``parameters`` cell, as ``[allowed: …]``
(beside its ``[paper: …]``, see :mod:`invlearn.book.protocol`)::

    epochs = 3000  # full-batch epochs [paper: 3000] [allowed: ≥ 1]
    lr = 0.001  # Adam learning rate [paper: 0.001] [allowed: > 0]
    n_samples = 1000  # training digits [allowed: ≥ 1, ≤ mnist]
    pixel = [3, 3]  # pixel (row, column) [allowed: ≥ 0, ≤ 13, len 2]
    noise_per = "copy"  # noise per row or per orbit [allowed: copy | orbit]

The text is a comma-separated list of terms, each of which must hold:

- ``OP BOUND`` with ``OP`` one of ``≥ > ≤ <`` and ``BOUND`` a number or a data-source size: ``mnist`` is the
  number of MNIST training digits a kernel would find (60,000 with full MNIST on disk, else the 5,000 embedded
  digits), ``mnist_test`` the test digits (0 without full MNIST);
- ``len N`` or ``len OP N``: the length of a list parameter;
- ``A | B | C``: the value is one of these (words or Python literals).

The signs are ``≥`` and ``≤``, not ``>=`` and ``<=``: papermill stops reading a parameter line whose comment holds
``=`` (:func:`invlearn.book.runner.read_spec` refuses such a cell).

For a list parameter, bounds and choices apply to every element and ``len`` to the list. The runner checks every
value a run would use (``-p``, profiles, variants, every point of a sweep) with :func:`violation` and exits 2 with
the allowed values before a kernel starts.
"""

from __future__ import annotations

import ast
import math
import operator
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Allowed", "parse_allowed", "split_allowed", "violation", "data_sizes"]

_BRACKET = re.compile(r"\s*\[allowed:\s*([^\]]*)\]")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "≥": operator.ge, ">": operator.gt, "≤": operator.le, "<": operator.lt, "=": operator.eq,
}
_TERM = re.compile(r"^(len\s*)?(≥|≤|>|<)\s*(\S+)$")
_LENGTH = re.compile(r"^len\s+(\d+)$")


@dataclass(frozen=True)
class Allowed:
    """A parsed ``[allowed: …]``: ``text`` as written; ``bounds`` ``(op, number or symbol)`` on the value (each
    element of a list); ``lengths`` ``(op, n)`` on a list's length; ``choices`` the permitted values (empty: any)."""

    text: str = ""
    bounds: tuple[tuple[str, float | str], ...] = ()
    lengths: tuple[tuple[str, int], ...] = ()
    choices: tuple[Any, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.text)


def _literal(word: str) -> Any:
    try:
        return ast.literal_eval(word)
    except (ValueError, SyntaxError):
        return word


def parse_allowed(text: str) -> Allowed:
    """``"≥ 1, ≤ mnist"`` -> :class:`Allowed` (see the module docstring for the grammar).

    Raises:
        ValueError: a term that is neither a bound, a length nor a list of choices.
    """
    text = text.strip()
    bounds, lengths, choices = [], [], ()
    for term in (t.strip() for t in text.split(",") if t.strip()):
        match, exact = _TERM.match(term), _LENGTH.match(term)
        if exact:
            lengths.append(("=", int(exact.group(1))))
        elif match:
            length, op, raw = match.groups()
            value = _literal(raw)
            if length:
                if not isinstance(value, int):
                    raise ValueError(f"[allowed: {text}]: a length bound must be an integer, got {raw!r}")
                lengths.append((op, value))
            else:
                if not (isinstance(value, (int, float)) or (isinstance(value, str) and value.isidentifier())):
                    raise ValueError(f"[allowed: {text}]: bound {raw!r} is neither a number nor a data size")
                bounds.append((op, value))
        elif "|" in term:
            choices = tuple(_literal(w.strip()) for w in term.split("|"))
        else:
            raise ValueError(f"[allowed: {text}]: cannot read {term!r} (expected OP BOUND, len N, len OP N or A | B)")
    return Allowed(text, tuple(bounds), tuple(lengths), choices)


def split_allowed(comment: str) -> tuple[str, Allowed]:
    """A parameter comment ``"meaning [allowed: …]"`` -> ``("meaning", Allowed)`` (an empty :class:`Allowed`
    when the comment has none)."""
    match = _BRACKET.search(comment)
    if match is None:
        return comment, Allowed()
    return (comment[: match.start()] + comment[match.end():]).rstrip(), parse_allowed(match.group(1))


def data_sizes(cwd: str | os.PathLike | None = None) -> dict[str, int]:
    """The data-source sizes a bound may name: ``mnist`` (training digits) and ``mnist_test`` (test digits) that a
    kernel running in ``cwd`` would find (read from the IDX headers; no digit is loaded)."""
    from invlearn.core.datasource import mnist_sizes

    return mnist_sizes(cwd=cwd)


def _describe(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _same_choice(value: Any, choice: Any) -> bool:
    """``value == choice`` with numbers compared as numbers and never a bool as a number."""
    if isinstance(value, bool) or isinstance(choice, bool):
        return value is choice
    if isinstance(value, (int, float)) and isinstance(choice, (int, float)):
        return value == choice
    return type(value) is type(choice) and value == choice


def violation(allowed: Allowed, value: Any,
              sizes: Mapping[str, int] | Callable[[], Mapping[str, int]] | None = data_sizes) -> str:
    """Why ``value`` is not allowed (``""`` when it is). ``sizes`` gives the data-source sizes a bound names (a
    mapping, or a function called only when a bound needs one); ``None`` skips the bounds that name one (a
    notebook's own default, whose data sizes depend on the machine that runs it)."""
    if not allowed or value is None:
        return ""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)):
        for op, n in allowed.lengths:
            if not _OPS[op](len(value), n):
                return f"length {len(value)} is not {'' if op == '=' else op + ' '}{n}"
    known = None
    for item in items:
        if allowed.choices and not any(_same_choice(item, c) for c in allowed.choices):
            return f"{_describe(item)} is not one of {' | '.join(map(_describe, allowed.choices))}"
        for op, bound in allowed.bounds:
            if isinstance(bound, str):
                if sizes is None:
                    continue
                if known is None:
                    known = sizes() if callable(sizes) else sizes
                if bound not in known:
                    return f"unknown data size {bound!r} (known: {', '.join(known)})"
                limit: float = known[bound]
                shown = f"{bound} = {limit:,}"
            else:
                limit, shown = bound, repr(bound)
            if not isinstance(item, (int, float)) or isinstance(item, bool):
                return f"{_describe(item)} is not a number (bound {op} {shown})"
            if isinstance(item, float) and math.isnan(item) or not _OPS[op](item, limit):
                return f"{item!r} is not {op} {shown}"
    return ""
