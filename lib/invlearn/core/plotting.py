"""The book's figure style. Plotting functions take arrays and return figures; they never train."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

__all__ = [
    "book_style", "curves", "seed_curves", "panel_curves", "sweep_panels", "Panel", "xy_panels", "save_figure", "LINESTYLES",
    "band_panels", ]

LINESTYLES = {"constrained": ":", "DA": "--"}
"""The legend styles of Duan & Montúfar, constrained dotted, DA dashed, regularized solid."""

FIXED_COLORS = {"constrained": 0, "DA": 1}
"""Palette slots reserved for series names, so a method keeps its colour on every page; other series take the
remaining slots in order."""


def book_style() -> None:
    """Apply the book's seaborn theme (white grid, paper context, colour-blind palette, 150 dpi)."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.2)
    matplotlib.rcParams.update({"figure.dpi": 150, "savefig.bbox": "tight", "figure.figsize": (6.4, 4.0)})


def curves(
    x: np.ndarray,
    series: Mapping[str, np.ndarray],
    *,
    xlabel: str,
    ylabel: str,
    labels: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    hlines: Sequence[tuple[float, str]] = (),
    levels: Mapping[str, float] | None = None,
    levels_label: str = "closed form",
    title: str | None = None,
    colors: Mapping[str, int] | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """Line plot of several named curves over a shared x axis.

    Args:
        x: ``(T,)`` abscissa (e.g. epochs).
        series: ``name -> (T,)`` values, drawn in the given order.
        labels: legend text per name (default: the name).
        linestyles: matplotlib line style per name (default: solid).
        bands: ``name -> (lower (T,), upper (T,))`` shaded under the curve's colour.
        hlines: ``(y, label)`` dashed grey reference lines.
        levels: ``name -> y``: a dash-dotted line in that series' colour (e.g. the closed-form end point of the
            curve); the legend shows one grey entry, ``levels_label``.
        colors: palette slot per name (e.g. one colour per method whatever the line style); overrides the defaults.
    Returns:
        The figure (a new one unless ``ax`` is given).
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots()
    labels = labels or {}
    linestyles = linestyles or {}
    palette = sns.color_palette(n_colors=max(10, len(series) + len(FIXED_COLORS)))
    free = iter(i for i in range(len(palette)) if i not in FIXED_COLORS.values())
    levels = levels or {}
    for name, values in series.items():
        if colors and name in colors:
            color = palette[colors[name]]
        else:
            color = palette[FIXED_COLORS[name] if name in FIXED_COLORS else next(free)]
        if name in levels:
            ax.axhline(levels[name], color=color, linestyle="-.", linewidth=1.0, alpha=0.9)
        (line,) = ax.plot(
            x, values, color=color, linestyle=linestyles.get(name, "-"), label=labels.get(name, name), linewidth=1.6
        )
        if bands and name in bands:
            lo, hi = bands[name]
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if levels:
        ax.plot([], [], color="0.35", linestyle="-.", linewidth=1.0, label=levels_label)  # one legend entry
    for y, label in hlines:
        ax.axhline(y, color="0.35", linestyle=(0, (5, 3)), linewidth=1.0, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(frameon=True)
    return fig


def seed_curves(x: np.ndarray, per_seed: Mapping[str, np.ndarray], *, band: str = "minmax", **kwargs) -> Figure:
    """:func:`curves` of the mean over seeds, with a shaded band when there is more than one seed.

    Args:
        per_seed: ``name -> (T, S)`` values, one column per seed.
        band: ``"minmax"`` or ``"sd"`` (see :func:`invlearn.core.metrics.seed_band`).
        kwargs: passed to :func:`curves`.
    """
    from invlearn.core.metrics import seed_band

    summary = {name: seed_band(values, band) for name, values in per_seed.items()}
    shaded = {name: (lo, hi) for name, (_, lo, hi) in summary.items() if per_seed[name].shape[1] > 1}
    return curves(x, {name: mean for name, (mean, _, _) in summary.items()}, bands=shaded or None, **kwargs)


def panel_curves(
    x: np.ndarray,
    panels: Mapping[str, Mapping[str, np.ndarray]],
    *,
    ncols: int = 2,
    legend_title: str | None = None,
    shared_legend: bool = False,
    **kwargs,
) -> Figure:
    """A grid of :func:`curves` panels sharing the x axis.

    Args:
        panels: ``panel title -> (curve name -> values)``; values ``(T,)``, or ``(T, S)`` per seed, drawn as the
            mean with a min–max band.
        legend_title: title of every panel's legend.
        shared_legend: one legend above the grid (the first panel's entries) instead of one per panel.
        kwargs: passed to :func:`curves` (``xlabel``, ``ylabel``, ``labels``, ...).
    """
    from invlearn.core.metrics import seed_band

    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows), sharex=True, squeeze=False)
    for ax, (title, series) in zip(axes.flat, panels.items()):
        summary = {name: seed_band(v) if v.ndim == 2 else (v, None, None) for name, v in series.items()}
        bands = {name: (lo, hi) for name, (_, lo, hi) in summary.items() if lo is not None and series[name].shape[1] > 1}
        curves(x, {name: mean for name, (mean, _, _) in summary.items()}, bands=bands or None, title=title, ax=ax, **kwargs)
        if legend_title:
            ax.get_legend().set_title(legend_title)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    if shared_legend:
        handles, labels = axes[0, 0].get_legend_handles_labels()
        for ax in list(axes.flat)[: len(panels)]:
            ax.get_legend().remove()
        fig.legend(handles, labels, title=legend_title, frameon=True, loc="lower center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    return fig


def sweep_panels(
    x: np.ndarray,
    panels: Mapping[str, Mapping[str, np.ndarray]],
    *,
    xlabel: str,
    logx: bool = True,
    logy: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    hlines: Mapping[str, Sequence[tuple[float, str]]] | None = None,
    overlays: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]] | None = None,
    band: str = "minmax",
    ncols: int = 2,
) -> Figure:
    """Summary numbers of a sweep against the swept parameter: one panel per quantity, mean over seeds with a band.

    Args:
        x: ``(X,)`` swept values (e.g. λ), sorted.
        panels: ``y label -> (series name -> (X, S) values)``, one row per x value, one column per seed (see
            :func:`invlearn.book.sweep.seed_matrix`).
        logy: the y labels whose axis is logarithmic.
        hlines: ``y label -> [(y, label)]`` reference lines.
        overlays: ``y label -> (label -> (x', y'))`` further curves drawn black, e.g. a closed form.
    """
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.4 * ncols, 3.9 * nrows), squeeze=False)
    for ax, (ylabel, per_seed) in zip(axes.flat, panels.items()):
        seed_curves(x, per_seed, band=band, ax=ax, xlabel=xlabel, ylabel=ylabel, labels=labels,
                    hlines=(hlines or {}).get(ylabel, ()))
        for line in ax.get_lines():
            if len(line.get_xdata()) == len(x):
                line.set_marker("o")
                line.set_markersize(3.5)
        for label, (ox, oy) in ((overlays or {}).get(ylabel) or {}).items():
            ax.plot(ox, oy, color="black", linewidth=1.2, label=label)
        if logx:
            ax.set_xscale("log")
        if ylabel in logy:
            ax.set_yscale("log")
        ax.legend(frameon=True)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg`` (folders created); returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path)
    return paths


@dataclass
class Panel:
    """One axes of :func:`xy_panels`.

    Attributes:
        lines: ``name -> (x (T,), y (T,))`` drawn as lines (with markers when ``markers``).
        points: ``name -> (x (K,), y (K,))`` drawn as unconnected markers on top.
        hlines: ``(y, label)`` dashed grey reference lines.
        labels: legend text per name (default: the name); linestyles: per line name (default: solid);
        point_markers: matplotlib marker per points name (default: diamond).
    """

    xlabel: str
    ylabel: str
    lines: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    points: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    hlines: Sequence[tuple[float, str]] = ()
    title: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    linestyles: Mapping[str, str] = field(default_factory=dict)
    markers: bool = False
    point_markers: Mapping[str, str] = field(default_factory=dict)
    logx: bool = False
    logy: bool = False


def xy_panels(panels: Sequence[Panel], *, ncols: int | None = None) -> Figure:
    """A row (or grid) of panels of lines and points over their own x axes; colours follow the series name
    (reserved slots of ``FIXED_COLORS``, then first appearance across panels), so a name keeps its colour."""
    ncols = ncols or len(panels)
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.8 * nrows), squeeze=False)
    palette = sns.color_palette(n_colors=10)
    free = iter(i for i in range(len(palette)) if i not in FIXED_COLORS.values())
    colors: dict[str, tuple] = {}

    def color(name: str):
        if name not in colors:
            colors[name] = palette[FIXED_COLORS[name] if name in FIXED_COLORS else next(free) % len(palette)]
        return colors[name]

    for ax, panel in zip(axes.flat, panels):
        for name, (x, y) in panel.lines.items():
            ax.plot(x, y, color=color(name), linestyle=panel.linestyles.get(name, "-"), linewidth=1.6,
                    marker="o" if panel.markers else None, markersize=4, label=panel.labels.get(name, name))
        for name, (x, y) in panel.points.items():
            ax.plot(x, y, color=color(name), linestyle="none", marker=panel.point_markers.get(name, "D"), markersize=7,
                    markeredgecolor="k", label=panel.labels.get(name, name))
        ax.set_xscale("log" if panel.logx else "linear")
        ax.set_yscale("log" if panel.logy else "linear")
        finish_axes(ax, panel)
    hide_unused(axes, len(panels))
    fig.tight_layout()
    return fig


def finish_axes(ax: plt.Axes, panel: "Panel") -> None:
    """Reference lines, axis labels, title and legend of a :class:`Panel` or :class:`RunsPanel`."""
    for y, label in panel.hlines:
        ax.axhline(y, color="0.35", linestyle=(0, (5, 3)), linewidth=1.0, label=label)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if panel.title:
        ax.set_title(panel.title)
    ax.legend(frameon=True, fontsize="small")


def hide_unused(axes: np.ndarray, n_used: int) -> None:
    for ax in list(axes.flat)[n_used:]:
        ax.set_visible(False)




def band_panels(
    panels: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray]]],
    *,
    xlabel: str,
    ylabel: str,
    colors: Mapping[str, str] | None = None,
    logy: bool = False,
    suptitle: str | None = None,
) -> Figure:
    """One axes per panel: per curve the median over runs (line) and the band from the smallest to the largest run.

    Args:
        panels: ``title -> {label: (x (T,), values (R, T))}``; the legend gives ``R`` per label. With ``logy`` only
            the steps where every run is positive are drawn.
        colors: matplotlib colour per label (default: the palette in order).
    """
    colors = colors or {}
    palette = sns.color_palette(n_colors=10)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.9), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for i, (label, (x, values)) in enumerate(curves.items()):
            if logy:  # a log axis shows the steps where every run is positive (e.g. not a start at 0)
                keep = (values > 0).all(axis=0)
                x, values = np.asarray(x)[keep], values[:, keep]
            color = colors.get(label, palette[i % len(palette)])
            ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2, linewidth=0)
            ax.plot(x, np.median(values, axis=0), color=color, label=f"{label} (median of {values.shape[0]}, band min–max)")
        if logy:
            ax.set_yscale("log")
        else:
            ax.ticklabel_format(style="sci", axis="y", scilimits=(0, 0))
        ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
        ax.legend(fontsize="x-small")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
