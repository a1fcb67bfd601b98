"""Matrix quantities shared by the estimators, the metrics and the report.

Norms, the reconstruction error without an ``n x p`` array, the factor that
projects embeddings back into item space, unit rows, and the bound beyond
which ``X^T X`` overflows.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot, svd_flip


def squared_frobenius(X):
    """``||X||_F^2`` for a dense or sparse matrix, in float64."""
    if sp.issparse(X):
        data = X.data.astype(np.float64, copy=False)
        return float(data @ data)
    X = np.asarray(X, dtype=np.float64)
    return float(np.einsum("ij,ij->", X, X))


def squared_reconstruction_error(X, P, B):
    """``||X - P B^T||_F^2`` without forming the ``n x p`` reconstruction.

    Expands to ``||X||^2 - 2 tr(P^T X B) + tr((P^T P)(B^T B))``; ``X B`` is a
    sparse-dense product, so the cost is ``O(nnz(X) k + (n + p) k^2)``
    (docs/user_guide/objectives.rst, "Computing the losses without an n x p
    matrix").
    """
    P = np.asarray(P, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        XB = safe_sparse_dot(X, B, dense_output=True)
        cross = float(np.einsum("ij,ij->", P, XB))
        PtP = P.T @ P
    return reconstruction_error_from_moments(squared_frobenius(X), cross, PtP, B)


def expanded_reconstruction_error(squared_norm, cross, PtP, BtB):
    """``||X - P B^T||_F^2 = ||X||^2 - 2 tr(P^T X B) + tr((P^T P)(B^T B))``.

    The one place the Objective 1 and 2 losses expand their reconstruction
    error; unchecked (a gradient solver's trial step may overflow to inf).
    """
    return squared_norm - 2.0 * cross + np.einsum("ij,ij->", PtP, BtB)


def reconstruction_error_from_moments(squared_norm, cross, PtP, B):
    """``||X - P B^T||_F^2`` from ``||X||_F^2``, ``tr(P^T X B)`` and ``P^T P``.

    What :func:`squared_reconstruction_error` computes once it has the
    ``k``-dimensional terms; a closed form has them without a pass over ``X``.
    """
    B = np.asarray(B, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(expanded_reconstruction_error(squared_norm, cross, PtP, B.T @ B))
    if not np.isfinite(total):  # inf - inf: would be returned as NaN
        raise ValueError(
            "X is too large: its squared reconstruction error overflows float64. "
            "Rescale X (e.g. divide by its largest entry)."
        )
    return max(total, 0.0)


def projection_factor(decoder):
    """A ``k x k`` matrix ``L`` with ``L L^T = B^T B``.

    Rows of ``A L`` have the inner products of the rows of ``A B^T``, so their
    cosines are those of the ``p x p`` product, computed in ``k`` dimensions
    (docs/user_guide/remedies.rst, "Project back into the original space").
    ``B^T B`` may be singular (zero components), hence a
    symmetric eigendecomposition rather than a Cholesky factor.
    """
    BtB = decoder.T.astype(np.float64) @ decoder.astype(np.float64)
    w, U = np.linalg.eigh(BtB)
    return (U * np.sqrt(np.clip(w, 0, None))).astype(decoder.dtype)


def canonical_projection(encoder, decoder):
    """``k x k`` map ``T`` with ``A T`` the canonical gauge-free item embedding.

    ``A L`` (``L L^T = B^T B``, docs/user_guide/remedies.rst) has the Gram matrix of the
    rows of ``A B^T``, but ``L`` is only defined up to a rotation. Rotating
    ``A L`` onto its principal axes (``A L = U S W^T``, so ``A L W = U S``,
    signs fixed by :func:`~sklearn.utils.extmath.svd_flip`) makes the
    embedding itself, not only its cosines, the same for every gauge. The one
    definition of the "projected" embedding: ``item_embeddings("projected")``
    of every estimator and :class:`~skcosim.preprocessing.ProjectedEmbedding`.
    """
    L = projection_factor(decoder.astype(np.float64))
    U, _, Wt = np.linalg.svd(encoder.astype(np.float64) @ L, full_matrices=False)
    U, Wt = svd_flip(U, Wt, u_based_decision=True)
    T = L @ Wt.T
    r, k = Wt.shape
    if r < k:
        # Fewer items than components: A L W has rank at most r. Zero
        # columns keep the documented n_components columns, so that a gauge
        # of the wrapped model (k x k) still fits.
        T = np.hstack([T, np.zeros((k, k - r))])
    return T.astype(encoder.dtype)


def check_gram_norm(norm, X):
    """Raise a ValueError when a Frobenius norm ``norm`` of ``X`` makes ``X^T X``
    overflow the dtype of ``X``.

    Every entry of ``X^T X`` is at most ``||X||_F^2``; beyond ``finfo.max`` the
    spectrum comes out as inf/NaN and the fit silently returns a zero model.
    The margin ``eps / max(n, p)`` leaves room for the sums and the dropout
    factor ``q / (1 - q)`` (docs/user_guide/objectives.rst, "Exact dropout").
    """
    info = np.finfo(X.dtype)
    if not np.isfinite(norm) or norm > np.sqrt(info.max * info.eps / max(X.shape)):
        raise ValueError(
            f"X is too large to fit in {X.dtype}: its Frobenius norm {norm:.3g} "
            "makes X^T X overflow. Rescale X (e.g. divide by its largest entry)."
        )


def check_gram_fits(X):
    """Raise a ValueError when ``X^T X`` of an in-memory ``X`` would overflow
    or underflow the dtype of ``X`` (a dask array is checked on the first pass
    over its blocks, :mod:`skcosim._linalg._dask`)."""
    data = X.data if sp.issparse(X) else X
    # BLAS nrm2 rescales internally, so the norm itself cannot overflow.
    norm = float(scipy.linalg.norm(np.ravel(data, order="K"))) if data.size else 0.0
    check_gram_norm(norm, X)
    info = np.finfo(X.dtype)
    # Squares below the smallest normal number lose their digits, and X^T X
    # of such data is zero: the fit would be the zero model, without a word.
    peak = max(float(data.max()), -float(data.min())) if norm > 0 else 0.0
    if 0 < peak < np.sqrt(info.tiny):
        raise ValueError(
            f"X is too small to fit in {X.dtype}: its largest entry {peak:.3g} "
            f"squares to below {info.tiny:.3g} (the smallest normal {X.dtype}), "
            "so X^T X underflows. Rescale X (e.g. divide by its largest entry)."
        )


def unit_rows(E):
    """Rows of ``E`` scaled to exactly unit L2 norm, however small; zero rows
    stay zero. The cosines of a fitted embedding; the losses of Objective 3
    train with the floored :func:`skcosim._optim._losses.floored_unit_rows`.

    Not :func:`sklearn.preprocessing.normalize`: it leaves rows of norm below
    ``10 * eps`` unscaled (about 1e-6 in float32), which made their cosines
    near 0 instead of scale-free. Dividing by the largest entry first keeps
    the norm from underflowing or overflowing.
    """
    peak = np.abs(E).max(axis=1, keepdims=True)
    U = E / np.where(peak > 0, peak, 1).astype(E.dtype)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U /= np.where(norms > 0, norms, 1).astype(E.dtype)
    return U


def column_squared_norms(X):
    """``diag(X^T X)`` without forming ``X^T X``, in float64."""
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel()
    return np.einsum("ij,ij->j", X, X, dtype=np.float64)


def column_moments(X):
    """``(counts, sums, squares)`` per column of an in-memory ``X``: the number
    of stored values (nonzeros, once stored zeros are dropped), their sum and
    the sum of their squares, the last two in float64. One pass over the
    stored values of a CSR or CSC matrix, never a sparse product.
    """
    n_features = X.shape[1]
    if not sp.issparse(X):
        return (
            np.count_nonzero(X, axis=0),
            np.sum(X, axis=0, dtype=np.float64),
            np.einsum("ij,ij->j", X, X, dtype=np.float64),
        )
    if X.format == "csc":
        columns = np.repeat(np.arange(n_features), np.diff(X.indptr))
    else:
        columns = sp.csr_matrix(X).indices
    data = X.data.astype(np.float64, copy=False)
    return (
        np.bincount(columns, minlength=n_features),
        np.bincount(columns, weights=data, minlength=n_features),
        np.bincount(columns, weights=data * data, minlength=n_features),
    )


def total_variance(n_samples, sums, squares):
    """Sum over columns of the variance over ``n_samples`` rows, from each
    column's sum and sum of squares (:func:`column_moments`)."""
    mean = sums / n_samples
    return float(np.clip(squares / n_samples - mean * mean, 0, None).sum())
