"""Objective 3: a linear autoencoder trained for cosine similarity."""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    check_non_negative,
    check_random_state,
)

from .._compat import Interval, StrOptions
from .._constraints import Count
from .._docstring import (
    FEATURES_IN_ATTRIBUTES,
    PAPER_REFERENCE,
    Substitution,
)
from .._linalg import _dask
from .._linalg._matrix import squared_frobenius
from .._linalg._spectrum import (
    _single_threaded_blas,
    shared_spectra,
    top_k_spectrum,
)
from .._optim._checks import MIN_GAIN
from .._optim._lbfgs import SpectralPreconditioner, minimize_lbfgs
from .._optim._losses import (
    NORM_FLOOR,
    cosine_softmax_loss_grad,
    cosine_squared_loss_grad,
    floored_unit_rows,
    resolve_batch_size,
)
from .._optim._params import as_float64, pack, unpack
from .._optim._sampled_blocks import fit_adam_blocks
from .._optim._sampled_softmax import (
    ADAM_TOL,
    STEP_DTYPE,
    fit_adam,
    use_sampled_softmax,
)
from .._validation import LOG_WARNING_MATCH, item_popularity
from ._alpha import resolve_alpha
from ._base import _BaseLinearAutoencoder
from ._weight_decay import WeightDecayAutoencoder

LOSSES = ("auto", "softmax", "sampled_softmax", "squared")
INITS = ("weight_decay", "random")

#: The components the Objective 2 start cuts (``s_i <= init_alpha``) enter it
#: at this share of the kept components' root-mean-square scale: zero columns of both
#: factors would get a zero gradient forever (a saddle), and small ones keep
#: the start's cosines close to Objective 2's.
START_FILL = 0.1


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


#: Smallest temperature of the sampled softmax. Its steps run in float32 and
#: add the logQ correction, of order 1, to logits of size 1 / temperature:
#: below this, rounding a logit costs more than 1 % of that correction (and
#: far below, the estimated partition function turns negative: a NaN loss).
SAMPLED_MIN_TEMPERATURE = 100 * float(np.finfo(STEP_DTYPE).eps)


def _check_temperature(temperature, loss, mass):
    """Refuse a temperature whose logits the loss cannot represent.

    The softmax loss and its gradient are sums of ``x_ui cos / t`` (``mass``
    is the sum of ``|X|``): beyond float64 they overflow. The sampled softmax
    needs more room, :data:`SAMPLED_MIN_TEMPERATURE`.
    """
    if loss == "squared":
        return
    if temperature < 2.0 * mass / np.finfo(np.float64).max:
        raise ValueError(
            f"temperature={temperature:g} is too small for these data: the "
            "logits cosine / temperature, summed over the interactions, "
            "overflow float64. Raise temperature."
        )
    if loss == "sampled_softmax" and temperature < SAMPLED_MIN_TEMPERATURE:
        raise ValueError(
            f"temperature={temperature:g} is too small for "
            "loss='sampled_softmax': its float32 steps round the logits "
            "cosine / temperature by more than the sampling correction they "
            f"carry below temperature={SAMPLED_MIN_TEMPERATURE:.3g}. Raise "
            "temperature, or use loss='softmax' (exact, in float64)."
        )


class _RecordedConvergence:
    """Records the ``ConvergenceWarning`` of a fit and lets every warning through.

    ``message`` is the text of the last ``ConvergenceWarning`` raised inside
    (``None`` without one): the fit stores it as ``fit_warning_``.
    """

    def __enter__(self):
        self.message = None
        self._catch = warnings.catch_warnings(record=True)
        self._caught = self._catch.__enter__()
        warnings.simplefilter("always", ConvergenceWarning)
        return self

    def __exit__(self, *exc_info):
        self._catch.__exit__(*exc_info)
        for w in self._caught:
            if issubclass(w.category, ConvergenceWarning):
                self.message = " ".join(str(w.message).split())
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return False


def _softmax_rows(S):
    S = S - S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


@Substitution(
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
        ``n_samples * n_features >= 5e7`` (one exact evaluation then costs
        ``5e7 k`` multiply-adds, and L-BFGS needs hundreds), whatever the
        number of items, the exact ``"softmax"`` otherwise. The
        softmax losses treat each row of ``X`` as (unnormalized) counts over
        items, so they need non-negative ``X`` (counts, binary
        interactions): negative entries raise a ``ValueError``. The squared
        loss takes any real ``X`` (e.g. mean-centred ratings).
    temperature : float, default=0.1
        Temperature ``t`` of the softmax loss (ignored by the squared loss).
        Too small for the logits ``cosine / t`` of the data (their sum over
        the interactions overflows float64) is a ``ValueError``; the sampled
        softmax, whose steps run in float32, needs ``t`` of at least about
        ``1.2e-5``.
    init_alpha : float or "auto", default=1.0
        Weight decay of the Objective 2 start (``init="weight_decay"``), in
        units of singular values, as in :class:`WeightDecayAutoencoder`;
        ``"auto"`` is that class's ``alpha="auto"`` rule (:ref:`alpha-auto`),
        and the value used is ``init_alpha_``. It is
        not a penalty of Objective 3: both losses are invariant to the norms
        of ``X A`` and of each row of ``B``, so an L2 penalty would only drive
        the norms towards zero without changing any cosine.
    max_iter : int, default=500
        Maximum number of L-BFGS iterations; for the sampled softmax,
        maximum number of epochs (passes over the users) of minibatch Adam.
    tol : float, default=1e-6
        Stop when the relative decrease of the loss in one iteration falls
        below ``tol``, or the largest gradient entry below ``tol`` times its
        initial value. The sampled softmax has its own rule (a stalled
        evaluation loss, see :ref:`objective-3-at-scale`).
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
        An exponent that gives the least popular items a probability whose
        importance weight ``1 / (n_negatives * probability)`` overflows
        float32 is a ``ValueError``.
    learning_rate : float, default=0.3
        Step of Adam on the sampled softmax, relative to the root-mean-square
        of each factor at the start; halved when the evaluation loss stalls.
    batch_size : int or "auto", default="auto"
        Users per block of the softmax losses, which changes memory, not the
        result: memory ``O(batch_size * n_features)`` for the exact softmax
        (``"auto"``: blocks of about ``2**22`` entries, 32 MB) and
        ``O(batch_size * n_negatives)`` for the sampled softmax (``"auto"``:
        about ``2**18`` logits, 2 MB; its Adam minibatches are a separate,
        fixed size). The squared loss needs no blocks (it never forms an
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

    Attributes
    ----------
    encoder_ : ndarray of shape (n_features, n_components)
        ``A``; user embeddings are ``X A`` (their directions enter the loss).
    decoder_ : ndarray of shape (n_features, n_components)
        ``N(B)``: the item embeddings, rows of unit norm. Items that no
        training user interacted with (no nonzero value in their column; a
        stored 0.0 is not an interaction) have exactly zero rows here and
        in ``encoder_``, whatever the loss and start.
    scale_ : float
        The fitted scale ``c`` of the squared loss (1.0 for the softmax loss).
    init_alpha_ : float
        ``init_alpha``, or the value ``"auto"`` resolved to on the training
        data (singular values; computed also when the start does not use it).
    singular_values_ : ndarray of shape (n_components,)
        Top singular values of the training data (from the Objective 2 start,
        or computed with ARPACK for ``init="random"`` and warm starts).
    components_ : ndarray of shape (n_components, n_features)
        Right singular vectors of the rank-``k`` part of the model's
        reconstruction of the training data, ``scale_ N(X A) N(B)^T`` (the
        cosines themselves for the softmax loss), as in
        :class:`~sklearn.decomposition.TruncatedSVD`; the same for every
        rotation. Rows beyond its rank are zero.
    explained_variance_ : ndarray of shape (n_components,)
        Variance over the training users of ``X`` projected on each
        component, as TruncatedSVD computes its own
        (``np.var(X @ components_.T, axis=0)``): how much of the data lies in
        each direction the model reconstructs. Not the variance of the
        reconstruction itself, whose cosines have their own scale. In the
        order of ``components_`` (the reconstruction's singular values), so
        not necessarily decreasing.
    explained_variance_ratio_ : ndarray of shape (n_components,)
        ``explained_variance_`` over the total variance of the training data:
        each in ``[0, 1]``, and since the components are orthonormal their
        sum, the share of the variance of ``X`` in the span of
        ``components_``, is at most 1.
    loss_used_ : str
        The name of the loss the last fit minimized: ``loss``, or what
        ``loss="auto"`` resolved to. The values of the loss are
        ``loss_curve_``.
    n_iter_ : int
        Number of L-BFGS iterations of the last fit; for the sampled softmax,
        the epoch whose factors were returned (the one with the lowest
        evaluation loss; later epochs that did not improve on it are not
        counted).
    loss_curve_ : ndarray of shape (`n_iter_` + 1,)
        The training loss at the start and after each iteration, ending at
        the returned model's; for the sampled softmax, the loss per
        interaction of the fixed evaluation set after each epoch up to the
        returned one.
    fit_warning_ : str or None
        The ``ConvergenceWarning`` of the last fit, if it raised one: stopped
        at ``max_iter``, or stopped close to its start (see Notes). ``None``
        when the fit converged. The command line shows it as a note.
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
    chunks) for the softmax losses: the exact loss and its gradients are
    summed over the blocks as one Dask computation per evaluation; the
    sampled softmax runs its minibatch Adam block by block (each epoch visits
    the blocks in a random order, the factors travel, the blocks stay where
    they are).

    The losses normalize with a floor, ``N(z) = z / max(||z||, f)``, ``f``
    one thousandth of the mean nonzero row norm of the start (the fit scales
    ``X A`` and ``B`` to mean row norm 1, so ``f = 1e-3``): ``z / ||z||`` for
    every row above it, and ``N(0) = 0``, so a user without interactions or
    an item without an embedding has cosine 0 with everything rather than
    NaN. A user whose start embedding is zero (their items carry no
    component of the start) thus gets a gradient ``1e3`` times its
    unnormalized one, not ``1e12`` (which stalled the fit on long-tailed
    logs). Items without any interaction in the training data are held at a
    zero embedding (the data says nothing about them).

    The default start is the Objective 2 closed form with the components it
    cuts (``s_i <= init_alpha``) put back at a tenth of the kept ones' scale:
    a cut column is zero in both factors, where the gradient is zero too, so
    the fit could never use it. A fit that stops without its gradient test
    having seen convergence warns (``ConvergenceWarning``, also stored in
    ``fit_warning_``) when its loss fell by less than 1 % of its start's, or
    its relative gradient ``||g|| ||theta|| / |loss|`` is still above 1, as
    does one stopped at ``max_iter``; warm starts are not checked for gain.
    With a softmax loss, :meth:`recommend` and :meth:`score` rank items by
    the logits ``cos / t``, not by probabilities that underflow at low
    temperatures.

    :meth:`reconstruction_loss` and :meth:`objective` report the loss chosen
    here, not the squared reconstruction error of the other autoencoders, and
    :meth:`inverse_transform` returns the model's reconstruction:
    ``c N(Z) N(B)^T`` (squared) or the softmax probabilities over items
    (softmax). For ``loss="sampled_softmax"`` they report the exact softmax
    loss that the sampled one estimates (``O(n p k)`` once, ``batch_size``
    users at a time, each user's partition function in float32 like the
    fit's steps: within about ``1e-7 / t`` per interaction): a sum over
    users, comparable with an exact fit's, and not the sampled estimate of
    ``loss_curve_``.

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
    # Its reconstruction is on the cosines' scale: explain X's own variance.
    _explained_variance_of = "data"

    # The unit rows N(B) are what the cosine logits use; the projected rows
    # are not the cosine the model was trained for.
    _default_embedding = "decoder"

    _parameter_constraints: dict = {
        "n_components": [Count(1)],
        "loss": [StrOptions(set(LOSSES))],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "init_alpha": [
            Interval(numbers.Real, 0, None, closed="left"),
            StrOptions({"auto"}),
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

    # -- fitting -------------------------------------------------------------------

    def _resolved_loss(self, n_samples, n_features):
        """The loss that ``loss="auto"`` stands for on data of this shape."""
        if self.loss != "auto":
            return self.loss
        if use_sampled_softmax(n_samples, n_features):
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
        init_alpha = self.init_alpha
        loss = self._resolved_loss(*X.shape)
        on_dask = _dask.is_dask_array(X)
        if on_dask and loss == "squared":
            raise ValueError(
                "CosineAutoencoder(loss='squared') needs X in memory (its optimal "
                "scale couples all users); a dask array fits the softmax losses."
            )
        X64 = X if on_dask else as_float64(X)
        popularity, mass = self._popularity(X64, loss)
        min_gain = self._min_gain(self._continues(X))
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
        _check_temperature(self.temperature, loss, mass)
        A, B = self._rescale(X64, A, B)
        with _RecordedConvergence() as record:
            if loss == "sampled_softmax":
                A, B, self.n_iter_, curve = self._fit_sampled(
                    X64, A, B, popularity, min_gain
                )
            else:
                A, B, self.n_iter_, curve = self._fit_lbfgs(
                    X64, A, B, active, loss, whiten, min_gain
                )
        self.fit_warning_ = record.message
        scale = 1.0
        if loss == "squared":
            _, _, _, scale = cosine_squared_loss_grad(X64, A, B, floor=NORM_FLOOR)
            if scale < 0:  # -c, -Q is the same fit with a positive scale
                scale, B = -scale, -B
        Q, _ = floored_unit_rows(B, NORM_FLOOR)
        self.loss_used_ = loss
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

    def _softmax_loss_grad(self, X):
        """``(A, B, sample) -> (loss, dA, dB)`` of the exact softmax loss over
        all users of ``X``: in memory, or summed over the row blocks of a dask
        array (the sampled softmax has its own solvers)."""
        t = self.temperature

        def block(Xb, A, B, sample):
            batch = resolve_batch_size(self.batch_size, *Xb.shape)
            return cosine_softmax_loss_grad(
                Xb, A, B, temperature=t, batch_size=batch, floor=NORM_FLOOR
            )

        if _dask.is_dask_array(X):
            return functools.partial(_dask.sum_over_blocks, X, block)
        return functools.partial(block, X)

    def _fit_lbfgs(self, X64, A, B, active, loss, whiten, min_gain):
        """Full-batch L-BFGS on the exact softmax or the squared loss.

        In the coordinates ``A = M A'`` of ``whiten`` (a
        :class:`~skcosim._optim._lbfgs.SpectralPreconditioner`): the losses see
        ``A`` through ``X A``, whose curvature spans ``(s_1 / s_k)^2``.
        """
        p, k = A.shape
        if loss == "squared":
            x_sq = squared_frobenius(X64)

            def loss_grad(A, B, sample):
                return cosine_squared_loss_grad(X64, A, B, x_sq=x_sq, floor=NORM_FLOOR)[
                    :3
                ]
        else:
            loss_grad = self._softmax_loss_grad(X64)

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
            min_gain=min_gain,
        )
        A_white, B = unpack(theta, p, k)
        return whiten.apply(A_white), B, n_iter, curve

    def _fit_sampled(self, X64, A, B, popularity, min_gain):
        """The sampled softmax (docs/user_guide/objectives.rst): minibatch
        Adam, in memory or block by block on a dask array."""
        common = dict(
            n_negatives=self.n_negatives,
            exponent=self.sampling_exponent,
            max_iter=self.max_iter,
            random_state=check_random_state(self.random_state),
            verbose=self.verbose,
            name=type(self).__name__,
            temperature=self.temperature,
            learning_rate=self.learning_rate,
            tol=ADAM_TOL,
            floor=NORM_FLOOR,
            min_gain=min_gain,
            batch_size=self.batch_size,
        )
        if _dask.is_dask_array(X64):
            fit = fit_adam_blocks(X64, A, B, popularity=popularity, **common)
        else:
            fit = fit_adam(sp.csr_matrix(X64), A, B, **common)
        return fit.A, fit.B, fit.n_iter, fit.loss_curve

    def _continues(self, X):
        """Whether this fit starts from the previous one (``warm_start``)."""
        shape = (X.shape[1], self.n_components)
        return bool(
            self.warm_start
            and hasattr(self, "encoder_")
            and self.encoder_.shape == shape
        )

    def _min_gain(self, warm):
        """The gain below which a fit warns (:data:`~skcosim._optim._checks.MIN_GAIN`);
        none for a warm start, which may begin at a solution."""
        return None if warm else MIN_GAIN

    def _start(self, X, *, init_alpha, has_data):
        """Initial ``(A, B)`` in float64 and the top singular values of ``X``."""
        if self._continues(X):
            s, _ = self._spectrum(X)
            self.init_alpha_ = resolve_alpha(init_alpha, s)
            return (
                self.encoder_.astype(np.float64),
                self.decoder_.astype(np.float64),
                s,
            )
        p, k = X.shape[1], self.n_components
        if self.init == "random":
            rng = check_random_state(self.random_state)
            A = rng.standard_normal((p, k))
            B = rng.standard_normal((p, k))
            s, _ = self._spectrum(X)
            self.init_alpha_ = resolve_alpha(init_alpha, s)
            return A, B, s
        # Objective 2 closed form: deterministic, and its cosines are unique.
        with warnings.catch_warnings():
            # This fit's own validation has warned about a log already.
            warnings.filterwarnings("ignore", message=LOG_WARNING_MATCH)
            start = WeightDecayAutoencoder(k, alpha=init_alpha).fit(X)
        self.init_alpha_ = init_alpha = start.alpha_
        A = start.encoder_.astype(np.float64)
        B = start.decoder_.astype(np.float64)
        if not np.any(B) and has_data:
            raise ValueError(
                f"init_alpha={init_alpha} is at least the largest singular value "
                f"of X ({float(start.singular_values_[0]):.4g}): the weight-decay "
                "start is zero. Lower init_alpha or use init='random'."
            )
        self._fill_cut_components(X, A, B, init_alpha)
        return A, B, start.singular_values_

    def _fill_cut_components(self, X, A, B, init_alpha):
        """Give the components the Objective 2 start cut a small scale, in place.

        Objective 2 sets the columns of components with ``s_i <= init_alpha``
        to zero in both factors; the gradient of either cosine loss in such a
        column is zero (it is proportional to the same column of the other
        factor), so a fit from there never uses them. Each cut component
        ``i`` with ``s_i > 0`` enters as in the closed form with ``h_i =
        START_FILL^2 mean(h)`` (the mean of ``h = s - init_alpha`` over the
        kept components):
        ``A_i = V_i sqrt(h_i) / s_i``, ``B_i = V_i sqrt(h_i)``. Components
        beyond the rank of ``X`` stay zero (``X A`` cannot use them).
        """
        kept = np.any(B != 0, axis=0)
        if kept.all() or not kept.any():
            return
        s, V = self._spectrum(X)
        s, V = np.asarray(s, dtype=np.float64), np.asarray(V, dtype=np.float64)
        root_h = START_FILL * float(np.sqrt(np.mean(s[kept] - init_alpha)))
        if not root_h > 0:
            return
        for i in np.flatnonzero(~kept & (s > 0)):
            A[:, i] = V[:, i] * (root_h / s[i])
            B[:, i] = V[:, i] * root_h

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
        B, _ = floored_unit_rows(B)
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
        fitted ``c`` (``scale_``), summed over all users.

        The sampled softmax reports the exact softmax loss it estimates, not
        an estimate: ``O(n p k)`` once, ``batch_size`` users at a time (as the
        exact fit's loss; never an ``n x p`` array), so it is a sum over users
        like every other objective."""
        A = self.encoder_.astype(np.float64)
        B = self.decoder_.astype(np.float64)
        if self.loss_used_ != "squared":
            if not _dask.is_dask_array(X):
                X = as_float64(X)
            self._popularity(X, self.loss_used_)  # refuses negative entries
            return self._exact_softmax_loss(X, A, B)
        self._check_X_for_loss(X, self.loss_used_)
        X = as_float64(X)
        P, _ = floored_unit_rows(X @ A, NORM_FLOOR)
        Q, _ = floored_unit_rows(B, NORM_FLOOR)
        c = self.scale_
        cross = float(np.einsum("ij,ij->", P, X @ Q))
        quad = float(np.einsum("ij,ij->", P.T @ P, Q.T @ Q))
        return max(squared_frobenius(X) - 2.0 * c * cross + c * c * quad, 0.0)

    def _exact_softmax_loss(self, X, A, B):
        """The exact softmax loss at ``(A, B)``, in blocks of users (summed over
        the row blocks of a dask array; in memory, on a thread per core); the
        sampled softmax's model, trained in float32 steps, gets its
        ``batch_size x p`` blocks in float32."""
        t = self.temperature
        dtype = np.float32 if self.loss_used_ == "sampled_softmax" else np.float64

        def block(Xb, pool=None):
            batch = resolve_batch_size(self.batch_size, *Xb.shape)
            return cosine_softmax_loss_grad(
                Xb,
                A,
                B,
                temperature=t,
                batch_size=batch,
                floor=NORM_FLOOR,
                with_grad=False,
                logit_dtype=dtype,
                pool=pool,
            )

        if _dask.is_dask_array(X):
            return float(_dask.sum_over_blocks(X, block))
        # O(n p k) in blocks of users: on every core, BLAS on one thread each.
        with _single_threaded_blas(X.shape[0] * X.shape[1]) as pool:
            return float(block(X, pool))

    def reconstruction_loss(self, X):
        """The cosine loss per user (lower is better).

        ``objective(X) / n_samples``: the mean negative log-likelihood of the
        softmax loss (the exact one for ``loss="sampled_softmax"`` too), or
        the mean squared error of the squared loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interaction matrix.

        Returns
        -------
        loss : float
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._objective(X) / X.shape[0]

    def _reconstruction_factors(self, P):
        # The rank-k part of the reconstruction: c N(X A) N(B)^T (the
        # softmax's logits times t for the softmax loss, where c = 1).
        # The training floor: the model returned is the model its loss scored.
        return self.scale_ * floored_unit_rows(P, NORM_FLOOR)[0], self.decoder_

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
        if self.loss_used_ == "squared":
            out = self.scale_ * self._cosines(Z)
        else:
            out = _softmax_rows(self._cosines(Z) / self.temperature)
        return out.astype(Z.dtype, copy=False)

    def _cosines(self, Z):
        """User-item cosines ``N(Z) N(B)^T`` of user embeddings ``Z``, float64."""
        P, _ = floored_unit_rows(Z.astype(np.float64), NORM_FLOOR)
        return P @ self.decoder_.T.astype(np.float64)

    def _user_scores(self, X):
        # The softmax losses rank by their logits cos / t (float64): the
        # probabilities underflow to 0 at low temperatures (in float32 from
        # t = 1e-3), and ranking by them would order those items by index.
        if self.loss_used_ == "squared":
            return super()._user_scores(X)
        Z = safe_sparse_dot(X, self.encoder_.astype(X.dtype), dense_output=True)
        return self._cosines(Z) / self.temperature

    def _scores_are_logits(self):
        return self.loss_used_ != "squared"
