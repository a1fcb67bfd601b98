"""The sampled softmax of CosineAutoencoder against the full softmax.

Two parts, each in one run:

``--evals``
    One evaluation of the loss and its gradient over all users, full softmax
    (``O(n p k)``) vs sampled softmax (``O((nnz + n S) k)``), interleaved, at
    three sizes ``n x p`` of power-law data (``_data.make_powerlaw``, 20
    interactions per user). Prints the seconds and the ratio.
``--quality``
    MovieLens-100k (binary, items with at least 20 ratings, k = 32, alpha = 10,
    temperature 0.1, start from Objective 2) and simulated clustered data:
    label agreement of the top-10 item neighbours (genres; clusters), the
    full softmax loss gap each fit closes from the start, the overlap of its
    neighbours with the full softmax fit, and the fit time. Rows: the full
    softmax (L-BFGS), the sampled softmax with minibatch Adam (the default
    solver), and the sampled softmax with L-BFGS restarted on each new sample
    (the solver of the Dask path, 200 iterations).
``--minibatch``
    Adam's minibatch size on a 1M-interaction power-law matrix (100,000 x
    20,000, k = 50, alpha = 30, the audit's model): the evaluation loss per
    interaction after each epoch, and the seconds, for several numbers of
    logits per step (``--epochs`` epochs each, one after the other).

``--convergence``
    The default fit's stopping rule on the 1M-interaction matrix (the audit's
    model, k = 50): epochs, seconds and loss curve of the fit on all users
    and on two random halves (what the audit's resample stability fits), and
    how much the top-10 neighbours still change afterwards: Jaccard@10 (2,000
    sampled items) between the stopped fit and one run three times as long,
    beside the Jaccard@10 of the two halves.

Run: ``python benchmarks/bench_sampled_softmax.py --evals --quality``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _data import load_movielens_100k, load_movielens_100k_genres, make_powerlaw
from _timing import interleaved
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder
from skcosim._optim._losses import cosine_softmax_loss_grad, resolve_batch_size
from skcosim._optim._sampled_softmax import (
    NegativeSampler,
    fit_lbfgs_resampled,
    item_popularity,
    sampled_batch_size,
    sampled_softmax_loss_grad,
)
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import neighbor_label_agreement, neighbor_overlap

EVAL_SIZES = ((2_000, 5_000), (10_000, 10_000), (33_000, 30_000))
K = 32
T = 0.1


def bench_evals(repeat, n_negatives):
    print(f"one loss + gradient evaluation, k = {K}, S = {n_negatives}")
    print(f"{'n x p':>16} {'n*p':>8} {'full s':>8} {'sampled s':>10} {'ratio':>7}")
    for n, p in EVAL_SIZES:
        X = make_powerlaw(n, p, 20 * n, random_state=0)
        rng = np.random.RandomState(0)
        A = rng.standard_normal((p, K))
        B = rng.standard_normal((p, K))
        sample = NegativeSampler(item_popularity(X), n_negatives, 0.5, rng).draw()
        res = interleaved(
            {
                "full": lambda X=X, A=A, B=B, n=n, p=p: cosine_softmax_loss_grad(
                    X, A, B, temperature=T, batch_size=resolve_batch_size("auto", n, p)
                ),
                "sampled": lambda X=X, A=A, B=B, n=n, s=sample: (
                    sampled_softmax_loss_grad(
                        X,
                        A,
                        B,
                        temperature=T,
                        sample=s,
                        batch_size=sampled_batch_size(n_negatives, n),
                    )
                ),
            },
            repeat,
        )
        full, sampled = res["full"][0], res["sampled"][0]
        print(
            f"{n:>7} x {p:<7} {n * p:>8.0e} {full:>8.3f} {sampled:>10.3f} "
            f"{full / sampled:>6.1f}x",
            flush=True,
        )


def _start(X, alpha):
    """Objective 2 start, rescaled as CosineAutoencoder does, and active items."""
    m = CosineAutoencoder(K, init_alpha=alpha, loss="softmax")
    A, B, _ = m._start(X, init_alpha=alpha, has_data=True)
    active = np.asarray(X.sum(axis=0)).ravel() > 0
    B[~active] = 0.0
    return (*m._rescale(X, A, B), active)


def quality(name, X, labels, alpha):
    n, p = X.shape
    batch = resolve_batch_size("auto", n, p)

    def full_loss(A, B):
        return cosine_softmax_loss_grad(X, A, B, temperature=T, batch_size=batch)[0]

    A0, B0, active = _start(X, alpha)
    L0 = full_loss(A0, B0)
    fits = {}
    for label, loss in (("full softmax (L-BFGS)", "softmax"), ("sampled, Adam", None)):
        start = time.perf_counter()
        model = CosineAutoencoder(
            K,
            init_alpha=alpha,
            temperature=T,
            loss=loss or "sampled_softmax",
            random_state=0,
        ).fit(X)
        fits[label] = (model.encoder_, model.decoder_, time.perf_counter() - start)
    start = time.perf_counter()
    sample_batch = sampled_batch_size(1024, n)

    def sampled_loss_grad(A, B, sample):
        return sampled_softmax_loss_grad(
            X, A, B, temperature=T, sample=sample, batch_size=sample_batch
        )

    fit = fit_lbfgs_resampled(
        sampled_loss_grad,
        A0,
        B0,
        popularity=item_popularity(X),
        active=active,
        n_negatives=1024,
        exponent=0.5,
        max_iter=200,
        tol=1e-6,
        random_state=np.random.RandomState(0),
    )
    fits["sampled, L-BFGS restarts"] = (fit.A, fit.B, time.perf_counter() - start)
    A_full, B_full, _ = fits["full softmax (L-BFGS)"]
    L_full = full_loss(A_full, B_full)
    print(
        f"\n{name}: {n} x {p}, start agreement "
        f"{neighbor_label_agreement(B0, labels, 10):.4f}"
    )
    print(f"{'fit':<26} {'agreement':>9} {'gap closed':>10} {'overlap':>8} {'s':>7}")
    for label, (A, B, seconds) in fits.items():
        gap = (L0 - full_loss(A, B)) / (L0 - L_full)
        print(
            f"{label:<26} {neighbor_label_agreement(B, labels, 10):>9.4f} "
            f"{gap:>10.3f} {neighbor_overlap(B, B_full, 10):>8.3f} {seconds:>7.1f}",
            flush=True,
        )


def bench_quality():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X = load_movielens_100k()
    genres = load_movielens_100k_genres()
    keep = np.flatnonzero(np.asarray((X > 0).sum(axis=0)).ravel() >= 20)
    quality(
        "MovieLens-100k, genres (items with >= 20 ratings)",
        X[:, keep].tocsr(),
        [genres[i] for i in keep],
        alpha=10.0,
    )
    sim = make_clustered_interactions(
        n_users=5000, n_items=2000, n_clusters=20, random_state=0
    )
    quality("simulated clusters", sim.data.tocsr(), sim.item_labels, alpha=10.0)


def bench_minibatch(epochs, entries):
    import skcosim.autoencoders._cosine as cosine_module
    from skcosim._optim._sampled_softmax import fit_adam

    warnings.simplefilter("ignore", ConvergenceWarning)
    X = make_powerlaw(100_000, 20_000, 1_000_000, random_state=0)
    print(f"{X.shape[0]:,} x {X.shape[1]:,}, nnz {X.nnz:,}; k = 50, S = 1,024")
    print("| logits per step (users) | s | epochs | evaluation loss per epoch |")
    print("|---|---:|---:|---|")
    for log2 in entries:

        def fit(*args, log2=log2, **kwargs):
            return fit_adam(*args, minibatch_entries=2**log2, **kwargs)

        cosine_module.fit_adam = fit
        model = CosineAutoencoder(
            50, init_alpha=30.0, loss="sampled_softmax", max_iter=epochs, random_state=0
        )
        start = time.perf_counter()
        model.fit(X)
        seconds = time.perf_counter() - start
        curve = " ".join(f"{v:.3f}" for v in model.loss_curve_)
        users = 2**log2 // 1024
        print(
            f"| 2^{log2} ({users:,}) | {seconds:.1f} | {model.n_iter_} | {curve} |",
            flush=True,
        )
    cosine_module.fit_adam = fit_adam


def _jaccard(E1, E2, queries, k=10):
    from skcosim.metrics import cosine_neighbors

    N1 = cosine_neighbors(E1, n_neighbors=k, queries=queries)[0]
    N2 = cosine_neighbors(E2, n_neighbors=k, queries=queries)[0]
    inter = np.array([np.intersect1d(a, b).size for a, b in zip(N1, N2, strict=True)])
    return float(np.mean(inter / (2 * k - inter)))


def _timed_fit(X, **params):
    model = CosineAutoencoder(
        50, init_alpha=30.0, loss="sampled_softmax", random_state=0, **params
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X)
    capped = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    stopped = "cap" if capped else "converged"
    return model, time.perf_counter() - start, stopped


def bench_convergence():
    import skcosim.autoencoders._cosine as cosine_module
    from skcosim._optim._sampled_softmax import fit_adam

    X = make_powerlaw(100_000, 20_000, 1_000_000, random_state=0)
    halves = np.array_split(np.random.default_rng(0).permutation(X.shape[0]), 2)
    print("| fit | epochs | stopped | s | evaluation loss per epoch |")
    print("|---|---:|---|---:|---|")
    fits = {}
    for name, rows in (
        ("all users", None),
        ("half 1", halves[0]),
        ("half 2", halves[1]),
    ):
        model, seconds, stopped = _timed_fit(X if rows is None else X[np.sort(rows)])
        fits[name] = model
        curve = " ".join(f"{v:.3f}" for v in model.loss_curve_)
        print(f"| {name} | {model.n_iter_} | {stopped} | {seconds:.1f} | {curve} |")
    epochs = 3 * fits["all users"].n_iter_

    def no_stop(*args, **kwargs):
        return fit_adam(*args, **{**kwargs, "patience": epochs})

    cosine_module.fit_adam = no_stop
    long, seconds, _ = _timed_fit(X, max_iter=epochs)
    cosine_module.fit_adam = fit_adam
    curve = " ".join(f"{v:.3f}" for v in long.loss_curve_)
    row = f"all users, {epochs} epochs | {long.n_iter_} | cap | {seconds:.1f}"
    print(f"| {row} | {curve} |")
    popular = np.flatnonzero(np.asarray((X > 0).sum(axis=0)).ravel() > 0)
    queries = np.sort(np.random.default_rng(1).choice(popular, 2000, replace=False))
    E = {name: m.item_embeddings() for name, m in fits.items()}
    stopped_vs_long = _jaccard(E["all users"], long.item_embeddings(), queries)
    halves_overlap = _jaccard(E["half 1"], E["half 2"], queries)
    print(f"Jaccard@10, stopped fit vs {epochs} epochs: {stopped_vs_long:.3f}")
    print(f"Jaccard@10, half 1 vs half 2 (resample stability): {halves_overlap:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", action="store_true")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-negatives", type=int, default=1024)
    parser.add_argument("--minibatch", action="store_true")
    parser.add_argument("--convergence", action="store_true")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument(
        "--entries", default="21,19,17,16", help="log2 of the logits per step"
    )
    args = parser.parse_args()
    if args.convergence:
        bench_convergence()
    if args.minibatch:
        bench_minibatch(args.epochs, [int(e) for e in args.entries.split(",")])
    if args.evals:
        bench_evals(args.repeat, args.n_negatives)
    if args.quality:
        bench_quality()


if __name__ == "__main__":
    main()
