"""S_10 graph connectivity (Flinth & Ohlsson, arXiv 2303.13458 v1/v2, experiment A2).

Task: is a 10-node graph connected? The symmetric group ``S_n`` acts on adjacency matrices by ``A -> P A P^T`` and the
label is invariant. A dense two-layer graph network is trained in three modes from identical starting weights, and the
distance of its layers from the equivariant subspace ``E`` is logged against the distance travelled:

* **equivariant:** ``A <- A - lr Π_E ∇R(A)`` (gradients of layers 1–2 projected onto ``E``, start in ``E``);
* **augmented:** ``A <- A - lr ∇R^aug_L(A)``, the gradient of the mean loss over ``L`` passes, every graph of every pass
  relabelled by its own uniform random permutation (a finite-sample estimate of ``R^aug = E_g R(ρ̄(g) A)``);
* **nominal:** ``A <- A - lr ∇R(A)`` on the raw graphs.

Layers (no biases), with ``n = 10`` nodes, ``x = vec(adjacency) - 0.5`` of length ``n²``:

* layer 1 ``W1`` ``(c1, n², n²)``: ``h1[c, ij] = σ(Σ_kl W1[c, ij, kl] x[kl])``; ``E`` per channel is spanned by the 15
  orbits of index 4-tuples ``(i, j, k, l)`` under ``S_n`` (the equality patterns, Maron et al. 2019);
* layer 2 ``W2`` ``(c2, c1, n²)``: ``h2[m] = σ(Σ_{c,ij} W2[m, c, ij] h1[c, ij])``, invariant; ``E`` per ``(m, c)`` is
  spanned by the diagonal and the off-diagonal indicator of the ``n x n`` map;
* head (never projected, never measured): ``LayerNorm(c2, no affine) -> Linear(c2, hidden) -> σ -> Linear(hidden, 1)
  -> sigmoid``; σ is LeakyReLU(0.01). Loss: mean binary cross-entropy.

Every ``Π_E`` is an :class:`invlearn.core.groups.OrbitProjector` built from two generators of ``S_n`` (a transposition and
an ``n``-cycle) acting on index tuples (:func:`invlearn.core.groups.tuple_permutation`). Training runs through
:func:`invlearn.core.training.train_steps`, the three modes of one run as one ``nn.ModuleList`` with summed losses (their
parameters are disjoint, so each gets exactly its own gradient).

Distances (float64, over layers 1–2): ``‖A − A⁰‖ = (Σ_k ‖A_k − A_k⁰‖²)^{1/2}`` and
``‖A_{E⊥}‖ = (Σ_k ‖A_k − Π_E A_k‖²)^{1/2}``. The authors' code plotted ``(Σ_k ‖A_k − Π_E A_k‖⁴)^{1/2}`` instead (it
stored squared per-layer distances, then took the root of the sum of their squares); it is logged as ``perp_code``.

Devices: the training and its controls take ``device`` (:func:`invlearn.flinth.device.resolve_device`). Networks are
initialised from CPU generators and then moved, the permutations of every augmentation pass are drawn on the CPU
generator and moved, and graphs, gradients, projections and distances live on the device; a ``"cuda"`` run follows the
CPU run up to float round-off.
"""

from __future__ import annotations

import copy
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from invlearn.core.groups import OrbitProjector, tuple_permutation
from invlearn.core.training import StepCallback, train_steps
from invlearn.flinth import metrics
from invlearn.flinth.device import resolve_device

__all__ = [
    "MODES",
    "GraphData",
    "sbm_graphs",
    "is_connected",
    "connectivity_labels",
    "laplacian_threshold_labels",
    "graph_connectivity_data",
    "graph_inputs",
    "random_permutations",
    "permute_graphs",
    "augmented_inputs",
    "s_n_generators",
    "s_n_projectors",
    "GraphNet",
    "init_graph_net",
    "project_layers",
    "project_layer_grads",
    "layer_distances",
    "GraphRuns",
    "train_graph_run",
    "train_graph_runs",
    "StartGradients",
    "start_gradients",
    "augmentation_noise",
]

MODES: tuple[str, ...] = ("equivariant", "augmented", "nominal")
"""Training modes, in the order of the last axis of every logged array."""


# ----------------------------------------------------------------------------------------------------------- data


def sbm_graphs(
    n_graphs: int, n_nodes: int = 10, p: float = 0.5, q: float = 0.05, seed: int = 0
) -> np.ndarray:
    """Two-block stochastic block model graphs, nodes relabelled by a uniform random permutation.

    Nodes ``0 … n/2−1`` and ``n/2 … n−1`` form the blocks; each intra-block pair is an edge with probability ``p``,
    each inter-block pair with ``q``; undirected, no self-loops. Each graph is then relabelled, ``A -> P A P^T``.

    Returns:
        ``(n_graphs, n_nodes, n_nodes)`` uint8 symmetric 0/1 adjacency matrices with zero diagonal.
    """
    if n_nodes % 2:
        raise ValueError("two equal blocks need an even number of nodes")
    rng = np.random.default_rng(seed)
    block = np.arange(n_nodes) >= n_nodes // 2
    prob = np.where(block[:, None] == block[None, :], p, q)
    upper = np.triu(rng.random((n_graphs, n_nodes, n_nodes)) < prob, k=1)
    adj = (upper | upper.transpose(0, 2, 1)).astype(np.uint8)
    perm = np.argsort(rng.random((n_graphs, n_nodes)), axis=1)  # uniform permutations
    rows = np.arange(n_graphs)[:, None, None]
    return adj[rows, perm[:, :, None], perm[:, None, :]]


def is_connected(adjacency: np.ndarray) -> bool:
    """Whether the graph of an ``(n, n)`` 0/1 adjacency matrix is connected (breadth-first search from node 0)."""
    n = adjacency.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    queue = deque([0])
    while queue:
        i = queue.popleft()
        for j in np.flatnonzero(adjacency[i]):
            if not seen[j]:
                seen[j] = True
                queue.append(int(j))
    return bool(seen.all())


def connectivity_labels(adjacency: np.ndarray) -> np.ndarray:
    """True connectivity by graph search: ``(N, n, n)`` -> ``(N,)`` bool."""
    return np.array([is_connected(a) for a in adjacency], dtype=bool)


def laplacian_threshold_labels(adjacency: np.ndarray, threshold: float = 1e-15) -> np.ndarray:
    """The authors' labels, for comparison only: ``λ_2(D − A) > threshold`` (float64 ``eigvalsh``).

    A disconnected graph has ``λ_2 = 0`` exactly, but its computed value is round-off of either sign, so the code's
    threshold at 1e-15 marks some disconnected graphs as connected (spec §8, bug 1). Returns ``(N,)`` bool.
    """
    a = adjacency.astype(np.float64)
    laplacian = np.einsum("nij->ni", a)[:, :, None] * np.eye(a.shape[-1]) - a
    return np.linalg.eigvalsh(laplacian)[:, 1] > threshold


@dataclass(frozen=True)
class GraphData:
    """The fixed data set of A2.

    Attributes:
        adjacency: ``(N, n, n)`` float32 0/1 adjacency matrices.
        labels: ``(N,)`` float32, 1 for a connected graph (graph search).
        seed: seed of :func:`sbm_graphs`.
    """

    adjacency: torch.Tensor
    labels: torch.Tensor
    seed: int

    @property
    def n_nodes(self) -> int:
        return int(self.adjacency.shape[-1])

    @property
    def connected_fraction(self) -> float:
        return float(self.labels.mean())


def graph_connectivity_data(
    n_graphs: int = 1000, n_nodes: int = 10, p: float = 0.5, q: float = 0.05, seed: int = 0
) -> GraphData:
    """:func:`sbm_graphs` with their true connectivity labels (:func:`connectivity_labels`)."""
    adj = sbm_graphs(n_graphs, n_nodes, p, q, seed)
    labels = connectivity_labels(adj)
    return GraphData(
        adjacency=torch.as_tensor(adj, dtype=torch.float32),
        labels=torch.as_tensor(labels, dtype=torch.float32),
        seed=seed,
    )


def graph_inputs(adjacency: torch.Tensor) -> torch.Tensor:
    """Network input ``vec(A) − 0.5``: ``(..., n, n)`` -> ``(..., n²)`` (row-major, index ``n i + j``)."""
    return adjacency.flatten(-2) - 0.5


def random_permutations(count: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``(count, n)`` int64 independent uniform random permutations of ``0 … n−1``, on ``generator``'s device."""
    return torch.argsort(torch.rand(count, n, generator=generator), dim=1)


def permute_graphs(adjacency: torch.Tensor, perms: torch.Tensor) -> torch.Tensor:
    """Relabel every graph by its own permutation: ``out[b] = P_b A_b P_b^T``, ``out[b, i, j] = A_b[π_b(i), π_b(j)]``.

    Args:
        adjacency: ``(B, n, n)``.
        perms: ``(B, n)`` int64 permutations ``π_b`` (on any device).
    Returns:
        ``(B, n, n)`` on ``adjacency``'s device.
    """
    perms = perms.to(adjacency.device)
    rows = torch.arange(adjacency.shape[0], device=adjacency.device)[:, None, None]
    return adjacency[rows, perms[:, :, None], perms[:, None, :]]


def augmented_inputs(adjacency: torch.Tensor, passes: int, generator: torch.Generator) -> torch.Tensor:
    """Inputs of ``passes`` augmentation passes: every graph of every pass relabelled independently.

    Args:
        adjacency: ``(N, n, n)`` on any device; the permutations are drawn from ``generator`` (CPU) and moved there.
    Returns:
        ``(passes · N, n²)`` on ``adjacency``'s device; rows ``l N … (l+1) N − 1`` are pass ``l``, in the order of
        ``adjacency``.
    """
    n_graphs, n = adjacency.shape[0], adjacency.shape[-1]
    perms = random_permutations(passes * n_graphs, n, generator)
    return graph_inputs(permute_graphs(adjacency.repeat(passes, 1, 1), perms))


# ------------------------------------------------------------------------------------------------ projections


def s_n_generators(n: int) -> list[np.ndarray]:
    """Generators of ``S_n``: the transposition ``(0 1)`` and the ``n``-cycle ``i -> i + 1 mod n``."""
    transposition = np.arange(n)
    transposition[[0, 1]] = [1, 0]
    return [transposition, np.roll(np.arange(n), 1)]


@lru_cache(maxsize=4)
def s_n_projectors(n: int = 10) -> tuple[OrbitProjector, OrbitProjector]:
    """``Π_E`` of the two measured layers.

    Returns:
        ``(layer1, layer2)``: ``layer1`` acts on trailing ``(n², n²)`` (out ``ij``, in ``kl``; orbits of 4-tuples,
        15 for ``n ≥ 4``), ``layer2`` on trailing ``(n²,)`` (orbits of pairs: diagonal, off-diagonal). Each replaces
        the entries of an orbit by their mean, the orthogonal projection onto the ``S_n``-fixed tensors.
    """
    gens = s_n_generators(n)
    layer1 = OrbitProjector.from_generators([tuple_permutation(g, 4) for g in gens], (n * n, n * n))
    layer2 = OrbitProjector.from_generators([tuple_permutation(g, 2) for g in gens], (n * n,))
    return layer1, layer2


# ------------------------------------------------------------------------------------------------------ model


class GraphNet(nn.Module):
    """The A2 network (no biases), parameters created as zeros (see :func:`init_graph_net`).

    Attributes:
        layer1: ``(c1, n², n²)``; layer2: ``(c2, c1, n²)``; head1: ``(hidden, c2)``; head2: ``(1, hidden)``.
    Shapes:
        ``forward(x)``: ``x`` ``(B, n²)`` (``vec(A) − 0.5``) -> logits ``(B,)``; the model's output is their sigmoid.
    """

    def __init__(self, n_nodes: int = 10, channels: tuple[int, int] = (32, 64), hidden: int = 32):
        super().__init__()
        c1, c2 = channels
        d = n_nodes * n_nodes
        self.layer1 = nn.Parameter(torch.zeros(c1, d, d))
        self.layer2 = nn.Parameter(torch.zeros(c2, c1, d))
        self.head1 = nn.Parameter(torch.zeros(hidden, c2))
        self.head2 = nn.Parameter(torch.zeros(1, hidden))

    def measured(self) -> tuple[nn.Parameter, nn.Parameter]:
        """The layers whose distance to ``E`` is measured and whose gradients are projected: ``(layer1, layer2)``."""
        return self.layer1, self.layer2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = lambda t: nn.functional.leaky_relu(t, 0.01)  # noqa: E731
        c1, d, _ = self.layer1.shape
        h1 = act(x @ self.layer1.reshape(c1 * d, d).T)  # (B, c1 · n²), channel-major
        h2 = act(h1 @ self.layer2.reshape(self.layer2.shape[0], -1).T)  # (B, c2)
        h2 = nn.functional.layer_norm(h2, (h2.shape[-1],))
        return (act(h2 @ self.head1.T) @ self.head2.T).squeeze(-1)


def init_graph_net(net: GraphNet, generator: torch.Generator) -> GraphNet:
    """The code's initialisation, in place, drawn in this order from ``generator``:

    * layer 1 ``~ N(0, (1/(10√c1))²)`` entrywise, then projected onto ``E``;
    * layer 2 ``~ N(0, 1/c2)`` per ``(m, c)``, constant over the ``n²`` positions (so already in ``E``);
    * head ``~ N(0, (10/c2)²)`` and ``N(0, (10/hidden)²)``.
    """
    c1, d, _ = net.layer1.shape
    c2 = net.layer2.shape[0]
    hidden = net.head1.shape[0]
    with torch.no_grad():
        net.layer1.copy_(torch.randn(net.layer1.shape, generator=generator) / (10 * c1**0.5))
        net.layer2.copy_((torch.randn(c2, c1, 1, generator=generator) / c2**0.5).expand(c2, c1, d))
        net.head1.copy_(torch.randn(net.head1.shape, generator=generator) * 10 / c2)
        net.head2.copy_(torch.randn(net.head2.shape, generator=generator) * 10 / hidden)
    project_layers(net)
    return net


def _projectors(net: GraphNet) -> tuple[OrbitProjector, OrbitProjector]:
    return s_n_projectors(int(round(net.layer1.shape[-1] ** 0.5)))


def project_layers(net: GraphNet) -> None:
    """Replace layers 1–2 by their projections onto ``E`` (in place)."""
    metrics.project_layers(net.measured(), _projectors(net))


def project_layer_grads(net: GraphNet) -> None:
    """Equivariant mode: ``grad <- Π_E grad`` for layers 1–2 (in place; the head's gradient is left as is)."""
    metrics.project_grads(net.measured(), _projectors(net))


def layer_distances(net: GraphNet, start: tuple[torch.Tensor, torch.Tensor]) -> tuple[float, float, float]:
    """Distances of layers 1–2 in float64 (:func:`invlearn.flinth.metrics.distances_to_e`).

    Args:
        start: float64 copies of ``(layer1, layer2)`` at step 0 (``A⁰``).
    Returns:
        ``(‖A − A⁰‖, ‖A_{E⊥}‖, code)``: ``(Σ_k ‖A_k − A⁰_k‖²)^{1/2}``, ``(Σ_k d_k²)^{1/2}`` and the authors' plotted
        quantity ``(Σ_k d_k⁴)^{1/2}`` with ``d_k = ‖A_k − Π_E A_k‖``.
    """
    return metrics.distances_to_e(net.measured(), start, _projectors(net))


# --------------------------------------------------------------------------------------------------- training


@dataclass
class GraphRuns:
    """Logs of ``R`` runs, modes in the order of :data:`MODES` (last axis).

    Attributes:
        distance: ``(R, T+1, 3)`` ``‖A − A⁰‖`` after ``0 … T`` steps.
        perp: ``(R, T+1, 3)`` ``‖A_{E⊥}‖``.
        perp_code: ``(R, T+1, 3)`` the authors' plotted quantity ``(Σ_k ‖A_{k,E⊥}‖⁴)^{1/2}``.
        loss: ``(R, T, 3)`` objective of each step before its update (augmented: over the ``L`` permuted passes).
        accuracy: ``(R, 3)`` final training accuracy on the raw graphs (threshold 0.5).
        seeds: ``(R,)`` the seed of each run.
        seconds: ``(R,)`` wall time of each run.
    """

    distance: np.ndarray
    perp: np.ndarray
    perp_code: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    seeds: np.ndarray
    seconds: np.ndarray


def train_graph_run(
    data: GraphData,
    seed: int,
    steps: int = 50,
    aug_passes: int = 25,
    lr: float = 1e-4,
    channels: tuple[int, int] = (32, 64),
    hidden: int = 32,
    callbacks: Sequence[StepCallback] = (),
    device: str | torch.device = "cpu",
) -> GraphRuns:
    """One run: the three modes from identical copies of one initialisation, full-batch GD in lockstep.

    One generator seeded with ``seed`` draws the initialisation (:func:`init_graph_net`), then the augmentation
    permutations of every step. Step ``t`` minimises, per mode, the mean BCE ``R`` over the ``N`` graphs
    (augmented: over the ``L·N`` relabelled copies, whose gradient is the average of the ``L`` per-pass gradients)
    with plain SGD; the equivariant mode's layer-1/2 gradients are projected onto ``E`` first.

    Args:
        callbacks: further ``invlearn.core.training.StepCallback`` s, called with the ``nn.ModuleList`` of the three
            networks (order :data:`MODES`) at step 0 and after every step.
        device: where the networks, graphs and distances live (:func:`invlearn.flinth.device.resolve_device`); the
            generator stays on the CPU (module docstring).
    Returns:
        :class:`GraphRuns` with ``R = 1``, CPU numpy arrays.
    """
    if aug_passes < 1:
        raise ValueError("aug_passes must be at least 1")
    dev = resolve_device(device)
    started = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    base = init_graph_net(GraphNet(data.n_nodes, channels, hidden), gen).to(dev)
    models = nn.ModuleList([copy.deepcopy(base) for _ in MODES])
    eqv, aug, nom = (models[MODES.index(m)] for m in ("equivariant", "augmented", "nominal"))
    start = [tuple(w.detach().to(torch.float64).clone() for w in net.measured()) for net in models]  # real copies of A⁰
    adjacency = data.adjacency.to(dev)
    x, y = graph_inputs(adjacency), data.labels.to(dev)
    bce = nn.functional.binary_cross_entropy_with_logits  # = BCE of the sigmoid output, mean over the batch

    def batches():
        for _ in range(steps):
            yield augmented_inputs(adjacency, aug_passes, gen)

    step_losses: list[list[float]] = []

    def loss_fn(_models: nn.ModuleList, x_aug: torch.Tensor) -> torch.Tensor:
        per_mode = {
            "equivariant": bce(eqv(x), y),
            "augmented": bce(aug(x_aug), y.repeat(aug_passes)),
            "nominal": bce(nom(x), y),
        }
        step_losses.append([float(per_mode[m].detach()) for m in MODES])
        return sum(per_mode.values())

    logs = np.zeros((steps + 1, 3, 3))
    accuracy = np.zeros(len(MODES))

    def log(step: int, _models: nn.ModuleList, _loss: float) -> None:
        for k, net in enumerate(models):
            logs[step, :, k] = layer_distances(net, start[k])
        if step == steps:
            with torch.no_grad():
                for k, net in enumerate(models):
                    accuracy[k] = float(((net(x) > 0).float() == y).float().mean())

    train_steps(
        models, batches(), loss_fn, torch.optim.SGD(models.parameters(), lr=lr),
        grad_transform=lambda _m: project_layer_grads(eqv), callbacks=[log, *callbacks], desc=f"run seed {seed}",
    )
    return GraphRuns(
        distance=logs[None, :, 0], perp=logs[None, :, 1], perp_code=logs[None, :, 2],
        loss=np.asarray(step_losses, dtype=np.float64).reshape(1, steps, len(MODES)), accuracy=accuracy[None],
        seeds=np.array([seed]), seconds=np.array([time.perf_counter() - started]),
    )


def train_graph_runs(
    data: GraphData, seeds: list[int], device: str | torch.device = "cpu", **kwargs
) -> GraphRuns:
    """:func:`train_graph_run` for each seed (one after another) on ``device``, logs stacked along the first axis.

    Returns:
        :class:`GraphRuns` with ``R = len(seeds)``, CPU numpy arrays.
    """
    runs = [train_graph_run(data, seed, device=device, **kwargs) for seed in seeds]
    return GraphRuns(**{f: np.concatenate([getattr(r, f) for r in runs]) for f in GraphRuns.__dataclass_fields__})


# ---------------------------------------------------------------------------------------------------- controls


@dataclass
class StartGradients:
    """The nominal gradient at the starting point ``A⁰ ∈ E`` of several initialisations, over layers 1–2.

    Attributes:
        seeds: ``(S,)`` the seed of each initialisation (as in :func:`train_graph_run`).
        norm: ``(S,)`` ``‖∇R(A⁰)‖ = (Σ_k ‖∇_k R‖²)^{1/2}``.
        perp: ``(S,)`` ``‖Π_{E⊥} ∇R(A⁰)‖``, the part that moves nominal training off ``E``.
    """

    seeds: np.ndarray
    norm: np.ndarray
    perp: np.ndarray


def _measured_grads(net: GraphNet, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """Float64 gradients of the mean BCE ``R`` w.r.t. layers 1–2 at the current weights (no update)."""
    net.zero_grad()
    nn.functional.binary_cross_entropy_with_logits(net(x), y).backward()
    grads = [w.grad.detach().to(torch.float64).clone() for w in net.measured()]
    net.zero_grad()
    return grads


def _perp_parts(grads: list[torch.Tensor], n_nodes: int) -> list[torch.Tensor]:
    return [g - proj.project(g) for g, proj in zip(grads, s_n_projectors(n_nodes))]


def start_gradients(
    data: GraphData,
    seeds: Sequence[int],
    channels: tuple[int, int] = (32, 64),
    hidden: int = 32,
    device: str | torch.device = "cpu",
) -> StartGradients:
    """``‖∇R(A⁰)‖`` and ``‖Π_{E⊥}∇R(A⁰)‖`` of the nominal risk at the start point of each seed (one forward–backward
    over the ``N`` graphs per seed; the initialisation of :func:`train_graph_run` with that seed).

    With plain GD at rate ``lr``, ``lr · T · ‖∇R(A⁰)‖`` is the distance ``T`` steps would travel if the gradient
    stayed as it starts: the scale of ``‖A − A⁰‖`` after ``T`` steps.

    ``device``: where the networks, graphs and gradients live (the initialisations are drawn on the CPU, as in
    :func:`train_graph_run`). Returns :class:`StartGradients` of CPU numpy ``(S,)`` arrays.
    """
    dev = resolve_device(device)
    x, y = graph_inputs(data.adjacency.to(dev)), data.labels.to(dev)
    norms, perps = [], []
    for seed in seeds:
        net = init_graph_net(GraphNet(data.n_nodes, channels, hidden), torch.Generator().manual_seed(int(seed))).to(dev)
        grads = _measured_grads(net, x, y)
        norms.append(sum(float((g**2).sum()) for g in grads) ** 0.5)
        perps.append(sum(float((p**2).sum()) for p in _perp_parts(grads, data.n_nodes)) ** 0.5)
    return StartGradients(seeds=np.asarray(list(seeds)), norm=np.asarray(norms), perp=np.asarray(perps))


def augmentation_noise(
    data: GraphData,
    seed: int,
    passes: int,
    channels: tuple[int, int] = (32, 64),
    hidden: int = 32,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """``‖Π_{E⊥} ĝ_L‖`` for ``L = 1 … passes`` at the start point ``A⁰ ∈ E`` of ``seed``, where ``ĝ_L`` is the mean
    of the gradients of ``L`` augmentation passes (every graph relabelled by its own uniform permutation), as in one
    augmented step of :func:`train_graph_run` (same generator: init, then the permutations of the passes).

    On ``E`` the exact augmented gradient ``∇R^aug = Π_{H_G}∇R`` has no ``E⊥`` part (the orbit-average lemma), so
    this is pure finite-augmentation noise; for independent passes it falls as ``1/√L``.

    Args:
        device: where the network, graphs and gradients live; initialisation and permutations are drawn on the CPU
            generator, as in :func:`train_graph_run`.
    Returns:
        ``(passes,)`` float64 CPU numpy.
    """
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(int(seed))
    net = init_graph_net(GraphNet(data.n_nodes, channels, hidden), gen).to(dev)
    adjacency, y = data.adjacency.to(dev), data.labels.to(dev)
    total: list[torch.Tensor] | None = None
    out = np.zeros(passes)
    for count in range(1, passes + 1):
        perp = _perp_parts(_measured_grads(net, augmented_inputs(adjacency, 1, gen), y), data.n_nodes)
        total = perp if total is None else [t + p for t, p in zip(total, perp)]
        out[count - 1] = sum(float((t**2).sum()) for t in total) ** 0.5 / count
    return out
