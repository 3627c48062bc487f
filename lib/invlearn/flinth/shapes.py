"""The "simple shapes" segmentation data set of Flinth & Ohlsson's experiment A4 (arXiv 2303.13458 v1/v2), generated
from a seed with numpy and torch only.

What the authors did
--------------------
``datasets.SimpleShapes.generate_dataset`` of their repository ``usinedepain/eq_aug_dyn`` draws, per image, one shape:
a triangle or a pentagon with equal probability (``np.random.rand() > .5`` → triangle), with vertices
``r·(cos 2πk/m, sin 2πk/m)``, ``k = 0..m−1`` (``m = 3`` or ``5``, the first vertex at angle 0, so the shapes point to
the right), radius ``r = 0.7 + 0.1·U(0, 1)`` and centre ``v = 0.5 − U(0, 1)`` per coordinate (``np.random.rand(1, 2)``,
each coordinate uniform in ``[−0.5, 0.5]``). The shape is a filled ``plt.Polygon`` in matplotlib's default blue
``#1f77b4`` on axes ``(−1, 1, −1, 1)`` with equal aspect and the axis off; the figure is ``tight_layout``-ed, drawn,
read as RGB, resized to 14×14 with anti-aliasing, and the image is the mean over RGB: background 1, inside the shape
``(31 + 119 + 180)/(3·255) ≈ 0.431`` (:data:`SHAPE_VALUE`). The two masks (triangle, pentagon) are the same polygon
alone on an empty canvas, resized, normalised by ``(t − max)/(min − max)`` and thresholded at 0.5.

The bug and our choice
~~~~~~~~~~~~~~~~~~~~~~
The mask of the absent shape is an empty canvas, ``min == max``; their normalisation then falls back to ``t / max``,
which is all ones, so the absent class's mask is ALL ONES (196 pixels) instead of all zeros: every image of their
published set is labelled "everything is the other shape". We return all zeros (a correct segmentation target);
``authors_empty_masks=True`` reproduces the bug, for comparison only.

The canvas (found by comparing with the published data)
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
The authors' figures have matplotlib's default size, 6.4 × 4.8 in at 100 dpi: a 640 × 480 canvas. After
``tight_layout`` (pad 1.08 × 10 pt = 15 px) the equal-aspect axes are the square 450 × 450 px box centred in it
(x from 95 to 545 px, y from 15 to 465 px), and the whole non-square canvas is resized to 14 × 14. In their images the
shapes are therefore squeezed horizontally by 480/640 = 0.75, and a pixel row/column covers the data window
``x ∈ [−64/45, 64/45]``, ``y ∈ [−16/15, 16/15]`` (:data:`AUTHORS_WINDOW`), of which only ``[−1, 1]²`` (the axes,
which clip the patch) can be coloured. Our default is the square canvas ``[−1, 1]²`` that the construction intends
(shapes undistorted, so that a quarter turn maps the shape distribution's support onto itself up to orientation);
``authors_canvas=True`` uses the authors' window, for comparison with their published data.

Rasterisation
~~~~~~~~~~~~~
No rendering library: each pixel holds a ``supersample × supersample`` grid of sub-pixel centres; a sub-pixel is
inside the shape when it passes the m half-plane tests of the convex regular polygon,
``(x − v)·n_k ≤ r·cos(π/m)`` with outward normals ``n_k`` at angles ``2π(k + ½)/m``, and lies in the clip box
``[−1, 1]²``. The fraction inside is the pixel's coverage (box-filter anti-aliasing; the authors' resize instead
Gaussian-blurs with σ ≈ 0.49 output pixels and samples bilinearly, which is slightly blurrier at edges and corners).
Image ``= 1 − coverage·(1 − SHAPE_VALUE)``; mask of the present shape ``= coverage > 0.5`` (the authors' threshold
of the normalised mask). Pixel ``(row i, col j)``, row 0 at the TOP (the image convention of a drawn canvas):
``y = Y·(1 − (i + ½)·2/size)``, ``x = X·(−1 + (j + ½)·2/size)`` with ``X = Y = 1`` (square) or
:data:`AUTHORS_WINDOW`.

Shapes
~~~~~~
:func:`simple_shapes` returns :class:`ShapesData` with ``image``, ``triangle`` and ``pentagon`` ``(N, size, size)``
float32, ``is_triangle (N,)`` bool, ``radius (N,)`` float64, ``offset (N, 2)`` float64 (x, y of the centre).
:func:`rotate_quarter` rotates a batch ``(B, ..., size, size)`` item by item by ``k[b]`` quarter turns (images and
masks with the same draw).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "AUTHORS_WINDOW",
    "SHAPE_VALUE",
    "ShapesData",
    "polygon_coverage",
    "rotate_quarter",
    "simple_shapes",
]

SHAPE_VALUE: float = (31 + 119 + 180) / (3 * 255)
"""The grey value inside a shape, the RGB mean of matplotlib's default blue ``#1f77b4`` (≈ 0.431)."""

AUTHORS_WINDOW: tuple[float, float] = (640 / 450, 480 / 450)
"""Half-extents ``(X, Y)`` in data units of the authors' 640 × 480 px canvas, whose 450 × 450 px axes show [−1, 1]²."""


@dataclass(frozen=True)
class ShapesData:
    """A simple-shapes data set.

    Attributes:
        image: ``(N, size, size)`` float32 grey images in ``[SHAPE_VALUE, 1]``, background 1, row 0 at the top.
        triangle: ``(N, size, size)`` float32 binary mask of the triangle (zeros, or ones with the authors' bug, when
            the image holds a pentagon).
        pentagon: ``(N, size, size)`` float32 binary mask of the pentagon (likewise).
        is_triangle: ``(N,)`` bool, the image holds a triangle (else a pentagon).
        radius: ``(N,)`` float64 circumradius r in data units (the canvas is [−1, 1]²).
        offset: ``(N, 2)`` float64 centre (x, y) in data units, y pointing up.
        seed: the seed of ``numpy.random.default_rng``.
        authors_empty_masks: the absent shape's mask is all ones (the authors' bug).
        authors_canvas: drawn on the authors' 640 × 480 window (shapes squeezed horizontally by 0.75).
    """

    image: np.ndarray
    triangle: np.ndarray
    pentagon: np.ndarray
    is_triangle: np.ndarray
    radius: np.ndarray
    offset: np.ndarray
    seed: int
    authors_empty_masks: bool = False
    authors_canvas: bool = False


def _subpixel_axis(size: int, supersample: int, half: float) -> np.ndarray:
    """Sub-pixel centre coordinates along one image axis, ``(size, supersample)`` float64, in ``[−half, half]``
    increasing with the index."""
    t = (np.arange(size)[:, None] + (np.arange(supersample)[None, :] + 0.5) / supersample) * (2.0 / size)
    return half * (t - 1.0)


def polygon_coverage(
    n_vertices: np.ndarray,
    radius: np.ndarray,
    offset: np.ndarray,
    size: int = 14,
    supersample: int = 8,
    window: tuple[float, float] = (1.0, 1.0),
    chunk: int = 256,
) -> np.ndarray:
    """Fraction of each pixel covered by a filled regular polygon clipped to ``[−1, 1]²``.

    The polygon ``b`` has vertices ``offset[b] + radius[b]·(cos 2πk/m, sin 2πk/m)``, ``m = n_vertices[b]``.

    Args:
        n_vertices: ``(N,)`` int, m ≥ 3 per image.
        radius: ``(N,)`` circumradius; offset: ``(N, 2)`` centre (x, y), y up.
        size: pixels per side; supersample: sub-pixels per pixel side.
        window: half-extents ``(X, Y)`` of the data window the image shows (``(1, 1)``: the canvas ``[−1, 1]²``).
        chunk: images rasterised at once (memory ``chunk·(size·supersample)²`` floats).

    Returns:
        ``(N, size, size)`` float64 coverage in ``[0, 1]``, row 0 at the top (largest y).
    """
    n_vertices = np.asarray(n_vertices, dtype=np.int64)
    radius = np.asarray(radius, dtype=np.float64)
    offset = np.asarray(offset, dtype=np.float64).reshape(-1, 2)
    n, s = n_vertices.shape[0], supersample
    xs = _subpixel_axis(size, s, window[0]).reshape(-1)  # (size·s,) left to right
    ys = -_subpixel_axis(size, s, window[1]).reshape(-1)  # (size·s,) top to bottom
    clip = (np.abs(ys)[:, None] <= 1.0) & (np.abs(xs)[None, :] <= 1.0)  # (size·s, size·s)
    m_max = int(n_vertices.max()) if n else 3
    out = np.empty((n, size, size), dtype=np.float64)
    for lo in range(0, n, chunk):
        sl = slice(lo, min(lo + chunk, n))
        m = n_vertices[sl][:, None]  # (c, 1)
        k = np.arange(m_max)[None, :] % m  # (c, m_max): repeats harmless tests when m < m_max
        phi = 2 * np.pi * (k + 0.5) / m  # outward normal angles
        apothem = (radius[sl] * np.cos(np.pi / m[:, 0]))[:, None, None]  # (c, 1, 1)
        dx = xs[None, None, :] - offset[sl, 0][:, None, None]  # (c, 1, W)
        dy = ys[None, :, None] - offset[sl, 1][:, None, None]  # (c, H, 1)
        inside = np.broadcast_to(clip, (dx.shape[0],) + clip.shape).copy()  # (c, H, W)
        for q in range(m_max):
            c_, s_ = np.cos(phi[:, q])[:, None, None], np.sin(phi[:, q])[:, None, None]
            inside &= dx * c_ + dy * s_ <= apothem
        out[sl] = inside.reshape(-1, size, s, size, s).mean(axis=(2, 4))
    return out


def simple_shapes(
    n_images: int = 3000,
    size: int = 14,
    seed: int = 0,
    supersample: int = 8,
    authors_empty_masks: bool = False,
    authors_canvas: bool = False,
    radius_min: float = 0.7,
    radius_spread: float = 0.1,
) -> ShapesData:
    """Draw the simple-shapes segmentation set: one triangle or pentagon per image, and a binary mask per class.

    Per image, from ``numpy.random.default_rng(seed)``: triangle with probability ½, ``r = 0.7 + 0.1·U(0, 1)``,
    centre ``0.5 − U(0, 1)`` per coordinate; see the module docstring for the rasterisation.

    Args:
        n_images: N; size: pixels per side; seed: the generator's seed.
        supersample: sub-pixels per pixel side for the coverage (anti-aliasing).
        authors_empty_masks: the absent shape's mask is all ones, as in the authors' published set (their bug);
            default all zeros.
        radius_min, radius_spread: radii ``radius_min + radius_spread·U(0, 1)`` (the authors' 0.7 and 0.1).
        authors_canvas: show the authors' 640 × 480 canvas window (:data:`AUTHORS_WINDOW`, shapes squeezed
            horizontally by 0.75) instead of the square ``[−1, 1]²``.

    Returns:
        :class:`ShapesData`: ``image``, ``triangle``, ``pentagon`` ``(N, size, size)`` float32, ``is_triangle (N,)``
        bool, ``radius (N,)``, ``offset (N, 2)``.
    """
    rng = np.random.default_rng(seed)
    is_triangle = rng.random(n_images) > 0.5
    radius = radius_min + radius_spread * rng.random(n_images)
    offset = 0.5 - rng.random((n_images, 2))
    window = AUTHORS_WINDOW if authors_canvas else (1.0, 1.0)
    cover = polygon_coverage(np.where(is_triangle, 3, 5), radius, offset, size, supersample, window)
    image = (1.0 - cover * (1.0 - SHAPE_VALUE)).astype(np.float32)
    present = (cover > 0.5).astype(np.float32)
    absent = np.full_like(present, 1.0 if authors_empty_masks else 0.0)
    tri = is_triangle[:, None, None]
    return ShapesData(
        image=image,
        triangle=np.where(tri, present, absent),
        pentagon=np.where(tri, absent, present),
        is_triangle=is_triangle,
        radius=radius,
        offset=offset,
        seed=seed,
        authors_empty_masks=authors_empty_masks,
        authors_canvas=authors_canvas,
    )


def rotate_quarter(images: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Rotate item ``b`` of a batch by ``k[b]`` quarter turns (``torch.rot90`` on the last two dims: counter-clockwise
    as displayed with row 0 at the top), so images and their masks can be rotated by the same draw.

    Args:
        images: ``(B, ..., size, size)``.
        k: ``(B,)`` integer quarter turns (taken mod 4).

    Returns:
        ``(B, ..., size, size)``, same dtype and device.
    """
    if k.shape != images.shape[:1]:
        raise ValueError(f"k must have shape ({images.shape[0]},), got {tuple(k.shape)}")
    q = torch.remainder(k.to(torch.int64), 4).to(images.device)
    out = images.clone()
    for turns in range(1, 4):
        sel = q == turns
        if bool(sel.any()):
            out[sel] = torch.rot90(images[sel], turns, dims=(-2, -1))
    return out
