"""``WeightDecayAutoencoder(solver="lbfgs")`` on MovieLens-100k: before and after.

Trains Objective 2 by L-BFGS at the default ``max_iter`` and ``tol`` four ways,
from the same random draw: the code before the preconditioner (plain L-BFGS on
``A, B`` from entries ``N(0, 0.1^2)``), each of its two changes alone (the
spectral preconditioner :class:`skcosim._optim._lbfgs.SpectralPreconditioner`;
the start of ``N(0, 0.01^2)``), and the estimator as it is now (both). For
each: iterations, wall time (one run), the final relative gap to the closed
form (``WeightDecayAutoencoder(k, alpha)``, default solver), and the first
iteration within 1e-3 and 1e-4 of it (``-``: never).

Usage (under a minute per seed)::

    python benchmarks/bench_wd_lbfgs.py --k 32 --alpha 10 --seeds 0,1
"""

from __future__ import annotations

import argparse
import warnings
from functools import partial

import numpy as np
from _data import load_movielens_100k
from _timing import timed
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_random_state

from skcosim import WeightDecayAutoencoder
from skcosim._linalg._spectrum import top_k_spectrum
from skcosim._optim._lbfgs import SpectralPreconditioner, fit_factors_lbfgs
from skcosim._optim._losses import weight_decay_loss_grad
from skcosim._optim._params import as_float64, random_factors


def _train(X, k, alpha, seed, max_iter, *, init_scale, precondition):
    """The ``_fit_lbfgs`` of the estimator, with either change switched off."""
    rng = check_random_state(seed)
    s, V = top_k_spectrum(X, k, random_state=rng)
    A0, B0 = random_factors(X.shape[1], k, init_scale, rng)
    _, _, n_iter, curve = fit_factors_lbfgs(
        X,
        A0,
        B0,
        partial(weight_decay_loss_grad, alpha=alpha),
        max_iter=max_iter,
        tol=1e-7,
        grad_scale=float(s[0]) if precondition else float(s[0]) ** 2,
        preconditioner=SpectralPreconditioner(s, V) if precondition else None,
    )
    return n_iter, curve


def _estimator(X, k, alpha, seed, max_iter):
    model = WeightDecayAutoencoder(
        k, alpha=alpha, solver="lbfgs", max_iter=max_iter, random_state=seed
    ).fit(X)
    return model.n_iter_, model.loss_curve_


def _first_below(gaps, level):
    hits = np.flatnonzero(gaps < level)
    return str(hits[0]) if hits.size else "-"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--alpha", type=float, default=10.0)
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--seeds", default="0")
    args = parser.parse_args(argv)
    X = as_float64(load_movielens_100k())
    k, alpha, max_iter = args.k, args.alpha, args.max_iter
    seconds, model = timed(lambda: WeightDecayAutoencoder(k, alpha=alpha).fit(X))
    closed = model.objective(X)
    variants = {
        "before: plain, start 0.1": partial(_train, init_scale=0.1, precondition=False),
        "preconditioned, start 0.1": partial(_train, init_scale=0.1, precondition=True),
        "plain, start 0.01": partial(_train, init_scale=0.01, precondition=False),
        "now: WeightDecayAutoencoder(solver='lbfgs')": _estimator,
    }
    print(
        f"MovieLens-100k {X.shape[0]} x {X.shape[1]}, k={k}, alpha={alpha:g}: "
        f"closed form {closed:.8g} in {seconds:.2f} s"
    )
    print(
        "| seed | variant | iterations | time (s) | final gap | <1e-3 at | <1e-4 at |"
    )
    print("|---|---|---|---|---|---|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        for name, train in variants.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                seconds, (n_iter, curve) = timed(
                    lambda train=train, seed=seed: train(X, k, alpha, seed, max_iter)
                )
            gaps = (np.asarray(curve) - closed) / closed
            print(
                f"| {seed} | {name} | {n_iter} | {seconds:.1f} | {gaps[-1]:.1e} | "
                f"{_first_below(gaps, 1e-3)} | {_first_below(gaps, 1e-4)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
