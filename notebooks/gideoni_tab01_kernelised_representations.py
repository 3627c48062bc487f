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
#     paper: Gideoni (2023)
#     figure: Table 1
#     title: Kernelised representations of S3 elements on EWK and CK features of an untrained MLP
# ---

# %% [markdown]
# # Table 1 — a permutation of the inputs acts on the network's kernel features almost linearly
#
# **Claim (Gideoni, App. F.1, App. G, Table 1).** For an untrained MLP with one hidden layer of 100 units and a
# permutation $g\in S_3$ of its three inputs, there is a matrix $\tilde g$ with $\phi(xg)\approx\phi(x)\tilde g$ for the
# kernel features $\phi$ — the per-sample gradients $\nabla_\theta f(x)$ (EWK) or the hidden features (CK) — found by
# least squares, $\tilde g=(F^\top F)^\dagger F^\top F_g$ with $F=\phi(X)$, $F_g=\phi(Xg)$. "Finding approximate kernelised
# representations of the group action reduces the error by factors of 5–20 relative to the baselines"
# $\|F-F_g\|$. So the group acts on the linearised network as it does on the inputs of a linear model, and the
# theorems apply to it.
#
# Errors are $\|F-F_g\|_F/N$ (baseline) and $\|F\tilde g-F_g\|_F/N$ (kernelised), as in the author's code. We compute
# $\tilde g$ with an SVD least-squares solver in float64, and repeat over `n_seeds` networks (median and range).

# %% tags=["parameters"]
n_seeds = 3  # untrained networks, each with its own inputs; the table shows median and range (paper: one)
hidden = 100  # hidden ReLU units (paper: 100)
ewk_samples_per_parameter = 100  # EWK rows: N is this times the 501 parameters (author's code)
ck_samples_per_feature = 100  # CK rows: N is this times the 100 features (author's code)
second_element = "cycle"  # cycle is the 3-cycle (1 2 3) of the paper; code is the author's [2, 1, 0], a transposition
solver = "lstsq64"  # lstsq64 is float64 SVD least squares; normal32 the author's float32 normal equations
seed = 0  # network s is initialised with seed plus s
data_seed = 6000  # network s draws its fit inputs with data_seed plus s and test inputs with data_seed plus 1000 plus s
baseline_tolerance = 0.3  # allowed relative gap between our median baselines and the paper's (EWK, CK read-out)
min_reduction = 4.0  # smallest accepted baseline / kernelised ratio in every cell (paper's own cells: 4.6 to 18.5)

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from invlearn.gideoni import experiments as gd
from invlearn.core import plotting
from invlearn.core.models import BatchedMLP
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results

NOTEBOOK = "gideoni_tab01_kernelised_representations"
started = time.perf_counter()
plotting.book_style()
elements = {"(1 2)": [1, 0, 2], "(1 2 3)": {"cycle": [1, 2, 0], "code": [2, 1, 0]}[second_element]}
PAPER = {  # Table 1 of the paper: (baseline, kernelised) per group element
    "EWK": {"(1 2)": (1.1e-2, 2.4e-3), "(1 2 3)": (1.3e-2, 1.0e-3)},
    "CK": {"(1 2)": (1.4e-2, 8.1e-4), "(1 2 3)": (1.5e-2, 8.1e-4)},
}
ROWS = {"EWK": "EWK", "CK read-out": "CK", "CK post-activations": "CK"}  # our row -> paper row


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
# (both elements in one least-squares call), and evaluate the errors on these inputs and on a fresh test draw.

# %%
n_params = 3 * hidden + 2 * hidden + 1
sizes = {"EWK": ewk_samples_per_parameter * n_params, "CK read-out": ck_samples_per_feature * hidden,
         "CK post-activations": ck_samples_per_feature * hidden}
errors = {row: {el: {"baseline": [], "kernelised": [], "baseline_test": [], "kernelised_test": []} for el in elements}
          for row in ROWS}
for s in range(n_seeds):
    for row in ROWS:
        x = gd.uniform_inputs(sizes[row], 3, torch.Generator().manual_seed(data_seed + s), dtype=torch.float64)
        x_test = gd.uniform_inputs(sizes[row], 3, torch.Generator().manual_seed(data_seed + 1000 + s), dtype=torch.float64)
        f, f_test = features(row, seed + s, x), features(row, seed + s, x_test)
        f_g = {el: features(row, seed + s, x[:, perm]) for el, perm in elements.items()}  # x g permutes the columns
        f_g_test = {el: features(row, seed + s, x_test[:, perm]) for el, perm in elements.items()}
        g_tilde = gd.kernelised_representation(f, torch.cat(list(f_g.values()), dim=1), solver=solver)
        width = f.shape[1]
        for i, el in enumerate(elements):
            g_el = g_tilde[:, i * width : (i + 1) * width]
            base, kern = gd.representation_errors(f, f_g[el], g_el)
            base_t, kern_t = gd.representation_errors(f_test, f_g_test[el], g_el)
            for key, value in (("baseline", base), ("kernelised", kern), ("baseline_test", base_t), ("kernelised_test", kern_t)):
                errors[row][el][key].append(value)
    print(f"network {s}: " + "; ".join(f"{row} {el}: {errors[row][el]['baseline'][-1]:.2e} -> {errors[row][el]['kernelised'][-1]:.2e}"
                                       for row in ROWS for el in elements))

# %% [markdown]
# ## Table 1 next to the paper
#
# Median over the networks, with the range in brackets, and the paper's single value; "reduction" is
# baseline / kernelised (median of the per-network ratios).

# %%
def cell(values):
    v = np.asarray(values)
    return f"{np.median(v):.2g} [{v.min():.2g}–{v.max():.2g}]" if v.size > 1 else f"{v[0]:.2g}"


table_rows, medians = [], {}
for row, paper_row in ROWS.items():
    for kind, idx in (("baseline", 0), ("kernelised", 1)):
        entry = {"features": row, "error": kind}
        for el in elements:
            vals = errors[row][el][kind]
            medians[(row, el, kind)] = float(np.median(vals))
            entry[f"{el} ours"] = cell(vals)
            entry[f"{el} paper"] = f"{PAPER[paper_row][el][idx]:.2g}"
            entry[f"{el} ours / paper"] = f"{np.median(vals) / PAPER[paper_row][el][idx]:.2f}"
        table_rows.append(entry)
    reduction = {"features": row, "error": "reduction (baseline / kernelised)"}
    for el in elements:
        ratio = np.asarray(errors[row][el]["baseline"]) / np.asarray(errors[row][el]["kernelised"])
        reduction[f"{el} ours"] = cell(ratio)
        reduction[f"{el} paper"] = f"{PAPER[paper_row][el][0] / PAPER[paper_row][el][1]:.1f}"
        reduction[f"{el} ours / paper"] = ""
    table_rows.append(reduction)
table = pd.DataFrame(table_rows).set_index(["features", "error"])
if second_element == "code":
    table = table.rename(columns=lambda c: c.replace("(1 2 3)", "[2, 1, 0]"))
display(table)

# %% mystnb={"figure": {"caption": "Table 1 as a chart: errors ‖F − F_g‖_F/N (baseline, circles) and ‖F g̃ − F_g‖_F/N (kernelised, squares) for EWK and CK features of untrained MLPs, per group element; median over networks with min–max bars (ours, filled) and the paper's values (open, black).", "name": "fig-gideoni-tab01"}}
fig, ax = plt.subplots(figsize=(10, 4.8))
colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
labels = []
for j, (row, paper_row) in enumerate(ROWS.items()):
    for i, el in enumerate(elements):
        pos = 2.5 * j + i
        labels.append((pos, f"{row}\n{el}"))
        for kind, marker, idx in (("baseline", "o", 0), ("kernelised", "s", 1)):
            v = np.asarray(errors[row][el][kind])
            ax.errorbar(pos, np.median(v), yerr=[[np.median(v) - v.min()], [v.max() - np.median(v)]], fmt=marker,
                        color=colors[idx], capsize=3, label=f"{kind} (ours)" if (j, i) == (0, 0) else None)
            ax.plot(pos + 0.25, PAPER[paper_row][el][idx], marker=marker, mfc="none", color="0.1", linestyle="none",
                    label=f"{kind} (paper)" if (j, i) == (0, 0) else None)
ax.set_xticks([p for p, _ in labels], [t for _, t in labels], fontsize="small")
ax.set_yscale("log")
ax.set_ylabel("Error ‖·‖_F / N")
ax.legend(fontsize="small", ncol=2)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# Asserted: (1) the median baselines of the EWK and the CK read-out rows are within `baseline_tolerance` of the
# paper's (the number of samples and the input domain fix them; compared only at the paper's sizes); (2) in every cell and for every network the
# kernelised error is at least `min_reduction` times below the baseline; (3) the kernelised representation found on
# the fit inputs generalises: on fresh test inputs its error is within a factor 2 of the fit error. Evaluated, not
# asserted: the paper's kernelised values (within ±30 %), and the caption's post-activation CK baseline.

# %%
ratios = {(row, el): np.asarray(errors[row][el]["baseline"]) / np.asarray(errors[row][el]["kernelised"])
          for row in ROWS for el in elements}
# The baselines scale like N^(-1/2) and depend on the network width: compare them with the paper only at its sizes,
# and the second column only for the paper's 3-cycle.
paper_sizes = hidden == 100 and ewk_samples_per_parameter == 100 and ck_samples_per_feature == 100
compared = [el for el in elements if el == "(1 2)" or second_element == "cycle"] if paper_sizes else []
baseline_gap = {f"{row} {el}": abs(medians[(row, el, "baseline")] / PAPER[ROWS[row]][el][0] - 1)
                for row in ("EWK", "CK read-out") for el in compared}
test_factor = max(float(np.max(np.asarray(errors[row][el]["kernelised_test"]) / np.asarray(errors[row][el]["kernelised"])))
                  for row in ROWS for el in elements)
checks = {} if not baseline_gap else {
    f"EWK and CK read-out baselines within {baseline_tolerance:.0%} of the paper": bool(max(baseline_gap.values()) < baseline_tolerance),
}
checks |= {
    f"kernelised error ≥ {min_reduction:g}× below baseline in every cell and network": bool(min(r.min() for r in ratios.values()) >= min_reduction),
    "kernelised error on fresh test inputs within 2× of the fit error": bool(test_factor < 2),
}
findings = {} if not compared else {
    "EWK and CK kernelised errors within ±30% of the paper": bool(all(
        abs(medians[(row, el, "kernelised")] / PAPER[ROWS[row]][el][1] - 1) < 0.3 for row in ("EWK", "CK read-out") for el in compared)),
    "CK post-activation baselines within ±30% of the paper": bool(all(
        abs(medians[("CK post-activations", el, "baseline")] / PAPER["CK"][el][0] - 1) < 0.3 for el in compared)),
}
save_results(
    NOTEBOOK,
    claim="Kernelised representations of S3 elements reduce the EWK and CK errors several-fold below the baselines (paper: 5–20×).",
    checks=checks,
    findings=findings,
    metrics={
        "median_errors": {f"{row} | {el} | {kind}": v for (row, el, kind), v in medians.items()},
        "paper": {f"{row} | {el}": v for row, d in PAPER.items() for el, v in d.items()},
        "reduction_ratios": {f"{row} | {el}": r for (row, el), r in ratios.items()},
        "baseline_relative_gap": baseline_gap,
        "test_over_fit_kernelised_max": test_factor,
        "elements": elements,
        "solver": solver,
        "samples": sizes,
        "seeds": [seed + s for s in range(n_seeds)],
        "notebook_seconds": time.perf_counter() - started,
    },
    series={f"{row} | {el} | {kind}": v for row in ROWS for el in elements for kind, v in errors[row][el].items()},
)
display(check_table({**checks, **{f"(not asserted) {k}": v for k, v in findings.items()}}))
assert_checks(checks)

# %% [markdown]
# ## Where this differs from the paper
#
# * **Kernelised errors.** Ours are about $5\times10^{-4}$ for the EWK and the CK read-out, 1.5–5× below the paper's
#   $8.1\times10^{-4}$–$2.4\times10^{-3}$, so our reductions (about 20–30×) are larger than the paper's 4.6–18.5×. The author's code solves the normal equations
#   in float32; $F^\top F$ is badly conditioned (see {doc}`Fig. 5 <gideoni_fig05_ewk_spectrum>`: eigenvalues from
#   $10^6$ down to ~0, exact zeros for dead units), so that solver scatters between about $6\times10^{-4}$ and
#   $6\times10^{-3}$ and sometimes fails. The paper's values lie inside that scatter. `-p solver=normal32` runs it.
# * **CK features.** The caption says "the last post-activations" (the 100 ReLU outputs); the code uses the 100-d
#   output of a network $3\to100\to100$, a linear read-out of them. Only the read-out reproduces the printed CK
#   baselines; the post-activations give a baseline about 1.5–2× larger (shown as its own row).
# * **The second column.** The paper's "(1 2 3)" is a 3-cycle; the author's code applies `[2, 1, 0]`, which is the
#   transposition (1 3). We follow the paper (`-p second_element=code` for the code's).
# * **Error metric.** The caption calls the errors expectations of L2 norms; the code computes $\|\cdot\|_F/N$, which
#   scales like $N^{-1/2}$. Only the code's metric reproduces the printed magnitudes (a per-sample mean L2 norm of
#   the baseline is of order 1).
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * Untrained MLPs with biases and PyTorch's default initialisation; inputs $U[-1,1)^3$ without orbit completion;
#   $g$ acts by permuting the input columns, $x\mapsto xg$.
# * Sample sizes from the author's code: $N=100\cdot501=50{,}100$ for the EWK (501 parameters), $N=100\cdot100$ for
#   the CK rows. Features are computed in float64 (weights initialised in float32 and cast).
# * $\tilde g$ is fitted once per network for both elements; errors are reported on the fit inputs (as the paper) and
#   on a fresh test draw (`*_test` in the result file).
# * Median and range over `n_seeds` networks; the paper shows one network per cell.
# :::
