# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   invlearn:
#     paper: Duan & Montúfar (2026)
#     figure: Fig. 3
#     title: Non-invariant norm of the end-to-end matrix under DA and regularization (MSE)
# ---

# %% [markdown]
# # Fig. 3 — regularization levels off at a non-invariant map, ordered by λ; DA heads toward invariance (MSE)
#
# **Claims (Duan & Montúfar, §5, Fig. 3).** $\|W_\perp\|_F$, the norm of the non-invariant part
# $W_\perp=W(I-\overline G)$ of the end-to-end matrix $W=W_2W_1$:
# * with a finite λ it **levels off at a non-zero value**, smaller for larger λ, because the critical points of the
#   regularized problem are not invariant (Prop 13);
# * under data augmentation it is **non-monotone** — it first decreases, then increases, then decreases again toward
#   zero — a "double descent" the authors leave as a conjecture.
#
# Same setup and runs as {doc}`Fig. 2 <duan_fig02_training_curves>`; the constrained model has $W_\perp\equiv0$ and is
# drawn as the invariant limit. With `n_seeds > 1` each curve is the mean over initialisation seeds with a min–max band.

# %% tags=["parameters"]
n_samples = 1000  # training digits drawn before augmentation (paper: 1000)
data_seed = 0  # seed of the random draw of digits
seed = 0  # first initialisation seed; DA and every λ run share the initial weights
n_seeds = 1  # number of initialisation seeds (paper: a single run)
hidden = 5  # hidden width r, the rank bound of the end-to-end matrix (paper: 5)
epochs = 3000  # full-batch epochs (figure axis of the paper: 3000)
lr = 0.001  # Adam learning rate (paper: 0.001, betas (0.9, 0.999))
batch_size = 0  # 0 for full batch (the paper's gradient descent), else the minibatch size
lambdas = [0.001, 0.01, 0.1]  # regularization strengths (paper's MSE grid)
rise = 0.01  # minimal rise and fall of the DA curve counted as non-monotone
ridge = 1e-06  # relative ridge of X X^T for the closed-form optima (spec §5)

# %%
import time

from invlearn.core import plotting
from invlearn.duan.linear import lambda_key
from invlearn.duan.metrics import double_descent
from invlearn.duan.pages import limit_figure, limit_series, linear_runs, run_metrics, seed_means
from invlearn.duan.theory import closed_forms, paper_lambda, regularization_path
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results

NOTEBOOK = "duan_fig03_noninvariant_norm"
started = time.perf_counter()
plotting.book_style()
seeds = list(range(seed, seed + n_seeds))

# %% [markdown]
# Train DA and the regularized networks (all λ × seeds as one batched program) and log $\|W_\perp\|_F$ every epoch;
# the runs of {doc}`Fig. 2 <duan_fig02_training_curves>` when that page trained them (`metrics.run_ids`).

# %%
problem, runs = linear_runs(
    "mse", methods=("DA", "regularized"), metrics=("noninvariant_norm", "accuracy"), n_samples=n_samples,
    data_seed=data_seed, seeds=seeds, hidden=hidden, epochs=epochs, lr=lr, batch_size=batch_size, lambdas=lambdas,
)
names = ["DA", *[lambda_key(lam) for lam in lambdas]]
per_seed, mean = seed_means(runs.noninvariant_norm, names)
print("final ||W_perp||_F (mean over seeds):", {name: round(float(mean[name][-1]), 4) for name in names})

# %% [markdown]
# The end points theory gives: the closed-form regularized optimum $\widehat W^{reg}(\lambda)$ (Prop 8) has a
# non-zero $\|\widehat W^{reg}_\perp\|_F$; DA and the constrained model share the invariant optimum (Thm 12), $W_\perp=0$.
# `nn.MSELoss` averages over the 9 outputs, so a training λ corresponds to the paper's $9\lambda$ (spec §9).

# %%
forms = closed_forms(problem.x, problem.y, problem.group.rho, ridge=ridge)
path = regularization_path(forms, problem.x, problem.y, [paper_lambda(lam, problem.n_classes) for lam in lambdas], rank=hidden)
closed_form_norm = {lambda_key(lam): float(v) for lam, v in zip(lambdas, path.noninvariant_norm)}
print("closed-form ||W_reg_perp||_F:", {k: round(v, 4) for k, v in closed_form_norm.items()})
print("trained / closed form at the last epoch:", {k: round(float(mean[k][-1]) / v, 3) for k, v in closed_form_norm.items()})

# %% mystnb={"figure": {"caption": "‖W⊥‖_F, where W⊥ = W(I − Ḡ) is the non-invariant part of the end-to-end matrix W = W₂W₁, per epoch, for data augmentation (DA) and regularization (λ); MSE loss. The constrained model has W⊥ ≡ 0 (grey line); dash-dotted: the closed-form regularized optimum of each λ (Prop 8, paper λ = 9λ). With several seeds: mean and min–max band.", "name": "fig-duan-03"}}
fig = limit_figure(runs.epochs, per_seed, lambdas, ylabel="Frobenius Norm", limit=0.0, levels=closed_form_norm,
                   levels_label="Closed form (Prop 8)")
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# **Shape of the DA curve.** We look for the paper's pattern in the mean DA curve: a decrease to a minimum, a rise by
# more than `rise` to an interior maximum, then a decrease by more than `rise` from it.

# %%
da_shape = double_descent(runs.epochs, mean["DA"], rise)
per_seed_shape = [double_descent(runs.epochs, per_seed["DA"][:, s], rise)["found"] for s in range(n_seeds)]
print("DA mean curve:", da_shape, "| seeds showing the pattern:", sum(per_seed_shape), "of", n_seeds)

# %% [markdown]
# ## Check
#
# Asserted: (1) each λ curve ends above 0.001 (not invariant; round-off is ~1e-6); (2) the final values decrease
# strictly as λ grows; (3) each λ curve has levelled off: it moves by less than 5% over the last 10% of the epochs;
# (4) DA ends below its initial value; (5) each λ curve ends within 2% of the closed-form level of Prop 8 — the
# trained network reaches the regularized optimum, and the level is not zero. The DA double-descent shape is
# evaluated and reported but not asserted: it is not robust across seeds (see below).

# %%
finals = [float(mean[lambda_key(lam)][-1]) for lam in sorted(lambdas)]
tail = max(1, epochs // 10)
drift = {k: float(abs(mean[k][-1] - mean[k][-1 - tail]) / mean[k][-1]) for k in names[1:]}
checks = {
    "every λ curve ends above 0.001": min(finals) > 1e-3,
    "final ‖W⊥‖ decreases strictly with λ": all(a > b for a, b in zip(finals, finals[1:])),
    "every λ curve levelled off (< 5% change over the last 10% of epochs)": max(drift.values()) < 0.05,
    "DA ends below its initial value": float(mean["DA"][-1]) < float(mean["DA"][0]),
    "every λ curve ends within 2% of its closed-form level (Prop 8)": all(
        abs(float(mean[k][-1]) / v - 1) < 0.02 for k, v in closed_form_norm.items()),
}
findings = {"DA is non-monotone: decrease, rise, decrease (mean curve)": da_shape["found"]}
save_results(
    NOTEBOOK,
    claim="With finite λ, ‖W⊥‖ levels off at a non-zero value that is smaller for larger λ; under DA it heads toward zero.",
    checks=checks,
    findings=findings,
    metrics={
        "final_noninvariant_norm": {k: float(v[-1]) for k, v in mean.items()},
        "final_accuracy": {k: float(runs.final_accuracy[k].mean()) for k in names},
        "final_noninvariant_norm_per_seed": {k: per_seed[k][-1] for k in names},
        "final_accuracy_per_seed": {k: runs.final_accuracy[k] for k in names},
        "closed_form_noninvariant_norm": closed_form_norm,
        "relative_drift_last_10pct": drift,
        "da_shape": da_shape,
        "da_shape_per_seed": per_seed_shape,
        **run_metrics(runs, problem, seeds, started),
    },
    series=limit_series(runs.epochs, mean, per_seed, 0.0, closed_form=closed_form_norm),
)
display(check_table({**checks, **{f"(not asserted) {k}": v for k, v in findings.items()}}))
assert_checks(checks)

# %% [markdown]
# ## Where this differs from the paper
#
# At the paper's protocol (seed 0, 3000 epochs) the regularized curves reproduce: they level off at non-zero values
# ordered by λ. The DA curve decreases, but at epoch 3000 it is still far from zero, and the paper's
# decrease–rise–decrease shape depends on the initialisation: the
# {doc}`five-seed variant <duan_fig03_noninvariant_norm_5seeds>` (or `-p n_seeds=5`) shows the per-seed patterns
# (`metrics.da_shape_per_seed` in the result file). The table above states whether this run shows it.
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Same data, initialisation, loss scaling and optimiser choices as {doc}`Fig. 2 <duan_fig02_training_curves>`.
# * $\|W_\perp\|_F$ is computed on the end-to-end matrix $W_2W_1$ after every epoch, $\overline G=\frac14\sum_k\rho(g)^k$.
# * Seeds: the paper shows one run; `n_seeds` adds runs with seeds `seed … seed+n_seeds−1` (same digits), drawn as
#   mean and min–max band.
# * **Closed-form levels**: Prop 8 at the paper's λ = 9 × (training λ), because `nn.MSELoss` averages over the 9
#   outputs; with the ridge $XX^T+\varepsilon I$, $\varepsilon=10^{-6}\times$ mean eigenvalue (a 1000× larger ridge
#   moves the λ = 1e-3 and 1e-1 levels by 0.5% and 1.7%).
# * "Levelled off" and the double-descent detector (`rise` = 0.01) are our operationalisations of the paper's wording.
# :::
