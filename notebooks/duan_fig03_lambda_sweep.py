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
#     figure: Fig. 3 (λ sweep)
#     title: Final non-invariant norm and accuracy of the regularized network over a fine λ grid (MSE), a sweep
#     data: MNIST (full)
# ---

# %% [markdown]
# # Fig. 3 over a fine λ grid — the regularized network's distance from invariance shrinks steadily with λ (MSE)
#
# **Question.** Fig. 3 shows three values of λ. Where along a fine grid of λ does the regularized network become
# (nearly) invariant, and what does it cost in accuracy? Duan & Montúfar's Prop 13 says that for every finite λ the
# critical points of the regularized problem are not invariant, so $\|W_\perp\|_F$ should decrease with λ without
# reaching zero.
#
# This page collects a **sweep**: the {doc}`Fig. 3 notebook <duan_fig03_noninvariant_norm>` run once per value of
# λ, as declared in `sweeps/duan_fig03_lambda.yaml` (a log grid of λ, several initialisation seeds per run trained as
# one batched program; the grid and sizes of this build are printed below).
# `invlearn run duan_fig03_lambda_sweep` runs the sweep first (finished points are reused), or run it yourself:
#
# ```bash
# invlearn sweep sweeps/duan_fig03_lambda.yaml -j 2          # or --backend dask [--scheduler tcp://host:8786]
# invlearn collect duan_fig03_lambda                          # -> sweeps_out/duan_fig03_lambda/duan_fig03_lambda.csv
# ```
#
# Each point reports the final ($t$ = last epoch) $\|W_\perp\|_F$ and accuracy on the augmented training set of its
# regularized network; the DA network of the same seed (it does not depend on λ) is drawn as a reference.

# %% tags=["parameters"]
sweep = "duan_fig03_lambda"  # the sweep this page collects (sweeps/<name>.yaml); the runner runs it first
control_factor = 4  # the largest-λ control trains this many times the sweep's epochs [allowed: ≥ 1]
ridge = 1e-06  # relative ridge of X X^T for the closed forms (spec §5) [allowed: ≥ 0]
decrease_factor = 10.0  # the final ‖W⊥‖ must fall by more than this factor from the smallest to the largest λ [allowed: > 1]
near_invariant = 0.001  # mean ‖W⊥‖ below which a λ counts as near-invariant (recorded) [allowed: > 0]
exact_zero = 1e-06  # mean ‖W⊥‖ below which a λ would count as exactly invariant [allowed: > 0]
path_factor = 2.0  # largest trained/closed-form ‖W⊥‖ ratio (either way) counted as on the Prop 8 path [allowed: ≥ 1]
accuracy_tolerance = 0.01  # largest accuracy gap to the hard-wired optimum counted as reaching it [allowed: > 0]

# %%
import time

import numpy as np
import pandas as pd

from IPython.display import Markdown, display

from invlearn.core import plotting
from invlearn.duan.problem import mnist_problem
from invlearn.duan.linear import lambda_key, train_linear_methods
from invlearn.book.results import assert_checks, check_table, figure_stem, finding, findings_table, load_results, save_results
from invlearn.book.sweep import collect, find_sweep, seed_matrix
from invlearn.duan.theory import augmented_accuracy, closed_forms, paper_lambda, regularization_path

NOTEBOOK = "duan_fig03_lambda_sweep"
started = time.perf_counter()
plotting.book_style()

# %% [markdown]
# The tidy table of the sweep (`invlearn collect`): one row per run, with its λ, check outcome, runtime and summary
# metrics, here the per-seed final values of the regularized network of that λ and of DA.

# %%
table = collect(sweep)
table["lambda"] = table["lambdas"].astype(float)
own = lambda prefix: [row[f"{prefix}.{lambda_key(lam)}"] for lam, (_, row) in zip(table["lambda"], table.iterrows())]
table["final_norm"], table["final_acc"] = own("final_noninvariant_norm_per_seed"), own("final_accuracy_per_seed")
table["da_norm"], table["da_acc"] = table["final_noninvariant_norm_per_seed.DA"], table["final_accuracy_per_seed.DA"]
n_points = len(load_results(find_sweep(sweep) / "manifest.json")["points"])
print(f"{len(table)} of {n_points} runs finished; {int(table['runtime_s'].sum())} s of notebook time; "
      f"λ grid {sorted(table['lambda'])}")
summary = table[["lambda", "check_passed", "runtime_s"]].assign(
    norm_mean=[np.mean(v) for v in table["final_norm"]], acc_mean=[np.mean(v) for v in table["final_acc"]],
    seeds=[len(v) for v in table["final_norm"]])
display(summary.sort_values("lambda").round(5))

# %% [markdown]
# **Closed forms.** For every λ the global optimum of the regularized problem is known in closed form,
# $\widehat W_{reg}(\lambda)$ (Prop 8), and its λ → ∞ limit is the hard-wired optimum $\widehat W_{inv}$ (Theorem 6),
# which is invariant. We evaluate both on the same digits (`invlearn.duan.theory`, `ridge` as on the
# {doc}`Fig. 2 page <duan_fig02_training_curves>`). The networks are trained with the mean squared error over the
# 9 outputs plus $\lambda\|WG\|_F^2$, which is the paper's problem (7) with $9\lambda$
# (`theory.paper_lambda`); the curves below are drawn against the training λ.

# %%
run = load_results(next(find_sweep(sweep).glob("points/*/*.json")))["parameters"]  # every run shares these
problem = mnist_problem(n_samples=run["n_samples"], seed=run["data_seed"])
forms = closed_forms(problem.x, problem.y, problem.group.rho, generators=problem.group.generators, ridge=ridge)
n_outputs, rank = problem.y.shape[1], run["hidden"]
fine = np.logspace(np.log10(table["lambda"].min()), np.log10(table["lambda"].max()), 41)
path = regularization_path(forms, problem.x, problem.y, [paper_lambda(lam, n_outputs) for lam in fine], rank)
path_accuracy = np.array([augmented_accuracy(forms.w_reg(paper_lambda(lam, n_outputs), rank), problem.x_aug, problem.labels_aug)
                          for lam in fine])
closed_form_accuracy = augmented_accuracy(forms.w_inv(rank), problem.x_aug, problem.labels_aug)
print(f"hard-wired optimum (Thm 6): accuracy {closed_form_accuracy:.4f}; Prop 8 path: ‖Ŵ_reg⊥‖ from "
      f"{float(path.noninvariant_norm[0]):.3g} (λ = {fine[0]:g}) to {float(path.noninvariant_norm[-1]):.3g} (λ = {fine[-1]:g})")

# %% mystnb={"figure": {"caption": "Sweep of the regularization strength λ (Duan & Montúfar's Fig. 3 setup, MSE, full-batch Adam): final ‖W⊥‖_F (left, log scale) and final accuracy on the augmented training set (right) of the regularized network against λ; mean over the initialisation seeds with min–max band, and the same for data augmentation (DA) of the same seeds, which does not depend on λ. Black: the closed-form global optimum of the regularized problem Ŵ_reg(λ) (Prop 8). Dashed grey: accuracy of the closed-form hard-wired optimum (Theorem 6), the λ → ∞ limit.", "name": "fig-duan-03-sweep"}}
lambdas, norm = seed_matrix(table, "lambda", "final_norm")
_, acc = seed_matrix(table, "lambda", "final_acc")
_, da_norm = seed_matrix(table, "lambda", "da_norm")  # DA does not depend on λ: every run retrains it
_, da_acc = seed_matrix(table, "lambda", "da_acc")
norm_label, acc_label = "final ‖W⊥‖$_F$", "final accuracy"
fig = plotting.sweep_panels(
    lambdas,
    {norm_label: {"regularized": norm, "DA": da_norm}, acc_label: {"regularized": acc, "DA": da_acc}},
    xlabel="λ",
    logy=[norm_label],
    labels={"regularized": "regularized (mean, min–max over seeds)", "DA": "DA (does not depend on λ)"},
    hlines={acc_label: [(closed_form_accuracy, "hard-wired optimum (Thm 6)")]},
    overlays={norm_label: {"closed form Ŵ_reg(λ) (Prop 8)": (fine, path.noninvariant_norm.numpy())},
              acc_label: {"closed form Ŵ_reg(λ) (Prop 8)": (fine, path_accuracy)}},
)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ### Control: the largest λ trained longer
#
# At large λ the penalty dominates the objective and makes it stiff, so the sweep's epochs of Adam may not reach the
# closed-form optimum. The regularized network at the sweep's largest λ is trained again, from the same seeds and
# digits, for `control_factor` times the sweep's epochs (one batched program, not stored), and compared with the
# closed form in $\|W_\perp\|_F$ and accuracy at both lengths.

# %%
lam_max = float(lambdas[-1])
seeds = list(range(run["seed"], run["seed"] + run["n_seeds"]))
long_epochs = control_factor * run["epochs"]
t0 = time.perf_counter()
longer = train_linear_methods(problem, methods=("regularized",), lambdas=[lam_max], hidden=rank, epochs=long_epochs,
                              lr=run["lr"], batch_size=run["batch_size"] or None, seeds=seeds, metrics=("noninvariant_norm",))
control_seconds = time.perf_counter() - t0
key = lambda_key(lam_max)
long_curve = longer.noninvariant_norm[key]  # (T, S)
closed_max_norm = float(regularization_path(forms, problem.x, problem.y, [paper_lambda(lam_max, n_outputs)], rank).noninvariant_norm[0])
closed_max_acc = augmented_accuracy(forms.w_reg(paper_lambda(lam_max, n_outputs), rank), problem.x_aug, problem.labels_aug)
control_rows = {
    f"{run['epochs']} epochs (sweep)": (float(long_curve[run["epochs"]].mean()), float(np.nanmean(acc[-1]))),
    f"{long_epochs} epochs (control)": (float(long_curve[-1].mean()), float(longer.final_accuracy[key].mean())),
    "closed form Ŵ_reg(λ) (Prop 8)": (closed_max_norm, closed_max_acc),
    "hard-wired optimum (Thm 6)": (0.0, closed_form_accuracy),
}
display(pd.DataFrame(control_rows, index=["mean ‖W⊥‖_F", "mean accuracy"]).T.round(5))
print(f"λ = {lam_max:g}, seeds {seeds}, {control_seconds:.1f} s")

# %% mystnb={"figure": {"caption": "Control for the sweep: ‖W⊥‖_F of the regularized network at the sweep's largest λ trained for several times the sweep's epochs (mean and min–max over the same seeds); dotted: the sweep's epochs; dashed: the closed-form optimum Ŵ_reg(λ) of Prop 8.", "name": "fig-duan-03-sweep-control"}}
fig = plotting.seed_curves(longer.epochs, {key: long_curve}, xlabel="Epochs", ylabel="Frobenius Norm",
                           labels={key: f"λ = {lam_max:g}"}, hlines=[(closed_max_norm, "closed form (Prop 8)")])
fig.axes[0].axvline(run["epochs"], color="0.35", linestyle=":", linewidth=1.0)
fig.axes[0].set_yscale("log")
plotting.save_figure(fig, figure_stem(NOTEBOOK + "_control"))

# %% [markdown]
# ## Check
#
# Asserted, on the mean over seeds at each λ: (1) the final $\|W_\perp\|_F$ decreases with λ — its Spearman rank
# correlation with λ is below −0.9; (2) it is smaller at the largest λ than at the smallest by more than
# `decrease_factor`;
# (3) every run of the sweep finished. Recorded, not asserted (findings): whether any λ reaches exact invariance
# (below `exact_zero`; Prop 13 says none does), whether the trained networks are within a factor `path_factor` of the
# closed-form optimum Ŵ_reg(λ) in ‖W⊥‖ at every λ, and whether the accuracy at the largest λ is within
# `accuracy_tolerance` of the hard-wired optimum; the last two are decided by the control above. Where the mean falls
# below `near_invariant` is recorded.

# %%
mean_norm, mean_acc = np.nanmean(norm, axis=1), np.nanmean(acc, axis=1)
ranks = lambda v: np.argsort(np.argsort(v))
spearman = float(np.corrcoef(ranks(lambdas), ranks(mean_norm))[0, 1])
below = lambdas[mean_norm < near_invariant]
checks = {
    "final ‖W⊥‖ decreases with λ (Spearman < −0.9)": spearman < -0.9,
    f"‖W⊥‖ at the largest λ < at the smallest / {decrease_factor:g}": mean_norm[-1] < mean_norm[0] / decrease_factor,
    "every run of the sweep finished": len(table) == n_points and not np.isnan(norm).any(),
}
closed_norm = np.interp(np.log(lambdas), np.log(fine), path.noninvariant_norm.numpy())  # Prop 8 at the swept λ
closed_acc = np.interp(np.log(lambdas), np.log(fine), path_accuracy)
factor = mean_norm / closed_norm
worst = int(np.argmax(np.abs(np.log(factor))))
long_norm, long_acc = control_rows[f"{long_epochs} epochs (control)"]
sweep_norm_max, sweep_acc_max = control_rows[f"{run['epochs']} epochs (sweep)"]
factor_verdict = (
    f"Largest deviation at λ = {lambdas[worst]:g}: trained/closed-form ‖W⊥‖ = {factor[worst]:.3g}. Control at λ = "
    f"{lam_max:g}: with {long_epochs} instead of {run['epochs']} epochs the ratio goes from "
    f"{sweep_norm_max / closed_max_norm:.3g} to {long_norm / closed_max_norm:.3g}"
    + (" — longer training moves it toward the closed form, so the gap is at least partly one of training time." if
       abs(np.log(long_norm / closed_max_norm)) < abs(np.log(sweep_norm_max / closed_max_norm)) else
       " — longer training does not bring it closer.")
)
acc_verdict = (
    f"At λ = {lam_max:g} the trained accuracy is {sweep_acc_max:.4f} after {run['epochs']} epochs and {long_acc:.4f} after "
    f"{long_epochs}, against {closed_max_acc:.4f} for the closed-form Ŵ_reg(λ) and {closed_form_accuracy:.4f} for the "
    "hard-wired optimum: "
    + ("longer training closes the gap, so it is a matter of training time." if abs(long_acc - closed_form_accuracy) < accuracy_tolerance else
       "longer training narrows the gap" if abs(long_acc - closed_form_accuracy) < abs(sweep_acc_max - closed_form_accuracy)
       else "longer training does not narrow the gap")
    + ("" if abs(long_acc - closed_form_accuracy) < accuracy_tolerance else
       f" (to {abs(long_acc - closed_form_accuracy):.3f}); gradient descent at this λ has not reached the global optimum.")
)
exact = bool(mean_norm.min() > exact_zero)
findings = {
    f"no λ reaches exact invariance (mean ‖W⊥‖ > {exact_zero:g})": finding(
        exact, "" if exact else f"The smallest mean ‖W⊥‖ is {mean_norm.min():.2g}, at λ = {lambdas[np.argmin(mean_norm)]:g}."),
    f"trained ‖W⊥‖ within a factor {path_factor:g} of the closed form Ŵ_reg(λ) at every λ": finding(
        bool(np.all(np.abs(np.log(factor)) < np.log(path_factor))), factor_verdict),
    f"accuracy at the largest λ within {accuracy_tolerance:g} of the hard-wired optimum": finding(
        bool(abs(mean_acc[-1] - closed_form_accuracy) < accuracy_tolerance), acc_verdict),
}
save_results(
    NOTEBOOK,
    claim=("The regularized network's final ‖W⊥‖ decreases with λ over the swept grid (Spearman < −0.9) and is more "
           "than 10× smaller at the largest λ than at the smallest."),
    checks=checks,
    findings=findings,
    data=problem.data_label,
    metrics={
        "spearman_norm_vs_lambda": spearman,
        "first_lambda_near_invariant": float(below.min()) if len(below) else None,
        "closed_form_accuracy": closed_form_accuracy,
        "closed_form_reg_noninvariant_norm": dict(zip(map(str, lambdas), closed_norm)),
        "closed_form_reg_accuracy": dict(zip(map(str, lambdas), closed_acc)),
        "final_noninvariant_norm_mean": dict(zip(map(str, lambdas), mean_norm)),
        "final_accuracy_mean": dict(zip(map(str, lambdas), mean_acc)),
        "da_final_noninvariant_norm_mean": float(np.nanmean(da_norm)),
        "da_final_accuracy_mean": float(np.nanmean(da_acc)),
        "runs": len(table),
        "seeds_per_run": int(norm.shape[1]),
        "sweep_notebook_seconds": float(table["runtime_s"].sum()),
        "control": {"lambda": lam_max, "epochs": long_epochs, "seeds": seeds, "rows": control_rows,
                    "train_seconds": control_seconds},
        "notebook_seconds": time.perf_counter() - started,
    },
    series={"lambda": lambdas, "final_noninvariant_norm": norm, "final_accuracy": acc, "closed_form_lambda": fine,
            "closed_form_reg_noninvariant_norm": path.noninvariant_norm, "closed_form_reg_accuracy": path_accuracy},
)
display(check_table(checks))
display(findings_table(findings))
assert_checks(checks)

# %% tags=["reading"]
near = lambdas[np.abs(np.log(factor)) < np.log(1.01)]
best = int(np.nanargmax(mean_acc))
display(Markdown("\n".join([
    f"* Over {len(lambdas)} values of λ from {lambdas[0]:g} to {lambdas[-1]:g} ({int(norm.shape[1])} seeds each) the final "
    f"‖W⊥‖ falls from {mean_norm[0]:.3g} to {mean_norm[-1]:.3g} (Spearman {spearman:.3f}) and never reaches zero "
    f"(smallest {mean_norm.min():.2g}), as Prop 13 says.",
    f"* The trained networks sit within 1% of the closed-form path Ŵ_reg(λ) of Prop 8 in ‖W⊥‖ at "
    f"{len(near)} of {len(lambdas)} values of λ" + (f" (up to λ = {near.max():g})" if len(near) else "")
    + f"; the largest deviation is a factor {factor[worst]:.3g} at λ = {lambdas[worst]:g}. " + factor_verdict,
    f"* The best mean accuracy of the trained networks, {mean_acc[best]:.4f}, is reached at λ = {lambdas[best]:g}; DA "
    f"reaches {float(np.nanmean(da_acc)):.4f} and the hard-wired optimum {closed_form_accuracy:.4f}. At the largest λ: "
    + acc_verdict,
    "* So \"where does the regularized model become invariant?\" has no threshold answer: ‖W⊥‖ decays steadily with "
    "λ, and the accuracy of the trained model peaks at an intermediate λ.",
])))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Every point is the Fig. 3 notebook at its defaults with one λ and several seeds (`lambdas = [λ]`, `n_seeds` from
#   the sweep file): same digits, full-batch Adam; the assumptions of that page apply. The five seeds train as one batched program, which matches five separate
#   runs to float round-off (tested in `tests/test_training.py`) at a fraction of the cost.
# * The λ grid (three values per decade) and the seeds are ours; the paper shows three values of λ and one run.
# * "Final" is the last epoch; a point's accuracy is measured on the augmented training set, as in Fig. 2.
# * The closed forms (Prop 8, Thm 6) use a ridge ε = `ridge` × the mean eigenvalue of $XX^\top$ (spec §5), because
#   $XX^\top$ is singular on MNIST; λ of the training objective is converted to the paper's normalisation as 9λ.
# * The closed form is the *global* optimum; gradient descent from a random start need not reach it in the sweep's
#   epochs. The control's length (`control_factor` times the sweep's epochs) is ours.
# :::
