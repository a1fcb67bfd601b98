"""Gradient training of linear autoencoders: losses, analytic gradients, drivers.

Everything iterative in skcosim lives here once:

- the losses and their analytic gradients with respect to the encoder ``A``
  and the decoder ``B``, all computed without an ``n x p`` array (or, for the
  softmax loss, one ``batch_size x p`` block of users at a time):

  * :func:`product_penalty_loss_grad`: Objective 1 and its exact dropout
    form EDLAE (docs/user_guide/objectives.rst, "Exact dropout"),
    ``||X - X A B^T||^2 + ||Lambda^(1/2) A B^T||^2``;
  * :func:`weight_decay_loss_grad`: Objective 2,
    ``||X - X A B^T||^2 + alpha (||X A||^2 + ||B||^2)``;
  * :func:`cosine_squared_loss_grad` and :func:`cosine_softmax_loss_grad`:
    the two losses of Objective 3 on the normalized factors;

- :func:`minimize_lbfgs`, the full-batch driver (scipy's L-BFGS-B) with
  ``n_iter``, loss curve, progress output and a ``ConvergenceWarning``;
  :func:`fit_factors_lbfgs` on ``A, B`` for Objectives 1 and 2, with the
  :class:`SpectralPreconditioner` of Objective 2;
- :func:`dropout_sgd`, minibatch stochastic gradient descent on
  ``||X - X~ A B^T||^2`` with real random input-dropout masks ``X~``: the way a
  practitioner trains a dropout autoencoder (docs/user_guide/gauges.rst).

Parameters are packed as ``[A.ravel(), B.ravel()]`` in float64.
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.extmath import safe_sparse_dot

from ._base import squared_frobenius

#: Smoothing of the row normalization: ``N(z) = z / sqrt(||z||^2 + EPS^2)``.
#: Equal to ``z / ||z||`` to float64 precision for any row with
#: ``||z|| > 1e-4``, and ``N(0) = 0`` (a user without interactions or an item
#: with a zero embedding has cosine 0 with everything) instead of ``0 / 0``.
NORMALIZE_EPS = 1e-12

#: Number of entries of one ``batch_size x n_features`` block of the softmax
#: loss when ``batch_size="auto"`` (32 MB in float64).
AUTO_BLOCK_ENTRIES = 2**22

#: :func:`dropout_sgd` has diverged when its final loss is more than this many
#: times its loss at the start (in magnitude: a loss of huge factors can also
#: come out negative, by cancellation). A run that trains ends below its
#: start; a diverging one grows geometrically and overshoots any such factor
#: by orders of magnitude, while a step size that merely spikes the loss for
#: a few epochs is halved at the next plateau and can recover (measured on
#: 300 x 60 binary data at ``learning_rate=10``, 50 times the default: a
#: spike to 1e7 times the first epoch's loss, ending below ``||X||^2``).
DIVERGENCE_FACTOR = 10.0


#: :func:`check_lbfgs_end` judges a loss unresolved when its rounding error
#: exceeds this fraction of the loss of the all-zero model: float64 can then
#: no longer tell the fit from no model at all. Measured on 25 x 9 binary data
#: (the error stays within 1.2 ``eps ||X A||^2 ||B||^2``, the estimate used),
#: the ratio is below 1e-13 for ``init_scale`` from 1e-3 to 1, about 1e-3 at
#: 1e3, and 0.5 to 10 at 1e4, where some computed losses come out negative.
LOSS_RESOLUTION = 0.1

#: :class:`SpectralPreconditioner` whitens only the components with
#: ``s_i >= WHITENING_FLOOR * s_1``: ``M`` then scales no direction by more
#: than ``1 / WHITENING_FLOOR`` times another, which bounds how much it
#: magnifies the rounding error of the gradient outside the row space of ``X``.
WHITENING_FLOOR = 1e-3


class DivergenceError(ValueError, FloatingPointError):
    """A gradient solver diverged or could not train from its start.

    Raised when the loss overflowed or grew far above its start
    (``dropout-sgd``), or when L-BFGS ended far above the loss of the all-zero
    model, could not lower the loss from its start, or ended with a loss
    float64 cannot resolve (:func:`check_lbfgs_end`). A ``ValueError``, like
    every error of a fit whose settings cannot produce a model; also a
    ``FloatingPointError``, the class raised for a diverged ``dropout-sgd``
    run before (code catching it keeps working).
    """


# -- the row normalization of Objective 3 -----------------------------------------


def normalize_rows(Z):
    """Rows of ``Z`` scaled to unit L2 norm, ``N(0) = 0`` (smoothed by EPS).

    Returns ``(Z_hat, r)`` with ``r = sqrt(||z||^2 + EPS^2)`` per row, the
    factor :func:`normalize_rows_backward` needs.
    """
    r = np.sqrt(np.einsum("ij,ij->i", Z, Z) + NORMALIZE_EPS**2)
    return Z / r[:, None], r


def normalize_rows_backward(Z_hat, r, grad):
    """Gradient with respect to ``Z`` from the gradient with respect to ``N(Z)``.

    docs/user_guide/objectives.rst, "Computing the losses without an n x p
    matrix": through ``z -> z / ||z||`` a gradient ``g`` becomes
    ``(I - z_hat z_hat^T) g / ||z||`` (here with the smoothed norm ``r``).
    """
    return (grad - Z_hat * np.einsum("ij,ij->i", Z_hat, grad)[:, None]) / r[:, None]


def resolve_batch_size(batch_size, n_samples, n_features):
    """Rows per block of the softmax loss; ``"auto"`` keeps a block near 32 MB."""
    if batch_size == "auto":
        batch_size = max(1, AUTO_BLOCK_ENTRIES // max(n_features, 1))
    return int(max(1, min(batch_size, n_samples)))


# -- losses and gradients ------------------------------------------------------------


def _reconstruction_terms(X, A, B):
    """``||X - X A B^T||^2`` and its pieces: ``P = X A``, ``X B``, Gram matrices."""
    P = safe_sparse_dot(X, A, dense_output=True)
    XB = safe_sparse_dot(X, B, dense_output=True)
    PtP = P.T @ P
    BtB = B.T @ B
    loss = squared_frobenius(X) - 2.0 * np.einsum("ij,ij->", P, XB)
    loss += np.einsum("ij,ij->", PtP, BtB)
    return loss, P, XB, PtP, BtB


def weight_decay_loss_grad(X, A, B, alpha):
    """Objective 2 loss and gradients ``(loss, dA, dB)``.

    ``L = ||X - X A B^T||^2 + alpha (||X A||^2 + ||B||^2)``, with ``P = X A``:
    ``dL/dP = -2 X B + 2 P B^T B + 2 alpha P``, ``dA = X^T dL/dP``,
    ``dB = -2 X^T P + 2 B P^T P + 2 alpha B``. Cost ``O(nnz(X) k + (n + p) k^2)``.
    """
    loss, P, XB, PtP, BtB = _reconstruction_terms(X, A, B)
    loss += alpha * (np.einsum("ij,ij->", P, P) + np.einsum("ij,ij->", B, B))
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
    LA = A * lam[:, None]
    if not with_grad:
        return float(loss + np.einsum("ij,ij->", A.T @ LA, BtB))
    AtLA = A.T @ LA
    loss += np.einsum("ij,ij->", AtLA, BtB)
    dP = 2.0 * (P @ BtB - XB)
    dA = safe_sparse_dot(X.T, dP, dense_output=True) + 2.0 * LA @ BtB
    dB = 2.0 * (B @ (PtP + AtLA) - safe_sparse_dot(X.T, P, dense_output=True))
    return float(loss), dA, dB


def cosine_squared_loss_grad(X, A, B, *, x_sq=None):
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
    factors), ``c = 0`` and the gradient is zero.
    """
    if x_sq is None:
        x_sq = squared_frobenius(X)
    Z = safe_sparse_dot(X, A, dense_output=True)
    P, r_p = normalize_rows(Z)
    del Z
    Q, r_q = normalize_rows(B)
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
    dZ = normalize_rows_backward(P, r_p, dP)
    dA = safe_sparse_dot(X.T, dZ, dense_output=True)
    dB = normalize_rows_backward(Q, r_q, dQ)
    return float(loss), dA, dB, c


def cosine_softmax_loss_grad(X, A, B, *, temperature, batch_size):
    """Objective 3, softmax loss: ``(loss, dA, dB)``, over blocks of users.

    ``L = - sum_u sum_i x_ui log softmax_i(S_u)``, ``S = N(X A) N(B)^T / t``
    (docs/user_guide/objectives.rst, Objective 3). Per block of ``batch_size``
    users: ``dL/dS = rowsum(X) softmax(S) - X`` (the same page, divided by
    ``t`` once more
    through ``S``), then ``dP = dL/dS Q / t``, ``dQ += dL/dS^T P / t``. The only
    large array is one ``batch_size x p`` block, reused in place: memory
    ``O(batch_size p + (n + p) k)``, time ``O(n p k)``.
    """
    n = X.shape[0]
    Q, r_q = normalize_rows(B)
    dA = np.zeros_like(A)
    dQ = np.zeros_like(B)
    loss = 0.0
    t = float(temperature)
    for start in range(0, n, batch_size):
        Xb = X[start : start + batch_size]
        Pb, r_p = normalize_rows(safe_sparse_dot(Xb, A, dense_output=True))
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
        S *= (row_sum / total)[:, None]  # rowsum(X) softmax(S)
        dPb = (S @ Q - XbQ) / t
        dQ += (S.T @ Pb - safe_sparse_dot(Xb.T, Pb, dense_output=True)) / t
        del S
        dZb = normalize_rows_backward(Pb, r_p, dPb)
        dA += safe_sparse_dot(Xb.T, dZb, dense_output=True)
    dB = normalize_rows_backward(Q, r_q, dQ)
    return loss, dA, dB


# -- progress and convergence reporting ---------------------------------------------


class Progress:
    """``verbose`` output: a tqdm bar when tqdm is installed, else one line each.

    ``verbose=0`` prints nothing; ``verbose >= 1`` reports every iteration.
    ``verbose >= 2`` forces plain lines even with tqdm (e.g. for log files).
    """

    def __init__(self, verbose, total, name):
        self.verbose = verbose
        self.name = name
        self.bar = None
        if verbose == 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=name, leave=False)

    def update(self, iteration, loss):
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.6g}", refresh=False)
        else:
            print(f"{self.name}: iteration {iteration}, loss = {loss:.8g}")
            sys.stdout.flush()

    def close(self, message=None):
        if self.bar is not None:
            self.bar.close()
        if self.verbose and message:
            print(f"{self.name}: {message}")


def warn_not_converged(name, max_iter, note=None):
    """The ``ConvergenceWarning`` every gradient solver raises at ``max_iter``.

    ``note``, when given, is appended (a sentence).
    """
    warnings.warn(
        f"{name} stopped at max_iter={max_iter} before reaching tol; "
        "increase max_iter or tol." + ("" if note is None else f" {note}"),
        ConvergenceWarning,
        stacklevel=3,
    )


def as_float64(X):
    """``X`` in float64 (CSR when sparse), the precision every loss is computed in."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float64)
    return np.asarray(X, dtype=np.float64)


def random_factors(n_features, n_components, init_scale, random_state):
    """``A, B`` with independent ``N(0, init_scale^2)`` entries (float64)."""
    A = random_state.normal(0.0, init_scale, size=(n_features, n_components))
    B = random_state.normal(0.0, init_scale, size=(n_features, n_components))
    return A, B


def pack(A, B):
    """``[A.ravel(), B.ravel()]`` in float64."""
    return np.concatenate([A.ravel(), B.ravel()]).astype(np.float64, copy=False)


def unpack(theta, n_features, n_components):
    """Inverse of :func:`pack` (views, no copy)."""
    size = n_features * n_components
    A = theta[:size].reshape(n_features, n_components)
    B = theta[size:].reshape(n_features, n_components)
    return A, B


def check_start(loss, grad=None, *, name, init_scale=None):
    """Raise a ValueError when the loss (or gradient) at the start is not finite.

    Every later check of the loss is relative to its start, and an overflowed
    start is no place to train from. The message names ``init_scale`` when
    the start was drawn with it: the usual cause is ``init_scale`` so large
    that products of the initial factors overflow float64 (the data
    themselves are checked before, ``skcosim._base._check_gram_fits``).
    """
    if not np.isfinite(loss):
        problem = f"the loss at the start is {loss}"
    elif grad is not None and not np.all(np.isfinite(grad)):
        problem = "the gradient at the start is not finite"
    else:
        return
    if init_scale is not None:
        raise ValueError(
            f"{name}: init_scale={init_scale:g} makes the initial factors "
            f"overflow float64 ({problem}); lower init_scale."
        )
    raise ValueError(f"{name}: {problem} (it overflows float64).")


def minimize_lbfgs(
    fun,
    theta0,
    *,
    max_iter,
    tol,
    verbose=0,
    name="L-BFGS",
    init_scale=None,
    grad_scale=None,
    reference=None,
    loss_error=None,
):
    """Minimize ``fun(theta) -> (loss, grad)`` with scipy's L-BFGS-B.

    Stops when the relative decrease of the loss falls below ``tol``
    (L-BFGS-B's ``ftol``; relative down to a ``reference`` below 1 too, see
    :func:`_loss_unit`), when the largest gradient entry falls below ``tol``
    times its value at the start (capped at ``grad_scale``), or at
    ``max_iter`` iterations (then with a ``ConvergenceWarning``).

    A run that cannot produce a model raises: a start whose loss or gradient
    is not finite a ``ValueError`` (:func:`check_start`); given a
    ``reference``, a run that ends worse than it by far, cannot lower the
    loss from its start, or ends with a loss float64 cannot resolve, a
    :class:`DivergenceError` (:func:`check_lbfgs_end`).

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> (loss, grad)``, ``grad`` of the shape of ``theta``.
    theta0 : ndarray
        The start.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Relative tolerance of the loss and of the gradient (see above).
    verbose : int, default=0
        Progress output (:class:`Progress`).
    name : str, default="L-BFGS"
        The solver's name in messages, warnings and errors.
    init_scale : float or None, default=None
        The scale the start was drawn with: the errors name it (it is the
        usual cause of a start too large to train from).
    grad_scale : float or None, default=None
        The gradient's scale near a solution (:func:`fit_factors_lbfgs`
        passes ``s_1^2``). The gradient tolerance is relative to the start's
        gradient, capped at this value: from a start far larger than any
        solution (``init_scale=1e3``: a gradient about 1e12 on 25 x 9 binary
        data, against ``s_1^2`` about 40) a tolerance relative to the start
        alone stopped L-BFGS as converged at 24 times the loss of the
        all-zero model.
    reference : float or None, default=None
        The loss of a trivial model, which a useful fit must beat: that of
        the all-zero factors, ``||X||^2``, for Objectives 1 and 2
        (:func:`fit_factors_lbfgs`). ``None`` skips the final check.
        ``CosineAutoencoder`` passes none: the natural reference of its
        losses, the model whose cosines are all 0, is ``||X||^2`` for the
        squared loss (which its optimal scale never exceeds) and the uniform
        distribution, ``sum(X) log(n_features)``, for the softmax loss, which
        legitimate runs can end above (a low temperature stopped at
        ``max_iter``; a random start with an exactly zero gradient), and its
        starts are normalized, so no ``init_scale`` can make them huge.
    loss_error : callable or None, default=None
        ``loss_error(theta)``: the rounding error of the loss at ``theta``,
        for the final check (:func:`check_lbfgs_end`).

    Returns
    -------
    theta : ndarray
        The last iterate.
    n_iter : int
        Number of L-BFGS iterations (at least 1).
    loss_curve : list of float
        The loss after each iteration (the loss at ``theta0`` first).
    """
    cache = {}

    def cached(theta):
        # scipy evaluates theta0 again; reuse the first evaluation.
        if "theta" in cache and np.array_equal(theta, cache["theta"]):
            return cache["value"]
        value = fun(theta)
        cache["theta"], cache["value"] = theta.copy(), value
        return value

    # An overflowing start is reported by check_start, not by RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore"):
        f0, g0 = cached(theta0)
    check_start(f0, g0, name=name, init_scale=init_scale)
    curve = [float(f0)]
    progress = Progress(verbose, max_iter, name)
    progress.update(0, f0)

    unit = _loss_unit(reference, float(f0))

    def scaled(theta):
        loss, grad = cached(theta)
        return loss / unit, grad / unit

    def callback(intermediate_result):
        curve.append(float(intermediate_result.fun) * unit)
        progress.update(len(curve) - 1, curve[-1])

    g_ref = float(np.max(np.abs(g0), initial=0.0))
    if grad_scale is not None:
        g_ref = min(g_ref, float(grad_scale))
    result = scipy.optimize.minimize(
        scaled,
        theta0,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={
            "maxiter": max_iter,
            "maxfun": max(15000, 4 * max_iter),
            "ftol": tol,
            "gtol": tol * g_ref / unit,
            "maxcor": 20,
        },
    )
    progress.close(f"stopped after {result.nit} iterations: {result.message}")
    if reference is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            error = 0.0 if loss_error is None else float(loss_error(result.x))
        check_lbfgs_end(
            float(result.fun) * unit,
            start_loss=float(f0),
            reference=float(reference),
            error=error,
            status=int(result.status),
            name=name,
            init_scale=init_scale,
        )
    if result.status == 1:
        warn_not_converged(name, max_iter)
    # A start that is already stationary (zero gradient) stops L-BFGS before
    # its first iteration; the evaluation of that start counts as one, the
    # scikit-learn convention (n_iter_ >= 1).
    return result.x, max(int(result.nit), 1), curve


def _loss_unit(reference, start_loss):
    """The power of two :func:`minimize_lbfgs` divides the loss by for scipy.

    L-BFGS-B's ``ftol`` compares a decrease with ``max(|f|, 1)``: on a loss
    far below 1 it is an absolute tolerance. On 300 x 60 binary data scaled
    by 1e-4 (``||X||^2`` about 3e-5) it stopped Objective 2 after 3
    iterations, 28 % above the closed form, and Objective 1 and its dropout
    form after 8 to 11, 5 to 7 % above, all without a warning. Below a
    ``reference`` of 1 the loss is measured in units of the largest power of
    two not above it, so that ``ftol`` stays relative down to the data's own
    scale; a power of two changes no digit of the loss or gradient. Never
    below ``2^-500`` times the start's loss, which would overflow. 1
    otherwise (and without a reference: the cosine losses).
    """
    if reference is None or not 0.0 < reference < 1.0:
        return 1.0
    # frexp: x = m 2^e with 0.5 <= |m| < 1, exactly.
    exponent = max(math.frexp(reference)[1], math.frexp(start_loss)[1] - 500) - 1
    return math.ldexp(1.0, min(exponent, 0))


def check_lbfgs_end(
    loss, *, start_loss, reference, error, status, name, init_scale=None
):
    """Raise a :class:`DivergenceError` when an L-BFGS run produced no model.

    ``reference`` is the loss of a trivial model (see :func:`minimize_lbfgs`),
    ``error`` the rounding error of ``loss``,
    ``status`` scipy's (1: ``max_iter`` reached, 2: the line search failed).
    In this order, the run failed when:

    - its line search failed without lowering the loss from a start worse
      than the reference: L-BFGS-B's first step has unit length, which
      changes nothing float64 resolves on factors of size 1e20 or more;
    - ``error`` exceeds :data:`LOSS_RESOLUTION` times the reference, whatever
      the status: the computed loss cannot tell the fit from the all-zero
      model (the expanded loss of Objectives 1 and 2 cancels terms of size
      ``||X A||^2 ||B||^2``; from large starts it even comes out negative);
    - it stopped before ``max_iter`` at more than :data:`DIVERGENCE_FACTOR`
      times the reference (in magnitude). A run that stops at ``max_iter``
      gets the ``ConvergenceWarning`` instead: L-BFGS never raises the loss,
      so it was still going down. A reference of zero (``X`` without a
      nonzero entry: every model reconstructs it as zero) is not judged by
      this rule.

    Legitimate fits stay far from these lines: they end below the reference,
    or just above it when the zero model is optimal (``alpha >= s_1``: up to
    1.15 times, measured); their error is below ``1e-13`` times it from
    starts up to ``init_scale=1``.
    """
    if status == 2 and loss >= start_loss > reference:
        problem = (
            "L-BFGS could not take a first step: its line search found no "
            f"loss below the start's {start_loss:.3g} (the all-zero model "
            f"has {reference:.3g})"
        )
    elif error > LOSS_RESOLUTION * reference:
        problem = (
            f"the factors grew so large that float64 resolves the loss only to "
            f"about {error:.3g}, more than {LOSS_RESOLUTION:g} times the loss "
            f"of the all-zero model ({reference:.3g}; L-BFGS ended at "
            f"{loss:.3g} from {start_loss:.3g})"
        )
    elif status != 1 and reference > 0 and abs(loss) > DIVERGENCE_FACTOR * reference:
        problem = (
            f"L-BFGS stopped at a loss of {loss:.3g}, more than "
            f"{DIVERGENCE_FACTOR:g} times that of the all-zero model "
            f"({reference:.3g}; the loss at the start is {start_loss:.3g})"
        )
    else:
        return
    raise _no_model(name, problem, init_scale)


def _no_model(name, problem, init_scale):
    """The :class:`DivergenceError` of a run that produced no model.

    Names ``init_scale`` when the start was drawn with it (the final checks
    raise this only for problems a smaller start avoids).
    """
    if init_scale is not None:
        return DivergenceError(
            f"{name}: init_scale={init_scale:g} is too large: {problem}; "
            "lower init_scale."
        )
    return DivergenceError(f"{name} failed: {problem}.")


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


class SpectralPreconditioner:
    """The change of variables ``A = M A'`` that whitens ``X A`` on the top spectrum.

    ``M = V diag(1 / s) V^T + (I - V V^T) / c`` from the top singular values
    ``s`` and right singular vectors ``V`` of ``X`` (:func:`top_k_spectrum`),
    ``c`` the smallest of them kept. ``X M`` has singular values 1 along
    ``V`` and ``s_j / c <= 1`` beyond, where ``X`` itself spans ``s_1`` to
    ``s_k``: Objective 2 curves in ``X A`` as it does in ``B``, so in ``A``
    its curvature is that of ``X^T X`` more, a factor ``(s_1 / s_k)^2`` in
    the condition number that L-BFGS does not undo. ``M`` is a
    function of ``X^T X`` (same eigenvectors): a step ``M^2 X^T dP`` stays in
    the row space of ``X``, as a plain gradient step does.

    Components with ``s_i < WHITENING_FLOOR * s_1`` (or zero, beyond the
    rank) are left to the ``1 / c`` part, so ``c`` is at least that floor.
    Without a positive singular value ``M`` is the identity.

    Parameters
    ----------
    singular_values : ndarray of shape (n_components,)
    components : ndarray of shape (n_features, n_components)
        ``s`` and ``V`` as returned by :func:`skcosim._spectrum.top_k_spectrum`
        (orthonormal columns, zero columns for zero components).
    """

    def __init__(self, singular_values, components):
        s = np.asarray(singular_values, dtype=np.float64)
        keep = (s > 0) & (s >= WHITENING_FLOOR * s.max(initial=0.0))
        self.components = np.asarray(components, dtype=np.float64)[:, keep]
        s = s[keep]
        self.floor = float(s.min()) if s.size else 1.0
        self.scale = s

    def apply(self, Z):
        """``M Z`` for ``Z`` of shape (n_features, n_components)."""
        V = self.components
        coef = 1.0 / self.scale - 1.0 / self.floor
        return Z / self.floor + V @ (coef[:, None] * (V.T @ Z))

    def solve(self, A):
        """``M^{-1} A``: the coordinates ``A'`` of the encoder ``A``."""
        V = self.components
        coef = self.scale - self.floor
        return A * self.floor + V @ (coef[:, None] * (V.T @ A))


def fit_factors_lbfgs(
    X,
    A,
    B,
    loss_grad,
    *,
    max_iter,
    tol,
    verbose=0,
    name="L-BFGS",
    init_scale=None,
    grad_scale=None,
    preconditioner=None,
):
    """Minimize ``loss_grad(X, A, B) -> (loss, dA, dB)`` over ``A, B`` from ``A, B``.

    For the expanded losses of Objectives 1 and 2 (:func:`weight_decay_loss_grad`,
    :func:`product_penalty_loss_grad`). The final check of
    :func:`minimize_lbfgs` compares the fit with the all-zero factors, whose
    loss (``||X||^2``) is computed by ``loss_grad`` itself, and takes the
    rounding error of the loss from :func:`expanded_loss_error`. Pass
    ``s_1^2`` as ``grad_scale``: at factors of unit size the gradient is of
    that order (``s_1`` with a :class:`SpectralPreconditioner`, the gradient
    then being with respect to ``A'``).

    With a ``preconditioner`` L-BFGS works on ``A' = M^{-1} A`` and ``B``:
    the same loss and start, a better conditioned problem. For Objective 2
    only: under Objective 1 any ``A R, B R^{-T}`` is as good, and a change of
    variables in ``A`` alone changes which split training ends on, for the
    worse (on MovieLens-100k, ``k = 32``, ``alpha = 100``: ``A^T A - B^T B``
    hundreds of times larger at the end, and 7e-2 above the closed-form loss
    after 500 iterations instead of 3e-5).

    Returns ``(A, B, n_iter, loss_curve)`` (see :func:`minimize_lbfgs`, which
    also describes ``init_scale`` and ``grad_scale``).
    """
    p, k = A.shape
    encoder = (lambda Z: Z) if preconditioner is None else preconditioner.apply

    def fun(theta):
        A_prime, B = unpack(theta, p, k)
        loss, dA, dB = loss_grad(X, encoder(A_prime), B)
        # M is symmetric: the gradient with respect to A' is M dA.
        return loss, pack(encoder(dA), dB)

    def loss_error(theta):
        A_prime, B = unpack(theta, p, k)
        return expanded_loss_error(X, encoder(A_prime), B)

    if preconditioner is not None:
        A = preconditioner.solve(A)
    theta, n_iter, curve = minimize_lbfgs(
        fun,
        pack(A, B),
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        name=name,
        init_scale=init_scale,
        grad_scale=grad_scale,
        reference=float(loss_grad(X, np.zeros_like(A), np.zeros_like(B))[0]),
        loss_error=loss_error,
    )
    A_prime, B = unpack(theta, p, k)
    return np.array(encoder(A_prime)), B.copy(), n_iter, np.asarray(curve)


# -- dropout training -----------------------------------------------------------------


def _spectral_norm_sq(M):
    """Largest eigenvalue of ``M^T M`` (``k x k``); inf once ``M^T M`` overflows.

    (``eigvalsh`` of a matrix with inf or NaN fails with "Eigenvalues did not
    converge"; an inf bound gives a zero step, and the non-finite loss of the
    epoch is then reported as a divergence.)
    """
    MtM = M.T @ M
    if not np.all(np.isfinite(MtM)):
        return np.inf
    return float(np.linalg.eigvalsh(MtM)[-1])


def dropout_sgd(
    X,
    A,
    B,
    *,
    dropout,
    alpha,
    max_iter,
    tol,
    learning_rate,
    batch_size,
    random_state,
    top_singular_value,
    n_iter_no_change=10,
    verbose=0,
    name="dropout-SGD",
    init_scale=None,
):
    """Minibatch SGD with real input-dropout masks (Objective 1, EDLAE).

    docs/user_guide/objectives.rst, "Exact dropout".

    Each step takes ``batch_size`` users, draws a Bernoulli mask ``M`` on the
    non-zeros of ``X_b`` (entries kept with probability ``1 - q``), sets
    ``X~_b = X_b * M / (1 - q)`` and steps down the gradient of
    ``n / |b| ||X_b - X~_b A B^T||^2 + alpha ||A B^T||^2``, an unbiased sample of
    the gradient of the EDLAE expected loss. Zeros of ``X`` stay zero under any
    mask, so only the stored entries are drawn.

    The step is ``learning_rate / L`` with ``L`` a bound on the curvature,
    ``2 (s_1^2 / (1 - q) + alpha) (1 + ||A||_2^2 + ||B||_2^2)`` (``s_1`` the top
    singular value of ``X``), recomputed at every step. A scalar step size
    only reparametrizes time, so the gradient flow and its conserved imbalance
    ``A^T A - B^T B`` (docs/user_guide/gauges.rst) are those of
    plain gradient descent; the normalization only keeps the step stable for
    any data scale and init scale. Plain SGD, neither momentum nor Adam: both
    break the conservation (Adam rescales each coordinate; with momentum the
    tiny-init runs of the test data ended visibly unbalanced).

    An iteration is one epoch (a pass over the users in random order). After
    each epoch the exact expected loss (the EDLAE objective, one pass over
    ``X``, about the cost of the epoch) is recorded. The run stops when it has
    not improved by ``tol`` (relative) for ``n_iter_no_change`` epochs, or at
    ``max_iter``. The step size is halved at each such plateau, three times,
    before stopping at the fourth, so that the iterate settles (SGD with a
    constant step keeps jittering).

    A run that cannot produce a model raises: a start whose loss is not
    finite a ``ValueError`` (:func:`check_start`, naming ``init_scale`` when
    given); a loss that is not finite after an epoch, or a final loss more
    than :data:`DIVERGENCE_FACTOR` times the loss at the start, a
    :class:`DivergenceError` naming ``learning_rate``. Such a run ended
    either way, by overflow or by the plateau rule (a growing loss never
    improves), and its factors are useless in both cases.

    Returns ``(A, B, n_iter, loss_curve)``; the loss curve holds the expected
    loss after each epoch.
    """
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    n = X.shape[0]
    keep = 1.0 - dropout
    sparse = sp.issparse(X)
    A = A.copy()
    B = B.copy()
    curvature = 2.0 * (top_singular_value**2 / keep + alpha)
    # Lambda of the expected loss (docs/user_guide/objectives.rst, Exact dropout).
    if sparse:
        col_sq = np.asarray(X.multiply(X).sum(axis=0), dtype=np.float64).ravel()
    else:
        col_sq = np.einsum("ij,ij->j", X, X)
    lam = alpha + dropout / keep * col_sq
    with np.errstate(over="ignore", invalid="ignore"):
        start_loss = product_penalty_loss_grad(X, A, B, lam, with_grad=False)
    check_start(start_loss, name=name, init_scale=init_scale)
    # The final check (check_dropout_sgd_end) compares the fit with the
    # all-zero factors, as fit_factors_lbfgs does.
    reference = product_penalty_loss_grad(
        X, np.zeros_like(A), np.zeros_like(B), lam, with_grad=False
    )
    start_error = expanded_loss_error(X, A, B)

    def diverged(message):
        return DivergenceError(
            f"{name} diverged: {message} (the loss at the start is "
            f"{start_loss:.3g}); lower learning_rate (now {learning_rate:g})."
        )

    def check_end(stopped_early):
        check_dropout_sgd_end(
            curve[-1],
            start_loss=start_loss,
            reference=reference,
            error=expanded_loss_error(X, A, B),
            start_error=start_error,
            stopped_early=stopped_early,
            n_iter=n_iter,
            name=name,
            learning_rate=learning_rate,
            init_scale=init_scale,
            diverged=diverged,
        )

    lr = float(learning_rate)
    curve = []
    best = np.inf
    no_change = 0
    n_halvings = 0
    progress = Progress(verbose, max_iter, name)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        order = rng.permutation(n)
        # A diverging run overflows: checked below, with a clear error instead.
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, batch_size):
                rows = np.sort(order[start : start + batch_size])
                Xb = X[rows]
                if dropout > 0:
                    Xt = Xb.copy()
                    if sparse:
                        Xt.data *= (rng.random(Xt.data.shape[0]) < keep) / keep
                    else:
                        Xt *= (rng.random(Xt.shape) < keep) / keep
                else:
                    Xt = Xb
                weight = n / Xb.shape[0]
                # ||X_b - X~_b A B^T||^2 with P = X~_b A (n_b x k), no n_b x p array.
                P = safe_sparse_dot(Xt, A, dense_output=True)
                XbB = safe_sparse_dot(Xb, B, dense_output=True)
                BtB = B.T @ B
                PtP = P.T @ P
                AtA = A.T @ A
                dP = 2.0 * weight * (P @ BtB - XbB)
                dA = (
                    safe_sparse_dot(Xt.T, dP, dense_output=True) + 2.0 * alpha * A @ BtB
                )
                dB = (
                    2.0
                    * weight
                    * (B @ PtP - safe_sparse_dot(Xb.T, P, dense_output=True))
                )
                dB += 2.0 * alpha * B @ AtA
                step = lr / (
                    curvature * (1.0 + _spectral_norm_sq(A) + _spectral_norm_sq(B))
                )
                A -= step * dA
                B -= step * dB
            epoch_loss = product_penalty_loss_grad(X, A, B, lam, with_grad=False)
        curve.append(epoch_loss)
        progress.update(n_iter, epoch_loss)
        if not np.isfinite(epoch_loss):
            raise diverged(f"the loss is {epoch_loss} after epoch {n_iter}")
        if epoch_loss < best * (1.0 - tol):
            best = epoch_loss
            no_change = 0
        else:
            no_change += 1
        if no_change >= n_iter_no_change:
            if n_halvings >= 3:
                break
            lr /= 2.0
            n_halvings += 1
            no_change = 0
            best = epoch_loss
    else:
        progress.close(f"stopped at max_iter={max_iter}")
        check_end(stopped_early=False)
        warn_not_converged(
            name,
            max_iter,
            note=_above_reference_note(
                curve[-1], reference, start_loss, init_scale=init_scale
            ),
        )
        return A, B, n_iter, curve
    progress.close(f"converged after {n_iter} epochs")
    check_end(stopped_early=True)
    return A, B, n_iter, curve


def _above_reference_note(loss, reference, start_loss, *, init_scale=None):
    """The note of a dropout-SGD ``ConvergenceWarning`` ending above the reference.

    ``None`` when the loss ended at or below the all-zero model's. Such a run
    passed :func:`check_dropout_sgd_end`: its loss is resolved and did not
    grow, so more epochs can help; from a start far above the reference
    (a large ``init_scale``) a smaller ``init_scale`` helps more.
    """
    if not loss > reference:
        return None
    note = (
        f"Its loss ({loss:.3g}) is still above that of the all-zero model "
        f"({reference:.3g}): this model is worse than none."
    )
    if init_scale is not None and start_loss > DIVERGENCE_FACTOR * reference:
        note += (
            f" Its start ({start_loss:.3g}) was far above it too: a smaller "
            f"init_scale (now {init_scale:g}) trains faster."
        )
    return note


def check_dropout_sgd_end(
    loss,
    *,
    start_loss,
    reference,
    error,
    start_error,
    stopped_early,
    n_iter,
    name,
    learning_rate,
    init_scale=None,
    diverged,
):
    """Raise a :class:`DivergenceError` when a dropout-SGD run produced no model.

    The checks of :func:`check_lbfgs_end`, with the same reference (the loss
    of the all-zero factors), rounding-error estimate
    (:func:`expanded_loss_error`) and constants, after the divergence check of
    a loss that grew. ``error`` and ``start_error`` are the estimated rounding
    errors of the final loss and of the loss at the start, ``stopped_early``
    whether the plateau rule ended the run (else ``max_iter`` did), and
    ``diverged(message)`` builds the error that names ``learning_rate``. In
    this order, the run failed when:

    - ``|loss|`` exceeds :data:`DIVERGENCE_FACTOR` times the loss at the
      start: the loss grew, ``learning_rate`` is too large;
    - ``error`` and ``start_error`` both exceed :data:`LOSS_RESOLUTION` times
      the reference, however the run stopped: the computed loss cannot tell
      the fit from the all-zero model, and the start was already that large,
      so ``init_scale`` is named. Training conserves ``A^T A - B^T B``, so
      such factors hardly shrink: from ``init_scale=1e4`` on 25 x 9 binary
      data every run (three seeds, with and without dropout, up to 5,000
      epochs) ended unresolved; with ``tol=0`` and seed 0 the plateau rule
      stopped it after 2,900 to 4,800 epochs at 15 to 25 times the
      reference. The start and the end must both be unresolved: factors
      that grew during the run from a resolved start are left to the other
      checks: a step size that spikes the loss can recover (300 x 60 binary
      data, ``learning_rate=10``: a final loss 0.66 times the reference with
      an error estimate 0.13 times it);
    - the plateau rule stopped it at more than :data:`DIVERGENCE_FACTOR` times
      the reference (in magnitude; a reference of zero is not judged). Both
      ``init_scale`` and ``learning_rate`` are named when the start was that
      far above the reference too, else ``learning_rate``.

    A run that stops at ``max_iter`` above the reference, with a resolved
    loss that did not grow, gets the ``ConvergenceWarning``, as with L-BFGS,
    with a note that the model is worse than none (:func:`dropout_sgd`): it
    is still going down, if slowly (from ``init_scale=1e3`` on the same data
    it ends below the reference after 2,400 to 3,900 epochs with
    ``random_state=0``; other seeds need more than 5,000).
    """
    if abs(loss) > DIVERGENCE_FACTOR * start_loss:
        raise diverged(
            f"the loss ended at {loss:.3g} after {n_iter} epochs, more than "
            f"{DIVERGENCE_FACTOR:g} times its start in magnitude"
        )
    resolution = LOSS_RESOLUTION * reference
    if error > resolution and start_error > resolution:
        problem = (
            f"the factors are so large that float64 resolves the loss only to "
            f"about {error:.3g}, more than {LOSS_RESOLUTION:g} times the loss of "
            f"the all-zero model ({reference:.3g}; the loss ended at {loss:.3g} "
            f"after {n_iter} epochs, from {start_loss:.3g})"
        )
        raise _no_model(name, problem, init_scale)
    if stopped_early and reference > 0 and abs(loss) > DIVERGENCE_FACTOR * reference:
        problem = (
            f"it stopped after {n_iter} epochs at a loss of {loss:.3g}, more "
            f"than {DIVERGENCE_FACTOR:g} times that of the all-zero model "
            f"({reference:.3g}; the loss at the start is {start_loss:.3g})"
        )
        if init_scale is not None and start_loss > DIVERGENCE_FACTOR * reference:
            raise DivergenceError(
                f"{name} failed: {problem}; lower init_scale (now "
                f"{init_scale:g}) or learning_rate (now {learning_rate:g})."
            )
        raise DivergenceError(
            f"{name} failed: {problem}; lower learning_rate (now {learning_rate:g})."
        )
