"""Sparse matrices whose stored entries are not all interactions: stored
0.0 values, and duplicate entries that sum to zero."""

import numpy as np
import scipy.sparse as sp
from numpy.testing import assert_array_equal


def with_stored_zeros(X, rows, cols):
    """CSR ``X`` plus stored 0.0 entries at ``(rows, cols)`` (empty entries)."""
    C = sp.coo_matrix(X)
    rows, cols = np.asarray(rows), np.asarray(cols)
    data = np.r_[C.data, np.zeros(len(rows), dtype=C.dtype)]
    out = sp.csr_matrix((data, (np.r_[C.row, rows], np.r_[C.col, cols])), shape=C.shape)
    assert_array_equal(out.toarray(), C.toarray())
    return out


def with_cancelling_duplicates(X, users=(0,)):
    """CSR ``X`` (stored zeros kept) plus, for each of ``users``, duplicate
    entries ``+1, -1`` and ``+2, -2`` at two of its empty entries: stored
    values that are no interaction once summed."""
    C = sp.coo_matrix(X)
    D = C.toarray()
    rows, cols, data = [C.row], [C.col], [C.data]
    for u in users:
        free = np.flatnonzero(D[u] == 0)[:2]
        rows.append(np.full(4, u))
        cols.append(np.repeat(free, 2))
        data.append(np.array([1.0, -1.0, 2.0, -2.0], dtype=C.dtype))
    rows, cols, data = map(np.concatenate, (rows, cols, data))
    order = np.argsort(rows, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=C.shape[0]))]
    out = sp.csr_matrix((data[order], cols[order], indptr), shape=C.shape)
    assert not out.has_canonical_format
    assert_array_equal(out.toarray(), D)
    return out


#: Items no user interacted with; ONLY_ZEROS holds stored 0.0 entries only.
NEVER = [5, 17, 44, 49]
ONLY_ZEROS = 31


def long_tailed(n_users=240, n_items=50, dtype=np.float64, seed=0):
    """A power-law binary CSR log with unseen items and stored zeros.

    Item ``j`` is drawn with probability proportional to ``(j + 1)^-1.2``;
    the items ``NEVER`` have no entry, item ``ONLY_ZEROS`` only stored
    zeros, and 30 stored zeros sit in other columns (some next to real
    interactions of the same user).
    """
    rng = np.random.RandomState(seed)
    weight = np.arange(1, n_items + 1) ** -1.2
    D = (rng.rand(n_users, n_items) < 0.45 * weight / weight[0]).astype(dtype)
    D[:, [*NEVER, ONLY_ZEROS]] = 0
    C = sp.coo_matrix(D)
    zero_rows = np.concatenate([rng.choice(n_users, 6), rng.choice(n_users, 30)])
    zero_cols = np.concatenate([np.full(6, ONLY_ZEROS), rng.choice(n_items, 30)])
    free = D[zero_rows, zero_cols] == 0  # a stored zero never hides a 1
    X = sp.csr_matrix(
        (
            np.concatenate([C.data, np.zeros(free.sum(), dtype)]),
            (
                np.concatenate([C.row, zero_rows[free]]),
                np.concatenate([C.col, zero_cols[free]]),
            ),
        ),
        shape=D.shape,
    )
    assert np.count_nonzero(X.data == 0) > 10
    return X


def unseen_by_brute_force(X):
    return ~np.any(X.toarray() != 0, axis=0)
