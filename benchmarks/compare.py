"""skcosim against its peers, side by side, in one process run.

Prints ratios (skcosim time / peer time, lower is better for skcosim) for

- the closed-form fits (``WeightDecayAutoencoder``, ``DropoutAutoencoder``)
  against scikit-learn's ``TruncatedSVD(n_components=k)`` and
  ``scipy.sparse.linalg.svds(solver="arpack")``, with the accuracy of the top-k
  singular values against ``svds`` (exact);
- on MovieLens-100k, against ``implicit``'s ALS (15 iterations, same k), if
  ``implicit`` is installed;
- ``skcosim.metrics.cosine_neighbors`` against scikit-learn's
  ``NearestNeighbors(metric="cosine")`` and faiss ``IndexFlatIP`` on
  normalized vectors (if ``faiss`` is installed);
- ``CosineAutoencoder`` time per L-BFGS iteration at three sizes.

Every timing is the minimum over ``--repeat`` rounds, the methods interleaved
within each round so that a busy machine slows all of them alike. Peak memory
(``--memory``) is measured in separate, untimed fits with :mod:`tracemalloc`
(numpy and scipy allocations are traced), plus the size of ``X`` itself.

Usage::

    python benchmarks/compare.py --sizes small,medium --movielens --neighbors \\
        --cosine-ae
    python benchmarks/compare.py --sizes large --repeat 1 --memory

Synthetic sizes (``benchmarks/_data.py``): small 20,000 x 2,000 (240k nnz),
medium 200,000 x 5,000 (2.4M nnz), large 1,000,000 x 20,000 (10M nnz);
power-law items, log-normal user activity, binary.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from _data import SIZES, load_movielens_100k, make_powerlaw
from _timing import interleaved, timed
from scipy.sparse.linalg import svds
from sklearn.decomposition import TruncatedSVD
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

import skcosim
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder


def _one_blas_thread(fn):
    """Run ``fn`` with BLAS on one thread: what skcosim's Lanczos solver does.

    On a busy machine multi-threaded BLAS can stall (RESULTS.md); this row
    shows the peer under the same setting, so the ratio is not an artefact.
    """
    with threadpool_limits(1, "blas"):
        return fn()


def _peak_memory(fn):
    """Peak bytes allocated while ``fn`` runs (tracemalloc), and its output."""
    gc.collect()
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, out


def _nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def _rel_err(s, ref):
    s = np.asarray(s, dtype=np.float64)[: ref.size]
    return float(np.max(np.abs(s - ref) / ref))


def _machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        ram = float("nan")
    return (
        f"{os.cpu_count()} CPUs ({model}), {ram:.0f} GiB RAM, "
        f"load average {os.getloadavg()[0]:.1f} at start; Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, skcosim "
        f"{skcosim.__version__}"
    )


def _print_table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def _verdict(name, ok, detail):
    print(f"- {'PASS' if ok else 'MISS'}: {name} ({detail})")


# -- closed-form fits ---------------------------------------------------------------


def bench_fit(name, X, k, repeat, memory, targets):
    """Fits vs TruncatedSVD and svds on one matrix; returns the timing table."""
    X32 = X.astype(np.float32)
    methods = {
        "TruncatedSVD (randomized, default)": lambda: TruncatedSVD(
            k, random_state=0
        ).fit(X),
        "TruncatedSVD, BLAS on 1 thread": lambda: _one_blas_thread(
            lambda: TruncatedSVD(k, random_state=0).fit(X)
        ),
        "scipy svds (arpack)": lambda: svds(X, k=k, random_state=0),
        "WeightDecayAutoencoder": lambda: WeightDecayAutoencoder(k, random_state=0).fit(
            X
        ),
        "WeightDecayAutoencoder float32": lambda: WeightDecayAutoencoder(
            k, random_state=0
        ).fit(X32),
        "DropoutAutoencoder": lambda: DropoutAutoencoder(k, random_state=0).fit(X),
    }
    res = interleaved(methods, repeat)
    ref = np.sort(res["scipy svds (arpack)"][1][1])[::-1]
    singular = {
        "TruncatedSVD (randomized, default)": res["TruncatedSVD (randomized, default)"][
            1
        ].singular_values_,
        "TruncatedSVD, BLAS on 1 thread": res["TruncatedSVD, BLAS on 1 thread"][
            1
        ].singular_values_,
        "scipy svds (arpack)": ref,
        "WeightDecayAutoencoder": res["WeightDecayAutoencoder"][1].singular_values_,
        "WeightDecayAutoencoder float32": res["WeightDecayAutoencoder float32"][
            1
        ].singular_values_,
        "DropoutAutoencoder": res["DropoutAutoencoder"][1].singular_values_,
    }
    t_tsvd = res["TruncatedSVD (randomized, default)"][0]
    t_svds = res["scipy svds (arpack)"][0]
    rows = []
    for method, (seconds, _) in res.items():
        rows.append(
            [
                method,
                f"{seconds:.2f}",
                f"{seconds / t_tsvd:.2f}",
                f"{seconds / t_svds:.2f}",
                f"{_rel_err(singular[method], ref):.1e}",
            ]
        )
    if memory:
        for method in ("TruncatedSVD (randomized, default)", "WeightDecayAutoencoder"):
            peak, _ = _peak_memory(methods[method])
            rows.append(
                [
                    f"{method}: peak memory of fit (tracemalloc) + X",
                    f"{(peak + _nbytes(X)) / 2**30:.2f} GiB",
                    "",
                    "",
                    "",
                ]
            )
    _print_table(
        f"{name}: {X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}, k = {k} "
        f"(min of {repeat} run(s))",
        ["method", "time (s)", "/ TruncatedSVD", "/ svds", "max rel. err of s_1..s_k"],
        rows,
    )
    t_wd = res["WeightDecayAutoencoder"][0]
    err_wd = _rel_err(singular["WeightDecayAutoencoder"], ref)
    if name in targets:
        tol = targets[name]
        _verdict(
            f"{name}: WeightDecayAutoencoder fit <= 1.0 x TruncatedSVD(k)",
            t_wd <= t_tsvd,
            f"{t_wd:.2f} s vs {t_tsvd:.2f} s, ratio {t_wd / t_tsvd:.2f}",
        )
        _verdict(
            f"{name}: top-{k} singular values within {tol:g} of ARPACK",
            err_wd <= tol,
            f"max rel. err {err_wd:.1e}",
        )
    return res


def bench_movielens(k, repeat):
    X = load_movielens_100k()
    res = bench_fit("MovieLens-100k", X, k, repeat, False, {})
    t_wd = res["WeightDecayAutoencoder"][0]
    try:
        from implicit.als import AlternatingLeastSquares
    except ImportError:
        print("\n- SKIP: implicit is not installed (pip install implicit)")
        return

    def als():
        model = AlternatingLeastSquares(
            factors=k, iterations=15, random_state=0, use_gpu=False
        )
        # implicit asks for single-threaded BLAS (it runs its own threads).
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, show_progress=False)
        return model

    als_res = interleaved(
        {
            "implicit ALS (15 iterations)": als,
            "WeightDecayAutoencoder": lambda: WeightDecayAutoencoder(
                k, random_state=0
            ).fit(X),
        },
        repeat,
    )
    t_als = als_res["implicit ALS (15 iterations)"][0]
    t_wd = min(t_wd, als_res["WeightDecayAutoencoder"][0])
    _print_table(
        f"MovieLens-100k, k = {k}: implicit ALS",
        ["method", "time (s)", "implicit ALS / method"],
        [
            ["implicit ALS (15 iterations)", f"{t_als:.3f}", "1.00"],
            ["WeightDecayAutoencoder", f"{t_wd:.3f}", f"{t_als / t_wd:.1f}"],
        ],
    )
    _verdict(
        "MovieLens-100k: fit >= 2x faster than implicit ALS (15 it.)",
        t_als >= 2 * t_wd,
        f"ALS {t_als:.3f} s, WeightDecayAutoencoder {t_wd:.3f} s, "
        f"speed-up {t_als / t_wd:.1f}x",
    )


# -- neighbours ---------------------------------------------------------------------


def bench_neighbors(n_rows, dim, n_neighbors, skip_sklearn):
    from skcosim.metrics import cosine_neighbors

    rng = np.random.default_rng(0)
    # clustered embeddings (50 centres) so that neighbourhoods mean something
    centres = rng.standard_normal((50, dim)).astype(np.float32)
    E = centres[rng.integers(0, 50, n_rows)] + rng.standard_normal(
        (n_rows, dim), dtype=np.float32
    )
    rows = []
    t_sk, (idx_sk, sim_sk) = timed(lambda: cosine_neighbors(E, n_neighbors))
    rows.append(["skcosim cosine_neighbors", f"{t_sk:.2f}", "1.00"])
    t_faiss = None
    try:
        import faiss
    except ImportError:
        print("\n- SKIP: faiss is not installed (pip install faiss-cpu)")
    else:

        def run_faiss():
            U = E / np.linalg.norm(E, axis=1, keepdims=True)
            index = faiss.IndexFlatIP(dim)
            index.add(U)
            D, idx = index.search(U, n_neighbors + 1)
            return D[:, 1:], idx[:, 1:]

        t_faiss, (sim_f, idx_f) = timed(run_faiss)
        agree = np.mean(np.sort(idx_f, axis=1) == np.sort(idx_sk, axis=1))
        rows.append(
            [
                "faiss IndexFlatIP (normalized)",
                f"{t_faiss:.2f}",
                f"{t_faiss / t_sk:.2f}",
            ]
        )
        print(
            f"\nneighbour sets identical to faiss for {agree:.4%} of entries "
            f"(max |similarity difference| {np.max(np.abs(sim_f - sim_sk)):.1e})"
        )
    t_nn = None
    if not skip_sklearn:

        def run_nn():
            nn = NearestNeighbors(
                n_neighbors=n_neighbors + 1, metric="cosine", algorithm="brute"
            )
            return nn.fit(E).kneighbors(E)

        t_nn, _ = timed(run_nn)
        rows.append(
            [
                'NearestNeighbors(metric="cosine", brute)',
                f"{t_nn:.2f}",
                f"{t_nn / t_sk:.2f}",
            ]
        )
    _print_table(
        f"Exact top-{n_neighbors} cosine neighbours of {n_rows:,} x {dim} float32",
        ["method", "time (s)", "peer time / skcosim time"],
        rows,
    )
    if t_faiss is not None:
        _verdict(
            "cosine_neighbors within 1.5x of faiss IndexFlatIP",
            t_sk <= 1.5 * t_faiss,
            f"{t_sk:.2f} s vs {t_faiss:.2f} s, ratio {t_sk / t_faiss:.2f}",
        )
    if t_nn is not None:
        _verdict(
            'cosine_neighbors >= 5x faster than NearestNeighbors(metric="cosine")',
            t_nn >= 5 * t_sk,
            f"speed-up {t_nn / t_sk:.1f}x",
        )


# -- CosineAutoencoder ----------------------------------------------------------------


def bench_cosine_autoencoder(k, n_iter):
    """Time per L-BFGS iteration (squared loss: O(nnz k) per evaluation)."""
    CosineAutoencoder = getattr(skcosim, "CosineAutoencoder", None)
    if CosineAutoencoder is None:
        print("\n- SKIP: skcosim.CosineAutoencoder is not available")
        return
    rows = []
    per_nnz = []
    for n_users in (50_000, 100_000, 200_000):
        X = make_powerlaw(n_users, 2_000, 12 * n_users, random_state=1)
        model = CosineAutoencoder(
            k, loss="squared", init="random", max_iter=n_iter, tol=0.0, random_state=0
        )
        seconds, model = timed(lambda X=X, model=model: model.fit(X))
        per_iter = seconds / max(model.n_iter_, 1)
        per_nnz.append(per_iter / X.nnz * 1e6)
        rows.append(
            [
                f"{X.shape[0]:,} x {X.shape[1]:,}",
                f"{X.nnz:,}",
                model.n_iter_,
                f"{per_iter * 1e3:.1f}",
                f"{per_nnz[-1]:.3f}",
            ]
        )
    _print_table(
        f'CosineAutoencoder(loss="squared", k={k}): time per L-BFGS iteration',
        ["shape", "nnz", "iterations", "ms / iteration", "us / iteration / 1k nnz"],
        rows,
    )
    print(
        f"\nper-nnz cost ratio largest/smallest: {per_nnz[-1] / per_nnz[0]:.2f} "
        "(1.00 = linear in nnz)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description="skcosim vs its peers")
    parser.add_argument(
        "--sizes",
        default="small,medium",
        help=f"comma-separated synthetic sizes among {list(SIZES)} (or 'none')",
    )
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--movielens", action="store_true")
    parser.add_argument("--neighbors", action="store_true")
    parser.add_argument("--neighbors-rows", type=int, default=100_000)
    parser.add_argument(
        "--skip-sklearn-neighbors",
        action="store_true",
        help="skip NearestNeighbors(metric='cosine') (about 2 minutes at 100k rows)",
    )
    parser.add_argument("--cosine-ae", action="store_true")
    parser.add_argument(
        "--memory", action="store_true", help="also measure peak memory of the fits"
    )
    args = parser.parse_args(argv)

    print(f"# skcosim benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"\n{_machine()}")
    targets = {"medium": 1e-6, "large": 1e-4}
    for size in [s for s in args.sizes.split(",") if s and s != "none"]:
        X = make_powerlaw(*SIZES[size], random_state=0)
        bench_fit(size, X, args.k, args.repeat, args.memory, targets)
        del X
    if args.movielens:
        bench_movielens(args.k, args.repeat)
    if args.neighbors:
        bench_neighbors(args.neighbors_rows, 64, 10, args.skip_sklearn_neighbors)
    if args.cosine_ae:
        bench_cosine_autoencoder(32, 20)


if __name__ == "__main__":
    main()
