"""TruncatedSVD's attributes for a linear autoencoder: ``components_``,
``explained_variance_`` and ``explained_variance_ratio_``.

They describe the model's reconstruction of its training data,
``X_hat = P' B'^T`` (``X A B^T`` for Objectives 1 and 2; ``c N(X A) N(B)^T``
for Objective 3, with the normalization the model is trained with), the way
:class:`~sklearn.decomposition.TruncatedSVD` describes its own
``X V_k V_k^T``: ``components_`` are the right singular vectors of
``X_hat``, and ``explained_variance_ratio_`` a variance along each over the
total variance of ``X``. ``X_hat`` does not depend on the gauge, so neither
do they, and with ``alpha=0`` (a rank-``k`` least-squares fit) they are
TruncatedSVD's (docs/coming_from.rst; docs/user_guide/objectives.rst,
Notation).

Which variance depends on the model's ``_explained_variance_of``:

- ``"reconstruction"`` (Objectives 1 and 2): the variance over users of
  ``X_hat`` projected on each component. ``X_hat = X A B^T`` shrinks ``X``
  along each component, so each ratio is at most the share of ``X``'s
  variance along it, and they sum to at most 1.
- ``"data"`` (Objective 3): the variance over users of ``X`` itself projected
  on each component, as TruncatedSVD computes it. The cosine model's
  reconstruction is on its own scale (cosines, or logits times ``t``), so
  its own variance is no share of ``X``'s; the variance of ``X`` in the
  directions the model reconstructs is, and the components are orthonormal,
  so these ratios sum to at most 1.

Everything is computed in ``k`` dimensions from ``P'^T P'``, the mean of
``P'`` and a thin QR of ``B'``, never forming ``X_hat``: with ``B' = Q R``,
``X_hat^T X_hat = Q (R P'^T P' R^T) Q^T``. On a dask array the same sums are
taken over the row blocks (one pass), each block through the model's own
``_reconstruction_factors``. A closed form of Objective 1 or 2 built on an
exact spectrum ``X ~ U S V^T`` passes its moments in instead, without a
product with ``X``: ``P^T P = C^T S^2 C`` with ``C = V^T A``
(:func:`spectral_moments`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.sparsefuncs import mean_variance_axis

from .._linalg import _dask


def _block_moments(X, A, Q, reconstruction_factors):
    """``(P'^T P', column sums of P', (X Q)^T (X Q), column sums of X Q)``;
    without ``Q`` (``None``) the last two are empty."""
    P = safe_sparse_dot(X, A, dense_output=True).astype(np.float64, copy=False)
    P = np.asarray(reconstruction_factors(P)[0], dtype=np.float64)
    if Q is None:
        return P.T @ P, P.sum(axis=0), np.zeros((0, 0)), np.zeros(0)
    XQ = safe_sparse_dot(X, Q, dense_output=True).astype(np.float64, copy=False)
    return P.T @ P, P.sum(axis=0), XQ.T @ XQ, XQ.sum(axis=0)


def _moments(model, X, Q):
    """:func:`_block_moments` over all users, in memory or over the blocks."""
    A = model.encoder_.astype(np.float64)
    factors = model._reconstruction_factors
    if _dask.is_dask_array(X):
        return _dask.sum_over_blocks(X, _block_moments, A, Q, factors)
    return _block_moments(X, A, Q, factors)


def spectral_moments(A, s, V, column_sums):
    """``P^T P`` and the column sums of ``P = X A``, without ``X``, for an
    ``A`` in the span of ``V``, top right singular vectors of ``X`` with
    singular values ``s``.

    ``X^T X V = V diag(s^2)``, so with ``C = V^T A``,
    ``P^T P = C^T diag(s^2) C``; the column sums of ``P`` are those of ``X``
    times ``A``. Exact when ``V`` and ``s`` are (an exact solver's, in float64).
    """
    A = np.asarray(A, dtype=np.float64)
    C = np.asarray(V, dtype=np.float64).T @ A
    s2 = np.asarray(s, dtype=np.float64) ** 2
    PtP = C.T @ (C * s2[:, None])
    return (PtP + PtP.T) / 2, column_sums @ A


def _total_variance(X):
    """Sum of the variances of the columns of ``X`` (TruncatedSVD's ``full_var``)."""
    if _dask.is_dask_array(X):
        n = X.shape[0]
        column_sums, squared_norm = _dask.column_sums_and_squared_norm(X)
        return max(squared_norm / n - float(np.sum((column_sums / n) ** 2)), 0.0)
    if sp.issparse(X):
        return float(mean_variance_axis(X.astype(np.float64), axis=0)[1].sum())
    return float(np.var(X, axis=0, dtype=np.float64).sum())


def _variances(gram, sums, M, n):
    """Variance over ``n`` users of ``Y M`` per column, from ``Y^T Y`` and the
    column sums of ``Y``."""
    second = np.einsum("ij,ik,kj->j", M, gram, M) / n
    return np.clip(second - (sums @ M / n) ** 2, 0, None)


def set_explained_variance(model, X, moments=None):
    """Set ``components_``, ``explained_variance_`` and
    ``explained_variance_ratio_`` of ``model``, fitted on ``X``.

    ``moments``: ``(P^T P, column sums of P, total variance of X)`` when the
    caller has them without a pass over ``X`` (a closed form of Objective 1
    or 2, :func:`spectral_moments`); ``None``: computed here from ``X``.
    """
    n = X.shape[0]
    k = model.decoder_.shape[1]
    # The item side of the reconstruction does not depend on the users.
    B = np.asarray(model._reconstruction_factors(np.zeros((0, k)))[1], dtype=np.float64)
    Q, R = np.linalg.qr(B)
    of_data = getattr(model, "_explained_variance_of", "reconstruction") == "data"
    if moments is None:
        PtP, P_sum, XQtXQ, XQ_sum = _moments(model, X, Q if of_data else None)
        total = _total_variance(X)
    else:
        PtP, P_sum, total = moments
    K = R @ PtP @ R.T
    w, W = np.linalg.eigh((K + K.T) / 2)
    order = np.argsort(w)[::-1]
    w, W = w[order], W[:, order]
    components = (Q @ W).T
    if of_data:
        # X projected on component i: X Q W[:, i].
        variance = _variances(XQtXQ, XQ_sum, W, n)
    else:
        # X_hat projected on component i: P' M[:, i] with M = R^T W.
        variance = _variances(PtP, P_sum, R.T @ W, n)
    # Directions the reconstruction does not use (rank below k) are zero.
    unused = w <= w.max(initial=0) * max(B.shape) * np.finfo(np.float64).eps
    components[unused] = 0
    variance[unused] = 0
    # Signs as svd_flip(u_based_decision=False): largest entry positive.
    peak = np.abs(components).argmax(axis=1)
    signs = np.sign(components[np.arange(len(peak)), peak])
    components *= np.where(signs == 0, 1, signs)[:, None]
    model.components_ = components.astype(model.decoder_.dtype)
    model.explained_variance_ = variance
    model.explained_variance_ratio_ = (
        variance / total if total > 0 else np.zeros_like(variance)
    )
