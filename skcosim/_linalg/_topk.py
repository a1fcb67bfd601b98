"""Exact top-k of score rows, batch by batch: the one selection of recommendations.

Used by the recommender verbs of the autoencoders
(:mod:`skcosim.autoencoders._recommend`) and by the ranking metrics
(:mod:`skcosim.metrics._ranking`), so that ``recommend`` and ``recall_at_k``
rank items the same way; the hits and NDCG of those lists are here too, so
that ``score`` and ``ndcg_at_k`` compute one NDCG without the estimators
importing the metrics.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.special

from .._validation import drop_stored_zeros

#: Bytes of the dense score block of a batch of rows (never n x p at once).
BLOCK_BYTES = 16 * 2**20

#: Id of a padding slot: a row with fewer than k unseen items.
PAD = -1

#: The ``k`` of the autoencoders' ``score`` and of ``make_ndcg_scorer()``:
#: NDCG@100, or every item when there are fewer.
SCORE_K = 100


def top_k_per_row(scores, k):
    """Exact top-``k`` columns of each row of ``scores``, best first.

    Ties go to the smaller column index, so the result is deterministic.
    Everything at least as large as the ``k``-th value is sorted; the rest
    is never sorted.

    Returns
    -------
    indices : ndarray of shape (n_rows, k)
    values : ndarray of shape (n_rows, k)
    """
    n, p = scores.shape
    t = np.partition(scores, p - k, axis=1)[:, p - k]
    r, c = np.nonzero(scores >= t[:, None])
    order = np.lexsort((c, -scores[r, c], r))
    r, c = r[order], c[order]
    pick = np.searchsorted(r, np.arange(n))[:, None] + np.arange(k)
    indices = c[pick]
    return indices, np.take_along_axis(scores, indices, axis=1)


def as_csr(X):
    """``X`` (array, sparse matrix or sparse DataFrame) as a CSR matrix."""
    if hasattr(X, "sparse") and hasattr(X, "columns"):
        return X.sparse.to_coo().tocsr()
    return sp.csr_matrix(X) if sp.issparse(X) else sp.csr_matrix(np.asarray(X))


def top_k_unseen(
    score_rows,
    seen,
    k,
    *,
    filter_seen=True,
    exclude=None,
    batch_size=None,
    softmax=False,
):
    """Top-``k`` items of each user, scored batch by batch.

    Parameters
    ----------
    score_rows : callable
        ``score_rows(i0, i1)`` returns the dense scores (``i1 - i0`` x
        ``n_items``) of users ``i0`` to ``i1 - 1``.
    seen : sparse matrix of shape (n_users, n_items)
        CSR; its nonzero entries are the items each user has seen (a
        stored 0.0 is not an interaction: that item is not seen).
    k : int
        Items per user, at most ``n_items``.
    filter_seen : bool, default=True
        Leave the seen items out. A user with fewer than ``k`` unseen items
        gets padding slots: index ``PAD`` (-1) with score ``-inf``.
    exclude : ndarray of shape (n_items,) of bool, default=None
        Items left out for every user (padding as for ``filter_seen``).
    batch_size : int, default=None
        Users per batch; ``None`` keeps a batch's scores near 16 MiB.
    softmax : bool, default=False
        The scores are the logits of a softmax over all items: rank by
        them, and return the probabilities ``exp(s_i - logsumexp(s))`` (the
        log-sum-exp over every item of the row, seen ones included), in
        float64. Ranking by probabilities instead would tie every item whose
        probability underflows to zero.

    Returns
    -------
    indices : ndarray of shape (n_users, k)
    scores : ndarray of shape (n_users, k), float64
    """
    n, p = seen.shape
    seen = drop_stored_zeros(seen)
    if batch_size is None:
        batch_size = max(1, BLOCK_BYTES // (8 * p))
    indices = np.empty((n, k), dtype=np.intp)
    values = np.empty((n, k), dtype=np.float64)
    for i0 in range(0, n, batch_size):
        i1 = min(i0 + batch_size, n)
        scores = np.array(score_rows(i0, i1), dtype=np.float64)
        if scores.shape != (i1 - i0, p):
            raise ValueError(
                f"The model scores {scores.shape[1]} items, the data has {p}."
            )
        log_z = scipy.special.logsumexp(scores, axis=1, keepdims=True) if softmax else 0
        if filter_seen:
            block = seen[i0:i1].tocoo()
            scores[block.row, block.col] = -np.inf
        if exclude is not None:
            scores[:, exclude] = -np.inf
        top, val = top_k_per_row(scores, k)
        if filter_seen or exclude is not None:
            top[val == -np.inf] = PAD
        if softmax:
            val = np.where(np.isneginf(val), -np.inf, np.exp(val - log_z))
        indices[i0:i1], values[i0:i1] = top, val
    return indices, values


# -- hits and NDCG of ranked lists ----------------------------------------------


def hit_matrix(top, X_test):
    """Hits (n x k) of the recommended items ``top`` in ``X_test``, and the
    number of held-out items of each user; padding slots are no hit."""
    n, k = top.shape
    flat = top.ravel()
    real = flat != PAD
    hits = np.zeros(n * k, dtype=bool)
    rows = np.repeat(np.arange(n), k)[real]
    hits[real] = np.asarray(X_test[rows, flat[real]]).ravel() != 0
    return hits.reshape(n, k), np.diff(X_test.indptr)


def ndcg_from_hits(hits, n_relevant, average=True):
    """NDCG@k of a hit matrix (n x k), see :func:`skcosim.metrics.ndcg_at_k`."""
    k = hits.shape[1]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discount
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(k, n_relevant)]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndcg = dcg / ideal
    return per_user(ndcg, n_relevant, average)


def per_user(values, n_relevant, average):
    """The mean over users with a held-out item, or every user's value (NaN
    for users without one)."""
    if average:
        return float(values[n_relevant > 0].mean())
    return np.where(n_relevant > 0, values, np.nan)
