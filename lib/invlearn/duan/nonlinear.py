"""Duan & Montúfar, appendix C.3 (Figs 10–11): two-layer nonlinear networks trained with data augmentation or
hard-wired through the orbit basis, a held-out split, and the median invariance discrepancy ε_inv on held-out
digits and on Gaussian inputs. All activations × seeds of one method and width train as one batched program."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

import invlearn.core.groups
import invlearn.core.models
import invlearn.core.training
import invlearn.duan.problem
from invlearn.core.data import downsample, draw_subset, find_mnist_dir, load_mnist
from invlearn.core.groups import FiniteGroup
from invlearn.core.models import BatchedMLP
from invlearn.core.runcache import RunCache, array_digest, source_digest
from invlearn.core.training import TrainConfig, train
from invlearn.duan.linear import problem_identity, seed_blocks
from invlearn.duan.metrics import invariance_discrepancy
from invlearn.duan.problem import MnistProblem, mnist_problem

__all__ = ["ACTIVATION_NAMES", "HeldOutSplit", "heldout_split", "split_note", "nonlinear_key", "NonlinearRuns", "train_nonlinear_methods", "loss_gap_table", "eps_inv_table", "EpsInvClaims", "eps_inv_claims", "orbit_outputs", "median_invariance_discrepancy"]


ACTIVATION_NAMES = {"leaky_relu": "Leaky ReLU", "relu": "ReLU", "swish": "Swish", "tanh": "Tanh"}
"""The activations of App. C.3 in the paper's order, with their names in the paper's figures."""


@dataclass(frozen=True)
class HeldOutSplit:
    """Training sets of several sizes and a disjoint test set of MNIST digits (App. C.3).

    Attributes:
        problems: requested training size -> :class:`~invlearn.duan.problem.MnistProblem` (its ``x`` may hold fewer digits, see ``n_train``).
        n_train: requested training size -> digits actually drawn.
        x_test: ``(m, d)`` preprocessed test digits; labels_test: ``(m,)``.
        test_indices: ``(m,)`` indices of the test digits in their source split.
        source: source of the digits; test_source: where the test digits come from.
        reduced: whether a size was reduced to keep the test set disjoint.
    """

    problems: dict[int, MnistProblem]
    n_train: dict[int, int]
    x_test: torch.Tensor
    labels_test: torch.Tensor
    test_indices: np.ndarray
    source: str
    test_source: str
    reduced: bool


def heldout_split(
    n_train: Sequence[int], n_test: int, seed: int = 0, min_test: int = 500, exclude_digits: tuple[int, ...] = (9,), side: int = 14
) -> HeldOutSplit:
    """Training subsets and a test set that never shares a digit with them.

    With full MNIST on disk the test digits are a seeded draw of ``n_test`` from the test split and every training
    set a seeded draw of ``n`` from the training split. With only the embedded digits (4,500 without the 9) the
    test set is drawn first, ``min(n_test, max(min_test, pool - max(n_train)))`` digits, and the training sets are
    drawn from the remaining pool, each reduced to at most what is left. Equal seeds make the smaller training
    sets prefixes of the larger ones' random order.
    """
    full = find_mnist_dir() is not None
    kept = [d for d in range(10) if d not in exclude_digits]
    relabel = np.full(10, -1, dtype=np.int64)
    relabel[kept] = np.arange(len(kept))
    if full:
        test = load_mnist("test")
        test_idx = draw_subset(test.labels, n_test, seed, exclude_digits=exclude_digits)
        exclude, cap, test_source = None, None, "MNIST test split"
    else:
        test = load_mnist("train")
        pool = int(np.isin(test.labels, kept).sum())
        m = min(n_test, max(min_test, pool - max(n_train)))
        test_idx = draw_subset(test.labels, m, seed, exclude_digits=exclude_digits)
        exclude, cap, test_source = test_idx, pool - m, "embedded training digits held out from every training set"
    sizes = {int(n): int(n) if cap is None else min(int(n), cap) for n in n_train}
    problems = {n: mnist_problem(n_samples=k, seed=seed, exclude_digits=exclude_digits, side=side, exclude=exclude)
                for n, k in sizes.items()}
    x_test = torch.from_numpy(downsample(test.images[test_idx], factor=28 // side).reshape(len(test_idx), -1))
    first = next(iter(problems.values()))
    return HeldOutSplit(
        problems=problems,
        n_train=sizes,
        x_test=x_test.to(first.x.dtype),
        labels_test=torch.from_numpy(relabel[test.labels[test_idx]]),
        test_indices=test_idx,
        source=first.source,
        test_source=test_source,
        reduced=any(k < n for n, k in sizes.items()),
    )


def split_note(split: HeldOutSplit, requested_test: int) -> str:
    """One Markdown paragraph stating where the digits come from and every size that was reduced."""
    sizes = ", ".join(f"{k:,} (asked: {n:,})" if k < n else f"{k:,}" for n, k in split.n_train.items())
    text = (f"**Data.** Training digits: {sizes}, drawn from `{split.source}`; test digits: {len(split.test_indices):,}"
            f"{f' (asked: {requested_test:,})' if len(split.test_indices) < requested_test else ''}, from the {split.test_source}.")
    if split.test_source != "MNIST test split" and (split.reduced or len(split.test_indices) < requested_test):
        text += (" Full MNIST is not on disk, so the sizes are the largest that leave a disjoint held-out test set in the"
                 " 4,500 non-9 embedded digits; with full MNIST (see the README) the notebook runs at the paper's sizes.")
    return "> " + text


def nonlinear_key(activation: str, width: int, method: str) -> str:
    """Series name of a nonlinear run: ``relu_w7_DA``, ``tanh_w15_constrained``."""
    return f"{activation}_w{width}_{method}"


@dataclass
class NonlinearRuns:
    """Training logs and trained networks of the two-layer nonlinear networks, keyed by :func:`nonlinear_key`.

    Attributes:
        epochs: ``(T,)`` logged epochs: 0, every ``log_every``-th, and the last.
        loss: name -> ``(T, S)`` training loss on the method's training set, one column per seed.
        final_loss: name -> ``(S,)`` loss after the last epoch.
        models: ``(method, width)`` -> the trained :class:`~invlearn.core.models.BatchedMLP` of that program.
        names: ``(method, width)`` -> the names of its configuration blocks (S seeds each).
        seconds: ``(method, width)`` -> wall time of that program's training.
        run_ids: ``(method, width)`` -> the stored runs used, one per seed (with a run store only).
    """

    epochs: np.ndarray
    loss: dict[str, np.ndarray] = field(default_factory=dict)
    final_loss: dict[str, np.ndarray] = field(default_factory=dict)
    models: dict[tuple[str, int], BatchedMLP] = field(default_factory=dict)
    names: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    seconds: dict[tuple[str, int], float] = field(default_factory=dict)
    run_ids: dict[tuple[str, int], list[dict[str, str]]] = field(default_factory=dict)


def train_nonlinear_methods(
    problem: MnistProblem,
    *,
    methods: Sequence[str] = ("constrained", "DA"),
    activations: Sequence[str] = tuple(ACTIVATION_NAMES),
    widths: Sequence[int] = (7, 15),
    loss: str = "mse",
    epochs: int = 4000,
    lr: float = 1e-3,
    batch_size: int | None = None,
    seeds: Sequence[int] = (0,),
    log_every: int = 1,
    cache: RunCache | None = None,
) -> NonlinearRuns:
    """Train the two-layer networks of App. C.3 (no biases) and keep their training loss.

    * ``"DA"``: ``f(x) = W_2 σ(W_1 x)``, ``W_1`` ``(width, d_0)``, on all ``|G| n`` rotated samples.
    * ``"constrained"``: ``f(x) = W_2 σ(W_1 B_orbit x)``, ``W_1`` ``(width, n_orbits)``, on the ``n`` original samples
      (an invariant network has the same loss on the augmented set). It is trained on the orbit features
      ``B_orbit x``, computed once: the same network and initialisation as :class:`~invlearn.core.models.BatchedMLP` with ``basis``.

    All activations × seeds of one method and width train as one batched program (configuration
    ``i S + s`` is activation ``i``, seed ``s``); a seed gives every activation the same initial weights.

    Args:
        problem: the MNIST setup.
        loss: ``"mse"`` (one-hot targets, the paper's) or ``"ce"``.
        log_every: period of the logged loss in epochs (the engine evaluates it every epoch anyway).
        cache: a run store. With it, every seed trains as its own program (all activations of one method and width),
            stored under its protocol (arguments, data, source of the computing modules), so that pages asking for
            overlapping seeds share the runs (Fig. 11 reuses Fig. 10's); ``run_ids`` says which were used and
            ``seconds`` counts the computed ones only. Without it all seeds train as one batched program.
    """
    cfg = TrainConfig(epochs=epochs, loss=loss, optimizer="adam", lr=lr, batch_size=batch_size)
    basis = problem.group.orbit_basis("average").to(problem.x.dtype)
    data = {
        "DA": (problem.x_aug, problem.y_aug if loss == "mse" else problem.labels_aug),
        "constrained": (problem.x @ basis.T, problem.y if loss == "mse" else problem.labels),
    }
    logged = sorted(set(range(0, epochs + 1, log_every)) | {epochs})
    runs = NonlinearRuns(epochs=np.asarray(logged))
    seeds = [int(s) for s in seeds]
    config_acts = [a for a in activations for _ in seeds]
    config_seeds = [s for _ in activations for s in seeds]
    for method in methods:
        x, target = data[method]
        for width in widths:
            dims = (x.shape[1], width, problem.n_classes)
            model = BatchedMLP(dims, config_seeds, activation=config_acts)
            names = [nonlinear_key(a, width, method) for a in activations]
            if cache is None:
                history = train(model, x, target, cfg, desc=f"{method} width {width}")
                loss_log, seconds = history.loss, history.seconds
            else:
                loss_log, seconds, runs.run_ids[method, width] = _train_per_seed(
                    model, x, target, cfg, cache, activations, seeds, method, dims, problem)
            for name, block in seed_blocks(names, len(seeds)):
                runs.loss[name] = loss_log[logged, block]
                runs.final_loss[name] = loss_log[-1, block]
            runs.models[method, width] = model
            runs.names[method, width] = names
            runs.seconds[method, width] = seconds
    return runs


_RUN_MODULES = (invlearn.core.groups, invlearn.core.models, invlearn.core.training, invlearn.duan.problem)


def _train_per_seed(
    model: BatchedMLP, x: torch.Tensor, target: torch.Tensor, cfg: TrainConfig, cache: RunCache,
    activations: Sequence[str], seeds: Sequence[int], method: str, dims: tuple[int, ...], problem: MnistProblem,
) -> tuple[np.ndarray, float, list[dict[str, str]]]:
    """Train ``model`` (configurations laid out activation-major, ``i S + s``) one seed at a time through the run
    store: each seed's program (all activations) is loaded when stored, else trained and stored. Fills ``model``'s
    weights and returns its ``(epochs + 1, K)`` loss log, the summed training seconds (of computed programs) and the
    ids of the runs used."""
    ids = []
    n_seeds = len(seeds)
    loss_log = np.zeros((cfg.epochs + 1, len(activations) * n_seeds))
    seconds = 0.0
    for s, seed in enumerate(seeds):
        protocol = {
            "program": "invlearn.duan.nonlinear", "method": method, "dims": list(dims), "activations": list(activations),
            "seed": seed, "train": dataclasses.asdict(cfg), "data": problem_identity(problem),
            "inputs": array_digest(x, target), "source": source_digest((*_RUN_MODULES, sys.modules[__name__])),
        }

        def compute(seed=seed):
            alone = BatchedMLP(dims, [seed] * len(activations), activation=list(activations))
            history = train(alone, x, target, cfg, desc=f"{method} width {dims[1]} seed {seed}")
            arrays = {"loss": history.loss, "seconds": np.asarray(history.seconds),
                      **{f"weight_{j}": w.detach() for j, w in enumerate(alone.weights)}}
            return arrays, {}

        run = cache.get_or_compute(protocol, compute)
        ids.append({"id": run.run_id, "status": run.status})
        with torch.no_grad():
            for j, w in enumerate(model.weights):
                w[s::n_seeds] = torch.from_numpy(run.arrays[f"weight_{j}"]).to(w.dtype)
        loss_log[:, s::n_seeds] = run.arrays["loss"]
        seconds += float(run.arrays["seconds"]) if run.computed else 0.0
    return loss_log, seconds, ids


def loss_gap_table(final_loss: dict[str, float], activations: Sequence[str], widths: Sequence[int]):
    """Final losses of DA and the constrained network and their relative gap ``|L_DA - L_C| / L_C``.

    Args:
        final_loss: :func:`nonlinear_key` -> final loss.
    Returns:
        ``(table, gap)``: a ``pandas.DataFrame`` with one row per activation, and ``gap[activation][width]``.
    """
    import pandas as pd

    gap, rows = {}, {}
    for act in activations:
        row, gap[act] = {}, {}
        for w in widths:
            da, con = final_loss[nonlinear_key(act, w, "DA")], final_loss[nonlinear_key(act, w, "constrained")]
            gap[act][w] = abs(da - con) / con
            row |= {f"constrained w{w}": con, f"DA w{w}": da, f"relative gap w{w}": gap[act][w]}
        rows[ACTIVATION_NAMES.get(act, act)] = row
    return pd.DataFrame.from_dict(rows, orient="index"), gap


def eps_inv_table(median: dict, activations: Sequence[str], widths: Sequence[int], sizes: Sequence[int]):
    """Median ``ε_inv`` as a ``pandas.DataFrame``: rows (activation, width), columns (N, evaluation set).

    Args:
        median: ``"<activation>_w<width>"`` -> ``str(N)`` -> set name -> value (Fig 11's ``metrics.median_eps_inv``).
    """
    import pandas as pd

    rows = {
        (ACTIVATION_NAMES.get(act, act), w): {
            (f"N = {n}", name): value for n in sizes for name, value in median[f"{act}_w{w}"][str(n)].items()
        }
        for act in activations
        for w in widths
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(["activation", "width"])


@dataclass(frozen=True)
class EpsInvClaims:
    """The three claims of Fig. 11 evaluated on one table of median ``ε_inv`` (:func:`eps_inv_claims`).

    Attributes:
        geo: ``(width, N, set)`` -> geometric mean over the activations of the medians.
        bottleneck_mean: ``(N, set)`` -> claim 1 on the geometric means: smallest width below largest width.
        bottleneck_cells: ``(activation, N, set)`` -> claim 1 per activation.
        more_data: ``(width, set)`` -> claim 2: geometric mean at the largest N below that at the smallest N.
        ratio: ``(activation, width, N)`` -> Gaussian median / MNIST median.
        largest_factor: the largest of ``max(ratio, 1 / ratio)``.
        robust: claim 3: ``largest_factor <= same_order``.
    """

    geo: dict[tuple[int, str, str], float]
    bottleneck_mean: dict[tuple[str, str], bool]
    bottleneck_cells: dict[tuple[str, str, str], bool]
    more_data: dict[tuple[int, str], bool]
    ratio: dict[tuple[str, int, str], float]
    largest_factor: float
    robust: bool


def eps_inv_claims(
    median: dict, activations: Sequence[str], widths: Sequence[int], sizes: Sequence[int], same_order: float,
    sets: Sequence[str] = ("mnist", "gaussian"),
) -> EpsInvClaims:
    """Evaluate Fig. 11's claims on medians ``median["<activation>_w<width>"][str(N)][set]`` (floats, one per
    network): (1) smaller with the bottleneck (the smallest width), on the geometric mean over activations and per
    activation; (2) smaller at the largest N than at the smallest, per width and set; (3) the Gaussian and MNIST
    medians of every network within a factor ``same_order``."""
    narrow, wide = min(widths), max(widths)
    small, large = str(min(sizes)), str(max(sizes))
    ns = [str(n) for n in sizes]
    m = {(a, w, n, s): float(median[f"{a}_w{w}"][n][s]) for a in activations for w in widths for n in ns for s in sets}
    geo = {(w, n, s): float(np.exp(np.mean([np.log(m[a, w, n, s]) for a in activations]))) for w in widths for n in ns for s in sets}
    ratio = {(a, w, n): m[a, w, n, "gaussian"] / m[a, w, n, "mnist"] for a in activations for w in widths for n in ns}
    factor = max(max(r, 1 / r) for r in ratio.values())
    return EpsInvClaims(
        geo=geo,
        bottleneck_mean={(n, s): geo[narrow, n, s] < geo[wide, n, s] for n in ns for s in sets},
        bottleneck_cells={(a, n, s): m[a, narrow, n, s] < m[a, wide, n, s] for a in activations for n in ns for s in sets},
        more_data={(w, s): geo[w, large, s] < geo[w, small, s] for w in widths for s in sets},
        ratio=ratio,
        largest_factor=float(factor),
        robust=bool(factor <= same_order),
    )


def orbit_outputs(model: BatchedMLP, group: FiniteGroup, x: torch.Tensor, chunk: int = 2500) -> torch.Tensor:
    """Outputs of K networks on every transform of every input.

    Args:
        model: K networks taking ``(n, d)`` inputs.
        x: ``(n, d)`` inputs, evaluated in chunks of ``chunk``.
    Returns:
        ``(K, |G|, n, c)`` with ``[k, h, i] = f_k(rho(h) x_i)``.
    """
    parts = []
    with torch.no_grad():
        for xb in x.split(chunk):
            moved = group.act(xb)  # (|G|, b, d)
            out = model(moved.reshape(-1, x.shape[1]))
            parts.append(out.reshape(out.shape[0], group.order, xb.shape[0], -1))
    return torch.cat(parts, dim=2)


def median_invariance_discrepancy(
    runs: NonlinearRuns, group: FiniteGroup, inputs: dict[str, torch.Tensor], per_class: bool = False, method: str = "DA"
) -> dict[str, dict[str, np.ndarray]]:
    """Median over each input set of ``ε_inv(f, x)`` (:func:`~invlearn.duan.metrics.invariance_discrepancy`) for every trained ``method`` network.

    Args:
        inputs: set name -> ``(n, d)`` inputs (e.g. ``"mnist"``: held-out digits, ``"gaussian"``: N(0, I) points).
    Returns:
        name -> set name -> ``(S,)`` medians, one per seed.
    """
    result: dict[str, dict[str, np.ndarray]] = {}
    for (m, _), model in runs.models.items():
        if m != method:
            continue
        names = runs.names[m, _]
        for set_name, x in inputs.items():
            eps = invariance_discrepancy(orbit_outputs(model, group, x.to(model.weights[0].dtype)), per_class=per_class)
            medians = np.median(eps.numpy().astype(np.float64), axis=-1)
            for name, block in seed_blocks(names, len(model.seeds) // len(names)):
                result.setdefault(name, {})[set_name] = medians[block]
    return result
