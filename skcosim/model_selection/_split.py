"""Hold out a share of each user's interactions."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_array

from .._compat import Interval, validate_params
from .._validation import (
    drop_stored_zeros,
    frame_values,
    matrix_frame,
    warn_if_interaction_log,
)


@validate_params(
    {
        "X": ["array-like", "sparse matrix", dict],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def train_test_split_interactions(X, test_size: float = 0.2, random_state=None):
    """Hide a random share of each user's interactions.

    Every user (row) keeps ``round(test_size * n_u)`` of its ``n_u`` nonzero
    entries out of the training matrix, but always at least one in it: the
    held-out entries go into ``X_test``, the others into ``X_train``, so
    ``X_train + X_test == X`` and the two share no entry. Users are not split
    across the two: to evaluate on users never seen in fitting, pass
    held-out users (e.g. a cross-validation fold) to this function.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features) \
            or Bunch
        Users in rows, items in columns; nonzero entries are interactions. A
        DataFrame (dense or sparse) keeps its index (user ids) and columns
        (item ids); so does the Bunch of
        :func:`~skcosim.datasets.load_interactions` (with or without
        ``as_frame``).
    test_size : float in (0, 1), default=0.2
        Share of each user's interactions held out.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of held-out entries.

    Returns
    -------
    X_train : sparse matrix, DataFrame or Bunch of shape (n_samples, n_features)
        CSR, the entries kept. For a DataFrame ``X``, a sparse DataFrame with
        the same index and columns, in the same order (every user and item,
        also those left without entries); for a Bunch, a Bunch with the same
        ``user_ids`` and ``item_ids`` (and ``frame`` when ``X`` has one).
    X_test : sparse matrix, DataFrame or Bunch of shape (n_samples, n_features)
        The entries held out, in the form of ``X_train``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.model_selection import train_test_split_interactions
    >>> X = np.ones((3, 10))
    >>> X_train, X_test = train_test_split_interactions(X, test_size=0.2,
    ...                                                 random_state=0)
    >>> X_train.toarray().sum(axis=1), X_test.toarray().sum(axis=1)
    (array([8., 8., 8.]), array([2., 2., 2.]))

    A DataFrame keeps its ids:

    >>> import pandas as pd
    >>> frame = pd.DataFrame(X, index=["ann", "bob", "cy"],
    ...                      columns=[f"item{j}" for j in range(10)])
    >>> train, test = train_test_split_interactions(frame, random_state=0)
    >>> test.index.tolist(), test.columns[:3].tolist()
    (['ann', 'bob', 'cy'], ['item0', 'item1', 'item2'])
    """
    warn_if_interaction_log(X, "train_test_split_interactions", stacklevel=4)
    # The ids of a DataFrame or a Bunch go to both parts, unchanged.
    if isinstance(X, pd.DataFrame):
        parts = _split_matrix(frame_values(X), test_size, random_state)
        return tuple(matrix_frame(part, X) for part in parts)
    if isinstance(X, dict):
        return _split_bunch(X, test_size, random_state)
    return _split_matrix(X, test_size, random_state)


def _split_bunch(data, test_size, random_state):
    """Two Bunches with the ids of ``data`` (a :func:`load_interactions`
    Bunch), each with a ``frame`` when ``data`` has one."""
    missing = [key for key in ("data", "user_ids", "item_ids") if key not in data]
    if missing:
        raise ValueError(
            f"X is a dict without {missing}: pass the Bunch of load_interactions, "
            "a DataFrame or an interaction matrix."
        )
    X = data["data"]
    is_frame = isinstance(X, pd.DataFrame)
    parts = _split_matrix(frame_values(X) if is_frame else X, test_size, random_state)
    shape = (len(data["user_ids"]), len(data["item_ids"]))
    if parts[0].shape != shape:
        raise ValueError(
            f"X.data has shape {parts[0].shape} but X has {shape[0]} user_ids "
            f"and {shape[1]} item_ids."
        )
    bunches = []
    for part in parts:
        bunch = Bunch(data=part, user_ids=data["user_ids"], item_ids=data["item_ids"])
        if is_frame:
            bunch.data = bunch.frame = matrix_frame(part, X)
        bunches.append(bunch)
    return tuple(bunches)


def _split_matrix(X, test_size, random_state):
    """:func:`train_test_split_interactions` of a matrix."""
    rng = check_random_state(random_state)
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32])
    # One entry per interaction: no stored zeros, duplicates summed.
    X = drop_stored_zeros(sp.csr_matrix(X) if not sp.issparse(X) else X.tocsr())
    if not X.has_sorted_indices:
        X = X.sorted_indices()  # a copy: the input is never modified
    nnz_u = np.diff(X.indptr)
    n_test = np.minimum(np.floor(test_size * nnz_u + 0.5), np.maximum(nnz_u - 1, 0))
    row = np.repeat(np.arange(X.shape[0]), nnz_u)
    # Rank each entry within its row by a random key; the lowest go to test.
    order = np.lexsort((rng.random_sample(X.nnz), row))
    rank = np.empty(X.nnz, dtype=np.intp)
    rank[order] = np.arange(X.nnz) - X.indptr[row[order]]
    test = rank < n_test[row]
    X_train, X_test = X.copy(), X.copy()
    X_train.data[test] = 0
    X_test.data[~test] = 0
    X_train.eliminate_zeros()
    X_test.eliminate_zeros()
    return X_train, X_test
