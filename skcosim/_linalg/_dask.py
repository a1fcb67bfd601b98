"""Dask paths: the closed forms on a row-chunked :mod:`dask.array`.

Every closed form needs ``X`` only through products over its rows: ``X^T X``
is the sum of ``B^T B`` over row blocks ``B``, and the Lanczos operator
``v -> X^T X v`` is the sum of ``B^T (B v)``. So a matrix too large for one
machine stays where Dask keeps it; only ``p``-sized results travel, and the
eigendecomposition of the small ``p x p`` problem runs on the client
(:mod:`skcosim._linalg._spectrum`, still the only place that decomposes).

The blocks are reduced with :func:`dask.delayed` rather than ``Xd.T @ Xd``:
Dask's ``matmul`` fails on scipy.sparse chunks, and so does
``dask_ml.decomposition.TruncatedSVD``. ``dask`` is imported only when a
dask array is passed (it is an optional dependency: ``pip install
skcosim[dask]``).

Solvers on a dask array:

``"gram"``
    One pass over the data: ``X^T X`` summed over row blocks (tree reduction),
    then the top eigenpairs. Exact; each worker holds a ``p x p`` matrix.
``"arpack"``
    The blocks are persisted, then ARPACK's Lanczos runs on the client with
    each product ``X^T X v`` one Dask computation. Exact; memory ``O(p)`` per
    worker, but one round trip to the scheduler per product.
``"randomized"``
    :func:`dask.array.linalg.svd_compressed` with ``n_iter`` power iterations
    (approximate, as the in-memory ``"randomized"``).
``"auto"``
    ``"gram"`` when ``p <= DASK_GRAM_MAX_FEATURES`` (one pass over the data is
    what counts when it is distributed), otherwise ``"arpack"``.
"""

from __future__ import annotations

import functools
import itertools
import sys

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.utils import check_random_state

from .._validation import drop_stored_zeros, item_popularity
from ._eigen import (
    arpack_fits,
    flip_signs,
    lanczos_ncv,
    top_k_from_gram,
    zero_null_eigenvalues,
)
from ._matrix import check_gram_norm

#: Largest ``n_features`` for which ``solver="auto"`` forms ``X^T X`` on Dask
#: (a ``p x p`` float64 matrix per worker: 800 MB at 10,000).
DASK_GRAM_MAX_FEATURES = 10_000


def is_dask_array(X) -> bool:
    """Whether ``X`` is a :class:`dask.array.Array` (without importing dask)."""
    if "dask.array" not in sys.modules:
        return False
    import dask.array as da

    return isinstance(X, da.Array)


def check_dask_array(X):
    """Check a dask array without computing it; return it row-chunked.

    Checks what is known without a pass over the data (2-D, known row chunks,
    at least one row and column, numeric dtype); non-finite values are
    detected during the first pass over the blocks (:func:`gram_matrix` and
    the solvers raise a ``ValueError``). Returns ``X`` chunked along rows
    only, in float32 or float64.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array (users x items), got {X.ndim} dimension(s)."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "The dask array has unknown chunk sizes; call X.compute_chunk_sizes() "
            "first."
        )
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"Found array with shape {X.shape}: at least one sample and one "
            "feature are required."
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(f"Expected a numeric dask array, got dtype {X.dtype}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return _rows_only(X)


def _rows_only(X):
    """``X`` with one chunk along the columns (rows are the unit of work)."""
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X


def row_blocks(X):
    """The row blocks of ``X`` as a list of delayed objects."""
    return list(_rows_only(X).to_delayed().ravel())


def _check_finite(B):
    values = B.data if sp.issparse(B) else B
    if not np.all(np.isfinite(values)):
        raise ValueError("Input X contains NaN or infinity.")


def _block_gram(B):
    _check_finite(B)
    G = B.T @ B
    return G.toarray() if sp.issparse(G) else np.asarray(G)


def _block_normal_product(B, v):
    return B.T @ (B @ v)


def _block_squared_norm(B):
    _check_finite(B)
    values = B.data if sp.issparse(B) else np.asarray(B)
    values = values.astype(np.float64, copy=False).ravel()
    return float(values @ values)


def _block_dot(B, *, A):
    out = B @ A
    return out.toarray() if sp.issparse(out) else np.asarray(out)


def _add_parts(a, b):
    """Sum of two results of a block function: tuples add entry by entry."""
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b, strict=True))
    return a + b


def _tree_sum(parts):
    """Pairwise sum of delayed objects: depth ``log2(len(parts))``."""
    import dask

    add = dask.delayed(_add_parts, pure=True)
    while len(parts) > 1:
        pairs = [add(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


def sum_over_blocks(X, fn, *args, **kwargs):
    """``fn(block, *args, **kwargs)`` summed over the row blocks of ``X``.

    One Dask computation: each block is handed to ``fn`` as a float64 CSR
    matrix without stored zeros (they are not interactions) where it lives
    (a row-additive loss and its gradients, say), and only the results,
    entry by entry for a tuple, are tree-summed and brought back.
    """
    import dask

    def part(B):
        _check_finite(B)
        B = drop_stored_zeros(sp.csr_matrix(B, dtype=np.float64))
        return fn(B, *args, **kwargs)

    parts = [dask.delayed(part, pure=True)(blk) for blk in row_blocks(X)]
    (total,) = dask.compute(_tree_sum(parts))
    return total


def users_per_item(X):
    """Number of users with a nonzero value, per item, of a row-chunked dask
    array (one pass; :func:`skcosim._validation.item_popularity` per block)."""
    return sum_over_blocks(X, item_popularity)


def gram_matrix(X):
    """``X^T X`` of a row-chunked dask array, as a numpy array.

    The sum of ``B^T B`` over the row blocks ``B`` (scipy.sparse or numpy),
    computed on the current Dask scheduler (a ``distributed.Client`` if one is
    active) with a tree reduction.
    """
    import dask

    block_gram = dask.delayed(_block_gram, pure=True)
    (G,) = dask.compute(_tree_sum([block_gram(B) for B in row_blocks(X)]))
    G = np.asarray(G, dtype=X.dtype)
    check_gram_norm(np.sqrt(np.trace(G, dtype=np.float64)), X)  # tr(X^T X) = ||X||^2
    return G


class _DaskNormalOperator(LinearOperator):
    """``v -> X^T (X v)``, one Dask computation over persisted row blocks."""

    def __init__(self, blocks, n_features, dtype):
        self.blocks = blocks
        super().__init__(dtype=dtype, shape=(n_features, n_features))

    def _matvec(self, v):
        import dask

        v = np.asarray(v, dtype=self.dtype).ravel()
        product = dask.delayed(_block_normal_product, pure=True)
        (out,) = dask.compute(_tree_sum([product(B, v) for B in self.blocks]))
        return np.asarray(out, dtype=self.dtype)

    def _adjoint(self):
        return self


def top_k_spectrum(X, k, *, solver, random_state, n_iter, n_oversamples):
    """``(s, V)`` of a row-chunked dask array, ``k <= min(X.shape)`` components.

    The Dask counterpart of :func:`skcosim._linalg._spectrum.top_k_spectrum` (same
    meaning of ``solver``; see the module docstring); the caller pads.
    """
    import dask

    n_samples, n_features = X.shape
    dtype = X.dtype
    max_dim = max(n_samples, n_features)
    if k == 0:
        return np.zeros(0, dtype), np.zeros((n_features, 0), dtype)
    if solver == "auto":
        solver = "gram" if n_features <= DASK_GRAM_MAX_FEATURES else "arpack"
    if solver == "arpack" and not arpack_fits(k, min(n_samples, n_features)):
        solver = "gram"
    if solver == "gram":
        return top_k_from_gram(gram_matrix(X), k, max_dim)

    X = _rows_only(X)
    blocks = list(dask.persist(*row_blocks(X)))
    norm = dask.delayed(_block_squared_norm, pure=True)
    (total,) = dask.compute(_tree_sum([norm(B) for B in blocks]))
    check_gram_norm(np.sqrt(total), X)
    if total == 0:  # a zero X: ARPACK would fail on its zero start vector
        return np.zeros(0, dtype), np.zeros((n_features, 0), dtype)
    if solver == "arpack":
        rng = check_random_state(random_state)
        v0 = rng.uniform(-1, 1, size=n_features).astype(dtype)
        op = _DaskNormalOperator(blocks, n_features, dtype)
        w, Q = eigsh(op, k=k, which="LA", v0=v0, ncv=lanczos_ncv(k, n_features))
        order = np.argsort(w)[::-1]
        w = w[order]
        w = zero_null_eigenvalues(w, dtype, max_dim)
        return np.sqrt(w), flip_signs(Q[:, order])
    # randomized: Dask's own randomized SVD, which accepts scipy.sparse chunks
    import dask.array as da

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    _, s, Vt = da.linalg.svd_compressed(
        X, k, n_power_iter=n_iter, n_oversamples=n_oversamples, seed=seed
    )
    s, Vt = dask.compute(s, Vt)
    return np.asarray(s, dtype=dtype), flip_signs(np.asarray(Vt, dtype=dtype).T)


def _block_normal_products(B, M):
    """``[B^T (B M), diag(B^T B)]`` of one row block, as one ``p x (m + 1)`` array."""
    _check_finite(B)
    BM = B @ M
    GM = B.T @ (BM.toarray() if sp.issparse(BM) else np.asarray(BM))
    col_sq = B.multiply(B).sum(axis=0) if sp.issparse(B) else (B * B).sum(axis=0)
    return np.column_stack([np.asarray(GM), np.asarray(col_sq).ravel()])


def reconstruction_terms(X, A, B):
    """``||X - X A B^T||^2``, ``P^T P`` and ``diag(X^T X)`` in one pass over ``X``.

    With ``G = X^T X``: ``||X||^2 = tr(G)``, ``tr(P^T X B) = tr(A^T G B)`` and
    ``P^T P = A^T G A`` (docs/user_guide/objectives.rst, "Computing the losses
    without an n x p matrix"), so
    ``X^T (X [A, B])`` and ``diag(G)`` summed over the row blocks are enough.
    """
    import dask

    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    k = A.shape[1]
    products = dask.delayed(_block_normal_products, pure=True)
    M = np.hstack([A, B])
    (S,) = dask.compute(_tree_sum([products(blk, M) for blk in row_blocks(X)]))
    GA, GB, col_sq = S[:, :k], S[:, k : 2 * k], S[:, -1]
    PtP = A.T @ GA
    cross = float(np.sum(A * GB))
    error = float(col_sq.sum()) - 2.0 * cross + float(np.sum(PtP * (B.T @ B)))
    return max(error, 0.0), PtP, col_sq


def _block_column_sums_and_squared_norm(B):
    _check_finite(B)
    sums = np.asarray(B.sum(axis=0, dtype=np.float64)).ravel()
    return np.append(sums, _block_squared_norm(B))


def column_sums_and_squared_norm(X):
    """Column sums and ``||X||_F^2`` of a row-chunked dask array, in one pass."""
    import dask

    block = dask.delayed(_block_column_sums_and_squared_norm, pure=True)
    (out,) = dask.compute(_tree_sum([block(B) for B in row_blocks(X)]))
    return out[:-1], float(out[-1])


def take_rows(X, rows):
    """The rows ``rows`` (sorted, unique) of a row-chunked dask array, lazily:
    each block keeps its own rows where it lives, so the chunks are known."""
    import dask.array as da

    X = _rows_only(X)
    rows = np.asarray(rows, dtype=np.intp)
    bounds = np.cumsum((0, *X.chunks[0]))
    parts = []
    for i, (start, stop) in enumerate(itertools.pairwise(bounds)):
        lo, hi = np.searchsorted(rows, [start, stop])
        if hi > lo:
            parts.append(X.blocks[i][rows[lo:hi] - start])
    if not parts:
        return X[:0]
    return da.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]


def transform(X, A):
    """``X @ A`` for a row-chunked dask array ``X``: a dask array, lazily.

    Each row block is multiplied by the (small, dense) ``A`` where it lives;
    the result is chunked like the rows of ``X``.
    """
    X = _rows_only(X)
    A = np.asarray(A).astype(X.dtype, copy=False)
    return X.map_blocks(
        functools.partial(_block_dot, A=A),
        dtype=X.dtype,
        chunks=(X.chunks[0], (A.shape[1],)),
        meta=np.empty((0, 0), dtype=X.dtype),
    )
