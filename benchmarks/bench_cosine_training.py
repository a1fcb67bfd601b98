"""Does the default CosineAutoencoder train on a long-tailed log?

Fits the cosine-trained model of ``skcosim audit`` (``k = 50``, the audit's
alpha and cap on iterations or epochs) on a log shaped like a package
dependency graph (``_data.make_dependency_log``: 48,880 users x 3,283 items,
about 199k interactions, a long tail, 250 users whose Objective 2 start
embedding is zero) and prints what tells a fit that trained from one that
stayed at its start:

- the loss gain from the start: the exact softmax loss of the Objective 2
  start and of the fitted model (same normalization floor), and their
  relative difference;
- the overlap (Jaccard@10) of the top-10 item neighbours with the start's;
- ``loss_used_``, ``n_iter_``, ``fit_warning_`` (``None``: no warning) and the
  fit's wall-clock time.

Run: ``python benchmarks/bench_cosine_training.py`` (a few minutes).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _data import make_dependency_log

from skcosim import CosineAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._spectrum import top_k_spectrum
from skcosim._optim._losses import (
    NORM_FLOOR,
    cosine_softmax_loss_grad,
    floored_unit_rows,
    resolve_batch_size,
)
from skcosim.cli import _audit
from skcosim.metrics import neighbor_overlap


def audit_alpha(X, k, seed=0):
    """The audit's alpha: median of the top-k singular values, at most s_1 / 2."""
    s, _ = top_k_spectrum(X, k, random_state=seed)
    return float(min(np.median(s[s > 0]), s[0] / 2))


def exact_loss(X, A, B, temperature):
    """Exact softmax loss of ``A, B`` scaled as the fit scales its start."""
    Z = np.asarray(X @ A)
    norms = np.linalg.norm(Z, axis=1)
    A = A / norms[norms > 0].mean()
    B = floored_unit_rows(B)[0]
    batch = resolve_batch_size("auto", *X.shape)
    return cosine_softmax_loss_grad(
        X, A, B, temperature=temperature, batch_size=batch, floor=NORM_FLOOR
    )[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-components", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    X = make_dependency_log(random_state=args.seed)
    k = args.n_components
    alpha = audit_alpha(X, k, args.seed)
    start = WeightDecayAutoencoder(k, alpha=alpha).fit(X)
    Z = np.asarray(X @ start.encoder_)
    n_zero = int(np.sum(np.linalg.norm(Z, axis=1) < 1e-10 * np.abs(Z).max()))
    print(
        f"data: {X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions; "
        f"alpha = {alpha:.4g}, {int(np.sum(start.singular_values_ > alpha))} of "
        f"{k} components kept, {n_zero} users with a zero start embedding"
    )
    model = CosineAutoencoder(
        k,
        init_alpha=alpha,
        random_state=args.seed,
        max_iter=_audit._audit_max_iter(X),
    )
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    seconds = time.perf_counter() - began
    t = model.temperature
    before = exact_loss(X, start.encoder_, start.decoder_, t)
    after = exact_loss(X, model.encoder_, model.decoder_, t)
    overlap = neighbor_overlap(start.decoder_, model.decoder_, 10)
    print(f"loss: {model.loss_used_}, n_iter_ = {model.n_iter_}, fit {seconds:.1f} s")
    print(
        f"exact softmax loss: start {before:.6g}, fitted {after:.6g}, "
        f"gain {(before - after) / before:.2%}"
    )
    print(f"top-10 neighbour overlap with the Objective 2 start: {overlap:.3f}")
    print(f"fit_warning_: {model.fit_warning_}")
    print(f"warnings raised: {[str(w.message) for w in caught]}")


if __name__ == "__main__":
    main()
