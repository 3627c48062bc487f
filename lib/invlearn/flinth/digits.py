"""MNIST digits on the 14×14 grid of the dense ρ→ρ networks (A3, A5): a module of its own, so that only the pages
that read MNIST depend on the MNIST source."""

from __future__ import annotations

import torch

__all__ = ["mnist_grid"]


def mnist_grid(n_images: int, seed: int = 0, size: int = 14) -> tuple[torch.Tensor, torch.Tensor, str]:
    """MNIST digits at ``size x size`` with pixels in [0, 1]: the test split of full MNIST when on disk (the
    authors' data), else the embedded 5,000 training digits; the first ``n_images`` of a seeded permutation, reduced
    by ``28/size x 28/size`` average pooling.

    Returns:
        ``(images (N, size, size) float32, labels (N,) int64, data label of the source)``.
    """
    from invlearn.core.data import data_label, downsample, draw_subset, load_mnist
    from invlearn.core.datasource import mnist_sizes

    raw = load_mnist("test" if mnist_sizes().get("mnist_test", 0) else "train")
    idx = draw_subset(raw.labels, n_images, seed)
    images = downsample(raw.images[idx], 28 // size)
    return torch.from_numpy(images).to(torch.float32), torch.from_numpy(raw.labels[idx]), data_label(raw)
