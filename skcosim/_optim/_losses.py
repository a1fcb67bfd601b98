"""Losses of the linear autoencoders and their analytic gradients.

All computed without an ``n x p`` array (or, for the softmax loss, one
``batch_size x p`` block of users at a time):

- :func:`product_penalty_loss_grad`: Objective 1 and its exact dropout form
  EDLAE (docs/user_guide/objectives.rst, "Exact dropout"),
  ``||X - X A B^T||^2 + ||Lambda^(1/2) A B^T||^2``, with the weights
  ``Lambda`` of :func:`dropout_penalty_weights`;
- :func:`weight_decay_loss_grad`: Objective 2,
  ``||X - X A B^T||^2 + alpha (||X A||^2 + ||B||^2)``;
- :func:`cosine_squared_loss_grad` and :func:`cosine_softmax_loss_grad`: the
  two losses of Objective 3 on the normalized factors.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot

from .._linalg._matrix import expanded_reconstruction_error, squared_frobenius

#: Floor of the row normalization, ``N(z) = z / max(||z||, floor)``: exactly
#: ``z / ||z||`` for any row above the floor, and ``N(0) = 0`` (a user without
#: interactions or an item with a zero embedding has cosine 0 with everything)
#: instead of ``0 / 0``. The default floor; the cosine fits use
#: :data:`NORM_FLOOR`.
NORMALIZE_EPS = 1e-12

#: The row normalization floor of the cosine fits, relative to the mean
#: nonzero row norm (of ``X A`` for the users, of ``B`` for the items). A row
#: below the floor (a user whose items carry no component of the start) is
#: mapped to ``z / floor`` and gets the gradient ``g / floor``: with the
#: absolute :data:`NORMALIZE_EPS` that is ``1e12 g``, which stalls the line
#: search of the whole fit; with this floor it is at most ``1e3 g``. Rows above
#: the floor keep their exact cosines.
NORM_FLOOR = 1e-3


#: Number of entries of one ``batch_size x n_features`` block of the softmax
#: loss when ``batch_size="auto"`` (32 MB in float64).
AUTO_BLOCK_ENTRIES = 2**22


def floored_unit_rows(Z, floor=NORMALIZE_EPS):
    """Rows of ``Z`` scaled to unit L2 norm, those below ``floor`` divided by it.

    ``N(z) = z / max(||z||, floor)``, so ``N(0) = 0``. Returns ``(Z_hat, r)``
    with ``r = max(||z||, floor)`` per row, the factor
    :func:`floored_unit_rows_backward` needs. Every loss of Objective 3
    normalizes through here; ``CosineAutoencoder`` passes :data:`NORM_FLOOR`
    on factors whose mean nonzero row norms it has set to 1. The training
    normalization, differentiable at 0; the cosines of a fitted embedding use
    the exact :func:`skcosim._linalg._matrix.unit_rows`.
    """
    r = np.maximum(np.sqrt(np.einsum("ij,ij->i", Z, Z)), floor)
    return Z / r[:, None], r


def floored_unit_rows_backward(Z_hat, r, grad):
    """Gradient with respect to ``Z`` from the gradient with respect to ``N(Z)``.

    docs/user_guide/objectives.rst, "Computing the losses without an n x p
    matrix": through ``z -> z / ||z||`` a gradient ``g`` becomes
    ``(I - z_hat z_hat^T) g / ||z||``; below the floor, where ``N`` is the
    linear map ``z / floor`` (``||z_hat|| < 1``), it is ``g / floor``.
    """
    radial = np.einsum("ij,ij->i", Z_hat, grad)
    # Unit rows are unit to rounding; rows below the floor are shorter.
    radial[np.einsum("ij,ij->i", Z_hat, Z_hat) < 1.0 - 1e-6] = 0.0
    return (grad - Z_hat * radial[:, None]) / r[:, None]


def resolve_batch_size(batch_size, n_samples, n_features):
    """Rows per block of the softmax loss; ``"auto"`` keeps a block near 32 MB."""
    if batch_size == "auto":
        batch_size = max(1, AUTO_BLOCK_ENTRIES // max(n_features, 1))
    return int(max(1, min(batch_size, n_samples)))


def _reconstruction_terms(X, A, B):
    """``||X - X A B^T||^2`` and its pieces: ``P = X A``, ``X B``, Gram matrices."""
    P = safe_sparse_dot(X, A, dense_output=True)
    XB = safe_sparse_dot(X, B, dense_output=True)
    PtP = P.T @ P
    BtB = B.T @ B
    cross = np.einsum("ij,ij->", P, XB)
    loss = expanded_reconstruction_error(squared_frobenius(X), cross, PtP, BtB)
    return loss, P, XB, PtP, BtB


def weight_decay_penalty(P, B, alpha):
    """Objective 2's regularizer ``alpha (||X A||_F^2 + ||B||_F^2)``, ``P = X A``:
    the one formula of the loss, its gradient solver and ``objective``."""
    return alpha * (squared_frobenius(P) + squared_frobenius(B))


def product_penalty(A, B, lam):
    """Objective 1's (and exact dropout's) regularizer
    ``||Lambda^(1/2) A B^T||_F^2 = tr((A^T Lambda A)(B^T B))``, ``Lambda =
    diag(lam)``: the one formula of the loss, its gradient solver and
    ``objective``."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    return float(np.einsum("ij,ij->", (A * lam[:, None]).T @ A, B.T @ B))


def weight_decay_loss_grad(X, A, B, alpha):
    """Objective 2 loss and gradients ``(loss, dA, dB)``.

    ``L = ||X - X A B^T||^2 + alpha (||X A||^2 + ||B||^2)``, with ``P = X A``:
    ``dL/dP = -2 X B + 2 P B^T B + 2 alpha P``, ``dA = X^T dL/dP``,
    ``dB = -2 X^T P + 2 B P^T P + 2 alpha B``. Cost ``O(nnz(X) k + (n + p) k^2)``.
    """
    loss, P, XB, PtP, BtB = _reconstruction_terms(X, A, B)
    loss += weight_decay_penalty(P, B, alpha)
    dP = 2.0 * (P @ BtB - XB + alpha * P)
    dA = safe_sparse_dot(X.T, dP, dense_output=True)
    dB = 2.0 * (B @ PtP - safe_sparse_dot(X.T, P, dense_output=True) + alpha * B)
    return float(loss), dA, dB


def product_penalty_loss_grad(X, A, B, lam, *, with_grad=True):
    """Objective 1 / EDLAE loss and gradients ``(loss, dA, dB)``.

    ``L = ||X - X A B^T||^2 + ||Lambda^(1/2) A B^T||^2`` with the diagonal
    ``Lambda = diag(lam)`` (``lam = alpha`` for Objective 1; plus
    ``q / (1 - q) diag(X^T X)`` for the expected loss of input dropout,
    docs/user_guide/objectives.rst, "Exact dropout"). The penalty is
    ``tr((A^T Lambda A)(B^T B))``, so ``dA += 2 Lambda A B^T B`` and
    ``dB += 2 B A^T Lambda A``. With ``with_grad=False`` only the loss is
    returned.
    """
    loss, P, XB, PtP, BtB = _reconstruction_terms(X, A, B)
    if not with_grad:
        return float(loss + product_penalty(A, B, lam))
    LA = A * lam[:, None]
    AtLA = A.T @ LA
    loss += np.einsum("ij,ij->", AtLA, BtB)
    dP = 2.0 * (P @ BtB - XB)
    dA = safe_sparse_dot(X.T, dP, dense_output=True) + 2.0 * LA @ BtB
    dB = 2.0 * (B @ (PtP + AtLA) - safe_sparse_dot(X.T, P, dense_output=True))
    return float(loss), dA, dB


def cosine_squared_loss_grad(X, A, B, *, x_sq=None, floor=NORMALIZE_EPS):
    """Objective 3, squared loss, with the optimal scale: ``(loss, dA, dB, c)``.

    ``L(A, B) = min_c ||X - c P Q^T||^2`` with ``P = N(X A)``, ``Q = N(B)``,
    expanded as in docs/user_guide/objectives.rst ("Computing the losses
    without an n x p matrix"):
    ``||X||^2 - 2 c tr(P^T X Q) + c^2 tr(P^T P Q^T Q)``,
    minimized by ``c = tr(P^T X Q) / tr(P^T P Q^T Q)``, giving
    ``L = ||X||^2 - c tr(P^T X Q)``. At the optimal ``c`` the gradient is that of
    the expansion at fixed ``c`` (envelope theorem). Only sparse-dense products
    and ``n x k``, ``p x k`` arrays: ``O(nnz(X) k + (n + p) k^2)``.

    ``c`` may come out negative; ``-c, -Q`` is then the same fit with ``c > 0``
    (the caller flips the decoder). When every cosine is zero (all-zero
    factors), ``c = 0`` and the gradient is zero. ``floor`` smooths the
    normalization of both factors' rows (:func:`floored_unit_rows`).
    """
    if x_sq is None:
        x_sq = squared_frobenius(X)
    Z = safe_sparse_dot(X, A, dense_output=True)
    P, r_p = floored_unit_rows(Z, floor)
    del Z
    Q, r_q = floored_unit_rows(B, floor)
    XQ = safe_sparse_dot(X, Q, dense_output=True)
    cross = float(np.einsum("ij,ij->", P, XQ))
    PtP = P.T @ P
    QtQ = Q.T @ Q
    quad = float(np.einsum("ij,ij->", PtP, QtQ))
    if quad <= 0.0:
        return x_sq, np.zeros_like(A), np.zeros_like(B), 0.0
    c = cross / quad
    loss = x_sq - c * cross
    # dL/dP = -2c X Q + 2c^2 P Q^T Q;  dL/dQ = -2c X^T P + 2c^2 Q P^T P.
    dP = XQ
    dP *= -2.0 * c
    dP += (2.0 * c * c) * (P @ QtQ)
    dQ = (2.0 * c * c) * (Q @ PtP) - 2.0 * c * safe_sparse_dot(
        X.T, P, dense_output=True
    )
    dZ = floored_unit_rows_backward(P, r_p, dP)
    dA = safe_sparse_dot(X.T, dZ, dense_output=True)
    dB = floored_unit_rows_backward(Q, r_q, dQ)
    return float(loss), dA, dB, c


def cosine_softmax_loss_grad(
    X, A, B, *, temperature, batch_size, floor=NORMALIZE_EPS, with_grad=True
):
    """Objective 3, softmax loss: ``(loss, dA, dB)``, over blocks of users.

    ``L = - sum_u sum_i x_ui log softmax_i(S_u)``, ``S = N(X A) N(B)^T / t``
    (docs/user_guide/objectives.rst, Objective 3). Per block of ``batch_size``
    users: ``dL/dS = rowsum(X) softmax(S) - X`` (the same page, divided by
    ``t`` once more
    through ``S``), then ``dP = dL/dS Q / t``, ``dQ += dL/dS^T P / t``. The only
    large array is one ``batch_size x p`` block, reused in place: memory
    ``O(batch_size p + (n + p) k)``, time ``O(n p k)``. ``floor`` smooths the
    normalization of both factors' rows (:func:`floored_unit_rows`). With
    ``with_grad=False`` only the loss is returned (a third of the products).
    """
    n = X.shape[0]
    Q, r_q = floored_unit_rows(B, floor)
    dA = np.zeros_like(A)
    dQ = np.zeros_like(B)
    loss = 0.0
    t = float(temperature)
    for start in range(0, n, batch_size):
        Xb = X[start : start + batch_size]
        Pb, r_p = floored_unit_rows(safe_sparse_dot(Xb, A, dense_output=True), floor)
        row_sum = np.asarray(Xb.sum(axis=1), dtype=np.float64).ravel()
        XbQ = safe_sparse_dot(Xb, Q, dense_output=True)
        S = Pb @ Q.T
        S /= t
        m = S.max(axis=1)
        S -= m[:, None]
        np.exp(S, out=S)
        total = S.sum(axis=1)
        # sum_i x_ui log softmax_i = sum_i x_ui S_ui - rowsum_u logsumexp_u
        loss += float(row_sum @ (m + np.log(total)))
        loss -= float(np.einsum("ij,ij->", Pb, XbQ)) / t
        if not with_grad:
            continue
        S *= (row_sum / total)[:, None]  # rowsum(X) softmax(S)
        dPb = (S @ Q - XbQ) / t
        dQ += (S.T @ Pb - safe_sparse_dot(Xb.T, Pb, dense_output=True)) / t
        del S
        dZb = floored_unit_rows_backward(Pb, r_p, dPb)
        dA += safe_sparse_dot(Xb.T, dZb, dense_output=True)
    if not with_grad:
        return loss
    dB = floored_unit_rows_backward(Q, r_q, dQ)
    return loss, dA, dB


def expanded_loss_error(X, A, B):
    """Rounding error of the expanded loss of Objectives 1 and 2 at ``A, B``.

    ``eps ||X A||^2 ||B||^2``: the size of the terms ``tr((A^T X^T X A)(B^T B))``
    that the expansion ``||X||^2 - 2 <X A, X B> + tr((A^T X^T X A)(B^T B))``
    cancels (measured: the error of the computed loss stays within 1.2 times
    it). ``inf`` once these terms overflow. Used by the final checks of
    :func:`fit_factors_lbfgs` and :func:`dropout_sgd`, against
    :data:`LOSS_RESOLUTION`.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        P = safe_sparse_dot(X, A, dense_output=True)
        return float(
            np.finfo(np.float64).eps * squared_frobenius(P) * squared_frobenius(B)
        )


def dropout_penalty_weights(alpha, dropout, column_squared_norms):
    """The diagonal ``Lambda`` of Objective 1 and of its exact dropout form.

    ``Lambda = alpha + q / (1 - q) diag(X^T X)`` (docs/user_guide/objectives.rst,
    "Exact dropout"): the expected loss of input dropout at rate ``q`` is the
    reconstruction error plus ``||Lambda^(1/2) A B^T||^2``; ``q = 0`` leaves
    the ``alpha`` of Objective 1.

    Parameters
    ----------
    alpha : float
        The penalty of Objective 1.
    dropout : float
        The dropout rate ``q`` in ``[0, 1)``.
    column_squared_norms : ndarray of shape (n_features,)
        ``diag(X^T X)``.

    Returns
    -------
    lam : ndarray of shape (n_features,)
    """
    norms = np.asarray(column_squared_norms, dtype=np.float64)
    if not dropout:  # no 0 * inf from a column too large to square
        return np.full(norms.shape, float(alpha))
    return alpha + dropout / (1.0 - dropout) * norms
