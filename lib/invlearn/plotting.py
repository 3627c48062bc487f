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
from matplotlib.ticker import MaxNLocator

__all__ = [
    "book_style", "curves", "seed_curves", "panel_curves", "model_lines", "sweep_panels", "Panel", "xy_panels",
    "bar_panel", "facet_bars", "save_figure", "LINESTYLES", "RunsPanel", "runs_panels", "run_paths", "log_run_panels",
    "run_path_panels",
]

LINESTYLES = {"constrained": ":", "DA": "--"}
"""Duan & Montúfar's legend styles: constrained dotted, DA dashed, regularized solid."""

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
        band: ``"minmax"`` or ``"sd"`` (see :func:`invlearn.metrics.seed_band`).
        kwargs: passed to :func:`curves`.
    """
    from invlearn.metrics import seed_band

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
    from invlearn.metrics import seed_band

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


def model_lines(
    ax: plt.Axes,
    x: np.ndarray,
    values: np.ndarray,
    *,
    overlay: np.ndarray | None = None,
    overlay_x: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    logy: bool = False,
    overlay_label: str = "gradient flow (added)",
    ylabel: str | None = None,
    xlabel: str | None = None,
) -> plt.Axes:
    """One solid line per model and, optionally, a thin dark dashed theory curve on top of each.

    Args:
        x: ``(T,)``; values: ``(T, K)``, one column per model.
        overlay: ``(T', K)`` theory curves drawn dashed on ``overlay_x`` (default ``x``).
        labels: ``K`` legend entries (none when omitted, as in the paper's single-setting panels).
    Returns:
        ``ax``.
    """
    palette = sns.color_palette(n_colors=max(10, values.shape[1]))
    for k in range(values.shape[1]):
        ax.plot(x, values[:, k], color=palette[k], linewidth=1.6, label=labels[k] if labels else None)
        if overlay is not None:
            ax.plot(overlay_x if overlay_x is not None else x, overlay[:, k], color="0.15", linestyle=(0, (3, 2)),
                    linewidth=0.9)
    if overlay is not None:  # one legend entry for all theory curves, after the models
        ax.plot([], [], color="0.15", linestyle=(0, (3, 2)), linewidth=0.9, label=overlay_label)
    if logy:
        ax.set_yscale("log")
    if ylabel:
        ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    if labels or overlay is not None:
        ax.legend(frameon=True, fontsize="small")
    return ax


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
            :func:`invlearn.sweep.seed_matrix`).
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


def facet_bars(
    values: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]],
    *,
    xlabel: str,
    ylabel: str,
    legend_title: str | None = None,
    log: bool = False,
) -> Figure:
    """A grid of grouped bar charts (ggplot's ``facet_grid`` with ``fill``), y axes shared.

    Args:
        values: ``row title -> column title -> x category -> fill category -> value``; categories keep their order.
        log: logarithmic y axis.
    """
    rows = list(values)
    cols = list(values[rows[0]])
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(4.4 * len(cols), 3.4 * len(rows)), sharex=True, sharey=True, squeeze=False)
    palette = sns.color_palette()
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            ax = axes[i, j]
            groups = values[row][col]
            xs = list(groups)
            fills = list(groups[xs[0]])
            width = 0.8 / len(fills)
            for f, fill in enumerate(fills):
                pos = np.arange(len(xs)) + (f - (len(fills) - 1) / 2) * width
                ax.bar(pos, [groups[x][fill] for x in xs], width=width, color=palette[f], label=str(fill))
            ax.set_xticks(np.arange(len(xs)), xs)
            ax.set_title(f"{row} | {col}")
            if log:
                ax.set_yscale("log")
            if i == len(rows) - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel)
    fig.tight_layout()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, title=legend_title, frameon=True, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, 1.0))
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
    (reserved slots of :data:`FIXED_COLORS`, then first appearance across panels), so a name keeps its colour."""
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
        _finish_axes(ax, panel)
    _hide_unused(axes, len(panels))
    fig.tight_layout()
    return fig


def _finish_axes(ax: plt.Axes, panel: "Panel | RunsPanel") -> None:
    """Reference lines, axis labels, title and legend of a :class:`Panel` or :class:`RunsPanel`."""
    for y, label in panel.hlines:
        ax.axhline(y, color="0.35", linestyle=(0, (5, 3)), linewidth=1.0, label=label)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(panel.ylabel)
    if panel.title:
        ax.set_title(panel.title)
    ax.legend(frameon=True, fontsize="small")


def _hide_unused(axes: np.ndarray, n_used: int) -> None:
    for ax in list(axes.flat)[n_used:]:
        ax.set_visible(False)


def bar_panel(groups: Sequence[str], bars: Mapping[str, Sequence[float]], *, ylabel: str, logy: bool = True,
              hlines: Sequence[tuple[float, str]] = (), ax: plt.Axes | None = None) -> Figure:
    """Grouped bars: ``bars`` ``name -> (len(groups),)`` values, one bar per name within each group."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7.0, 4.0))
    width = 0.8 / max(1, len(bars))
    x = np.arange(len(groups))
    for k, (name, values) in enumerate(bars.items()):
        ax.bar(x + (k - (len(bars) - 1) / 2) * width, values, width, label=name)
    for y, label in hlines:
        ax.axhline(y, color="0.35", linestyle=(0, (5, 3)), linewidth=1.0, label=label)
    ax.set_xticks(x, groups)
    ax.set_yscale("log" if logy else "linear")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=True, fontsize="small")
    return fig


@dataclass
class RunsPanel:
    """One axes of :func:`runs_panels`: every run as a thin line and the median over runs as a thick one.

    Attributes:
        runs: ``name -> (x (T,), values (R, T))``, one row per run.
        colors: matplotlib colour per name (default: the palette in order); labels: legend text per name;
        linestyles: per name (default solid).
        hlines: ``(y, label)`` dashed grey reference lines.
        ylim, xticks: axis limits and ticks (default automatic); integer_x: automatic x ticks at integers only;
        logy: logarithmic y; sci: y tick labels in scientific notation (linear axes).
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
        _finish_axes(ax, panel)
    _hide_unused(axes, len(panels))
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
