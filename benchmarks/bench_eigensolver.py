"""The two costs of the ``"gram"`` solver: the Gram product and the eigensolve.

Evidence for three choices in :mod:`skcosim._linalg._spectrum`, each measured in one
process run with the variants interleaved over ``--repeat`` rounds (minimum
kept), BLAS on one thread inside the eigensolvers as the package runs them:

1. ``gram``: the dense Gram product of integer-valued data in float32 (exact:
   the result is compared bit for bit with float64) against float64.
2. ``ncv``: ARPACK's Lanczos basis on a dense ``p x p`` Gram matrix, the
   package's ``1.5k + 4`` against ARPACK's default ``2k + 1``.
3. ``matvec``: the product inside Lanczos on a dense symmetric matrix: BLAS
   ``symv`` on one thread (reads one triangle; what the package uses) against
   ``M @ v`` (``gemv``) on one thread and ``gemv`` on two row blocks on two
   threads (the package's earlier operator).
4. ``crossover``: LAPACK's ``eigh`` (wanted indices only) against Lanczos
   with ``symv`` on power-law Gram matrices, p = 200-800, k = p/16 ... p/3:
   the rule ``p >= EIGSH_MIN_DIM and k <= p / 8`` of ``top_k_eigh``.
5. ``mixed``: an alternative that was measured and *not* adopted: Lanczos in
   float32, then one float64 block-Krylov Rayleigh-Ritz step on
   ``[Q, G Q]`` with 16 extra vectors. Its eigenvalues are good to ~1e-12,
   but the tail eigenvectors only to ~1e-6 radians (against float64
   Lanczos), for little time saved.

Data: MovieLens-100k (``X X^T``, p = 943; fetched from the recbole wheel,
see ``_data.py``) and a power-law matrix of 20,000 x 2,000 (``X^T X``).

Usage::

    python benchmarks/bench_eigensolver.py --repeat 7
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from _data import load_movielens_100k, make_powerlaw
from _timing import interleaved
from scipy.sparse.linalg import eigsh
from threadpoolctl import threadpool_limits

from skcosim._linalg._eigen import _SymmetricOperator, lanczos_ncv
from skcosim._linalg._spectrum import _integer_gram_is_exact_in_float32


def _interleaved(methods, repeat):
    """``(best times, last outputs)``, two dicts, of :func:`_timing.interleaved`."""
    res = interleaved(methods, repeat)
    return (
        {name: seconds for name, (seconds, _) in res.items()},
        {name: out for name, (_, out) in res.items()},
    )


def _lanczos(G, k, ncv):
    v0 = np.random.RandomState(0).uniform(-1, 1, G.shape[0]).astype(G.dtype)
    w, Q = eigsh(_SymmetricOperator(G), k=k, which="LA", v0=v0, ncv=ncv)
    order = np.argsort(w)[::-1]
    return w[order], Q[:, order]


def _mixed(G, k, extra=16):
    """float32 Lanczos, then one float64 Rayleigh-Ritz step on [Q, G Q]."""
    b = k + extra
    _, Q = _lanczos(G.astype(np.float32), b, min(G.shape[0], 3 * b // 2 + 4))
    Q = Q.astype(np.float64)
    P, _ = np.linalg.qr(np.hstack([Q, G @ Q]))
    H = P.T @ (G @ P)
    w, W = scipy.linalg.eigh((H + H.T) / 2)
    return w[::-1][:k], (P @ W[:, ::-1])[:, :k]


def _datasets():
    X = load_movielens_100k()
    yield "MovieLens-100k X X^T", sp.csr_matrix(X.T)
    yield (
        "power law 20,000 x 2,000 X^T X",
        make_powerlaw(20_000, 2_000, 240_000, random_state=0),
    )


def bench_gram(repeat):
    print("\n| Gram of | float64 (ms) | float32, exact (ms) | ratio | bit-identical |")
    print("|---|---|---|---|---|")
    # the matrices gram_matrix densifies (n p <= 8e6, at least 2 % dense)
    gram_cases = [
        ("MovieLens-100k X X^T", sp.csr_matrix(load_movielens_100k().T)),
        (
            "power law 4,000 x 1,000 X^T X",
            make_powerlaw(4_000, 1_000, 120_000, random_state=0),
        ),
    ]
    for name, Y in gram_cases:
        assert _integer_gram_is_exact_in_float32(Y)
        D64 = Y.toarray()
        methods = {
            "float64": lambda D=D64: D.T @ D,
            "float32": lambda Y=Y: _gram32(Y),
        }
        best, out = _interleaved(methods, repeat)
        same = np.array_equal(out["float64"], out["float32"])
        print(
            f"| {name} | {best['float64'] * 1e3:.1f} | {best['float32'] * 1e3:.1f} "
            f"| {best['float32'] / best['float64']:.2f} | {same} |"
        )


def _gram32(Y):
    D = Y.astype(np.float32).toarray()
    return (D.T @ D).astype(np.float64)


def bench_ncv(repeat, ks):
    print("\n| Gram of | k | ncv 1.5k+4 (ms) | ncv 2k+1 (ms) | ratio |")
    print("|---|---|---|---|---|")
    for name, Y in _datasets():
        D = Y.toarray()
        G = D.T @ D
        p = G.shape[0]
        for k in ks:
            if 8 * k > p:  # top_k_eigh uses LAPACK there
                continue
            narrow = lanczos_ncv(k, p, wide=False)  # what the package uses
            default = min(p, max(2 * k + 1, 20))  # ARPACK's default
            methods = {
                "narrow": lambda k=k, G=G, ncv=narrow: _lanczos(G, k, ncv),
                "default": lambda k=k, G=G, ncv=default: _lanczos(G, k, ncv),
            }
            with threadpool_limits(1, "blas"):
                best, _ = _interleaved(methods, repeat)
            print(
                f"| {name} | {k} | {best['narrow'] * 1e3:.1f} | "
                f"{best['default'] * 1e3:.1f} | "
                f"{best['narrow'] / best['default']:.2f} |"
            )


def bench_matvec(repeat, dims=(943, 2000, 5000), n_products=100):
    print(
        "\n| p | gemv, 1 thread (us) | gemv, 2 row blocks on 2 threads (us) "
        "| symv, 1 thread (us) | symv / gemv |"
    )
    print("|---|---|---|---|---|")
    rng = np.random.RandomState(0)
    with ThreadPoolExecutor(2) as pool, threadpool_limits(1, "blas"):
        for p in dims:
            A = rng.rand(p, p)
            M = A + A.T
            v = rng.rand(p)
            halves = [M[: p // 2], M[p // 2 :]]
            op = _SymmetricOperator(M)
            assert np.allclose(op @ v, M @ v, rtol=1e-12)

            def gemv2(v=v, halves=halves):
                return np.concatenate(list(pool.map(lambda B: B @ v, halves)))

            methods = {
                "gemv": lambda M=M, v=v: [M @ v for _ in range(n_products)],
                "gemv2": lambda gemv2=gemv2: [gemv2() for _ in range(n_products)],
                "symv": lambda op=op, v=v: [op @ v for _ in range(n_products)],
            }
            best, _ = _interleaved(methods, repeat)
            us = {name: t / n_products * 1e6 for name, t in best.items()}
            print(
                f"| {p:,} | {us['gemv']:.0f} | {us['gemv2']:.0f} | {us['symv']:.0f} "
                f"| {us['symv'] / us['gemv']:.2f} |"
            )


def bench_crossover(repeat, dims=(200, 300, 400, 800), fractions=(16, 8, 6, 4, 3)):
    print("\n| p | k | LAPACK eigh (ms) | Lanczos, symv (ms) | Lanczos / eigh |")
    print("|---|---|---|---|---|")
    for p in dims:
        Y = make_powerlaw(40 * p, p, 480 * p, random_state=0)
        D = Y.toarray()
        G = D.T @ D
        for fraction in fractions:
            k = p // fraction
            ncv = lanczos_ncv(k, p, wide=False)
            methods = {
                "eigh": lambda G=G, wanted=[p - k, p - 1]: scipy.linalg.eigh(
                    G, subset_by_index=wanted, check_finite=False
                ),
                "lanczos": lambda G=G, k=k, ncv=ncv: _lanczos(G, k, ncv),
            }
            with threadpool_limits(1, "blas"):
                best, out = _interleaved(methods, repeat)
            w_eigh = out["eigh"][0][::-1]
            assert np.allclose(out["lanczos"][0], w_eigh, rtol=1e-9)
            print(
                f"| {p} | {k} (p/{fraction}) | {best['eigh'] * 1e3:.1f} | "
                f"{best['lanczos'] * 1e3:.1f} | "
                f"{best['lanczos'] / best['eigh']:.2f} |"
            )


def bench_mixed(repeat, k):
    print(
        f"\n| Gram of (k = {k}) | float64 Lanczos (ms) | mixed (ms) | "
        "max rel. eigenvalue err | max eigenvector angle (rad) |"
    )
    print("|---|---|---|---|---|")
    for name, Y in _datasets():
        D = Y.toarray()
        G = D.T @ D
        ncv = min(G.shape[0], 3 * k // 2 + 4)
        methods = {
            "float64": lambda G=G, ncv=ncv: _lanczos(G, k, ncv),
            "mixed": lambda G=G: _mixed(G, k),
        }
        with threadpool_limits(1, "blas"):
            best, out = _interleaved(methods, repeat)
        (w, Q), (wm, Qm) = out["float64"], out["mixed"]
        err = np.max(np.abs(wm - w) / w)
        # angle from the sine (the cosine is ~1 - angle^2 / 2: no digits left)
        residual = Qm - Q * np.sum(Q * Qm, axis=0)
        angle = np.arcsin(np.clip(np.linalg.norm(residual, axis=0), 0, 1))
        print(
            f"| {name} | {best['float64'] * 1e3:.1f} | {best['mixed'] * 1e3:.1f} | "
            f"{err:.1e} | {angle.max():.1e} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--k", default="16,32,64,100,128")
    args = parser.parse_args(argv)
    ks = [int(k) for k in args.k.split(",")]
    bench_gram(args.repeat)
    bench_ncv(args.repeat, ks)
    bench_matvec(args.repeat)
    bench_crossover(args.repeat)
    bench_mixed(args.repeat, 64)


if __name__ == "__main__":
    main()
