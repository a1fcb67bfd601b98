"""Time per iteration of CosineAutoencoder's two losses at three sizes.

One L-BFGS iteration of :class:`skcosim.CosineAutoencoder` costs one
evaluation of the loss and its analytic gradient (more when the line search
backtracks). This script times that evaluation (median of ``--repeats``) and
prints it next to the size that should set it (docs/user_guide/objectives.rst,
Objective 3):

- squared loss: ``O(nnz(X) k + (n + p) k^2)``, linear in the non-zeros;
- softmax loss: ``O(n p k)``, linear in ``n x p`` (blocks of users).

Wall-clock and CPU time (all threads) are both printed: on a shared machine
the CPU time is the steadier of the two.

Run: ``python benchmarks/bench_cosine.py`` (a minute or two on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp

from skcosim._optim._losses import (
    cosine_softmax_loss_grad,
    cosine_squared_loss_grad,
    resolve_batch_size,
)


def random_interactions(n, p, nnz, seed=0):
    """Binary sparse ``n x p`` with about ``nnz`` non-zeros, power-law items."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=nnz)
    weights = 1.0 / np.arange(1, p + 1) ** 0.8
    cols = rng.choice(p, size=nnz, p=weights / weights.sum())
    X = sp.csr_matrix((np.ones(nnz), (rows, cols)), shape=(n, p))
    X.data[:] = 1.0
    return X


def median_time(fn, repeats):
    """Median wall-clock and CPU seconds of ``fn()``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    k = args.n_components
    rng = np.random.default_rng(0)

    print(f"squared loss, k = {k}: time per evaluation, linear in nnz?")
    print(
        f"{'n':>8} {'p':>7} {'nnz':>10} {'wall s':>8} {'cpu s':>8} {'cpu ns/nnz/k':>12}"
    )
    for n in (50_000, 100_000, 200_000):
        p, nnz = 20_000, 10 * n
        X = random_interactions(n, p, nnz)
        A, B = rng.standard_normal((p, k)), rng.standard_normal((p, k))
        t, cpu = median_time(
            lambda X=X, A=A, B=B: cosine_squared_loss_grad(X, A, B), args.repeats
        )
        print(
            f"{n:>8} {p:>7} {X.nnz:>10} {t:>8.3f} {cpu:>8.3f} "
            f"{1e9 * cpu / (X.nnz * k):>12.2f}"
        )

    print(f"\nsoftmax loss, k = {k}, batch_size='auto': linear in n x p?")
    print(
        f"{'n':>8} {'p':>7} {'n x p':>10} {'wall s':>8} {'cpu s':>8} {'cpu ns/npk':>12}"
    )
    for n, p in ((5_000, 2_000), (10_000, 2_000), (10_000, 4_000)):
        X = random_interactions(n, p, 20 * n)
        A, B = rng.standard_normal((p, k)), rng.standard_normal((p, k))
        batch = resolve_batch_size("auto", n, p)
        t, cpu = median_time(
            lambda X=X, A=A, B=B, batch=batch: cosine_softmax_loss_grad(
                X, A, B, temperature=0.1, batch_size=batch
            ),
            args.repeats,
        )
        print(
            f"{n:>8} {p:>7} {n * p:>10} {t:>8.3f} {cpu:>8.3f} "
            f"{1e9 * cpu / (n * p * k):>12.3f}"
        )


if __name__ == "__main__":
    main()
