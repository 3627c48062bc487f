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
#     figure: Thm 6
#     title: The hard-wired optimum in closed form against the trained constrained network, over ranks
#     data: MNIST (full)
# ---

# %% [markdown]
# # Theorem 6 — gradient descent on the hard-wired network reaches the closed form $(Z\Pi)_rP^{-1}$ at every rank
#
# **Claim (Duan & Montúfar, Thm 6).** If $\operatorname{rank}\overline Z^{inv}>r$, the global minimiser of the hard-wired
# problem (4), $\min\frac1n\|WX-Y\|_F^2$ s.t. $WG=0$, $\operatorname{rank}W\le r$, is
# $$\widehat W^{inv}=\overline U_r\overline\Sigma_r\overline V_r^TP^{-1}=(Z\Pi)_rP^{-1}:$$
# project the whitened target onto invariant maps ($\Pi=I-\widetilde G\widetilde G^+$), truncate its SVD, un-whiten.
#
# **Test.** We compute $\widehat W^{inv}$ without training (float64) and train the constrained network
# $f(x)=W_2W_1B_{orbit}x$, $196\to r\to9$, on the MNIST digits with the book's one training engine, for several
# ranks $r<\operatorname{rank}\overline Z^{inv}$ (at most the number of outputs). We compare the end-to-end matrix $W=W_2W_1B_{orbit}$ with
# $\widehat W^{inv}$ and the training loss with the closed-form minimum. The closed form is also cross-checked against
# reduced-rank regression on the orbit features (spec §5).

# %% tags=["parameters"]
n_samples = 1000  # training digits drawn before augmentation [paper: 1000] [allowed: ≥ 1, ≤ mnist]
data_seed = 0  # seed of the random draw of digits [allowed: ≥ 0]
seed = 0  # initialisation seed of the networks [allowed: ≥ 0]
ranks = [1, 3, 5, 7]  # hidden widths r tested (the theorem holds for every r below rank Z_inv; the paper's networks have r 5) [allowed: ≥ 1, len ≥ 1]
epochs = 3000  # full-batch epochs, the extent of the paper's figure axes [paper: 3000] [allowed: ≥ 1]
lr = 0.01  # Adam learning rate, raised to reach the optimum within the epochs (see the note below) [paper: 0.001] [allowed: > 0]
ridge = 1e-06  # relative ridge of X X^T, our choice (the paper does not state how it handles singular X X^T) [allowed: ≥ 0]

# %%
import time

import numpy as np
import torch

from invlearn.core import plotting
from invlearn.duan.problem import mnist_problem
from invlearn.duan.linear import train_linear_methods
from IPython.display import Markdown, display

from invlearn.book.results import assert_checks, check_table, figure_stem, save_results
from invlearn.core.data import data_label, load_mnist
from invlearn.duan.theory import closed_forms, data_loss, hardwired_optimum

NOTEBOOK = "duan_thm06_hardwired_optimum"
started = time.perf_counter()
plotting.book_style()

# %% [markdown]
# The closed form in the paper's notation, and the orbit-feature form
# $\big(YF^T(FF^T)^{-1/2}\big)_r(FF^T)^{-1/2}B_o$ with $F=B_oX$ as an independent computation of the same matrix.

# %%
problem = mnist_problem(n_samples=n_samples, seed=data_seed)
forms = closed_forms(problem.x, problem.y, problem.group.rho, ridge=ridge)
n_out = problem.n_classes
rank_z = int(torch.linalg.matrix_rank(forms.z_inv))
closed = {r: forms.w_inv(r) for r in ranks}
orbit_form_error = {
    r: float((closed[r] - hardwired_optimum(problem.x, problem.y, problem.group.orbit_basis("orthonormal"), r, ridge)).norm()
             / closed[r].norm())
    for r in ranks
}
invariance_residual = {r: float((closed[r] @ forms.constraint).norm() / closed[r].norm()) for r in ranks}
print("rank of Z_inv:", rank_z)
print("paper form vs orbit-feature form, relative difference:", orbit_form_error)
print("||W_inv G|| / ||W_inv||:", invariance_residual)

# %% [markdown]
# Train one constrained network per rank and record its end-to-end matrix every epoch.
#
# **How to compare matrices.** The border pixels are 0 in every digit, and many more directions of $XX^T$ carry almost
# no variance. The data cannot determine $W$ there: the gradient in exactly-null directions is zero, so the network
# keeps its initial weights in them, while the closed form (with the ridge) puts 0. We therefore measure the error in
# the metric of the loss, the whitened error $\|(W-\widehat W^{inv})P\|_F/\|\widehat W^{inv}P\|_F$, and report the raw
# $\|W-\widehat W^{inv}\|_F/\|\widehat W^{inv}\|_F$ alongside. Losses are compared with the same ridge
# $\frac1n(\|WX-Y\|_F^2+\varepsilon\|W\|_F^2)$, whose exact minimiser is $\widehat W^{inv}$, so the trained value can
# never be lower.

# %%
every = max(1, epochs // 300)
curves, finals, seconds = {}, {}, {}
for r in ranks:
    runs = train_linear_methods(problem, methods=("constrained",), hidden=r, epochs=epochs, lr=lr, seeds=[seed],
                                metrics=("end_to_end",))
    w_path = torch.from_numpy(runs.end_to_end["constrained"][::every, 0]).to(torch.float64)
    w_hat = closed[r]
    scale = float((w_hat @ forms.p).norm())
    best = data_loss(w_hat, problem.x, problem.y, forms.eps)
    ridged = np.array([data_loss(w, problem.x, problem.y, forms.eps) for w in w_path])
    curves[r] = {
        "epoch": runs.epochs[::every],
        "whitened_error": (((w_path - w_hat) @ forms.p).norm(dim=(1, 2)) / scale).numpy(),
        "loss_gap": (ridged - best) / best,
    }
    finals[r] = {
        "whitened_error": float(curves[r]["whitened_error"][-1]),
        "raw_error": float((w_path[-1] - w_hat).norm() / w_hat.norm()),
        "relative_loss_gap": float(curves[r]["loss_gap"][-1]),
        "min_relative_loss_gap": float(curves[r]["loss_gap"].min()),
        "closed_form_loss": best,
        "trained_mse_loss": float(runs.loss["constrained"][-1, 0]),
        "closed_form_mse_loss": data_loss(w_hat, problem.x, problem.y) / n_out,
    }
    seconds[r] = runs.seconds["constrained"]
    print(f"r = {r}: " + ", ".join(f"{k} {v:.3g}" for k, v in finals[r].items()))

# %% mystnb={"figure": {"caption": "Theorem 6 on MNIST: the constrained network W₂W₁B_orbit trained by full-batch Adam against the closed-form optimum (ZΠ)_r P⁻¹, for several ranks r. Left: whitened relative error ‖(W − Ŵ_inv)P‖_F / ‖Ŵ_inv P‖_F of the end-to-end matrix. Right: relative gap of the (ridged) loss to the closed-form minimum; it never becomes negative.", "name": "fig-duan-thm06"}}
labels = {f"r{r}": f"r = {r}" for r in ranks}
fig = plotting.xy_panels([
    plotting.Panel(xlabel="Epochs", ylabel="Whitened relative error of W", logy=True, labels=labels,
                   lines={f"r{r}": (c["epoch"], c["whitened_error"]) for r, c in curves.items()}),
    plotting.Panel(xlabel="Epochs", ylabel="Relative loss gap to the closed form", logy=True, labels=labels,
                   lines={f"r{r}": (c["epoch"], np.maximum(c["loss_gap"], 1e-16)) for r, c in curves.items()}),
])
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# Asserted, for every rank: (0) the theorem's hypothesis $\operatorname{rank}\overline Z^{inv}>r$; (1) the paper's form and the
# orbit-feature form agree to $10^{-8}$ relative and $\widehat W^{inv}G=0$ to $10^{-10}$ (both are float64 round-off amplified
# by $\operatorname{cond}P$); (2) at the end, the relative gap of the (ridged) loss to the closed-form minimum is below
# $10^{-4}$ and the whitened matrix error below $2\cdot10^{-2}$. Tolerance of (2): the network is trained in float32 with
# a constant Adam step, which does not settle on a point but keeps moving in a small neighbourhood of the optimum, and
# near a minimum the loss gap is quadratic in the matrix error; the tolerances bound that neighbourhood. They are
# meant for the default `lr`; at the paper's `lr` the same epochs may not reach them (see below), and the check then
# fails, as it should. That the trained loss is never below the closed-form minimum is exact (the closed form is the
# minimiser of the ridged loss), so it is reported in the result file, not asserted.

# %%
checks = {
    f"Thm 6 hypothesis: rank Z_inv ({rank_z}) > every r": rank_z > max(ranks),
    "paper form = orbit-feature form (< 1e-8 relative)": max(orbit_form_error.values()) < 1e-8,
    "Ŵ_inv G = 0 (< 1e-10 relative)": max(invariance_residual.values()) < 1e-10,
    "final relative loss gap < 1e-4 at every r": max(f["relative_loss_gap"] for f in finals.values()) < 1e-4,
    "final whitened matrix error < 2e-2 at every r": max(f["whitened_error"] for f in finals.values()) < 2e-2,
}
save_results(
    NOTEBOOK,
    claim="Ŵ_inv = (ZΠ)_r P^{-1} (two computations agree, it is invariant), and the trained constrained network ends within 1e-4 in loss and 2e-2 in whitened matrix error of it at every rank tested.",
    checks=checks,
    metrics={
        "final": {f"r{r}": f for r, f in finals.items()},
        "orbit_form_relative_difference": {f"r{r}": v for r, v in orbit_form_error.items()},
        "invariance_residual": {f"r{r}": v for r, v in invariance_residual.items()},
        "rank_z_inv": rank_z,
        "train_seconds": {f"r{r}": v for r, v in seconds.items()},
        "notebook_seconds": time.perf_counter() - started,
        "data_source": problem.source,
    },
    series={f"r{r}": c for r, c in curves.items()},
    data=data_label(load_mnist("train")),
)
display(check_table(checks))
assert_checks(checks)

# %% [markdown]
# **Learning rate.** The paper trains with Adam at 0.001; this page uses a larger default `lr` because it tests the
# optimum, not the dynamics (the run is therefore labelled scaled). With `-p lr=0.001` the same epochs leave the
# networks short of the optimum, still above the closed-form minimum and still decreasing; the check then fails on
# (2) only.

# %% tags=["reading"]
worst = max(finals, key=lambda r: finals[r]["whitened_error"])
display(Markdown(
    f"**This run.** $\\operatorname{{rank}}\\overline Z^{{inv}}$ = {rank_z}. At the last epoch the whitened matrix error is at most "
    f"{finals[worst]['whitened_error']:.2g} (r = {worst}) and the relative loss gap at most "
    f"{max(f['relative_loss_gap'] for f in finals.values()):.2g}; the smallest loss gap over all logged epochs is "
    f"{min(f['min_relative_loss_gap'] for f in finals.values()):.2g}"
    + (" (never negative, as it must be)." if min(f["min_relative_loss_gap"] for f in finals.values()) >= 0 else
       " (**negative**: the evaluation of the loss is off by more than its round-off).")
    + " The raw, unwhitened "
    f"errors are larger ({min(f['raw_error'] for f in finals.values()):.2g}–{max(f['raw_error'] for f in finals.values()):.2g}): "
    "they live in directions the data do not determine."
))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Same digits, preprocessing, initialisation and `nn.MSELoss()` as {doc}`Fig. 2 <duan_fig02_training_curves>`;
#   $B_{orbit}$ with entries 1/4. The MSE loss is $\frac19$ of the paper's $\frac1n\|WX-Y\|_F^2$, which moves neither
#   the minimiser nor the critical points.
# * Ridge $\varepsilon=10^{-6}\times$ mean eigenvalue of $XX^T$ in $P$; losses compared in the ridged form.
# * Ranks: `ranks` (the theorem needs $r<\operatorname{rank}\overline Z^{inv}$, printed above); one initialisation seed.
# * Learning rate `lr` (see above); full batch, `epochs` epochs.
# :::
