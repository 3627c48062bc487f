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
#     figure: Prop 13
#     title: Critical points of the hard-wired, augmented and regularized problems, enumerated and classified
#     data: MNIST (full)
# ---

# %% [markdown]
# # Proposition 13 — DA and hard-wiring share their critical points; regularization has more; only one is a minimum
#
# **Claim (Duan & Montúfar, Prop 13, with Prop B.9).** If the non-zero singular values of each target are distinct:
# * **hard-wired**: the rank-$r$ critical points are $\overline U^{inv}\overline\Sigma^{inv}_{\mathcal I}\overline V^{inv\,T}P^{-1}$,
#   one per $r$-subset $\mathcal I$ of the non-zero singular values of $\overline Z^{inv}$;
# * **DA**: $\overline U^{da}\overline\Sigma^{da}_{\mathcal I}\overline V^{da\,T}Q^{-1}$, **the same set**, so every DA critical point is invariant;
# * **regularized**: $\overline U^{reg}\overline\Sigma^{reg}_{\mathcal I}\overline V^{reg\,T}B(\lambda)^{-1}P^{-1}$: more of them, not invariant;
# * in every case only $\mathcal I=\{1,\dots,r\}$ is a local (hence global) minimum; all others are saddles.
#
# **Test on a small problem** where all points can be examined: $C_4$ on `side`×`side` images ($d_0$ pixels, $d=d_0/4$
# invariant directions), $d_L$ = `n_outputs` $>d$ outputs, rank $r$ = `rank`, Gaussian inputs and targets. Then
# $\operatorname{rank}\overline Z^{inv}=\operatorname{rank}\overline Z^{da}=\min(d,d_L)$ and $\operatorname{rank}\overline Z^{reg}=\min(d_0,d_L)$, so the formulas give
# $\binom{\min(d,d_L)}{r}$, the same number, and $\binom{\min(d_0,d_L)}{r}$ rank-$r$ critical points (counts printed below).
# For each we (1) build the two-layer network $W_2W_1$ (with $B_o$ for hard-wiring) that realises it, (2) check the
# parameter gradient vanishes, (3) classify it by the signs of the parameter-space Hessian eigenvalues, and (4)
# search for critical points **without** the formulas (Newton's method from random parameters, which converges to
# saddles as well as minima) and check each one found is on the list. Then, on MNIST, the count, the vanishing
# gradient, the ordering (only the top block has no escape direction) and DA = hard-wiring.

# %% tags=["parameters"]
side = 4  # image side of the small problem, d_0 is side squared [allowed: ≥ 2]
n_samples = 40  # samples of the small problem [allowed: ≥ 1]
n_outputs = 6  # outputs d_L of the small problem [allowed: ≥ 1]
rank = 2  # hidden width r of the small problem [allowed: ≥ 1]
lam = 0.1  # λ of the regularized problem, paper normalisation [allowed: > 0]
data_seed = 0  # seed of the Gaussian data [allowed: ≥ 0]
newton_starts = 20  # random starts of the formula-free search, per problem [allowed: ≥ 1]
mnist_samples = 1000  # digits of the MNIST problems [paper: 1000] [allowed: ≥ 1, ≤ mnist]
mnist_rank = 5  # rank of the MNIST networks [paper: 5] [allowed: ≥ 1]
swap_t = 0.01  # parameter t of the swap curves that test for escape directions [allowed: > 0]

# %%
import math
import time

import numpy as np
import torch

from invlearn.core import plotting
from invlearn.duan.problem import mnist_problem
from invlearn.core.groups import c4_rotations
from invlearn.book.results import assert_checks, check_table, figure_stem, save_results
from invlearn.duan.theory import (
    balanced_factors, closed_forms, critical_point_search, critical_points, parameter_hessian, riemannian_gradient,
    swap_descent,
)
from IPython.display import Markdown, display
from invlearn.core.data import data_label, load_mnist

NOTEBOOK = "duan_prop13_critical_points"
started = time.perf_counter()
plotting.book_style()
F64 = torch.float64

# %% [markdown]
# The small problem, its three targets and the differentiable objectives (4), (9), (7) in the paper's normalisation.
# The hard-wired network is $W_2W_1B_o$ with the orthonormal orbit basis $B_o$ (so its parameters are $W_2$, $W_1\in\mathbb R^{r\times d}$).

# %%
gen = torch.Generator().manual_seed(data_seed)
group = c4_rotations(side)
x = torch.randn(n_samples, side * side, generator=gen, dtype=F64)
y = torch.randn(n_samples, n_outputs, generator=gen, dtype=F64)
forms = closed_forms(x, y, group.rho, ridge=0.0)  # n > d_0: X X^T invertible, no ridge needed
X, Y, G = x.T, y.T, forms.constraint
b_o = group.orbit_basis("orthonormal")
b_inv = forms.b_reg_inv(lam)
problems = {
    "hard-wired": {"target": forms.z_inv, "right": forms.p_inv, "basis": b_o,
                   "loss": lambda v: ((v @ b_o @ X - Y) ** 2).sum() / n_samples},
    "DA": {"target": forms.z_da, "right": forms.q_inv, "basis": None,
           "loss": lambda w: sum(((w @ r @ X - Y) ** 2).sum() for r in group.rho) / (group.order * n_samples)},
    "regularized": {"target": forms.z_reg(lam), "right": b_inv @ forms.p_inv, "basis": None,
                    "loss": lambda w: ((w @ X - Y) ** 2).sum() / n_samples + lam * ((w @ G) ** 2).sum()},
}
for name, p in problems.items():
    s = torch.linalg.svdvals(p["target"])
    p["singular_values"] = s.numpy()
    print(f"{name:12s} singular values of the target: {np.round(s.numpy(), 4)}")

# %% [markdown]
# Enumerate the formula's critical points, and classify each through its network: gradient norm, loss, and the
# number of negative / zero / positive Hessian eigenvalues (zero: $|\mu|\le10^{-9}\max|\mu|$; $r^2$ of them are always 0,
# from the symmetry $(W_2,W_1)\mapsto(W_2M^{-1},MW_1)$).

# %%
def end_to_end(p, w_param):
    return w_param @ p["basis"] if p["basis"] is not None else w_param

def classify(p, w):
    w_param = w @ p["basis"].T if p["basis"] is not None else w  # W = V B_o  ->  V = W B_o^T
    a, b = balanced_factors(w_param, rank)
    eig, grad = parameter_hessian(p["loss"], a, b)
    zero = 1e-9 * float(eig.abs().max())
    return {"loss": float(p["loss"](w_param)), "grad": grad, "negative": int((eig < -zero).sum()),
            "zero": int((eig.abs() <= zero).sum()), "positive": int((eig > zero).sum()), "min_eig": float(eig[0])}

table = {}
for name, p in problems.items():
    points = critical_points(p["target"], rank, tol=1e-9)
    p["points"] = [(idx, w_t @ p["right"]) for idx, w_t in points]
    p["all_subsets"] = [w_t @ p["right"] for k in range(rank + 1) for _, w_t in critical_points(p["target"], k, tol=1e-9)]
    table[name] = [{"I": [i + 1 for i in idx], **classify(p, w),
                    "invariance_residual": float((w @ G).norm() / w.norm())} for idx, w in p["points"]]
    minima = [row["I"] for row in table[name] if row["negative"] == 0]
    print(f"{name:12s} {len(p['points'])} rank-r critical points (formula: C({int((p['singular_values'] > 1e-9 * p['singular_values'][0]).sum())}, {rank})); "
          f"max gradient {max(r['grad'] for r in table[name]):.1e}; minima at I = {minima}")

# %% [markdown]
# DA and hard-wiring: the same set, point by point (same $\mathcal I$), and every DA point invariant.

# %%
same_set = max(float((w_da - w_inv).norm() / w_inv.norm())
               for (_, w_da), (_, w_inv) in zip(problems["DA"]["points"], problems["hard-wired"]["points"]))
da_invariance = max(row["invariance_residual"] for row in table["DA"])
reg_invariance = min(row["invariance_residual"] for row in table["regularized"])
print(f"max ‖W_da,I − W_inv,I‖/‖W_inv,I‖ = {same_set:.1e}; max DA invariance residual {da_invariance:.1e}; "
      f"min regularized invariance residual {reg_invariance:.3f}")

# %% [markdown]
# The formula-free search. A point found counts when its gradient is below $10^{-9}$; it is matched to the nearest
# enumerated critical point of any rank $\le r$ (rank-deficient points such as $W=0$ are critical in parameter space
# too, but are not in the proposition's count).

# %%
search = {}
for name, p in problems.items():
    shape = (n_outputs, p["basis"].shape[0] if p["basis"] is not None else side * side)
    found = critical_point_search(p["loss"], shape, rank, starts=newton_starts, seed=data_seed + 1)
    converged = [end_to_end(p, w) for w, g in found if g < 1e-9]
    rank_r = [w for _, w in p["points"]]
    matched_r, unmatched, deficient = set(), 0, 0
    for w in converged:
        dist_r = [float((w - c).norm() / c.norm()) for c in rank_r]
        dist_all = [float((w - c).norm() / max(float(c.norm()), 1.0)) for c in p["all_subsets"]]
        if min(dist_r) < 1e-6:
            matched_r.add(int(np.argmin(dist_r)))
        elif min(dist_all) < 1e-6:
            deficient += 1
        else:
            unmatched += 1
    search[name] = {"starts": newton_starts, "converged": len(converged), "distinct_rank_r_found": len(matched_r),
                    "formula_count": len(rank_r), "rank_deficient": deficient, "unmatched": unmatched}
    print(name, search[name])

# %% [markdown]
# **MNIST** ($r$ = `mnist_rank`, $d_L=9<d=49$): each target has at most 9 non-zero singular values, so each problem has
# $\binom{9}{r}$ rank-$r$ critical points. In whitened coordinates, for each target $T$ we check at every point: the
# Riemannian gradient of $\|T-\widetilde W\|_F^2$ on the rank-$r$ matrices vanishes; **the ordering of Prop B.9**: along the
# rank-$r$ curves that rotate a kept singular pair $(u_j,v_j)$ toward a dropped one $(u_k,v_k)$ (parameter
# $t$ = `swap_t`), the loss falls at every point except the top block, and at the top block along none of them (each
# curve is evaluated from the matrices, not from the formula $2\sigma_j(\sigma_k-\sigma_j)\sin^2t$); the top block has the
# smallest loss of all; and the DA and hard-wired sets coincide.

# %%
mnist = mnist_problem(n_samples=mnist_samples, seed=0)
mforms = closed_forms(mnist.x, mnist.y, mnist.group.rho)
mnist_targets = {"hard-wired": mforms.z_inv, "DA": mforms.z_da, "regularized": mforms.z_reg(lam)}
top = tuple(range(mnist_rank))
mnist_count, mnist_grad, mnist_escape = {}, {}, {}
for name, t in mnist_targets.items():
    pts = critical_points(t, mnist_rank, tol=1e-9)
    mnist_count[name] = len(pts)
    mnist_grad[name] = max(float(riemannian_gradient(w, t, mnist_rank).norm() / t.norm()) for _, w in pts)
    descent = {idx: swap_descent(t, idx, swap_t) for idx, _ in pts}
    losses = {idx: float(((t - w) ** 2).sum()) for idx, w in pts}
    mnist_escape[name] = {
        "smallest_descent_off_top": min(v for idx, v in descent.items() if idx != top),
        "largest_descent_at_top": descent[top],
        "saddles_with_escape": sum(v > 0 for idx, v in descent.items() if idx != top),
        "top_has_smallest_loss": min(losses, key=losses.get) == top,
    }
pts_inv = critical_points(mforms.z_inv, mnist_rank, tol=1e-9)
pts_da = critical_points(mforms.z_da, mnist_rank, tol=1e-9)
mnist_same = max(float((a @ mforms.q_inv - b @ mforms.p_inv).norm() / (b @ mforms.p_inv).norm())
                 for (_, a), (_, b) in zip(pts_da, pts_inv))
print("MNIST counts:", mnist_count, "| max relative Riemannian gradient:", {k: f"{v:.1e}" for k, v in mnist_grad.items()},
      f"| DA vs hard-wired sets: {mnist_same:.1e}")
print("escape directions:", mnist_escape)

# %% mystnb={"figure": {"caption": "Prop 13 on a small problem (C4 on side × side images, more outputs than invariant directions, rank r): every rank-r critical point of the hard-wired, DA and regularized problems from the formula, placed by its loss (x) and the number of negative eigenvalues of the parameter-space Hessian of its two-layer network (y). Exactly one point per problem has none: the global minimum. DA has the same points as hard-wiring (shifted in loss by a constant); regularization has more (counts in the panel titles).", "name": "fig-duan-prop13"}}
panels = []
for name, rows in table.items():
    loss = np.array([r["loss"] for r in rows])
    neg = np.array([r["negative"] for r in rows])
    is_min = neg == 0
    panels.append(plotting.Panel(
        xlabel="loss at the critical point", ylabel="negative Hessian eigenvalues", title=f"{name} ({len(rows)} points)",
        points={"saddle": (loss[~is_min], neg[~is_min]), "minimum": (loss[is_min], neg[is_min])},
        point_markers={"saddle": "o", "minimum": "*"},
    ))
fig = plotting.xy_panels(panels)
saved = plotting.save_figure(fig, figure_stem(NOTEBOOK))

# %% [markdown]
# ## Check
#
# Asserted on the small problem: (1) the counts $\binom{\operatorname{rank}T}{r}$; (2) the parameter gradient vanishes at
# every listed point (< $10^{-10}$, float64 round-off); (3) in each problem exactly one point has no negative Hessian
# eigenvalue, namely $\mathcal I=\{1,\dots,r\}$, and every other has at least one (a saddle); (4) the DA and hard-wired
# points coincide ($10^{-8}$) and are invariant ($10^{-10}$), while every regularized point has $\|WG\|/\|W\|>10^{-3}$;
# (5) the formula-free search: in each problem at least half the starts converge (gradient < $10^{-9}$), **at least one
# converged point has rank $r$**, and every converged point is on the list (relative distance < $10^{-6}$ to a listed
# point of rank $\le r$). Without the rank-$r$ requirement the search could pass by finding only $W=0$. How many
# distinct rank-$r$ points it reaches is reported: Newton's method samples the list rather than exhausting it.
# On MNIST: $\binom{9}{r}$ points per problem, Riemannian gradient $<10^{-10}$ relative, every point but the top block
# has a swap curve along which the loss falls by more than $10^{-12}$ (relative; round-off of a squared norm is about
# $10^{-15}$), the top block has none (every swap curve raises its loss) and the smallest loss, and DA set = hard-wired set
# to $10^{-6}$ (the whitening there has $\operatorname{cond}Q^2$ of order $10^8$).

# %%
expected = {"hard-wired": math.comb(min(side * side // group.order, n_outputs), rank),
            "DA": math.comb(min(side * side // group.order, n_outputs), rank),
            "regularized": math.comb(min(side * side, n_outputs), rank)}
checks = {
    f"counts {expected}": all(len(table[n]) == expected[n] for n in table),
    "gradient vanishes at every listed point (< 1e-10)": max(r["grad"] for rows in table.values() for r in rows) < 1e-10,
    "exactly one minimum per problem, at I = {1..r}": all(
        [r["I"] for r in rows if r["negative"] == 0] == [list(range(1, rank + 1))] for rows in table.values()),
    "DA points = hard-wired points (< 1e-8)": same_set < 1e-8,
    "DA points invariant (< 1e-10)": da_invariance < 1e-10,
    "regularized points not invariant (> 1e-3)": reg_invariance > 1e-3,
    "Newton's method converged from at least half the starts": all(2 * s["converged"] >= s["starts"] for s in search.values()),
    "Newton's method reached at least one rank-r critical point in each problem": all(
        s["distinct_rank_r_found"] >= 1 for s in search.values()),
    "every point found by Newton's method is on the list (< 1e-6)": all(s["unmatched"] == 0 for s in search.values()),
    f"MNIST: C(9, {mnist_rank}) rank-{mnist_rank} critical points per problem": all(
        c == math.comb(9, mnist_rank) for c in mnist_count.values()),
    "MNIST: Riemannian gradient vanishes (< 1e-10)": max(mnist_grad.values()) < 1e-10,
    "MNIST: every point but the top block has a descending swap curve (> 1e-12)": all(
        e["smallest_descent_off_top"] > 1e-12 for e in mnist_escape.values()),
    "MNIST: at the top block no swap curve descends, and its loss is the smallest": all(
        e["largest_descent_at_top"] < 0 and e["top_has_smallest_loss"] for e in mnist_escape.values()),
    "MNIST: DA set = hard-wired set (< 1e-6)": mnist_same < 1e-6,
}
save_results(
    NOTEBOOK,
    claim=("DA and hard-wiring have the same critical points and regularization has more (small problem); in each only "
           "I = {1..r} is a minimum, checked by the Hessian (small problem) and by escape curves (MNIST); Newton's "
           "method finds only listed points."),
    checks=checks,
    metrics={
        "critical_points": table,
        "search": search,
        "da_vs_hardwired_max_difference": same_set,
        "da_max_invariance_residual": da_invariance,
        "regularized_min_invariance_residual": reg_invariance,
        "mnist_counts": mnist_count,
        "mnist_max_riemannian_gradient": mnist_grad,
        "mnist_escape": mnist_escape,
        "mnist_da_vs_hardwired": mnist_same,
        "notebook_seconds": time.perf_counter() - started,
        "data_source": mnist.source,
    },
    series={name: {"loss": [r["loss"] for r in rows], "negative_eigenvalues": [r["negative"] for r in rows],
                   "I": [r["I"] for r in rows]} for name, rows in table.items()},
    data=data_label(load_mnist("train")),
)
display(check_table(checks))
assert_checks(checks)

# %% tags=["reading"]
display(Markdown("\n".join([
    "**This run.** " + "; ".join(f"{n}: {len(table[n])} rank-{rank} critical points, minima at "
                                  f"{[r['I'] for r in table[n] if r['negative'] == 0]}" for n in table) + ".",
    "",
    "Newton's method from " + str(newton_starts) + " starts per problem: " + "; ".join(
        f"{n}: {s['converged']} converged, {s['distinct_rank_r_found']} distinct rank-{rank} points of "
        f"{s['formula_count']}, {s['rank_deficient']} rank-deficient, {s['unmatched']} off the list" for n, s in search.items()) + ".",
    "",
    f"MNIST: {', '.join(f'{n} {c}' for n, c in mnist_count.items())} points; the smallest loss decrease along a swap curve "
    f"off the top block is {min(e['smallest_descent_off_top'] for e in mnist_escape.values()):.2g} (relative), the largest "
    f"at the top block {max(e['largest_descent_at_top'] for e in mnist_escape.values()):.2g}; DA vs hard-wired sets "
    f"{mnist_same:.1e}.",
])))

# %% [markdown]
# ## Assumptions
#
# :::{admonition} Choices the paper leaves open
# :class: note
# * The small problem is ours: Gaussian $X$, $Y$ (seed `data_seed`), chosen with $d_L>d$ so that the regularized
#   problem visibly has more critical points ($\binom{d_L}{r}$ vs $\binom{d}{r}$); with $d_L\le d$, as on MNIST, the counts coincide.
# * "Critical point" means a rank-$r$ point with vanishing gradient, as in Prop B.9; the Hessian is taken in the
#   parameters $(W_2,W_1)$ of the two-layer network at the balanced factorisation $W_2=U_r\Sigma_r^{1/2}$,
#   $W_1=\Sigma_r^{1/2}V_r^T$ (any other factorisation differs by the symmetry and has the same inertia).
# * Newton's method: least-squares steps on the singular Hessian, 60 iterations, start entries $\mathcal N(0,0.25)$.
# * λ = `lam` in the paper's normalisation; no ridge on the small problem ($n>d_0$), the §5 ridge on MNIST.
# * Escape directions on MNIST: the swap curves of Prop B.9's proof at $t$ = `swap_t`, one per pair (kept, dropped).
# :::
