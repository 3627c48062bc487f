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
#     paper: Flinth & Ohlsson (2023), v1/v2
#     figure: A2 (figure number not known)
#     data: synthetic
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
# * a head $\mathrm{LayerNorm}_{64}\to\mathbb R^{32}\to\mathrm{LeakyReLU}\to\mathbb R\to$ sigmoid (LayerNorm without affine parameters), trained in every mode but never projected
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
runs = 3  # independent runs, seeds seed … seed+runs−1 [paper: 30] [allowed: ≥ 1]
steps = 50  # full-batch gradient steps [paper: 50] [allowed: ≥ 1]
aug_passes = 10  # augmentation passes L averaged per step [paper: 25] [allowed: ≥ 1]
n_graphs = 1000  # graphs in the fixed data set [paper: 1000] [allowed: ≥ 1]
lr = 0.0001  # learning rate of plain gradient descent [paper: 0.0001] [allowed: > 0]
seed = 0  # base seed of initialisation and augmentation; run r uses seed + r [allowed: ≥ 0]
data_seed = 0  # seed of the graph data set, drawn once [allowed: ≥ 0]
p_intra = 0.5  # edge probability inside a block [paper: 0.5] [allowed: ≥ 0, ≤ 1]
q_inter = 0.05  # edge probability between the blocks [paper: 0.05] [allowed: ≥ 0, ≤ 1]
control_seeds = 30  # initialisations whose starting gradient the control measures (the paper's number of runs) [allowed: ≥ 1]
control_passes = 25  # single augmentation passes at the first start point, for the 1/√L control [allowed: ≥ 1]
float_floor = 1e-05  # largest equivariant distance from E still counted as float round-off [allowed: > 0]
linear_tolerance = 0.1  # largest relative residual of a line through the origin counted as roughly linear [allowed: > 0]
device = "cpu"  # torch device of the training: cpu, or cuda on a GPU machine [allowed: cpu | cuda]

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from invlearn.core import plotting
from invlearn.flinth import plots as flinth_plots
from invlearn.flinth.a2 import (MODES, augmentation_noise, connectivity_labels, graph_connectivity_data,
                               laplacian_threshold_labels, start_gradients, train_graph_runs)
from invlearn.flinth.metrics import line_through_origin, power_law_exponent
from invlearn.book.results import assert_checks, check_table, figure_stem, finding, findings_table, save_results

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
result = train_graph_runs(data, seeds, steps=steps, aug_passes=aug_passes, lr=lr, device=device)
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
# accelerates. The table gives, per run, the nominal ratio $\|A_{\mathcal E^\perp}\|/\|A-A^0\|$ at a few steps (the
# local slope of the curve through the origin).

# %%
slope, residual = line_through_origin(median_dist["nominal"], median_perp["nominal"])
exponent = {m: power_law_exponent(median_dist[m], median_perp[m]) for m in ("augmented", "nominal")}
run_exponent = {m: [power_law_exponent(dist[m][r], perp[m][r]) for r in range(runs)] for m in ("augmented", "nominal")}
ratio = float(median_perp["nominal"][-1] / median_perp["augmented"][-1])
marks = sorted({max(1, steps // 10), max(1, steps // 2), steps})
local_slope = {t: float(median_perp["nominal"][t] / median_dist["nominal"][t]) for t in marks}
run_local_slope = perp["nominal"][:, marks] / dist["nominal"][:, marks]  # (runs, marks)
display(pd.DataFrame(run_local_slope, index=[f"seed {s}" for s in result.seeds],
                     columns=[f"step {t}" for t in marks]).assign(**{"log–log exponent": run_exponent["nominal"]})
        .style.format("{:.3g}"))
print(f"median nominal curve: slope {slope:.3f}, relative residual {residual:.3f}; log–log exponents of the medians:",
      {m: round(v, 2) for m, v in exponent.items()}, f"| median nominal / augmented ‖A_E⊥‖ at the last step: {ratio:.1f}")

# %% [markdown]
# ### Control: the starting gradient over `control_seeds` initialisations, and the augmentation noise against $L$
#
# The values of the protocol's reference runs (distance travelled, nominal distance from 𝓔 and slope) are values of
# single trajectories, which the initialisation sets. This control measures, without training, what sets them: the
# nominal gradient at the start point $A^0\in\mathcal E$ of `control_seeds` initialisations (the paper's number of
# runs; one forward–backward pass each), its norm $\|\nabla R(A^0)\|$ and its part off 𝓔,
# $\|\Pi_{\mathcal E^\perp}\nabla R(A^0)\|$, whose ratio is the slope at the start of the nominal curve. A power law
# $y=b\,x^a$ through our runs' final values against their starting gradient maps the `control_seeds` starting
# gradients to the values those runs would reach (a prediction with as many points as runs, shown as such).
#
# The second panel tests the reading of the augmented distance as finite-augmentation noise: at $A^0\in\mathcal E$ the
# exact augmented gradient has no 𝓔⊥ part, so the 𝓔⊥ part of the mean gradient of $L$ augmentation passes,
# $\|\Pi_{\mathcal E^\perp}\hat g_L\|$, is pure noise, and falls as $1/\sqrt L$ for independent passes
# (`control_passes` single passes at the start point of the first run, averaged cumulatively).

# %%
control_started = time.perf_counter()
start_grad = start_gradients(data, list(range(seed, seed + control_seeds)), device=device)
noise = augmentation_noise(data, seed, control_passes, device=device)
passes_axis = np.arange(1, control_passes + 1)
noise_exponent = float(np.polyfit(np.log(passes_axis), np.log(noise), 1)[0])
control_seconds = time.perf_counter() - control_started
own = {int(s): i for i, s in enumerate(start_grad.seeds)}
run_start = np.array([start_grad.norm[own[int(s)]] for s in result.seeds])  # ‖∇R(A⁰)‖ of our runs
run_start_perp = np.array([start_grad.perp[own[int(s)]] for s in result.seeds])
start_slope = start_grad.perp / start_grad.norm


def power_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """(a, b) of y = b x^a through the points (None with fewer than two distinct x)."""
    if np.unique(x).size < 2:
        return None
    a, log_b = np.polyfit(np.log(x), np.log(y), 1)
    return float(a), float(np.exp(log_b))




def spread_verdict(what: str, by: str, start_values: np.ndarray, fit: tuple[float, float], predicted: np.ndarray,
                   lo: float, hi: float, ours: float) -> str:
    """A finding's verdict from the control: the spread over seeds of a value the starting gradient sets."""
    inside = int(((predicted >= lo) & (predicted <= hi)).sum())
    text = (f"Set by the initialisation: {what} after {steps} steps follows {by} (∝ power {fit[0]:.2f} through our "
            f"runs), which spans {start_values.min():.3g}–{start_values.max():.3g} over {control_seeds} initialisations; "
            f"the fit predicts {predicted.min():.2g}–{predicted.max():.2g} (median {np.median(predicted):.2g}) with "
            f"{inside} of {control_seeds} inside {lo:g}–{hi:g}. ")
    if predicted.max() - predicted.min() > hi - lo and lo <= np.median(predicted) <= hi:
        text += (f"The spread over seeds is wider than the reference range and the predicted median over "
                 f"{control_seeds} runs falls inside it: our {runs}-run median ({ours:.2g}) misses it by the seeds drawn.")
    elif predicted.max() - predicted.min() > hi - lo:
        text += (f"The spread over seeds (a factor {predicted.max() / predicted.min():.0f}) is wider than the reference "
                 f"range, and the predicted median over {control_seeds} runs is outside it too: a range this narrow "
                 f"reflects the reference runs' own initialisations, not a property of the protocol.")
    else:
        text += "The spread over seeds is narrower than the range: the difference is systematic, not the seeds."
    return text


fit_dist = power_fit(run_start, dist["nominal"][:, -1])
fit_perp = power_fit(run_start_perp, perp["nominal"][:, -1])
predicted_dist = fit_dist[1] * start_grad.norm ** fit_dist[0] if fit_dist else None
predicted_perp = fit_perp[1] * start_grad.perp ** fit_perp[0] if fit_perp else None
display(pd.DataFrame({
    "‖∇R(A⁰)‖": run_start, "‖Π_E⊥∇R(A⁰)‖ / ‖∇R(A⁰)‖": run_start_perp / run_start,
    "rank of ‖∇R(A⁰)‖ among the control seeds": [int((start_grad.norm < g).sum()) + 1 for g in run_start],
    **{f"final ‖A − A⁰‖, {m}": dist[m][:, -1] for m in MODES},
    "final nominal ‖A_E⊥‖": perp["nominal"][:, -1],
}, index=[f"seed {s}" for s in result.seeds]).style.format("{:.3g}"))
print(f"{control_seeds} initialisations: ‖∇R(A⁰)‖ from {start_grad.norm.min():.3g} to {start_grad.norm.max():.3g} "
      f"(median {np.median(start_grad.norm):.3g}); starting slope ‖Π_E⊥∇R‖/‖∇R‖ from {start_slope.min():.3g} to "
      f"{start_slope.max():.3g} (median {np.median(start_slope):.3g}). Noise exponent in L: {noise_exponent:.2f} "
      f"(independent passes: −0.5). Control {control_seconds:.1f} s.")

fig_c, (ax_g, ax_n) = plt.subplots(1, 2, figsize=(10, 4))
ax_g.scatter(start_grad.norm, predicted_dist if predicted_dist is not None else np.full(control_seeds, np.nan),
             s=14, color="0.6", label=f"{control_seeds} initialisations (power-law prediction)")
for m in MODES:
    ax_g.scatter(run_start, dist[m][:, -1], s=30, marker={"equivariant": "^", "augmented": "s", "nominal": "o"}[m],
                 color=styles[m][0], label=f"our runs, {m}")
ax_g.axhspan(1.6e-2, 1.9e-2, color="tab:orange", alpha=0.2, label="reference range 1.6–1.9e-2")
ax_g.set(xscale="log", yscale="log", xlabel="‖∇R(A⁰)‖ at the start", ylabel=f"‖A − A⁰‖ after {steps} steps",
         title="Distance travelled against the starting gradient")
ax_g.legend(fontsize=7)
ax_n.loglog(passes_axis, noise, "o-", color="tab:blue", ms=3, label="‖Π_E⊥ ĝ_L‖ at A⁰")
ax_n.loglog(passes_axis, noise[0] / np.sqrt(passes_axis), ":", color="0.3", label="first pass / √L")
ax_n.set(xlabel="augmentation passes L", ylabel="E⊥ part of the averaged gradient",
         title="Finite-augmentation noise at the start")
ax_n.legend(fontsize=8)
fig_c.tight_layout()
plotting.save_figure(fig_c, figure_stem(NOTEBOOK + "_control"))

# %% [markdown]
# ## Check
#
# Asserted, at the last step, with medians over runs:
# 1. the equivariant networks stay in 𝓔 to float precision: $\|A_{\mathcal E^\perp}\|\le$ `float_floor` in every run
#    and step;
# 2. the nominal distance from 𝓔 is at least 10× the augmented one for $L\ge10$, or 5× for $5\le L<10$. These are
#    the thresholds of the protocol's reference runs; for $L<5$ the ratio is only reported.
#
# Evaluated but not asserted (findings, each with a verdict from the control above when it does not reproduce):
# * the nominal curve is roughly linear in the distance travelled: the relative residual of a line through the origin
#   is at most `linear_tolerance`;
# * the augmented curve grows sublinearly (log–log exponent below 1);
# * at the protocol's steps, lr and data, the values of the reference runs (their table, below): distance travelled,
#   nominal distance from 𝓔 and slope, and the augmented distance at $L$ passes, the reference at $L=25$ scaled by
#   the $1/\sqrt L$ law the reference states (within $\pm20\,\%$).

# %%
REFERENCE = {  # values of the protocol's reference runs (50 steps, lr 1e-4, 1,000 graphs)
    "distance": (1.6e-2, 1.9e-2), "nominal_perp": (7e-3, 9e-3), "nominal_slope": (0.35, 0.5), "augmented_L25": (2e-4, 2.5e-4),
}
display(pd.DataFrame({"reference runs": ["‖A − A⁰‖, every mode", "nominal ‖A_E⊥‖", "nominal slope",
                                          "augmented ‖A_E⊥‖ at L = 25"],
                      "low": [v[0] for v in REFERENCE.values()], "high": [v[1] for v in REFERENCE.values()]}))
ratio_threshold = 10.0 if aug_passes >= 10 else 5.0 if aug_passes >= 5 else None
checks = {f"equivariant ‖A_E⊥‖ ≤ {float_floor:g} in every run and step": float(perp["equivariant"].max()) <= float_floor}
if ratio_threshold is not None:
    checks[f"median nominal / augmented ‖A_E⊥‖ ≥ {ratio_threshold:g} at L = {aug_passes}"] = ratio >= ratio_threshold

rising = bool(np.all(np.diff(run_local_slope, axis=1) > 0))
bend = (f"the nominal ratio ‖A_E⊥‖/‖A − A⁰‖ rises from step {marks[0]} to step {marks[-1]} in "
        f"{int(np.all(np.diff(run_local_slope, axis=1) > 0, axis=1).sum())} of {runs} runs "
        f"({run_local_slope[:, 0].min():.2g}–{run_local_slope[:, 0].max():.2g} → "
        f"{run_local_slope[:, -1].min():.2g}–{run_local_slope[:, -1].max():.2g}; log–log exponents "
        f"{min(run_exponent['nominal']):.2f}–{max(run_exponent['nominal']):.2f})")
linear_ok = residual <= linear_tolerance
findings = {
    f"nominal curve roughly linear (relative residual ≤ {linear_tolerance:g})": finding(linear_ok, "" if linear_ok else (
        f"The curve bends upwards, it is not noise: {bend}, so the nominal network leaves E at an accelerating rate "
        f"and a line through the origin misses the median curve by {residual:.1%}.")),
    "augmented grows sublinearly (log–log exponent < 1)": finding(exponent["augmented"] < 1.0, "" if exponent["augmented"] < 1.0 else (
        f"The median augmented exponent is {exponent['augmented']:.2f}; at the start the augmented 𝓔⊥ gradient is noise "
        f"falling as L^{noise_exponent:.2f} (control), so the growth beyond a random walk comes from later steps.")),
}
at_protocol = steps == 50 and lr == 1e-4 and n_graphs == 1000
if at_protocol:
    for key, what, by, values, start_values, fit, predicted in (
        ("distance", "‖A − A⁰‖", "‖∇R(A⁰)‖", [median_dist[m][-1] for m in MODES], start_grad.norm, fit_dist,
         predicted_dist),
        ("nominal_perp", "nominal ‖A_E⊥‖", "‖Π_E⊥∇R(A⁰)‖", [median_perp["nominal"][-1]], start_grad.perp, fit_perp,
         predicted_perp),
    ):
        lo, hi = REFERENCE[key]
        ok = all(lo <= v <= hi for v in values)
        why = ("One run: no control fit (needs at least two runs)." if predicted is None else
               spread_verdict(what, by, start_values, fit, predicted, lo, hi, values[-1]))
        name = f"{what} in {lo:g}–{hi:g}" + (" for every mode" if len(values) > 1 else "") + " (reference runs)"
        findings[name] = finding(ok, "" if ok else why)
    lo, hi = REFERENCE["nominal_slope"]
    ok = lo <= slope <= hi
    findings[f"nominal slope in {lo:g}–{hi:g} (reference runs)"] = finding(ok, "" if ok else (
        f"The slope is not one number: at the start ‖Π_E⊥∇R‖/‖∇R‖ spans {start_slope.min():.2f}–{start_slope.max():.2f} "
        f"over {control_seeds} initialisations (median {np.median(start_slope):.2f}), and along the path {bend}; the "
        f"line fitted to our median curve, {slope:.3f}, averages a rising slope whose value at step {steps} is "
        f"{local_slope[marks[-1]]:.3f}."))
    lo, hi = (v * np.sqrt(25 / aug_passes) for v in REFERENCE["augmented_L25"])
    value = median_perp["augmented"][-1]
    ok = 0.8 * lo <= value <= 1.2 * hi
    findings[f"augmented ‖A_E⊥‖ at L = {aug_passes} within ±20 % of {lo:.2g}–{hi:.2g} (reference at L = 25 × √(25/L))"] = finding(
        ok, "" if ok else (
            f"The augmented distance is {value:.3g}, {value / np.sqrt(lo * hi):.2f}× the middle of the scaled reference. "
            + (f"The √(25/L) scaling itself holds at the start (control: noise ∝ L^{noise_exponent:.2f}), so the "
               f"difference is in the noise these {runs} runs accumulated, which scales with the initialisation like "
               f"the nominal values." if abs(noise_exponent + 0.5) <= 0.1 else
               f"The control's noise falls as L^{noise_exponent:.2f}, not as 1/√L, so the scaled reference does not apply "
               f"at L = {aug_passes}.")))
save_results(
    NOTEBOOK,
    claim=f"Started in E, equivariant training stays within {float_floor:g} of E in every run and step, and the median "
          f"nominal distance from E ends at least {ratio_threshold:g}× the augmented one (at L = {aug_passes})."
    if ratio_threshold is not None else
    f"Started in E, equivariant training stays within {float_floor:g} of E in every run and step.",
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
        "nominal_local_slope_per_run": {f"step {t}": run_local_slope[:, j] for j, t in enumerate(marks)},
        "control_start_gradient_norm": {"min": start_grad.norm.min(), "median": np.median(start_grad.norm),
                                        "max": start_grad.norm.max()},
        "control_start_slope": {"min": start_slope.min(), "median": np.median(start_slope), "max": start_slope.max()},
        "control_fit_distance": fit_dist,
        "control_fit_nominal_perp": fit_perp,
        "control_predicted_distance_median": None if predicted_dist is None else float(np.median(predicted_dist)),
        "control_predicted_nominal_perp_median": None if predicted_perp is None else float(np.median(predicted_perp)),
        "control_noise_exponent": noise_exponent,
        "control_seconds": control_seconds,
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
        "control_seeds": start_grad.seeds,
        "control_start_gradient_norm": start_grad.norm,
        "control_start_gradient_perp": start_grad.perp,
        "control_passes": passes_axis,
        "control_augmentation_noise": noise,
    },
)
display(check_table(checks))
display(findings_table(findings))
assert_checks(checks)

# %% [markdown]
# ## What this run shows
#
# Read from this run's numbers (medians over runs at the last step):

# %% tags=["reading"]
lines = [
    f"* **Equivariant** networks stay in 𝓔: largest ‖A_E⊥‖ over runs and steps {perp['equivariant'].max():.3g} "
    "(their layers stay constant on every orbit, so the float64 distance is round-off at most).",
    f"* **Augmented** networks leave 𝓔 only slightly: ‖A_E⊥‖ = {median_perp['augmented'][-1]:.2g} at L = {aug_passes}, "
    f"log–log exponent {exponent['augmented']:.2f} (a random walk gives 0.5). At the start the augmented 𝓔⊥ gradient "
    f"falls as L^{noise_exponent:.2f} with the number of passes (control), the 1/√L of independent noise.",
    f"* **Nominal** networks leave 𝓔 {ratio:.0f}× further: ‖A_E⊥‖ = {median_perp['nominal'][-1]:.2g}, "
    f"{'a curve that bends upwards' if exponent['nominal'] > 1 else 'a curve that does not bend upwards'} "
    f"(log–log exponent {exponent['nominal']:.2f}; fitted slope {slope:.3f}, residual {residual:.1%}).",
    "* **Distance travelled** ‖A − A⁰‖: " + ", ".join(f"{m} {median_dist[m][-1]:.2g}" for m in MODES)
    + f"; per run (nominal) {', '.join(f'{v:.2g}' for v in dist['nominal'][:, -1])}, following the starting "
      f"gradients {', '.join(f'{v:.3g}' for v in run_start)} (control).",
]
display(Markdown("\n".join(lines)))

# %% [markdown]
# The contrast between the modes is what the checks assert. The values of single trajectories (distance travelled,
# the nominal value and slope) are set by the initialisation; the control gives their spread over the paper's number
# of initialisations, and the findings table says which of the reference values this run reaches.
#
# ## Cost and the paper protocol
#
# The training cell prints the measured time per forward–backward pass, and the time the paper's protocol would take
# at that speed ($30$ runs, $L=25$, $50$ steps, $27$ passes per step). The result file records the estimate as
# `metrics.paper_protocol_estimate_seconds`. Run the protocol with
# `invlearn run flinth_a2_graph_connectivity --profile paper` (every parameter at its paper value; the record is then
# labelled `paper`). It takes $40\,500$ passes: about half an hour on an otherwise idle 2-core machine, several times that
# with the cores shared by other jobs, and every check passed when it was run.
#
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open, and where this page differs from the authors' code
# :class: note
# * **Sizes.** Scaled by default: 3 runs, $L=10$. The paper used $30$ runs, $L=25$. Steps ($50$), lr, data and
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
#   then its augmentation draws, from one generator. The graphs use `data_seed`.
# * **Initialisation**, read as variances: layer 1 entries $\sim N(0,(1/(10\sqrt{32}))^2)$, then projected onto 𝓔;
#   layer 2 $\sim N(0,1/64)$ per (output, input channel), constant over the $100$ positions (so in 𝓔); head
#   $N(0,(10/64)^2)$ and $N(0,(10/32)^2)$.
# * **Full batch:** one step is the gradient of the mean BCE over all 1,000 graphs. The code accumulated $5$ batches of
#   $200$, which gives the same gradient. Sigmoid + BCE is computed as BCE with logits (the same function, stable).
# * **Augmented passes** are averaged by one forward–backward over the $L\cdot1000$ relabelled graphs, with the mean
#   over all of them. That is the mean of the $L$ per-pass gradients, up to float round-off.
# * **Precision:** float32 training, float64 distances and projections (also of the equivariant gradient).
# * **Device.** CPU here; `device="cuda"` runs the same code on a GPU. The initialisation and the permutations stay on
#   the CPU generator, so a GPU run sees the same draws and differs from the CPU run by float round-off only.
# * **Medians** are taken per step, separately over the runs' x and y values. Thin lines have α 0.1. Colours are
#   matplotlib's tab:green, tab:blue and tab:red; the legend says "Nominal" for the code's "Normal".
# * **Control** (not in the paper): the nominal gradient at the start point of the seeds `seed` … `seed` +
#   `control_seeds` − 1 (the first ones are our runs' own starts), and `control_passes` single augmentation passes at
#   the start of the first run. Mapping the starting gradients to 50-step values by a power law through our runs is a
#   prediction from as many points as runs; it says how wide the spread over seeds is, not where each seed lands.
#   The reference value of the augmented distance at $L$ passes is the reference at $L=25$ times $\sqrt{25/L}$, the
#   $1/\sqrt L$ law the reference runs state, which the control measures at the start.
# * **Check operationalisations:** "float floor" means ≤ 1e-5. "Roughly linear" means a residual ≤ 10 % for a line
#   through the origin; we fixed that criterion before running. The ratio thresholds (10, or 5 at $L=5$) come from the
#   protocol's reference runs. For $5<L<10$ we use 5.
# :::
