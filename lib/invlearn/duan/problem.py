"""Duan & Montúfar's MNIST problem (spec §3): 1,000 seeded digits, 2×2 average-pooled to 14×14, one-hot targets,
the C4 rotation group acting on the 196 pixels, and the augmented data set; samples are rows."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
import torch

from invlearn.core.data import (
    downsample,
    data_label,
    draw_subset,
    load_mnist,
    one_hot,
    orbit_augment,
)
from invlearn.core.groups import FiniteGroup

__all__ = ["MnistProblem", "with_group", "mnist_problem"]


@dataclass(frozen=True)
class MnistProblem:
    """The Duan & Montúfar MNIST setup (spec §7), rows as samples.

    Attributes:
        x: ``(n, side²)`` flattened downsampled images.
        labels: ``(n,)`` digits 0..8.
        y: ``(n, n_classes)`` one-hot.
        x_aug: ``(|G| n, side²)``, the orbit-augmented counterpart of ``x``.
        labels_aug: ``(|G| n,)``, the orbit-augmented counterpart of ``labels``.
        y_aug: ``(|G| n, n_classes)``, the orbit-augmented counterpart of ``y``.
        group: C4 acting on ``side x side`` images.
        indices: ``(n,)`` indices of the drawn digits in the source set.
        source: where the digits came from.
        data_label: the data's name as a result file records it (:func:`invlearn.core.data.data_label` of the
            loaded digits, e.g. ``"MNIST (full)"``), for :func:`invlearn.book.results.save_results`'s ``data``.
    """

    x: torch.Tensor
    labels: torch.Tensor
    y: torch.Tensor
    x_aug: torch.Tensor
    labels_aug: torch.Tensor
    y_aug: torch.Tensor
    group: FiniteGroup
    indices: np.ndarray
    source: str
    data_label: str = ""

    @property
    def n_classes(self) -> int:
        return int(self.y.shape[1])


def with_group(problem: MnistProblem, group: FiniteGroup) -> MnistProblem:
    """The same digits with another group (representation): ``x_aug`` etc. rebuilt as ``rho(h) x`` for every
    ``h`` in ``group`` (any stack of matrices, e.g. a non-unitary representation or a subset of a group)."""
    group = FiniteGroup(rho=group.rho.to(problem.x.dtype), generators=group.generators, name=group.name)
    x_aug, labels_aug = orbit_augment(problem.x, problem.labels, group)
    y_aug = one_hot(labels_aug, problem.n_classes).to(problem.x.dtype)
    return dataclasses.replace(problem, x_aug=x_aug, labels_aug=labels_aug, y_aug=y_aug, group=group)


def mnist_problem(
    n_samples: int = 1000,
    seed: int = 0,
    exclude_digits: tuple[int, ...] = (9,),
    side: int = 14,
    dtype: torch.dtype = torch.float32,
    root: str | os.PathLike | None = None,
    exclude: np.ndarray | None = None,
) -> MnistProblem:
    """Seeded MNIST subset, downsampled to ``side x side``, with its C4 orbit augmentation.

    Digits left after ``exclude_digits`` are relabelled 0..C-1 in increasing order (for the default
    exclusion of 9 the labels stay the digits 0..8). ``exclude``: indices of training digits that may not be
    drawn (a held-out test set).
    """
    from invlearn.core.groups import c4_rotations

    raw = load_mnist("train", root)
    idx = draw_subset(raw.labels, n_samples, seed, exclude_digits=exclude_digits, exclude=exclude)
    kept = [d for d in range(10) if d not in exclude_digits]
    relabel = np.full(10, -1, dtype=np.int64)
    relabel[kept] = np.arange(len(kept))
    images = downsample(raw.images[idx], factor=28 // side)
    x = torch.from_numpy(images.reshape(n_samples, -1)).to(dtype)
    labels = torch.from_numpy(relabel[raw.labels[idx]])
    y = one_hot(labels, len(kept)).to(dtype)
    group = c4_rotations(side, dtype=dtype)
    x_aug, labels_aug = orbit_augment(x, labels, group)
    y_aug = one_hot(labels_aug, len(kept)).to(dtype)
    return MnistProblem(x, labels, y, x_aug, labels_aug, y_aug, group, idx, raw.source, data_label(raw))
