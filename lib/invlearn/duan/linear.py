"""Duan & Montúfar, linear networks (spec §3, §7; Figs 1–9): data augmentation (DA), the hard-wired
("constrained") model and the regularized model trained with the shared engine, metrics logged every epoch
(:func:`~invlearn.duan.linear.train_linear_methods`).

Configurations sharing data and architecture train as one batched program: all λ values × seeds of the
regularized model in one, DA seeds in one, constrained seeds in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from invlearn.core.metrics import accuracy, invariant_proportion, noninvariant_norm
from invlearn.core.models import BatchedMLP
from invlearn.core.training import MetricLogger, TrainConfig, invariance_penalty, train
from invlearn.duan.problem import MnistProblem

__all__ = [
    "LinearRuns",
    "lambda_key",
    "orbit_entries",
    "train_linear_methods",
]


def seed_blocks(names: Sequence[str], n_seeds: int) -> list[tuple[str, slice]]:
    """Configuration slices of a batched program laid out name-major: name i owns ``[i S, (i + 1) S)``."""
    return [(name, slice(i * n_seeds, (i + 1) * n_seeds)) for i, name in enumerate(names)]


def lambda_key(lam: float) -> str:
    """Series name of a regularized run: ``reg_0.001`` for λ = 1e-3 (λ written as in the paper)."""
    return f"reg_{lam:g}"


def orbit_entries(
    problem: MnistProblem, end_to_end: np.ndarray, rows: Sequence[int], pixel: Sequence[int]
) -> tuple[list[int], np.ndarray]:
    """Entries ``W[i, j]`` of logged end-to-end matrices on the rotation orbit of one pixel (Figs 1 and 6).

    Args:
        problem: the MNIST setup (its group gives the orbits; images are square, flattened row-major).
        end_to_end: ``(..., d_L, d_0)`` logged matrices, e.g. ``(T, S, d_L, d_0)`` for S seeds.
        rows: output classes ``i``.
        pixel: ``(row, column)`` of the image pixel whose orbit gives the columns ``j``.
    Returns:
        The orbit's flat pixel indices (4 for C4) and the entries ``(..., len(rows), len(orbit))``.
    """
    side = int(round(problem.x.shape[1] ** 0.5))
    flat = pixel[0] * side + pixel[1]
    orbit = next(o for o in problem.group.orbits() if flat in o)
    return orbit, end_to_end[..., list(rows), :][..., orbit]


@dataclass
class LinearRuns:
    """Per-epoch logs of every method, keyed ``"DA"``, ``"constrained"``, ``reg_<λ>``.

    Attributes:
        epochs: ``(T,)`` logged epochs, starting at 0 (initialisation).
        accuracy: name -> ``(T, S)`` accuracy on the augmented training set, one column per seed.
        noninvariant_norm: name -> ``(T, S)`` ``||W_⊥||_F`` of the end-to-end matrix.
        invariant_proportion: name -> ``(T, S)`` ``||W Gbar||_F^2 / ||W||_F^2``.
        final_accuracy: name -> ``(S,)`` accuracy on the augmented training set after the last epoch (always).
        loss: name -> ``(T, S)`` training objective (data loss + penalty) on the method's own training set.
        end_to_end: name -> ``(T, S, d_L, d_0)`` end-to-end matrices.
        seconds: name -> wall time of its batched training.
    """

    epochs: np.ndarray
    accuracy: dict[str, np.ndarray] = field(default_factory=dict)
    noninvariant_norm: dict[str, np.ndarray] = field(default_factory=dict)
    invariant_proportion: dict[str, np.ndarray] = field(default_factory=dict)
    loss: dict[str, np.ndarray] = field(default_factory=dict)
    end_to_end: dict[str, np.ndarray] = field(default_factory=dict)
    final_accuracy: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def train_linear_methods(
    problem: MnistProblem,
    *,
    methods: Sequence[str] = ("constrained", "DA", "regularized"),
    lambdas: Sequence[float] = (1e-3, 1e-2, 1e-1),
    loss: str = "mse",
    hidden: int = 5,
    epochs: int = 3000,
    lr: float = 1e-3,
    batch_size: int | None = None,
    seeds: Sequence[int] = (0,),
    metrics: Sequence[str] = ("accuracy", "noninvariant_norm", "invariant_proportion"),
) -> LinearRuns:
    """Train the two-layer linear networks of Duan & Montúfar and log the spec §6 metrics every epoch.

    * ``"constrained"``: ``f(x) = W_2 W_1 B_orbit x`` (orbit averages) on the original samples.
    * ``"DA"``: ``f(x) = W_2 W_1 x`` on all ``|G| n`` rotated samples.
    * ``"regularized"``: ``f(x) = W_2 W_1 x`` on the original samples, loss ``+ λ ||W_2 W_1 G||_F^2``, ``G = I - rho(g)``.

    DA and every λ share the initial weights of a seed. Accuracy is always measured on the augmented set.

    Args:
        problem: the MNIST setup (``x`` ``(n, d_0)``, ``x_aug`` ``(|G| n, d_0)``).
        loss: ``"mse"`` (one-hot targets) or ``"ce"`` (class labels).
        seeds: initialisation seeds, S of them.
        metrics: what to log every epoch, any of ``"accuracy"``, ``"noninvariant_norm"``,
            ``"invariant_proportion"``, ``"end_to_end"`` (the matrices themselves); the others stay empty.
    """
    group = problem.group
    projector = group.projector().to(torch.float32)
    dims = (problem.x.shape[1], hidden, problem.n_classes)
    # Full-batch MSE of a linear network depends on the data only through its second moments: exact and cheaper.
    second_moments = loss == "mse" and batch_size is None
    cfg = TrainConfig(epochs=epochs, loss=loss, optimizer="adam", lr=lr, batch_size=batch_size, second_moments=second_moments)
    target = problem.y if loss == "mse" else problem.labels
    target_aug = problem.y_aug if loss == "mse" else problem.labels_aug
    runs = LinearRuns(epochs=np.arange(epochs + 1))

    jobs = []  # (names per configuration block, model, x, target, penalty)
    if "constrained" in methods:
        model = BatchedMLP(dims, seeds, basis=group.orbit_basis("average").to(torch.float32))
        jobs.append((["constrained"], model, problem.x, target, None))
    if "DA" in methods:
        jobs.append((["DA"], BatchedMLP(dims, seeds), problem.x_aug, target_aug, None))
    if "regularized" in methods and lambdas:
        seeds_rep = [s for _ in lambdas for s in seeds]
        lam_rep = [lam for lam in lambdas for _ in seeds]
        penalty = invariance_penalty(group.constraint().to(torch.float32), lam_rep)
        jobs.append(([lambda_key(lam) for lam in lambdas], BatchedMLP(dims, seeds_rep), problem.x, target, penalty))

    available = {
        "accuracy": lambda m: accuracy(m(problem.x_aug), problem.labels_aug),
        "noninvariant_norm": lambda m: noninvariant_norm(m.end_to_end(), projector),
        "invariant_proportion": lambda m: invariant_proportion(m.end_to_end(), projector),
        "end_to_end": lambda m: m.end_to_end(),
    }
    unknown = set(metrics) - set(available)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; choose from {sorted(available)}")
    n_seeds = len(seeds)
    for names, model, x, y, penalty in jobs:
        logger = MetricLogger({name: available[name] for name in metrics})
        history = train(model, x, y, cfg, penalty=penalty, callbacks=[logger], desc="/".join(names))
        values = logger.values
        with torch.no_grad():
            final_accuracy = available["accuracy"](model).numpy()
        for name, block in seed_blocks(names, n_seeds):
            for metric in metrics:
                getattr(runs, metric)[name] = values[metric][:, block]
            runs.loss[name] = history.loss[:, block]
            runs.final_accuracy[name] = final_accuracy[block]
            runs.seconds[name] = history.seconds
    return runs


