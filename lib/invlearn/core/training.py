"""The single training engine of the book.

``train_steps`` is the one step loop for arbitrary modules (CNNs, graph networks): one optimizer step per batch,
an optional gradient transform (e.g. a projection onto an equivariant subspace) between backward and step, and
callbacks after every step. ``train`` fits the K configurations of a :class:`~invlearn.core.models.BatchedMLP` at once. The objective is the
**sum over configurations** of each configuration's own loss (data loss + its own penalty), so each
configuration's gradient is exactly the gradient of its standalone run, and Adam/SGD, being elementwise,
update it exactly as a standalone optimizer would: K batched configurations reproduce K separate runs up
to float round-off, at the cost of one.

Losses (per configuration, mean over samples as in ``torch.nn``):
* ``"mse"``: ``nn.MSELoss()`` = ``(1/(n c)) ||W X - Y||_F^2`` for ``c`` outputs (spec §9: ``1/c`` times the paper's);
* ``"ce"``: ``nn.CrossEntropyLoss()`` on the logits.
Penalty (Duan & Montúfar eq. (7)): ``λ_k ||W_k G||_F^2`` on the end-to-end matrix, one ``λ_k`` per configuration.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from invlearn.core.models import BatchedMLP
from invlearn.core.settings import PROGRESS_ENV

__all__ = [
    "TrainConfig",
    "TrainHistory",
    "train",
    "train_steps",
    "batched_loss",
    "SecondMoments",
    "linear_mse_from_moments",
    "invariance_penalty",
    "MetricLogger",
    "progress_enabled",
]

Callback = Callable[[int, BatchedMLP, torch.Tensor], None]
"""``callback(epoch, model, loss)`` after each epoch (and once with ``epoch=0`` before training); ``loss`` ``(K,)``."""


def progress_enabled() -> bool:
    """Progress bars are on unless ``INVLEARN_PROGRESS=0`` (the runner sets it so executed pages stay clean)."""
    return os.environ.get(PROGRESS_ENV, "1") != "0"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation protocol shared by all K configurations.

    Attributes:
        epochs: passes over the training set.
        loss: ``"mse"`` or ``"ce"``.
        optimizer: ``"adam"`` or ``"sgd"``.
        lr: learning rate.
        betas: Adam betas.
        momentum: SGD momentum.
        batch_size: ``None`` for full batch, else minibatch size (same shuffled order for every configuration).
        shuffle_seed: seed of the minibatch order.
        second_moments: linear networks, ``"mse"``, full batch only: evaluate the loss from the data's second
            moments (:func:`linear_mse_from_moments`) instead of the n samples. Exact; the per-epoch cost no
            longer grows with n.
    """

    epochs: int
    loss: str = "mse"
    optimizer: str = "adam"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    batch_size: int | None = None
    shuffle_seed: int = 0
    second_moments: bool = False


@dataclass
class TrainHistory:
    """Per-epoch training loss ``(epochs + 1, K)`` (row 0: before training) and wall time in seconds."""

    loss: np.ndarray
    seconds: float


def batched_loss(output: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-configuration mean loss.

    Args:
        output: ``(K, n, c)`` network outputs.
        target: ``(n, c)`` float targets for ``"mse"`` (or ``(K, n, c)``, one target set per configuration);
            ``(n,)`` int64 class labels for ``"ce"``.
    Returns:
        ``(K,)``.
    """
    if kind == "mse":
        return ((output - target) ** 2).mean(dim=(1, 2))
    if kind == "ce":
        k, n, c = output.shape
        per_sample = nn.functional.cross_entropy(
            output.reshape(k * n, c), target.repeat(k), reduction="none"
        )
        return per_sample.reshape(k, n).mean(dim=1)
    raise ValueError(f"loss must be 'mse' or 'ce', not {kind!r}")


@dataclass(frozen=True)
class SecondMoments:
    """Second moments of a data set ``x`` ``(n, d)``, ``y`` ``(n, c)``: ``S = x^T x / n`` ``(d, d)``,
    ``C = y^T x / n`` ``(c, d)`` and ``q = ||y||_F^2 / n``."""

    s: torch.Tensor
    c: torch.Tensor
    q: float

    @classmethod
    def of(cls, x: torch.Tensor, y: torch.Tensor, dtype: torch.dtype = torch.float32) -> "SecondMoments":
        """Accumulated in float64, stored in ``dtype``."""
        x64, y64 = x.to(torch.float64), y.to(torch.float64)
        n = x.shape[0]
        return cls(s=(x64.T @ x64 / n).to(dtype), c=(y64.T @ x64 / n).to(dtype), q=float((y64**2).sum() / n))


def linear_mse_from_moments(model: BatchedMLP, moments: SecondMoments) -> torch.Tensor:
    """Mean squared error of K linear networks, ``(K,)``, without touching the samples.

    With end-to-end ``W = W_L H`` (``H = W_{L-1} ... W_1 B``, ``(K, r, d)``) and ``M = H S H^T``:
    ``(1/(n c)) ||x W^T - y||_F^2 = (tr(W_L M W_L^T) - 2 tr(W_L H C^T) + q) / c``, the mean over the n × c
    entries that ``nn.MSELoss`` takes. Costs ``O(K r d^2)`` instead of ``O(K n d r)``.
    """
    if model.activation is not None:
        raise ValueError("the second-moment loss holds for linear networks only")
    last, h = model.split_last()
    m = h @ moments.s @ h.transpose(1, 2)  # (K, r, r)
    quadratic = ((last @ m) * last).sum(dim=(1, 2))
    cross = (last * (moments.c @ h.transpose(1, 2))).sum(dim=(1, 2))
    return (quadratic - 2 * cross + moments.q) / moments.c.shape[0]


def invariance_penalty(constraint: torch.Tensor, lambdas: Sequence[float]) -> Callable[[BatchedMLP], torch.Tensor]:
    """Regulariser ``λ_k ||W_k G||_F^2`` on the end-to-end matrices (Duan & Montúfar eq. (7)).

    Args:
        constraint: ``G`` of shape ``(d_0, p)``, e.g. ``I - rho(g)``.
        lambdas: ``(K,)`` strengths, one per configuration.
    Returns:
        ``penalty(model) -> (K,)``.
    """
    lam = torch.as_tensor(list(lambdas), dtype=torch.float64)

    def penalty(model: BatchedMLP) -> torch.Tensor:
        w = model.end_to_end()
        g = constraint.to(w.dtype)
        return lam.to(w.dtype) * ((w @ g) ** 2).sum(dim=(1, 2))

    return penalty


def _make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', not {cfg.optimizer!r}")


def train(
    model: BatchedMLP,
    x: torch.Tensor,
    target: torch.Tensor,
    cfg: TrainConfig,
    penalty: Callable[[BatchedMLP], torch.Tensor] | None = None,
    callbacks: Sequence[Callback] = (),
    desc: str = "train",
) -> TrainHistory:
    """Train all K configurations of ``model`` in place.

    Args:
        model: K stacked networks.
        x: ``(n, d_0)`` training inputs shared by all configurations, or ``(K, n, d_0)``: one training set per
            configuration (minibatches then take the same row indices from every set).
        target: ``(n, c)`` one-hot/float targets (``"mse"``) or ``(n,)`` labels (``"ce"``); ``(K, n, c)`` with
            per-configuration inputs.
        cfg: the optimisation protocol.
        penalty: optional ``model -> (K,)`` term added to each configuration's loss.
        callbacks: called as ``cb(epoch, model, loss)`` at epoch 0 (initialisation) and after every epoch.
    Returns:
        TrainHistory with the full-data objective (data loss + penalty) per epoch, ``(epochs + 1, K)``.
    """
    from tqdm import tqdm

    opt = _make_optimizer(model.parameters(), cfg)
    per_config = x.dim() == 3
    if per_config and (target.dim() != 3 or target.shape[:2] != x.shape[:2] or cfg.loss != "mse"):
        raise ValueError("per-configuration inputs (K, n, d_0) need mse targets of shape (K, n, c)")
    n = x.shape[-2]

    def rows(t: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return t[:, idx] if per_config else t[idx]
    shuffle = torch.Generator().manual_seed(cfg.shuffle_seed)

    full_batch = cfg.batch_size is None or cfg.batch_size >= n
    moments = None
    if cfg.second_moments:
        if cfg.loss != "mse" or not full_batch or per_config:
            raise ValueError("second_moments needs loss='mse', full batch and inputs shared by all configurations")
        moments = SecondMoments.of(x, target, dtype=model.weights[0].dtype)

    def objective(xb: torch.Tensor, tb: torch.Tensor) -> torch.Tensor:
        value = linear_mse_from_moments(model, moments) if moments is not None else batched_loss(model(xb), tb, cfg.loss)
        return value + penalty(model) if penalty is not None else value

    # One preallocated buffer: a small tensor kept per epoch would pin the freed per-epoch activations in the
    # allocator's heap (fragmentation), and the resident memory would grow by about their size every epoch.
    losses = torch.empty(cfg.epochs + 1, model.n_configs, dtype=model.weights[0].dtype)
    start = time.perf_counter()
    bar = tqdm(range(cfg.epochs + 1), desc=desc, disable=not progress_enabled(), mininterval=1.0, leave=False)
    for epoch in bar:  # log the model after `epoch` updates, then make the next update
        last = epoch == cfg.epochs
        # Full batch: the logged full-data objective is also the one the next update differentiates.
        with torch.set_grad_enabled(full_batch and not last):
            value = objective(x, target)
        losses[epoch] = value.detach()
        for cb in callbacks:
            cb(epoch, model, losses[epoch])
        if last:
            break
        if full_batch:
            opt.zero_grad(set_to_none=True)
            value.sum().backward()
            opt.step()
            continue
        order = torch.randperm(n, generator=shuffle)
        for i in range(0, n, cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            objective(rows(x, idx), rows(target, idx)).sum().backward()
            opt.step()
    bar.close()
    seconds = time.perf_counter() - start
    return TrainHistory(loss=losses.numpy(), seconds=seconds)


StepCallback = Callable[[int, nn.Module, float], None]
"""``callback(step, model, loss)``: once with ``step=0`` (loss ``nan``) before training, then after every step."""


def train_steps(
    model: nn.Module,
    batches: Iterable[object],
    loss_fn: Callable[[nn.Module, object], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    grad_transform: Callable[[nn.Module], None] | None = None,
    callbacks: Sequence[StepCallback] = (),
    desc: str = "train",
) -> np.ndarray:
    """One optimizer step per element of ``batches``: ``A <- A - lr * T(grad loss_fn(A, batch))`` for SGD.

    Args:
        model: any module (several networks trained in lockstep can be one ``nn.ModuleList``, their losses summed).
        batches: the step sequence; each element is passed to ``loss_fn`` as is (tensors, tuples, indices...).
        loss_fn: ``(model, batch) -> scalar`` objective of one step.
        optimizer: built on ``model``'s parameters.
        grad_transform: called on ``model`` after ``backward`` and before ``step``, to edit ``.grad`` in place
            (e.g. project the gradient onto ``E`` for equivariant training, ``dA = -Π_E ∇R``).
        callbacks: see ``StepCallback`` (``(step, model, loss) -> None``); step ``k`` sees the model after ``k`` updates.
    Returns:
        ``(n_steps,)`` float64 loss of every step, evaluated before its update.
    """
    from tqdm import tqdm

    for cb in callbacks:
        cb(0, model, float("nan"))
    losses: list[float] = []
    for step, batch in enumerate(tqdm(batches, desc=desc, disable=not progress_enabled(), mininterval=1.0, leave=False), 1):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model, batch)
        loss.backward()
        if grad_transform is not None:
            grad_transform(model)
        optimizer.step()
        losses.append(float(loss.detach()))
        for cb in callbacks:
            cb(step, model, losses[-1])
    return np.asarray(losses, dtype=np.float64)


class MetricLogger:
    """Callback recording named per-configuration metrics at epoch 0 and after every ``every`` epochs.

    Args:
        metrics: ``name -> fn(model) -> (K,) tensor`` (evaluated under ``torch.no_grad``).
        every: logging period in epochs.
        last: an extra epoch to log although it is off the period (pass the final epoch to always log it).
    After training, ``values[name]`` is ``(n_logged, K)`` and ``epochs`` the logged epoch numbers.
    """

    def __init__(self, metrics: dict[str, Callable[[BatchedMLP], torch.Tensor]], every: int = 1, last: int | None = None):
        self.metrics = metrics
        self.every = every
        self.last = last
        self.epochs: list[int] = []
        self._rows: dict[str, list[np.ndarray]] = {name: [] for name in metrics}

    def __call__(self, epoch: int, model: BatchedMLP, loss: torch.Tensor) -> None:
        if epoch % self.every and epoch != self.last:
            return
        self.epochs.append(epoch)
        with torch.no_grad():
            for name, fn in self.metrics.items():
                self._rows[name].append(fn(model).detach().cpu().numpy().astype(np.float64))

    @property
    def values(self) -> dict[str, np.ndarray]:
        return {name: np.stack(rows) for name, rows in self._rows.items()}
