"""Hold out a share of each user's interactions."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from .._compat import Interval, validate_params
from .._validation import drop_stored_zeros


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
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
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Users in rows, items in columns; nonzero entries are interactions.
    test_size : float in (0, 1), default=0.2
        Share of each user's interactions held out.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of held-out entries.

    Returns
    -------
    X_train : sparse matrix of shape (n_samples, n_features)
        CSR, the entries kept (the sparse class of ``X`` if it was sparse).
    X_test : sparse matrix of shape (n_samples, n_features)
        CSR, the entries held out.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.model_selection import train_test_split_interactions
    >>> X = np.ones((3, 10))
    >>> X_train, X_test = train_test_split_interactions(X, test_size=0.2,
    ...                                                 random_state=0)
    >>> X_train.toarray().sum(axis=1), X_test.toarray().sum(axis=1)
    (array([8., 8., 8.]), array([2., 2., 2.]))
    """
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
