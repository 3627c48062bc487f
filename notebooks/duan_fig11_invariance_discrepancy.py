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
#     figure: Fig. 11
#     title: Invariance discrepancy of two-layer nonlinear networks trained with data augmentation
# ---

# %% [markdown]
# # Fig. 11 — nonlinear networks trained with DA learn invariance better with a bottleneck and with more data
#
# **Claims (Duan & Montúfar, App. C.3, Fig. 11).** For two-layer networks trained with full-orbit data augmentation
# (DA), the median discrepancy from invariance $\epsilon_{inv}(f)$
# 1. is much smaller **with a bottleneck** (width 7 < 9 outputs) than without (width 15): more expressive networks
#    learn invariance from data less well;
# 2. is smaller with **more training data** ($N=5000$ vs $N=1000$): linear networks are invariant at every critical
#    point (Prop 13), nonlinear ones need data;
# 3. does not grow much under a distribution shift to **Gaussian inputs**: the learned invariance is fairly robust.
#
# **Setup.** The DA networks of {doc}`Fig. 10 <duan_fig10_nonlinear_training_curves>` ($f(x)=W_2\sigma(W_1x)$, no
# biases, MSE, Adam, 4 activations × widths 7 and 15), trained on $N$ digits and their 4 rotations, for two values of
# $N$. Each network is evaluated on held-out MNIST digits (never seen in training) and on isotropic Gaussian points
# $x\sim\mathcal N(0,I_{196})$. The networks of one $N$ and width train as one batched program; the largest $N$
# repeats Fig. 10's DA runs (same digits, same seed, same numbers).
#
# **The measure.** With $\overline f(x)=\mathbb E_h f(hx)$, $h$ uniform on $C_4$, the paper defines for a scalar
# output $\epsilon_{inv}(f,x)=\mathbb E_h\big(1-f(hx)/\overline f(x)\big)^2$ and reports its median over an evaluation
# set. Our networks have 9 outputs; we use
# $$\epsilon_{inv}(f,x)=\frac{\mathbb E_h\|f(hx)-\overline f(x)\|^2}{\|\overline f(x)\|^2},$$
# the variance of the output vector over the orbit of $x$ relative to the squared norm of its orbit mean. Why this one:
# it is the paper's formula when there is one output (then both are $\mathbb E_h(f(hx)-\overline f)^2/\overline f^2$),
# it does not depend on a choice or rotation of the output coordinates, and it is 0 exactly for an invariant network.
# The alternative, the paper's formula applied to each output and averaged over the 9, divides by each output's orbit
# mean; with one-hot MSE targets 8 of the 9 outputs are near 0 on a digit, so it measures how close those outputs
# come to zero rather than how invariant the network is. We report it as well (second table), not in the checks.

# %% tags=["parameters"]
n_train = [1000, 5000]  # training digits before augmentation (paper: 1000 and 5000); reduced if only embedded digits exist
n_test = 5000  # held-out MNIST digits to evaluate on (paper: 5000 test images)
min_test = 500  # held-out digits kept when only the 4,500 embedded non-9 digits exist
n_gaussian = 5000  # Gaussian evaluation points (paper: 5000)
gaussian_seed = 0  # seed of the Gaussian points
data_seed = 0  # seed of the random draws of digits
seed = 0  # first initialisation seed; every activation starts from the same weights of a seed
n_seeds = 1  # number of initialisation seeds (paper: a single run)
widths = [7, 15]  # hidden widths: 7 is a bottleneck (fewer than the 9 outputs), 15 is not
activations = ["leaky_relu", "relu", "swish", "tanh"]  # paper: Leaky ReLU, ReLU, Swish, Tanh
epochs = 4000  # full-batch epochs (as in Fig. 10)
lr = 0.001  # Adam learning rate (paper: 0.001, betas (0.9, 0.999))
batch_size = 0  # 0 for full batch (the paper's gradient descent), else the minibatch size
same_order = 10.0  # largest Gaussian-to-MNIST ratio of medians counted as the same order of magnitude

# %%
import time

import numpy as np
import torch
from IPython.display import Markdown

from invlearn.core import plotting
from invlearn.duan import plots as duan_plots
from invlearn.duan.nonlinear import ACTIVATION_NAMES, eps_inv_table, heldout_split, median_invariance_discrepancy, split_note, train_nonlinear_methods
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results

NOTEBOOK = "duan_fig11_invariance_discrepancy"
started = time.perf_counter()
plotting.book_style()
seeds = list(range(seed, seed + n_seeds))

# %% [markdown]
# Draw the training sets and the disjoint test digits, and the Gaussian points.

# %%
split = heldout_split(n_train, n_test, seed=data_seed, min_test=min_test)
display(Markdown(split_note(split, n_test)))
sizes = [split.n_train[n] for n in n_train]  # digits actually used, in the order of n_train
inputs = {"mnist": split.x_test, "gaussian": torch.randn(n_gaussian, split.x_test.shape[1], generator=torch.Generator().manual_seed(gaussian_seed))}
print({name: tuple(x.shape) for name, x in inputs.items()})

# %% [markdown]
# Train the DA networks for each $N$ (one batched program per width) and evaluate $\epsilon_{inv}$ on every input of
# both sets: each network sees the 4 rotations of every point.

# %%
median, median_per_class, final_loss, seconds = {}, {}, {}, {}
for n, size in zip(n_train, sizes):
    problem = split.problems[n]
    runs = train_nonlinear_methods(
        problem, methods=("DA",), activations=activations, widths=widths, loss="mse", epochs=epochs, lr=lr,
        batch_size=batch_size or None, seeds=seeds, log_every=epochs,
    )
    for name, per_set in median_invariance_discrepancy(runs, problem.group, inputs).items():
        median.setdefault(name.removesuffix("_DA"), {})[str(size)] = {s: float(v.mean()) for s, v in per_set.items()}
    for name, per_set in median_invariance_discrepancy(runs, problem.group, inputs, per_class=True).items():
        median_per_class.setdefault(name.removesuffix("_DA"), {})[str(size)] = {s: float(v.mean()) for s, v in per_set.items()}
    final_loss[str(size)] = {name: float(v.mean()) for name, v in runs.final_loss.items()}
    seconds[str(size)] = {f"w{w}": s for (_, w), s in runs.seconds.items()}
print("training seconds:", seconds)


# %% [markdown]
# **Median $\epsilon_{inv}$** (the measure defined above) per network, $N$ and evaluation set:

# %%
display(eps_inv_table(median, activations, widths, sizes).style.format("{:.4g}"))

# %% [markdown]
# The per-output variant (the paper's scalar formula on each of the 9 outputs, averaged), for comparison only:

# %%
display(eps_inv_table(median_per_class, activations, widths, sizes).style.format("{:.4g}"))

# %% mystnb={"figure": {"caption": "Median of the measure ε_inv(f) of discrepancy from invariance for 2-layer neural networks with different activation functions, trained on MNIST with data augmentation. Rows: training-set size N; columns: evaluation on Gaussian points N(0, I) and on held-out MNIST digits; fill: bottleneck (width 7, TRUE) or not (width 15, FALSE); logarithmic y axis (the values span several orders of magnitude). ε_inv(f, x) = E_h‖f(hx) − f̄(x)‖² / ‖f̄(x)‖², f̄(x) = E_h f(hx) over the four rotations.", "name": "fig-duan-11"}}
set_label = {"gaussian": "Gaussian", "mnist": "MNIST"}
facets = {
    f"N = {n}": {
        set_label[s]: {
            ACTIVATION_NAMES[act]: {str(w < 9).upper(): median[f"{act}_w{w}"][str(n)][s]
                                    for w in sorted(widths, reverse=True)}
            for act in activations
        }
        for s in ("gaussian", "mnist")
    }
    for n in sizes
}
fig = duan_plots.facet_bars(facets, xlabel="Activation Function", ylabel="median ε_inv(f)", legend_title="Bottleneck", log=True)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# The paper's claims, made testable on the geometric mean over the four activations (the spec's aggregate; one
# activation's median can move by orders of magnitude between runs, e.g. when ReLU units die):
# (1) **bottleneck**: for every $N$ and evaluation set, the width-7 networks have the smaller mean — asserted;
# (2) **more data**: per width and set, the mean is smaller at the largest $N$ than at the smallest — evaluated and
# recorded, not asserted, because at the paper's sizes it holds for width 15 only (see below);
# (3) **robustness to Gaussian inputs**, read as "for every network the Gaussian and MNIST medians are within a factor
# `same_order` (10)" — recorded, not asserted: it does not reproduce with our measure.
# The stricter per-activation form of (1) is recorded as well.

# %%
narrow, wide = min(widths), max(widths)
small_n, large_n = str(min(sizes)), str(max(sizes))
key = {(act, w): f"{act}_w{w}" for act in activations for w in widths}
bottleneck = {f"{ACTIVATION_NAMES[act]}, N = {n}, {set_label[s]}": median[key[act, narrow]][n][s] < median[key[act, wide]][n][s]
              for act in activations for n in (small_n, large_n) for s in ("mnist", "gaussian")}
geo = {(w, n, s): float(np.exp(np.mean([np.log(median[key[act, w]][n][s]) for act in activations])))
       for w in widths for n in (small_n, large_n) for s in ("mnist", "gaussian")}
bottleneck_mean = {f"(1) N = {n}, {set_label[s]}: {geo[narrow, n, s]:.3g} (width {narrow}) < {geo[wide, n, s]:.3g} (width {wide})":
                   geo[narrow, n, s] < geo[wide, n, s] for n in (small_n, large_n) for s in ("mnist", "gaussian")}
more_data = {f"(2) width {w}, {set_label[s]}: {geo[w, large_n, s]:.3g} (N = {large_n}) < {geo[w, small_n, s]:.3g} (N = {small_n})":
             geo[w, large_n, s] < geo[w, small_n, s] for w in widths for s in ("mnist", "gaussian")}
ratio = {(act, w, n): median[key[act, w]][n]["gaussian"] / median[key[act, w]][n]["mnist"]
         for act in activations for w in widths for n in (small_n, large_n)}
robust = max(max(r, 1 / r) for r in ratio.values())
checks = dict(bottleneck_mean)
findings = {
    f"(1, per activation) bottleneck smaller in {sum(bottleneck.values())} of {len(bottleneck)} (activation, N, set) cells":
        all(bottleneck.values()),
    **more_data,
    f"(3) Gaussian and MNIST medians within a factor {same_order:g} (largest factor {robust:.3g})": robust <= same_order,
}
save_results(
    NOTEBOOK,
    claim="With DA, ε_inv is smaller with a bottleneck and with more data, and does not grow much on Gaussian inputs.",
    checks=checks,
    findings=findings,
    metrics={
        "median_eps_inv": median,
        "median_eps_inv_per_class": median_per_class,
        "eps_inv_definition": "E_h ||f(hx) - fbar(x)||^2 / ||fbar(x)||^2, fbar(x) = E_h f(hx), h uniform on C4; median over the set",
        "bottleneck_smaller": bottleneck,
        "geometric_mean": {f"w{w}_N{n}_{s}": v for (w, n, s), v in geo.items()},
        "gaussian_to_mnist_ratio": {f"{a}_w{w}_N{n}": v for (a, w, n), v in ratio.items()},
        "final_loss": final_loss,
        "data_source": split.source,
        "test_source": split.test_source,
        "n_train": sizes,
        "n_train_requested": list(n_train),
        "n_test": int(len(split.test_indices)),
        "n_gaussian": n_gaussian,
        "seeds": seeds,
        "train_seconds": seconds,
        "notebook_seconds": time.perf_counter() - started,
    },
    series={"activation": activations, "width": widths, "n_train": sizes, "median_eps_inv": median,
            "median_eps_inv_per_class": median_per_class},
)
display(check_table({**checks, **{f"(not asserted) {k}": v for k, v in findings.items()}}))
assert_checks(checks)

# %% [markdown]
# ## Where this differs from the paper
#
# What this run shows, read from the numbers above:

# %%
fewer = [k for k, ok in bottleneck.items() if not ok]
display(Markdown("\n".join([
    f"* **Bottleneck** (claim 1): the width-{narrow} mean is below the width-{wide} mean in "
    f"{sum(bottleneck_mean.values())} of {len(bottleneck_mean)} (N, set) pairs, by factors "
    f"{min(geo[wide, n, s] / geo[narrow, n, s] for n in (small_n, large_n) for s in ('mnist', 'gaussian')):.3g}–"
    f"{max(geo[wide, n, s] / geo[narrow, n, s] for n in (small_n, large_n) for s in ('mnist', 'gaussian')):.3g}; per activation it holds "
    f"in {sum(bottleneck.values())} of {len(bottleneck)} cells" + (f" (not in: {'; '.join(fewer)})." if fewer else "."),
    *[f"* **More data** (claim 2), width {w}: " + ", ".join(
        f"{set_label[s]} {geo[w, small_n, s]:.3g} → {geo[w, large_n, s]:.3g}" for s in ("mnist", "gaussian"))
      + (" (smaller with more data)." if all(geo[w, large_n, s] < geo[w, small_n, s] for s in ("mnist", "gaussian"))
         else " (**not** smaller with more data in every set).") for w in widths],
    f"* **Gaussian inputs** (claim 3): the Gaussian median is up to {robust:.3g} times the MNIST one.",
])))

# %% [markdown]
# At the paper's sizes (embedded digits: $N$ = 1,000 and 4,000, 4000 epochs, seed 0) the bottleneck effect is large
# and holds on average, and more data lowers $\epsilon_{inv}$ of the wide networks, but not of the bottleneck ones:
# their medians are already 1e-5 to 1e-4 on digits, and at that level the change from $N$ = 1,000 to 4,000 is
# dominated by single networks (ReLU width 7 rose from 4e-6 to 2e-3 in our run, which also made it the one cell
# where the bottleneck was not smaller). One seed, as in the paper, cannot separate this from run-to-run variation;
# `n_seeds` averages the medians over seeds. Claim 3 does not reproduce: on Gaussian inputs the medians are
# one to three orders of magnitude above those on held-out digits, most of all for the bottleneck networks, whose
# $\epsilon_{inv}$ on digits is tiny. The networks learned invariance on the digit distribution; points
# $\mathcal N(0,I_{196})$ are far from it (norm ≈ 14 against ≈ 4 for a digit, negative pixels), and there they are
# less invariant. The paper's reading may rest on a linear y axis, on which small medians all look alike, or on another
# multi-output form of $\epsilon_{inv}$ (the per-output table above shows the same pattern). With only the embedded
# digits, the larger training set is 4,000 rather than 5,000 digits and the test set 500 rather than 5,000.
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * **$\epsilon_{inv}$ for 9 outputs**: the relative orbit variance of the output vector (defined and justified above);
#   the per-output average is reported alongside. Median over each evaluation set; with several seeds, the mean of the
#   seeds' medians.
# * **Test digits**: preprocessed like the training digits (14×14, [0, 1]), digit 9 excluded. With full MNIST, a seeded
#   draw from the test split; with only the embedded digits, 500 digits held out before any training set is drawn
#   (the note above says which case ran and the sizes used). The smaller training set is a subset of the larger one.
# * **Gaussian points**: $\mathcal N(0,I_{196})$, variance 1 per pixel, no rescaling to the pixel range.
# * **Networks and training**: as in {doc}`Fig. 10 <duan_fig10_nonlinear_training_curves>` (no biases, Leaky ReLU
#   slope 0.01, Swish = SiLU, PyTorch default initialisation, full-batch Adam for 4000 epochs), the same for both $N$.
# * **Aggregates in the checks**: geometric mean over activations for the effect of $N$ (the spec's suggestion);
#   "same order of magnitude" as a factor of at most 10.
# :::
