"""Duan & Montúfar, linear networks (spec §3, §7; Figs 1–9): data augmentation (DA), the hard-wired
("constrained") model and the regularized model trained with the shared engine, metrics logged every epoch
(:func:`~invlearn.duan.linear.train_linear_methods`).

Configurations sharing data and architecture train as one batched program: all λ values × seeds of the
regularized model in one, DA seeds in one, constrained seeds in one. With a :class:`~invlearn.core.runcache.RunCache`
each program is a stored run keyed by its protocol, so pages plotting different metrics of the same runs (Figs 2–4,
Figs 7–9, and the DA runs of Figs 1 and 6) train once: a stored run logs :data:`SHARED_METRICS`, the union of the
metrics those pages read, whatever metrics the caller asks for.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

import invlearn.core.groups
import invlearn.core.metrics
import invlearn.core.models
import invlearn.core.training
import invlearn.duan.problem
from invlearn.core.metrics import accuracy, invariant_proportion, noninvariant_norm
from invlearn.core.models import BatchedMLP
from invlearn.core.runcache import RunCache, array_digest, source_digest
from invlearn.core.training import MetricLogger, TrainConfig, invariance_penalty, train
from invlearn.duan.problem import MnistProblem

__all__ = [
    "LinearRuns",
    "SHARED_METRICS",
    "problem_identity",
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


SHARED_METRICS: dict[str, tuple[str, ...]] = {
    "constrained": ("accuracy", "noninvariant_norm", "invariant_proportion"),
    "DA": ("accuracy", "noninvariant_norm", "invariant_proportion", "end_to_end"),
    "regularized": ("accuracy", "noninvariant_norm", "invariant_proportion"),
}
"""Metrics a stored run logs per method, the union of what the pages sharing it read. These are the accuracy
(Figs 2, 7), ``||W_⊥||`` (Figs 3, 8), the invariant proportion (Figs 4, 9) and, for DA, the end-to-end matrices
(Figs 1, 6)."""

_RUN_MODULES = (
    invlearn.core.groups, invlearn.core.metrics, invlearn.core.models, invlearn.core.training, invlearn.duan.problem,
)


@dataclass
class LinearRuns:
    """Per-epoch logs of every method, keyed ``"DA"``, ``"constrained"``, ``reg_<λ>``.

    Attributes:
        epochs: ``(T,)`` logged epochs, starting at 0 (initialisation).
        accuracy: name -> ``(T, S)`` accuracy on the augmented training set, one column per seed.
        noninvariant_norm: name -> ``(T, S)`` ``||W_⊥||_F`` of the end-to-end matrix.
        invariant_proportion: name -> ``(T, S)`` ``||W Gbar||_F^2 / ||W||_F^2``.
        final_accuracy: name -> ``(S,)`` accuracy on the augmented training set after the last epoch (always).
        final_end_to_end: name -> ``(S, d_L, d_0)`` end-to-end matrices after the last epoch (always).
        loss: name -> ``(T, S)`` training objective (data loss + penalty) on the method's own training set.
        end_to_end: name -> ``(T, S, d_L, d_0)`` end-to-end matrices.
        seconds: name -> wall time of its batched training (of the stored run's training when it was reused).
        run_ids: method (``"constrained"``, ``"DA"``, ``"regularized"``) -> ``{"id": run id, "status":
            "computed" | "reused"}`` when a run store was used; empty otherwise.
    """

    epochs: np.ndarray
    accuracy: dict[str, np.ndarray] = field(default_factory=dict)
    noninvariant_norm: dict[str, np.ndarray] = field(default_factory=dict)
    invariant_proportion: dict[str, np.ndarray] = field(default_factory=dict)
    loss: dict[str, np.ndarray] = field(default_factory=dict)
    end_to_end: dict[str, np.ndarray] = field(default_factory=dict)
    final_accuracy: dict[str, np.ndarray] = field(default_factory=dict)
    final_end_to_end: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    run_ids: dict[str, dict[str, str]] = field(default_factory=dict)


def problem_identity(problem: MnistProblem) -> dict[str, object]:
    """What identifies the data of a run: sample count, source, and a digest of the digits drawn (their indices),
    the inputs, labels, targets, augmented set and group matrices (so a changed data seed or preprocessing is a
    different run)."""
    return {
        "n_samples": int(problem.x.shape[0]),
        "source": problem.source,
        "digest": array_digest(problem.indices, problem.x, problem.labels, problem.y, problem.x_aug,
                               problem.labels_aug, problem.y_aug, problem.group.rho),
    }


_FLOAT32_LOGS = ("end_to_end", "final_end_to_end")
"""Logs stored in float32: float32 matrices widened to float64 by the logger, so storing them narrow is exact."""


def _stored(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``values`` as stored: :data:`_FLOAT32_LOGS` narrowed to float32 (exactly; half the disk)."""
    return {k: v.astype(np.float32) if k in _FLOAT32_LOGS else v for k, v in values.items()}


def _run_job(model: BatchedMLP, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, penalty, available: dict,
             metrics: Sequence[str], final, desc: str) -> dict[str, np.ndarray]:
    """Train one batched program, logging ``metrics`` (names of ``available``: ``model -> (K, ...)``);
    ``{metric: (T, K, ...), "loss": (T, K), "final_accuracy": (K,) from final(model), "final_end_to_end":
    (K, d_L, d_0), "seconds": ()}``."""
    logger = MetricLogger({name: available[name] for name in metrics})
    history = train(model, x, y, cfg, penalty=penalty, callbacks=[logger], desc=desc)
    with torch.no_grad():
        final_accuracy = final(model).numpy()
        final_end_to_end = model.end_to_end().numpy()
    return {**logger.values, "loss": history.loss, "final_accuracy": final_accuracy,
            "final_end_to_end": final_end_to_end, "seconds": np.asarray(history.seconds)}


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
    cache: RunCache | None = None,
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
        cache: a run store: each method's batched program is loaded from it when stored under the same protocol
            (every argument above that affects that program, the data's identity, the torch version and the source
            of the modules computing it), else trained once, logging ``metrics`` and :data:`SHARED_METRICS`, and
            stored. The result is the same as without a store; ``run_ids`` says which runs were used.
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
    seeds = [int(s) for s in seeds]

    jobs = []  # (method, names per configuration block, model builder, x, target, penalty, protocol extras)
    if "constrained" in methods:
        basis = group.orbit_basis("average").to(torch.float32)
        jobs.append(("constrained", ["constrained"], lambda: BatchedMLP(dims, seeds, basis=basis), problem.x, target,
                     None, {"basis": array_digest(basis)}))
    if "DA" in methods:
        jobs.append(("DA", ["DA"], lambda: BatchedMLP(dims, seeds), problem.x_aug, target_aug, None, {}))
    if "regularized" in methods and lambdas:
        seeds_rep = [s for _ in lambdas for s in seeds]
        lam_rep = [lam for lam in lambdas for _ in seeds]
        penalty = invariance_penalty(group.constraint().to(torch.float32), lam_rep)
        jobs.append(("regularized", [lambda_key(lam) for lam in lambdas], lambda: BatchedMLP(dims, seeds_rep),
                     problem.x, target, penalty,
                     {"lambdas": [float(lam) for lam in lambdas], "constraint": array_digest(group.constraint())}))

    # Accuracy through the end-to-end matrix W = W_2 W_1 (B): f(x) = W x, one (n, d_0) x (d_0, K d_L) product,
    # instead of the forward pass, which for the constrained model also re-projects every input onto the orbit basis
    # (equal up to float round-off; the logging dominated the training time).
    available = {
        "accuracy": lambda m: accuracy(torch.matmul(problem.x_aug, m.end_to_end().transpose(1, 2)), problem.labels_aug),
        "noninvariant_norm": lambda m: noninvariant_norm(m.end_to_end(), projector),
        "invariant_proportion": lambda m: invariant_proportion(m.end_to_end(), projector),
        "end_to_end": lambda m: m.end_to_end(),
    }
    unknown = set(metrics) - set(available)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; choose from {sorted(available)}")
    n_seeds = len(seeds)
    for method, names, build, x, y, penalty, extras in jobs:
        desc = "/".join(names)
        if cache is None:
            values = _run_job(build(), x, y, cfg, penalty, available, metrics, available["accuracy"], desc)
        else:
            logged = [m for m in available if m in metrics or m in SHARED_METRICS[method]]
            protocol = {
                "program": "invlearn.duan.linear", "method": method, "names": names, "dims": list(dims),
                "seeds": seeds, "train": dataclasses.asdict(cfg), "data": problem_identity(problem), **extras,
                "source": source_digest((*_RUN_MODULES, sys.modules[__name__])),
            }
            run = cache.get_or_compute(
                protocol,
                lambda: (_stored(_run_job(build(), x, y, cfg, penalty, available, logged, available["accuracy"], desc)),
                         {"metrics": logged}),
                accept=lambda stored: all(m in stored.arrays for m in (*metrics, "final_end_to_end")),
            )
            values = {**run.arrays, **{k: run.arrays[k].astype(np.float64) for k in _FLOAT32_LOGS if k in run.arrays}}
            runs.run_ids[method] = {"id": run.run_id, "status": run.status}
        for name, block in seed_blocks(names, n_seeds):
            for metric in metrics:
                getattr(runs, metric)[name] = values[metric][:, block]
            runs.loss[name] = values["loss"][:, block]
            runs.final_accuracy[name] = values["final_accuracy"][block]
            runs.final_end_to_end[name] = values["final_end_to_end"][block]
            runs.seconds[name] = float(values["seconds"])
    return runs
