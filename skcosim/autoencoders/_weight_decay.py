"""Objective 2: weight decay on both factors (the paper's Eq. 2)."""

from __future__ import annotations

import numbers
from functools import partial

import numpy as np
from sklearn.utils.validation import check_random_state

from .._compat import Interval, StrOptions
from .._docstring import (
    DASK_CLOSED_FORM_NOTES,
    EXPLAINED_VARIANCE_RATIO_ATTRIBUTE,
    FACTOR_ATTRIBUTES,
    FEATURES_IN_ATTRIBUTES,
    PAPER_REFERENCE,
    Substitution,
)
from .._linalg._spectrum import top_k_spectrum
from .._optim._lbfgs import SpectralPreconditioner, fit_factors_lbfgs
from .._optim._losses import weight_decay_loss_grad, weight_decay_penalty
from .._optim._params import as_float64
from ._alpha import resolve_alpha
from ._base import _BaseLinearAutoencoder

#: Standard deviation of each entry of the random start of ``solver="lbfgs"``.
#: Small because the part of ``X A`` outside the top-``k`` directions of ``X``
#: is the slowest to train away (a small ``s_j`` is a small curvature, which
#: the preconditioner does not raise). Objective 2 has no split for the start
#: to pick (its optimum is unique up to a rotation), so its size only sets
#: the number of iterations.
LBFGS_INIT_SCALE = 0.01


@Substitution(
    factor_attributes=FACTOR_ATTRIBUTES,
    explained_variance_ratio_attribute=EXPLAINED_VARIANCE_RATIO_ATTRIBUTE,
    features_in_attributes=FEATURES_IN_ATTRIBUTES,
    dask_closed_form_notes=DASK_CLOSED_FORM_NOTES,
    paper_reference=PAPER_REFERENCE,
)
class WeightDecayAutoencoder(_BaseLinearAutoencoder):
    """Linear autoencoder with weight decay on both factors (closed form).

    Solves Objective 2 of Steck, Ekanadham & Kallus (2024), the paper's Eq. 2::

        min_{A, B}  ||X - X A B^T||_F^2 + alpha * (||X A||_F^2 + ||B||_F^2)

    exactly, from the top-``n_components`` spectrum ``X ~ U S V^T``::

        A = V_k diag(sqrt(h) / s),   B = V_k diag(sqrt(h)),   h = (s - alpha)_+

    The solution is unique up to a rotation ``A R, B R`` (``R`` orthogonal),
    which leaves every cosine similarity unchanged: item neighbours are well
    defined. They are still set by ``alpha``, which scales dimension ``i`` by
    ``sqrt((s_i - alpha)_+)``. Components with ``s_i <= alpha`` are exactly zero.

    Parameters
    ----------
    n_components : int, default=10
        Dimension ``k`` of the embeddings. Components beyond the rank of ``X``
        are zero.
    alpha : float or "auto", default=1.0
        Weight-decay strength (the paper's lambda), in units of singular
        values ``s_i`` of ``X``: components with ``s_i <= alpha`` are cut.
        :class:`DropoutAutoencoder`'s ``alpha`` is in units of squared
        singular values ``s_i^2`` (:ref:`units of alpha <alpha-units>`).
        ``"auto"``: ``min(median(s), s_1 / 2)``, ``s`` the nonzero top-``n_components``
        singular values of the training data (1.0 on all-zero data), so about
        half of the components are kept whatever the scale of ``X``; the rule
        of ``skcosim audit`` (:ref:`alpha-auto`). The value used is
        ``alpha_``.
    solver : {"auto", "gram", "randomized", "arpack", "lbfgs"}, default="auto"
        How the top-``k`` spectrum of ``X`` is computed (user guide:
        :ref:`spectrum-solvers`). With ``m = min(n_samples, n_features)``:
        ``"gram"`` takes the top eigenpairs of the ``m x m`` Gram matrix
        (exact, memory ``m^2``); ``"arpack"`` runs Lanczos on sparse products
        (exact, memory ``O(nnz + m k)``); ``"randomized"`` is a randomized
        SVD (approximate). ``"auto"`` picks ``"gram"`` when ``m <= 1500`` or
        ``n_components >= m - 1``, otherwise ``"arpack"``; on a Dask array,
        ``"gram"`` when ``n_features <= 10000``, otherwise ``"arpack"``.
        ``"lbfgs"`` instead trains ``A, B`` by full-batch L-BFGS on the same
        objective from a random start (entries ``N(0, 0.01^2)``): a check of
        the closed form by training. It trains ``A`` in the coordinates that
        whiten ``X A`` on the top-``k`` spectrum (computed anyway for
        ``singular_values_``): the same objective and minimizers, a better
        conditioned problem.
    max_iter : int, default=500
        ``"lbfgs"`` only: maximum number of iterations (then a
        ``ConvergenceWarning``).
    tol : float, default=1e-7
        ``"lbfgs"`` only: stop when the relative decrease of the loss in one
        iteration falls below ``tol``.
    verbose : int, default=0
        ``"lbfgs"`` only: progress output (a tqdm bar when installed, else
        one line per iteration).
    random_state : int, RandomState instance or None, default=None
        Seeds the ``"randomized"`` and ``"arpack"`` solvers and the start of
        ``"lbfgs"``.

    Attributes
    ----------
    {factor_attributes}
    explained_variance_ : ndarray of shape (n_components,)
        Variance over the training users of the reconstruction projected on
        each component (with ``alpha=0``, TruncatedSVD's; ``alpha`` shrinks
        component ``i`` by ``((s_i - alpha)_+ / s_i)^2``).
    {explained_variance_ratio_attribute}
    alpha_ : float
        The weight decay used: ``alpha``, or the value ``"auto"`` resolved to
        on the training data (singular values).
    n_iter_ : int
        Number of L-BFGS iterations; 1 for the closed-form solvers (one exact
        solve).
    loss_curve_ : ndarray of shape (`n_iter_` + 1,) or (1,)
        ``"lbfgs"``: the objective at the start and after each iteration;
        closed-form solvers: the objective at the solution.
    {features_in_attributes}

    See Also
    --------
    DropoutAutoencoder : Objective 1, whose cosines are arbitrary.
    sklearn.decomposition.TruncatedSVD : The same spectrum, without the
        regularized scaling.

    Notes
    -----
    ``A`` is the minimum-norm encoder (inside the row space of ``X``). The
    top-``k`` spectrum is all the fit needs: ``O(nnz(X) k)`` memory with the
    ``"arpack"`` and ``"randomized"`` solvers.

    {dask_closed_form_notes}

    References
    ----------
    {paper_reference}

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import WeightDecayAutoencoder
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(100, 30) < 0.2).astype(float)
    >>> model = WeightDecayAutoencoder(n_components=5, alpha=1.0).fit(X)
    >>> model.transform(X).shape
    (100, 5)
    >>> model.decoder_.shape
    (30, 5)

    ``alpha="auto"`` cuts in the middle of the top-``k`` spectrum:

    >>> auto = WeightDecayAutoencoder(n_components=5, alpha="auto").fit(X)
    >>> s = auto.singular_values_
    >>> bool(np.isclose(auto.alpha_, min(np.median(s), s[0] / 2)))
    True
    """

    _gauge_group = "orthogonal"

    # Unique cosines (a rotation keeps them): what Objective 2 learns.
    _default_embedding = "decoder"

    _parameter_constraints: dict = {
        **_BaseLinearAutoencoder._parameter_constraints,
        "solver": [StrOptions({"auto", "gram", "randomized", "arpack", "lbfgs"})],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        alpha=1.0,
        solver="auto",
        max_iter=500,
        tol=1e-7,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            n_components, alpha=alpha, solver=solver, random_state=random_state
        )
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose

    def _fit(self, X):
        if self.solver == "lbfgs":
            return self._fit_lbfgs(X)
        s, V = top_k_spectrum(
            X, self.n_components, solver=self.solver, random_state=self.random_state
        )
        self.alpha_ = resolve_alpha(self.alpha, s)
        # Objective 2 closed form (docs/user_guide/objectives.rst): h = (s - alpha)_+.
        h = np.clip(s - self.alpha_, 0, None)
        root_h = np.sqrt(h)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale_a = np.where(s > 0, root_h / s, 0).astype(V.dtype)
        self.encoder_ = V * scale_a
        self.decoder_ = V * root_h.astype(V.dtype)
        self.singular_values_ = s
        # "randomized" is not exact: its V is no exact spectrum to derive from.
        return (None, None) if self.solver == "randomized" else (s, V)

    def _fit_lbfgs(self, X):
        """Train ``A, B`` on Objective 2 with L-BFGS (:mod:`skcosim._optim._lbfgs`)."""
        rng = check_random_state(self.random_state)
        s, V = top_k_spectrum(X, self.n_components, random_state=rng)
        self.alpha_ = resolve_alpha(self.alpha, s)
        A0, B0 = self._random_start(X, LBFGS_INIT_SCALE, rng)
        A, B, self.n_iter_, self.loss_curve_ = fit_factors_lbfgs(
            as_float64(X),
            A0,
            B0,
            partial(weight_decay_loss_grad, alpha=self.alpha_),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            name=f"{type(self).__name__}(solver='lbfgs')",
            grad_scale=float(s[0]),
            preconditioner=SpectralPreconditioner(s, V),
        )
        self.encoder_ = A.astype(X.dtype)
        self.decoder_ = B.astype(X.dtype)
        self.singular_values_ = s

    def _penalty(self, X, P):
        return weight_decay_penalty(P, self.decoder_, self.alpha_)
