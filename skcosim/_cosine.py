"""Objective 3: a linear autoencoder trained for cosine similarity."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    check_non_negative,
    check_random_state,
)

from ._base import _BaseLinearAutoencoder, squared_frobenius
from ._constraints import Count
from ._gradient import (
    as_float64,
    cosine_softmax_loss_grad,
    cosine_squared_loss_grad,
    minimize_lbfgs,
    normalize_rows,
    pack,
    resolve_batch_size,
    unpack,
)
from ._spectrum import top_k_spectrum
from ._weight_decay import WeightDecayAutoencoder

LOSSES = ("softmax", "squared")
INITS = ("weight_decay", "random")


def _softmax_rows(S):
    S = S - S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


class CosineAutoencoder(_BaseLinearAutoencoder):
    """Linear autoencoder trained for cosine similarity (Objective 3).

    The paper's first remedy (Steck, Ekanadham & Kallus, 2024): learn the
    embeddings with the cosine inside the loss. With ``P = N(X A)`` (user
    embeddings) and ``Q = N(B)`` (item embeddings), rows scaled to unit norm,
    ``P Q^T`` holds the user-item cosines, and one of two losses is
    minimized:

    - ``loss="softmax"``: a multinomial likelihood over items with cosine
      logits and temperature ``t``, as cosine-trained retrieval and
      recommendation models are trained::

          min_{A,B}  - sum_u sum_i x_ui log softmax_i( (P Q^T)_u / t )

    - ``loss="squared"``: the linear autoencoder with its output made a
      cosine, times the optimal scale ``c`` (found in closed form at every
      step)::

          min_{A,B,c}  ||X - c P Q^T||_F^2

    Normalizing inside the loss removes the diagonal gauge of Objective 1: a
    rescaling ``A D``, ``B D^{-1}`` changes the cosines and so the loss. Only
    rotations ``A R``, ``B R`` remain, and they keep every cosine. Both losses
    are non-convex, though: different starts reach near-equal losses with
    different neighbours (MATH.md, Objective 3). The default start, the
    Objective 2 closed form, makes the fit deterministic; measure what is left
    with :func:`skcosim.metrics.resample_stability` and friends.

    Parameters
    ----------
    n_components : int, default=10
        Dimension ``k`` of the embeddings.
    loss : {"softmax", "squared"}, default="softmax"
        The loss on the cosines, see above. The softmax loss treats each row
        of ``X`` as (unnormalized) counts over items, so it needs
        non-negative ``X`` (counts, binary interactions): negative entries
        raise a ``ValueError``. The squared loss takes any real ``X`` (e.g.
        mean-centred ratings).
    temperature : float, default=0.1
        Temperature ``t`` of the softmax loss (ignored by the squared loss).
    alpha : float, default=1.0
        Weight decay of the Objective 2 start (``init="weight_decay"``), in
        units of singular values, as in :class:`WeightDecayAutoencoder`. It is
        not a penalty of Objective 3: both losses are invariant to the norms
        of ``X A`` and of each row of ``B``, so an L2 penalty would only drive
        the norms towards zero without changing any cosine.
    max_iter : int, default=500
        Maximum number of L-BFGS iterations.
    tol : float, default=1e-6
        Stop when the relative decrease of the loss in one iteration falls
        below ``tol``, or the largest gradient entry below ``tol`` times its
        initial value.
    init : {"weight_decay", "random"}, default="weight_decay"
        Start from the Objective 2 closed form
        ``WeightDecayAutoencoder(n_components, alpha=alpha)`` (deterministic),
        or from standard normal factors drawn from ``random_state``.
    batch_size : int or "auto", default="auto"
        Users per block of the softmax loss: memory ``O(batch_size *
        n_features)``. ``"auto"`` takes blocks of about ``2**22`` entries
        (32 MB). The squared loss needs no blocks (it never forms an
        ``n_samples x n_features`` array) and ignores it.
    verbose : int, default=0
        ``1``: a progress bar if tqdm is installed, else one line per
        iteration; ``2``: one line per iteration.
    random_state : int, RandomState instance or None, default=None
        Seeds ``init="random"`` (the default start uses no randomness).
    warm_start : bool, default=False
        Start from the factors of the previous fit (same ``n_features`` and
        ``n_components``) instead of ``init``.

    Attributes
    ----------
    encoder_ : ndarray of shape (n_features, n_components)
        ``A``; user embeddings are ``X A`` (their directions enter the loss).
    decoder_ : ndarray of shape (n_features, n_components)
        ``N(B)``: the item embeddings, rows of unit norm. Items that no
        training user interacted with have a zero row.
    scale_ : float
        The fitted scale ``c`` of the squared loss (1.0 for the softmax loss).
    singular_values_ : ndarray of shape (n_components,)
        Top singular values of the training data (from the Objective 2 start,
        or computed with ARPACK for ``init="random"`` and warm starts).
    n_iter_ : int
        Number of L-BFGS iterations of the last fit.
    loss_curve_ : ndarray of shape (`n_iter_` + 1,)
        The training loss at the start and after each iteration.
    n_features_in_ : int
        Number of items seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the items seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    WeightDecayAutoencoder : Objective 2 closed form, unique cosines, the
        default start.
    DropoutAutoencoder : Objective 1, whose cosines are arbitrary.

    Notes
    -----
    Both losses are minimized by full-batch L-BFGS (scipy's ``L-BFGS-B``) with
    analytic gradients. The squared loss expands as in MATH.md, so each
    iteration costs ``O(nnz(X) k + (n + p) k^2)`` time and ``O((n + p) k)``
    memory; the softmax loss costs ``O(n p k)`` time and
    ``O(batch_size p + (n + p) k)`` memory. No ``n x p`` array is ever formed.

    The normalization is ``N(z) = z / sqrt(||z||^2 + 1e-24)``: ``z / ||z||``
    for any non-negligible row, and ``N(0) = 0``, so a user without
    interactions or an item without an embedding has cosine 0 with
    everything rather than NaN. Items without any interaction in the training
    data are held at a zero embedding (the data says nothing about them).

    :meth:`score` and :meth:`objective` report the loss chosen here, not the
    squared reconstruction error of the other autoencoders, and
    :meth:`inverse_transform` returns the model's reconstruction:
    ``c N(Z) N(B)^T`` (squared) or the softmax probabilities over items
    (softmax).

    References
    ----------
    .. [1] H. Steck, C. Ekanadham, N. Kallus. "Is Cosine-Similarity of
       Embeddings Really About Similarity?" WWW'24 Companion, 2024.
       arXiv:2403.05440.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import CosineAutoencoder
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(100, 30) < 0.2).astype(float)
    >>> model = CosineAutoencoder(n_components=5).fit(X)
    >>> model.transform(X).shape
    (100, 5)
    >>> np.allclose(np.linalg.norm(model.decoder_, axis=1), 1.0)
    True
    """

    _gauge_group = "orthogonal"

    _parameter_constraints: dict = {
        "n_components": [Count(1)],
        "loss": [StrOptions(set(LOSSES))],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "init": [StrOptions(set(INITS))],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        loss="softmax",
        temperature=0.1,
        alpha=1.0,
        max_iter=500,
        tol=1e-6,
        init="weight_decay",
        batch_size="auto",
        verbose=0,
        random_state=None,
        warm_start=False,
    ):
        self.n_components = n_components
        self.loss = loss
        self.temperature = temperature
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.batch_size = batch_size
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start

    # -- fitting -------------------------------------------------------------------

    def _check_X_for_loss(self, X):
        """Raise a ValueError for negative entries under the softmax loss.

        ``- sum_i x_ui log softmax_i`` is a multinomial likelihood: each row of
        ``X`` holds (unnormalized) counts over items, and a negative count is
        meaningless (it rewards the model for giving that item a low
        probability, without bound). The squared loss takes any real ``X``.
        """
        if self.loss == "softmax":
            check_non_negative(
                X,
                f"{type(self).__name__}(loss='softmax'), whose loss treats "
                "each row of X as counts over items; use loss='squared' for "
                "data with negative values (e.g. mean-centred ratings)",
            )

    def _fit(self, X):
        self._check_X_for_loss(X)
        n, p = X.shape
        k = self.n_components
        X64 = as_float64(X)
        A, B, s = self._start(X, X64)
        # Items nobody interacted with: no data about them, held at N(0) = 0
        # (the softmax loss would otherwise push them to cosine -1 with every
        # user through a 1/||b_i|| gradient).
        mass = np.asarray(abs(X64).sum(axis=0)).ravel()
        active = mass > 0
        B[~active] = 0.0
        # The softmax loss and its gradient are sums of x_ui cos / t.
        smallest = 2.0 * mass.sum() / np.finfo(np.float64).max
        if self.loss == "softmax" and self.temperature < smallest:
            raise ValueError(
                f"temperature={self.temperature:g} is too small for these data: "
                "the logits cosine / temperature, summed over the interactions, "
                "overflow float64. Raise temperature."
            )
        A, B = self._rescale(X64, A, B)

        batch_size = resolve_batch_size(self.batch_size, n, p)
        x_sq = squared_frobenius(X64)

        def fun(theta):
            A, B = unpack(theta, p, k)
            if self.loss == "squared":
                loss, dA, dB, _ = cosine_squared_loss_grad(X64, A, B, x_sq=x_sq)
            else:
                loss, dA, dB = cosine_softmax_loss_grad(
                    X64, A, B, temperature=self.temperature, batch_size=batch_size
                )
            dB[~active] = 0.0
            return loss, pack(dA, dB)

        theta, self.n_iter_, curve = minimize_lbfgs(
            fun,
            pack(A, B),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            name=type(self).__name__,
        )
        A, B = unpack(theta, p, k)
        scale = 1.0
        if self.loss == "squared":
            _, _, _, scale = cosine_squared_loss_grad(X64, A, B, x_sq=x_sq)
            if scale < 0:  # -c, -Q is the same fit with a positive scale
                scale, B = -scale, -B
        Q, _ = normalize_rows(B)
        self.encoder_ = A.astype(X.dtype)
        self.decoder_ = Q.astype(X.dtype)
        self.scale_ = float(scale)
        self.singular_values_ = s.astype(X.dtype)
        self.loss_curve_ = np.asarray(curve)

    def _start(self, X, X64):
        """Initial ``(A, B)`` in float64 and the top singular values of ``X``."""
        p = X.shape[1]
        k = self.n_components
        if (
            self.warm_start
            and hasattr(self, "encoder_")
            and self.encoder_.shape == (p, k)
        ):
            s, _ = self._spectrum(X)
            return (
                self.encoder_.astype(np.float64),
                self.decoder_.astype(np.float64),
                s,
            )
        if self.init == "random":
            rng = check_random_state(self.random_state)
            A = rng.standard_normal((p, k))
            B = rng.standard_normal((p, k))
            s, _ = self._spectrum(X)
            return A, B, s
        # Objective 2 closed form: deterministic, and its cosines are unique.
        start = WeightDecayAutoencoder(k, alpha=self.alpha).fit(X)
        A = start.encoder_.astype(np.float64)
        B = start.decoder_.astype(np.float64)
        if not np.any(B) and squared_frobenius(X64) > 0:
            raise ValueError(
                f"alpha={self.alpha} is at least the largest singular value of X "
                f"({float(start.singular_values_[0]):.4g}): the weight-decay start "
                "is zero. Lower alpha or use init='random'."
            )
        return A, B, start.singular_values_

    def _spectrum(self, X):
        # ARPACK keeps the memory at O((n + p) k) (top_k_spectrum falls back to
        # the Gram matrix when k is close to min(n, p), i.e. for small data).
        return top_k_spectrum(X, self.n_components, solver="arpack", random_state=0)

    @staticmethod
    def _rescale(X64, A, B):
        """Unit rows of ``B`` and user rows of unit mean norm: same loss.

        Both losses are invariant to the norm of ``X A`` and of each row of
        ``B``; rows of comparable norm keep the gradients through
        ``N(.)`` (which scale as ``1 / ||z||``) comparable: better conditioning
        for L-BFGS.
        """
        B, _ = normalize_rows(B)
        Z = X64 @ A
        norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
        mean = norms[norms > 0].mean() if np.any(norms > 0) else 1.0
        return A / mean, B

    def _penalty(self, X, P):
        # Objective 3 has no penalty term (see the alpha parameter).
        return 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The softmax loss rejects negative X (see _check_X_for_loss).
        tags.input_tags.positive_only = self.loss == "softmax"
        return tags

    # -- the model's own loss and reconstruction -----------------------------------

    def _objective(self, X):
        """The cosine loss on a validated ``X``: the softmax loss (negative
        multinomial log-likelihood) or ``||X - c N(X A) N(B)^T||^2`` with the
        fitted ``c`` (``scale_``), summed over all users, in blocks."""
        self._check_X_for_loss(X)
        X = as_float64(X)
        A = self.encoder_.astype(np.float64)
        B = self.decoder_.astype(np.float64)
        if self.loss == "softmax":
            batch_size = resolve_batch_size(self.batch_size, *X.shape)
            loss, _, _ = cosine_softmax_loss_grad(
                X, A, B, temperature=self.temperature, batch_size=batch_size
            )
            return float(loss)
        P, _ = normalize_rows(X @ A)
        Q, _ = normalize_rows(B)
        c = self.scale_
        cross = float(np.einsum("ij,ij->", P, X @ Q))
        quad = float(np.einsum("ij,ij->", P.T @ P, Q.T @ Q))
        return max(squared_frobenius(X) - 2.0 * c * cross + c * c * quad, 0.0)

    def score(self, X, y=None):
        """Negative training loss per user (higher is better).

        ``-objective(X) / n_samples``: the mean negative log-likelihood of the
        softmax loss, or the mean squared error of the squared loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interaction matrix.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return -self.objective(X) / X.shape[0]

    def inverse_transform(self, X):
        """The model's reconstruction from user embeddings ``Z = X A``.

        ``scale_ * N(Z) N(B)^T`` for the squared loss; for the softmax loss,
        ``softmax(N(Z) N(B)^T / t)`` row by row: each user's predicted
        distribution over items (multiply by the user's number of
        interactions to compare with counts). Dense ``n_samples x
        n_features``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            User embeddings, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.decoder_.shape[1]:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but {type(self).__name__} has "
                f"n_components={self.decoder_.shape[1]}: inverse_transform takes "
                "user embeddings as returned by transform."
            )
        P, _ = normalize_rows(Z.astype(np.float64))
        cosines = P @ self.decoder_.T.astype(np.float64)
        if self.loss == "squared":
            out = self.scale_ * cosines
        else:
            out = _softmax_rows(cosines / self.temperature)
        return out.astype(Z.dtype, copy=False)
