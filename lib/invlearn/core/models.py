"""Batched networks: K independent networks of one architecture held as stacked weights.

``BatchedMLP`` with ``activation=None`` is the deep linear network ``f(x) = W_L ... W_1 x`` (Duan & Montúfar
§1); with an activation it is ``W_L σ(... σ(W_1 x))`` (their App. C.3). A fixed ``basis`` ``B`` of shape
``(m, d)`` hard-wires invariance: ``f(x) = W_L ... W_1 B x`` (spec §3, "constrained"), the first layer then
having ``m`` inputs.

Every configuration k has its own weights, initialised from its own seed exactly as ``torch.nn.Linear``
(weights, and biases when ``bias=True``, uniform on ``±1/sqrt(fan_in)``, drawn layer by layer in ``nn.Linear``'s
order), so configuration k equals a standalone network built with ``torch.manual_seed(seeds[k])``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = ["BatchedMLP", "ACTIVATIONS", "linear_init", "linear_bias_init"]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "leaky_relu": lambda t: nn.functional.leaky_relu(t, 0.01),
    "relu": torch.relu,
    "swish": nn.functional.silu,
    "tanh": torch.tanh,
}
"""The activations of :class:`BatchedMLP` by name, each applied elementwise."""


def linear_init(out_features: int, in_features: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """PyTorch's default ``nn.Linear`` weight init (kaiming-uniform, a=√5): uniform on ``±1/sqrt(in_features)``.

    Returns ``(out_features, in_features)``; draws from ``generator`` in the same order as ``nn.Linear``.
    """
    bound = 1.0 / in_features**0.5
    w = torch.empty(out_features, in_features, dtype=dtype)
    return w.uniform_(-bound, bound, generator=generator)


def linear_bias_init(out_features: int, in_features: int, generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """PyTorch's default ``nn.Linear`` bias init: uniform on ``±1/sqrt(in_features)``, shape ``(out_features,)``."""
    bound = 1.0 / in_features**0.5
    return torch.empty(out_features, dtype=dtype).uniform_(-bound, bound, generator=generator)


class BatchedMLP(nn.Module):
    """K networks with widths ``dims = (d_0, d_1, ..., d_L)`` trained side by side.

    Args:
        dims: layer widths; ``d_0`` is the input dimension **before** the basis.
        seeds: one seed per configuration (K = len(seeds)); equal seeds give equal initial weights.
        activation: ``None`` (linear), a key of :data:`ACTIVATIONS` applied between layers, or a sequence of K
            such keys, one per configuration (configurations with different activations in one program).
        basis: optional fixed ``(m, d_0)`` matrix applied first (hard-wiring); the first layer is then ``d_1 x m``.
        dtype: parameter dtype.
        bias: give every layer a bias (``nn.Linear(bias=True)``); ``biases[j]`` is ``(K, d_{j+1})``.
    Shapes:
        ``forward(x)``: ``x`` ``(n, d_0)`` shared by all configurations, or ``(K, n, d_0)`` -> ``(K, n, d_L)``.
    """

    def __init__(
        self,
        dims: Sequence[int],
        seeds: Sequence[int],
        activation: str | Sequence[str] | None = None,
        basis: torch.Tensor | None = None,
        dtype: torch.dtype = torch.float32,
        bias: bool = False,
    ) -> None:
        super().__init__()
        if len(dims) < 2:
            raise ValueError("dims needs at least input and output width")
        self.dims = tuple(int(d) for d in dims)
        self.seeds = tuple(int(s) for s in seeds)
        self.activation = activation if activation is None or isinstance(activation, str) else tuple(activation)
        names = [] if activation is None else [activation] if isinstance(activation, str) else list(self.activation)
        if any(name not in ACTIVATIONS for name in names):
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)} or None")
        if isinstance(self.activation, tuple) and len(self.activation) != len(self.seeds):
            raise ValueError("give one activation per configuration (seed)")
        self.register_buffer("basis", None if basis is None else basis.to(dtype))
        widths = list(self.dims)
        if basis is not None:
            if basis.shape[1] != widths[0]:
                raise ValueError(f"basis has {basis.shape[1]} columns, input width is {widths[0]}")
            widths[0] = int(basis.shape[0])
        n_layers = len(widths) - 1
        per_config, per_config_bias = [], []
        for seed in self.seeds:
            gen = torch.Generator().manual_seed(seed)
            layers, biases = [], []
            for j in range(n_layers):
                layers.append(linear_init(widths[j + 1], widths[j], gen, dtype))
                if bias:
                    biases.append(linear_bias_init(widths[j + 1], widths[j], gen, dtype))
            per_config.append(layers)
            per_config_bias.append(biases)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([layers[j] for layers in per_config])) for j in range(n_layers)
        )
        self.biases = (
            nn.ParameterList(nn.Parameter(torch.stack([b[j] for b in per_config_bias])) for j in range(n_layers))
            if bias
            else None
        )

    @property
    def n_configs(self) -> int:
        """K."""
        return len(self.seeds)

    def forward(self, x: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        """``(n, d_0)`` or ``(K, n, d_0)`` -> ``(K, n, d_L)``.

        ``layers = j < L`` stops after layer ``j`` and its activation: the post-activations ``(K, n, d_j)``
        (``layers = L - 1``: the last hidden layer, the features of the conjugate kernel).
        """
        if self.basis is not None:
            x = x @ self.basis.T
        act = self._activate if self.activation else None
        n_layers = len(self.weights) if layers is None else layers
        h = x
        for j, w in enumerate(list(self.weights)[:n_layers]):
            if j == 0 and x.dim() == 2:
                # Shared input: one (n, d_0) x (d_0, K d_1) GEMM instead of K thin ones (forward and backward).
                k, d1, d0 = w.shape
                h = (x @ w.reshape(k * d1, d0).T).reshape(x.shape[0], k, d1).transpose(0, 1).contiguous()
            else:
                h = torch.bmm(h, w.transpose(1, 2))
            if self.biases is not None:
                h = h + self.biases[j][:, None, :]
            if act is not None and j < len(self.weights) - 1:
                h = act(h)
        return h

    def _activate(self, h: torch.Tensor) -> torch.Tensor:
        """The activation of each configuration on ``h`` ``(K, n, d)``."""
        if isinstance(self.activation, str):
            return ACTIVATIONS[self.activation](h)
        out, start = [], 0
        while start < len(self.activation):  # one call per run of equal activations
            stop = start
            while stop < len(self.activation) and self.activation[stop] == self.activation[start]:
                stop += 1
            out.append(ACTIVATIONS[self.activation[start]](h[start:stop]))
            start = stop
        return torch.cat(out)

    def split_last(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W_L, H)`` with ``H = W_{L-1} ... W_1 (B)``, ``(K, d_L, r)`` and ``(K, r, d_0)``, so that the end-to-end
        matrix is ``W_L H`` (linear networks; for a single layer ``H`` is ``B`` or the identity)."""
        if self.activation is not None or self.biases is not None:
            raise ValueError("split_last is defined for bias-free linear networks only")
        layers = list(self.weights)
        if len(layers) == 1:
            h = self.basis if self.basis is not None else torch.eye(self.dims[0], dtype=layers[0].dtype)
            return layers[0], h.expand(self.n_configs, *h.shape)
        h = layers[0]
        for layer in layers[1:-1]:
            h = torch.bmm(layer, h)
        if self.basis is not None:
            h = h @ self.basis
        return layers[-1], h

    def end_to_end(self) -> torch.Tensor:
        """``W = W_L ... W_1 (B)`` of shape ``(K, d_L, d_0)``; only meaningful for linear networks."""
        if self.activation is not None or self.biases is not None:
            raise ValueError("end_to_end is defined for bias-free linear networks only")
        w = self.weights[0]
        for layer in list(self.weights)[1:]:
            w = torch.bmm(layer, w)
        if self.basis is not None:
            w = w @ self.basis
        return w
