"""Nordenfors & Flinth (2025), experiment B1: distance to E under SGD with the penalty ``(γ/2)‖Π_{E⊥}A‖²``.

Spec §7 of ``flinth_nordenfors.md`` (Result 4). Per run, one equivariant C4 CNN (full 3×3 support, widths (16, 16),
:mod:`invlearn.flinth.c4cnn`) is copied into two unitary unconstrained (pixel-basis) nets, a *nominal* and an *augmented*
one, and each copy is moved off E by its own perturbation ``N − Π_E N``, ``N`` i.i.d. N(0, σ²) per weight entry
(:func:`invlearn.flinth.c4cnn.perturb_off_e`). Both train with plain SGD on the same batches in a fixed order, with the
objective of the authors' code

    L_k = CE_mean(net_k(x_k), y) / B + (γ_k / 2) Σ_l ‖W_l − Π_E W_l‖_F²,

where ``x_k`` is the batch itself (nominal) or the batch with every image rotated by an independent uniform
``k·90°`` (augmented). All γ × runs × modes nets are one :class:`invlearn.flinth.c4cnn.StackedC4CNN` trained by
:func:`invlearn.core.training.train_steps` on the summed objective, so each net follows its standalone SGD path.

Exact property (check N4): for a unitary basis the penalty's gradient in weight space is ``γ (W − Π_E W)``, so the
penalty alone maps the E⊥ part ``W_⊥ ↦ (1 − ηγ) W_⊥`` per step and leaves ``Π_E W`` unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from invlearn.core.training import train_steps
from invlearn.flinth.c4cnn import (
    StackedC4CNN,
    StackedDistanceLog,
    c4_cnn,
    load_equivariant,
    perturb_off_e,
)
from invlearn.flinth.data import make_batches, n_batches
from invlearn.flinth.device import resolve_device

__all__ = [
    "MODES",
    "Layout",
    "start_nets",
    "lockstep_batches",
    "regularised_loss",
    "B1Result",
    "train_b1",
    "penalty_decay",
    "series_steps",
]

MODES = ("nominal", "augmented")
"""The two trained nets of every (γ, run); the equivariant net of the authors' code is not trained (not plotted)."""


@dataclass(frozen=True)
class Layout:
    """Order of the members of the stacked model: γ-major, then run, then mode.

    Attributes:
        gammas: penalty weights γ; runs: number of runs per γ.
    """

    gammas: tuple[float, ...]
    runs: int

    @property
    def n_members(self) -> int:
        return len(self.gammas) * self.runs * len(MODES)

    def index(self, gamma: int, run: int, mode: str) -> int:
        """Member index of (γ index, run, mode)."""
        return (gamma * self.runs + run) * len(MODES) + MODES.index(mode)

    def members(self) -> list[tuple[int, int, str]]:
        """``(γ index, run, mode)`` of every member, in stacking order."""
        return [(g, r, m) for g in range(len(self.gammas)) for r in range(self.runs) for m in MODES]

    def member_gammas(self) -> torch.Tensor:
        """``(K,)`` float64 γ of every member."""
        return torch.tensor([self.gammas[g] for g, _, _ in self.members()], dtype=torch.float64)

    def unstack(self, values: np.ndarray) -> np.ndarray:
        """``(T, K)`` per-member values to ``(n_gammas, 2, runs, T)`` (mode order :data:`MODES`)."""
        return np.asarray(values).T.reshape(len(self.gammas), self.runs, len(MODES), -1).transpose(0, 2, 1, 3)


def start_nets(
    widths: Sequence[int], sigma: float, generator: torch.Generator
) -> tuple[dict[str, torch.nn.Module], dict[str, float]]:
    """The start of one run: an equivariant net (full support, spec §3 init) copied into a nominal and an augmented
    pixel-basis net, each then perturbed off E independently (:func:`invlearn.flinth.c4cnn.perturb_off_e`).

    Returns:
        ``({mode: net}, {mode: ‖Δ‖})``, the nets and the norms of their perturbations.
    """
    eq = c4_cnn(widths, "full", "equivariant", generator)
    nets, norms = {}, {}
    for mode in MODES:
        net = c4_cnn(widths, "full", "pixel", generator)
        load_equivariant(net, eq)
        norms[mode] = perturb_off_e(net, sigma, generator)
        nets[mode] = net
    return nets, norms


def lockstep_batches(
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int,
    steps: int,
    layout: Layout,
    rotation_generators: Sequence[torch.Generator],
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of the stacked model: the data in its fixed order (no shuffling, as in the authors' code), ``batch_size``
    images per step, cycling through the data for ``steps`` steps.

    Nominal members get the batch as it is; the augmented member of run ``r`` gets it with every image rotated by an
    independent uniform ``k·90°`` drawn from ``rotation_generators[r]`` (shared by all γ, so run ``r`` sees the same
    rotations at every γ).

    Yields:
        ``(x (K, B, 1, 28, 28), y (B,))``, member order of ``layout``, on the device of ``x`` and ``labels``; the
        rotations are drawn on the (CPU) ``rotation_generators`` and moved there.
    """
    if len(rotation_generators) != layout.runs:
        raise ValueError("one rotation generator per run")
    epochs = -(-steps // n_batches(x.shape[0], batch_size, "plain"))
    plain = make_batches(x, labels, batch_size=batch_size, epochs=epochs, mode="plain",
                         generator=torch.Generator(), shuffle=False, max_steps=steps)
    rotated = [make_batches(x, labels, batch_size=batch_size, epochs=epochs, mode="random_rotation", generator=gen,
                            shuffle=False, max_steps=steps) for gen in rotation_generators]
    for (xb, yb), *rot in zip(plain, *rotated):
        per_member = [xb if mode == "nominal" else rot[run][0] for _, run, mode in layout.members()]
        yield torch.stack(per_member), yb


def regularised_loss(gammas: torch.Tensor) -> Callable[[StackedC4CNN, tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """The summed B1 objective ``Σ_k [CE_mean(net_k(x_k), y)/B + (γ_k/2) ‖Π_{E⊥} W_k‖²]`` for
    :func:`invlearn.core.training.train_steps` (each term is :func:`invlearn.flinth.a1.ce_over_batch` plus the penalty).

    Args:
        gammas: ``(K,)`` γ per member, on any device (moved to the model's outputs).
    """

    def loss(model: StackedC4CNN, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        xb, yb = batch
        out = model(xb)  # (K, B, n_classes)
        k, b = out.shape[:2]
        ce = F.cross_entropy(out.reshape(k * b, -1), yb.repeat(k), reduction="none").reshape(k, b).mean(1) / b
        return (ce + gammas.to(out.device, out.dtype) / 2 * model.perp_norm_sq()).sum()

    return loss


@dataclass(frozen=True)
class B1Result:
    """Distances to E of all nets of B1.

    Attributes:
        distances: ``(n_gammas, 2, runs, steps + 1)`` float64; ``[..., k]`` is the distance before step ``k + 1``
            (mode order :data:`MODES`).
        perturbation_norms: ``(runs, 2)`` ‖Δ‖ of the start perturbations (shared by every γ).
        losses: ``(steps,)`` summed objective of every step.
        seconds: wall time of the training (with the per-step distance logging).
        layout: the member order.
    """

    distances: np.ndarray
    perturbation_norms: np.ndarray
    losses: np.ndarray
    seconds: float
    layout: Layout


def train_b1(
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    gammas: Sequence[float],
    runs: int,
    steps: int,
    lr: float,
    batch_size: int,
    widths: Sequence[int],
    sigma: float,
    seed: int,
    threads: int | None = None,
    device: str | torch.device = "cpu",
) -> B1Result:
    """Train every (γ, run, mode) net of B1 in lockstep and log its distance to E before every step.

    Run ``r`` uses ``torch.Generator`` seeded ``seed + r`` for, in order, the equivariant init, the two pixel copies
    and their perturbations, then the rotations; the same start and rotations serve every γ.

    Args:
        x: ``(N, 1, 28, 28)`` images (pixels in [0, 1]) in the fixed training order; labels ``(N,)``.
        gammas: penalty weights; runs: runs per γ; steps: SGD steps; lr: SGD step size η.
        threads: torch CPU threads during training (restored afterwards); ``None`` keeps the current setting.
        device: where the stacked nets, images and distances live (:func:`invlearn.flinth.device.resolve_device`).
            Start nets and perturbations are made on the CPU and the rotations drawn from the CPU generators, then
            moved, so ``"cuda"`` follows the CPU run up to float round-off.
    Returns:
        :class:`B1Result`, arrays as CPU numpy.
    """
    dev = resolve_device(device)
    layout = Layout(tuple(float(g) for g in gammas), runs)
    per_run, norms, rotation_generators = [], [], []
    for r in range(runs):
        gen = torch.Generator().manual_seed(seed + r)
        nets, perturbation = start_nets(widths, sigma, gen)
        per_run.append({mode: net.to(dev) for mode, net in nets.items()})
        norms.append([perturbation[m] for m in MODES])
        rotation_generators.append(gen)
    x, labels = x.to(dev), labels.to(dev)
    model = StackedC4CNN([per_run[r][mode] for _, r, mode in layout.members()])
    log = StackedDistanceLog()
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    started = time.perf_counter()
    try:
        losses = train_steps(
            model,
            lockstep_batches(x, labels, batch_size=batch_size, steps=steps, layout=layout,
                             rotation_generators=rotation_generators),
            regularised_loss(layout.member_gammas()),
            torch.optim.SGD(model.parameters(), lr=lr),
            callbacks=[log],
            desc="B1",
        )
    finally:
        torch.set_num_threads(previous)
    seconds = time.perf_counter() - started
    return B1Result(layout.unstack(log.values), np.asarray(norms), losses, seconds, layout)


def penalty_decay(d0: float | np.ndarray, lr: float, gamma: float, steps: np.ndarray) -> np.ndarray:
    """Check N4: the distance under the penalty alone, ``d_k = d_0 (1 − ηγ)^k`` at the given steps ``k``."""
    return np.asarray(d0)[..., None] * (1.0 - lr * gamma) ** np.asarray(steps, dtype=np.float64)


def series_steps(steps: int, head: int = 100, points: int = 400) -> np.ndarray:
    """Steps kept in result files: every step up to ``head`` (the early decay of N4), then about ``points`` evenly
    spaced steps, always including ``steps``. ``(n,)`` int64, increasing."""
    tail = np.linspace(min(head, steps), steps, points).round().astype(np.int64)
    return np.unique(np.concatenate([np.arange(min(head, steps) + 1), tail, [steps]]))
