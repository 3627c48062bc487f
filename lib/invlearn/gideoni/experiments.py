"""Gideoni (2023), implicitly learned invariance and equivariance in linear regression.

Conventions (paper): inputs are rows ``x`` ``(n, d)``; a group element acts by ``x -> x g``, stored as a
:class:`~invlearn.core.groups.FiniteGroup` with ``rho(g) = g^T`` so that ``group.act(x)[h] = x g_h``. Linear models are
``f(x) = φ(x) W`` with ``φ(x) = (1, x)`` when there is a bias; ``W`` ``(p, c)`` is the transpose of a
:class:`~invlearn.core.models.BatchedMLP` layer (see :func:`linear_parameters`).

Contents:

* symmetric data with exact orbits (:func:`orbit_dataset`) and the labels of the paper's figures;
* the gradient-flow solutions, eqs. (1), (3), (5), through one solver of ``dW/dt = B - K W`` (:func:`linear_flow`),
  the exact gradient-descent recursion, and the map from SGD epochs to flow time (:func:`epoch_flow_time`);
* asymmetry losses (invariant and equivariant) on Monte-Carlo points or a midpoint grid;
* per-sample gradients of an MLP via ``torch.func`` (the empirical weights kernel, EWK), conjugate-kernel
  features, and the kernelised group representation ``g~ = argmin ||F g~ - F_g||`` of App. G.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from invlearn.core.groups import FiniteGroup, permutation_group
from invlearn.core.models import BatchedMLP

__all__ = [
    "swap_group",
    "s3_group",
    "LABELS",
    "uniform_inputs",
    "OrbitData",
    "orbit_dataset",
    "model_datasets",
    "with_constant",
    "linear_parameters",
    "set_linear_parameters",
    "swap_components",
    "swap_matrix",
    "epoch_flow_time",
    "linear_flow",
    "regression_flow",
    "invariant_flow",
    "equivariant_flow",
    "gd_recursion",
    "midpoint_grid",
    "group_outputs",
    "invariance_asymmetry",
    "equivariance_asymmetry",
    "fit_decay_rate",
    "per_sample_gradients",
    "weights_kernel",
    "kernelised_representation",
    "dead_units",
    "representation_errors",
    "LinearRun",
    "train_linear_models",
]

Labeller = Callable[[torch.Tensor], torch.Tensor]


def swap_group(dtype: torch.dtype = torch.float64) -> FiniteGroup:
    """``{I, (1 2)}`` exchanging the two coordinates of ``(x, y)``."""
    return permutation_group([[1, 0]], dtype=dtype, name="swap x <-> y")


def s3_group(dtype: torch.dtype = torch.float64) -> FiniteGroup:
    """``S_3`` permuting three coordinates (Table 1); element ``h`` maps ``x`` to ``x[:, perm_h]``."""
    return permutation_group([[1, 0, 2], [1, 2, 0]], dtype=dtype, name="S3")


LABELS: dict[str, Labeller] = {
    "abs": lambda x: x.abs(),  # |x| (Figs 1, 3): (n, 1) -> (n, 1)
    "sum": lambda x: x.sum(dim=-1, keepdim=True),  # x + y (Fig 2): (n, 2) -> (n, 1)
    "y2x2": lambda x: x.flip(-1) ** 2,  # (y², x²) (Fig 4, paper): (n, 2) -> (n, 2)
    "yx": lambda x: x.flip(-1),  # (y, x) (Fig 4, author's code)
}
"""Label functions of the paper's figures, row inputs ``(n, d)`` -> ``(n, c)``."""


def uniform_inputs(n: int, d: int, generator: torch.Generator, low: float = -1.0, high: float = 1.0,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` points drawn uniformly from ``[low, high)^d``, shape ``(n, d)``."""
    return low + (high - low) * torch.rand(n, d, generator=generator, dtype=dtype)


@dataclass(frozen=True)
class OrbitData:
    """A data set of whole orbits.

    Attributes:
        x: ``(|G| n, d)`` inputs, group-element-major: rows ``h n .. (h+1) n - 1`` hold ``x_base g_h``.
        y: ``(|G| n, c)`` labels (noise included).
        noise: ``(|G| n, c)`` the label noise that was added.
        n_base: ``n``, the number of orbits.
    """

    x: torch.Tensor
    y: torch.Tensor
    noise: torch.Tensor
    n_base: int


def orbit_dataset(
    n_base: int,
    group: FiniteGroup,
    label: Labeller,
    generator: torch.Generator,
    *,
    complete: bool = True,
    equivariant: bool = False,
    noise_std: float = 0.0,
    noise_per: str = "copy",
    dtype: torch.dtype = torch.float32,
) -> OrbitData:
    """Inputs ``U[-1, 1)^d`` with exact orbits (spec §4).

    Draws ``n_base`` base points, labels them, then stacks ``x g`` for every ``g`` in ``group`` with the label
    repeated (invariant) or transformed, ``y g`` (``equivariant``). Gaussian label noise of std ``noise_std`` is
    added after stacking: an independent draw per row (``noise_per="copy"``, the author's code, which breaks
    Assumption 1) or one draw per orbit (``"orbit"``, labels stay invariant). ``complete=False`` returns the base
    points only (Fig 2).
    """
    base = uniform_inputs(n_base, group.dim, generator, dtype=dtype)
    y_base = label(base)
    if complete:
        x = group.act(base).reshape(-1, group.dim)
        if equivariant:
            y = group.act(y_base).reshape(-1, y_base.shape[-1])
        else:
            y = y_base.repeat(group.order, 1)
    else:
        x, y = base, y_base
    if noise_per == "copy":
        noise = noise_std * torch.randn(y.shape, generator=generator, dtype=dtype)
    elif noise_per == "orbit":
        noise = (noise_std * torch.randn(y_base.shape, generator=generator, dtype=dtype)).repeat(y.shape[0] // n_base, 1)
    else:
        raise ValueError(f"noise_per must be 'copy' or 'orbit', not {noise_per!r}")
    return OrbitData(x=x, y=y + noise, noise=noise, n_base=n_base)


def model_datasets(seeds: list[int], n_base: int, group: FiniteGroup, label: Labeller, **kwargs) -> list[OrbitData]:
    """One freshly drawn :func:`orbit_dataset` per model, model ``k`` from ``torch.Generator().manual_seed(seeds[k])``."""
    return [orbit_dataset(n_base, group, label, torch.Generator().manual_seed(int(s)), **kwargs) for s in seeds]


def with_constant(x: torch.Tensor) -> torch.Tensor:
    """Features ``φ(x) = (1, x)``: ``(..., n, d)`` -> ``(..., n, d + 1)``."""
    return torch.cat([torch.ones_like(x[..., :1]), x], dim=-1)


def linear_parameters(model: BatchedMLP) -> torch.Tensor:
    """Weights of K one-layer models in the paper's convention, ``f(x) = φ(x) W``: ``(K, p, c)``.

    With a bias, row 0 of ``W`` is the bias and ``φ(x) = (1, x)``; without, ``W`` is the layer's transpose.
    """
    w = model.weights[0].transpose(1, 2)
    if model.biases is None:
        return w
    return torch.cat([model.biases[0][:, None, :], w], dim=1)


def set_linear_parameters(model: BatchedMLP, w: torch.Tensor) -> None:
    """Overwrite a one-layer model with paper-convention weights ``(K, p, c)`` (inverse of :func:`linear_parameters`)."""
    w = w.to(model.weights[0].dtype)
    with torch.no_grad():
        if model.biases is None:
            model.weights[0].copy_(w.transpose(1, 2))
        else:
            model.biases[0].copy_(w[:, 0, :])
            model.weights[0].copy_(w[:, 1:, :].transpose(1, 2))


def swap_components(w: torch.Tensor) -> dict[str, torch.Tensor]:
    """App. E components of ``W`` ``(..., 2, 2)`` (paper convention), each ``(...)``.

    ``sym_diag = (w11 + w22)/2``, ``sym_off = (w12 + w21)/2``, ``asym_diag = (w11 - w22)/2``, ``asym_off = (w12 - w21)/2``.
    The symmetric pair spans the matrices commuting with the swap (``V_G``), the asymmetric pair its complement.
    """
    return {
        "sym_diag": (w[..., 0, 0] + w[..., 1, 1]) / 2,
        "sym_off": (w[..., 0, 1] + w[..., 1, 0]) / 2,
        "asym_diag": (w[..., 0, 0] - w[..., 1, 1]) / 2,
        "asym_off": (w[..., 0, 1] - w[..., 1, 0]) / 2,
    }


def swap_matrix(sym_diag: torch.Tensor, sym_off: torch.Tensor, asym_diag: torch.Tensor, asym_off: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`swap_components`: ``W = [[s_d + a_d, s_o + a_o], [s_o - a_o, s_d - a_d]]``, ``(..., 2, 2)``."""
    row0 = torch.stack([sym_diag + asym_diag, sym_off + asym_off], dim=-1)
    row1 = torch.stack([sym_off - asym_off, sym_diag - asym_diag], dim=-1)
    return torch.stack([row0, row1], dim=-2)


def epoch_flow_time(lr: float, batch_size: int, n_samples: int, n_outputs: int) -> float:
    """Gradient-flow time of one epoch of SGD on ``nn.MSELoss`` (spec §3).

    A step on a batch of ``B`` rows and ``c`` outputs is ``W -= lr * 2/(B c) * grad(½||Y_b - X_b W||²)``; summed over
    the ``n/B`` batches of an epoch this is flow time ``τ = 2 lr / (B c)`` on the full sum loss. ``B`` is capped at
    ``n`` (a batch larger than the data set is one full-batch step).
    """
    return 2.0 * lr / (min(batch_size, n_samples) * n_outputs)


def linear_flow(k: torch.Tensor, b: torch.Tensor, w0: torch.Tensor, t: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Solution of ``dW/dt = B - K W``: ``W(t) = e^{-Kt} W_0 + (I - e^{-Kt}) K^† B`` (eqs. 1, 3, 5), in float64.

    Args:
        k: ``(..., p, p)`` symmetric positive semi-definite.
        b: ``(..., p, c)``, in the range of ``K`` (true for ``X^T y``, ``R^T X^T y``, ``C_G``).
        w0: ``(..., p, c)`` initial weights.
        t: ``(T,)`` times.
    Returns:
        ``(T, ..., p, c)``.
    """
    k, b, w0 = (a.to(torch.float64) for a in (k, b, w0))
    t = torch.as_tensor(np.asarray(t), dtype=torch.float64)
    lam, v = torch.linalg.eigh(k)
    tol = lam.amax(dim=-1, keepdim=True) * k.shape[-1] * torch.finfo(torch.float64).eps
    pos = lam > tol
    inv = torch.where(pos, 1.0 / torch.where(pos, lam, torch.ones_like(lam)), torch.zeros_like(lam))
    vt = v.transpose(-1, -2)
    a0 = vt @ w0  # (..., p, c) initial weights in the eigenbasis
    fixed = (inv[..., None] * (vt @ b))  # K^† B in the eigenbasis
    decay = torch.exp(-lam[None] * t.reshape(-1, *([1] * lam.dim())))  # (T, ..., p)
    coef = decay[..., None] * a0[None] + (1 - decay[..., None]) * fixed[None]
    return v[None] @ coef


def regression_flow(features: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, t) -> torch.Tensor:
    """Eq. (1) on the full design: ``K = A^T A``, ``B = A^T y``. ``features`` ``(..., n, p)``, ``y`` ``(..., n, c)``."""
    a = features.to(torch.float64)
    return linear_flow(a.transpose(-1, -2) @ a, a.transpose(-1, -2) @ y.to(torch.float64), w0, t)


def _paper_elements(group: FiniteGroup) -> torch.Tensor:
    """The paper's matrices ``g`` (acting ``x -> x g``) of a group stored with ``rho(g) = g^T``: ``(|G|, d, d)``."""
    return group.rho.transpose(1, 2).to(torch.float64)


def invariant_flow(reps: torch.Tensor, y: torch.Tensor, group: FiniteGroup, w0: torch.Tensor, t) -> torch.Tensor:
    """Eq. (3): one representative per orbit, ``K_G = Σ_g g^T X^T X g``, ``B = R^T X^T y``, ``R = Σ_g g``.

    Args:
        reps: ``(n, p)`` features of one representative per orbit; ``group`` acts on these ``p`` features.
        y: ``(n, c)``; w0: ``(p, c)``.
    """
    g = _paper_elements(group)
    x = reps.to(torch.float64)
    xg = x @ g  # (|G|, n, p)
    k_g = (xg.transpose(1, 2) @ xg).sum(0)
    r = g.sum(0)
    return linear_flow(k_g, r.T @ x.T @ y.to(torch.float64), w0, t)


def equivariant_flow(reps: torch.Tensor, y: torch.Tensor, group: FiniteGroup, w0: torch.Tensor, t) -> torch.Tensor:
    """Eq. (5): ``K_G = Σ_g g^T X^T X g``, ``C_G = Σ_g g^T X^T Y g``; ``reps`` ``(n, d)``, ``y`` ``(n, d)``, ``w0`` ``(d, d)``."""
    g = _paper_elements(group)
    x, yy = reps.to(torch.float64), y.to(torch.float64)
    xg = x @ g
    k_g = (xg.transpose(1, 2) @ xg).sum(0)
    c_g = (g.transpose(1, 2) @ x.T @ yy @ g).sum(0)
    return linear_flow(k_g, c_g, w0, t)


def gd_recursion(features: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, step: float, steps: int) -> torch.Tensor:
    """Exact full-batch gradient descent ``W <- W - step * A^T (A W - y)`` in float64: ``(steps + 1, ..., p, c)``.

    For ``nn.MSELoss`` on ``n`` rows and ``c`` outputs at learning rate ``lr``, ``step = 2 lr / (n c)``.
    """
    a, yy, w = features.to(torch.float64), y.to(torch.float64), w0.to(torch.float64)
    at = a.transpose(-1, -2)
    out = [w]
    for _ in range(steps):
        w = w - step * (at @ (a @ w - yy))
        out.append(w)
    return torch.stack(out)


def midpoint_grid(d: int, m: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The ``m^d`` midpoints of a regular grid on ``[-1, 1]^d``, ``(m^d, d)``: a deterministic stand-in for
    ``U[-1, 1]^d`` in expectations (exact for piecewise-linear integrands such as ``|x|`` when ``m`` is even)."""
    axis = -1 + (2 * torch.arange(m, dtype=dtype) + 1) / m
    return torch.cartesian_prod(*([axis] * d)).reshape(-1, d)


def group_outputs(model: Callable[[torch.Tensor], torch.Tensor], group: FiniteGroup, x: torch.Tensor,
                  acted: torch.Tensor | None = None) -> torch.Tensor:
    """``f(x g_h)`` for every group element: ``x`` ``(n, d)`` -> ``(|G|, K, n, c)`` for a K-model ``f``.

    ``acted``: ``group.act(x)`` when already computed (fixed evaluation points)."""
    return torch.stack([model(xh) for xh in (group.act(x) if acted is None else acted)])


def invariance_asymmetry(outputs: torch.Tensor) -> torch.Tensor:
    """Asymmetry loss ``E_x |f(x) - E_g f(x g)|`` (§5, Haar average incl. the identity).

    Args:
        outputs: ``(|G|, ..., n, 1)`` from :func:`group_outputs` (element 0 the identity).
    Returns:
        ``(...)`` mean over the ``n`` points.
    """
    return (outputs[0] - outputs.mean(dim=0)).abs().mean(dim=(-2, -1))


def equivariance_asymmetry(outputs: torch.Tensor, group: FiniteGroup) -> torch.Tensor:
    """Equivariant asymmetry loss of the author's code: ``E_x ||(f(x) g - f(x g))_{g in G}||_2`` (norm of the stack).

    For the swap this is ``E ||f(x) P - f(x P)||``, twice the Haar analogue ``E ||f(x) - E_g f(x g) g^{-1}||``.

    Args:
        outputs: ``(|G|, ..., n, c)`` from :func:`group_outputs`; ``group`` acts on the ``c`` outputs too.
    Returns:
        ``(...)``.
    """
    transformed = group.act(outputs[0])  # f(x) g_h, (|G|, ..., n, c)
    sq = ((transformed - outputs) ** 2).sum(dim=(0, -1))
    return sq.sqrt().mean(dim=-1)


def fit_decay_rate(epochs: np.ndarray, values: np.ndarray, above: float = 0.0) -> float:
    """Least-squares rate ``r`` of ``values ≈ C e^{-r epochs}``, fitted on the points where ``values > above``."""
    epochs, values = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    keep = values > above
    if keep.sum() < 2:
        return float("nan")
    slope = np.polyfit(epochs[keep], np.log(values[keep]), 1)[0]
    return float(-slope)


def per_sample_gradients(model: BatchedMLP, x: torch.Tensor, chunk: int = 10_000) -> torch.Tensor:
    """``∇_θ f(x_i)`` for a single scalar-output network (K = 1), via ``torch.func.vmap(grad)``.

    Parameters are flattened layer by layer as ``nn.Linear`` stores them (``W_1``, ``b_1``, ``W_2``, ``b_2``, ...),
    each row-major. ``x`` ``(n, d_0)`` -> ``(n, P)`` in the model's dtype.
    """
    from torch.func import functional_call, grad, vmap

    if model.n_configs != 1 or model.dims[-1] != 1:
        raise ValueError("per-sample gradients need one configuration with a scalar output")
    names = []
    for j in range(len(model.weights)):
        names.append(f"weights.{j}")
        if model.biases is not None:
            names.append(f"biases.{j}")
    params = {name: p.detach() for name, p in model.named_parameters()}
    params = {name: params[name] for name in names}

    def f(p: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, p, (xi[None, None, :],)).reshape(())

    per_sample = vmap(grad(f), in_dims=(None, 0))
    blocks = []
    for start in range(0, x.shape[0], chunk):
        g = per_sample(params, x[start : start + chunk].to(model.weights[0].dtype))
        blocks.append(torch.cat([g[name].reshape(g[name].shape[0], -1) for name in names], dim=1))
    return torch.cat(blocks)


def weights_kernel(model: BatchedMLP, x: torch.Tensor, chunk: int = 10_000) -> torch.Tensor:
    """Empirical weights kernel (App. F.2) ``Σ_i ∇_θ f(x_i) ∇_θ f(x_i)^T`` (a sum), ``(P, P)``, accumulated in chunks."""
    p = sum(t.numel() for t in model.parameters())
    ewk = torch.zeros(p, p, dtype=model.weights[0].dtype)
    for start in range(0, x.shape[0], chunk):
        j = per_sample_gradients(model, x[start : start + chunk], chunk=chunk)
        ewk += j.T @ j
    return ewk


def kernelised_representation(f: torch.Tensor, f_g: torch.Tensor, solver: str = "lstsq64") -> torch.Tensor:
    """App. G: ``g~ = (F^T F)^† F^T F_g``, the least-squares map with ``F g~ ≈ F_g``; ``(N, P)`` x2 -> ``(P, P)``.

    ``solver="lstsq64"``: SVD-based least squares on ``F`` in float64 (stable). ``"normal32"``: the author's float32
    normal equations, ``torch.linalg.lstsq(F^T F, F^T F_g)`` with the CPU default driver ``gelsy`` (QR with column
    pivoting; columns of ``F^T F`` below ``rcond = eps_32 * P`` of the largest are treated as zero, so a singular
    ``F^T F`` does not raise, it only loses those directions). Columns of ``F_g`` are solved independently, so one
    call for several group elements equals one call per element.
    """
    if solver == "lstsq64":
        return torch.linalg.lstsq(f.to(torch.float64), f_g.to(torch.float64), driver="gelsd").solution
    if solver == "normal32":
        a, b = f.to(torch.float32), f_g.to(torch.float32)
        return torch.linalg.lstsq(a.T @ a, a.T @ b, driver="gelsy").solution.to(torch.float64)
    raise ValueError(f"solver must be 'lstsq64' or 'normal32', not {solver!r}")


def dead_units(weights: torch.Tensor, biases: torch.Tensor, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
    """Number of ReLU units that never fire on the box ``[low, high]^d`` (their pre-activation's maximum ≤ 0).

    Each dead unit contributes 5 exactly-zero EWK eigenvalues for ``d = 3`` (its 3 input weights, bias and output
    weight have zero gradient on every input; Fig. 5).

    Args:
        weights: ``(K, h, d)`` first-layer weights of ``K`` networks; biases: ``(K, h)``.
    Returns:
        ``(K,)`` integer counts.
    """
    top = biases + torch.maximum(weights * low, weights * high).sum(dim=-1)  # max of w.x + b over the box, (K, h)
    return (top <= 0).sum(dim=-1)


def representation_errors(f: torch.Tensor, f_g: torch.Tensor, g_tilde: torch.Tensor) -> tuple[float, float]:
    """Table 1 errors ``(||F - F_g||_F / N, ||F g~ - F_g||_F / N)`` (the author's Frobenius-over-N metric)."""
    f, f_g, g_tilde = (a.to(torch.float64) for a in (f, f_g, g_tilde))
    n = f.shape[0]
    return float(torch.linalg.matrix_norm(f - f_g) / n), float(torch.linalg.matrix_norm(f @ g_tilde - f_g) / n)


@dataclass
class LinearRun:
    """Per-epoch logs of K linear models trained side by side, each on its own data set.

    Attributes:
        epochs: ``(T,)`` epochs completed, ``0`` = initialisation.
        weights: ``(T, K, p, c)`` paper-convention weights (row 0 of ``p`` the bias when there is one).
        asym_mc: ``(T, K)`` asymmetry loss on ``mc_points`` fresh ``U[-1, 1)^d`` points per epoch (the paper's estimate).
        asym_exact: ``(T, K)`` the same expectation on a fine midpoint grid (no Monte-Carlo jitter).
        x: ``(K, N, d)`` and y: ``(K, N, c)`` the training sets.
        seconds: training wall time.
    """

    epochs: np.ndarray
    weights: np.ndarray
    asym_mc: np.ndarray
    asym_exact: np.ndarray
    x: torch.Tensor
    y: torch.Tensor
    seconds: float


def train_linear_models(
    datasets: list[OrbitData],
    seeds: list[int],
    group: FiniteGroup,
    *,
    equivariant: bool = False,
    bias: bool = True,
    epochs: int = 100,
    lr: float = 1e-2,
    batch_size: int = 100,
    init: torch.Tensor | None = None,
    mc_points: int = 100,
    mc_seed: int = 0,
    grid_size: int | None = None,
    shuffle_seed: int = 0,
) -> LinearRun:
    """Train one linear layer per data set with plain SGD on ``nn.MSELoss`` (the shared engine) and log every epoch.

    Args:
        datasets: K training sets (inputs ``(N, d)``, labels ``(N, c)``); model k trains on ``datasets[k]``.
        seeds: K initialisation seeds (PyTorch's default ``nn.Linear`` init).
        group: acts on the inputs (and, if ``equivariant``, on the outputs).
        init: optional ``(K, p, c)`` paper-convention weights replacing the default init.
        grid_size: points per axis of the exact-expectation grid (default 1000 in 1-d, exact for ``|x|``; 100 in 2-d).
    """
    from invlearn.core.training import MetricLogger, TrainConfig, train

    x = torch.stack([d.x for d in datasets])
    y = torch.stack([d.y for d in datasets])
    d, c = x.shape[-1], y.shape[-1]
    model = BatchedMLP((d, c), seeds, bias=bias, dtype=x.dtype)
    if init is not None:
        set_linear_parameters(model, init)
    grid = midpoint_grid(d, grid_size or (1000 if d == 1 else 100), dtype=x.dtype)
    mc_gen = torch.Generator().manual_seed(mc_seed)

    grid_acted = group.act(grid)

    def asymmetry(points: torch.Tensor) -> Callable[[BatchedMLP], torch.Tensor]:
        def fn(m: BatchedMLP) -> torch.Tensor:
            if points is None:
                out = group_outputs(m, group, uniform_inputs(mc_points, d, mc_gen, dtype=x.dtype))
            else:
                out = group_outputs(m, group, points, acted=grid_acted)
            return equivariance_asymmetry(out, group) if equivariant else invariance_asymmetry(out)
        return fn

    logger = MetricLogger({
        "weights": lambda m: linear_parameters(m).clone(),
        "asym_mc": asymmetry(None),
        "asym_exact": asymmetry(grid),
    })
    cfg = TrainConfig(epochs=epochs, loss="mse", optimizer="sgd", lr=lr, batch_size=batch_size, shuffle_seed=shuffle_seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tensors of a few thousand entries: extra threads only add synchronisation (10x slower)
    try:
        history = train(model, x, y, cfg, callbacks=[logger], desc="linear")
    finally:
        torch.set_num_threads(threads)
    values = logger.values
    return LinearRun(
        epochs=np.asarray(logger.epochs), weights=values["weights"], asym_mc=values["asym_mc"],
        asym_exact=values["asym_exact"], x=x, y=y, seconds=history.seconds,
    )
