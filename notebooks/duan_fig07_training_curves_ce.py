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
#     figure: Fig. 7
#     title: Training curves of DA, regularization and the constrained model (cross-entropy)
#     data: MNIST (full)
# ---

# %% [markdown]
# # Fig. 7 — under cross-entropy, DA and hard-wiring again reach similar accuracy; a suitable λ comes close
#
# **Claim (Duan & Montúfar, App. C.2, Fig. 7).** With the cross-entropy loss the training curves follow the pattern of
# {doc}`Fig. 2 <duan_fig02_training_curves>`: late in training the data-augmented (DA) and the constrained
# (hard-wired) networks reach similar accuracy on the augmented training set, and a suitable λ from the grid
# {1e-2, 1e-1, 1} comes close to them. The theory (Thms 6 and 12) covers the squared loss only, so there is no
# closed-form reference line here.
#
# Setup as in Fig. 2 ({doc}`chapter page </book/duan_montufar>`) with `CrossEntropyLoss` on the 9 logits and the
# penalty $\lambda\|W_2W_1G\|_F^2$ added for the regularized networks.

# %% tags=["parameters"]
n_samples = 1000  # training digits drawn before augmentation [paper: 1000] [allowed: ≥ 1, ≤ mnist]
data_seed = 0  # seed of the random draw of digits [allowed: ≥ 0]
seed = 0  # first initialisation seed; DA and every λ run share the initial weights [allowed: ≥ 0]
n_seeds = 1  # number of initialisation seeds; the paper shows a single run [paper: 1] [allowed: ≥ 1]
hidden = 5  # hidden width r, the rank bound of the end-to-end matrix [paper: 5] [allowed: ≥ 1]
epochs = 3000  # full-batch epochs, the extent of the paper's figure axis [paper: 3000] [allowed: ≥ 1]
lr = 0.001  # Adam learning rate, betas (0.9, 0.999) [paper: 0.001] [allowed: > 0]
batch_size = 0  # 0 for full batch, else the minibatch size (the text says gradient descent) [paper: 0] [allowed: ≥ 0]
tolerance = 0.03  # largest final accuracy gap counted as "similar" (about the gap between adjacent λ curves of the figure) [allowed: > 0]
lambdas = [0.01, 0.1, 1.0]  # regularization strengths, the cross-entropy grid of the figure legends [paper: [0.01, 0.1, 1.0]] [allowed: > 0, len ≥ 1]

# %%
import time

from IPython.display import Markdown, display

from invlearn.core import plotting
from invlearn.duan.metrics import settling_epoch
from invlearn.duan.pages import accuracy_checks, accuracy_figure, linear_runs, run_metrics
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results

NOTEBOOK = "duan_fig07_training_curves_ce"
started = time.perf_counter()
plotting.book_style()
seeds = list(range(seed, seed + n_seeds))

# %% [markdown]
# Train the three approaches with cross-entropy (all λ values × seeds as one batched program) and log the
# augmented-set accuracy every epoch. The runs are shared with {doc}`Fig. 8 <duan_fig08_noninvariant_norm_ce>` and
# {doc}`Fig. 9 <duan_fig09_invariant_proportion_ce>` (and the DA run with {doc}`Fig. 6 <duan_fig06_da_orbit_weights_ce>`):
# whichever page runs first trains them, the others reuse them (`metrics.run_ids` in the result file).

# %%
problem, runs = linear_runs(
    "ce", methods=("constrained", "DA", "regularized"), metrics=("accuracy",), n_samples=n_samples,
    data_seed=data_seed, seeds=seeds, hidden=hidden, epochs=epochs, lr=lr, batch_size=batch_size, lambdas=lambdas,
)
curves = {name: acc.mean(axis=1) for name, acc in runs.accuracy.items()}  # mean over seeds
final_accuracy = {name: float(c[-1]) for name, c in curves.items()}
settling = {name: settling_epoch(runs.epochs, c, tol=0.01) for name, c in curves.items()}
print("final accuracy:", {name: round(v, 4) for name, v in final_accuracy.items()})
print("epoch from which accuracy stays within 0.01 of its final value:", settling)

# %% mystnb={"figure": {"caption": "Training curves for data augmentation (DA), regularization (λ), and constrained model under cross-entropy loss: accuracy on the augmented training set (4000 images) per epoch. With several seeds: mean and min–max band.", "name": "fig-duan-07"}}
fig = accuracy_figure(runs, lambdas)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# The same test as for {doc}`Fig. 2 <duan_fig02_training_curves>`: (1) at the last epoch DA and the constrained model
# differ by less than `tolerance` in accuracy; (2) the best λ is within `tolerance` of both.

# %%
best_lambda, checks = accuracy_checks(final_accuracy, lambdas, tolerance)
save_results(
    NOTEBOOK,
    claim="Under cross-entropy, late in training DA and the constrained model reach similar accuracy, and a suitable λ comes close to both.",
    checks=checks,
    data=problem.data_label,
    metrics={
        "final_accuracy": final_accuracy,
        "best_lambda": best_lambda,
        "settling_epoch": settling,
        **run_metrics(runs, problem, seeds, started),
    },
    series={"epoch": runs.epochs, **curves, "per_seed": runs.accuracy},
)
display(check_table(checks))
assert_checks(checks)

# %% tags=["reading"]
display(Markdown(
    "Final accuracy on the augmented set: " + ", ".join(f"{k} {v:.4f}" for k, v in final_accuracy.items())
    + f"; best λ {best_lambda}. Epoch from which each curve stays within 0.01 of its final value: "
    + ", ".join(f"{k} {v}" for k, v in settling.items()) + ". "
    + ("DA and the constrained model end close together and the best λ comes close to both, the pattern of Fig. 2."
       if all(checks.values()) else "The pattern of Fig. 2 does not hold in every part in this run (see the checks).")
))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * **Loss**: `nn.CrossEntropyLoss()` (mean over samples) on the 9 logits; regularized: plus $\lambda\|W_2W_1G\|_F^2$
#   with $G=I-\rho(g)$. With a mean-reduced loss, λ weighs the penalty against the average per-sample loss.
# * **Grid**: λ ∈ {1e-2, 1e-1, 1}, read from the figure's legend.
# * Data, preprocessing, batch, epochs, initialisation and hard-wiring basis as in
#   {doc}`Fig. 2 <duan_fig02_training_curves>`; DA and every λ start from the same $W_1, W_2$.
# * **Seeds**: the paper shows one run; `n_seeds` adds runs with seeds `seed … seed+n_seeds−1` (same digits), drawn as
#   mean and min–max band; the checks use the mean.
# * **Paper values**: the figure gives no numbers; the comparison is qualitative.
# :::
