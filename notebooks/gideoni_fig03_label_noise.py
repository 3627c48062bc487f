# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   invlearn:
#     paper: Gideoni (2023)
#     figure: Fig. 3
#     title: Learning |x| under the reflection with Gaussian label noise of increasing size
#     data: synthetic
# ---

# %% [markdown]
# # Fig. 3 — with label noise up to $\sigma=0.5$ the asymmetry loss keeps its typical exponential decay
#
# **Claim (Gideoni, App. D, Fig. 3).** "Standard deviations as high as $0.5$ all exhibit relatively typical asymmetry
# loss curves": the asymmetric component does not depend on the labels, so noise should barely matter.
#
# What the theory says exactly. The author's code draws the noise **independently for each copy** of an orbit, so a
# point and its mirror get different labels and Assumption 1 fails. The flow then converges to the least-squares
# slope $w^*=\sum_i x_i\varepsilon_i/\sum_i x_i^2$ ($\varepsilon_i$ the noise of row $i$), not to 0, and the
# asymmetry loss levels off at $|w^*|/2$, of typical size $\tfrac12\sigma\sqrt{3/N}\sqrt{2/\pi}$. Before that it decays at
# the noise-free rate $\sum x_i^2\tau$. Dashed: the flow closed form (eq. 1) with each run's actual noisy labels (an
# addition). With `noise_per="orbit"` the noise is drawn once per orbit, the labels stay invariant and the floors
# disappear.

# %% tags=["parameters"]
noise_stds = [0.0, 0.1, 0.3, 0.5]  # label-noise standard deviations; the author's code also ran 0.7 [paper: standard deviations as high as 0.5] [allowed: ≥ 0, len ≥ 1]
noise_per = "copy"  # copy draws noise per row as the author's code does; orbit draws it once per orbit [paper: "copy"] [allowed: copy | orbit]
n_base = 500  # base points per data set; with their mirrors N is 1000 (author's code) [paper: 500] [allowed: ≥ 1]
epochs = 100  # epochs (author's code) [paper: 100] [allowed: ≥ 1]
lr = 0.01  # plain SGD learning rate (author's code) [paper: 0.01] [allowed: > 0]
batch_size = 100  # minibatch size, reshuffled every epoch (author's code) [paper: 100] [allowed: ≥ 1]
mc_points = 100  # fresh uniform points per epoch for the Monte-Carlo asymmetry loss (author's code) [paper: 100] [allowed: ≥ 1]
seed = 0  # the model of noise level k is initialised with seed plus k [allowed: ≥ 0]
data_seed = 3000  # the model of noise level k draws its data and noise with data_seed plus k [allowed: ≥ 0]
rate_tolerance = 0.15  # allowed relative gap between the early fitted rate and the noise-free rate [allowed: > 0]
plateau_tolerance = 0.3  # allowed relative gap between the final loss and the plateau |w*|/2 [allowed: > 0]
final_epochs = 10  # the final loss is the mean of the exact asymmetry loss over this many last epochs [allowed: ≥ 1]
early_factor = 10  # early epochs for the rate fit: the flow curve is this many times above its plateau [allowed: > 1]
flow_tolerance = 0.1  # allowed median relative gap between the simulated asymmetry loss and the flow closed form [allowed: > 0]
plateau_visible = 0.001  # scale of the mini-batch floor region; below it the plateau tolerance is absolute [allowed: > 0]
control_draws = 2000  # noise draws per level for the closed-form distribution of the plateaus [allowed: ≥ 1]

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from invlearn.gideoni import experiments as gd
from invlearn.core import plotting
from invlearn.gideoni import plots as gideoni_plots
from invlearn.core.groups import reflection_group
from invlearn.book.results import assert_checks, check_table, figure_stem, finding, findings_table, save_results
import pandas as pd
from IPython.display import Markdown, display

NOTEBOOK = "gideoni_fig03_label_noise"
started = time.perf_counter()
plotting.book_style()
group = reflection_group(1, dtype=torch.float32)
tau = gd.epoch_flow_time(lr, batch_size, 2 * n_base, 1)

# %% [markdown]
# One model per noise level, each with its own initialisation and data; then the flow closed form, the plateau
# $|w^*|/2$ from each run's noise draw, and the rate fitted on the early epochs (where the flow is still more than
# ten times above its plateau).

# %%
levels = len(noise_stds)
seeds = [seed + k for k in range(levels)]
data = [gd.orbit_dataset(n_base, group, gd.LABELS["abs"], torch.Generator().manual_seed(data_seed + k),
                         noise_std=float(s), noise_per=noise_per) for k, s in enumerate(noise_stds)]
run = gd.train_linear_models(data, seeds, group, epochs=epochs, lr=lr, batch_size=batch_size, mc_points=mc_points)
x = run.x[..., 0].double()
noise = torch.stack([d.noise[:, 0] for d in data]).double()
w_star = ((x * noise).sum(1) / (x**2).sum(1)).numpy()
plateau = np.abs(w_star) / 2
flow = gd.regression_flow(gd.with_constant(run.x.double()), run.y, torch.as_tensor(run.weights[0]), run.epochs * tau).numpy()
flow_asym = np.abs(flow[:, :, 1, 0]) / 2
predicted = ((x**2).sum(1) * tau).numpy()
early = [(flow_asym[:, k] > early_factor * plateau[k]) & (flow_asym[:, k] > plateau_visible) for k in range(levels)]
fitted = np.array([gd.fit_decay_rate(run.epochs[early[k]], run.asym_exact[early[k], k]) for k in range(levels)])
final = run.asym_exact[-final_epochs:].mean(axis=0)  # mean over the last final_epochs epochs
typical = 0.5 * np.asarray(noise_stds) * np.sqrt(3 / (2 * n_base)) * np.sqrt(2 / np.pi)  # E|w*|/2 for N = 2 n_base

# %% mystnb={"figure": {"caption": "Learning |x| with Gaussian label noise of standard deviation σ, drawn independently for every row (the author's code). Asymmetry loss per epoch (Monte-Carlo estimate on 100 fresh points, as in the paper), one model per σ, log scale. Dashed: the gradient-flow closed form with each run's noisy labels, which levels off at |w*|/2 (added).", "name": "fig-gideoni-03"}}
fig, ax = plt.subplots(figsize=(9, 7))
gideoni_plots.model_lines(ax, run.epochs, run.asym_mc, overlay=flow_asym, labels=[f"{s:g}" for s in noise_stds], logy=True,
                     xlabel="Epoch", ylabel="Asymmetry loss")
ax.get_legend().set_title("Noise std")
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ### Control: how the floors are distributed
#
# Each floor $|w^*|/2$ is one random draw: $w^*=\sum_ix_i\varepsilon_i/\sum_ix_i^2$ is Gaussian with standard deviation
# $\sigma/\sqrt{\sum_ix_i^2}$. The control draws the noise `control_draws` times per level on this run's inputs and
# shows the distribution of $|w^*|/2$ per σ, with this run's floors marked, and how often the floors of the noisy
# levels come out in increasing order of σ.

# %%
ctrl_gen = torch.Generator().manual_seed(data_seed + 500)
eps = torch.randn(control_draws, levels, x.shape[1], generator=ctrl_gen, dtype=torch.float64) * torch.tensor(noise_stds, dtype=torch.float64)[None, :, None]
plateau_draws = (((x[None] * eps).sum(-1) / (x**2).sum(-1)[None]).abs() / 2).numpy()  # (draws, levels)
noisy = [k for k in range(levels) if noise_stds[k] > 0]
ordered_frac = float(np.all(np.diff(plateau_draws[:, noisy], axis=1) > 0, axis=1).mean()) if len(noisy) > 1 else float("nan")
percentile = np.array([(plateau_draws[:, k] < plateau[k]).mean() for k in range(levels)])
fig_ctrl, ax_ctrl = plt.subplots(figsize=(7, 4))
for k in noisy:
    ax_ctrl.hist(plateau_draws[:, k], bins=np.logspace(-6, -1, 50), histtype="step", label=f"σ = {noise_stds[k]:g}")
    ax_ctrl.axvline(plateau[k], color=ax_ctrl.patches[-1].get_edgecolor(), linestyle=":")
ax_ctrl.set_xscale("log")
ax_ctrl.set_xlabel("floor |w*|/2 over noise draws (dotted: this run)")
ax_ctrl.set_ylabel("draws")
ax_ctrl.legend(fontsize="small")
plt.show()

# %% [markdown]
# ## Check
#
# Asserted: (1) every level first decays at the noise-free rate (rate fitted on the early epochs within
# `rate_tolerance` of $\sum x_i^2\tau$; a level without two early epochs fails); (2) at **every** level the final loss
# (mean of the last `final_epochs` epochs) matches the plateau $|w^*|/2$: within `plateau_tolerance` of it, measured relative to
# the plateau or to `plateau_visible`, whichever is larger. A plateau below `plateau_visible` (σ = 0, or a small draw)
# sits in the mini-batch floor region, where a relative comparison means nothing; there the final loss must stay
# below `plateau_tolerance` × `plateau_visible` above the plateau; (3) the curves stay close to the flow closed form
# (median relative gap below `flow_tolerance`). The table lists every level and which scale applied. Evaluated, not asserted:
# the floors increase with σ (finding, with the control above).

# %%
scale = np.maximum(plateau, plateau_visible)
plateau_gap = np.abs(final - plateau) / scale
gap = np.abs(run.asym_exact[1:] / flow_asym[1:] - 1)
median_gap = np.median(gap, axis=0)
rate_gap = np.abs(fitted / predicted - 1)
levels_table = pd.DataFrame({
    "σ": noise_stds, "plateau |w*|/2": plateau, "final loss": final,
    "gap / scale": plateau_gap, "scale": np.where(plateau > plateau_visible, "relative to the plateau", "plateau_visible (floor region)"),
    "early epochs fitted": [int(e.sum()) for e in early], "early rate": fitted, "noise-free rate": predicted,
}).set_index("σ")
display(levels_table.style.format({"plateau |w*|/2": "{:.2e}", "final loss": "{:.2e}", "gap / scale": "{:.2f}",
                                   "early rate": "{:.4f}", "noise-free rate": "{:.4f}"}))
checks = {
    f"early decay rate within {rate_tolerance:.0%} of the noise-free rate at every σ": bool(np.all(rate_gap < rate_tolerance)),
    f"final loss within {plateau_tolerance:.0%} of max(|w*|/2, {plateau_visible:g}) of the plateau at every σ": bool(np.all(plateau_gap < plateau_tolerance)),
    f"asymmetry loss within {flow_tolerance:.0%} of the flow closed form (median over epochs)": bool(median_gap.max() < flow_tolerance),
}
findings = {}
if len(noisy) > 1:
    inc = bool(np.all(np.diff(final[noisy]) > 0))
    findings["final loss increases with σ"] = finding(inc, "" if inc else (
        f"Single draws: over {control_draws} noise draws on these inputs the floors of σ = "
        f"{', '.join(f'{noise_stds[k]:g}' for k in noisy)} come out in increasing order in {ordered_frac:.0%}; this run's "
        "floors sit at the " + ", ".join(f"{100 * percentile[k]:.0f}th" for k in noisy) + " percentiles of their levels."))
save_results(
    NOTEBOOK,
    claim="With label noise up to σ = 0.5 the asymmetry loss first decays at the noise-free rate, then levels off at |w*|/2 (or in the mini-batch floor region when |w*|/2 is below it).",
    checks=checks,
    findings=findings,
    metrics={
        "noise_stds": noise_stds,
        "noise_per": noise_per,
        "plateau": plateau,
        "typical_plateau": typical,
        "final_asymmetry": final,
        "plateau_gap_over_scale": plateau_gap,
        "plateau_above_floor_region": plateau > plateau_visible,
        "early_fitted_rate_per_epoch": fitted,
        "early_epochs_fitted": [int(e.sum()) for e in early],
        "noise_free_rate_per_epoch": predicted,
        "median_gap_to_flow": median_gap,
        "control_ordered_fraction": ordered_frac,
        "control_plateau_percentile": percentile,
        "seeds": seeds,
        "train_seconds": run.seconds,
        "notebook_seconds": time.perf_counter() - started,
    },
    series={"epoch": run.epochs, "asymmetry_mc": run.asym_mc, "asymmetry_exact": run.asym_exact,
            "asymmetry_flow": flow_asym, "noise_stds": noise_stds},
)
display(check_table(checks))
display(findings_table(findings))
assert_checks(checks)

# %% [markdown]
# ## Reading the figure

# %% tags=["reading"]
display(Markdown(
    "The paper's \"relatively typical\" curves hide a floor: the noisy levels stop decaying at $|w^*|/2$, here "
    + ", ".join(f"{plateau[k]:.1e} (σ = {noise_stds[k]:g})" for k in noisy)
    + " against a typical $\\mathbb E|w^*|/2$ of " + ", ".join(f"{typical[k]:.1e}" for k in noisy) + ". "
    + ("The noise is drawn once per orbit here (`noise_per=orbit`): the labels stay invariant and the curves follow the "
       "noise-free one down to the mini-batch floor, because the asymmetric component does not see invariant labels."
       if noise_per == "orbit" else
       "The floor is not a failure of Theorem 3.3 but a consequence of how the noise is drawn: with one draw per row a "
       "point and its mirror have different labels, Assumption 1 fails and the least-squares solution has a slope. "
       "Rerun with `-p noise_per=orbit` (one draw per orbit): the curves then follow the noise-free one down to the "
       "mini-batch floor, because the asymmetric component does not see invariant labels.")
))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * $\sigma\in\{0, 0.1, 0.3, 0.5\}$ follows the paper's "as high as $0.5$"; the author's code also ran $0.7$
#   (`-p "noise_stds=[0.0, 0.1, 0.3, 0.5, 0.7]"`).
# * Noise $N(0,\sigma^2)$ is added after stacking the mirrors, one draw per row, as in the author's code; the paper
#   says only "Gaussian noise".
# * Otherwise as {doc}`Fig. 1 <gideoni_fig01_reflection_decay>`: SGD η = 0.01, batch 100, N = 1000, 100 epochs,
#   default init, one model per level with its own initialisation (seed `seed + k`) and data (seed `data_seed + k`).
# * Early rate: fitted on the epochs where the flow curve is more than `early_factor` times above its plateau and above
#   `plateau_visible`; final loss: mean of the exact asymmetry loss over the last `final_epochs` epochs. The tolerances are ours.
# * Control (an addition): `control_draws` noise draws per level on this run's inputs, closed form $|w^*|/2$.
# :::
