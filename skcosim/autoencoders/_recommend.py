"""The recommender verbs of the autoencoders, and their default score.

``similar_items`` and ``recommend`` answer with item ids (``feature_names_in_``
when the model was fitted on a DataFrame, column indices otherwise), the
way implicit's ``similar_items`` and ``recommend`` do. ``score`` ranks
held-out interactions (strong generalization), so that a search over
``alpha`` without ``scoring`` selects by recommendation quality
(docs/user_guide/objectives.rst, "Choosing alpha").
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import check_scalar
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from .._linalg import _dask
from .._linalg._neighbors import top_k_cosines
from .._linalg._topk import (
    PAD,
    SCORE_K,
    as_csr,
    hit_matrix,
    ndcg_from_hits,
    top_k_unseen,
)
from ..model_selection._split import train_test_split_interactions

#: The held-out protocol of ``score``: NDCG@100 (``SCORE_K``, shared with
#: ``make_ndcg_scorer``) on 20 % of each user's interactions, chosen with a
#: fixed seed (Liang et al., 2018; Steck, 2019).
SCORE_HOLDOUT = 0.2
SCORE_RANDOM_STATE = 0
#: The fewest interactions a user needs to be scored: round(0.2 * 3) = 1 is
#: held out and 2 are kept, round(0.2 * 2) = 0 holds out nothing.
SCORE_MIN_INTERACTIONS = 3


def _check_scored_users(X_test):
    """Refuse ``X_test`` without a held-out entry; warn with the number of
    users it leaves out of the mean (those without a held-out entry)."""
    n_users = X_test.shape[0]
    n_left_out = int(np.count_nonzero(np.diff(X_test.indptr) == 0))
    rule = (
        f"score holds out {SCORE_HOLDOUT:.0%} of each user's interactions "
        "(rounded) and keeps at least one, so a user needs at least "
        f"{SCORE_MIN_INTERACTIONS} interactions (one held out, one kept) to "
        "be scored"
    )
    if n_left_out == n_users:
        raise ValueError(
            f"{rule}; no user of X has {SCORE_MIN_INTERACTIONS} or more "
            "nonzero entries."
        )
    if n_left_out:
        warnings.warn(
            f"{n_left_out} of {n_users} users of X have fewer than "
            f"{SCORE_MIN_INTERACTIONS} interactions and are left out of the "
            f"mean NDCG: {rule}.",
            UserWarning,
            stacklevel=3,
        )


class RecommenderMixin:
    """``similar_items``, ``recommend`` and a ranking ``score`` for a linear
    autoencoder (``encoder_``, ``inverse_transform``, ``item_embeddings``)."""

    def _user_scores(self, X):
        """Scores of every item for the validated users ``X`` (dense): what
        the model ranks items by. Here its reconstruction ``X A B^T``; a model
        whose reconstruction is a softmax returns its logits instead and says
        so in :meth:`_scores_are_logits`."""
        Z = safe_sparse_dot(X, self.encoder_.astype(X.dtype), dense_output=True)
        return self.inverse_transform(Z)

    def _scores_are_logits(self):
        """Whether :meth:`_user_scores` returns the logits of a softmax over
        items (``recommend`` then returns their probabilities)."""
        return False

    def _validated_users(self, X, method):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        if _dask.is_dask_array(X):
            raise TypeError(
                f"{method} needs X in memory (a numpy array, scipy.sparse matrix "
                "or DataFrame), not a dask array: pass X.compute() or a block "
                "of its rows."
            )
        return X

    def _item_ids(self, indices):
        """Ids of the item ``indices``: feature names or the indices; padding
        slots (``-1``) become ``None`` among names."""
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return indices
        ids = np.asarray(names, dtype=object)[indices]
        ids[indices == PAD] = None
        return ids

    def _item_positions(self, items):
        """Column indices of the item ids ``items`` (names or indices)."""
        items = np.atleast_1d(np.asarray(items))
        if items.ndim != 1:
            raise ValueError(f"items must be one-dimensional, got shape {items.shape}.")
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            index = pd.Index(names)
            if not index.is_unique:
                raise ValueError("feature_names_in_ holds repeated item names.")
            positions = index.get_indexer(items)
            unknown = items[positions < 0]
            if unknown.size:
                raise ValueError(
                    f"{unknown.size} item id(s) are not among the fitted items "
                    f"(feature_names_in_), e.g. {unknown[:5].tolist()}; ids are "
                    f"compared as they are (7 and '7' differ), and the model's "
                    f"look like {list(names[:3])}."
                )
            return positions
        if items.dtype.kind not in "iu":
            raise TypeError(
                f"{type(self).__name__} was fitted without item names, so items "
                f"are column indices (integers), got dtype {items.dtype}."
            )
        p = self.n_features_in_
        if items.size and (items.min() < 0 or items.max() >= p):
            raise ValueError(
                f"items must be column indices in [0, {p}), got values from "
                f"{items.min()} to {items.max()}."
            )
        return items.astype(np.intp)

    def similar_items(self, items, n_neighbors=10, *, embedding=None, batch_size=None):
        """The ``n_neighbors`` items most similar to each of ``items``, by cosine.

        Exact top-``n_neighbors`` cosine neighbours in the item embedding
        ``embedding``, the item itself excluded, ties to the smaller index:
        the search of :func:`skcosim.metrics.cosine_neighbors` with
        ``queries=items``. An item no training user interacted with has a
        zero row, so cosine 0 with every item: its answer is the smallest
        indices, each with score 0. Computed in batches of query items:
        memory ``O(batch_size * n_features)``, never
        ``n_features x n_features``.

        Parameters
        ----------
        items : array-like of shape (n_items,) or a single id
            Item ids: names from ``feature_names_in_`` when the model was
            fitted on a DataFrame, column indices otherwise.
        n_neighbors : int, default=10
            Number of similar items per item, at most ``n_features - 1`` (the
            word of :class:`~sklearn.neighbors.NearestNeighbors` and of
            :mod:`skcosim.metrics`).
        embedding : {"decoder", "encoder", "projected"} or None, default=None
            Which item embedding (:meth:`item_embeddings`). ``None``: the
            estimator's default (``_default_embedding``), the one the
            metrics and the command line score (:ref:`default-embedding`).
        batch_size : int, default=None
            Query items per batch; ``None`` keeps a batch of cosines near
            36 MiB.

        Returns
        -------
        ids : ndarray of shape (n_items, n_neighbors)
            The similar items, most similar first: names (object array) or
            column indices.
        scores : ndarray of shape (n_items, n_neighbors)
            Their cosine similarities.
        """
        check_is_fitted(self)
        query = self._item_positions(items)
        p = self.n_features_in_
        check_scalar(n_neighbors, "n_neighbors", Integral, min_val=1, max_val=p - 1)
        if batch_size is not None:
            check_scalar(batch_size, "batch_size", Integral, min_val=1)
        indices, scores = top_k_cosines(
            np.asarray(self.item_embeddings(embedding)),
            n_neighbors,
            queries=query,
            batch_size=batch_size,
        )
        return self._item_ids(indices), scores

    def _excluded_items(self, items, filter_items):
        """Boolean mask of the items ``recommend`` never returns (``None``:
        none): those outside the candidates ``items`` and those in
        ``filter_items``."""
        if items is None and filter_items is None:
            return None
        p = self.n_features_in_
        if items is None:
            excluded = np.zeros(p, dtype=bool)
        else:
            if np.size(items) == 0:
                raise ValueError(
                    "items is empty: there is no candidate to recommend (pass "
                    "items=None to rank every item)."
                )
            excluded = np.ones(p, dtype=bool)
            excluded[self._item_positions(items)] = False
        if filter_items is not None and np.size(filter_items):
            excluded[self._item_positions(filter_items)] = True
        if excluded.all():
            raise ValueError(
                "filter_items removes every candidate of items: there is no "
                "item left to recommend."
            )
        return excluded

    def recommend(
        self,
        X,
        k=10,
        *,
        filter_seen=True,
        items=None,
        filter_items=None,
        batch_size=None,
    ):
        """The ``k`` best-scored items for each user, best first.

        Users are rows of ``X`` in the fitted item space; their scores are
        the model's reconstruction (``X A B^T``, or the
        :meth:`inverse_transform` of a :class:`CosineAutoencoder`), computed
        for ``batch_size`` users at a time: memory ``O(batch_size *
        n_features)``, never ``n_samples x n_features``. Ties go to the
        smaller column index. A softmax model (``CosineAutoencoder`` with a
        softmax loss) ranks by its logits, ``cos / temperature``, and returns
        the probabilities computed from them in float64 with a log-sum-exp:
        at a low temperature most probabilities underflow to 0, and a
        ranking by them would order those items by column index.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The users' interactions; nonzero entries are seen items (a
            stored 0.0 is not). A DataFrame must have the columns the model
            was fitted with.
        k : int, default=10
            Number of items per user, at most ``n_features``: the ``k`` of
            :func:`~skcosim.metrics.recall_at_k` and
            :func:`~skcosim.metrics.ndcg_at_k`, which rank these lists.
        filter_seen : bool, default=True
            Leave out each user's seen items. A user with fewer than ``k``
            items left to recommend (unseen, among ``items``, not in
            ``filter_items``) gets padding slots at the end: id ``-1``
            (``None`` among names) and score ``-inf``.
        items : array-like of shape (n_candidates,), default=None
            Candidate items, the only ones ranked (implicit's ``items``):
            ids as in :meth:`similar_items` (names from
            ``feature_names_in_`` or column indices), in any order,
            repeats ignored. ``None``: every item. Empty, or an id the model
            was not fitted with, is a ``ValueError``. A candidate seen by a
            user is still left out for that user when ``filter_seen``. A
            softmax model's probabilities stay those over every item (the
            candidates' do not sum to 1).
        filter_items : array-like of shape (n_filtered,), default=None
            Items never recommended (implicit's ``filter_items``), ids as
            ``items``; it may overlap ``items`` (the filter wins), but not
            remove every candidate (a ``ValueError``).
        batch_size : int, default=None
            Users per batch; ``None`` keeps a batch of scores near 16 MiB.

        Returns
        -------
        ids : ndarray of shape (n_samples, k)
            Recommended items: names (object array) from
            ``feature_names_in_``, or column indices.
        scores : ndarray of shape (n_samples, k)
            Their scores, float64: the reconstruction, or for a softmax model
            the probabilities (which may be 0.0 far down the list).

        Examples
        --------
        >>> import numpy as np
        >>> from skcosim import WeightDecayAutoencoder
        >>> X = np.array([[1, 1, 0, 0, 0],
        ...               [0, 1, 1, 0, 0],
        ...               [0, 0, 1, 1, 1],
        ...               [1, 0, 0, 1, 1]], dtype=float)
        >>> model = WeightDecayAutoencoder(n_components=2, alpha=0.5).fit(X)
        >>> ids, scores = model.recommend(X[:1], k=2, items=[0, 2, 3])
        >>> ids  # item 0 is seen: not recommended
        array([[2, 3]])
        >>> ids, _ = model.recommend(X[:1], k=2, filter_items=[2, 4])
        >>> ids
        array([[ 3, -1]])
        """
        X = self._validated_users(X, "recommend")
        check_scalar(k, "k", Integral, min_val=1, max_val=X.shape[1])
        if batch_size is not None:
            check_scalar(batch_size, "batch_size", Integral, min_val=1)
        check_scalar(filter_seen, "filter_seen", (bool, np.bool_))
        top, values = top_k_unseen(
            lambda i0, i1: self._user_scores(X[i0:i1]),
            as_csr(X),
            k,
            filter_seen=filter_seen,
            exclude=self._excluded_items(items, filter_items),
            batch_size=batch_size,
            softmax=self._scores_are_logits(),
        )
        return self._item_ids(top), values

    def score(self, X, y=None):
        """Ranking quality on held-out interactions of the users ``X``.

        Higher is better: a default that model selection can use. A fixed
        share (20 %, seeded) of each user's nonzero entries is hidden
        (:func:`~skcosim.model_selection.train_test_split_interactions`), the rest is
        folded in, and the hidden items are ranked among the unseen ones:
        the mean NDCG@100 (at most ``n_features``) over users with a hidden
        item, the strong-generalization protocol of Liang et al. (2018) and
        Steck (2019). A user is scored when at least one interaction is
        held out and one kept: 20 % of 2 rounds to 0, so users with fewer
        than 3 interactions are left out of the mean, with a ``UserWarning``
        giving their number (an error when no user is left). In a
        cross-validation the users of the validation fold were not seen in
        fitting. The reconstruction error, which always prefers the least
        regularization, is :meth:`reconstruction_loss`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interactions of the users to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean NDCG in ``[0, 1]``.
        """
        X = self._validated_users(X, "score")
        X_train, X_test = train_test_split_interactions(
            X, test_size=SCORE_HOLDOUT, random_state=SCORE_RANDOM_STATE
        )
        _check_scored_users(X_test)
        k = min(SCORE_K, X.shape[1])
        top, _ = top_k_unseen(
            lambda i0, i1: self._user_scores(X_train[i0:i1].astype(X.dtype)),
            X_train,
            k,
        )
        return ndcg_from_hits(*hit_matrix(top, X_test))
