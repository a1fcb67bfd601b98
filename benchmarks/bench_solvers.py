"""Which top-k solver is fastest, by shape: the evidence for ``solver="auto"``.

Times every solver of :func:`skcosim._linalg._spectrum.top_k_spectrum` (and, for
reference, ``scipy.sparse.linalg.svds`` and scikit-learn's ``TruncatedSVD``) on
power-law sparse matrices whose smaller side ``m`` grows, in one process run,
interleaved over ``--repeat`` rounds (the minimum is kept). "err" is the worst
relative error of the top-k singular values against the ``"gram"`` solver in
float64 (exact to machine precision).

Usage::

    python benchmarks/bench_solvers.py --dims 500,1000,2000,3000,5000 --k 64
"""

from __future__ import annotations

import argparse

import numpy as np
from _data import make_powerlaw
from _timing import interleaved
from scipy.sparse.linalg import svds
from sklearn.decomposition import TruncatedSVD

from skcosim._linalg._spectrum import top_k_spectrum


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", default="500,1000,2000,3000,5000")
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--rows-per-item", type=int, default=40)
    parser.add_argument("--nnz-per-row", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--transpose", action="store_true", help="items > users (n < p) instead"
    )
    args = parser.parse_args(argv)
    k = args.k
    print("| m | shape | nnz | solver | time (s) | err |")
    print("|---|---|---|---|---|---|")
    for m in (int(d) for d in args.dims.split(",")):
        n = args.rows_per_item * m
        X = make_powerlaw(n, m, n * args.nnz_per_row, random_state=0)
        if args.transpose:
            X = X.T.tocsr()
        X32 = X.astype(np.float32)
        methods = {
            "gram": lambda X=X: top_k_spectrum(X, k, solver="gram")[0],
            "arpack": lambda X=X: top_k_spectrum(X, k, solver="arpack", random_state=0)[
                0
            ],
            "arpack float32": lambda X=X32: top_k_spectrum(
                X, k, solver="arpack", random_state=0
            )[0],
            "randomized n_iter=10": lambda X=X: top_k_spectrum(
                X, k, solver="randomized", random_state=0
            )[0],
            "svds arpack": lambda X=X: np.sort(
                svds(X, k=k, random_state=0, return_singular_vectors=False)
            )[::-1],
            "TruncatedSVD": lambda X=X: (
                TruncatedSVD(k, random_state=0).fit(X).singular_values_
            ),
        }
        res = interleaved(methods, args.repeat)
        ref = np.asarray(res["gram"][1], dtype=np.float64)
        for name, (seconds, values) in res.items():
            err = np.max(np.abs(np.asarray(values, dtype=np.float64) - ref) / ref)
            print(
                f"| {m} | {X.shape[0]} x {X.shape[1]} | {X.nnz} | {name} | "
                f"{seconds:.2f} | {err:.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
