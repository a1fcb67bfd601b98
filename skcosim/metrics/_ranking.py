"""Ranking metrics on held-out interactions: recall@k and NDCG@k."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_is_fitted

from .._compat import (
    HasMethods,
    _num_samples,
    _safe_indexing,
    validate_params,
)
from .._constraints import Count
from .._linalg._topk import (
    as_csr,
    hit_matrix,
    ndcg_from_hits,
    per_user,
    top_k_unseen,
)
from .._validation import drop_stored_zeros
from ._estimators import final_estimator, transform_before_final


def _reconstruct(estimator, X):
    """Scores of every item for the users ``X``: the model's reconstruction.

    For a linear autoencoder ``X A B^T`` (``inverse_transform(transform(X))``);
    a skcosim autoencoder gives the scores it ranks by itself (its
    ``recommend`` and ``score``: the logits of a softmax model).
    In a Pipeline, the last step's reconstruction of the transformed users,
    in the item space it was fitted in (e.g. popularity-scaled): what its
    ``recommend`` serves and what ``Pipeline.score`` ranks by, never mapped
    back through the earlier steps' ``inverse_transform`` (a per-item
    rescaling there would re-rank the items; :ref:`choosing-alpha`).
    """
    Xt = transform_before_final(estimator, X)
    model = final_estimator(estimator)
    if not hasattr(model, "inverse_transform"):
        raise TypeError(
            f"{type(model).__name__} has no inverse_transform: ranking metrics "
            "need a model that reconstructs the items (a skcosim autoencoder)."
        )
    if hasattr(model, "_user_scores"):
        return model._user_scores(model._validated_users(Xt, "ranking"))
    return np.asarray(model.inverse_transform(model.transform(Xt)))


def _recommend(estimator, X_train, k, batch_size):
    """Top-``k`` unseen items per user, best first, ties to the smaller index."""

    def score_rows(i0, i1):
        return _reconstruct(estimator, _safe_indexing(X_train, np.arange(i0, i1)))

    top, _ = top_k_unseen(score_rows, as_csr(X_train), k, batch_size=batch_size)
    return top


def _hits(estimator, X_train, X_test, k, batch_size):
    """Hit matrix (n x k) of the recommendations and held-out counts."""
    if not hasattr(X_train, "shape"):
        X_train = np.asarray(X_train)
    n = _num_samples(X_train)
    X_test = check_array(X_test, accept_sparse="csr", input_name="X_test")
    X_test = sp.csr_matrix(drop_stored_zeros(sp.csr_matrix(X_test)))
    if X_test.shape[0] != n:
        raise ValueError(
            f"X_train has {n} users but X_test has {X_test.shape[0]}: they must "
            "hold the same users (see train_test_split_interactions)."
        )
    p = X_test.shape[1]
    if k > p:
        raise ValueError(f"k={k} is larger than the number of items ({p}).")
    check_is_fitted(final_estimator(estimator))
    if X_train.shape[1] != p:
        raise ValueError(f"X_train has {X_train.shape[1]} items but X_test has {p}.")
    _check_disjoint(X_train, X_test)
    hits, n_relevant = hit_matrix(_recommend(estimator, X_train, k, batch_size), X_test)
    if not np.any(n_relevant):
        raise ValueError("X_test holds no interaction: nothing to recall.")
    return hits, n_relevant


def _check_disjoint(X_train, X_test):
    """Refuse held-out entries that are also training entries: the ranking
    leaves out the items of ``X_train``, so they could never be hit."""
    train = X_train if sp.issparse(X_train) else np.asarray(X_train)
    shared = sp.csr_matrix(train != 0).multiply(X_test != 0).nnz
    if shared:
        raise ValueError(
            f"X_train and X_test share {shared} nonzero entries: the ranking "
            "leaves out the items a user has in X_train, so held-out items "
            "there can never be recommended. Split with "
            "train_test_split_interactions (X_train + X_test == X)."
        )


_RANKING_PARAMS = {
    "estimator": [HasMethods(["transform"])],
    "X_train": ["array-like", "sparse matrix"],
    "X_test": ["array-like", "sparse matrix"],
    "k": [Count(1)],
    "batch_size": [Count(1), None],
    "average": ["boolean"],
}


@validate_params(_RANKING_PARAMS, prefer_skip_nested_validation=True)
def recall_at_k(
    estimator, X_train, X_test, k: int = 20, *, batch_size=None, average: bool = True
):
    r"""Recall of the top-``k`` recommended items on held-out interactions.

    Each user's items are ranked by the fitted model's reconstruction of the
    user's training interactions (``X_train A B^T`` for a linear
    autoencoder), items already in ``X_train`` left out. With ``R_u`` the
    top ``k`` and ``T_u`` the held-out items of user ``u`` (nonzero in
    ``X_test``), the normalized recall of Liang et al. (2018)

    .. math::

        \mathrm{Recall@}k(u) = \frac{|R_u \cap T_u|}{\min(k, |T_u|)}

    is averaged over the users with at least one held-out item. Users are
    scored in blocks, never forming the ``n x p`` score matrix.

    Parameters
    ----------
    estimator : estimator object
        A fitted skcosim autoencoder, or a fitted Pipeline ending in one
        (items are then ranked by the last step's reconstruction of the
        transformed users, as ``Pipeline.score`` ranks them).
    X_train : {array-like, sparse matrix} of shape (n_samples, n_features)
        The interactions the model sees (folded in via ``transform``).
    X_test : {array-like, sparse matrix} of shape (n_samples, n_features)
        The held-out interactions of the same users.
    k : int, default=20
        Number of recommended items.
    batch_size : int, default=None
        Users per block; ``None`` picks blocks of about 16 MiB of scores.
    average : bool, default=True
        Return the mean; otherwise one value per user, NaN for users
        without held-out items.

    Returns
    -------
    recall : float or ndarray of shape (n_samples,)
        Mean recall in ``[0, 1]``, or the recall of each user.

    See Also
    --------
    skcosim.model_selection.train_test_split_interactions : Make ``X_train``
        and ``X_test``.
    ndcg_at_k : A rank-aware alternative.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman, T. Jebara. "Variational
       Autoencoders for Collaborative Filtering." WWW 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import WeightDecayAutoencoder
    >>> from skcosim.metrics import recall_at_k
    >>> from skcosim.model_selection import train_test_split_interactions
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(200, 40) < 0.2).astype(float)
    >>> X_train, X_test = train_test_split_interactions(X, random_state=0)
    >>> model = WeightDecayAutoencoder(n_components=5).fit(X_train)
    >>> 0.0 <= recall_at_k(model, X_train, X_test, k=10) <= 1.0
    True
    """
    hits, n_relevant = _hits(estimator, X_train, X_test, k, batch_size)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = hits.sum(axis=1) / np.minimum(k, n_relevant)
    return per_user(recall, n_relevant, average)


@validate_params(_RANKING_PARAMS, prefer_skip_nested_validation=True)
def ndcg_at_k(
    estimator, X_train, X_test, k: int = 20, *, batch_size=None, average: bool = True
):
    r"""Normalized discounted cumulative gain of the top-``k`` recommendations.

    Items are ranked as in :func:`recall_at_k`. With binary relevance
    (``rel_r = 1`` when the item at rank ``r`` is held out in ``X_test``):

    .. math::

        \mathrm{DCG@}k(u) = \sum_{r=1}^{k} \frac{rel_r}{\log_2(r + 1)}, \qquad
        \mathrm{NDCG@}k(u) = \frac{\mathrm{DCG@}k(u)}
            {\sum_{r=1}^{\min(k, |T_u|)} 1 / \log_2(r + 1)}

    averaged over the users with at least one held-out item.

    Parameters
    ----------
    estimator : estimator object
        A fitted skcosim autoencoder, or a fitted Pipeline ending in one
        (items are then ranked by the last step's reconstruction of the
        transformed users, as ``Pipeline.score`` ranks them).
    X_train : {array-like, sparse matrix} of shape (n_samples, n_features)
        The interactions the model sees.
    X_test : {array-like, sparse matrix} of shape (n_samples, n_features)
        The held-out interactions of the same users.
    k : int, default=20
        Number of recommended items.
    batch_size : int, default=None
        Users per block; ``None`` picks blocks of about 16 MiB of scores.
    average : bool, default=True
        Return the mean; otherwise one value per user, NaN for users
        without held-out items.

    Returns
    -------
    ndcg : float or ndarray of shape (n_samples,)
        Mean NDCG in ``[0, 1]``, or the NDCG of each user.

    See Also
    --------
    recall_at_k : The rank-blind count of hits.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import WeightDecayAutoencoder
    >>> from skcosim.metrics import ndcg_at_k
    >>> from skcosim.model_selection import train_test_split_interactions
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(200, 40) < 0.2).astype(float)
    >>> X_train, X_test = train_test_split_interactions(X, random_state=0)
    >>> model = WeightDecayAutoencoder(n_components=5).fit(X_train)
    >>> 0.0 <= ndcg_at_k(model, X_train, X_test, k=10) <= 1.0
    True
    """
    hits, n_relevant = _hits(estimator, X_train, X_test, k, batch_size)
    return ndcg_from_hits(hits, n_relevant, average)
