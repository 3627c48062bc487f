"""Plots of Duan & Montúfar's pages: grouped bars (Thm 12), the faceted ε_inv bars of Figure 11 and the seed
control of Figure 3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

__all__ = ["facet_bars", "bar_panel", "seed_control_figure"]


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


def seed_control_figure(epochs: np.ndarray, curves: np.ndarray, found: Sequence[bool],
                        ratios: Mapping[str, np.ndarray], *, ylabel: str, found_label: str,
                        ratio_label: str) -> Figure:
    """Left: one curve ``(T,)`` per seed of ``curves`` ``(T, S)``, coloured by ``found`` ``(S,)``. Right: per seed,
    the final/initial ratios ``name -> (S,)`` on a log axis."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    palette = sns.color_palette()
    found = np.asarray(found, dtype=bool)
    for k in range(curves.shape[1]):
        left.plot(epochs, curves[:, k], color=palette[1] if found[k] else "0.6", linewidth=1.0, alpha=0.9)
    left.plot([], [], color=palette[1], label=f"{found_label} ({int(found.sum())} of {found.size})")
    left.plot([], [], color="0.6", label=f"not ({int((~found).sum())} of {found.size})")
    left.set_xlabel("Epochs")
    left.set_ylabel(ylabel)
    left.legend(frameon=True, fontsize="small")
    seeds = np.arange(curves.shape[1])
    for m, (name, values) in enumerate(ratios.items()):
        right.plot(seeds, values, linestyle="none", marker="osD^"[m % 4], color=palette[m + 2], label=name)
    right.axhline(1.0, color="0.35", linestyle=(0, (5, 3)), linewidth=1.0)
    right.set_yscale("log")
    right.set_xlabel("seed")
    right.set_ylabel(ratio_label)
    right.legend(frameon=True, fontsize="small")
    fig.tight_layout()
    return fig
