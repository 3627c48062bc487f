"""Batched vs sequential training of the Fig. 3 workload (Duan & Montúfar), in one process.

The workload: data augmentation and the regularized network at every λ of the MSE grid, for ``--seeds`` seeds,
logged every epoch as on the Fig. 3 page. *Batched* trains it the way the notebooks do (one program for the DA seeds,
one for all λ × seeds); *sequential* trains each configuration on its own, one after another. Both use the same
engine, data and initial weights, so the logged curves must agree to float32 round-off; the script checks that and
prints the speed ratio. A short untimed warm-up run first keeps torch's one-off start-up costs out of both timings.

    .venv/bin/python benchmarks/batched_vs_sequential.py --epochs 1000 --seeds 5
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from invlearn.duan.problem import mnist_problem
from invlearn.duan.linear import lambda_key, train_linear_methods


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1000, help="full-batch epochs per configuration")
    parser.add_argument("--seeds", type=int, default=5, help="initialisation seeds (configurations: 4 per seed)")
    parser.add_argument("--lambdas", type=float, nargs="+", default=[1e-3, 1e-2, 1e-1], help="regularization grid")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    problem = mnist_problem(n_samples=1000, seed=0)
    seeds = list(range(args.seeds))
    common = dict(methods=("DA", "regularized"), loss="mse", epochs=args.epochs, lr=1e-3, metrics=("noninvariant_norm",))

    train_linear_methods(problem, lambdas=args.lambdas, seeds=seeds, **{**common, "epochs": 2})  # warm-up, untimed
    start = time.perf_counter()
    batched = train_linear_methods(problem, lambdas=args.lambdas, seeds=seeds, **common)
    batched_seconds = time.perf_counter() - start

    start = time.perf_counter()
    sequential = {}
    for seed in seeds:
        da = train_linear_methods(problem, **{**common, "methods": ("DA",)}, lambdas=(), seeds=[seed])
        sequential[("DA", seed)] = da.noninvariant_norm["DA"][:, 0]
        for lam in args.lambdas:
            reg = train_linear_methods(problem, **{**common, "methods": ("regularized",)}, lambdas=[lam], seeds=[seed])
            sequential[(lambda_key(lam), seed)] = reg.noninvariant_norm[lambda_key(lam)][:, 0]
    sequential_seconds = time.perf_counter() - start

    max_difference = max(
        float(np.abs(batched.noninvariant_norm[name][:, seeds.index(seed)] - curve).max())
        for (name, seed), curve in sequential.items()
    )
    result = {
        "configurations": len(sequential),
        "epochs": args.epochs,
        "torch_threads": torch.get_num_threads(),
        "batched_seconds": batched_seconds,
        "sequential_seconds": sequential_seconds,
        "speed_ratio": sequential_seconds / batched_seconds,
        "max_abs_difference_noninvariant_norm": max_difference,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['configurations']} configurations × {args.epochs} epochs, {result['torch_threads']} torch threads")
        print(f"batched:    {batched_seconds:8.1f} s")
        print(f"sequential: {sequential_seconds:8.1f} s")
        print(f"speed ratio (sequential / batched): {result['speed_ratio']:.1f}×")
        print(f"max |difference| of the logged ‖W⊥‖ curves: {max_difference:.2e}")
    return result


if __name__ == "__main__":
    main()
