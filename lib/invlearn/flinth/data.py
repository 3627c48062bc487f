"""MNIST images for the C4 CNNs (A1, B1): standardised digits, the batch makers of spec §4 (plain, rotated copies,
random rotation, orbit-complete), the one-hot MSE and cross-entropy batch losses, evaluation and seeded streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from invlearn.flinth.c4cnn import rotate, rotate_each

__all__ = [
    "ImageData",
    "mnist_images",
    "BATCH_MODES",
    "n_batches",
    "make_batches",
    "mse_one_hot",
    "evaluate",
    "stream_seed",
]


@dataclass(frozen=True)
class ImageData:
    """MNIST images for the CNNs.

    Attributes:
        x: ``(N, 1, 28, 28)`` float32, normalised by ``(x/255 − mean)/std``.
        labels: ``(N,)`` int64.
        mean: scalar over all pixels of these N training images (pixels in [0, 1]).
        std: scalar over all pixels of these N training images.
        indices: ``(N,)`` indices into the source.
        source: where the digits came from.
        label: the name of the loaded data set, :func:`invlearn.core.data.data_label` of the MNIST split the digits
            were drawn from (``"MNIST (full)"`` or the embedded set's name), for ``save_results(data=...)``.
    """

    x: torch.Tensor
    labels: torch.Tensor
    mean: float
    std: float
    indices: np.ndarray
    source: str
    label: str = ""


def mnist_images(
    n: int | None = None,
    seed: int = 0,
    normalise: bool = True,
    split: str = "train",
    stats: tuple[float, float] | None = None,
    root=None,
) -> ImageData:
    """MNIST digits (full MNIST when on disk, else the embedded 5,000 training digits), permuted with ``seed``.

    Args:
        n: number of digits (default all); the first ``n`` of a seeded permutation (:func:`invlearn.core.data.draw_subset`),
            so the class-sorted embedded set is shuffled.
        normalise: standardise the pixels (A1); ``False`` keeps them in [0, 1] (B1).
        split: ``"train"`` or ``"test"`` (the test split needs full MNIST on disk).
        stats: ``(mean, std)`` to standardise with (e.g. the training digits' for test digits); default: these
            digits' own.
    """
    from invlearn.core.data import data_label, draw_subset, load_mnist

    raw = load_mnist(split, root)
    idx = draw_subset(raw.labels, raw.labels.shape[0] if n is None else n, seed)
    x = torch.from_numpy(raw.images[idx].astype(np.float64) / 255.0)
    if not normalise:
        mean, std = 0.0, 1.0
    else:
        mean, std = stats if stats is not None else (float(x.mean()), float(x.std()))
    x = ((x - mean) / std).to(torch.float32).unsqueeze(1)
    return ImageData(x=x, labels=torch.from_numpy(raw.labels[idx]), mean=mean, std=std, indices=idx, source=raw.source,
                     label=data_label(raw))


BATCH_MODES = ("plain", "rotated_copies", "random_rotation", "orbit_complete")
"""Batch makers of :func:`make_batches`:

* ``"plain"``: the images as they are (phase 1 of A1);
* ``"rotated_copies"``: the 4n-image data set ``[x, rot x, rot² x, rot³ x]`` (A1 phase 2), batches drawn from it, so
  rotations are random across batches, never orbit-complete; an epoch is 4n images;
* ``"random_rotation"``: each image rotated by an independent uniform ``k·90°`` (B1); an epoch is n images;
* ``"orbit_complete"``: ``batch_size/4`` images, each with its 4 rotations (check N3); an epoch is 4n images.
"""


def n_batches(n: int, batch_size: int, mode: str) -> int:
    """Batches per epoch of :func:`make_batches` for ``n`` images (a last partial batch counts)."""
    per_epoch = 4 * n if mode in ("rotated_copies", "orbit_complete") else n
    return -(-per_epoch // batch_size)


def make_batches(
    x: torch.Tensor,
    labels: torch.Tensor,
    *,
    batch_size: int,
    epochs: int,
    mode: str,
    generator: torch.Generator,
    shuffle: bool = True,
    max_steps: int | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x_b (b, 1, 28, 28), labels_b (b,))`` minibatches for :func:`invlearn.core.training.train_steps`.

    The batches are on the device of ``x`` and ``labels`` (one device for both). Orders and rotations are drawn from
    ``generator`` (a CPU generator) in the same sequence on every device; only the drawn indices move to that device.

    Args:
        mode: one of :data:`BATCH_MODES`.
        shuffle: a new random order every epoch (else the data order; rotations stay random).
        max_steps: stop after this many batches (``None``: ``epochs`` full epochs).
    """
    if mode not in BATCH_MODES:
        raise ValueError(f"mode must be one of {BATCH_MODES}, not {mode!r}")
    if mode == "orbit_complete" and batch_size % 4:
        raise ValueError("orbit-complete batches need a batch size divisible by 4")
    n = x.shape[0]
    step = 0
    for _ in range(epochs):
        size = 4 * n if mode == "rotated_copies" else n
        order = torch.randperm(size, generator=generator) if shuffle else torch.arange(size)
        per = batch_size // 4 if mode == "orbit_complete" else batch_size
        for start in range(0, size, per):
            if max_steps is not None and step >= max_steps:
                return
            idx = order[start : start + per].to(x.device)
            if mode == "plain":
                xb, yb = x[idx], labels[idx]
            elif mode == "rotated_copies":
                xb, yb = rotate_each(x[idx % n], idx // n), labels[idx % n]
            elif mode == "random_rotation":
                k = torch.randint(0, 4, (idx.shape[0],), generator=generator)
                xb, yb = rotate_each(x[idx], k), labels[idx]
            else:
                base = x[idx]
                xb = torch.cat([rotate(base, k) for k in range(4)])
                yb = labels[idx].repeat(4)
            step += 1
            yield xb, yb


def mse_one_hot(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """A1 loss: ``mse_loss(model(x), one_hot(y))``, the mean over batch × classes (authors' code)."""
    xb, yb = batch
    out = model(xb)
    return F.mse_loss(out, F.one_hot(yb, out.shape[-1]).to(out.dtype))


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> tuple[float, float]:
    """``(mean mse_one_hot loss, accuracy)`` of ``model`` on ``x`` ``(N, 1, 28, 28)``, ``labels`` ``(N,)``."""
    loss, correct = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start : start + batch_size], labels[start : start + batch_size]
        out = model(xb)
        loss += float(F.mse_loss(out, F.one_hot(yb, out.shape[-1]).to(out.dtype), reduction="sum")) / out.shape[-1]
        correct += int((out.argmax(1) == yb).sum())
    return loss / x.shape[0], correct / x.shape[0]


def stream_seed(*keys: int) -> int:
    """A 63-bit seed for the random stream named by integer ``keys`` (e.g. ``(run seed, purpose)``), via
    ``numpy.random.SeedSequence``: distinct keys give independent streams."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> np.uint64(1))
