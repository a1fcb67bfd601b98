"""Objective 3: a linear autoencoder trained for cosine similarity."""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    check_non_negative,
    check_random_state,
)

from .._compat import Hidden, Interval, StrOptions
from .._constraints import Count
from .._docstring import (
    EXPLAINED_VARIANCE_RATIO_ATTRIBUTE,
    FEATURES_IN_ATTRIBUTES,
    PAPER_REFERENCE,
    Substitution,
)
from .._linalg import _dask
from .._linalg._matrix import squared_frobenius
from .._linalg._spectrum import shared_spectra, top_k_spectrum
from .._optim._lbfgs import SpectralPreconditioner, minimize_lbfgs
from .._optim._losses import (
    cosine_softmax_loss_grad,
    cosine_squared_loss_grad,
    normalize_rows,
    resolve_batch_size,
)
from .._optim._params import as_float64, pack, unpack
from .._optim._sampled_softmax import (
    ADAM_TOL,
    NegativeSampler,
    fit_adam,
    fit_lbfgs_resampled,
    item_popularity,
    sampled_batch_size,
    sampled_softmax_loss_grad,
    use_sampled_softmax,
)
from ._base import _BaseLinearAutoencoder
from ._weight_decay import WeightDecayAutoencoder

LOSSES = ("auto", "softmax", "sampled_softmax", "squared")
INITS = ("weight_decay", "random")


def _popularity_stats(X):
    return (
        item_popularity(X),
        int(np.count_nonzero(X.data < 0)),
        float(np.abs(X.data).sum()),
    )


def _norm_sum(X, A):
    """Sum of the nonzero norms of the rows of ``X A``, and how many there are."""
    Z = safe_sparse_dot(X, A, dense_output=True)
    norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
    return float(norms.sum()), int(np.count_nonzero(norms))


def _softmax_rows(S):
    S = S - S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


@Substitution(
    explained_variance_ratio_attribute=EXPLAINED_VARIANCE_RATIO_ATTRIBUTE,
    features_in_attributes=FEATURES_IN_ATTRIBUTES,
    paper_reference=PAPER_REFERENCE,
)
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
    different neighbours (:ref:`objective-3`). The default start, the
    Objective 2 closed form, makes the fit deterministic; measure what is left
    with :func:`skcosim.metrics.resample_stability` and friends.

    Parameters
    ----------
    n_components : int, default=10
        Dimension ``k`` of the embeddings.
    loss : {"auto", "softmax", "sampled_softmax", "squared"}, default="auto"
        The loss on the cosines, see above. ``"sampled_softmax"`` estimates
        the softmax's normalization from ``n_negatives`` sampled items with
        the logQ correction (:ref:`objective-3-at-scale`): ``O((nnz + n S)
        k)`` per pass instead of ``O(n p k)``. ``"auto"`` takes it when
        ``n_samples * n_features >= 1e8`` and there are at least
        ``4 * n_negatives`` items, the exact ``"softmax"`` otherwise. The
        softmax losses treat each row of ``X`` as (unnormalized) counts over
        items, so they need non-negative ``X`` (counts, binary
        interactions): negative entries raise a ``ValueError``. The squared
        loss takes any real ``X`` (e.g. mean-centred ratings).
    temperature : float, default=0.1
        Temperature ``t`` of the softmax loss (ignored by the squared loss).
    init_alpha : float, default=1.0
        Weight decay of the Objective 2 start (``init="weight_decay"``), in
        units of singular values, as in :class:`WeightDecayAutoencoder`. It is
        not a penalty of Objective 3: both losses are invariant to the norms
        of ``X A`` and of each row of ``B``, so an L2 penalty would only drive
        the norms towards zero without changing any cosine.
    max_iter : int, default=500
        Maximum number of L-BFGS iterations; for the sampled softmax,
        maximum number of epochs (passes over the users) of minibatch Adam.
    tol : float, default=1e-6
        Stop when the relative decrease of the loss in one iteration falls
        below ``tol``, or the largest gradient entry below ``tol`` times its
        initial value. The sampled softmax in memory has its own rule (a
        stalled evaluation loss, see :ref:`objective-3-at-scale`); on a dask
        array it stops when a round of L-BFGS lowers its sample's loss by
        less than ``tol`` per iteration.
    init : {"weight_decay", "random"}, default="weight_decay"
        Start from the Objective 2 closed form
        ``WeightDecayAutoencoder(n_components, alpha=init_alpha)`` (deterministic),
        or from standard normal factors drawn from ``random_state``.
    n_negatives : int, default=1024
        Draws of negatives per step of the sampled softmax (with
        replacement, a fresh sample every step).
    sampling_exponent : float, default=0.5
        Negatives are drawn with probability proportional to
        ``popularity ** sampling_exponent`` (popularity: number of users).
    learning_rate : float, default=0.3
        Step of Adam on the sampled softmax, relative to the root-mean-square
        of each factor at the start; halved when the evaluation loss stalls.
    batch_size : int or "auto", default="auto"
        Users per block of the softmax loss: memory ``O(batch_size *
        n_features)``. ``"auto"`` takes blocks of about ``2**22`` entries
        (32 MB). The squared loss needs no blocks (it never forms an
        ``n_samples x n_features`` array) and ignores it.
    verbose : int, default=0
        ``1``: a progress bar if tqdm is installed, else one line per
        iteration; ``2``: one line per iteration.
    random_state : int, RandomState instance or None, default=None
        Seeds ``init="random"`` and the negatives and minibatches of the
        sampled softmax (the default start uses no randomness).
    warm_start : bool, default=False
        Start from the factors of the previous fit (same ``n_features`` and
        ``n_components``) instead of ``init``.
    alpha : float, default="deprecated"
        The former name of ``init_alpha``; when set, its value is used.

        .. deprecated:: 0.1
           ``alpha`` was renamed ``init_alpha`` in 0.1 and will be removed in
           0.3: it is the weight decay of the start, not a penalty of the loss.

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
    components_ : ndarray of shape (n_components, n_features)
        Right singular vectors of the rank-``k`` part of the model's
        reconstruction of the training data, ``scale_ N(X A) B^T`` (the
        cosines themselves for the softmax loss), as in
        :class:`~sklearn.decomposition.TruncatedSVD`; the same for every
        rotation. Rows beyond its rank are zero.
    explained_variance_ : ndarray of shape (n_components,)
        Variance over the training users of that reconstruction projected on
        each component (not TruncatedSVD's: cosines have their own scale).
    {explained_variance_ratio_attribute}
    loss_ : str
        The loss of the last fit (what ``loss="auto"`` resolved to).
    n_iter_ : int
        Number of L-BFGS iterations (epochs for the sampled softmax) of the
        last fit.
    loss_curve_ : ndarray of shape (`n_iter_` + 1,)
        The training loss at the start and after each iteration; for the
        sampled softmax, the loss per interaction of the fixed evaluation set
        after each epoch (on Dask: the loss at the end of each L-BFGS round).
    {features_in_attributes}

    See Also
    --------
    WeightDecayAutoencoder : Objective 2 closed form, unique cosines, the
        default start.
    DropoutAutoencoder : Objective 1, whose cosines are arbitrary.

    Notes
    -----
    The exact losses are minimized by full-batch L-BFGS (scipy's
    ``L-BFGS-B``) with analytic gradients. The squared loss expands as in
    :ref:`losses-in-k-dimensions`, so each
    iteration costs ``O(nnz(X) k + (n + p) k^2)`` time and ``O((n + p) k)``
    memory; the softmax loss costs ``O(n p k)`` time and
    ``O(batch_size p + (n + p) k)`` memory. The sampled softmax runs
    minibatch Adam with a fresh sample of negatives at every step (a fixed
    sample would be overfitted): ``O((nnz + n S) k)`` per epoch and one
    block of about 260,000 logits in memory. No ``n x p`` array is ever
    formed.

    ``X`` may be a row-chunked :mod:`dask.array` (numpy or scipy.sparse
    chunks) for the softmax losses: the loss and its gradients are summed
    over the blocks as one Dask computation per evaluation, the sampled
    softmax by L-BFGS restarted on a new sample every 5 iterations.

    The normalization is ``N(z) = z / sqrt(||z||^2 + 1e-24)``: ``z / ||z||``
    for any non-negligible row, and ``N(0) = 0``, so a user without
    interactions or an item without an embedding has cosine 0 with
    everything rather than NaN. Items without any interaction in the training
    data are held at a zero embedding (the data says nothing about them).

    :meth:`reconstruction_loss` and :meth:`objective` report the loss chosen
    here, not the squared reconstruction error of the other autoencoders, and
    :meth:`inverse_transform` returns the model's reconstruction:
    ``c N(Z) N(B)^T`` (squared) or the softmax probabilities over items
    (softmax).

    References
    ----------
    {paper_reference}

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

    # The unit rows N(B) are what the cosine logits use; the projected rows
    # are not the cosine the model was trained for.
    _default_embedding = "decoder"

    _parameter_constraints: dict = {
        "n_components": [Count(1)],
        "loss": [StrOptions(set(LOSSES))],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "init_alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "alpha": [
            Interval(numbers.Real, 0, None, closed="left"),
            Hidden(StrOptions({"deprecated"})),
        ],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "init": [StrOptions(set(INITS))],
        "n_negatives": [Interval(numbers.Integral, 1, None, closed="left")],
        "sampling_exponent": [Interval(numbers.Real, 0, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
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
        loss="auto",
        temperature=0.1,
        init_alpha=1.0,
        max_iter=500,
        tol=1e-6,
        init="weight_decay",
        n_negatives=1024,
        sampling_exponent=0.5,
        learning_rate=0.3,
        batch_size="auto",
        verbose=0,
        random_state=None,
        warm_start=False,
        alpha="deprecated",
    ):
        self.n_components = n_components
        self.loss = loss
        self.temperature = temperature
        self.init_alpha = init_alpha
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.n_negatives = n_negatives
        self.sampling_exponent = sampling_exponent
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start
        self.alpha = alpha

    # -- fitting -------------------------------------------------------------------

    def _resolved_loss(self, n_samples, n_features):
        """The loss that ``loss="auto"`` stands for on data of this shape."""
        if self.loss != "auto":
            return self.loss
        if use_sampled_softmax(n_samples, n_features, self.n_negatives):
            return "sampled_softmax"
        return "softmax"

    def _check_X_for_loss(self, X, loss):
        """Raise a ValueError for negative entries under a softmax loss.

        ``- sum_i x_ui log softmax_i`` is a multinomial likelihood: each row of
        ``X`` holds (unnormalized) counts over items, and a negative count is
        meaningless (it rewards the model for giving that item a low
        probability, without bound). The squared loss takes any real ``X``.
        """
        if loss != "squared":
            check_non_negative(
                X,
                f"{type(self).__name__}(loss={loss!r}), whose loss treats "
                "each row of X as counts over items; use loss='squared' for "
                "data with negative values (e.g. mean-centred ratings)",
            )

    def _fit(self, X):
        init_alpha = self._resolved_init_alpha()
        loss = self._resolved_loss(*X.shape)
        on_dask = _dask.is_dask_array(X)
        if on_dask and loss == "squared":
            raise ValueError(
                "CosineAutoencoder(loss='squared') needs X in memory (its optimal "
                "scale couples all users); a dask array fits the softmax losses."
            )
        X64 = X if on_dask else as_float64(X)
        popularity, mass = self._popularity(X64, loss)
        # The start and the preconditioner share one top-k spectrum.
        with shared_spectra():
            A, B, s = self._start(
                X, init_alpha=init_alpha, has_data=bool(popularity.any())
            )
            if loss != "sampled_softmax":
                whiten = SpectralPreconditioner(*self._spectrum(X))
        # Items nobody interacted with: no data about them, held at N(0) = 0
        # (the softmax loss would otherwise push them to cosine -1 with every
        # user through a 1/||b_i|| gradient).
        active = popularity > 0
        B[~active] = 0.0
        # The softmax loss and its gradient are sums of x_ui cos / t.
        smallest = 2.0 * mass / np.finfo(np.float64).max
        if loss != "squared" and self.temperature < smallest:
            raise ValueError(
                f"temperature={self.temperature:g} is too small for these data: "
                "the logits cosine / temperature, summed over the interactions, "
                "overflow float64. Raise temperature."
            )
        A, B = self._rescale(X64, A, B)
        if loss == "sampled_softmax":
            A, B, self.n_iter_, curve = self._fit_sampled(X64, A, B, popularity)
        else:
            A, B, self.n_iter_, curve = self._fit_lbfgs(X64, A, B, active, loss, whiten)
        scale = 1.0
        if loss == "squared":
            _, _, _, scale = cosine_squared_loss_grad(X64, A, B)
            if scale < 0:  # -c, -Q is the same fit with a positive scale
                scale, B = -scale, -B
        Q, _ = normalize_rows(B)
        self.loss_ = loss
        self.encoder_ = A.astype(X.dtype)
        self.decoder_ = Q.astype(X.dtype)
        self.scale_ = float(scale)
        self.singular_values_ = s.astype(X.dtype)
        self.loss_curve_ = np.asarray(curve)

    def _popularity(self, X, loss):
        """Users per item and the sum of ``|X|``, after :meth:`_check_X_for_loss`
        (one pass over the blocks of a dask array, which counts the negative
        entries too)."""
        if not _dask.is_dask_array(X):
            self._check_X_for_loss(X, loss)
            return item_popularity(X), float(abs(X).sum())
        popularity, n_negative, mass = _dask.sum_over_blocks(X, _popularity_stats)
        if n_negative:
            self._check_X_for_loss(sp.csr_matrix(([-1.0], ([0], [0]))), loss)
        return popularity, mass

    def _softmax_loss_grad(self, X, loss):
        """``(A, B, sample) -> (loss, dA, dB)`` of a softmax loss over all users
        of ``X``: in memory, or summed over the row blocks of a dask array."""
        t = self.temperature
        if loss == "sampled_softmax":

            def block(Xb, A, B, sample):
                batch = sampled_batch_size(self.n_negatives, Xb.shape[0])
                return sampled_softmax_loss_grad(
                    Xb, A, B, temperature=t, sample=sample, batch_size=batch
                )
        else:

            def block(Xb, A, B, sample):
                batch = resolve_batch_size(self.batch_size, *Xb.shape)
                return cosine_softmax_loss_grad(
                    Xb, A, B, temperature=t, batch_size=batch
                )

        if _dask.is_dask_array(X):
            return functools.partial(_dask.sum_over_blocks, X, block)
        return functools.partial(block, X)

    def _fit_lbfgs(self, X64, A, B, active, loss, whiten):
        """Full-batch L-BFGS on the exact softmax or the squared loss.

        In the coordinates ``A = M A'`` of ``whiten`` (a
        :class:`~skcosim._optim._lbfgs.SpectralPreconditioner`): the losses see
        ``A`` through ``X A``, whose curvature spans ``(s_1 / s_k)^2``.
        """
        p, k = A.shape
        if loss == "squared":
            x_sq = squared_frobenius(X64)

            def loss_grad(A, B, sample):
                return cosine_squared_loss_grad(X64, A, B, x_sq=x_sq)[:3]
        else:
            loss_grad = self._softmax_loss_grad(X64, loss)

        def fun(theta):
            A_white, B = unpack(theta, p, k)
            value, dA, dB = loss_grad(whiten.apply(A_white), B, None)
            dB[~active] = 0.0
            return value, pack(whiten.apply(dA), dB)  # M is symmetric

        theta, n_iter, curve = minimize_lbfgs(
            fun,
            pack(whiten.solve(A), B),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            name=type(self).__name__,
        )
        A_white, B = unpack(theta, p, k)
        return whiten.apply(A_white), B, n_iter, curve

    def _fit_sampled(self, X64, A, B, popularity):
        """The sampled softmax (docs/user_guide/objectives.rst): minibatch Adam
        in memory; on a dask array, where a step is a pass over the blocks,
        L-BFGS restarted on each new sample."""
        common = dict(
            n_negatives=self.n_negatives,
            exponent=self.sampling_exponent,
            max_iter=self.max_iter,
            random_state=check_random_state(self.random_state),
            verbose=self.verbose,
            name=type(self).__name__,
        )
        if _dask.is_dask_array(X64):
            fit = fit_lbfgs_resampled(
                self._softmax_loss_grad(X64, "sampled_softmax"),
                A,
                B,
                popularity=popularity,
                active=popularity > 0,
                tol=self.tol,
                **common,
            )
        else:
            fit = fit_adam(
                sp.csr_matrix(X64),
                A,
                B,
                temperature=self.temperature,
                learning_rate=self.learning_rate,
                tol=ADAM_TOL,
                **common,
            )
        return fit.A, fit.B, fit.n_iter, fit.loss_curve

    def _start(self, X, *, init_alpha, has_data):
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
        start = WeightDecayAutoencoder(k, alpha=init_alpha).fit(X)
        A = start.encoder_.astype(np.float64)
        B = start.decoder_.astype(np.float64)
        if not np.any(B) and has_data:
            raise ValueError(
                f"init_alpha={init_alpha} is at least the largest singular value "
                f"of X ({float(start.singular_values_[0]):.4g}): the weight-decay "
                "start is zero. Lower init_alpha or use init='random'."
            )
        return A, B, start.singular_values_

    # TODO(0.3): remove with the alpha parameter.
    def _resolved_init_alpha(self):
        """``init_alpha``, or the deprecated ``alpha`` when it is set."""
        if isinstance(self.alpha, str) and self.alpha == "deprecated":
            return self.init_alpha
        warnings.warn(
            "The parameter 'alpha' of CosineAutoencoder was renamed 'init_alpha' "
            "in version 0.1 and will be removed in 0.3: it is the weight decay "
            "of the Objective 2 start, not a penalty of the loss. Its value is "
            "used; pass init_alpha instead.",
            FutureWarning,
            stacklevel=2,
        )
        return self.alpha

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
        if _dask.is_dask_array(X64):
            total, count = _dask.sum_over_blocks(X64, _norm_sum, A)
        else:
            total, count = _norm_sum(X64, A)
        return A / (total / count if count else 1.0), B

    def _penalty(self, X, P):
        # Objective 3 has no penalty term (see the init_alpha parameter).
        return 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The softmax losses reject negative X (see _check_X_for_loss).
        tags.input_tags.positive_only = self.loss != "squared"
        return tags

    # -- the model's own loss and reconstruction -----------------------------------

    def _objective(self, X):
        """The cosine loss on a validated ``X``: the softmax loss (negative
        multinomial log-likelihood) or ``||X - c N(X A) N(B)^T||^2`` with the
        fitted ``c`` (``scale_``), summed over all users, in blocks.

        The sampled softmax is evaluated on one fixed sample of negatives
        (drawn from ``numpy.random.default_rng(0)``): a deterministic
        estimate of the full softmax loss at ``O((nnz + n S) k)`` cost."""
        A = self.encoder_.astype(np.float64)
        B = self.decoder_.astype(np.float64)
        if self.loss_ != "squared":
            if not _dask.is_dask_array(X):
                X = as_float64(X)
            popularity, _ = self._popularity(X, self.loss_)
            sample = None
            if self.loss_ == "sampled_softmax":
                # Not the stream of any random_state: never a training sample.
                rng = np.random.default_rng(0)
                sample = NegativeSampler(
                    popularity, self.n_negatives, self.sampling_exponent, rng
                ).draw()
            return float(self._softmax_loss_grad(X, self.loss_)(A, B, sample)[0])
        self._check_X_for_loss(X, self.loss_)
        X = as_float64(X)
        P, _ = normalize_rows(X @ A)
        Q, _ = normalize_rows(B)
        c = self.scale_
        cross = float(np.einsum("ij,ij->", P, X @ Q))
        quad = float(np.einsum("ij,ij->", P.T @ P, Q.T @ Q))
        return max(squared_frobenius(X) - 2.0 * c * cross + c * c * quad, 0.0)

    def reconstruction_loss(self, X):
        """The cosine loss per user (lower is better).

        ``objective(X) / n_samples``: the mean negative log-likelihood of the
        softmax loss, or the mean squared error of the squared loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interaction matrix.

        Returns
        -------
        loss : float
        """
        return self.objective(X) / X.shape[0]

    def _reconstruction_factors(self, P):
        # The rank-k part of the reconstruction: c N(X A) N(B)^T (the
        # softmax's logits times t for the softmax loss, where c = 1).
        return self.scale_ * normalize_rows(P)[0], self.decoder_

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
        if self.loss_ == "squared":
            out = self.scale_ * cosines
        else:
            out = _softmax_rows(cosines / self.temperature)
        return out.astype(Z.dtype, copy=False)
