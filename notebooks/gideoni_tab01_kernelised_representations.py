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
#     figure: Table 1
#     title: Kernelised representations of S3 elements on EWK and CK features of an untrained MLP
#     data: synthetic
# ---

# %% [markdown]
# # Table 1 — a permutation of the inputs acts on the network's kernel features almost linearly
#
# **Claim (Gideoni, App. F.1, App. G, Table 1).** For an untrained MLP with one hidden layer of 100 units and a
# permutation $g\in S_3$ of its three inputs, there is a matrix $\tilde g$ with $\phi(xg)\approx\phi(x)\tilde g$ for the
# kernel features $\phi$ — the per-sample gradients $\nabla_\theta f(x)$ (EWK) or the hidden features (CK) — found by
# least squares, $\tilde g=(F^\top F)^\dagger F^\top F_g$ with $F=\phi(X)$, $F_g=\phi(Xg)$, and it "reduces the error by
# factors of" (the caption's range is quoted with the paper's table below) "relative to the baselines" $\|F-F_g\|$. So the group acts on the linearised network as it does on the inputs of a linear model, and the
# theorems apply to it.
#
# Errors are $\|F-F_g\|_F/N$ (baseline) and $\|F\tilde g-F_g\|_F/N$ (kernelised), as in the author's code. Every
# network is solved twice on the same features: with an SVD least-squares solver in float64 (`lstsq64`, the paper's
# formula computed stably) and with the author's solver (`normal32`: the normal equations $F^\top F\,\tilde g=F^\top F_g$
# formed in float32 and passed to `torch.linalg.lstsq`, whose CPU driver `gelsy` drops the directions of $F^\top F$
# below its rank threshold instead of failing when $F^\top F$ is singular). The parameter `solver` says which one the
# checks use; the table shows both beside the paper's values, as median and range over `n_seeds` networks.

# %% tags=["parameters"]
n_seeds = 3  # untrained networks, each with its own inputs; the table shows median and range [paper: 1] [allowed: ≥ 1]
hidden = 100  # hidden ReLU units [paper: 100] [allowed: ≥ 1]
ewk_samples_per_parameter = 100  # EWK rows: N is this times the 501 parameters (author's code) [paper: 100] [allowed: ≥ 1]
ck_samples_per_feature = 100  # CK rows: N is this times the 100 features (author's code) [paper: 100] [allowed: ≥ 1]
second_element = "cycle"  # cycle is the 3-cycle (1 2 3) of the paper; code is the author's [2, 1, 0], a transposition [paper: cycle] [allowed: cycle | code]
solver = "lstsq64"  # solver of the checks; lstsq64 is float64 SVD least squares, normal32 the author's float32 normal equations [paper: normal32] [allowed: lstsq64 | normal32]
seed = 0  # network s is initialised with seed plus s [allowed: ≥ 0]
data_seed = 6000  # network s draws its fit inputs with data_seed plus s and test inputs with data_seed plus 1000 plus s [allowed: ≥ 0]
baseline_tolerance = 0.3  # allowed relative gap between our median baselines and the paper's (EWK, CK read-out) [allowed: > 0]
min_reduction = 5.0  # the paper's stated lower bound of the reduction; asserted at sizes other than the paper's [allowed: > 0]
paper_tolerance = 0.3  # allowed relative gap between a median kernelised error and the paper's [allowed: > 0]

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from invlearn.gideoni import experiments as gd
from invlearn.core import plotting
from invlearn.core.models import BatchedMLP
from invlearn.book.results import assert_checks, check_table, figure_stem, finding, findings_table, save_results

NOTEBOOK = "gideoni_tab01_kernelised_representations"
started = time.perf_counter()
plotting.book_style()
elements = {"(1 2)": [1, 0, 2], "(1 2 3)": {"cycle": [1, 2, 0], "code": [2, 1, 0]}[second_element]}
PAPER = {  # Table 1 of the paper: (baseline, kernelised) per group element
    "EWK": {"(1 2)": (1.1e-2, 2.4e-3), "(1 2 3)": (1.3e-2, 1.0e-3)},
    "CK": {"(1 2)": (1.4e-2, 8.1e-4), "(1 2 3)": (1.5e-2, 8.1e-4)},
}
ROWS = {"EWK": "EWK", "CK read-out": "CK", "CK post-activations": "CK"}  # our row -> paper row
SOLVERS = {"lstsq64": "float64 SVD least squares", "normal32": "author's float32 normal equations"}


def features(row: str, model_seed: int, x: torch.Tensor) -> torch.Tensor:
    """Kernel features of the untrained network of ``model_seed`` on inputs ``x`` (n, 3) -> (n, P), float64."""
    torch.manual_seed(model_seed)
    if row == "CK read-out":  # the author's code: the 100-d output of MLP 3 -> 100 (ReLU) -> 100
        model = BatchedMLP((3, hidden, hidden), [model_seed], activation="relu", bias=True).double()
        return model(x)[0].detach()
    model = BatchedMLP((3, hidden, 1), [model_seed], activation="relu", bias=True).double()
    if row == "EWK":
        return gd.per_sample_gradients(model, x)
    return model(x, layers=1)[0].detach()  # the caption: post-activations of the hidden layer


# %% [markdown]
# For every network and row: draw $N$ inputs, compute $F$ and $F_g$ for both group elements, solve for $\tilde g$
# with both solvers (both elements in one call: the columns are solved independently), and evaluate the errors on
# these inputs and on a fresh test draw.

# %%
n_params = 3 * hidden + 2 * hidden + 1
sizes = {"EWK": ewk_samples_per_parameter * n_params, "CK read-out": ck_samples_per_feature * hidden,
         "CK post-activations": ck_samples_per_feature * hidden}
KINDS = ("baseline", "kernelised", "baseline_test", "kernelised_test")
errors = {sv: {row: {el: {k: [] for k in KINDS} for el in elements} for row in ROWS} for sv in SOLVERS}
for s in range(n_seeds):
    for row in ROWS:
        x = gd.uniform_inputs(sizes[row], 3, torch.Generator().manual_seed(data_seed + s), dtype=torch.float64)
        x_test = gd.uniform_inputs(sizes[row], 3, torch.Generator().manual_seed(data_seed + 1000 + s), dtype=torch.float64)
        f, f_test = features(row, seed + s, x), features(row, seed + s, x_test)
        f_g = {el: features(row, seed + s, x[:, perm]) for el, perm in elements.items()}  # x g permutes the columns
        f_g_test = {el: features(row, seed + s, x_test[:, perm]) for el, perm in elements.items()}
        width = f.shape[1]
        for sv in SOLVERS:
            g_tilde = gd.kernelised_representation(f, torch.cat(list(f_g.values()), dim=1), solver=sv)
            for i, el in enumerate(elements):
                g_el = g_tilde[:, i * width : (i + 1) * width]
                base, kern = gd.representation_errors(f, f_g[el], g_el)
                base_t, kern_t = gd.representation_errors(f_test, f_g_test[el], g_el)
                for key, value in zip(KINDS, (base, kern, base_t, kern_t)):
                    errors[sv][row][el][key].append(value)
    print(f"network {seed + s}: " + "; ".join(
        f"{row} {el}: {errors['lstsq64'][row][el]['baseline'][-1]:.2e} -> {errors['lstsq64'][row][el]['kernelised'][-1]:.2e}"
        f" (author's solver {errors['normal32'][row][el]['kernelised'][-1]:.2e})" for row in ROWS for el in elements))

# %% [markdown]
# ## Table 1 next to the paper, under both solvers
#
# Median over the networks, with the range in brackets, beside the paper's single value. The baselines do not
# depend on the solver; "reduction" is baseline / kernelised (median of the per-network ratios).

# %%
def cell(values):
    v = np.asarray(values)
    return f"{np.median(v):.2g} [{v.min():.2g}–{v.max():.2g}]" if v.size > 1 else f"{v[0]:.2g}"


ratios = {sv: {(row, el): np.asarray(errors[sv][row][el]["baseline"]) / np.asarray(errors[sv][row][el]["kernelised"])
               for row in ROWS for el in elements} for sv in SOLVERS}
medians = {(sv, row, el, kind): float(np.median(errors[sv][row][el][kind]))
           for sv in SOLVERS for row in ROWS for el in elements for kind in KINDS}
shown = {el: (el if second_element == "cycle" or el == "(1 2)" else "[2, 1, 0]") for el in elements}
table = pd.DataFrame([
    {
        "features": row, "element": shown[el],
        "baseline, paper": f"{PAPER[paper_row][el][0]:.2g}", "baseline, ours": cell(errors["lstsq64"][row][el]["baseline"]),
        "kernelised, paper": f"{PAPER[paper_row][el][1]:.2g}",
        "kernelised, lstsq64": cell(errors["lstsq64"][row][el]["kernelised"]),
        "kernelised, normal32 (author's)": cell(errors["normal32"][row][el]["kernelised"]),
        "reduction, paper": f"{PAPER[paper_row][el][0] / PAPER[paper_row][el][1]:.3g}",
        "reduction, lstsq64": cell(ratios["lstsq64"][row, el]),
        "reduction, normal32 (author's)": cell(ratios["normal32"][row, el]),
    }
    for row, paper_row in ROWS.items() for el in elements
]).set_index(["features", "element"])
display(table)
display(Markdown(f"The caption's claim: the kernelised representations reduce the error \"by factors of 5–20\"; its "
                 f"own cells give {min(PAPER[r][e][0] / PAPER[r][e][1] for r in PAPER for e in PAPER[r]):.2g}–"
                 f"{max(PAPER[r][e][0] / PAPER[r][e][1] for r in PAPER for e in PAPER[r]):.3g}."))

# %% mystnb={"figure": {"caption": "Table 1 as a chart: errors ‖F − F_g‖_F/N (baseline, circles) and ‖F g̃ − F_g‖_F/N (kernelised: squares with the float64 SVD solver, triangles with the author's float32 normal equations) for EWK and CK features of untrained MLPs, per group element; median over networks with min–max bars, and the paper's values (open, black).", "name": "fig-gideoni-tab01"}}
fig, ax = plt.subplots(figsize=(10, 4.8))
colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
ticks = []
styles = (("lstsq64", "baseline", "o", 0, -0.15), ("lstsq64", "kernelised", "s", 1, -0.15),
          ("normal32", "kernelised", "^", 2, 0.05))
for j, (row, paper_row) in enumerate(ROWS.items()):
    for i, el in enumerate(elements):
        pos = 2.5 * j + i
        ticks.append((pos, f"{row}\n{shown[el]}"))
        for sv, kind, marker, c, dx in styles:
            v = np.asarray(errors[sv][row][el][kind])
            ax.errorbar(pos + dx, np.median(v), yerr=[[np.median(v) - v.min()], [v.max() - np.median(v)]], fmt=marker,
                        color=colors[c], capsize=3,
                        label=(kind if kind == "baseline" else f"kernelised, {sv}") if (j, i) == (0, 0) else None)
        for kind, marker, idx in (("baseline", "o", 0), ("kernelised", "s", 1)):
            ax.plot(pos + 0.3, PAPER[paper_row][el][idx], marker=marker, mfc="none", color="0.1", linestyle="none",
                    label=f"{kind} (paper)" if (j, i) == (0, 0) else None)
ax.set_xticks([p for p, _ in ticks], [t for _, t in ticks], fontsize="small")
ax.set_yscale("log")
ax.set_ylabel("Error ‖·‖_F / N")
ax.legend(fontsize="small", ncol=2)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ### Control: the author's solver against the stable one
#
# The control for the kernelised values is the author's solver on the very same features. Per network: the
# reduction baseline / kernelised and the kernelised error under each solver.

# %%
per_network = pd.DataFrame([
    {"network": seed + s, "features": row, "element": shown[el],
     **{f"reduction, {sv}": ratios[sv][row, el][s] for sv in SOLVERS},
     **{f"kernelised, {sv}": errors[sv][row][el]["kernelised"][s] for sv in SOLVERS}}
    for s in range(n_seeds) for row in ROWS for el in elements
]).set_index(["network", "features", "element"])
display(per_network.style.format("{:.3g}"))
rcond32 = float(torch.finfo(torch.float32).eps) * n_params  # gelsy's default rank threshold for the EWK's F^T F

# %% [markdown]
# ## Check
#
# Asserted, for the solver `solver`: (1) the median baselines of the EWK and the CK read-out rows are within
# `baseline_tolerance` of the paper's (the number of samples and the input domain fix them; compared only at the
# paper's sizes); (2) in every cell and for every network the reduction baseline / kernelised is at least the
# paper's own reduction in that cell. This can fail: it holds only if the group acts on these features at least as
# linearly as the paper reports, and the author's solver misses it on some networks (control above). At other
# sizes (hidden width, samples) the paper's cells do not apply and the paper's stated lower bound `min_reduction` is
# asserted instead; (3) the representation found on the fit inputs generalises: on fresh test inputs its error is
# within a factor 2 of the fit error; (4) where the author's solver reproduces the paper's kernelised CK read-out
# values (within `paper_tolerance`), that is asserted for the author's solver.
# Evaluated, not asserted: the paper's kernelised values under the page's solver, and the caption's post-activation
# CK baseline.

# %%
# The baselines scale like N^(-1/2) and depend on the network width: compare them with the paper only at its sizes,
# and the second column only for the paper's 3-cycle.
paper_sizes = hidden == 100 and ewk_samples_per_parameter == 100 and ck_samples_per_feature == 100
compared = [el for el in elements if el == "(1 2)" or second_element == "cycle"] if paper_sizes else []
baseline_gap = {f"{row} {el}": abs(medians[("lstsq64", row, el, "baseline")] / PAPER[ROWS[row]][el][0] - 1)
                for row in ("EWK", "CK read-out") for el in compared}
required = {(row, el): (PAPER[ROWS[row]][el][0] / PAPER[ROWS[row]][el][1] if el in compared else min_reduction)
            for row in ROWS for el in elements}
short = {sv: [f"{row} {el} network {seed + s}: {ratios[sv][row, el][s]:.3g} < {required[row, el]:.3g}"
              for (row, el) in required for s in range(n_seeds) if ratios[sv][row, el][s] < required[row, el]]
         for sv in SOLVERS}
test_factor = max(float(np.max(np.asarray(errors[solver][row][el]["kernelised_test"]) / np.asarray(errors[solver][row][el]["kernelised"])))
                  for row in ROWS for el in elements)


def kernelised_gap(sv, row):
    """Largest relative gap between the median kernelised error of ``sv`` and the paper's, over the compared elements."""
    return max(abs(medians[(sv, row, el, "kernelised")] / PAPER[ROWS[row]][el][1] - 1) for el in compared)


checks = {}
if baseline_gap:
    checks[f"EWK and CK read-out median baselines within {baseline_tolerance:.0%} of the paper"] = bool(
        max(baseline_gap.values()) < baseline_tolerance)
if compared:
    reduction_name = "reduction ≥ the paper's in its cell (" + ", ".join(
        f"{el} {required[row, el]:.3g}" for row, el in required if row == "EWK") + " for the EWK, " + ", ".join(
        f"{el} {required[row, el]:.3g}" for row, el in required if row == "CK read-out") + " for both CK rows)"
else:
    reduction_name = f"reduction ≥ {min_reduction:g} (the paper's stated lower bound)"
checks[f"{solver}: {reduction_name} in every cell and network"] = not short[solver]
checks[f"{solver}: kernelised error on fresh test inputs within 2× of the fit error"] = bool(test_factor < 2)
ck_author_gap = kernelised_gap("normal32", "CK read-out") if compared else float("nan")
if compared:  # the paper's literal solver reproduces the CK read-out values: asserted
    checks[f"normal32 (author's solver): CK read-out median kernelised errors within {paper_tolerance:.0%} of the paper"] = bool(
        ck_author_gap < paper_tolerance)

findings = {}
if compared:
    def k_range(sv, row):
        v = [x for el in compared for x in errors[sv][row][el]["kernelised"]]
        return min(v), max(v)

    for row in ("EWK", "CK read-out"):
        gap = kernelised_gap(solver, row)
        (a_lo, a_hi), (s_lo, s_hi) = k_range("normal32", row), k_range("lstsq64", row)
        p_lo, p_hi = min(PAPER[ROWS[row]][el][1] for el in compared), max(PAPER[ROWS[row]][el][1] for el in compared)
        missed = sum(t.startswith(row + " ") for t in short["normal32"])
        paper_text = f"{p_lo:.1e}" if p_lo == p_hi else f"{p_lo:.1e}–{p_hi:.1e}"
        verdict = (
            f"Solver: on the same features the stable solver gives {s_lo:.1e}–{s_hi:.1e} on every network, the author's "
            f"float32 normal equations {a_lo:.1e}–{a_hi:.1e} (median gap to the paper {kernelised_gap('normal32', row):.0%}), "
            + ("which brackets" if a_lo <= p_lo and p_hi <= a_hi else "which does not bracket")
            + f" the paper's {paper_text}; with that solver {missed} of {n_seeds * len(elements)} network cells "
            "fall short of the paper's reduction."
        )
        findings[f"{row} median kernelised errors within {paper_tolerance:.0%} of the paper ({solver})"] = finding(
            gap < paper_tolerance, "" if gap < paper_tolerance else verdict)
    post = [medians[("lstsq64", "CK post-activations", el, "baseline")] / PAPER["CK"][el][0] for el in compared]
    readout = max(abs(medians[("lstsq64", "CK read-out", el, "baseline")] / PAPER["CK"][el][0] - 1) for el in compared)
    post_ok = max(abs(p - 1) for p in post) < baseline_tolerance
    findings[f"CK post-activation (caption) baselines within {baseline_tolerance:.0%} of the paper"] = finding(
        post_ok, "" if post_ok else
        f"Features: the caption's post-activations give {min(post):.2g}–{max(post):.2g}× the paper's CK baselines; the "
        f"author's code's 100-d read-out on the same networks and inputs is within {readout:.0%} of them: the printed CK "
        "row was computed on the read-out.")
save_results(
    NOTEBOOK,
    claim=(f"With the {solver} solver, kernelised representations of S3 elements reduce the EWK and CK errors at least as "
           "much as the paper reports in every cell, generalise to fresh inputs, and the EWK and CK read-out baselines "
           "match the paper's." if compared else
           f"With the {solver} solver, kernelised representations of S3 elements reduce the EWK and CK errors at least "
           f"{min_reduction:g}-fold (the paper's lower bound) and generalise to fresh inputs."),
    checks=checks,
    findings=findings,
    metrics={
        "median_errors": {f"{sv} | {row} | {el} | {kind}": v for (sv, row, el, kind), v in medians.items()},
        "paper": {f"{row} | {el}": v for row, d in PAPER.items() for el, v in d.items()},
        "reduction_ratios": {f"{sv} | {row} | {el}": r for sv in SOLVERS for (row, el), r in ratios[sv].items()},
        "required_reduction": {f"{row} | {el}": v for (row, el), v in required.items()},
        "cells_short_of_required_reduction": short,
        "baseline_relative_gap": baseline_gap,
        "author_solver_ck_kernelised_gap": ck_author_gap,
        "test_over_fit_kernelised_max": test_factor,
        "gelsy_rank_threshold_ewk": rcond32,
        "elements": elements,
        "solver": solver,
        "samples": sizes,
        "seeds": [seed + s for s in range(n_seeds)],
        "notebook_seconds": time.perf_counter() - started,
    },
    series={f"{sv} | {row} | {el} | {kind}": v for sv in SOLVERS for row in ROWS for el in elements
            for kind, v in errors[sv][row][el].items()},
)
display(check_table(checks))
display(findings_table(findings))
assert_checks(checks)

# %% [markdown]
# ## Where this differs from the paper

# %% tags=["reading"]
def span(sv, row):
    v = [x for el in elements for x in errors[sv][row][el]["kernelised"]]
    return f"{min(v):.1e}–{max(v):.1e}"


def red_span(sv, rows):
    v = np.concatenate([ratios[sv][row, el] for row in rows for el in elements])
    return f"{v.min():.3g}–{v.max():.3g}"


paper_red = [PAPER[r][el][0] / PAPER[r][el][1] for r in PAPER for el in PAPER[r]]
post_ratio = [medians[("lstsq64", "CK post-activations", el, "baseline")] / medians[("lstsq64", "CK read-out", el, "baseline")]
              for el in elements]
display(Markdown("\n".join([
    f"* **Kernelised errors and the solver.** With the stable solver the kernelised errors are {span('lstsq64', 'EWK')} "
    f"(EWK) and {span('lstsq64', 'CK read-out')} (CK read-out), the reductions {red_span('lstsq64', ['EWK', 'CK read-out'])}× "
    f"(paper: {min(paper_red):.2g}–{max(paper_red):.3g}×). The author's float32 normal equations on the same features give "
    f"{span('normal32', 'EWK')} (EWK) and {span('normal32', 'CK read-out')} (CK read-out), reductions "
    f"{red_span('normal32', ['EWK', 'CK read-out'])}×. Forming $F^\\top F$ squares the condition number of $F$; the EWK's "
    "eigenvalues run over many decades down to exact zeros (dead units, ReLU homogeneity; "
    "{doc}`Fig. 5 <gideoni_fig05_ewk_spectrum>`), so in float32 `gelsy` treats every direction below "
    f"{rcond32:.1e} of the largest as zero and the fit depends on which directions survive the rounding: its EWK "
    f"reduction ranges over {red_span('normal32', ['EWK'])}× between networks, the stable solver's over "
    f"{red_span('lstsq64', ['EWK'])}×. On the CK read-out (fewer features, a better conditioned $F^\\top F$) the "
    f"author's solver gives {red_span('normal32', ['CK read-out'])}×.",
    f"* **CK features.** The caption says \"the last post-activations\" (the ReLU outputs); the code uses the output of "
    f"a network $3\\to{hidden}\\to{hidden}$, a linear read-out of them. The post-activations give baselines "
    f"{min(post_ratio):.3g}–{max(post_ratio):.3g}× those of the read-out (own row)"
    + ("; only the read-out matches the printed CK baselines (findings)." if compared else
       "; the printed baselines are compared only at the paper's sizes."),
])))

# %% [markdown]
# * **The second column.** The paper's "(1 2 3)" is a 3-cycle; the author's code applies `[2, 1, 0]`, which is the
#   transposition (1 3). We follow the paper (`-p second_element=code` for the code's).
# * **Error metric.** The caption calls the errors expectations of L2 norms; the code computes $\|\cdot\|_F/N$, which
#   scales like $N^{-1/2}$. Only the code's metric reproduces the printed magnitudes (a per-sample mean L2 norm of
#   the baseline is of order one).
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Untrained MLPs with biases and PyTorch's default initialisation; inputs $U[-1,1)^3$ without orbit completion;
#   $g$ acts by permuting the input columns, $x\mapsto xg$.
# * Sample sizes from the author's code: $N=100\cdot501=50{,}100$ for the EWK ($501$ parameters), $N=100\cdot100$ for
#   the CK rows. Features are computed in float64 (weights initialised in float32 and cast).
# * $\tilde g$ is fitted once per network for both elements; errors are reported on the fit inputs (as the paper) and
#   on a fresh test draw (`*_test` in the result file). Errors are evaluated in float64 for both solvers; the author's
#   solver receives the float64 features cast to float32 (the author computes them in float32).
# * The author's solver is `torch.linalg.lstsq` on the float32 normal equations with the CPU driver `gelsy` and its
#   default rank threshold; the author's tensors live on the CPU, so this is the driver their code ran.
# * Median and range over `n_seeds` networks; the paper shows one network per cell.
# * The sample sizes are not stated in the paper (author's code); `min_reduction` is the paper's stated lower bound,
#   the tolerances are ours.
# :::
