"""Plots of Gideoni's pages: model lines of the linear-regression fits (Figs 1–4)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

__all__ = ["model_lines"]


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
