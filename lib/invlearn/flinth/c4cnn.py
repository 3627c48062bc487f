"""C4-invariant CNNs on 28×28 images with kernel supports Ω (Flinth & Ohlsson v3+; Nordenfors & Flinth).

Spec §3 of ``flinth_nordenfors.md``. The group C4 acts by 90° rotations (``torch.rot90`` on the last two dims) on
images ``(B, C, 28, 28)``, on 3×3 kernels ``(out, in, 3, 3)`` and on the 7×7 weight maps of the final linear layer
``(n_classes, C, 7, 7)``. Every layer ``l`` is materialised from coefficients through a fixed basis,

    W_l = Σ_m c_l[..., m] B_{l,m},    c_l of shape (out, in, m_l),  B_l of shape (m_l, s, s),

so one class covers all parametrisations of the chapter:

* ``"equivariant"``: ``B_l`` = the orthonormal C4-orbit indicators inside ``Ω'`` = ∩_g gΩ (mid 1 at the centre, side
  ½ on the 4 edges, corner ½ on the 4 corners; a basis element leaving Ω is dropped, i.e. its coefficient is fixed
  at 0). Linear layer: the 12 four-point orbits (½ each) and the centre of each 7×7 map. The net lies in
  ``E = H_G ∩ L`` and plain SGD on ``c`` is the equivariant flow ``dA = -Π_E ∇R``.
* ``"pixel"``: one coefficient per support pixel (unitary, ``MM* = Π_L``); the linear layer is a plain dense map.
* ``"random"`` (non-unitary): per conv layer one Gaussian ``|Ω|×|Ω|`` matrix ``C``, ``B_i = Σ_j C_ij e_j / ‖·‖_F``;
  the linear layer is a plain dense map as in the authors' code. ``MM* ≠ Π_L``: it does not commute with the twirl.

``Π_E`` of every layer is an :class:`invlearn.core.groups.OrbitProjector` (support mask Ω for the kernels, none for the
linear maps), and the distance to E is ``(Σ_l ‖W_l − Π_E W_l‖_F²)^{1/2}`` on the materialised weights in float64.

Architecture (no biases): Conv(1→c₁) → AvgPool2 → tanh → LayerNorm(14×14) → Conv(c₁→c₂) → AvgPool2 → tanh →
LayerNorm(7×7) → [Conv(cᵢ→cᵢ₊₁) → tanh → LayerNorm(7×7)]* → flatten → Linear(c·49 → n_classes); LayerNorm without
affine parameters. ``widths = (32, 64, 64)`` is A1, ``(16, 16)`` is B1.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from invlearn.core.groups import OrbitProjector, rotation_permutation

__all__ = [
    "SUPPORTS",
    "PARAMETRISATIONS",
    "support_mask",
    "rotate",
    "rotate_each",
    "kernel_projector",
    "map_projector",
    "pixel_basis",
    "random_basis",
    "BasisLayer",
    "pooled_conv",
    "C4CNN",
    "c4_cnn",
    "count_parameters",
    "set_weights",
    "load_equivariant",
    "perp_norm_sq",
    "layer_distances",
    "distance_to_e",
    "step_directions",
    "DistanceLog",
    "perturb_off_e",
    "StackedC4CNN",
    "StackedDistanceLog",
]

SUPPORTS: dict[str, np.ndarray] = {
    "cross": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool),
    "skew": np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool),
    "full": np.ones((3, 3), dtype=bool),
}
"""The 3×3 kernel supports Ω by name.

Cross: centre + 4 edges (C4-invariant). Skew: 4 edges + corner (0, 0), no centre (not
invariant: ``Ω' = ∩_g gΩ`` is the 4 edges). Full: all 9 pixels (B1)."""

PARAMETRISATIONS = ("equivariant", "pixel", "random")
"""Bases of :func:`c4_cnn` (module docstring)."""


def support_mask(support: str | np.ndarray) -> np.ndarray:
    """``(3, 3)`` bool mask Ω from a name in :data:`SUPPORTS` or a mask."""
    if isinstance(support, str):
        if support not in SUPPORTS:
            raise ValueError(f"support must be one of {sorted(SUPPORTS)}, not {support!r}")
        return SUPPORTS[support].copy()
    mask = np.asarray(support, dtype=bool)
    if mask.shape != (3, 3):
        raise ValueError(f"a support mask has shape (3, 3), not {mask.shape}")
    return mask


def rotate(x: torch.Tensor, k: int = 1) -> torch.Tensor:
    """The C4 action ``rot90`` by ``k`` quarter turns on the last two dims: images ``(B, C, n, n)``, kernels
    ``(out, in, 3, 3)``, linear maps ``(n_classes, C, 7, 7)``. Same shape."""
    return torch.rot90(x, k % 4, dims=(-2, -1))


def rotate_each(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Rotate sample ``b`` of ``x`` ``(B, ...)`` by ``k[b]`` quarter turns; ``k`` ``(B,)`` int64 in 0..3 (on any
    device; the result is on ``x``'s)."""
    stack = torch.stack([rotate(x, j) for j in range(4)])  # (4, B, ...)
    return stack[k.to(x.device), torch.arange(x.shape[0], device=x.device)]


def kernel_projector(support: str | np.ndarray = "full") -> OrbitProjector:
    """``Π_E`` of a 3×3 kernel with support Ω: twirl over C4, then zero every orbit leaving Ω (keeps Ω' = ∩_g gΩ)."""
    return OrbitProjector.from_generators([rotation_permutation(3, 1)], (3, 3), support=support_mask(support))


def map_projector(size: int = 7) -> OrbitProjector:
    """``Π_E`` of the linear layer: each ``size×size`` weight map averaged over its 4 rotations."""
    return OrbitProjector.from_generators([rotation_permutation(size, 1)], (size, size))


def pixel_basis(support: np.ndarray) -> torch.Tensor:
    """Pixel indicators of the support, ``(|Ω|, s, s)`` float64, row-major order of the pixels (orthonormal)."""
    mask = np.asarray(support, dtype=bool)
    idx = np.flatnonzero(mask.reshape(-1))
    basis = torch.zeros(idx.size, mask.size, dtype=torch.float64)
    basis[torch.arange(idx.size), torch.from_numpy(idx)] = 1.0
    return basis.reshape(idx.size, *mask.shape)


def random_basis(support: np.ndarray, generator: torch.Generator) -> torch.Tensor:
    """Non-orthogonal basis of the support: ``B_i = Σ_j C_ij e_j / ‖Σ_j C_ij e_j‖_F``, ``C`` ``(|Ω|, |Ω|)`` i.i.d.
    N(0, 1), ``e_j`` the pixel indicators. Returns ``(|Ω|, s, s)`` float64."""
    pix = pixel_basis(support)
    m = pix.shape[0]
    c = torch.randn(m, m, generator=generator, dtype=torch.float64)
    c = c / c.norm(dim=1, keepdim=True)  # the pixel basis is orthonormal, so this normalises every B_i
    return torch.einsum("ij,jab->iab", c, pix)


class BasisLayer(nn.Module):
    """Weights ``W = Σ_m c[:, :, m] B_m`` of shape ``(out, in, s, s)`` with a projector ``Π_E`` onto E.

    Attributes:
        coef: ``(out, in, m)`` trainable coefficients.
        basis: ``(m, s, s)`` buffer.
        projector: ``Π_E`` acting on the trailing ``(s, s)`` dims.
        kind: ``"conv"`` (3×3, padding 1, no bias) or ``"linear"`` (``x`` ``(B, in·s·s)`` → ``(B, out)``).
    """

    def __init__(self, out: int, inp: int, basis: torch.Tensor, projector: OrbitProjector, kind: str,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if kind not in ("conv", "linear"):
            raise ValueError("kind must be 'conv' or 'linear'")
        if tuple(basis.shape[1:]) != projector.shape:
            raise ValueError(f"basis maps {tuple(basis.shape[1:])} do not match the projector's {projector.shape}")
        self.kind = kind
        self.projector = projector
        self.register_buffer("basis", basis.to(dtype))
        self.coef = nn.Parameter(torch.zeros(out, inp, basis.shape[0], dtype=dtype))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(out, in, s, s)`` of the materialised weight."""
        return (*self.coef.shape[:2], *self.basis.shape[1:])

    def weight(self, coef: torch.Tensor | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Materialised ``W = Σ_m c_m B_m``, ``(out, in, s, s)``; ``coef`` defaults to ``self.coef`` (pass e.g. its
        gradient to map it through the basis); ``dtype`` (e.g. float64) converts ``coef`` and basis first."""
        c = self.coef if coef is None else coef
        b = self.basis
        if dtype is not None:
            c, b = c.to(dtype), b.to(dtype)
        return torch.einsum("oim,mab->oiab", c, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight()
        if self.kind == "conv":
            return F.conv2d(x, w, padding=w.shape[-1] // 2)
        return F.linear(x, w.reshape(w.shape[0], -1))


class C4CNN(nn.Module):
    """The CNN of spec §3 on ``(B, 1, 28, 28)`` images; outputs ``(B, n_classes)``.

    Attributes:
        convs: the conv :class:`BasisLayer` s; the first two are followed by AvgPool2 (28 → 14 → 7).
        linear: the final :class:`BasisLayer` on the ``(C, 7, 7)`` features.
        parametrisation: ``"equivariant"``, ``"pixel"`` or ``"random"``; support: the mask Ω ``(3, 3)``.
    """

    def __init__(self, convs: Sequence[BasisLayer], linear: BasisLayer, parametrisation: str, support: np.ndarray):
        super().__init__()
        self.convs = nn.ModuleList(convs)
        self.linear = linear
        self.parametrisation = parametrisation
        self.support = np.asarray(support, dtype=bool)

    @property
    def layers(self) -> list[BasisLayer]:
        """Convs, then the linear layer (the order of :meth:`weights` and of the distance terms)."""
        return [*self.convs, self.linear]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            if i < 2:  # conv (pad 1) then AvgPool2, computed as one stride-2 conv (pooled_conv)
                x = pooled_conv(x, conv.weight())
            else:
                x = conv(x)
            x = torch.tanh(x)
            x = F.layer_norm(x, x.shape[-2:])
        return self.linear(x.flatten(1))

    def weights(self, dtype: torch.dtype | None = None) -> list[torch.Tensor]:
        """Materialised weights: kernels ``(c_{i+1}, c_i, 3, 3)`` and the linear ``(n_classes, C, 7, 7)``."""
        return [layer.weight(dtype=dtype) for layer in self.layers]


def pooled_conv(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """``AvgPool2(conv2d(x, K, padding=1))`` as one convolution with stride 2 (same values up to round-off).

    Exact identity: ``out(p) = ¼ Σ_{a,b∈{0,1}} Σ_q x(2p + (a,b) + q − 1) K(q) = Σ_r x(2p + r − 1) K'(r)`` with the
    ``(s+1)×(s+1)`` kernel ``K'(r) = ¼ Σ_{a,b} K(r − (a, b))``. Costs about half the multiply-adds of the two steps and
    no pooling pass. ``x`` ``(B, c_in, n, n)``, ``K`` ``(c_out, c_in, s, s)`` → ``(B, c_out, n/2, n/2)``.
    """
    pad = lambda left, right, top, bottom: F.pad(kernel, (left, right, top, bottom))  # noqa: E731
    merged = (pad(0, 1, 0, 1) + pad(1, 0, 0, 1) + pad(0, 1, 1, 0) + pad(1, 0, 1, 0)) / 4
    return F.conv2d(x, merged, stride=2, padding=kernel.shape[-1] // 2)


def _uniform(shape: tuple[int, ...], bound: torch.Tensor | float, generator: torch.Generator) -> torch.Tensor:
    return (2 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1) * bound


def c4_cnn(
    widths: Sequence[int] = (32, 64, 64),
    support: str | np.ndarray = "cross",
    parametrisation: str = "equivariant",
    generator: torch.Generator | None = None,
    n_classes: int = 10,
    dtype: torch.dtype = torch.float32,
) -> C4CNN:
    """Build a :class:`C4CNN` with its initial weights.

    Args:
        widths: conv channels ``(c₁, c₂, ...)``, at least two (A1: ``(32, 64, 64)``, B1: ``(16, 16)``).
        support: Ω, a name of :data:`SUPPORTS` or a ``(3, 3)`` mask.
        parametrisation: ``"equivariant"``, ``"pixel"`` (unitary) or ``"random"`` (non-unitary); module docstring.
        generator: source of the initial weights and of the random bases.
    Init (authors' code, stated on the materialised entries): equivariant kernels: every entry U(±1/√c_in)
    (mid, side, corner coefficients drawn so); equivariant linear: four-point-orbit entries U(±1/√(12 C)), centre
    U(±1/√C). Unconstrained nets: coefficients U(±1/√fan_in), fan_in = c_in·m (PyTorch's default bound); they are
    meant to be overwritten by :func:`load_equivariant`.
    """
    if len(widths) < 2:
        raise ValueError("the architecture needs at least two conv layers (28 -> 14 -> 7 by pooling)")
    if parametrisation not in PARAMETRISATIONS:
        raise ValueError(f"parametrisation must be one of {PARAMETRISATIONS}, not {parametrisation!r}")
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    mask = support_mask(support)
    kproj, mproj = kernel_projector(mask), map_projector(7)
    channels = [1, *widths]
    convs, init = [], []
    for cin, cout in zip(channels[:-1], channels[1:]):
        if parametrisation == "equivariant":
            basis = kproj.basis().reshape(-1, 3, 3)
        elif parametrisation == "pixel":
            basis = pixel_basis(mask)
        else:
            basis = random_basis(mask, gen)
        convs.append(BasisLayer(cout, cin, basis, kproj, "conv", dtype))
        init.append(cin ** -0.5 if parametrisation == "equivariant" else (cin * basis.shape[0]) ** -0.5)
    c = channels[-1]
    if parametrisation == "equivariant":
        lbasis = mproj.basis().reshape(-1, 7, 7)
        n4 = int((lbasis.flatten(1) != 0).sum(1).eq(4).sum())
        linit = torch.where((lbasis.flatten(1) != 0).sum(1) == 4, (n4 * c) ** -0.5, c ** -0.5)
    else:
        lbasis = pixel_basis(np.ones((7, 7), dtype=bool))
        linit = (c * 49) ** -0.5
    linear = BasisLayer(n_classes, c, lbasis, mproj, "linear", dtype)
    net = C4CNN(convs, linear, parametrisation, mask)
    with torch.no_grad():
        for layer, bound in zip(net.layers, [*init, linit]):
            coef = _uniform(tuple(layer.coef.shape), bound, gen)
            if parametrisation == "equivariant":  # entry bound -> coefficient: scale by 1/(entry of B_m) = √|orbit|
                coef = coef / layer.basis.to(torch.float64).flatten(1).abs().amax(1)
            layer.coef.copy_(coef.to(dtype))
    return net


def count_parameters(model: nn.Module) -> int:
    """Number of trainable coefficients (the dimension of E for an equivariant net, of L otherwise)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def set_weights(model: C4CNN, weights: Sequence[torch.Tensor]) -> float:
    """Set the coefficients so that the materialised weights are the given ones, by float64 least squares per layer.

    Args:
        weights: one ``(out, in, s, s)`` tensor per layer (:meth:`C4CNN.weights` order).
    Returns:
        the float64 residual ``(Σ_l ‖B_l^T c_l − W_l‖_F²)^{1/2}`` before the coefficients are cast to the model's
        dtype: 0 up to round-off when every ``W_l`` lies in the span of the layer's basis.

    The solve runs on the CPU (the SVD-based ``gelsd`` driver exists there only) whatever the model's device, so a
    load gives the same coefficients on every device; they are then copied to the model's device.
    """
    residual = 0.0
    for layer, w in zip(model.layers, weights, strict=True):
        if tuple(w.shape) != layer.shape:
            raise ValueError(f"weight of shape {tuple(w.shape)} for a layer of shape {layer.shape}")
        a = layer.basis.detach().cpu().to(torch.float64).flatten(1).T  # (s², m)
        rhs = w.detach().cpu().to(torch.float64).reshape(-1, a.shape[0]).T  # (s², out·in)
        coef = torch.linalg.lstsq(a, rhs, driver="gelsd").solution  # (m, out·in)
        residual += float(((a @ coef - rhs) ** 2).sum())
        layer.coef.copy_(coef.T.reshape(layer.coef.shape).to(layer.coef.device, layer.coef.dtype))
    return residual ** 0.5


def load_equivariant(model: C4CNN, source: C4CNN) -> float:
    """Copy the materialised weights of ``source`` (an equivariant net) into ``model`` (:func:`set_weights`).
    With the same support the weights lie in ``model``'s span; the residual (returned) is round-off."""
    return set_weights(model, source.weights(dtype=torch.float64))


def perp_norm_sq(model: C4CNN) -> torch.Tensor:
    """``Σ_l ‖W_l − Π_E W_l‖_F²`` in the model's dtype and on its device, differentiable (e.g. B1's penalty
    ``(γ/2)·this``); a scalar tensor."""
    total = torch.zeros((), dtype=model.linear.coef.dtype, device=model.linear.coef.device)
    for layer in model.layers:
        w = layer.weight()
        total = total + ((w - layer.projector.project(w)) ** 2).sum()
    return total


@torch.no_grad()
def layer_distances(model: C4CNN) -> np.ndarray:
    """``‖W_l − Π_E W_l‖_F`` per layer, float64 on the materialised weights, ``(n_layers,)``."""
    out = []
    for layer in model.layers:
        w = layer.weight(dtype=torch.float64)
        out.append(float((w - layer.projector.project(w)).norm()))
    return np.asarray(out)


def distance_to_e(model: C4CNN) -> float:
    """``(Σ_l ‖W_l − Π_E W_l‖_F²)^{1/2}`` over all layers, in float64."""
    return float(np.sqrt((layer_distances(model) ** 2).sum()))


def step_directions(model: C4CNN) -> list[torch.Tensor]:
    """The current coefficient gradients mapped into weight space, ``M ∇_c = M M^* ∇_W R`` per layer.

    One SGD step moves the materialised weights by ``−lr ×`` these. For an orthonormal (pixel) basis on Ω,
    ``M M^* = Π_L``; for the equivariant basis ``Π_E``; for a non-orthogonal basis neither. Returns
    ``(out, in, s, s)`` tensors in the model's dtype (zeros where a gradient is missing).
    """
    return [layer.weight(coef=layer.coef.grad if layer.coef.grad is not None else torch.zeros_like(layer.coef))
            for layer in model.layers]


class DistanceLog:
    """Step callback for :func:`invlearn.core.training.train_steps`: records :func:`distance_to_e` at step 0 and after
    every step. ``values``: list of floats, length ``n_steps + 1``."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, step: int, model: nn.Module, loss: float) -> None:
        self.values.append(distance_to_e(model))


@torch.no_grad()
def perturb_off_e(model: C4CNN, sigma: float, generator: torch.Generator) -> float:
    """Move ``model`` off E by ``Δ = N − Π_E N``, ``N`` i.i.d. N(0, σ²) on every admissible weight entry (Nordenfors
    & Flinth, B1 init): kernel entries inside Ω and every entry of the linear layer.

    The materialised weights become ``W + Δ`` (:func:`set_weights`, float64 least squares), so ``Π_E`` of the change
    is 0 and ``E[‖Δ‖²] = σ² (dim L − dim E)`` (7,392 σ² for the B1 net). Needs ``Δ`` in the span of the basis
    (pixel basis; a compatible support), else raises.

    ``N`` is drawn from ``generator`` (a CPU generator) in the same order on every device, then moved to the model's.

    Returns:
        ``‖Δ‖_F`` over all layers, float64.
    """
    weights, norm_sq = [], 0.0
    for layer, w in zip(model.layers, model.weights(dtype=torch.float64)):
        noise = sigma * torch.randn(tuple(w.shape), generator=generator, dtype=torch.float64).to(w.device)
        if layer.kind == "conv":
            noise = noise * torch.from_numpy(np.ascontiguousarray(model.support)).to(w.device)
        delta = noise - layer.projector.project(noise)
        norm_sq += float((delta**2).sum())
        weights.append(w + delta)
    residual = set_weights(model, weights)
    if residual > 1e-9 * max(1.0, norm_sq**0.5):
        raise ValueError(f"the perturbation is not in the span of the {model.parametrisation} basis (residual {residual:.2e})")
    return norm_sq**0.5


class StackedC4CNN(nn.Module):
    """``K`` :class:`C4CNN` of one architecture and basis, trained in lockstep as one tensor program.

    The coefficients of member ``k`` are slice ``k`` of stacked parameters ``(K, out, in, m)``; the forward pass is
    ``torch.func.vmap`` of the template net's own forward over the members (grouped convolutions), so every member
    computes exactly what a standalone :class:`C4CNN` computes, at a fraction of the per-net overhead of small
    batches. With a summed objective each member's gradient is its standalone gradient.

    Attributes:
        coefs: one stacked ``(K, out, in, m)`` parameter per layer (:attr:`C4CNN.layers` order).
        template: the first member as built (its bases, projectors, architecture; not trained, not registered).

    Device: the stack lives where its nets are. Move the nets before stacking them (``net.to(device)``): the
    template's bases are not registered, so ``.to`` on the stack would move the coefficients only.
    """

    def __init__(self, nets: Sequence[C4CNN]):
        super().__init__()
        if not nets:
            raise ValueError("need at least one net")
        first = nets[0]
        names = [name for name, _ in first.named_parameters()]
        for net in nets[1:]:
            if [n for n, _ in net.named_parameters()] != names or any(
                not torch.equal(a.basis, b.basis) for a, b in zip(first.layers, net.layers)
            ):
                raise ValueError("stacked nets must share architecture and bases")
        self.__dict__["template"] = first  # plain attribute: its parameters are not trained
        self._names = names
        params = [dict(net.named_parameters()) for net in nets]
        self.coefs = nn.ParameterList([nn.Parameter(torch.stack([p[n].detach() for p in params]).clone()) for n in names])

    @property
    def n_members(self) -> int:
        return int(self.coefs[0].shape[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(K, B, c_in, 28, 28)``, member ``k`` on ``x[k]`` → ``(K, B, n_classes)``."""
        from torch.func import functional_call, vmap

        def one(params: dict[str, torch.Tensor], xb: torch.Tensor) -> torch.Tensor:
            return functional_call(self.template, params, (xb,))

        return vmap(one)(dict(zip(self._names, self.coefs)), x)

    def weights(self, dtype: torch.dtype | None = None) -> list[torch.Tensor]:
        """Materialised weights per layer, ``(K, out, in, s, s)``."""
        out = []
        for layer, coef in zip(self.template.layers, self.coefs):
            c, b = (coef, layer.basis) if dtype is None else (coef.to(dtype), layer.basis.to(dtype))
            out.append(torch.einsum("koim,mab->koiab", c, b))
        return out

    def perp_norm_sq(self) -> torch.Tensor:
        """``Σ_l ‖W_l − Π_E W_l‖_F²`` per member, ``(K,)`` on the stack's device, differentiable (:func:`perp_norm_sq`
        of each member)."""
        total = torch.zeros(self.n_members, dtype=self.coefs[0].dtype, device=self.coefs[0].device)
        for layer, w in zip(self.template.layers, self.weights()):
            total = total + ((w - layer.projector.project(w)) ** 2).flatten(1).sum(1)
        return total

    @torch.no_grad()
    def distances(self) -> np.ndarray:
        """:func:`distance_to_e` of every member, float64 on the materialised weights (computed on the stack's
        device), ``(K,)`` numpy."""
        total = torch.zeros(self.n_members, dtype=torch.float64, device=self.coefs[0].device)
        for layer, w in zip(self.template.layers, self.weights(dtype=torch.float64)):
            total += ((w - layer.projector.project(w)) ** 2).flatten(1).sum(1)
        return total.sqrt().cpu().numpy()

    @torch.no_grad()
    def member(self, k: int) -> C4CNN:
        """A standalone copy of member ``k``."""
        net = copy.deepcopy(self.template)
        for (_, p), coef in zip(net.named_parameters(), self.coefs):
            p.copy_(coef[k])
        return net


class StackedDistanceLog:
    """Step callback for :func:`invlearn.core.training.train_steps` on a :class:`StackedC4CNN`: records
    :meth:`StackedC4CNN.distances` at step 0 and after every step (so entry ``k`` is the distance before step
    ``k + 1``). ``values``: ``(n_steps + 1, K)`` float64 after training."""

    def __init__(self) -> None:
        self._rows: list[np.ndarray] = []

    def __call__(self, step: int, model: nn.Module, loss: float) -> None:
        self._rows.append(model.distances())

    @property
    def values(self) -> np.ndarray:
        return np.stack(self._rows)


# ---------------------------------------------------------------------------------------------------- data, batches


# -------------------------------------------------------------------------------------------------- A1 (spec §4)


