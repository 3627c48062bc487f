"""Dense ρ→ρ networks on image grids (Flinth & Ohlsson A3–A5): projections, group actions, equivariance, training
modes and the page-level checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from invlearn.flinth import dense

N = 6  # a small grid: P = 36 pixels


def fft_circulant_2d(w: torch.Tensor, n: int) -> torch.Tensor:
    """The authors' projection for 2-D translations, written independently: conjugate each (P, P) map by the 2-D DFT,
    keep the diagonal, transform back. ``w`` ``(..., P, P)``."""
    lead = w.shape[:-2]
    a = w.reshape(*lead, n, n, n, n).to(torch.complex128)
    a = torch.fft.ifft2(torch.fft.fft2(a, dim=(-2, -1)), dim=(-4, -3))
    d = torch.diag_embed(torch.diagonal(a.reshape(*lead, n * n, n * n), dim1=-2, dim2=-1))
    a = torch.fft.fft2(torch.fft.ifft2(d.reshape(*lead, n, n, n, n), dim=(-2, -1)), dim=(-4, -3))
    return a.real.reshape(*lead, n * n, n * n)


def fft_circulant_1d(w: torch.Tensor, n: int) -> torch.Tensor:
    """The same along x only (the authors' ``OneDTranslationNet.project``)."""
    lead = w.shape[:-2]
    a = w.reshape(*lead, n, n, n, n).to(torch.complex128)
    a = torch.fft.ifft(torch.fft.fft(a, dim=-1), dim=-3)
    a = torch.diag_embed(torch.diagonal(a, dim1=-1, dim2=-3), dim1=-1, dim2=-3)
    a = torch.fft.fft(torch.fft.ifft(a, dim=-1), dim=-3)
    return a.real.reshape(*lead, n * n, n * n)


def rotation_average(w: torch.Tensor, n: int) -> torch.Tensor:
    """Explicit average over the four simultaneous rotations of the output and input grids."""
    lead = w.shape[:-2]
    a = w.reshape(*lead, n, n, n, n)
    out = torch.zeros_like(a)
    for k in range(4):
        out += torch.rot90(torch.rot90(a, k, dims=(-4, -3)), k, dims=(-2, -1))
    return (out / 4).reshape(w.shape)


@pytest.fixture(scope="module")
def weights() -> torch.Tensor:
    return torch.randn(3, 2, N * N, N * N, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_translation_projection_is_the_fft_circulant_part(weights):
    pairs2, _ = dense.grid_projectors("translation2d", N)
    pairs1, _ = dense.grid_projectors("translation1d", N)
    assert torch.allclose(pairs2.project(weights), fft_circulant_2d(weights, N), atol=1e-12)
    assert torch.allclose(pairs1.project(weights), fft_circulant_1d(weights, N), atol=1e-12)
    assert not torch.allclose(pairs1.project(weights), pairs2.project(weights), atol=1e-3)


def test_c4_and_p4_projections(weights):
    pairs_c4, _ = dense.grid_projectors("c4", N)
    pairs_p4, _ = dense.grid_projectors("p4", N)
    pairs_t, _ = dense.grid_projectors("translation2d", N)
    assert torch.allclose(pairs_c4.project(weights), rotation_average(weights, N), atol=1e-12)
    # p4: translation projection then rotation projection (the authors' composition)
    assert torch.allclose(pairs_p4.project(weights), pairs_c4.project(pairs_t.project(weights)), atol=1e-12)


@pytest.mark.parametrize("group", dense.GROUPS)
def test_projections_are_orthogonal_projections(group, weights):
    for proj, w in zip(dense.grid_projectors(group, N), (weights, weights[..., 0, :])):
        p = proj.project(w)
        assert torch.allclose(proj.project(p), p, atol=1e-12)  # idempotent
        other = torch.randn_like(w)
        # self-adjoint: <Pw, v> = <w, Pv>
        assert torch.isclose((p * other).sum(), (w * proj.project(other)).sum(), atol=1e-9)


@pytest.mark.parametrize("group", dense.GROUPS)
def test_projected_network_is_invariant(group):
    gen = torch.Generator().manual_seed(1)
    net = dense.init_dense_net(dense.DenseGridNet(N, [2, 3], "classification", features=5), group, gen).double()
    x = torch.rand(8, N, N, generator=gen, dtype=torch.float64)
    elems = dense.random_elements(group, 8, N, gen)
    y0 = net(x.flatten(-2))
    y1 = net(dense.act_on_images(x, elems).flatten(-2))
    assert torch.allclose(y0, y1, atol=1e-10)
    # nominal layers are not invariant: the check can fail
    with torch.no_grad():
        net.rho[0].add_(0.3 * torch.randn(net.rho[0].shape, generator=gen, dtype=torch.float64))
    y2 = net(x.flatten(-2)) - net(dense.act_on_images(x, elems).flatten(-2))
    moved = (elems != 0).any(dim=1)
    assert y2[moved].abs().max() > 1e-6


def test_projected_segmentation_network_is_equivariant():
    gen = torch.Generator().manual_seed(2)
    net = dense.init_dense_net(dense.DenseGridNet(N, [2, 2, 2], "segmentation"), "c4", gen).double()
    x = torch.rand(4, N, N, generator=gen, dtype=torch.float64)
    elems = torch.tensor([[0, 0, k] for k in range(4)])
    out = net(x.flatten(-2)).reshape(4, 2, N, N)
    out_rot = net(dense.act_on_images(x, elems).flatten(-2)).reshape(4, 2, N, N)
    assert torch.allclose(out_rot, dense.act_on_images(out, elems), atol=1e-10)


def test_group_elements_and_action():
    gen = torch.Generator().manual_seed(3)
    elems = dense.random_elements("p4", 4000, N, gen)
    assert elems[:, :2].min() == 0 and elems[:, :2].max() == N - 1 and set(elems[:, 2].tolist()) == {0, 1, 2, 3}
    counts = np.bincount(elems[:, 2].numpy(), minlength=4)
    assert counts.min() > 900  # uniform over the four rotations (1000 expected each)
    assert (dense.random_elements("translation1d", 50, N, gen)[:, [0, 2]] == 0).all()
    x = torch.arange(2 * N * N, dtype=torch.float64).reshape(2, N, N)
    e = torch.tensor([[1, 2, 1], [0, 0, 3]])
    out = dense.act_on_images(x, e)
    assert torch.equal(out[0], torch.rot90(torch.roll(x[0], (1, 2), (0, 1)), 1, (0, 1)))
    assert torch.equal(out[1], torch.rot90(x[1], 3, (0, 1)))


def _images(count: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(count, N, N, generator=gen), torch.randint(0, 10, (count,), generator=gen)


@pytest.mark.parametrize("group", ["translation2d", "p4"])
def test_training_modes(group):
    x, y = _images()
    runs = dense.train_dense_runs(x, y, group, [0, 1], widths=[2, 2], features=4, steps=6, aug_passes=8,
                                  extra_passes=[1], block=5, lr=1e-2)
    assert runs.modes == ("equivariant", "augmented", "nominal", "augmented (L = 1)")
    assert runs.perp.shape == (2, 7, 4) and runs.loss.shape == (2, 6, 4)
    assert runs.perp[:, :, 0].max() <= 1e-12  # equivariant training stays in E
    assert (runs.perp[:, 0] == 0).all() and (runs.distance[:, 0] == 0).all()
    assert (runs.perp[:, -1, 2] > runs.perp[:, -1, 1]).all()  # nominal leaves E faster (random labels: no margin)
    again = dense.train_dense_runs(x, y, group, [0, 1], widths=[2, 2], features=4, steps=6, aug_passes=8,
                                   extra_passes=[1], block=5, lr=1e-2)
    assert np.array_equal(runs.perp, again.perp)  # seeded


def test_augmented_step_is_the_orbit_average_with_every_element():
    """With every group element once per pass and a block per image, augmented = orbit-averaged gradient, which on
    E has no E⊥ part (the orbit-average lemma): the augmented E⊥ noise vanishes with orbit-complete data."""
    x, y = _images(10)
    gen = torch.Generator().manual_seed(4)
    net = dense.init_dense_net(dense.DenseGridNet(N, [2], "classification", features=3), "c4", gen).double()
    xs = torch.cat([dense.act_on_images(x.double(), torch.tensor([[0, 0, k]] * 10)) for k in range(4)])
    net.zero_grad()
    dense.task_loss(net, xs.flatten(-2), y.repeat(4)).backward()
    for w, proj in zip(net.measured(), dense.measured_projectors(net, "c4")):
        g = w.grad.double()
        assert (g - proj.project(g)).norm() <= 1e-12 * max(1.0, g.norm())
    net.zero_grad()
    dense.task_loss(net, x.double().flatten(-2), y).backward()
    raw = net.measured()[0].grad
    assert (raw - dense.measured_projectors(net, "c4")[0].project(raw)).norm() > 1e-6


def _fake_runs(final: dict[str, float]) -> dense.DenseRuns:
    modes = tuple(final)
    perp = np.zeros((3, 2, len(modes)))
    perp[:, -1] = [final[m] for m in modes]
    passes = np.array([{"equivariant": 0, "augmented": 8, "nominal": 0}.get(m, 2) for m in modes])
    return dense.DenseRuns(modes=modes, passes=passes, distance=np.ones_like(perp), perp=perp, perp_code=perp,
                           loss=np.zeros((3, 1, len(modes))), seeds=np.arange(3), seconds=np.zeros(3))


def test_path_checks_can_fail():
    good = _fake_runs({"equivariant": 0.0, "augmented": 1e-4, "nominal": 5e-3, "augmented (L = 2)": 2e-4})
    assert all(dense.path_checks(good, 1e-6, 10.0).values())
    bad = _fake_runs({"equivariant": 1e-3, "augmented": 1e-3, "nominal": 5e-3, "augmented (L = 2)": 5e-4})
    outcome = dense.path_checks(bad, 1e-6, 10.0)
    assert not any(outcome.values()) and len(outcome) == 3
    law = dense.passes_law(good, np.array([1.0, 0.7, 0.58, 0.5]), 0.25)
    assert law[2][0] is True
    off = dense.passes_law(bad, 1.0 / np.arange(1, 5) ** 0.2, 0.25)
    assert off[2][0] is False and "L^-0.20" in off[2][2]


def test_pass_seconds_is_positive_and_grows_with_width():
    small = dense.pass_seconds([1, 1], n=N, batch=4, repeats=1)
    big = dense.pass_seconds([16, 16], n=14, batch=4, repeats=1)
    assert 0 < small < big
