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
#     paper: Flinth & Ohlsson (2023), v1/v2
#     figure: A2 (figure number not known)
#     title: S₁₀ graph connectivity — distance from the equivariant subspace under equivariant, augmented and nominal training
# ---

# %% [markdown]
# # A2 — S₁₀ graph connectivity: nominal training leaves 𝓔, augmented training only by finite-augmentation noise, equivariant training not at all
#
# **Claim (Flinth & Ohlsson, arXiv 2303.13458 v1/v2, main experiment; Result 2 of the
# {doc}`chapter </book/flinth_nordenfors>`).** For a multilayer perceptron 𝓛 = 𝓗, so compatibility is automatic, and
# augmented training started in the equivariant subspace 𝓔 stays there and coincides with equivariant training. Nominal
# training on finite data leaves 𝓔, because $\Pi_{\mathcal E^\perp}\nabla R\neq0$. With finitely many augmentation
# passes the augmented gradient is only an estimate of $\nabla R^{\rm aug}$, so augmented training leaves 𝓔 by that
# estimate's noise, far less than nominal training.
#
# **Source status.** Only the abstract of the paper was available. The figure number, caption and reported values are
# not known; the protocol comes from the authors' released code, with its bugs fixed (see Assumptions). The figure
# mirrors the v1/v2 figure (probably an appendix in later versions).
#
# **Setup.** Is a 10-node graph connected? $S_{10}$ relabels the nodes, $A\mapsto PAP^T$, and the label is invariant.
# 1,000 two-block stochastic block model graphs (blocks of 5, edge probability 0.5 within and 0.05 between blocks,
# nodes then relabelled at random) are drawn once and labelled by graph search. The network takes $\mathrm{vec}(A)-0.5$:
# * layer 1, a dense $(32,100,100)$ tensor $\mathbb R^{10\times10}\to\mathbb R^{32\times10\times10}$; its 𝓔 per
#   channel is spanned by the 15 orbits of index 4-tuples $(i,j;k,l)$ (the equality patterns of Maron et al. 2019);
# * layer 2, a $(64,32,100)$ tensor to $\mathbb R^{64}$ (invariant); its 𝓔 per $10\times10$ map is spanned by the
#   diagonal and off-diagonal indicators;
# * a head LayerNorm(64, no affine) → 64→32 → LeakyReLU → 32→1 → sigmoid, trained in every mode but never projected
#   or measured. There are no biases, and LeakyReLU(0.01) follows layers 1 and 2.
#
# All three modes start from identical copies of an initialisation in 𝓔. Each then takes `steps` full-batch gradient
# steps (lr $10^{-4}$) on the mean binary cross-entropy:
# * **equivariant**: the gradients of layers 1–2 are projected onto 𝓔;
# * **augmented**: the gradient is averaged over $L$ = `aug_passes` passes, each relabelling every graph by its own
#   uniform random permutation;
# * **nominal**: raw graphs.
#
# After every step we log the distance travelled $\|A-A^0\|=(\sum_k\|A_k-A_k^0\|^2)^{1/2}$ and the distance from 𝓔,
# $\|A_{\mathcal E^\perp}\|=(\sum_k\|A_k-\Pi_{\mathcal E}A_k\|^2)^{1/2}$, over layers 1–2 in float64.
#
# **Sizes.** The defaults are a scaled profile: 3 runs with $L=10$. The paper's protocol is `runs=30`,
# `aug_passes=25` (50 steps each); its cost is measured or extrapolated at the end of this page.

# %% tags=["parameters"]
runs = 3  # independent runs, seeds seed … seed+runs−1 (paper: 30)
steps = 50  # full-batch gradient steps (paper: 50)
aug_passes = 10  # augmentation passes L averaged per step (paper: 25)
n_graphs = 1000  # graphs in the fixed data set (paper: 1000)
lr = 0.0001  # learning rate of plain gradient descent (paper code: 1e-4)
seed = 0  # base seed of initialisation and augmentation; run r uses seed + r
data_seed = 0  # seed of the graph data set, drawn once
p_intra = 0.5  # edge probability inside a block (paper: 0.5)
q_inter = 0.05  # edge probability between the blocks (paper: 0.05)
float_floor = 1e-05  # largest equivariant distance from E still counted as float round-off
linear_tolerance = 0.1  # largest relative residual of a line through the origin counted as roughly linear

# %%
import time

import numpy as np
import pandas as pd

from invlearn.core import plotting
from invlearn.flinth import plots as flinth_plots
from invlearn.flinth.a2 import MODES, connectivity_labels, graph_connectivity_data, laplacian_threshold_labels, train_graph_runs
from invlearn.flinth.metrics import line_through_origin, power_law_exponent
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results

NOTEBOOK = "flinth_a2_graph_connectivity"
started = time.perf_counter()
plotting.book_style()
seeds = list(range(seed, seed + runs))

# %% [markdown]
# Draw the graphs once and label them by graph search. For comparison we also apply the authors' rule, which
# thresholds the second Laplacian eigenvalue at 1e-15; that threshold sits at round-off level.

# %%
data = graph_connectivity_data(n_graphs, p=p_intra, q=q_inter, seed=data_seed)
adjacency = data.adjacency.numpy().astype(np.uint8)
laplacian_rule = laplacian_threshold_labels(adjacency)
truth = connectivity_labels(adjacency)
print(f"{n_graphs} graphs: {truth.mean():.1%} connected (graph search); the authors' Laplacian rule labels "
      f"{laplacian_rule.mean():.1%} connected and disagrees on {(laplacian_rule != truth).mean():.1%} of the graphs "
      f"(all of them disconnected graphs marked connected: {bool((laplacian_rule | ~truth).all())})")

# %% [markdown]
# Train `runs` runs of the three modes. Each run trains its three networks in lockstep (one step loop, summed losses
# of disjoint parameters), using $L+2$ forward–backward passes over the 1,000 graphs per step.

# %%
train_started = time.perf_counter()
result = train_graph_runs(data, seeds, steps=steps, aug_passes=aug_passes, lr=lr)
train_seconds = time.perf_counter() - train_started
seconds_per_pass = train_seconds / (runs * steps * (aug_passes + 2)) * 1000 / n_graphs  # per pass over 1,000 graphs
paper_estimate = seconds_per_pass * 30 * 50 * (25 + 2)
step = np.arange(steps + 1)
dist = {m: result.distance[:, :, k] for k, m in enumerate(MODES)}  # (runs, steps + 1)
perp = {m: result.perp[:, :, k] for k, m in enumerate(MODES)}
median_dist = {m: np.median(v, axis=0) for m, v in dist.items()}
median_perp = {m: np.median(v, axis=0) for m, v in perp.items()}
print(f"training {train_seconds:.0f} s: {seconds_per_pass:.3f} s per pass over 1,000 graphs; "
      f"the paper protocol (30 runs, L 25, 50 steps) would take about {paper_estimate / 60:.0f} min at this speed")

# %% [markdown]
# Final values, medians over runs. The authors' code plotted $(\sum_k\|A_{k,\mathcal E^\perp}\|^4)^{1/2}$ (squared
# per-layer distances, then the root of the sum of their squares) instead of the norm. The last column shows that
# quantity, to compare scales with the published figure.

# %%
final = pd.DataFrame({
    "‖A − A⁰‖": [median_dist[m][-1] for m in MODES],
    "‖A_E⊥‖": [median_perp[m][-1] for m in MODES],
    "‖A_E⊥‖ / ‖A − A⁰‖": [median_perp[m][-1] / median_dist[m][-1] for m in MODES],
    "final loss": [np.median(result.loss[:, -1, k]) for k in range(len(MODES))],
    "final accuracy": [np.median(result.accuracy[:, k]) for k in range(len(MODES))],
    "code's quantity (Σ‖A_k,E⊥‖⁴)^½": [np.median(result.perp_code[:, -1, k]) for k in range(len(MODES))],
}, index=list(MODES))
display(final.style.format("{:.3g}"))

# %% mystnb={"figure": {"caption": "Permutations (S₁₀ graph connectivity). Distance from the equivariant subspace, ‖A_E⊥‖, against the distance travelled, ‖A − A⁰‖, over layers 1–2, for equivariant (green, solid), augmented (blue, dashed) and nominal (red, dotted) training from identical starting points in E. Thin lines: single runs; thick lines: per-step medians over runs. Both panels hold the same curves; the right panel zooms to 1.5 × the largest augmented median.", "name": "fig-flinth-a2"}}
styles = {"equivariant": ("tab:green", "-"), "augmented": ("tab:blue", "--"), "nominal": ("tab:red", ":")}
labels = {"equivariant": "Equivariant", "augmented": f"Augmented (L = {aug_passes})", "nominal": "Nominal"}
order = ["nominal", "augmented", "equivariant"]
fig = flinth_plots.run_path_panels(
    {m: (dist[m], perp[m]) for m in order}, styles=styles, labels=labels, suptitle="Permutations",
    ylims=[1.5 * median_perp["nominal"].max(), 1.5 * median_perp["augmented"].max()],
    xlabel="‖A − A⁰‖", ylabel="‖A_E⊥‖", titles=["all modes", "zoom on augmented"],
)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# **Shape of the curves.** A straight line through the origin fitted to the median nominal curve gives the slope
# $\|A_{\mathcal E^\perp}\|/\|A-A^0\|$ and a relative residual. A log–log fit gives the growth exponent of each curve,
# median and per run: 1 for growth linear in the distance travelled, ½ for a random walk, above 1 for growth that
# accelerates.

# %%
slope, residual = line_through_origin(median_dist["nominal"], median_perp["nominal"])
exponent = {m: power_law_exponent(median_dist[m], median_perp[m]) for m in ("augmented", "nominal")}
run_exponent = {m: [power_law_exponent(dist[m][r], perp[m][r]) for r in range(runs)] for m in ("augmented", "nominal")}
ratio = float(median_perp["nominal"][-1] / median_perp["augmented"][-1])
marks = sorted({max(1, steps // 10), max(1, steps // 2), steps})
local_slope = {t: float(median_perp["nominal"][t] / median_dist["nominal"][t]) for t in marks}
print(f"nominal: slope {slope:.3f}, relative residual {residual:.3f}; "
      f"‖A_E⊥‖ / ‖A − A⁰‖ of the median after steps {marks}: {[round(v, 3) for v in local_slope.values()]}")
print("log–log exponents, median:", {m: round(v, 2) for m, v in exponent.items()},
      "| per run:", {m: [round(v, 2) for v in vals] for m, vals in run_exponent.items()})
print(f"median nominal / augmented ‖A_E⊥‖ at the last step: {ratio:.1f}")

# %% [markdown]
# ## Check
#
# Asserted, at the last step, with medians over runs:
# 1. the equivariant networks stay in 𝓔 to float precision: $\|A_{\mathcal E^\perp}\|\le$ `float_floor` in every run
#    and step;
# 2. the nominal distance from 𝓔 is at least 10× the augmented one for $L\ge10$, or 5× for $5\le L<10$. These are
#    the thresholds of the protocol's reference runs; for $L<5$ the ratio is only reported.
#
# Evaluated but not asserted (findings): the shape and values that the protocol's reference runs report. The first
# does not reproduce here, and the others vary from run to run (see below).
# * the nominal curve is roughly linear in the distance travelled: the relative residual of a line through the origin
#   is at most `linear_tolerance`;
# * the augmented curve grows sublinearly (log–log exponent below 1);
# * the reference runs' values for the protocol (50 steps, where they apply): $\|A-A^0\|\approx$ 1.6–1.9e-2 in all
#   modes; nominal $\|A_{\mathcal E^\perp}\|\approx$ 7–9e-3 with slope 0.35–0.5; augmented ≈ 2–2.5e-4 at $L=25$ and
#   ≈ 5e-4 at $L=5$ (taken as ±20 %).

# %%
ratio_threshold = 10.0 if aug_passes >= 10 else 5.0 if aug_passes >= 5 else None
checks = {f"equivariant ‖A_E⊥‖ ≤ {float_floor:g} in every run and step": float(perp["equivariant"].max()) <= float_floor}
if ratio_threshold is not None:
    checks[f"median nominal / augmented ‖A_E⊥‖ ≥ {ratio_threshold:g} at L = {aug_passes}"] = ratio >= ratio_threshold
findings = {
    f"nominal curve roughly linear (relative residual ≤ {linear_tolerance:g})": residual <= linear_tolerance,
    "augmented grows sublinearly (log–log exponent < 1)": exponent["augmented"] < 1.0,
}
if steps == 50 and lr == 1e-4 and n_graphs == 1000:
    findings["‖A − A⁰‖ in 1.6–1.9e-2 for every mode (reference runs)"] = all(
        1.6e-2 <= median_dist[m][-1] <= 1.9e-2 for m in MODES)
    findings["nominal ‖A_E⊥‖ in 7–9e-3 (reference runs)"] = 7e-3 <= median_perp["nominal"][-1] <= 9e-3
    findings["nominal slope in 0.35–0.5 (reference runs)"] = 0.35 <= slope <= 0.5
    reference = {25: (2e-4, 2.5e-4), 5: (5e-4, 5e-4)}.get(aug_passes)
    if reference is not None:
        findings[f"augmented ‖A_E⊥‖ ≈ {reference[0]:g}–{reference[1]:g} at L = {aug_passes} (reference runs, ±20 %)"] = (
            0.8 * reference[0] <= median_perp["augmented"][-1] <= 1.2 * reference[1])
save_results(
    NOTEBOOK,
    claim="Started in E, equivariant training stays in E, augmented training leaves it only by finite-augmentation "
          "noise, and nominal training leaves it far more than augmented training.",
    checks=checks,
    findings=findings,
    metrics={
        "final_distance_median": {m: median_dist[m][-1] for m in MODES},
        "final_perp_median": {m: median_perp[m][-1] for m in MODES},
        "final_perp_code_median": {m: float(np.median(result.perp_code[:, -1, k])) for k, m in enumerate(MODES)},
        "max_equivariant_perp": float(perp["equivariant"].max()),
        "nominal_over_augmented": ratio,
        "ratio_threshold": ratio_threshold,
        "nominal_slope": slope,
        "nominal_linear_residual": residual,
        "loglog_exponent": exponent,
        "loglog_exponent_per_run": run_exponent,
        "nominal_local_slope": local_slope,
        "final_loss_median": {m: float(np.median(result.loss[:, -1, k])) for k, m in enumerate(MODES)},
        "final_accuracy_median": {m: float(np.median(result.accuracy[:, k])) for k, m in enumerate(MODES)},
        "connected_fraction": float(truth.mean()),
        "laplacian_rule_connected_fraction": float(laplacian_rule.mean()),
        "laplacian_rule_disagreement": float((laplacian_rule != truth).mean()),
        "seeds": result.seeds,
        "run_seconds": result.seconds,
        "train_seconds": train_seconds,
        "seconds_per_pass_1000_graphs": seconds_per_pass,
        "paper_protocol_estimate_seconds": paper_estimate,
        "notebook_seconds": time.perf_counter() - started,
    },
    series={
        "step": step,
        "distance": dist,
        "perp": perp,
        "perp_code": {m: result.perp_code[:, :, k] for k, m in enumerate(MODES)},
        "median_distance": median_dist,
        "median_perp": median_perp,
        "loss": {m: result.loss[:, :, k] for k, m in enumerate(MODES)},
    },
)
display(check_table({**checks, **{f"(not asserted) {k}": v for k, v in findings.items()}}))
assert_checks(checks)

# %% [markdown]
# ## What reproduces, and what does not
#
# At the default profile (seeds 0–2, $L=10$, 50 steps) the contrast between the modes reproduces:
# * The equivariant networks stay in 𝓔 exactly. Their layers stay constant on every orbit, so the float64 distance is
#   0, not just round-off.
# * The augmented networks leave 𝓔 only slightly: median $\|A_{\mathcal E^\perp}\|\approx4\times10^{-4}$.
# * The nominal networks leave 𝓔 about 20× further: $\approx9\times10^{-3}$, inside the reference range 7–9e-3.
# * All three modes travel almost the same distance.
#
# The augmented distance is finite-augmentation noise. Its curves grow like a random walk (log–log exponents
# 0.5–0.9), and with the same seeds at $L=25$ (3 runs, outside this page) the final augmented distance fell by a
# factor 1.40–1.62 per run, against $\sqrt{25/10}\approx1.58$ for a $1/\sqrt L$ law. The median there was
# $3.0\times10^{-4}$, against the reference 2–2.5e-4.
#
# Two statements of the reference runs do not reproduce:
# * **The nominal curve is not linear.** Its slope $\|A_{\mathcal E^\perp}\|/\|A-A^0\|$ grows along the way, in
#   every run: from 0.08–0.19 after 5 steps to 0.24–0.38 after 50 (log–log exponents 1.28–1.65). The nominal network
#   leaves 𝓔 at an accelerating rate. A line through the origin misses the median curve by about 11 % (criterion:
#   10 %). The slope fitted over the whole curve, 0.347, is just below the reference's 0.35–0.5; the median
#   curve's final slope, 0.38, is inside it.
# * **The distance travelled depends strongly on the run:** after 50 steps $\|A-A^0\|$ is 1.7e-2, 3.9e-2 and
#   2.2e-2, against the reference's 1.6–1.9e-2. It follows the size of the initial gradient: the initial layer-1
#   gradient norms are 10.6, 46 and 13.6. The head's initialisation (sd 10/64 and 10/32) gives large initial logits,
#   and seed 1 starts at loss 1.93 instead of 0.74–0.81.
#
# **At the paper protocol** (30 runs, $L=25$; run once, 1837 s) the medians over 30 runs settle these points:
# augmented $2.5\times10^{-4}$ (reference 2–2.5e-4), nominal $8.2\times10^{-3}$ (7–9e-3), ratio 32, distance travelled
# $2.0\times10^{-2}$ for every mode (reference 1.6–1.9e-2), augmented log–log exponent 0.58. The median nominal curve
# still bends upwards (exponent 1.26), but a line through the origin now fits it within the 10 % criterion
# (residual 0.096, slope 0.347): with three runs the shape of the median is dominated by single runs.
#
# The page's own table gives the values of the run shown.
#
# ## Cost and the paper protocol
#
# The training cell prints the measured time per forward–backward pass, and the time the paper's protocol would take
# at that speed (30 runs, $L=25$, 50 steps, 27 passes per step). The result file records the estimate as
# `metrics.paper_protocol_estimate_seconds`. Run the protocol with
# `invlearn run flinth_a2_graph_connectivity -p runs=30 -p aug_passes=25`. It takes 40,500 passes; on our otherwise
# idle 2-core machine it ran in 1837 s (0.045 s per pass; the default profile took 77 s there) and every check passed,
# with median nominal / augmented $\|A_{\mathcal E^\perp}\|$ = 32 and the nominal line within tolerance (residual
# 0.096). With the cores shared by other jobs, passes took 0.17–0.24 s (README).
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open, and where this page differs from the authors' code
# :class: note
# * **Sizes.** Scaled by default: 3 runs, $L=10$. The paper used 30 runs, $L=25$. Steps (50), lr, data and
#   architecture are the paper's.
# * **Labels: true connectivity** by breadth-first search. The code thresholds the second Laplacian eigenvalue at
#   1e-15, at round-off level, and so labels some disconnected graphs connected (bug 1). The data cell gives the size
#   of that effect on these graphs.
# * **y-axis: the true norm** $\|A_{\mathcal E^\perp}\|$. The code stored squared per-layer distances, then took the
#   root of the sum of their squares, $(\sum_k\|A_{k,\mathcal E^\perp}\|^4)^{1/2}$ (bug 2). The published y-values are
#   probably on that scale, which the table above also gives.
# * **Nominal x-coordinate** is the nominal model's own distance travelled. The code used the augmented model's
#   (bug 3), and its log parser read layer 2 one row off.
# * **Equivariant step:** the gradients of both layers are projected. The code projected layer 2's *weights*, so that
#   layer left 𝓔 slightly after each step (bug 4).
# * **$A^0$ is a copy** (float64) of the starting layers. In the code a NumPy view of the live tensor made
#   $\|A-A^0\|$ read 0 (bug 5).
# * **lr $10^{-4}$.** The earliest code used 1e-5, later code 1e-4; the code's default axis range
#   ($\|A-A^0\|\le2\times10^{-2}$ at 50 steps) matches 1e-4 (bug 6).
# * **Seeds** (bug 9: the code sets none, and runs on CUDA). Run $r$ uses seed `seed` + r for its initialisation and
#   then its augmentation draws, from one generator. The graphs use `data_seed`. Runs on the CPU.
# * **Initialisation**, read as variances: layer 1 entries $\sim N(0,(1/(10\sqrt{32}))^2)$, then projected onto 𝓔;
#   layer 2 $\sim N(0,1/64)$ per (output, input channel), constant over the 100 positions (so in 𝓔); head
#   $N(0,(10/64)^2)$ and $N(0,(10/32)^2)$.
# * **Full batch:** one step is the gradient of the mean BCE over all 1,000 graphs. The code accumulated 5 batches of
#   200, which gives the same gradient. Sigmoid + BCE is computed as BCE with logits (the same function, stable).
# * **Augmented passes** are averaged by one forward–backward over the $L\cdot1000$ relabelled graphs, with the mean
#   over all of them. That is the mean of the $L$ per-pass gradients, up to float round-off.
# * **Precision:** float32 training, float64 distances and projections (also of the equivariant gradient).
# * **Medians** are taken per step, separately over the runs' x and y values. Thin lines have α 0.1. Colours are
#   matplotlib's tab:green, tab:blue and tab:red; the legend says "Nominal" for the code's "Normal".
# * **Check operationalisations:** "float floor" means ≤ 1e-5. "Roughly linear" means a residual ≤ 10 % for a line
#   through the origin; we fixed that criterion before running. The ratio thresholds (10, or 5 at $L=5$) come from the
#   protocol's reference runs. For $5<L<10$ we use 5.
# :::
