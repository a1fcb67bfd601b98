"""Dropout SGD: minibatch gradient descent with real input-dropout masks.

The way a practitioner trains a dropout autoencoder
(docs/user_guide/gauges.rst), beside the exact expected loss that
:func:`~skcosim._optim._lbfgs.fit_factors_lbfgs` minimizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from .._linalg._matrix import column_squared_norms
from ._checks import RunEnd, above_reference_note, check_run_end, check_start, diverged
from ._losses import (
    dropout_penalty_weights,
    expanded_loss_error,
    product_penalty_loss_grad,
)
from ._progress import IterationProgress, warn_not_converged


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
    finite a ``ValueError`` (:func:`~._checks.check_start`, naming
    ``init_scale`` when given); a loss that is not finite after an epoch, or
    a final loss more than :data:`~._checks.DIVERGENCE_FACTOR` times the loss
    at the start, a :class:`~skcosim.exceptions.DivergenceError` naming
    ``learning_rate``. Such a run ended
    either way, by overflow or by the plateau rule (a growing loss never
    improves), and its factors are useless in both cases.

    Returns ``(A, B, n_iter, loss_curve)``; the loss curve holds the expected
    loss after each epoch.
    """
    rng = np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    A, B = A.copy(), B.copy()
    lam = dropout_penalty_weights(alpha, dropout, column_squared_norms(X))

    def expected_loss(A, B):
        return product_penalty_loss_grad(X, A, B, lam, with_grad=False)

    with np.errstate(over="ignore", invalid="ignore"):
        start_loss = expected_loss(A, B)
    check_start(start_loss, name=name, init_scale=init_scale)
    # The end-of-run check compares the fit with the all-zero factors, as
    # fit_factors_lbfgs does.
    reference = expected_loss(np.zeros_like(A), np.zeros_like(B))
    start_error = expanded_loss_error(X, A, B)
    curvature = 2.0 * (top_singular_value**2 / (1.0 - dropout) + alpha)
    epoch = _Epoch(dropout, alpha, batch_size, curvature)
    schedule = PlateauSchedule(learning_rate, tol=tol, patience=n_iter_no_change)
    curve = []
    progress = IterationProgress(verbose, max_iter, name)
    stopped_early = False
    for n_iter in range(1, max_iter + 1):
        # A diverging run overflows: checked below, with a clear error instead.
        with np.errstate(over="ignore", invalid="ignore"):
            epoch.run(X, A, B, rng, schedule.learning_rate)
            epoch_loss = expected_loss(A, B)
        curve.append(epoch_loss)
        progress.update(n_iter, epoch_loss)
        if not np.isfinite(epoch_loss):
            message = f"the loss is {epoch_loss} after epoch {n_iter}"
            raise diverged(
                name, message, start_loss=start_loss, learning_rate=learning_rate
            )
        if schedule.step(epoch_loss):
            stopped_early = True
            break
    converged = f"converged after {n_iter} epochs"
    progress.close(converged if stopped_early else f"stopped at max_iter={max_iter}")
    run = RunEnd(
        name=name,
        loss=curve[-1],
        start_loss=start_loss,
        reference=reference,
        error=expanded_loss_error(X, A, B),
        n_iter=n_iter,
        stopped_early=stopped_early,
        init_scale=init_scale,
        start_error=start_error,
        learning_rate=learning_rate,
        unit="epochs",
    )
    check_run_end(run)
    if not stopped_early:
        note = above_reference_note(
            curve[-1], reference, start_loss, init_scale=init_scale
        )
        warn_not_converged(name, max_iter, note=note)
    return A, B, n_iter, curve


class PlateauSchedule:
    """A learning rate halved at each plateau of the loss; the run stops at the
    plateau after the last halving.

    A plateau is ``patience`` epochs in a row without a relative improvement
    of ``tol`` over the best loss since the last halving. Halving lets SGD
    settle (with a constant step it keeps jittering).

    Parameters
    ----------
    learning_rate : float
        The starting learning rate.
    tol : float
        Relative improvement that counts.
    patience : int
        Epochs without improvement that make a plateau.
    max_halvings : int, default=3
        Halvings before the run stops.
    """

    def __init__(self, learning_rate, *, tol, patience, max_halvings=3):
        self.learning_rate = float(learning_rate)
        self.tol = tol
        self.patience = patience
        self.max_halvings = max_halvings
        self.best = np.inf
        self.no_change = 0
        self.n_halvings = 0

    def step(self, loss):
        """Record the loss of an epoch; True when the run should stop."""
        if loss < self.best * (1.0 - self.tol):
            self.best = loss
            self.no_change = 0
        else:
            self.no_change += 1
        if self.no_change < self.patience:
            return False
        if self.n_halvings >= self.max_halvings:
            return True
        self.learning_rate /= 2.0
        self.n_halvings += 1
        self.no_change = 0
        self.best = loss
        return False


@dataclass(frozen=True)
class _Epoch:
    """One pass of minibatch SGD over the users in random order.

    The step is ``learning_rate / L`` with ``L`` a bound on the curvature,
    ``curvature * (1 + ||A||_2^2 + ||B||_2^2)``, at the current factors.
    """

    dropout: float
    alpha: float
    batch_size: int
    curvature: float

    def run(self, X, A, B, rng, learning_rate):
        """Update ``A, B`` in place."""
        n = X.shape[0]
        order = rng.permutation(n)
        for start in range(0, n, self.batch_size):
            Xb = X[np.sort(order[start : start + self.batch_size])]
            Xt = _dropped_out(Xb, self.dropout, rng)
            weight = n / Xb.shape[0]
            dA, dB = _minibatch_gradient(Xb, Xt, A, B, weight, self.alpha)
            bound = 1.0 + _spectral_norm_sq(A) + _spectral_norm_sq(B)
            step = learning_rate / (self.curvature * bound)
            A -= step * dA
            B -= step * dB


def _dropped_out(Xb, dropout, rng):
    """``X~_b = X_b * M / (1 - q)``, a Bernoulli mask ``M`` on the stored
    entries (zeros stay zero under any mask)."""
    if dropout <= 0:
        return Xb
    keep = 1.0 - dropout
    Xt = Xb.copy()
    if sp.issparse(Xt):
        Xt.data *= (rng.random(Xt.data.shape[0]) < keep) / keep
    else:
        Xt *= (rng.random(Xt.shape) < keep) / keep
    return Xt


def _minibatch_gradient(Xb, Xt, A, B, weight, alpha):
    """Gradients of ``weight ||X_b - X~_b A B^T||^2 + alpha ||A B^T||^2``.

    With ``P = X~_b A`` (``n_b x k``): no ``n_b x p`` array.
    """
    P = safe_sparse_dot(Xt, A, dense_output=True)
    XbB = safe_sparse_dot(Xb, B, dense_output=True)
    BtB = B.T @ B
    dP = 2.0 * weight * (P @ BtB - XbB)
    dA = safe_sparse_dot(Xt.T, dP, dense_output=True) + 2.0 * alpha * A @ BtB
    dB = 2.0 * weight * (B @ (P.T @ P) - safe_sparse_dot(Xb.T, P, dense_output=True))
    dB += 2.0 * alpha * B @ (A.T @ A)
    return dA, dB
