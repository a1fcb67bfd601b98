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
