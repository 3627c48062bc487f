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
#     figure: Fig. 9
#     title: Invariant proportion of the end-to-end matrix under DA and regularization (cross-entropy)
#     data: MNIST (full)
# ---

# %% [markdown]
# # Fig. 9 — under cross-entropy the invariant proportion rises toward 1, faster for larger λ, DA included
#
# **Claim (Duan & Montúfar, App. C.2, Fig. 9).** The invariant proportion $\|W-W_\perp\|_F^2/\|W\|_F^2$ of the
# end-to-end matrix rises toward 1 for every method, faster for larger λ; under data augmentation it also approaches 1.
#
# Same setup and runs as {doc}`Fig. 7 <duan_fig07_training_curves_ce>`; the constrained model has proportion 1.

# %% tags=["parameters"]
n_samples = 1000  # training digits drawn before augmentation [paper: 1000] [allowed: ≥ 1, ≤ mnist]
data_seed = 0  # seed of the random draw of digits [allowed: ≥ 0]
seed = 0  # first initialisation seed; DA and every λ run share the initial weights [allowed: ≥ 0]
n_seeds = 1  # number of initialisation seeds; the paper shows a single run [paper: 1] [allowed: ≥ 1]
hidden = 5  # hidden width r, the rank bound of the end-to-end matrix [paper: 5] [allowed: ≥ 1]
epochs = 3000  # full-batch epochs, the extent of the paper's figure axis [paper: 3000] [allowed: ≥ 1]
lr = 0.001  # Adam learning rate, betas (0.9, 0.999) [paper: 0.001] [allowed: > 0]
batch_size = 0  # 0 for full batch, else the minibatch size (the text says gradient descent) [paper: 0] [allowed: ≥ 0]
lambdas = [0.01, 0.1, 1.0]  # regularization strengths, the cross-entropy grid of the figure legends [paper: [0.01, 0.1, 1.0]] [allowed: > 0, len ≥ 1]
threshold = 0.95  # proportion whose first crossing measures how fast a curve approaches 1 [allowed: > 0, < 1]
da_limit = 0.99  # final DA proportion above which DA counts as having reached 1 [allowed: > 0, ≤ 1]

# %%
import time

from IPython.display import Markdown, display

from invlearn.core import plotting
from invlearn.duan.linear import lambda_key
from invlearn.duan.pages import (
    limit_figure, limit_series, linear_runs, proportion_checks, proportion_crossing, run_metrics, seed_means,
)
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results

NOTEBOOK = "duan_fig09_invariant_proportion_ce"
started = time.perf_counter()
plotting.book_style()
seeds = list(range(seed, seed + n_seeds))

# %% [markdown]
# Train DA and the regularized networks with cross-entropy (all λ × seeds as one batched program) and log the
# invariant proportion every epoch; the runs of {doc}`Fig. 7 <duan_fig07_training_curves_ce>` when that page trained them
# (`metrics.run_ids`).

# %%
problem, runs = linear_runs(
    "ce", methods=("DA", "regularized"), metrics=("invariant_proportion",), n_samples=n_samples,
    data_seed=data_seed, seeds=seeds, hidden=hidden, epochs=epochs, lr=lr, batch_size=batch_size, lambdas=lambdas,
)
names = ["DA", *[lambda_key(lam) for lam in lambdas]]
per_seed, mean = seed_means(runs.invariant_proportion, names)
crossing = proportion_crossing(runs.epochs, mean, threshold)
print("final invariant proportion (mean over seeds):", {name: round(float(mean[name][-1]), 5) for name in names})
print(f"first epoch with proportion >= {threshold}:", crossing)

# %% mystnb={"figure": {"caption": "Invariant proportion ‖W − W⊥‖²_F / ‖W‖²_F of the end-to-end matrix under cross-entropy loss, per epoch, for data augmentation (DA) and regularization (λ). The constrained model has proportion 1 (grey line). With several seeds: mean and min–max band.", "name": "fig-duan-09"}}
fig = limit_figure(runs.epochs, per_seed, lambdas, ylabel="Proportion", limit=1.0)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# The criteria of {doc}`Fig. 4 <duan_fig04_invariant_proportion>`: (1) every curve ends above its initial value;
# (2) DA ends above `da_limit` ("approaches 1"); (3) the λ curves reach `threshold` no later for larger λ.

# %%
checks = proportion_checks(mean, crossing, lambdas, threshold, da_limit)
save_results(
    NOTEBOOK,
    claim="Under cross-entropy the invariant proportion rises toward 1 for every method, faster for larger λ, and DA approaches 1.",
    checks=checks,
    data=problem.data_label,
    metrics={
        "final_invariant_proportion": {k: float(v[-1]) for k, v in mean.items()},
        "initial_invariant_proportion": {k: float(v[0]) for k, v in mean.items()},
        "epoch_reaching_threshold": crossing,
        **run_metrics(runs, problem, seeds, started),
    },
    series=limit_series(runs.epochs, mean, per_seed, 1.0),
)
display(check_table(checks))
assert_checks(checks)

# %% tags=["reading"]
display(Markdown(
    "Final invariant proportion: " + ", ".join(f"{k} {float(mean[k][-1]):.5f}" for k in names)
    + f" (initial {min(float(mean[k][0]) for k in names):.3g}–{max(float(mean[k][0]) for k in names):.3g}); first epoch at "
    f"{threshold}: " + ", ".join(f"{k} {crossing[k]:g}" for k in names) + ". "
    + ("As the paper says, every curve rises toward 1, faster for larger λ, and DA approaches 1."
       if all(checks.values()) else "Not every part of the paper's description holds in this run (see the checks).")
))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Same data, initialisation, loss and optimiser choices as {doc}`Fig. 7 <duan_fig07_training_curves_ce>`.
# * The proportion is computed on the end-to-end matrix $W_2W_1$ after every epoch with $\overline G=\frac14\sum_k\rho(g)^k$.
# * "Faster" is the first epoch at which the proportion reaches `threshold` (0.95); "approaches 1" a final value
#   above `da_limit`, the criteria used for the squared loss in {doc}`Fig. 4 <duan_fig04_invariant_proportion>`.
# * Seeds: the paper shows one run; `n_seeds` adds runs with seeds `seed … seed+n_seeds−1` (same digits).
# :::
