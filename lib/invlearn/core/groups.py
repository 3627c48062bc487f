"""Finite groups as representation matrices acting on flattened inputs.

A group is stored as the stack of its representation matrices ``rho`` of shape ``(|G|, d, d)``,
element 0 being the identity. Inputs are flattened row-major, 0-based: pixel ``(i, j)`` of an
``n x n`` image has index ``n*i + j`` (Duan & Montúfar, §2 of the spec).

Notation (Duan & Montúfar): ``rho(g)`` the representation, ``G = I - rho(g0)`` the constraint matrix
of a generator (Prop 4: ``W`` invariant iff ``W G = 0``), ``Gbar = (1/|G|) sum_h rho(h)`` the
invariant projector, ``B_orbit`` the orbit-averaging basis used to hard-wire invariance.

The one symmetric/asymmetric decomposition of the book is :meth:`FiniteGroup.split`: ``W = W Gbar + W (I - Gbar)``.
Gideoni's linear models (row inputs ``x``, ``f(x) = x w``, ``x -> x g``) use the same groups with ``rho(g) = g^T``:
the invariant weights are the fixed points of ``Gbar``, equivariant ``2x2`` maps those of the conjugation group
(:meth:`FiniteGroup.conjugation`), and the constant feature of a bias is added by
:meth:`FiniteGroup.with_constant_feature`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "FiniteGroup",
    "permutation_matrix",
    "rotation_permutation",
    "c4_rotations",
    "permutation_group",
    "group_average",
    "split_weights",
    "constraint_matrix",
    "permutation_orbits",
    "orbit_basis",
    "reflection_group",
    "equivalent_representation",
    "tuple_permutation",
    "orbit_labels",
    "OrbitProjector",
]


@dataclass(frozen=True)
class FiniteGroup:
    """A finite group given by its representation matrices.

    Attributes:
        rho: ``(|G|, d, d)`` representation matrices, ``rho[0]`` the identity.
        generators: indices into ``rho`` of a generating set.
        name: human-readable name, e.g. ``"C4 on 14x14"``.
    """

    rho: torch.Tensor
    generators: tuple[int, ...]
    name: str = ""

    @property
    def order(self) -> int:
        """``|G|``."""
        return int(self.rho.shape[0])

    @property
    def dim(self) -> int:
        """``d``, the dimension of the represented space."""
        return int(self.rho.shape[-1])

    def projector(self) -> torch.Tensor:
        """``Gbar = (1/|G|) sum_h rho(h)``, shape ``(d, d)`` (see :func:`group_average`)."""
        return group_average(self.rho)

    def constraint(self) -> torch.Tensor:
        """``G = [I - rho(g_1), ..., I - rho(g_M)]``, shape ``(d, M d)`` (Prop 4)."""
        return constraint_matrix(self.rho[list(self.generators)])

    def orbits(self) -> list[list[int]]:
        """Orbits of the coordinates; requires a permutation representation."""
        return permutation_orbits(self.rho)

    def orbit_basis(self, scale: str = "average") -> torch.Tensor:
        """``B_orbit``, shape ``(n_orbits, d)`` (see :func:`orbit_basis`)."""
        return orbit_basis(self.orbits(), self.dim, scale=scale, dtype=self.rho.dtype)

    def act(self, x: torch.Tensor) -> torch.Tensor:
        """All transforms of row-vector inputs: ``x`` ``(..., n, d)`` -> ``(|G|, ..., n, d)``, ``[h, i] = rho(h) x_i``."""
        rho_t = self.rho.to(x.dtype).transpose(1, 2)
        return torch.matmul(x.unsqueeze(0), rho_t.reshape(self.order, *([1] * (x.dim() - 2)), self.dim, self.dim))

    def is_orthogonal(self, atol: float = 1e-10) -> bool:
        """Whether every ``rho(h)`` is orthogonal; then ``Gbar`` is the orthogonal projector onto the invariants."""
        eye = torch.eye(self.dim, dtype=self.rho.dtype)
        return bool(torch.allclose(self.rho @ self.rho.transpose(1, 2), eye.expand_as(self.rho), atol=atol))

    def split(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Symmetric and asymmetric parts ``(W Gbar, W (I - Gbar))`` of weights acting on this space.

        Args:
            w: ``(..., d)`` weight rows (a linear functional ``x -> w . x`` per row).
        Returns:
            ``(w_sym, w_asym)``, each shaped like ``w``; ``w_sym + w_asym = w``, ``w_sym`` is invariant
            (``w_sym rho(h) = w_sym``) and, for an orthogonal representation, ``w_sym . w_asym = 0``.
            In Gideoni's notation ``w_sym = w_r`` (in ``Im R``) and ``w_asym = w_k`` (in ``ker R``), ``R = |G| Gbar^T``.
        """
        return split_weights(w, self.projector())

    def conjugation(self) -> "FiniteGroup":
        """The group acting on ``d x d`` matrices by ``A -> rho(h) A rho(h)^T``, on row-major ``vec(A)``.

        Its representation is ``rho(h) ⊗ rho(h)`` of shape ``(|G|, d², d²)``. For an orthogonal representation
        its invariants are the matrices commuting with every ``rho(h)`` (Gideoni's ``V_G``), so
        ``conjugation().split(W.flatten())`` is the decomposition ``W = W_r + W_k`` of Theorem 4.2.
        """
        rho = torch.stack([torch.kron(r, r) for r in self.rho])
        return FiniteGroup(rho=rho, generators=self.generators, name=f"conjugation by {self.name}")

    def with_constant_feature(self) -> "FiniteGroup":
        """The group on features ``(1, x)``: ``rho'(h) = diag(1, rho(h))``, shape ``(|G|, d + 1, d + 1)``.

        A model with bias ``b`` and weights ``w`` is the functional ``(b, w)`` on these features.
        """
        rho = torch.zeros(self.order, self.dim + 1, self.dim + 1, dtype=self.rho.dtype)
        rho[:, 0, 0] = 1.0
        rho[:, 1:, 1:] = self.rho
        return FiniteGroup(rho=rho, generators=self.generators, name=f"{self.name} with constant feature")


def reflection_group(d: int = 1, dtype: torch.dtype = torch.float64) -> FiniteGroup:
    """``{I, -I}`` on ``R^d``: the point reflection ``x -> -x`` (for ``d = 1`` Gideoni's Example 3.1)."""
    eye = torch.eye(d, dtype=dtype)
    return FiniteGroup(rho=torch.stack([eye, -eye]), generators=(1,), name="reflection x -> -x")


def permutation_matrix(perm: np.ndarray | list[int], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Matrix ``P`` with ``(P x)[i] = x[perm[i]]``; shape ``(d, d)`` for ``len(perm) == d``."""
    perm = np.asarray(perm, dtype=np.int64)
    d = perm.size
    if sorted(perm.tolist()) != list(range(d)):
        raise ValueError("perm must be a permutation of 0..d-1")
    mat = torch.zeros(d, d, dtype=dtype)
    mat[torch.arange(d), torch.from_numpy(perm)] = 1.0
    return mat


def rotation_permutation(n: int, quarter_turns: int = 1) -> np.ndarray:
    """Index permutation of a 90°·k rotation of an ``n x n`` image flattened row-major.

    ``x.reshape(n, n)`` rotated by ``np.rot90(., k)`` and flattened equals ``x[perm]``.
    """
    idx = np.arange(n * n).reshape(n, n)
    return np.rot90(idx, quarter_turns).reshape(-1).copy()


def c4_rotations(n: int, dtype: torch.dtype = torch.float64) -> FiniteGroup:
    """The cyclic group C4 of exact 90° rotations of ``n x n`` images as ``(4, n², n²)`` permutation matrices.

    ``rho[k] x`` is the flattened ``np.rot90(x.reshape(n, n), k)``; generator ``rho[1]``.
    """
    rho = torch.stack([permutation_matrix(rotation_permutation(n, k), dtype) for k in range(4)])
    return FiniteGroup(rho=rho, generators=(1,), name=f"C4 on {n}x{n}")


def permutation_group(
    generators: list[np.ndarray] | list[list[int]], dtype: torch.dtype = torch.float64, name: str = ""
) -> FiniteGroup:
    """The permutation group generated by index permutations, closed by breadth-first search.

    Args:
        generators: index permutations of ``0..d-1`` (each as in :func:`permutation_matrix`).
    Returns:
        FiniteGroup with ``rho`` ``(|G|, d, d)``; ``rho[0]`` the identity, generators at indices 1..M
        (a generator equal to the identity or to an earlier one keeps the first index).
    """
    gens = [tuple(int(i) for i in g) for g in generators]
    d = len(gens[0])
    identity = tuple(range(d))
    elements: list[tuple[int, ...]] = [identity]
    index = {identity: 0}
    gen_idx = []
    for g in gens:
        if g not in index:
            index[g] = len(elements)
            elements.append(g)
        gen_idx.append(index[g])
    frontier = list(elements)
    while frontier:
        new = []
        for p in frontier:
            for g in gens:
                q = tuple(g[p[i]] for i in range(d))  # P(q) = P(p) P(g)
                if q not in index:
                    index[q] = len(elements)
                    elements.append(q)
                    new.append(q)
        frontier = new
    rho = torch.stack([permutation_matrix(list(e), dtype) for e in elements])
    return FiniteGroup(rho=rho, generators=tuple(dict.fromkeys(gen_idx)), name=name)


def group_average(rho: torch.Tensor) -> torch.Tensor:
    """Invariant projector ``Gbar = (1/|G|) sum_h rho(h)``; ``rho`` ``(|G|, d, d)`` -> ``(d, d)``.

    For a unitary (e.g. permutation) representation ``Gbar`` is the orthogonal projector onto the
    invariant vectors and equals ``I - G G^+`` (spec §2); ``W`` is invariant iff ``W = W Gbar``.
    """
    return rho.mean(dim=0)


def split_weights(w: torch.Tensor, projector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W Gbar, W (I - Gbar))`` for weights ``(..., d)`` and the invariant projector ``Gbar`` ``(d, d)``:
    the symmetric/asymmetric decomposition used by every page (see :meth:`FiniteGroup.split`)."""
    sym = w @ projector.to(w.dtype)
    return sym, w - sym


def constraint_matrix(generator_rho: torch.Tensor) -> torch.Tensor:
    """``G = I - rho(g0)`` (Prop 4), or ``[I - rho(g_1), ..., I - rho(g_M)]`` for a stack of generators.

    Args:
        generator_rho: ``(d, d)`` or ``(M, d, d)``.
    Returns:
        ``(d, d)`` or ``(d, M d)``; ``x -> W x`` is invariant iff ``W G = 0``.
    """
    if generator_rho.dim() == 2:
        generator_rho = generator_rho[None]
    eye = torch.eye(generator_rho.shape[-1], dtype=generator_rho.dtype)
    return torch.cat([eye - r for r in generator_rho], dim=1)


def _as_permutations(rho: torch.Tensor) -> np.ndarray:
    """``(|G|, d, d)`` permutation matrices -> ``(|G|, d)`` index arrays; raises if not permutations."""
    r = rho.detach().cpu().numpy()
    if not (np.isin(r, (0.0, 1.0)).all() and (r.sum(axis=-1) == 1).all() and (r.sum(axis=-2) == 1).all()):
        raise ValueError("orbits are defined here for permutation representations only")
    return r.argmax(axis=-1)


def permutation_orbits(rho: torch.Tensor) -> list[list[int]]:
    """Orbits of coordinate indices under a permutation representation, sorted by smallest member.

    Args:
        rho: ``(|G|, d, d)`` permutation matrices.
    Returns:
        list of orbits, each a sorted list of flat indices; e.g. C4 on 14x14 gives 49 orbits of size 4,
        one of them ``[45, 52, 143, 150]`` (pixel (3, 3)).
    """
    perms = _as_permutations(rho)
    d = perms.shape[1]
    seen = np.zeros(d, dtype=bool)
    orbits = []
    for i in range(d):
        if not seen[i]:
            orbit = sorted(set(perms[:, i].tolist()))
            seen[orbit] = True
            orbits.append(orbit)
    return orbits


def orbit_basis(
    orbits: list[list[int]], d: int, scale: str = "average", dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Hard-wiring basis ``B_orbit`` of shape ``(n_orbits, d)`` with ``B_orbit G = 0``.

    Row ``k`` is supported on orbit ``k``. ``scale="average"``: entries ``1/|orbit|`` so ``B x`` is the vector
    of orbit averages (spec default; for C4 ``4 B^T B = Gbar``). ``scale="orthonormal"``: entries
    ``1/sqrt(|orbit|)`` so ``B B^T = I`` and ``B^T B = Gbar``.
    """
    basis = torch.zeros(len(orbits), d, dtype=dtype)
    for k, orbit in enumerate(orbits):
        if scale == "average":
            value = 1.0 / len(orbit)
        elif scale == "orthonormal":
            value = 1.0 / len(orbit) ** 0.5
        else:
            raise ValueError(f"scale must be 'average' or 'orthonormal', not {scale!r}")
        basis[k, orbit] = value
    return basis


def equivalent_representation(group: FiniteGroup, s: torch.Tensor, name: str = "") -> FiniteGroup:
    """The equivalent representation ``h -> S rho(h) S^{-1}`` for an invertible ``S`` ``(d, d)``.

    Non-unitary unless ``S`` is a multiple of an orthogonal matrix; its invariant vectors are ``S`` times those of
    ``group``. Used to test what the unitarity hypotheses of Duan & Montúfar (Prop 11, Thm 12) are needed for.
    """
    s = s.to(group.rho.dtype)
    rho = s @ group.rho @ torch.linalg.inv(s)
    return FiniteGroup(rho=rho, generators=group.generators, name=name or f"S ({group.name}) S^-1")


def tuple_permutation(perm: np.ndarray | list[int], k: int) -> np.ndarray:
    """The action of a permutation ``p`` of ``n`` points on index ``k``-tuples, as a permutation of ``n**k`` flat indices.

    Flat index of ``(i_1, ..., i_k)`` is row-major; the tuple goes to ``(p(i_1), ..., p(i_k))``. With ``k = 2`` this is
    ``A -> P A P^T`` on row-major ``vec(A)``; with ``k = 4`` it acts on a dense layer ``R^{n x n} -> R^{n x n}``
    stored as ``(i, j, k, l)`` (Maron et al. 2019).
    Returns:
        ``(n**k,)`` integer array ``q`` with ``q[flat(t)] = flat(p(t))``.
    """
    p = np.asarray(perm, dtype=np.int64)
    n = p.shape[0]
    grids = np.meshgrid(*([np.arange(n)] * k), indexing="ij")
    flat = np.zeros(grids[0].shape, dtype=np.int64)
    for g in grids:
        flat = flat * n + p[g]
    return flat.reshape(-1)


def orbit_labels(generators: list[np.ndarray] | list[list[int]]) -> np.ndarray:
    """Orbit label of every index under the permutation group spanned by ``generators`` (no element enumeration).

    Orbits are the connected components of ``i -> g(i)`` over the generators, so groups too large to list
    (e.g. ``S_10`` acting on ``10^4`` index tuples, generated by a transposition and a 10-cycle) are handled.
    Returns:
        ``(d,)`` int64 labels ``0..m-1``, numbered by the smallest member of each orbit.
    """
    gens = [np.asarray(g, dtype=np.int64) for g in generators]
    d = gens[0].shape[0]
    parent = np.arange(d)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for g in gens:
        for i in range(d):
            a, b = root(i), root(int(g[i]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(d)])
    _, labels = np.unique(roots, return_inverse=True)  # roots are orbit minima, so unique() numbers by smallest member
    return labels.astype(np.int64)


@dataclass(frozen=True)
class OrbitProjector:
    """Orthogonal projector onto the invariant vectors of a permutation representation, by orbit averaging.

    For a permutation representation the twirl ``E_g rho(g) v`` replaces each entry by the mean over its orbit;
    this is the orthogonal projection onto the fixed-point space (spanned by the orbit indicators). Orbits listed in
    ``zero`` are projected to 0 instead: with an admissible support ``Ω`` this gives the projector onto
    ``E = H_G ∩ L`` when ``Ω' = ∩_g gΩ`` is a union of orbits (Flinth & Ohlsson, compatibility).

    Attributes:
        labels: ``(d,)`` orbit label per flat index of the acted-on dimensions.
        shape: shape of the acted-on trailing dimensions, ``prod(shape) = d``.
        keep: ``(m,)`` bool, orbits kept (``False``: orbit lies outside the admissible support).
        sizes: ``(m,)`` number of entries of each orbit.
    """

    labels: torch.Tensor
    shape: tuple[int, ...]
    keep: torch.Tensor
    sizes: torch.Tensor

    @classmethod
    def from_generators(
        cls, generators: list[np.ndarray] | list[list[int]], shape: tuple[int, ...], support: np.ndarray | None = None
    ) -> "OrbitProjector":
        """Projector for the group spanned by index permutations of ``prod(shape)`` entries.

        Args:
            support: optional ``shape`` bool mask ``Ω``; orbits not entirely inside ``Ω`` are zeroed, which keeps
                ``Ω' = ∩_g gΩ``.
        """
        labels = orbit_labels(generators)
        if labels.shape[0] != int(np.prod(shape)):
            raise ValueError(f"generators act on {labels.shape[0]} indices, shape {shape} has {int(np.prod(shape))}")
        m = int(labels.max()) + 1
        keep = np.ones(m, dtype=bool)
        if support is not None:
            inside = np.asarray(support, dtype=bool).reshape(-1)
            keep = np.bincount(labels, weights=(~inside).astype(float), minlength=m) == 0
        return cls(labels=torch.as_tensor(labels), shape=tuple(shape), keep=torch.as_tensor(keep),
                   sizes=torch.as_tensor(np.bincount(labels, minlength=m)))

    @property
    def n_orbits(self) -> int:
        return int(self.keep.shape[0])

    @property
    def dim(self) -> int:
        """Dimension of the image (kept orbits) per leading index."""
        return int(self.keep.sum())

    def project(self, w: torch.Tensor) -> torch.Tensor:
        """``Π w`` over the trailing ``shape`` dimensions of ``w`` ``(..., *shape)``; same shape and dtype."""
        lead = w.shape[: w.dim() - len(self.shape)]
        if tuple(w.shape[len(lead):]) != self.shape:
            raise ValueError(f"trailing dimensions {tuple(w.shape[len(lead):])} are not {self.shape}")
        labels = self.labels.to(w.device)
        flat = w.reshape(-1, labels.shape[0])
        sums = torch.zeros(flat.shape[0], self.n_orbits, dtype=w.dtype, device=w.device)
        sums.index_add_(1, labels, flat)
        means = sums / self.sizes.to(w.dtype).to(w.device) * self.keep.to(w.dtype).to(w.device)
        return means[:, labels].reshape(w.shape)

    def basis(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Orthonormal basis of the image, ``(dim, d)``: normalised indicators of the kept orbits."""
        rows = [o for o in range(self.n_orbits) if bool(self.keep[o])]
        basis = torch.zeros(len(rows), self.labels.shape[0], dtype=dtype)
        for r, o in enumerate(rows):
            basis[r, self.labels == o] = 1.0 / float(self.sizes[o]) ** 0.5
        return basis
