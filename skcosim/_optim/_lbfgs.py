"""Full-batch training by scipy's L-BFGS-B.

:func:`minimize_lbfgs` is the driver (``n_iter``, loss curve, progress
output, ``ConvergenceWarning`` and the end-of-run check);
:func:`fit_factors_lbfgs` runs it on ``A, B`` for Objectives 1 and 2, with
the :class:`SpectralPreconditioner` of Objective 2.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize

from ._checks import RunEnd, check_progress, check_run_end, check_start
from ._losses import expanded_loss_error
from ._params import pack, unpack
from ._progress import IterationProgress, warn_not_converged

#: :class:`SpectralPreconditioner` whitens only the components with
#: ``s_i >= WHITENING_FLOOR * s_1``: ``M`` then scales no direction by more
#: than ``1 / WHITENING_FLOOR`` times another, which bounds how much it
#: magnifies the rounding error of the gradient outside the row space of ``X``.
WHITENING_FLOOR = 1e-3


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
    min_gain=None,
):
    """Minimize ``fun(theta) -> (loss, grad)`` with scipy's L-BFGS-B.

    Stops when the relative decrease of the loss falls below ``tol``
    (L-BFGS-B's ``ftol``; relative down to a ``reference`` below 1 too, see
    :func:`_loss_unit`), when the largest gradient entry falls below ``tol``
    times its value at the start (capped at ``grad_scale``), or at
    ``max_iter`` iterations (then with a ``ConvergenceWarning``).

    A run that cannot produce a model raises: a start whose loss or gradient
    is not finite a ``ValueError`` (:func:`~._checks.check_start`); given a
    ``reference``, a run that ends worse than it by far, cannot lower the
    loss from its start, or ends with a loss float64 cannot resolve, a
    :class:`~skcosim.exceptions.DivergenceError`
    (:func:`~._checks.check_run_end`).

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
        Progress output (:class:`~skcosim._optim._progress.IterationProgress`).
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
        for the final check (:func:`~skcosim._optim._checks.check_run_end`).
    min_gain : float or None, default=None
        Given, a run that stopped before ``max_iter`` on a rule other than the
        gradient test (a small decrease in one iteration, a failed line
        search) raises a ``ConvergenceWarning`` when its loss fell by less
        than ``min_gain`` times its start's, or its gradient is still large
        (:func:`~._checks.check_progress`): those rules stop a run whose steps
        are tiny, which a stalled run's are too.

    Returns
    -------
    theta : ndarray
        The last iterate.
    n_iter : int
        Number of L-BFGS iterations (at least 1).
    loss_curve : list of float
        The loss after each iteration (the loss at ``theta0`` first).
    """
    cached = _reuse_last(fun)
    # An overflowing start is reported by check_start, not by RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore"):
        f0, g0 = cached(theta0)
    check_start(f0, g0, name=name, init_scale=init_scale)
    curve = [float(f0)]
    progress = IterationProgress(verbose, max_iter, name)
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
    # A start that is already stationary (zero gradient) stops L-BFGS before
    # its first iteration; the evaluation of that start counts as one, the
    # scikit-learn convention (n_iter_ >= 1).
    n_iter = max(int(result.nit), 1)
    if reference is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            error = 0.0 if loss_error is None else float(loss_error(result.x))
        run = RunEnd(
            name=name,
            loss=float(result.fun) * unit,
            start_loss=float(f0),
            reference=float(reference),
            error=error,
            n_iter=n_iter,
            stopped_early=result.status != 1,
            init_scale=init_scale,
            line_search_failed=result.status == 2,
        )
        check_run_end(run)
    if result.status == 1:
        warn_not_converged(name, max_iter)
    elif min_gain is not None:
        g_end = float(np.max(np.abs(result.jac), initial=0.0)) * unit
        if g_end > tol * g_ref:  # not stopped by the gradient test
            check_progress(
                name,
                curve,
                min_gain=min_gain,
                n_iter=n_iter,
                sensitivity=_sensitivity(result),
                detail=(
                    f"L-BFGS-B stopped on {result.message!r} with its largest "
                    f"gradient entry at {g_end:.3g} ({g_ref:.3g} at the start)."
                ),
            )
    return result.x, n_iter, curve


def _sensitivity(result):
    """``||g|| ||theta|| / |f|`` at the end of a scipy run, without overflow
    (each norm is taken of the vector divided by its largest entry)."""
    size = 1.0
    for v in (result.jac, result.x):
        peak = float(np.max(np.abs(v), initial=0.0))
        size *= peak * float(np.linalg.norm(v / peak)) if peak > 0 else 0.0
    with np.errstate(over="ignore"):
        return size / max(abs(float(result.fun)), np.finfo(np.float64).tiny)


def _reuse_last(fun):
    """``fun`` that returns its last value again for the same ``theta``
    (scipy evaluates the start twice)."""
    cache = {}

    def cached(theta):
        if "theta" in cache and np.array_equal(theta, cache["theta"]):
            return cache["value"]
        value = fun(theta)
        cache["theta"], cache["value"] = theta.copy(), value
        return value

    return cached


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
        ``s`` and ``V`` as returned by :func:`skcosim._linalg._spectrum.top_k_spectrum`
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
