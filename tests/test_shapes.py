"""The simple-shapes data set of Flinth & Ohlsson's experiment A4 (``invlearn.flinth.shapes``): seeding, masks,
rasterisation geometry, the authors' published set (when ``../shared`` holds it), and per-item quarter turns."""

from pathlib import Path

import numpy as np
import pytest
import torch

from invlearn.flinth.shapes import (
    AUTHORS_WINDOW,
    SHAPE_VALUE,
    polygon_coverage,
    rotate_quarter,
    simple_shapes,
)

AUTHORS_NPZ = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eq_aug_dyn" / "simpshape.npz"


# --- (a) seeding ---------------------------------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = simple_shapes(200, seed=3), simple_shapes(200, seed=3), simple_shapes(200, seed=4)
    for name in ("image", "triangle", "pentagon", "is_triangle", "radius", "offset"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not np.array_equal(a.image, c.image)
    assert not np.array_equal(a.is_triangle, c.is_triangle)
    assert a.image.shape == a.triangle.shape == a.pentagon.shape == (200, 14, 14)
    assert a.image.dtype == a.triangle.dtype == a.pentagon.dtype == np.float32
    assert a.is_triangle.shape == a.radius.shape == (200,) and a.offset.shape == (200, 2)


def test_parameter_ranges():
    d = simple_shapes(2000, seed=1)
    assert 0.7 <= d.radius.min() and d.radius.max() <= 0.8
    assert -0.5 <= d.offset.min() and d.offset.max() <= 0.5
    # uniform, not squared, offsets: the mean |offset| of U[−½, ½] is ¼
    assert abs(np.abs(d.offset).mean() - 0.25) < 0.02, np.abs(d.offset).mean()
    assert abs(d.is_triangle.mean() - 0.5) < 0.05, d.is_triangle.mean()


# --- (b) one mask per image ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("authors_canvas", [False, True])
def test_exactly_one_nonempty_mask_absent_zeros(authors_canvas):
    d = simple_shapes(300, seed=2, authors_canvas=authors_canvas)
    t, p = d.triangle.sum((1, 2)), d.pentagon.sum((1, 2))
    assert set(np.unique(np.concatenate([d.triangle, d.pentagon]))) <= {0.0, 1.0}
    assert np.all((t > 0) == d.is_triangle) and np.all((p > 0) == ~d.is_triangle)
    assert np.all(t[~d.is_triangle] == 0) and np.all(p[d.is_triangle] == 0)
    assert np.all(t + p > 0) and np.all(np.minimum(t, p) == 0)


def test_authors_empty_masks_are_all_ones():
    d, ref = simple_shapes(300, seed=2, authors_empty_masks=True), simple_shapes(300, seed=2)
    assert np.all(d.triangle[~d.is_triangle] == 1) and np.all(d.pentagon[d.is_triangle] == 1)
    assert np.array_equal(d.triangle[d.is_triangle], ref.triangle[ref.is_triangle])
    assert np.array_equal(d.pentagon[~d.is_triangle], ref.pentagon[~ref.is_triangle])
    assert np.array_equal(d.image, ref.image)


# --- (c) masks and images agree; rasterisation geometry ------------------------------------------------------------


@pytest.mark.parametrize("authors_canvas", [False, True])
def test_mask_pixels_are_dark_and_full_pixels_are_masked(authors_canvas):
    d = simple_shapes(500, seed=5, authors_canvas=authors_canvas)
    mask = d.triangle + d.pentagon
    assert d.image[mask == 1].max() < 0.75, d.image[mask == 1].max()
    assert np.all(mask[d.image <= SHAPE_VALUE + 1e-6] == 1)  # fully covered pixels belong to the mask
    assert abs(d.image.min() - SHAPE_VALUE) < 1e-6 and d.image.max() == 1.0


def test_coverage_area_centroid_and_orientation():
    """Unclipped polygons: covered area = (m/2)·r²·sin(2π/m), coverage centroid = the centre, y up (row 0 at the top),
    the first vertex at angle 0 points right (+x, increasing column)."""
    size, s = 28, 32
    m = np.array([3, 5, 3, 5])
    r = np.array([0.5, 0.45, 0.4, 0.5])
    v = np.array([[0.3, 0.4], [-0.35, -0.2], [0.0, -0.5], [0.1, 0.1]])
    cov = polygon_coverage(m, r, v, size=size, supersample=s)
    px = size / 2  # pixels per data unit
    area = 0.5 * m * r**2 * np.sin(2 * np.pi / m) * px**2
    np.testing.assert_allclose(cov.sum((1, 2)), area, rtol=0.005)  # point sampling: error ≲ perimeter·spacing
    rows, cols = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    x = (cov * cols).sum((1, 2)) / cov.sum((1, 2)) / px - 1
    y = 1 - (cov * rows).sum((1, 2)) / cov.sum((1, 2)) / px
    np.testing.assert_allclose(np.stack([x, y], 1), v, atol=0.01)
    # x-extent of a triangle: [v − r/2, v + r] (vertex at angle 0 on the right)
    for b in (0, 2):
        covered = np.flatnonzero(cov[b].sum(0) > 0)
        left, right = covered[0] / px - 1, (covered[-1] + 1) / px - 1
        assert abs(right - (v[b, 0] + r[b])) <= 1 / px and abs(left - (v[b, 0] - r[b] / 2)) <= 1 / px, (left, right)


def test_clip_to_canvas_and_authors_window():
    # a polygon sticking out of [−1, 1]² is clipped: the covered area is at most the canvas
    cov = polygon_coverage(np.array([5]), np.array([3.0]), np.zeros((1, 2)), size=14, supersample=4)
    assert np.all(cov == 1.0)
    # the authors' window: only the central [−1, 1]² (columns within ±1/X, rows within ±1/Y of the centre) is drawn
    big = (np.array([5]), np.array([3.0]), np.zeros((1, 2)))
    cov = polygon_coverage(*big, size=14, supersample=8, window=AUTHORS_WINDOW)
    col_frac, row_frac = cov[0, 7, :].mean(), cov[0, :, 7].mean()  # the central row and column
    np.testing.assert_allclose([col_frac, row_frac], [1 / AUTHORS_WINDOW[0], 1 / AUTHORS_WINDOW[1]], atol=1 / (14 * 8))
    assert cov[0, :, :2].max() == 0 and cov[0, 7, 3:11].min() == 1  # columns 0-1 are margin, 3-10 inside the axes


# --- (d) the authors' published data set ---------------------------------------------------------------------------


def _summary(image: np.ndarray, triangle: np.ndarray, pentagon: np.ndarray) -> dict[str, float]:
    """Distribution summary of a data set whose absent mask is all ones (the authors' convention)."""
    n_pix = image.shape[-1] * image.shape[-2]
    is_tri = triangle.reshape(len(triangle), -1).sum(1) < n_pix  # the present mask is the one not full
    mask = np.where(is_tri[:, None, None], triangle, pentagon).astype(np.float64)
    count = mask.sum((1, 2))
    rows, cols = np.meshgrid(np.arange(image.shape[-2]), np.arange(image.shape[-1]), indexing="ij")
    ci, cj = (mask * rows).sum((1, 2)) / count, (mask * cols).sum((1, 2)) / count
    dark = (1.0 - image.astype(np.float64)).sum((1, 2))
    return {
        "triangle fraction": float(is_tri.mean()),
        "image min": float(image.min()),
        "mask pixels, triangle": float(count[is_tri].mean()),
        "mask pixels, pentagon": float(count[~is_tri].mean()),
        "dark area, triangle": float(dark[is_tri].mean()),
        "dark area, pentagon": float(dark[~is_tri].mean()),
        "centroid row mean": float(ci.mean()),
        "centroid col mean": float(cj.mean()),
        "centroid row std": float(ci.std()),
        "centroid col std": float(cj.std()),
        "mean triangle mask": mask[is_tri].mean(0),
        "mean pentagon mask": mask[~is_tri].mean(0),
    }


@pytest.fixture(scope="module")
def theirs() -> dict:
    if not AUTHORS_NPZ.exists():
        pytest.skip(f"the authors' data set is not at {AUTHORS_NPZ}")
    with np.load(AUTHORS_NPZ) as f:
        return _summary(f["image"], f["triangle_mask"], f["pentagon_mask"])


TOLERANCE = {  # (kind, tolerance): "abs" absolute, "rel" relative
    "triangle fraction": ("abs", 0.05),
    "image min": ("abs", 0.02),
    "mask pixels, triangle": ("rel", 0.10),
    "mask pixels, pentagon": ("rel", 0.10),
    "dark area, triangle": ("rel", 0.10),
    "dark area, pentagon": ("rel", 0.10),
    "centroid row mean": ("abs", 0.5),
    "centroid col mean": ("abs", 0.5),
    "centroid row std": ("abs", 0.5),
    "centroid col std": ("abs", 0.5),
}


def _mismatches(ours: dict, theirs: dict) -> list[str]:
    bad = []
    for key, (kind, tol) in TOLERANCE.items():
        err = abs(ours[key] - theirs[key]) / (abs(theirs[key]) if kind == "rel" else 1.0)
        if err > tol:
            bad.append(f"{key}: theirs {theirs[key]:.4f}, ours {ours[key]:.4f} ({kind} error {err:.3f} > {tol})")
    return bad


def _table(ours: dict, theirs: dict) -> str:
    return "\n".join(f"  {k:24s} theirs {theirs[k]:8.4f}  ours {ours[k]:8.4f}" for k in TOLERANCE)


def test_matches_authors_distribution(theirs):
    d = simple_shapes(3000, seed=0, authors_empty_masks=True, authors_canvas=True)
    ours = _summary(d.image, d.triangle, d.pentagon)
    bad = _mismatches(ours, theirs)
    assert not bad, "\n".join(bad) + "\n" + _table(ours, theirs)
    # the per-pixel frequency of the triangle mask: orientation (the vertex at angle 0 points right); a left-right
    # flip of our triangles gives 0.08-0.09 here
    gap = np.abs(ours["mean triangle mask"] - theirs["mean triangle mask"]).max()
    flipped = np.abs(ours["mean triangle mask"][:, ::-1] - theirs["mean triangle mask"]).max()
    assert gap < 0.06, f"triangle-mask frequency differs by {gap:.3f} per pixel (left-right flipped: {flipped:.3f})"


def test_square_canvas_is_not_the_authors_canvas(theirs):
    """The authors resized a 640 × 480 canvas whose square axes are 450 px: their shapes are smaller than on a square
    [−1, 1]² canvas by the area factor (14/2)² / ((450·14/640/2)·(450·14/480/2)) ≈ 1.52, and squeezed in x."""
    d = simple_shapes(3000, seed=0, authors_empty_masks=True, authors_canvas=False)
    ours = _summary(d.image, d.triangle, d.pentagon)
    factor = AUTHORS_WINDOW[0] * AUTHORS_WINDOW[1]
    for key in ("mask pixels, triangle", "mask pixels, pentagon", "dark area, triangle", "dark area, pentagon"):
        ratio = ours[key] / theirs[key]
        assert abs(ratio / factor - 1) < 0.05, f"{key}: square/theirs {ratio:.3f}, predicted {factor:.3f}"
    ratio = ours["centroid col std"] / ours["centroid row std"]
    assert abs(theirs["centroid col std"] / theirs["centroid row std"] - AUTHORS_WINDOW[1] / AUTHORS_WINDOW[0]) < 0.05
    assert abs(ratio - 1) < 0.05, ratio
    assert _mismatches(ours, theirs), _table(ours, theirs)


# --- (e) quarter turns ----------------------------------------------------------------------------------------------


def test_rotate_quarter_per_item_and_inverse():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(9, 2, 14, 14, generator=g)
    k = torch.tensor([0, 1, 2, 3, 4, -1, 5, 2, 1])
    y = rotate_quarter(x, k)
    assert y.shape == x.shape and y.dtype == x.dtype
    for b in range(x.shape[0]):
        assert torch.equal(y[b], torch.rot90(x[b], int(k[b]), dims=(-2, -1))), b
    assert torch.equal(rotate_quarter(y, 4 - k), x)
    assert not torch.equal(y[1], x[1])
    # images and masks rotated by the same draw stay aligned
    d = simple_shapes(16, seed=7)
    kk = torch.randint(0, 4, (16,), generator=g)
    img, tri = rotate_quarter(torch.from_numpy(d.image), kk), rotate_quarter(torch.from_numpy(d.triangle), kk)
    assert torch.all(img[tri == 1] < 0.75)
    with pytest.raises(ValueError):
        rotate_quarter(x, k[:3])
