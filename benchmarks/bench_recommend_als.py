"""Recall@20 and NDCG@20 of ``recommend`` against implicit's ALS on MovieLens-100k.

One split for everyone: 20 % of each user's interactions are held out
(``train_test_split_interactions``, seed 0); every model is fitted on the rest
and recommends 20 unseen items per user. Each model's one hyperparameter
(``alpha`` of the autoencoders, ``regularization`` of ALS) is chosen on a
validation split carved from the training part the same way (seed 1), then
the model is refitted on the whole training part. Weak generalization (the
test users are in training), because ALS has no fold-in of new users
without a refit. Ranking quality only: no timings here (compare.py times the
fits).

    pip install implicit
    python benchmarks/bench_recommend_als.py [--k 64] [--n 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import load_movielens_100k

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._topk import hit_matrix, ndcg_from_hits
from skcosim.model_selection import train_test_split_interactions

ALPHAS = {
    "WeightDecayAutoencoder": np.geomspace(1.0, 100.0, 5),
    "DropoutAutoencoder": np.geomspace(10.0, 10_000.0, 7),
}
REGULARIZATIONS = [0.01, 0.1, 1.0, 10.0, 100.0]


def ranking_quality(ids, X_test):
    """Recall@n (normalized by min(n, |T_u|)) and NDCG@n of recommended ids."""
    hits, n_relevant = hit_matrix(ids, X_test)
    users = n_relevant > 0
    recall = hits.sum(axis=1)[users] / np.minimum(ids.shape[1], n_relevant[users])
    return float(recall.mean()), ndcg_from_hits(hits, n_relevant)


def skcosim_recommend(estimator, X_train, n):
    return estimator.fit(X_train).recommend(X_train, k=n)[0]


def als_recommend(regularization, k, X_train, n):
    from implicit.als import AlternatingLeastSquares

    # implicit asks for single-threaded BLAS (it runs its own threads).
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=k, regularization=regularization, iterations=15, random_state=0
        )
        model.fit(X_train, show_progress=False)
        users = np.arange(X_train.shape[0])
        ids, _ = model.recommend(users, X_train, N=n, filter_already_liked_items=True)
    return np.asarray(ids)


def select(recommend, grid, X_fit, n):
    """The grid value with the best validation NDCG@n, and that NDCG."""
    X_sub, X_val = train_test_split_interactions(X_fit, 0.2, random_state=1)
    scores = [ranking_quality(recommend(value, X_sub, n), X_val)[1] for value in grid]
    best = int(np.argmax(scores))
    return grid[best], scores[best]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=64, help="factors / n_components")
    parser.add_argument("--n", type=int, default=20, help="items recommended")
    args = parser.parse_args(argv)
    k, n = args.k, args.n

    X = load_movielens_100k(binary=True)
    X_train, X_test = train_test_split_interactions(X, 0.2, random_state=0)
    print(
        f"MovieLens-100k: {X.shape[0]} users, {X.shape[1]} items, "
        f"{X_train.nnz} training / {X_test.nnz} held-out interactions; k = {k}\n"
    )
    rows = []
    for cls in (WeightDecayAutoencoder, DropoutAutoencoder):
        alpha, _ = select(
            lambda a, Xf, n, cls=cls: skcosim_recommend(cls(k, alpha=a), Xf, n),
            ALPHAS[cls.__name__],
            X_train,
            n,
        )
        ids = skcosim_recommend(cls(k, alpha=alpha), X_train, n)
        rows.append((f"{cls.__name__}.recommend", f"alpha={alpha:g}", ids))
    try:
        import implicit
    except ImportError:
        print("- SKIP: implicit is not installed (pip install implicit)\n")
    else:
        reg, _ = select(
            lambda r, Xf, n: als_recommend(r, k, Xf, n), REGULARIZATIONS, X_train, n
        )
        ids = als_recommend(reg, k, X_train, n)
        rows.append(
            (f"implicit {implicit.__version__} ALS", f"regularization={reg:g}", ids)
        )

    print(f"| method | chosen on validation | recall@{n} | ndcg@{n} |")
    print("|---|---|---|---|")
    for name, params, ids in rows:
        recall, ndcg = ranking_quality(ids, X_test)
        print(f"| {name} | {params} | {recall:.4f} | {ndcg:.4f} |")


if __name__ == "__main__":
    main()
