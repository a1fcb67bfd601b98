"""Objective 1: penalty on the product ``A B^T`` (the paper's Eq. 1), and dropout."""

from __future__ import annotations

import numbers
from functools import partial

import numpy as np
import scipy.linalg
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
from .._linalg._eigen import spectrum_from_gram, top_k_eigh
from .._linalg._gauge import sample_gauge
from .._linalg._matrix import column_squared_norms
from .._linalg._spectrum import gram_matrix, top_k_spectrum
from .._optim._lbfgs import fit_factors_lbfgs
from .._optim._losses import (
    dropout_penalty_weights,
    product_penalty,
    product_penalty_loss_grad,
)
from .._optim._params import as_float64
from .._optim._sgd import dropout_sgd
from ._alpha import resolve_alpha
from ._base import _BaseLinearAutoencoder

#: The gradient solvers (docs/user_guide/gauges.rst).
GRADIENT = ("lbfgs", "dropout-sgd")

SPLITS = ("identity", "symmetric", "encoder", "random")

#: Allowed range of the entries of a user ``gauge`` array (see ``_user_gauge``).
GAUGE_RANGE = (1e-100, 1e100)


@Substitution(
    factor_attributes=FACTOR_ATTRIBUTES,
    explained_variance_ratio_attribute=EXPLAINED_VARIANCE_RATIO_ATTRIBUTE,
    features_in_attributes=FEATURES_IN_ATTRIBUTES,
    dask_closed_form_notes=DASK_CLOSED_FORM_NOTES,
    paper_reference=PAPER_REFERENCE,
)
class DropoutAutoencoder(_BaseLinearAutoencoder):
    """Linear autoencoder with a penalty on the product ``A B^T`` (closed form).

    Solves Objective 1 of Steck, Ekanadham & Kallus (2024), the paper's Eq. 1::

        min_{A, B}  ||X - X A B^T||_F^2 + alpha * ||A B^T||_F^2

    whose rank-``k`` solution is ``A B^T = V_k diag(g) V_k^T`` with
    ``g_i = s_i^2 / (s_i^2 + alpha)``. With ``dropout=q`` it solves instead the
    exact expected loss of training with input dropout at rate ``q`` (EDLAE,
    Steck 2020)::

        min_{A, B}  ||X - X A B^T||_F^2 + ||Lambda^(1/2) A B^T||_F^2,
        Lambda = q / (1 - q) * diag(diag(X^T X)) + alpha * I

    a reduced-rank ridge regression: with ``W = (X^T X + Lambda)^{-1} X^T X``
    and ``Q_k`` the top eigenvectors of ``X^T X W``, ``A B^T = W Q_k Q_k^T``.

    **Every split of the product is equally optimal.** The loss depends on
    ``A B^T`` only, so ``A R, B R^{-T}`` fits exactly as well for any
    invertible ``R``, and already a diagonal ``R`` changes every cosine
    similarity between items and between users. ``gauge`` picks one split;
    all of them have the same :meth:`objective`, none is more right than
    another. This is the paper's point: cosine similarities of these
    embeddings are an accident of the split.

    Parameters
    ----------
    n_components : int, default=10
        Dimension ``k`` of the embeddings. Components beyond the rank of ``X``
        are zero.
    alpha : float or "auto", default=1.0
        Strength of the penalty on ``A B^T`` (the paper's lambda), in units of
        squared singular values ``s_i^2`` of ``X``: component ``i`` is shrunk
        by ``s_i^2 / (s_i^2 + alpha)``, never cut (one half where
        ``s_i^2 = alpha``). :class:`WeightDecayAutoencoder`'s ``alpha`` is in
        units of singular values ``s_i``
        (:ref:`units of alpha <alpha-units>`). ``"auto"``: ``a^2`` with
        ``a = min(median(s), s_1 / 2)``, ``s`` the nonzero
        top-``n_components`` singular values of the training data (1.0 on
        all-zero data): half of the shrinkage falls at the singular value
        where :class:`WeightDecayAutoencoder` with ``alpha="auto"`` cuts, and
        ``skcosim audit`` uses the same rule (:ref:`alpha-auto`). The value
        used is ``alpha_``.
    dropout : float in [0, 1) or None, default=None
        If given, the input-dropout rate ``q`` whose exact expected loss is
        minimized. This forms the dense ``n_features x n_features`` Gram matrix
        and solves with it: ``O(p^3)`` time, ``O(p^2)`` memory.
    gauge : {"identity", "symmetric", "encoder", "random"} or array-like of \
            shape (n_components,), default="identity"
        The split of ``A B^T`` returned, written with ``a_i``, the norm of
        column ``i`` of ``W Q_k`` (``a_i = g_i`` without dropout):

        - ``"identity"``: decoder columns orthonormal, ``B = Q_k``,
          ``A = W Q_k`` (the paper's ``B = V_k``, ``A = V_k diag(g)``).
        - ``"symmetric"``: balanced, encoder and decoder columns of equal norm
          ``sqrt(a_i)``.
        - ``"encoder"``: encoder columns of unit norm, ``B = Q_k diag(a)``.
        - ``"random"``: ``R = diag(exp(z))``, ``z ~ N(0, 1)`` drawn from
          ``random_state``: a random, equally optimal gauge.
        - an array ``d`` of positive numbers: ``R = diag(d)``.
    solver : {"auto", "gram", "randomized", "arpack", "lbfgs", "dropout-sgd"}, \
            default="auto"
        How the model is fitted. The first four compute the closed form from
        the top-``k`` spectrum of ``X`` (without ``dropout``), as in
        :class:`WeightDecayAutoencoder`: ``"auto"`` picks ``"gram"`` when
        ``m = min(n_samples, n_features) <= 1500`` or ``n_components >= m -
        1``, otherwise ``"arpack"`` (user guide: :ref:`spectrum-solvers`).
        With ``dropout`` the Gram matrix is formed whatever the solver. The
        gradient solvers train the factors from a random start
        (``init_scale``):

        - ``"lbfgs"``: full-batch L-BFGS on the same objective (the expected
          loss with ``dropout``), deterministic given ``random_state``: a
          check of the closed form by training.
        - ``"dropout-sgd"``: minibatch SGD with real random input-dropout
          masks (rate ``dropout``, none if ``None``), the way a practitioner
          trains it.

        Training picks the split of ``A B^T`` itself (:ref:`gauges`), so
        ``gauge`` must stay ``"identity"``.
    max_iter : int, default=500
        Gradient solvers only: maximum number of L-BFGS iterations, or of
        epochs (passes over the users) of ``"dropout-sgd"``; a
        ``ConvergenceWarning`` is raised when it is reached.
    tol : float or None, default=None
        Gradient solvers only. ``"lbfgs"`` stops when the relative decrease of
        the loss in one iteration falls below ``tol`` (``None``: 1e-7);
        ``"dropout-sgd"`` when the expected loss after an epoch has not
        improved by ``tol`` (relative, ``None``: 1e-4) for 10 epochs at the
        smallest of four halving step sizes.
    learning_rate : float, default=0.2
        ``"dropout-sgd"`` only: the step as a fraction of ``1 / L``, ``L`` a
        bound on the curvature of the loss recomputed at each step. A run
        that diverges (its loss overflows, ends more than 10 times above its
        start, or stops on its plateau rule more than 10 times above the
        all-zero model's loss) raises a ``ValueError`` naming
        ``learning_rate``.
    batch_size : int, default=200
        ``"dropout-sgd"`` only: users per minibatch.
    init_scale : float, default=0.1
        Gradient solvers only: standard deviation of each entry of the random
        start. Gradient flow conserves ``A^T A - B^T B``: a small start ends
        near the balanced ("symmetric") split, an ordinary one on a
        seed-dependent split. Keep it at or below about 1. A start so large
        that its loss overflows float64 raises a ``ValueError`` naming
        ``init_scale``; so does (as a ``DivergenceError``) an ``"lbfgs"`` run
        from a huge start that cannot move, ends far above the all-zero
        model, or ends with a loss float64 cannot resolve (on 25 x 9 binary
        data from about 1e4), and a ``"dropout-sgd"`` run whose loss float64
        cannot resolve at its start and at its end. From about 10 to 1e3,
        ``"lbfgs"`` trains below the all-zero model but above the closed
        form (the imbalance ``A^T A - B^T B`` it keeps is badly conditioned),
        and ``"dropout-sgd"`` trains very slowly, ending at ``max_iter`` with
        a ``ConvergenceWarning`` that says when the model is still worse than
        the all-zero one.
    verbose : int, default=0
        Gradient solvers only: progress output (a tqdm bar when installed,
        else one line per iteration).
    random_state : int, RandomState instance or None, default=None
        Seeds the solvers, the random start and masks of the gradient solvers,
        and ``gauge="random"``.

    Attributes
    ----------
    {factor_attributes}
    explained_variance_ : ndarray of shape (n_components,)
        Variance over the training users of the reconstruction projected on
        each component (without ``dropout`` and with ``alpha=0``,
        TruncatedSVD's, whatever the ``gauge``).
    {explained_variance_ratio_attribute}
    alpha_ : float
        The penalty strength used: ``alpha``, or the value ``"auto"``
        resolved to on the training data (squared singular values).
    gauge_diagonal_ : ndarray of shape (n_components,)
        Diagonal of the ``R`` that turned the ``"identity"`` split into the
        returned one (ones for the gradient solvers). The ``R`` itself is
        ``np.diag(gauge_diagonal_)``, the ``(n_components, n_components)``
        array that ``item_embeddings(gauge=...)`` takes.
    n_iter_ : int
        Iterations (L-BFGS) or epochs (dropout-sgd); 1 for the closed-form
        solvers (one exact solve).
    loss_curve_ : ndarray of shape (`n_iter_` + 1,), (`n_iter_`,) or (1,)
        The objective at the start and after each L-BFGS iteration, or after
        each epoch of dropout-sgd (the expected loss, computed exactly);
        for the closed-form solvers, the objective at the solution.
    {features_in_attributes}

    See Also
    --------
    WeightDecayAutoencoder : Objective 2, whose cosines are unique.

    Notes
    -----
    Components with a zero singular value (``n_components`` above the rank of
    ``X``) are zero in both factors. Items that no user interacted with get
    exactly zero rows, with every solver (with ``alpha == 0`` and
    ``dropout`` set, the minimum-norm solution).

    {dask_closed_form_notes}

    References
    ----------
    {paper_reference}
    .. [2] H. Steck. "Autoencoders that don't overfit towards the Identity."
       NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import DropoutAutoencoder
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(100, 30) < 0.2).astype(float)
    >>> a = DropoutAutoencoder(n_components=5, alpha=10.0).fit(X)
    >>> b = DropoutAutoencoder(n_components=5, alpha=10.0, gauge="random",
    ...                        random_state=0).fit(X)
    >>> bool(np.isclose(a.objective(X), b.objective(X), rtol=1e-9))
    True

    ``alpha="auto"`` reads the strength from the spectrum of ``X``:

    >>> auto = DropoutAutoencoder(n_components=5, alpha="auto").fit(X)
    >>> s = auto.singular_values_
    >>> bool(np.isclose(auto.alpha_, min(np.median(s), s[0] / 2) ** 2))
    True
    """

    _gauge_group = "invertible"

    # The decoder's cosines depend on the split (``gauge``): the projected
    # rows, those of A B^T, are the only gauge-free item embedding.
    _default_embedding = "projected"

    _parameter_constraints: dict = {
        **_BaseLinearAutoencoder._parameter_constraints,
        "dropout": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "gauge": [StrOptions(set(SPLITS)), "array-like"],
        "solver": [StrOptions({"auto", "gram", "randomized", "arpack", *GRADIENT})],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left"), None],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "init_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        alpha=1.0,
        dropout=None,
        gauge="identity",
        solver="auto",
        max_iter=500,
        tol=None,
        learning_rate=0.2,
        batch_size=200,
        init_scale=0.1,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            n_components, alpha=alpha, solver=solver, random_state=random_state
        )
        self.dropout = dropout
        self.gauge = gauge
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.init_scale = init_scale
        self.verbose = verbose

    def _fit(self, X):
        d = self._user_gauge()  # validate before the expensive part
        if self.solver in GRADIENT:
            return self._fit_gradient(X)
        # The factors of exact dropout are not in the span of X's top V_k.
        spectrum = (None, None)
        if self.dropout:
            A0, B0, s = self._fit_expected_dropout_closed_form(X)
        else:
            s, B0 = top_k_spectrum(
                X,
                self.n_components,
                solver=self.solver,
                random_state=self.random_state,
            )
            self.alpha_ = resolve_alpha(self.alpha, s, squared=True)
            # Objective 1 closed form, "identity" split: A = V_k diag(g).
            s2 = s.astype(np.float64) ** 2
            # s = 0 and alpha = 0 would be 0/0: a zero component has g = 0.
            g = np.divide(s2, s2 + self.alpha_, out=np.zeros_like(s2), where=s2 > 0)
            A0 = B0 * g.astype(B0.dtype)
            if self.solver != "randomized":  # not exact: no spectrum to derive from
                spectrum = (s, B0)
        R = self._gauge(np.linalg.norm(A0, axis=0), d)
        self.encoder_ = A0 * R.astype(A0.dtype)
        self.decoder_ = B0 / R.astype(B0.dtype)
        self.singular_values_ = s
        self.gauge_diagonal_ = R
        return spectrum

    def _fit_gradient(self, X):
        """Train ``A, B`` by L-BFGS or dropout SGD (:mod:`skcosim._optim`)."""
        if not (isinstance(self.gauge, str) and self.gauge == "identity"):
            raise ValueError(
                f"gauge={self.gauge!r} needs a closed-form solver: with "
                f"solver={self.solver!r} the split is the one training reaches."
            )
        rng = check_random_state(self.random_state)
        # singular_values_ as for the closed forms; s_1 also sets the SGD step.
        s, _ = top_k_spectrum(X, self.n_components, random_state=rng)
        self.alpha_ = resolve_alpha(self.alpha, s, squared=True)
        X64 = as_float64(X)
        A0, B0 = self._random_start(X, self.init_scale, rng)
        q = self.dropout or 0.0
        name = f"{type(self).__name__}(solver={self.solver!r})"
        if self.solver == "lbfgs":
            lam = dropout_penalty_weights(self.alpha_, q, column_squared_norms(X64))
            # No SpectralPreconditioner: it changes the split training picks.
            A, B, n_iter, curve = fit_factors_lbfgs(
                X64,
                A0,
                B0,
                partial(product_penalty_loss_grad, lam=lam),
                max_iter=self.max_iter,
                tol=1e-7 if self.tol is None else self.tol,
                verbose=self.verbose,
                name=name,
                init_scale=self.init_scale,
                grad_scale=float(s[0]) ** 2,
            )
        else:
            A, B, n_iter, curve = dropout_sgd(
                X64,
                A0,
                B0,
                dropout=q,
                alpha=self.alpha_,
                max_iter=self.max_iter,
                tol=1e-4 if self.tol is None else self.tol,
                learning_rate=self.learning_rate,
                batch_size=min(self.batch_size, X.shape[0]),
                random_state=rng,
                top_singular_value=float(s[0]),
                verbose=self.verbose,
                name=name,
                init_scale=self.init_scale,
            )
        self.encoder_ = A.astype(X.dtype)
        self.decoder_ = B.astype(X.dtype)
        self.singular_values_ = s
        self.gauge_diagonal_ = np.ones(self.n_components)
        self.n_iter_ = n_iter
        self.loss_curve_ = np.asarray(curve)

    def _fit_expected_dropout_closed_form(self, X):
        """Closed form of the expected dropout loss (EDLAE): reduced-rank
        ridge regression.

        docs/user_guide/objectives.rst, "Exact dropout".
        """
        G = gram_matrix(X).astype(np.float64)
        s, _ = spectrum_from_gram(G, self.n_components, n_samples=X.shape[0])
        self.alpha_ = resolve_alpha(self.alpha, s, squared=True)
        q = self.dropout
        lam = dropout_penalty_weights(self.alpha_, q, np.diag(G))
        # Items with a zero penalty and no interactions make G + Lambda singular;
        # they get zero rows (minimum-norm solution).
        active = np.flatnonzero((lam > 0) | (np.diag(G) > 0))
        Ga = G[np.ix_(active, active)]
        C = Ga + np.diag(lam[active])
        W = scipy.linalg.solve(C, Ga, assume_a="pos", check_finite=False)
        M = Ga @ W
        M = (M + M.T) / 2
        k = min(self.n_components, active.size)
        w, Q = top_k_eigh(M, k)
        Q[:, w <= w.max(initial=0) * M.shape[0] * np.finfo(float).eps] = 0
        p = X.shape[1]
        A0 = np.zeros((p, self.n_components), dtype=X.dtype)
        B0 = np.zeros((p, self.n_components), dtype=X.dtype)
        A0[active, :k] = W @ Q
        B0[active, :k] = Q
        return A0, B0, s.astype(X.dtype)

    def _user_gauge(self):
        if isinstance(self.gauge, str):
            return None
        d = np.asarray(self.gauge)
        if d.dtype.kind not in "biuf":
            raise TypeError(
                f"gauge must be one of {SPLITS} or an array of numbers, got "
                f"an array of dtype {d.dtype}."
            )
        d = d.astype(np.float64)
        if d.shape != (self.n_components,):
            raise ValueError(
                f"gauge must have shape ({self.n_components},) (n_components), "
                f"got {d.shape}."
            )
        if not np.all(np.isfinite(d)) or np.any(d <= 0):
            raise ValueError("gauge must hold finite positive numbers.")
        if np.any(d < GAUGE_RANGE[0]) or np.any(d > GAUGE_RANGE[1]):
            # A R and B R^{-1} enter A^T A and B^T B (objective, projected
            # embeddings) squared: beyond this range they overflow to inf/NaN.
            raise ValueError(
                f"gauge must hold numbers between {GAUGE_RANGE[0]:g} and "
                f"{GAUGE_RANGE[1]:g}, got values from {d.min():.3g} to "
                f"{d.max():.3g}."
            )
        return d

    def _gauge(self, a, d):
        """Diagonal ``R`` of the requested split, from column norms ``a``."""
        positive = a > 0
        safe = np.where(positive, a, 1.0)
        if d is not None:
            return d
        if self.gauge == "identity":
            return np.ones_like(a)
        if self.gauge == "symmetric":
            return np.where(positive, safe**-0.5, 1.0)
        if self.gauge == "encoder":
            return np.where(positive, 1.0 / safe, 1.0)
        rng = check_random_state(self.random_state)
        return np.diag(sample_gauge("diagonal", a.shape[0], rng)).copy()

    def _penalty(self, X, P):
        # ||Lambda^(1/2) A B^T||^2 = sum((A^T Lambda A) * (B^T B)); Lambda = alpha I
        # for Objective 1, plus the dropout term of EDLAE.
        lam = dropout_penalty_weights(
            self.alpha_, self.dropout or 0.0, column_squared_norms(X)
        )
        return product_penalty(self.encoder_, self.decoder_, lam)
