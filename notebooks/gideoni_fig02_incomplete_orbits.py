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
#     figure: Fig. 2
#     title: Learning x + y under the swap x <-> y from 20 points whose orbits are not completed
#     data: synthetic
# ---

# %% [markdown]
# # Fig. 2 — with 20 points and incomplete orbits the asymmetry loss still decreases exponentially
#
# **Claim (Gideoni, App. D, Fig. 2).** Learning $x+y$ from inputs $(x, y)$, symmetric under $x\leftrightarrow y$,
# from only 20 points **without** their swapped copies (Assumption 1 violated), "the asymmetry loss exponentially
# decreases also in this case".
#
# What carries over and what does not. The features are $(1, x, y)$; the asymmetric component is
# $(w_x-w_y)/2$ and the asymmetry loss is $\mathbb E|f(x)-\mathbb E_gf(xg)| = |w_x-w_y|\,\mathbb E|x-y|/2=|w_x-w_y|/3$.
# * **Learned:** the limit is exactly invariant. $x+y$ is realised by the symmetric weights $(0, 1, 1)$, and 20 generic
#   points determine the least-squares solution uniquely, so gradient descent converges to it.
# * **Not carried over:** the decoupling of Theorem $3.3$. Without whole orbits $A^\top y$ has an asymmetric part and
#   $A^\top A$ mixes the two components, so the asymmetric component depends on the labels and need not decay
#   monotonically. We show this with a counterfactual: the same data and initialisation with labels $2(x+y)$.
#
# Every epoch is one full-batch step (batch 100 > 20 points), so the exact prediction is the gradient-descent
# recursion $w\leftarrow w-\frac{2\eta}{20}A^\top(Aw-y)$ with $A=[1,x,y]$, drawn dashed (an addition).

# %% tags=["parameters"]
n_points = 20  # training points, without their swapped copies [paper: 20] [allowed: ≥ 1]
n_models = 3  # independently initialised models, each with its own data (author's code) [paper: 3] [allowed: ≥ 1]
epochs = 1000  # epochs, each one full-batch step (author's code, 10x the other figures; the paper says only increased) [paper: 1000] [allowed: ≥ 1]
lr = 0.01  # plain SGD learning rate (author's code) [paper: 0.01] [allowed: > 0]
batch_size = 100  # minibatch size; larger than n_points, so every epoch is a full-batch step (author's code) [paper: 100] [allowed: ≥ 1]
mc_points = 100  # fresh uniform points per epoch for the Monte-Carlo asymmetry loss (author's code) [paper: 100] [allowed: ≥ 1]
seed = 0  # model k is initialised with seed plus k [allowed: ≥ 0]
data_seed = 2000  # model k draws its 20 points with data_seed plus k [allowed: ≥ 0]
recursion_tolerance = 0.0001  # allowed largest gap between trained weights and the float64 recursion [allowed: > 0]
limit_tolerance = 1e-06  # allowed largest gap between the least-squares limit and the symmetric (0, 1, 1) [allowed: > 0]
control_models = 50  # data sets and default initialisations of the control, run through the exact recursion [allowed: ≥ 1]

# %%
from IPython.display import display
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from invlearn.gideoni import experiments as gd
from invlearn.core import plotting
from invlearn.gideoni import plots as gideoni_plots
from invlearn.book.results import assert_checks, check_table, figure_stem, finding, findings_table, save_results
from invlearn.core.models import BatchedMLP

NOTEBOOK = "gideoni_fig02_incomplete_orbits"
started = time.perf_counter()
plotting.book_style()
group = gd.swap_group(dtype=torch.float32)
features_group = group.with_constant_feature()
step = gd.epoch_flow_time(lr, batch_size, n_points, 1)  # = 2 lr / n_points per full-batch step

# %% [markdown]
# Train the three models and, for the counterfactual, the same models on labels $2(x+y)$.

# %%
seeds = [seed + k for k in range(n_models)]
data = [gd.orbit_dataset(n_points, group, gd.LABELS["sum"], torch.Generator().manual_seed(data_seed + k), complete=False)
        for k in range(n_models)]
run = gd.train_linear_models(data, seeds, group, epochs=epochs, lr=lr, batch_size=batch_size, mc_points=mc_points)
doubled = [gd.OrbitData(x=d.x, y=2 * d.y, noise=d.noise, n_base=d.n_base) for d in data]
run2 = gd.train_linear_models(doubled, seeds, group, epochs=epochs, lr=lr, batch_size=batch_size, mc_points=mc_points)

a = gd.with_constant(run.x.double())
w0 = torch.as_tensor(run.weights[0])
rec = gd.gd_recursion(a, run.y, w0, step, epochs).numpy()  # (T, K, 3, 1)
rec_asym = np.abs(rec[:, :, 1, 0] - rec[:, :, 2, 0]) / 3
asym_comp = features_group.split(torch.as_tensor(run.weights[..., 0]))[1].numpy()[..., 1]  # (w_x - w_y)/2
asym_comp2 = features_group.split(torch.as_tensor(run2.weights[..., 0]))[1].numpy()[..., 1]
w_star = torch.linalg.lstsq(a, run.y.double()).solution[..., 0].numpy()  # least-squares limit, (K, 3)
eig = torch.linalg.eigvalsh(a.transpose(1, 2) @ a).numpy()  # (K, 3)
gap_rec = np.abs(run.weights - rec).max()
decades = np.log10(run.asym_exact[0] / run.asym_exact[-1])
fitted = np.array([gd.fit_decay_rate(run.epochs, run.asym_exact[:, k]) for k in range(n_models)])
nonmonotone = [(np.diff(run.asym_exact[:, k]) > 0).any() for k in range(n_models)]
print("least-squares limits (b, w_x, w_y):", np.round(w_star, 6))
print("largest |trained - recursion| weight gap:", gap_rec)
print("decades of decay:", np.round(decades, 2), "| fitted rates per epoch:", np.round(fitted, 4))
print("mode rates step*eig(A^T A) per epoch:", np.round(step * eig, 4))
print("largest change of the asymmetric component when the labels are doubled:",
      np.abs(asym_comp - asym_comp2).max())

# %% mystnb={"figure": {"caption": "Learning x + y from 20 points without their swapped copies. (a) Asymmetry loss E|f(x) − E_g f(gx)| per epoch (Monte-Carlo estimate on 100 fresh points, as in the paper) for three models, each with its own data and initialisation; dashed: the exact gradient-descent recursion (added). (b) The asymmetric weight component (w_x − w_y)/2 of the same models with labels x + y (solid) and 2(x + y) (dotted): without whole orbits it depends on the labels.", "name": "fig-gideoni-02"}}
fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.8))
gideoni_plots.model_lines(ax_a, run.epochs, run.asym_mc, overlay=rec_asym, logy=True, xlabel="Epoch",
                     ylabel="Asymmetry loss", overlay_label="gradient-descent recursion (added)")
ax_a.set_title("(a)")
gideoni_plots.model_lines(ax_b, run.epochs, asym_comp, labels=[f"model {k}, labels x + y" for k in range(n_models)],
                     xlabel="Epoch", ylabel="Asymm. comp. (w_x − w_y)/2")
for k in range(n_models):
    ax_b.plot(run.epochs, asym_comp2[:, k], linestyle=":", color=ax_b.lines[k].get_color(),
              label="labels 2(x + y)" if k == 0 else None)
ax_b.axhline(0.0, color="0.4", linewidth=0.8)
ax_b.legend(fontsize="small")
ax_b.set_title("(b) beyond the paper")
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ### Control: decades of decay over many data sets
#
# The paper's curves fall to about $10^{-3}$ by the last epoch. How far a curve falls in `epochs` full-batch steps is
# set by its start and by the slowest mode of $A^\top A$, which decays by `step`$\cdot\lambda_{\min}\cdot$`epochs`$/\ln10$
# decades. The control runs `control_models` data sets and default initialisations (the first `n_models` are the
# models above) through the exact gradient-descent recursion, which the training equals (checked below).

# %%
seeds_ctrl = [seed + k for k in range(control_models)]
data_ctrl = [gd.orbit_dataset(n_points, group, gd.LABELS["sum"], torch.Generator().manual_seed(data_seed + k), complete=False)
             for k in range(control_models)]
a_ctrl = gd.with_constant(torch.stack([d.x for d in data_ctrl]).double())
y_ctrl = torch.stack([d.y for d in data_ctrl]).double()
w0_ctrl = gd.linear_parameters(BatchedMLP((2, 1), seeds_ctrl, bias=True)).detach()
rec_ctrl = gd.gd_recursion(a_ctrl, y_ctrl, w0_ctrl, step, epochs).numpy()
asym_ctrl = np.abs(rec_ctrl[:, :, 1, 0] - rec_ctrl[:, :, 2, 0]) / 3  # (T, K)
decades_ctrl = np.log10(asym_ctrl[0] / asym_ctrl[-1])
slow_decades = step * torch.linalg.eigvalsh(a_ctrl.transpose(1, 2) @ a_ctrl)[:, 0].numpy() * epochs / np.log(10)
fig_ctrl, ax_ctrl = plt.subplots(figsize=(6, 4))
ax_ctrl.scatter(slow_decades, decades_ctrl, s=18)
ax_ctrl.axhline(2.0, color="0.5", linestyle=":", linewidth=1)
ax_ctrl.set_xlabel("decades of the slowest mode of AᵀA in the run")
ax_ctrl.set_ylabel("decades of decay of the asymmetry loss")
plt.show()

# %% [markdown]
# ## Check
#
# Asserted: (1) the trained weights equal the exact float64 gradient-descent recursion at every epoch (largest gap
# below `recursion_tolerance`: float32 round-off), (2) every model's asymmetry loss falls by at least one decade and
# its log has a negative fitted slope (an exponential decrease), and (3) the least-squares limit is the symmetric
# $(0, 1, 1)$ for every data set (to `limit_tolerance`). Evaluated, not asserted: the paper's fall to about $10^{-3}$ read as two
# decades or more (finding, with the control above), and the label dependence of the asymmetric component (expected
# here, unlike in Fig. 1).

# %%
checks = {
    f"trained weights equal the gradient-descent recursion (largest gap < {recursion_tolerance:g})": bool(gap_rec < recursion_tolerance),
    "asymmetry loss falls by ≥ 1 decade with a negative log-slope for every model": bool(decades.min() >= 1 and fitted.min() > 0),
    f"the least-squares limit is the symmetric (0, 1, 1) (to {limit_tolerance:g})": bool(np.abs(w_star - [0.0, 1.0, 1.0]).max() < limit_tolerance),
}
label_dependence = float(np.abs(asym_comp - asym_comp2).max())
ok = bool(decades.min() >= 2)
reach = decades_ctrl >= 2
verdict = (
    f"Slowest mode: over {control_models} data sets (exact recursion) {int(reach.sum())} fall by ≥ 2 decades; the final "
    f"loss is {np.median(asym_ctrl[-1]):.1e} (median, range {asym_ctrl[-1].min():.1e}–{asym_ctrl[-1].max():.1e}), i.e. "
    f"about the paper's 1e-3, but from a start of {np.median(asym_ctrl[0]):.2g} (median) the slowest mode of AᵀA "
    f"allows only {np.median(slow_decades):.2f} decades (median; {slow_decades.min():.2f}–{slow_decades.max():.2f}) in "
    f"{epochs} epochs."
)
findings = {
    "asymmetry loss falls by ≥ 2 decades (to ~1e-3) for every model": finding(ok, "" if ok else verdict),
}
save_results(
    NOTEBOOK,
    claim="With 20 points and incomplete orbits the asymmetry loss still decreases exponentially (≥ 1 decade), training equals the exact gradient-descent recursion, and the limit is the symmetric (0, 1, 1).",
    checks=checks,
    findings=findings,
    metrics={
        "recursion_gap": gap_rec,
        "decades_of_decay": decades,
        "fitted_rate_per_epoch": fitted,
        "mode_rates_per_epoch": step * eig,
        "initial_asymmetry": run.asym_exact[0],
        "final_asymmetry": run.asym_exact[-1],
        "least_squares_limit": w_star,
        "asymmetry_loss_nonmonotone": nonmonotone,
        "asym_component_change_with_doubled_labels": label_dependence,
        "control_decades_of_decay": decades_ctrl,
        "control_slowest_mode_decades": slow_decades,
        "control_final_asymmetry": asym_ctrl[-1],
        "control_models_with_2_decades": int(reach.sum()),
        "seeds": seeds,
        "train_seconds": run.seconds + run2.seconds,
        "notebook_seconds": time.perf_counter() - started,
    },
    series={
        "epoch": run.epochs,
        "asymmetry_mc": run.asym_mc,
        "asymmetry_exact": run.asym_exact,
        "asymmetry_recursion": rec_asym,
        "asym_component": asym_comp,
        "asym_component_doubled_labels": asym_comp2,
        "control_decades": decades_ctrl,
        "control_slowest_mode_decades": slow_decades,
    },
)
display(check_table(checks))
display(findings_table(findings))
assert_checks(checks)

# %% [markdown]
# ## Reading the figure
#
# The decrease in (a) is exponential overall, but it is a mixture of the three modes of $A^\top A$ rather than the
# single rate of Fig. 1, and (b) shows why: with labels $2(x+y)$ the asymmetric component follows a different path
# although data and initialisation are the same. The symmetry is learned here because the data span the features and
# the target is realisable by symmetric weights, not because the asymmetric part evolves on its own.
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * From the author's code: 20 points $U[-1,1)^2$ without swapped copies, label $x+y$ without noise, one linear layer
#   $2\to1$ with bias and PyTorch's default init, SGD η = 0.01 with batch 100 (so one full-batch step per epoch),
#   `MSELoss` (mean), 1000 epochs, 3 models each with its own data (seed `data_seed + k`) and init (seed `seed + k`).
# * The asymmetry loss uses 100 fresh points per epoch (code); the exact series is the same expectation on a
#   100 × 100 midpoint grid. The overlay uses $|w_x-w_y|/3$ of the recursion.
# * Panel (b) and its counterfactual labels $2(x+y)$ are additions, and so is the control over `control_models`
#   data sets (seeds `seed + k` and `data_seed + k`, the exact recursion in float64).
# :::
