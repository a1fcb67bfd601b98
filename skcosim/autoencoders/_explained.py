"""TruncatedSVD's attributes for a linear autoencoder: ``components_``,
``explained_variance_`` and ``explained_variance_ratio_``.

They describe the model's reconstruction of its training data,
``X_hat = P' B'^T`` (``X A B^T`` for Objectives 1 and 2), the way
:class:`~sklearn.decomposition.TruncatedSVD` describes its own
``X V_k V_k^T``: ``components_`` are the right singular vectors of
``X_hat``, ``explained_variance_`` the variance over users of ``X_hat``
projected on each, ``explained_variance_ratio_`` that variance over the total
variance of ``X``. ``X_hat`` does not depend on the gauge, so neither do they,
and with ``alpha=0`` (a rank-``k`` least-squares fit) they are TruncatedSVD's
(docs/coming_from.rst; docs/user_guide/objectives.rst, Notation).

Everything is computed in ``k`` dimensions from ``P'^T P'``, the mean of
``P'`` and a thin QR of ``B'``, never forming ``X_hat``: with ``B' = Q R``,
``X_hat^T X_hat = Q (R P'^T P' R^T) Q^T``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.sparsefuncs import mean_variance_axis

from .._linalg import _dask


def _user_moments(model, X):
    """``(P'^T P', column sums of P', B')`` of the model's reconstruction factors."""
    A = model.encoder_.astype(np.float64)
    if _dask.is_dask_array(X):
        import dask

        P = _dask.transform(X.astype(np.float64), A)
        PtP, total = dask.compute(P.T @ P, P.sum(axis=0))
        return np.asarray(PtP), np.asarray(total), model.decoder_.astype(np.float64)
    P = safe_sparse_dot(X, A, dense_output=True).astype(np.float64, copy=False)
    P, B = model._reconstruction_factors(P)
    return P.T @ P, P.sum(axis=0), np.asarray(B, dtype=np.float64)


def _total_variance(X):
    """Sum of the variances of the columns of ``X`` (TruncatedSVD's ``full_var``)."""
    if _dask.is_dask_array(X):
        n = X.shape[0]
        column_sums, squared_norm = _dask.column_sums_and_squared_norm(X)
        return max(squared_norm / n - float(np.sum((column_sums / n) ** 2)), 0.0)
    if sp.issparse(X):
        return float(mean_variance_axis(X.astype(np.float64), axis=0)[1].sum())
    return float(np.var(X, axis=0, dtype=np.float64).sum())


def set_explained_variance(model, X):
    """Set ``components_``, ``explained_variance_`` and
    ``explained_variance_ratio_`` of ``model``, fitted on ``X``."""
    n = X.shape[0]
    PtP, P_sum, B = _user_moments(model, X)
    Q, R = np.linalg.qr(B)
    K = R @ PtP @ R.T
    w, W = np.linalg.eigh((K + K.T) / 2)
    order = np.argsort(w)[::-1]
    w, W = w[order], W[:, order]
    components = (Q @ W).T
    # Projection of X_hat on component i: P' M[:, i] with M = R^T W.
    M = R.T @ W
    variance = np.clip(w / n - (P_sum @ M / n) ** 2, 0, None)
    # Directions the reconstruction does not use (rank below k) are zero.
    unused = w <= w.max(initial=0) * max(B.shape) * np.finfo(np.float64).eps
    components[unused] = 0
    variance[unused] = 0
    # Signs as svd_flip(u_based_decision=False): largest entry positive.
    peak = np.abs(components).argmax(axis=1)
    signs = np.sign(components[np.arange(len(peak)), peak])
    components *= np.where(signs == 0, 1, signs)[:, None]
    total = _total_variance(X)
    model.components_ = components.astype(model.decoder_.dtype)
    model.explained_variance_ = variance
    model.explained_variance_ratio_ = (
        variance / total if total > 0 else np.zeros_like(variance)
    )
