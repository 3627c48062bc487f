"""Experiment A1 of Flinth & Ohlsson (v3+, spec §4): a C4 CNN on MNIST trained equivariantly (phase 1), then
with augmentation from the equivariant weights (phase 2) for the supports and bases Cross, Skew and Non-Unitary;
the distance from 𝓔 is logged after every step."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from invlearn.flinth.c4cnn import DistanceLog, c4_cnn, layer_distances, load_equivariant
from invlearn.flinth.data import (
    ImageData,
    evaluate,
    make_batches,
    mse_one_hot,
    n_batches,
    stream_seed,
)
from invlearn.flinth.device import resolve_device

__all__ = ["A1Run", "run_a1", "epoch_means", "ce_over_batch", "A1_CONFIGS"]


A1_CONFIGS: dict[str, tuple[str, str]] = {
    "Cross": ("cross", "pixel"),
    "Skew": ("skew", "pixel"),
    "Non-Unitary": ("cross", "random"),
}
"""The configurations of A1, name -> (support Ω, basis of the unconstrained net)."""


@dataclass
class A1Run:
    """One A1 run (spec §4): equivariant phase 1, load, augmented phase 2, optional orbit-complete phase 2.

    Attributes:
        config: a key of :data:`A1_CONFIGS`; seed: the run's seed.
        equi_loss: ``(n₁,)`` phase-1 batch losses; aug_loss: ``(n₂,)`` phase-2 batch losses.
        aug_distance: ``(n₂ + 1,)`` distance to E after the load (index 0) and after every phase-2 step.
        orbit_distance: ``(n₃ + 1,)`` the same with orbit-complete batches from the same start (``None`` if not run).
        final_layer_distance: ``(n_layers,)`` per-layer distances at the end of phase 2.
        load_residual: float64 least-squares residual of the load.
        evaluation: ``{"equivariant": (loss, acc), "augmented": (loss, acc)}`` on the evaluation images.
        seconds: wall time per phase ``{"equivariant", "augmented", "orbit_complete"}``.
    """

    config: str
    seed: int
    equi_loss: np.ndarray
    aug_loss: np.ndarray
    aug_distance: np.ndarray
    orbit_distance: np.ndarray | None
    final_layer_distance: np.ndarray
    load_residual: float
    evaluation: dict[str, tuple[float, float]]
    seconds: dict[str, float]


def run_a1(
    data: ImageData,
    config: str,
    seed: int,
    *,
    widths: Sequence[int] = (32, 64, 64),
    equi_epochs: int = 250,
    aug_epochs: int = 10,
    aug_steps: int = 0,
    batch_size: int = 100,
    equi_lr: float = 5e-4,
    aug_lr: float = 2.5e-4,
    orbit_steps: int = 0,
    eval_images: tuple[torch.Tensor, torch.Tensor] | None = None,
    device: str | torch.device = "cpu",
) -> A1Run:
    """One run of A1 (Flinth & Ohlsson v3+, spec §4), every step through :func:`invlearn.core.training.train_steps`.

    1. Phase 1: a fresh equivariant net (support Ω of ``config``) trained by SGD (``equi_lr``, no momentum or weight
       decay) on shuffled ``plain`` batches for ``equi_epochs`` epochs; SGD on the orthonormal E-coefficients is the
       equivariant flow ``dA = -Π_E ∇R``.
    2. Its weights are loaded into the unconstrained net of ``config`` (:func:`invlearn.flinth.c4cnn.load_equivariant`).
    3. Phase 2: SGD (``aug_lr``) on ``rotated_copies`` batches (the 4×-concatenated data set, shuffled) for
       ``aug_epochs`` epochs, or ``aug_steps`` steps when positive; :func:`invlearn.flinth.c4cnn.distance_to_e` after every step.
    4. Optionally (``orbit_steps > 0``) a copy of the loaded net trained the same way on ``orbit_complete`` batches
       for ``orbit_steps`` steps (check N3).

    Random streams (:func:`invlearn.flinth.data.stream_seed`): init and random basis ``(seed, config index)``; batch orders
    ``(seed, phase)``, shared by the configurations of a run. Loss: :func:`invlearn.flinth.data.mse_one_hot`.

    Args:
        data: training images ``x`` ``(N, 1, 28, 28)`` and ``labels`` ``(N,)``, on any device.
        eval_images: ``(x (M, 1, 28, 28), labels (M,))`` for :func:`invlearn.flinth.data.evaluate`, on any device.
        device: where nets, images and distances live (:func:`invlearn.flinth.device.resolve_device`). The nets are
            built and every draw is made on CPU generators, then moved, so ``"cuda"`` follows the CPU run up to float
            round-off.
    Returns:
        :class:`A1Run`, arrays as CPU numpy.
    """
    import time

    from invlearn.core.training import train_steps

    if config not in A1_CONFIGS:
        raise ValueError(f"config must be one of {list(A1_CONFIGS)}, not {config!r}")
    dev = resolve_device(device)
    support, basis = A1_CONFIGS[config]
    index = list(A1_CONFIGS).index(config)
    init = torch.Generator().manual_seed(stream_seed(seed, 10 + index))
    order = lambda phase: torch.Generator().manual_seed(stream_seed(seed, phase))  # noqa: E731
    x, labels = data.x.to(dev), data.labels.to(dev)
    if eval_images is not None:
        eval_images = (eval_images[0].to(dev), eval_images[1].to(dev))
    seconds: dict[str, float] = {}
    evaluation: dict[str, tuple[float, float]] = {}

    equi = c4_cnn(widths, support, "equivariant", init).to(dev)
    start = time.perf_counter()
    equi_loss = train_steps(
        equi, make_batches(x, labels, batch_size=batch_size, epochs=equi_epochs, mode="plain", generator=order(1)),
        mse_one_hot, torch.optim.SGD(equi.parameters(), lr=equi_lr), desc=f"{config} equivariant")
    seconds["equivariant"] = time.perf_counter() - start
    if eval_images is not None:
        evaluation["equivariant"] = evaluate(equi, *eval_images)

    net = c4_cnn(widths, support, basis, init).to(dev)
    residual = load_equivariant(net, equi)
    start_net = copy.deepcopy(net) if orbit_steps > 0 else None
    log = DistanceLog()
    start = time.perf_counter()
    aug_loss = train_steps(
        net, make_batches(x, labels, batch_size=batch_size, epochs=aug_epochs, mode="rotated_copies",
                          generator=order(2), max_steps=aug_steps or None),
        mse_one_hot, torch.optim.SGD(net.parameters(), lr=aug_lr), callbacks=[log], desc=f"{config} augmented")
    seconds["augmented"] = time.perf_counter() - start
    if eval_images is not None:
        evaluation["augmented"] = evaluate(net, *eval_images)

    orbit = None
    if start_net is not None:
        orbit_log = DistanceLog()
        epochs = -(-orbit_steps // n_batches(x.shape[0], batch_size, "orbit_complete"))
        start = time.perf_counter()
        train_steps(
            start_net, make_batches(x, labels, batch_size=batch_size, epochs=epochs, mode="orbit_complete",
                                    generator=order(3), max_steps=orbit_steps),
            mse_one_hot, torch.optim.SGD(start_net.parameters(), lr=aug_lr), callbacks=[orbit_log],
            desc=f"{config} orbit-complete")
        seconds["orbit_complete"] = time.perf_counter() - start
        orbit = np.asarray(orbit_log.values)
    return A1Run(config=config, seed=seed, equi_loss=equi_loss, aug_loss=aug_loss, aug_distance=np.asarray(log.values),
                 orbit_distance=orbit, final_layer_distance=layer_distances(net), load_residual=residual,
                 evaluation=evaluation, seconds=seconds)


def epoch_means(per_step: np.ndarray, steps_per_epoch: int) -> np.ndarray:
    """Per-epoch means of per-batch values, the start value prepended (A1's left panel).

    Args:
        per_step: ``(..., T + 1)``: index 0 the start, then one value per batch.
    Returns:
        ``(..., E + 1)`` with ``E = ceil(T / steps_per_epoch)``; a last partial epoch is averaged over its batches.
    """
    start, batches = per_step[..., :1], per_step[..., 1:]
    n_epochs = -(-batches.shape[-1] // steps_per_epoch)
    means = [batches[..., e * steps_per_epoch : (e + 1) * steps_per_epoch].mean(-1, keepdims=True) for e in range(n_epochs)]
    return np.concatenate([start, *means], axis=-1)


def ce_over_batch(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """B1 data term (Nordenfors & Flinth's code): ``cross_entropy(model(x), y)``, mean-reduced, then divided again
    by the batch size ``B``. ``x`` ``(B, 1, 28, 28)``, ``y`` ``(B,)``."""
    xb, yb = batch
    return F.cross_entropy(model(xb), yb) / xb.shape[0]
