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
#     paper: Duan & Montúfar (2026)
#     figure: Prop 8 / Thm 9
#     title: The regularization path in closed form, its continuity and its limit, with trained networks
#     data: MNIST (full)
# ---

# %% [markdown]
# # Proposition 8 / Theorem 9 — the regularized optimum moves continuously with λ and tends to the hard-wired optimum
#
# **Claims (Duan & Montúfar).** *Prop 8:* the global minimiser of the regularized problem (7),
# $\min\frac1n\|WX-Y\|_F^2+\lambda\|WG\|_F^2$ s.t. $\operatorname{rank}W\le r$, is
# $$\widehat W^{reg}(\lambda)=\big(ZB(\lambda)^{-1}\big)_rB(\lambda)^{-1}P^{-1},\qquad B(\lambda)=(I+n\lambda\widetilde G\widetilde G^T)^{1/2}.$$
# *Thm 9:* if $ZB(\lambda)^{-1}$ has full rank for all λ, then $\lambda\mapsto\widehat W^{reg}(\lambda)$ is continuous on
# $(0,\infty)$ and $\widehat W^{reg}(\lambda)\to\widehat W^{inv}$ as $\lambda\to\infty$: strong regularization recovers hard-wiring.
#
# **Test.** On the MNIST setup ($r=5$), the closed form over a fine log grid of λ from far below the paper's values to
# $10^{12}$, with $B(\lambda)^{-1}=U\operatorname{diag}\big((1+n\lambda\sigma_i^2)^{-1/2},1,\dots\big)U^T$ from the SVD of
# $\widetilde G$ (Thm 9's device). Overlaid: the networks of Figs 2–4 trained with `nn.MSELoss()` and λ ∈ {1e-3, 1e-2, 1e-1},
# which solve problem (7) with $9\lambda$ (mean over 9 outputs, `invlearn.duan.theory`), so they sit at $9\lambda$ on the path.

# %% tags=["parameters"]
n_samples = 1000  # training digits drawn before augmentation [paper: 1000] [allowed: ≥ 1, ≤ mnist]
data_seed = 0  # seed of the random draw of digits [allowed: ≥ 0]
seed = 0  # initialisation seed of the trained networks [allowed: ≥ 0]
hidden = 5  # rank bound r [paper: 5] [allowed: ≥ 1]
ridge = 1e-06  # relative ridge of X X^T, our choice (the paper does not state how it handles singular X X^T) [allowed: ≥ 0]
log10_lambda_min = -6.0  # smallest λ of the closed-form grid, log10 [allowed: ≥ -300, ≤ 300]
log10_lambda_max = 12.0  # largest λ of the closed-form grid, log10 [allowed: ≥ -300, ≤ 300]
grid_points = 361  # points of the log grid (20 per decade) [allowed: ≥ 2]
train_lambdas = [0.001, 0.01, 0.1]  # λ of the trained networks, MSELoss normalisation [paper: [0.001, 0.01, 0.1]] [allowed: > 0, len ≥ 1]
epochs = 3000  # full-batch epochs of the trained networks, the extent of the paper's figure axes [paper: 3000] [allowed: ≥ 1]
lr = 0.001  # Adam learning rate [paper: 0.001] [allowed: > 0]

# %%
import time

import numpy as np
import torch

from invlearn.core import plotting
from invlearn.duan.problem import mnist_problem
from invlearn.duan.linear import lambda_key, train_linear_methods
from IPython.display import Markdown, display

from invlearn.book.results import assert_checks, check_table, figure_stem, save_results
from invlearn.core.data import data_label, load_mnist
from invlearn.duan.theory import closed_forms, paper_lambda, reg_objective, regularization_path

NOTEBOOK = "duan_thm09_regularization_path"
started = time.perf_counter()
plotting.book_style()

# %% [markdown]
# The closed-form path: distance to $\widehat W^{inv}$, the non-invariant norm $\|\widehat W^{reg}(\lambda)_\perp\|_F$ and the
# gap $\sigma_r-\sigma_{r+1}$ of $ZB(\lambda)^{-1}$ (the truncation is unique, hence continuous in λ, while this gap is positive).

# %%
problem = mnist_problem(n_samples=n_samples, seed=data_seed)
forms = closed_forms(problem.x, problem.y, problem.group.rho, ridge=ridge)
n_out = problem.n_classes
lambdas = np.logspace(log10_lambda_min, log10_lambda_max, grid_points)
path = regularization_path(forms, problem.x, problem.y, lambdas.tolist(), hidden)
w_inv = forms.w_inv(hidden)
sv = path.singular_values.numpy()
rank_gap = (sv[:, hidden - 1] - sv[:, hidden]) / sv[:, 0]
full_rank = sv[:, -1] / sv[:, 0]
distance = path.distance_to_inv.numpy()
print(f"distance to W_inv: λ = {lambdas[0]:.0e}: {distance[0]:.3g}; λ = {lambdas[-1]:.0e}: {distance[-1]:.3g}")
print(f"smallest relative gap σ_r − σ_(r+1) on the path: {rank_gap.min():.3g}; smallest σ_9/σ_1: {full_rank.min():.3g}")

# %% [markdown]
# **Continuity, numerically.** On a grid, a continuous path has steps that shrink with the grid spacing; a jump does
# not. We compare the largest step $\|\widehat W(\lambda_{k+1})-\widehat W(\lambda_k)\|_F/\|\widehat W^{inv}\|_F$ on the grid and on
# the grid refined 4× (each interval split in four, computed afresh). The rate of convergence: far out the
# distance falls like $1/\lambda$ (slope −1 on the log–log plot): the non-invariant part of $ZB(\lambda)^{-1}$ is
# $O(\lambda^{-1/2})$ and is multiplied by $B(\lambda)^{-1}$ once more.

# %%
def max_step(grid):
    ws = torch.stack([forms.w_reg(float(lam), hidden) for lam in grid])
    return float(((ws[1:] - ws[:-1]).norm(dim=(1, 2)) / w_inv.norm()).max())

fine = np.logspace(log10_lambda_min, log10_lambda_max, 4 * (grid_points - 1) + 1)
step_coarse, step_fine = max_step(lambdas), max_step(fine)
far = lambdas >= 1e4
slope = float(np.polyfit(np.log10(lambdas[far]), np.log10(distance[far]), 1)[0])
print(f"largest step: grid {step_coarse:.3g}, refined 4x {step_fine:.3g} (ratio {step_coarse / step_fine:.2f})")
print(f"log-log slope of the distance for λ ≥ 1e4: {slope:.3f}")

# %% [markdown]
# The trained networks (one batched run, the engine of Figs 2–4), placed at $\lambda=9\lambda_{MSE}$.

# %%
runs = train_linear_methods(problem, methods=("regularized",), lambdas=train_lambdas, hidden=hidden, epochs=epochs,
                            lr=lr, seeds=[seed], metrics=("noninvariant_norm", "end_to_end"))
trained = {}
for lam_t in train_lambdas:
    key = lambda_key(lam_t)
    lam = paper_lambda(lam_t, n_out)
    w = torch.from_numpy(runs.end_to_end[key][-1, 0]).to(torch.float64)
    w_hat = forms.w_reg(lam, hidden)
    best = reg_objective(w_hat, problem.x, problem.y, forms.constraint, lam, forms.eps)
    # the logged MSE objective is (7) at 9λ divided by 9; compare the ridged values at the last epoch
    trained[key] = {
        "lambda_mse": lam_t,
        "lambda_paper": lam,
        "noninvariant_norm": float(runs.noninvariant_norm[key][-1, 0]),
        "closed_form_noninvariant_norm": float((w_hat - w_hat @ forms.gbar).norm()),
        "closed_form_noninvariant_norm_at_unconverted_lambda": float(
            (forms.w_reg(lam_t, hidden) - forms.w_reg(lam_t, hidden) @ forms.gbar).norm()),
        "distance_to_inv": float((w - w_inv).norm() / w_inv.norm()),
        "whitened_distance_to_inv": float(((w - w_inv) @ forms.p).norm() / (w_inv @ forms.p).norm()),
        "whitened_error": float(((w - w_hat) @ forms.p).norm() / (w_hat @ forms.p).norm()),
        "relative_objective_gap": (reg_objective(w, problem.x, problem.y, forms.constraint, lam, forms.eps) - best) / best,
        "mse_objective_min_over_epochs": float(runs.loss[key][:, 0].min()),
        "closed_form_mse_objective": reg_objective(w_hat, problem.x, problem.y, forms.constraint, lam) / n_out,
    }
    print(key, {k: round(v, 5) for k, v in trained[key].items()})

# %% mystnb={"figure": {"caption": "The regularization path of Prop 8 on MNIST (r = 5), λ in the paper's normalisation. Left: relative distance ‖Ŵ_reg(λ) − Ŵ_inv‖_F/‖Ŵ_inv‖_F, falling like 1/λ (Thm 9); dashed, and for the trained networks (diamonds), the same in the whitened metric ‖(·)P‖_F of the loss. Middle: non-invariant norm ‖Ŵ_reg(λ)_⊥‖_F of the closed form (line) and of the networks trained with nn.MSELoss and λ in train_lambdas at the end of training (diamonds, at 9λ). Right: the relative gap (σ_r − σ_{r+1})/σ_1 of ZB(λ)⁻¹, positive along the whole path, so the truncation, and the path, are continuous.", "name": "fig-duan-thm09"}}
xs = np.array([t["lambda_paper"] for t in trained.values()])
fig = plotting.xy_panels([
    plotting.Panel(xlabel="λ", ylabel="distance to Ŵ_inv (relative)", logx=True, logy=True,
                   labels={"closed": "closed form", "closed_w": "closed form, whitened",
                           "trained": "trained, whitened, at 9 λ_MSE"},
                   linestyles={"closed_w": "--"},
                   lines={"closed": (lambdas, distance), "closed_w": (lambdas, path.whitened_distance_to_inv.numpy())},
                   points={"trained": (xs, np.array([t["whitened_distance_to_inv"] for t in trained.values()]))}),
    plotting.Panel(xlabel="λ", ylabel="‖W_⊥‖_F", logx=True, logy=True,
                   labels={"closed": "closed form (Prop 8)", "trained": "trained, λ = 9 λ_MSE"},
                   lines={"closed": (lambdas, path.noninvariant_norm.numpy())},
                   points={"trained": (xs, np.array([t["noninvariant_norm"] for t in trained.values()]))}),
    plotting.Panel(xlabel="λ", ylabel="(σ_r − σ_r+1) / σ_1 of Z B(λ)⁻¹", logx=True,
                   labels={"gap": "r = 5"}, lines={"gap": (lambdas, rank_gap)}),
])
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# Asserted: (1) the hypothesis: $ZB(\lambda)^{-1}$ has full rank 9 along the grid ($\sigma_9/\sigma_1>10^{-8}$) and the gap
# $\sigma_r-\sigma_{r+1}$ stays positive ($>10^{-6}\sigma_1$); (2) the limit: the distance to $\widehat W^{inv}$ is below
# $10^{-8}$ at $\lambda=10^{12}$ and falls with slope within 0.05 of −1 beyond $10^4$; (3) continuity: refining the grid 4×
# shrinks the largest step by at least 3× (a jump would not shrink at all); (4) the trained networks are
# consistent with the path: their final (ridged) objective is within 1% of the closed-form minimum of problem (7) at
# $9\lambda$ (that it is never below it is exact, hence reported, not asserted); (5) their $\|W_\perp\|_F$ is closer to the closed form at $9\lambda$ than at λ
# (the loss normalisation, `invlearn.duan.theory`). Tolerance of (4): at the paper's learning rate the runs are not
# fully converged after the paper's epochs (see {doc}`Fig. 3 <duan_fig03_noninvariant_norm>`), and 1% bounds the
# remaining decrease; the matrix itself is reported (whitened error), not asserted, for the same reason.

# %%
checks = {
    "Z B(λ)^{-1} has full rank along the path": float(full_rank.min()) > 1e-8,
    "σ_r − σ_{r+1} > 0 along the path": float(rank_gap.min()) > 1e-6,
    f"‖Ŵ_reg(1e12) − Ŵ_inv‖/‖Ŵ_inv‖ = {distance[-1]:.1e} < 1e-8": float(distance[-1]) < 1e-8,
    f"distance ∝ 1/λ far out (slope {slope:.3f})": abs(slope + 1) < 0.05,
    f"largest step shrinks ≥ 3× on a 4× finer grid ({step_coarse / step_fine:.2f}×)": step_coarse / step_fine >= 3,
    "trained objective within 1% (relative) of the closed-form minimum at 9λ": all(
        t["relative_objective_gap"] < 1e-2 for t in trained.values()),
    "trained ‖W⊥‖ closer to the closed form at 9λ than at λ": all(
        abs(t["noninvariant_norm"] - t["closed_form_noninvariant_norm"])
        < abs(t["noninvariant_norm"] - t["closed_form_noninvariant_norm_at_unconverted_lambda"]) for t in trained.values()),
}
save_results(
    NOTEBOOK,
    claim="Ŵ_reg(λ) = (Z B(λ)^{-1})_r B(λ)^{-1} P^{-1} is continuous in λ and tends to Ŵ_inv as λ → ∞.",
    checks=checks,
    metrics={
        "distance_at_lambda_max": float(distance[-1]),
        "loglog_slope_far": slope,
        "max_step_grid": step_coarse,
        "max_step_refined": step_fine,
        "min_rank_gap": float(rank_gap.min()),
        "trained": trained,
        "train_seconds": runs.seconds,
        "notebook_seconds": time.perf_counter() - started,
        "data_source": problem.source,
    },
    series={
        "lambda": lambdas,
        "distance_to_inv": distance,
        "whitened_distance_to_inv": path.whitened_distance_to_inv,
        "noninvariant_norm": path.noninvariant_norm,
        "invariant_proportion": path.invariant_proportion,
        "objective": path.objective,
        "rank_gap": rank_gap,
        "trained_lambda_paper": xs,
    },
    data=data_label(load_mnist("train")),
)
display(check_table(checks))
assert_checks(checks)

# %% [markdown]
# **Reading the overlay.** The factor 9 of the `nn.MSELoss()` normalisation is needed to compare networks with the
# paper's formulas (numbers of this run below). Distances to $\widehat W^{inv}$ are shown whitened for the
# trained networks: pixels that are 0 in every digit receive no data gradient and keep weights from the
# initialisation that the closed form sets to 0; the raw distances are in the result file.

# %% tags=["reading"]
dev_9 = max(abs(t["noninvariant_norm"] / t["closed_form_noninvariant_norm"] - 1) for t in trained.values())
dev_1 = min(abs(t["noninvariant_norm"] / t["closed_form_noninvariant_norm_at_unconverted_lambda"] - 1) for t in trained.values())
display(Markdown(
    f"**This run.** The closed-form distance to $\\widehat W^{{inv}}$ is {distance[0]:.3g} at λ = {lambdas[0]:.0e} and "
    f"{distance[-1]:.2g} at λ = {lambdas[-1]:.0e}, with log–log slope {slope:.3f} beyond $10^4$; refining the grid 4× "
    f"shrinks the largest step {step_coarse / step_fine:.2f}×. The trained networks' $\\|W_\\perp\\|_F$ differ from the "
    f"closed form at $9\\lambda$ by at most {100 * dev_9:.2g}%, from the closed form at the unconverted λ by at least "
    f"{100 * dev_1:.2g}%; their final objectives are within "
    f"{100 * max(t['relative_objective_gap'] for t in trained.values()):.2g}% of the minima at $9\\lambda$."
))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Same digits, preprocessing, initialisation and optimiser as {doc}`Fig. 3 <duan_fig03_noninvariant_norm>`.
# * λ conversion: `nn.MSELoss()` averages over the 9 outputs, so training with λ minimises $\frac19$ of problem (7)
#   at $9\lambda$ (same minimiser); the path's λ is the paper's.
# * Ridge $\varepsilon=10^{-6}\times$ mean eigenvalue of $XX^T$ in $P$ (the closed form with $\sqrt\varepsilon I$ pseudo-samples);
#   the trained objective is compared in that ridged form, whose exact minimiser the closed form is.
# * $G=I-\rho(g)$ for the 90° rotation; $n=1000$ in $B(\lambda)$.
# :::
