"""Plots of the Flinth & Ohlsson / Nordenfors & Flinth pages: per-run distance curves (A1), log-scale runs (B1)
and the two-panel run paths ‖A − A⁰‖ vs ‖A_𝓔⊥‖ (A2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from invlearn.core.plotting import finish_axes, hide_unused

__all__ = ["RunsPanel", "runs_panels", "run_paths", "log_run_panels", "run_path_panels", "mode_path_panels", "noise_panel", "shapes_examples"]


@dataclass
class RunsPanel:
    """One axes of :func:`runs_panels`: every run as a thin line and the median over runs as a thick one.

    Attributes:
        runs: ``name -> (x (T,), values (R, T))``, one row per run.
        colors: matplotlib colour per name (default: the palette in order).
        labels: legend text per name.
        linestyles: per name (default solid).
        hlines: ``(y, label)`` dashed grey reference lines.
        ylim: axis limits (default automatic).
        xticks: axis ticks (default automatic).
        integer_x: automatic x ticks at integers only.
        logy: logarithmic y.
        sci: y tick labels in scientific notation (linear axes).
    """

    xlabel: str
    ylabel: str
    runs: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    colors: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    linestyles: Mapping[str, str] = field(default_factory=dict)
    hlines: Sequence[tuple[float, str]] = ()
    ylim: tuple[float, float] | None = None
    xticks: Sequence[float] | None = None
    integer_x: bool = False
    logy: bool = False
    sci: bool = False
    title: str | None = None


def runs_panels(panels: Sequence[RunsPanel], *, suptitle: str | None = None, thin: float = 0.5, thick: float = 2.0,
                ncols: int | None = None) -> Figure:
    """A row (or grid) of :class:`RunsPanel` s: thin per-run lines (width ``thin``) under a thick median (``thick``).

    The legend names the medians; with one run the median is that run."""
    ncols = ncols or len(panels)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.9 * nrows), squeeze=False)
    palette = sns.color_palette(n_colors=10)
    for ax, panel in zip(axes.flat, panels):
        for i, (name, (x, values)) in enumerate(panel.runs.items()):
            values = np.atleast_2d(np.asarray(values, dtype=float))
            color = panel.colors.get(name, palette[i % len(palette)])
            style = panel.linestyles.get(name, "-")
            run_paths(ax, np.asarray(x, dtype=float), values, color=color, linestyle=style,
                      label=panel.labels.get(name, name), thin_alpha=0.8, thin_width=thin, median_width=thick)
        if panel.logy:
            ax.set_yscale("log")
        elif panel.sci:
            ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        if panel.ylim is not None:
            ax.set_ylim(*panel.ylim)
        if panel.xticks is not None:
            ax.set_xticks(list(panel.xticks))
        elif panel.integer_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        finish_axes(ax, panel)
    hide_unused(axes, len(panels))
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def run_paths(
    ax: plt.Axes,
    x: np.ndarray,
    y: np.ndarray,
    *,
    color: str,
    linestyle: str = "-",
    label: str | None = None,
    thin_alpha: float = 0.1,
    thin_width: float = 1.0,
    median_width: float = 2.5,
) -> np.ndarray:
    """One thin line per run and a thick line through the per-step medians over runs.

    Args:
        x, y: ``(R, T)``, run ``r`` drawn as the path ``(x[r, t], y[r, t])``; a ``(T,)`` ``x`` is shared by all runs.
    Returns:
        ``(2, T)``: the median path ``(median_r x[r, t], median_r y[r, t])``.
    """
    x = np.broadcast_to(x, y.shape)
    for xr, yr in zip(x, y):
        ax.plot(xr, yr, color=color, linestyle=linestyle, linewidth=thin_width, alpha=thin_alpha)
    median = np.stack([np.median(x, axis=0), np.median(y, axis=0)])
    ax.plot(*median, color=color, linestyle=linestyle, linewidth=median_width, label=label)
    return median


def log_run_panels(
    x: np.ndarray,
    panels: Sequence[Mapping[str, np.ndarray]],
    *,
    styles: Mapping[str, tuple[str, str]],
    titles: Sequence[str],
    xlabel: str,
    ylabel: str,
    ylim: tuple[float, float],
    labels: Mapping[str, str] | None = None,
    overlays: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    overlay_label: str = "theory",
    thin_alpha: float = 0.1,
) -> Figure:
    """A row of log-y panels, each with :func:`run_paths` curves (thin line per run, thick median) per series.

    Args:
        x: ``(T,)`` shared abscissa (e.g. SGD steps).
        panels: per panel ``name -> (R, T)`` values, drawn in the given order.
        styles: ``name -> (colour, linestyle)``.
        overlays: per panel an optional ``(x', y')`` theory curve, drawn thin, dark and dotted.
        ylim: y-limits of every panel (log scale).
    """
    labels = labels or {}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.2), squeeze=False, sharey=True)
    for i, (ax, series) in enumerate(zip(axes[0], panels)):
        for name, values in series.items():
            color, linestyle = styles[name]
            run_paths(ax, x, values, color=color, linestyle=linestyle, label=labels.get(name, name), thin_alpha=thin_alpha)
        if overlays is not None and overlays[i] is not None:
            ax.plot(*overlays[i], color="0.15", linestyle=":", linewidth=1.4, label=overlay_label)
        ax.set_yscale("log")
        ax.set_ylim(*ylim)
        ax.set_xlim(float(x[0]), float(x[-1]))
        ax.set_title(titles[i])
        ax.set_xlabel(xlabel)
        if i == 0:
            ax.set_ylabel(ylabel)
        ax.legend(frameon=True, fontsize="large" if len(series) <= 3 else "medium")
    fig.tight_layout()
    return fig


def run_path_panels(
    paths: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    styles: Mapping[str, tuple[str, str]],
    ylims: Sequence[float],
    xlabel: str,
    ylabel: str,
    labels: Mapping[str, str] | None = None,
    titles: Sequence[str] | None = None,
    suptitle: str | None = None,
    thin_alpha: float = 0.1,
) -> Figure:
    """Side-by-side panels holding the same :func:`run_paths` curves, each with its own upper y-limit (a zoom).

    Args:
        paths: ``name -> (x (R, T), y (R, T))``, drawn in the given order.
        styles: ``name -> (colour, linestyle)``.
        ylims: one upper y-limit per panel (lower limit 0).
    Axes use scientific-notation tick labels.
    """
    labels = labels or {}
    fig, axes = plt.subplots(1, len(ylims), figsize=(5.4 * len(ylims), 4.2), squeeze=False)
    for i, (ax, top) in enumerate(zip(axes[0], ylims)):
        for name, (x, y) in paths.items():
            color, linestyle = styles[name]
            run_paths(ax, x, y, color=color, linestyle=linestyle, label=labels.get(name, name), thin_alpha=thin_alpha)
        ax.set_ylim(0, top)
        ax.set_xlim(left=0)
        ax.ticklabel_format(style="sci", axis="both", scilimits=(0, 0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if titles:
            ax.set_title(titles[i])
        ax.legend(frameon=True, fontsize="small")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def mode_path_panels(
    distance: np.ndarray,
    perp: np.ndarray,
    modes: Sequence[str],
    passes: Sequence[int],
    *,
    suptitle: str,
    thin_alpha: float = 0.1,
) -> Figure:
    """The two-panel figure of A2–A5: ``‖A_E⊥‖`` against ``‖A − A⁰‖`` per training mode, all modes (left, y up to
    1.5 × the largest nominal median) and a zoom (right, 1.5 × the largest augmented median).

    Args:
        distance, perp: ``(R, T+1, M)`` per run, step and mode.
        modes: ``(M,)`` names: ``equivariant``, ``augmented``, ``nominal`` and extra ``augmented (L = l)`` models.
        passes: ``(M,)`` augmentation passes of each mode (0 for equivariant and nominal).
    Colours and line styles of the authors' figure: equivariant green solid, augmented blue dashed, nominal red
    dotted; extra augmented models light blue dash-dot.
    """
    styles = {"equivariant": ("tab:green", "-"), "augmented": ("tab:blue", "--"), "nominal": ("tab:red", ":")}
    labels = {"equivariant": "Equivariant", "augmented": f"Augmented (L = {passes[list(modes).index('augmented')]})",
              "nominal": "Nominal"}
    for m in modes:
        styles.setdefault(m, ("tab:cyan", "-."))
        labels.setdefault(m, m[0].upper() + m[1:])
    order = ["nominal", *[m for m in modes if m.startswith("augmented")], "equivariant"]
    idx = {m: list(modes).index(m) for m in modes}
    median = {m: np.median(perp[:, :, idx[m]], axis=0) for m in modes}
    zoom = max(float(median[m].max()) for m in modes if m.startswith("augmented"))
    return run_path_panels(
        {m: (distance[:, :, idx[m]], perp[:, :, idx[m]]) for m in order}, styles=styles, labels=labels,
        ylims=[1.5 * float(median["nominal"].max()), 1.5 * zoom], xlabel="‖A − A⁰‖", ylabel="‖A_E⊥‖",
        titles=["all modes", "zoom on augmented"], suptitle=suptitle, thin_alpha=thin_alpha,
    )


def noise_panel(passes: np.ndarray, noise: np.ndarray, nominal_perp: float | None = None) -> Figure:
    """Log–log plot of the ``E⊥`` part of the averaged augmented gradient at the start point against the number of
    passes ``L``, with the ``1/√L`` line through the first pass and, optionally, the nominal gradient's ``E⊥`` part.

    Args:
        passes: ``(L,)`` ``1 … L``; noise: ``(L,)`` ``‖Π_E⊥ ĝ_L‖``; nominal_perp: ``‖Π_E⊥ ∇R(A⁰)‖``.
    """
    fig, ax = plt.subplots(figsize=(5.4, 4.0))
    ax.loglog(passes, noise, "o-", color="tab:blue", ms=3, label="‖Π_E⊥ ĝ_L‖ (augmented, L passes)")
    ax.loglog(passes, noise[0] / np.sqrt(passes), ":", color="0.3", label="first pass / √L")
    if nominal_perp is not None:
        ax.axhline(nominal_perp, color="tab:red", linestyle="--", label="‖Π_E⊥ ∇R‖ (nominal)")
    ax.set(xlabel="augmentation passes L", ylabel="E⊥ part of the gradient at A⁰",
           title="Finite-augmentation noise at the start")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def shapes_examples(images: np.ndarray, triangle: np.ndarray, pentagon: np.ndarray) -> Figure:
    """A grid of example images (top row) with their triangle (middle) and pentagon (bottom) masks.

    Args:
        images, triangle, pentagon: ``(K, n, n)``.
    """
    k = images.shape[0]
    fig, axes = plt.subplots(3, k, figsize=(1.3 * k, 4.1), squeeze=False)
    for row, (name, stack) in enumerate((("image", images), ("triangle mask", triangle), ("pentagon mask", pentagon))):
        for col in range(k):
            ax = axes[row][col]
            ax.imshow(stack[col], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(name, fontsize="small")
    fig.tight_layout()
    return fig

