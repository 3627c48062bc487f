"""What the squared-loss pages of Duan & Montúfar's linear networks share with their cross-entropy twins
(Figs 1/6, 2/7, 3/8, 4/9): the stored training runs, the curves read from them, the figures, the checks both
twins assert and the common result-file entries. Each page calls these with its loss; its prose, its own checks
and its result-file keys stay on the page.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from invlearn.core import plotting
from invlearn.core.runcache import RunCache
from invlearn.duan.linear import LinearRuns, lambda_key, orbit_entries, train_linear_methods
from invlearn.duan.metrics import double_descent, first_crossing, noninvariant_parts
from invlearn.duan.problem import MnistProblem, mnist_problem

__all__ = [
    "linear_runs",
    "run_metrics",
    "lambda_labels",
    "seed_means",
    "accuracy_figure",
    "accuracy_checks",
    "limit_figure",
    "limit_series",
    "proportion_crossing",
    "proportion_checks",
    "OrbitWeights",
    "orbit_weights",
    "orbit_figure",
    "orbit_series",
    "by_row",
    "spread_checks",
    "DASeedControl",
    "da_seed_control",
]


def linear_runs(
    loss: str,
    *,
    methods: Sequence[str],
    metrics: Sequence[str],
    n_samples: int,
    data_seed: int,
    seeds: Sequence[int],
    hidden: int,
    epochs: int,
    lr: float,
    batch_size: int,
    lambdas: Sequence[float] = (),
) -> tuple[MnistProblem, LinearRuns]:
    """The page's digits and training runs, taken from the run store when another page computed them.

    ``batch_size`` 0 is full batch. The store is :meth:`invlearn.core.runcache.RunCache.from_env` (the runner's ``<repo>/.cache/runs``);
    with ``INVLEARN_RUN_CACHE=off`` every page trains its own runs (same numbers).
    """
    problem = mnist_problem(n_samples=n_samples, seed=data_seed)
    runs = train_linear_methods(
        problem, methods=methods, lambdas=lambdas, loss=loss, hidden=hidden, epochs=epochs, lr=lr,
        batch_size=batch_size or None, seeds=seeds, metrics=metrics, cache=RunCache.from_env(),
    )
    return problem, runs


def run_metrics(runs: LinearRuns, problem: MnistProblem, seeds: Sequence[int], started: float) -> dict[str, object]:
    """Result-file entries every page of the family records: seeds, training seconds per series, the ids of the
    runs used (and whether this page computed or reused them), the notebook's wall time so far, the data source."""
    return {
        "seeds": list(seeds),
        "train_seconds": runs.seconds,
        "run_ids": runs.run_ids,
        "notebook_seconds": time.perf_counter() - started,
        "data_source": problem.source,
    }


def lambda_labels(lambdas: Sequence[float]) -> dict[str, str]:
    """Legend labels ``reg_<λ> -> "λ = <λ>"``."""
    return {lambda_key(lam): f"λ = {lam:g}" for lam in lambdas}


def seed_means(values: Mapping[str, np.ndarray], names: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``names``' per-seed curves ``(T, S)`` and their means over seeds ``(T,)``."""
    per_seed = {name: values[name] for name in names}
    return per_seed, {name: v.mean(axis=1) for name, v in per_seed.items()}


def accuracy_figure(runs: LinearRuns, lambdas: Sequence[float], **extra) -> Figure:
    """Figs 2 and 7: augmented-set accuracy per epoch of the constrained, DA and regularized networks (mean and
    min–max band over seeds); ``extra`` goes to :func:`~invlearn.core.plotting.seed_curves` (reference lines)."""
    labels = {"constrained": "Constrained", "DA": "DA", **lambda_labels(lambdas)}
    order = ["constrained", "DA", *[lambda_key(lam) for lam in lambdas]]
    return plotting.seed_curves(
        runs.epochs, {name: runs.accuracy[name] for name in order}, xlabel="Epochs", ylabel="Accuracy",
        labels=labels, linestyles=plotting.LINESTYLES, **extra,
    )


def accuracy_checks(final_accuracy: Mapping[str, float], lambdas: Sequence[float], tolerance: float) -> tuple[str, dict[str, bool]]:
    """The two checks of Figs 2 and 7 and the best λ: (1) DA and the constrained model end less than ``tolerance``
    apart in accuracy; (2) the best λ ends within ``tolerance`` of both."""
    best_lambda = max((lambda_key(lam) for lam in lambdas), key=lambda k: final_accuracy[k])
    gap_da_constrained = abs(final_accuracy["DA"] - final_accuracy["constrained"])
    checks = {
        f"|acc(DA) − acc(constrained)| = {gap_da_constrained:.4f} < {tolerance}": gap_da_constrained < tolerance,
        f"best λ ({best_lambda}) within {tolerance} of DA and constrained": max(
            abs(final_accuracy[best_lambda] - final_accuracy["DA"]),
            abs(final_accuracy[best_lambda] - final_accuracy["constrained"])) < tolerance,
    }
    return best_lambda, checks


def limit_figure(epochs: np.ndarray, per_seed: Mapping[str, np.ndarray], lambdas: Sequence[float], *, ylabel: str,
                 limit: float, **extra) -> Figure:
    """Figs 3/8 (``‖W⊥‖``, ``limit`` 0) and 4/9 (invariant proportion, ``limit`` 1): DA and regularized curves
    ``(T, S)`` per epoch, the constrained model drawn as the invariant limit, a grey line at ``limit``."""
    return plotting.seed_curves(
        epochs, per_seed, xlabel="Epochs", ylabel=ylabel, labels={"DA": "DA", **lambda_labels(lambdas)},
        linestyles=plotting.LINESTYLES, hlines=[(limit, "Constrained (invariant limit)")], **extra,
    )


def limit_series(epochs: np.ndarray, mean: Mapping[str, np.ndarray], per_seed: Mapping[str, np.ndarray], limit: float,
                 **extra) -> dict[str, object]:
    """Plotted series of Figs 3/4/8/9: epochs, mean curves, the constrained model's constant ``limit``, ``extra``
    (e.g. closed-form levels), the per-seed curves."""
    return {"epoch": epochs, **mean, "constrained": np.full(epochs.shape, float(limit)), **extra, "per_seed": per_seed}


def proportion_crossing(epochs: np.ndarray, mean: Mapping[str, np.ndarray], threshold: float) -> dict[str, float]:
    """Figs 4 and 9: first epoch at which each mean invariant proportion reaches ``threshold`` (``inf``: never)."""
    return {name: first_crossing(epochs, curve, threshold) for name, curve in mean.items()}


def proportion_checks(mean: Mapping[str, np.ndarray], crossing: Mapping[str, float], lambdas: Sequence[float],
                      threshold: float, da_limit: float = 0.99) -> dict[str, bool]:
    """The checks Figs 4 and 9 share: (1) every curve ends above its initial value; (2) DA ends above ``da_limit``;
    (3) the λ curves reach ``threshold`` no later for larger λ (and the largest reaches it)."""
    lam_keys = [lambda_key(lam) for lam in sorted(lambdas)]
    return {
        "every curve ends above its initial value": all(mean[n][-1] > mean[n][0] for n in mean),
        f"DA ends above {da_limit:g}": float(mean["DA"][-1]) > da_limit,
        f"larger λ reaches {threshold} no later": all(crossing[a] >= crossing[b] for a, b in zip(lam_keys, lam_keys[1:]))
        and bool(np.isfinite(crossing[lam_keys[-1]])),
    }


@dataclass
class OrbitWeights:
    """Figs 1 and 6: entries of the DA network's end-to-end matrices on one pixel orbit.

    Attributes:
        orbit: the orbit's flat pixel indices (4 for C4).
        entries: ``(T, S, len(rows), len(orbit))``.
        rows: the output classes shown.
    """

    orbit: list[int]
    entries: np.ndarray
    rows: list[int]


def orbit_weights(problem: MnistProblem, runs: LinearRuns, rows: Sequence[int], pixel: Sequence[int]) -> OrbitWeights:
    """The DA run's end-to-end entries ``W[i, j]`` for classes ``rows`` and the orbit of ``pixel``."""
    orbit, entries = orbit_entries(problem, runs.end_to_end["DA"], rows, pixel)
    return OrbitWeights(orbit, entries, list(rows))


def orbit_figure(epochs: np.ndarray, weights: OrbitWeights) -> Figure:
    """One panel per class, the orbit's entries per epoch (mean and min–max band over seeds)."""
    panels = {f"Row {r}": {str(j): weights.entries[:, :, k, m] for m, j in enumerate(weights.orbit)}
              for k, r in enumerate(weights.rows)}
    return plotting.panel_curves(epochs, panels, xlabel="Epochs", ylabel="Weight", legend_title="Weight Indices")


def orbit_series(epochs: np.ndarray, weights: OrbitWeights) -> dict[str, object]:
    """Plotted series of Figs 1/6: ``row<i>`` -> pixel -> mean over seeds ``(T,)``, and the same per seed."""
    e, orbit = weights.entries, weights.orbit
    return {"epoch": epochs,
            **{f"row{r}": {str(j): e[:, :, k, m].mean(axis=1) for m, j in enumerate(orbit)} for k, r in enumerate(weights.rows)},
            "per_seed": {f"row{r}": {str(j): e[:, :, k, m] for m, j in enumerate(orbit)} for k, r in enumerate(weights.rows)}}


def by_row(values: np.ndarray, rows: Sequence[int]) -> dict[str, list[float]]:
    """``(S, len(rows))`` values (one per seed and class) as ``class -> per-seed list``, for the result file."""
    return {str(r): values[:, k].tolist() for k, r in enumerate(rows)}


def spread_checks(ratio: np.ndarray, rows: Sequence[int], what: str, limit: float) -> dict[str, bool]:
    """Figs 1 and 6: per class, the worst seed's final/initial ``what`` (spread, relative spread) below ``limit``."""
    return {f"row {r}: final/initial {what} = {ratio[k]:.4f} < {limit}": bool(ratio[k] < limit) for k, r in enumerate(rows)}


@dataclass
class DASeedControl:
    """Fig 3's control: the DA network over many initialisation seeds (same digits), one batched program.

    Attributes:
        seeds: the S initialisation seeds.
        epochs: ``(T,)``.
        noninvariant_norm: ``(T, S)`` ``||W_⊥||_F`` per epoch and seed.
        shape: per seed, :func:`~invlearn.duan.metrics.double_descent` of its curve.
        initial: :func:`~invlearn.duan.metrics.noninvariant_parts` of the initial end-to-end matrices against
            the augmented set, each ``(S,)``.
        final: the same parts of the final end-to-end matrices.
        seconds: training wall time.
    """

    seeds: list[int]
    epochs: np.ndarray
    noninvariant_norm: np.ndarray
    shape: list[dict]
    initial: dict[str, np.ndarray]
    final: dict[str, np.ndarray]
    seconds: float


def da_seed_control(problem: MnistProblem, loss: str, *, seeds: Sequence[int], hidden: int, epochs: int, lr: float,
                    batch_size: int, rise: float) -> DASeedControl:
    """Train the DA network for every seed of ``seeds`` as one batched program (not stored: the run store would
    also keep its per-epoch matrices) and read the shape of each ``||W_⊥||`` curve (``rise`` as in
    :func:`~invlearn.duan.metrics.double_descent`) and where its non-invariant part lives at the start and the end."""
    import torch

    from invlearn.core.models import BatchedMLP
    from invlearn.duan.linear import train_linear_methods

    seeds = [int(s) for s in seeds]
    runs = train_linear_methods(problem, methods=("DA",), loss=loss, hidden=hidden, epochs=epochs, lr=lr,
                                batch_size=batch_size or None, seeds=seeds, metrics=("noninvariant_norm",))
    curves = runs.noninvariant_norm["DA"]
    projector = problem.group.projector().double().numpy()
    x = problem.x_aug.double().numpy()
    with torch.no_grad():
        w0 = BatchedMLP((problem.x.shape[1], hidden, problem.n_classes), seeds).end_to_end().double().numpy()
    return DASeedControl(
        seeds=seeds, epochs=runs.epochs, noninvariant_norm=curves,
        shape=[double_descent(runs.epochs, curves[:, k], rise) for k in range(len(seeds))],
        initial=noninvariant_parts(w0, projector, x), final=noninvariant_parts(runs.final_end_to_end["DA"], projector, x),
        seconds=runs.seconds["DA"],
    )
