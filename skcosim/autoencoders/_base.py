"""The behaviour every linear autoencoder of skcosim shares.

A fitted linear autoencoder reconstructs ``X_hat = X A B^T``
(docs/user_guide/objectives.rst, Notation)
with an encoder ``A`` (``encoder_``) and a decoder ``B`` (``decoder_``), both
``n_features x n_components``. Subclasses implement ``_fit`` (set ``encoder_``,
``decoder_``, ``singular_values_``) and ``_penalty`` (the regularizer of their
objective); everything else lives here once.
"""

from __future__ import annotations

import numbers
from abc import ABCMeta, abstractmethod

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_scalar
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._compat import Interval, StrOptions, _fit_context
from .._constraints import EMBEDDING_KINDS, Count
from .._linalg import _dask
from .._linalg._eigen import one_blas_thread
from .._linalg._gauge import apply_gauge, check_gauge
from .._linalg._matrix import (
    canonical_projection,
    check_gram_fits,
    reconstruction_error_from_moments,
    squared_reconstruction_error,
    total_variance,
)
from .._linalg._spectrum import shared_column_moments
from .._optim._params import random_factors
from .._validation import (
    drop_stored_zeros,
    item_popularity,
    validate_interactions,
    zero_item_rows,
)
from ._explained import set_explained_variance, spectral_moments
from ._recommend import RecommenderMixin

#: Bytes of zero columns a factor may be padded with (n_components above the
#: rank); beyond, ``n_components`` is a mistake, not a choice.
_MAX_PADDING_BYTES = 2**28


def _check_padding(n_components, X):
    """Refuse an ``n_components`` whose zero components alone take more than
    256 MiB per factor (``n_components=10**7`` on 12 items: a MemoryError)."""
    n_samples, n_features = X.shape
    rank = min(n_samples, n_features)
    size = n_features * n_components * np.dtype(X.dtype).itemsize
    if n_components > rank and size > _MAX_PADDING_BYTES:
        raise ValueError(
            f"n_components={n_components} is far above min(n_samples, "
            f"n_features)={rank}, the most components that can be nonzero; the "
            f"zero ones would take {size / 2**30:.3g} GiB per factor. Lower "
            "n_components."
        )


def embeddings_frame(estimator, embeddings):
    """Item ``embeddings`` (one row per item) of a fitted ``estimator`` as a
    DataFrame indexed by item id (``feature_names_in_``, else the column
    positions), columns ``get_feature_names_out()``."""
    names = getattr(estimator, "feature_names_in_", None)
    index = pd.RangeIndex(len(embeddings)) if names is None else pd.Index(names)
    return pd.DataFrame(
        np.asarray(embeddings),
        index=index.rename("item"),
        columns=estimator.get_feature_names_out(),
    )


class _BaseLinearAutoencoder(
    RecommenderMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
    metaclass=ABCMeta,
):
    """Base class of the linear autoencoders ``X ~ X A B^T``.

    Subclasses set the class attribute ``_gauge_group`` to the gauge transforms
    ``A -> A R``, ``B -> B R^{-T}`` that leave their objective unchanged
    (``"invertible"`` for every invertible ``R``, ``"orthogonal"`` for
    rotations only; see :mod:`skcosim._linalg._gauge`), and implement
    ``_fit`` and ``_penalty``.
    """

    _gauge_group = "orthogonal"
    #: What ``explained_variance_`` measures along each component: the
    #: reconstruction's variance, or ``"data"``, X's own (see ``_explained``).
    _explained_variance_of = "reconstruction"

    #: The item embedding that ``item_embeddings()``, ``similar_items``, the
    #: metrics of :mod:`skcosim.metrics`, the displays and the command line
    #: use when none is named (``embedding=None``).
    _default_embedding = "decoder"

    _parameter_constraints: dict = {
        "n_components": [Count(1)],
        "alpha": [Interval(numbers.Real, 0, None, closed="left"), StrOptions({"auto"})],
        "solver": [StrOptions({"auto", "gram", "randomized", "arpack"})],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=10, *, alpha=1.0, solver="auto", random_state=None):
        self.n_components = n_components
        self.alpha = alpha
        self.solver = solver
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to the interaction matrix ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Users in rows, items in columns. A table that looks like a
            long-format log instead (2 to 4 columns whose first two hold
            ids: strings or integers >= 0, each with at least 10 distinct
            values and 2 rows per value) gets a ``UserWarning`` naming
            :func:`~skcosim.datasets.load_interactions`, which builds the
            matrix from such a log.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = self._validate_X(X, reset=True)
        if not _dask.is_dask_array(X):  # a dask array: checked on its first pass
            check_gram_fits(X)
        _check_padding(self.n_components, X)
        closed_form = self._fit(X)
        if closed_form is not None:
            self._finish_closed_form(X, *closed_form)
            return self
        self._zero_unseen_items(X)
        set_explained_variance(self, X)
        return self

    def _finish_closed_form(self, X, s, V):
        """``n_iter_``, ``loss_curve_``, the unseen items' rows and the
        explained variance of a closed-form fit (one exact solve).

        When the factors are ``V diag(a)`` and ``V diag(b)`` with ``(s, V)``
        an exact float64 spectrum of an in-memory ``X`` (``s`` not ``None``),
        everything here follows from the spectrum and one pass of column
        statistics (:func:`~skcosim.autoencoders._explained.spectral_moments`):
        no product with ``X`` after the spectrum. Otherwise from ``X``.
        """
        self.n_iter_ = 1
        if s is None or _dask.is_dask_array(X) or X.dtype != np.float64:
            self.loss_curve_ = np.array([self._objective(X)])
            self._zero_unseen_items(X)
            set_explained_variance(self, X)
            return
        # Only k-dimensional BLAS calls from here: on one thread, as the
        # eigensolver (skcosim._linalg._eigen.one_blas_thread), none stalls.
        with one_blas_thread(X.nnz if sp.issparse(X) else X.size):
            self._closed_form_from_spectrum(X, s, V)

    def _closed_form_from_spectrum(self, X, s, V):
        """:meth:`_finish_closed_form` for an exact float64 spectrum."""
        counts, sums, squares = shared_column_moments(X)
        # Zeroing first leaves P = X A as it is (those columns of X are zero),
        # so one set of moments serves the loss and the explained variance.
        zero_item_rows(counts == 0, self.encoder_, self.decoder_)
        PtP, P_sum = spectral_moments(self.encoder_, s, V, sums)
        C = V.T.astype(np.float64)
        # tr(P^T X B) = tr(A^T X^T X B) = tr((V^T A)^T diag(s^2) V^T B).
        cross = float(
            np.einsum(
                "ij,i,ij->",
                C @ self.encoder_,
                s.astype(np.float64) ** 2,
                C @ self.decoder_,
            )
        )
        error = reconstruction_error_from_moments(
            float(squares.sum()), cross, PtP, self.decoder_
        )
        self.loss_curve_ = np.array([error + self._penalty_from_moments(PtP, squares)])
        total = total_variance(X.shape[0], sums, squares)
        set_explained_variance(self, X, moments=(PtP, P_sum, total))

    def _penalty_from_moments(self, PtP, column_squared_norms):
        """:meth:`_penalty` from ``P^T P`` and ``diag(X^T X)`` alone.

        The regularizers of Objectives 1 and 2 and of exact dropout read
        ``X`` only through its column norms and ``P = X A`` only through
        ``P^T P``: they are evaluated on stand-ins with exactly those,
        ``diag(||x_j||)`` for ``X`` and a ``k x k`` ``F`` with
        ``F^T F = P^T P`` for ``P``.
        """
        w, U = np.linalg.eigh(PtP)
        P_stand_in = (U * np.sqrt(np.clip(w, 0, None))).T
        X_stand_in = sp.diags(np.sqrt(column_squared_norms)).tocsr()
        return self._penalty(X_stand_in, P_stand_in)

    def _zero_unseen_items(self, X):
        """Exactly zero rows of ``encoder_`` and ``decoder_`` for the items no
        user of ``X`` interacted with, whatever the solver left there.

        No objective here depends on those rows except through terms that
        zero rows minimize (the reconstruction of an all-zero column, the
        penalties), so this never raises the objective; a solver's rounding
        (``1e-17``) or an untrained start would otherwise be a direction, and
        row normalization would give the item neighbours.
        """
        if _dask.is_dask_array(X):
            popularity = _dask.users_per_item(X)
        else:
            popularity = item_popularity(X)
        zero_item_rows(popularity == 0, self.encoder_, self.decoder_)

    def _random_start(self, X, init_scale, random_state):
        """Random factors (:func:`skcosim._optim._params.random_factors`) for
        a gradient solver, with the unseen items' rows at zero.

        Their gradient is zero there (an all-zero column of ``X``), so
        training keeps them at zero and ``loss_curve_`` describes the model
        :meth:`_zero_unseen_items` returns; from a random row they would only
        decay, and pull on the other items' rows meanwhile.
        """
        A, B = random_factors(X.shape[1], self.n_components, init_scale, random_state)
        zero_item_rows(item_popularity(X) == 0, A, B)
        return A, B

    @abstractmethod
    def _fit(self, X):
        """Set ``encoder_``, ``decoder_`` and ``singular_values_`` from ``X``.

        A trained model also sets ``n_iter_`` and ``loss_curve_`` and returns
        ``None``. A closed form returns ``(s, V)``, the spectrum its factors
        are ``V diag(a)`` and ``V diag(b)`` of when ``V`` holds exact right
        singular vectors of ``X`` with singular values ``s``, else
        ``(None, None)``; :meth:`_finish_closed_form` does the rest.
        """

    @abstractmethod
    def _penalty(self, X, P):
        """The regularization term of the objective, given ``P = X A``."""

    #: The solvers that take a dask array: the closed forms through their
    #: spectrum (the gradient solvers of Objectives 1 and 2 need X in memory).
    _DASK_SOLVERS = (None, "auto", "gram", "arpack", "randomized")

    def _validate_dask(self, X, *, reset):
        """A row-chunked dask array checked without computing it
        (:func:`skcosim._linalg._dask.check_dask_array`), and this estimator's
        feature-name and ``n_features`` checks; non-finite values are found
        on the first pass over the blocks."""
        X = _dask.check_dask_array(X)
        # CosineAutoencoder sums its softmax gradients over the blocks and has
        # no solver parameter.
        solver = getattr(self, "solver", None)
        if reset and solver not in self._DASK_SOLVERS:
            raise TypeError(
                f"{type(self).__name__}(solver={solver!r}) needs X in memory; "
                "dask arrays are accepted by the closed-form solvers "
                '("auto", "gram", "arpack", "randomized").'
            )
        # Public API for the feature-name and n_features checks, X left as it is.
        validate_data(self, X, skip_check_array=True, reset=reset)
        return X

    def _validate_X(self, X, *, reset):
        if _dask.is_dask_array(X):
            return self._validate_dask(X, reset=reset)
        X = validate_interactions(self, X, reset=reset, warn_log_stacklevel=5)
        # A stored 0.0 is not an interaction: fit, score and recommend see
        # the same items as seen (skcosim._validation).
        return drop_stored_zeros(X)

    # -- the transformer API ----------------------------------------------------

    def transform(self, X):
        """User embeddings ``X A``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interaction matrix with the items of the training data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            ``X @ encoder_``, in the dtype of ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        if _dask.is_dask_array(X):
            return _dask.transform(X, self.encoder_)  # lazy, chunked like X's rows
        return safe_sparse_dot(
            X, self.encoder_.astype(X.dtype, copy=False), dense_output=True
        )

    def inverse_transform(self, X):
        """Reconstruct interactions from user embeddings: ``Z B^T``.

        The result is dense ``n_samples x n_features``: call it on as many
        users as fit in memory at once.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            User embeddings, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            ``X @ decoder_.T``.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.decoder_.shape[1]:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but {type(self).__name__} has "
                f"n_components={self.decoder_.shape[1]}: inverse_transform takes "
                "user embeddings as returned by transform."
            )
        return Z @ self.decoder_.T.astype(Z.dtype, copy=False)

    def reconstruction_loss(self, X):
        """Mean squared reconstruction error per user (lower is better).

        ``||X - X A B^T||_F^2 / n_samples``, without the regularizer,
        computed without forming ``X A B^T``. On the training users it always
        favours the least regularization: to select ``alpha``, use
        :meth:`score` (held-out ranking) instead.

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
        if _dask.is_dask_array(X):
            error, _, _ = _dask.reconstruction_terms(X, self.encoder_, self.decoder_)
            return error / X.shape[0]
        P = safe_sparse_dot(X, self.encoder_, dense_output=True)
        return squared_reconstruction_error(X, P, self.decoder_) / X.shape[0]

    def objective(self, X):
        """Value of the training objective on ``X`` (lower is better).

        The full loss the model is trained on (:ref:`objectives`), summed over all users
        and items (not averaged): reconstruction error plus regularizer for
        Objectives 1 and 2, which the fitted closed forms minimize on the
        training data; the softmax or squared cosine loss for
        :class:`~skcosim.CosineAutoencoder` (the exact softmax loss for
        ``loss="sampled_softmax"``, which estimates it). Computed without an
        ``n x p`` array.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interaction matrix.

        Returns
        -------
        loss : float
        """
        check_is_fitted(self)
        return self._objective(self._validate_X(X, reset=False))

    def _objective(self, X):
        """:meth:`objective` on an already validated ``X``."""
        if _dask.is_dask_array(X):
            # One pass over the row blocks: the regularizers of Objectives 1
            # and 2 and of exact dropout read X only through its column norms
            # and P = X A only through P^T P.
            error, PtP, col_sq = _dask.reconstruction_terms(
                X, self.encoder_, self.decoder_
            )
            return error + self._penalty_from_moments(PtP, col_sq)
        P = safe_sparse_dot(X, self.encoder_.astype(np.float64), dense_output=True)
        return squared_reconstruction_error(X, P, self.decoder_) + self._penalty(X, P)

    def _reconstruction_factors(self, P):
        """``(P', B')`` whose product is the reconstruction of users with
        embeddings ``P = X A``: here ``X A B^T`` itself."""
        return P, self.decoder_

    # -- item embeddings --------------------------------------------------------

    def item_embeddings(self, embedding=None, *, gauge=None, as_frame=False):
        """Item embeddings of the fitted model (one row per item).

        Parameters
        ----------
        embedding : {"decoder", "encoder", "projected"} or None, default=None
            ``"decoder"``: rows of ``B`` (``decoder_``). ``"encoder"``: rows
            of ``A`` (``encoder_``). ``"projected"``: rows of ``A L W`` with
            ``L L^T = B^T B`` and ``W`` the principal axes of ``A L``, whose
            cosines are those of the rows of the item-item matrix ``A B^T``
            (:ref:`remedy-project`): gauge-free (the coordinates too, not only
            the cosines), computed in ``n_components`` dimensions without
            forming ``A B^T``; what :class:`~skcosim.preprocessing.ProjectedEmbedding`
            returns. ``None``: the estimator's default embedding, its class
            attribute ``_default_embedding``, which ``similar_items``, every
            metric of :mod:`skcosim.metrics`, the displays and the command
            line share (:ref:`default-embedding`): ``"projected"`` for
            :class:`DropoutAutoencoder` (its decoder's cosines depend on the
            split), ``"decoder"`` for :class:`WeightDecayAutoencoder` (unique
            cosines) and :class:`CosineAutoencoder` (the rows its cosine
            logits use).
        gauge : ndarray of shape (n_components, n_components), default=None
            If given, the embeddings of the equally-split model
            ``A R, B R^{-T}`` (``R = gauge``) instead of the fitted one.
        as_frame : bool, default=False
            Return a :class:`pandas.DataFrame` indexed by item id
            (``feature_names_in_`` when the model was fitted on a DataFrame,
            column positions otherwise), with the columns of
            ``get_feature_names_out()``.

        Returns
        -------
        embeddings : ndarray or DataFrame of shape (n_features, n_components)

        Examples
        --------
        >>> import pandas as pd
        >>> from skcosim import WeightDecayAutoencoder
        >>> X = pd.DataFrame({"apple": [1, 0, 1, 1], "pear": [1, 1, 0, 1],
        ...                   "plum": [0, 1, 1, 0]})
        >>> model = WeightDecayAutoencoder(n_components=2, alpha=0.1).fit(X)
        >>> E = model.item_embeddings(as_frame=True)
        >>> E.index.tolist()
        ['apple', 'pear', 'plum']
        >>> E.columns.tolist()
        ['weightdecayautoencoder0', 'weightdecayautoencoder1']
        """
        check_scalar(as_frame, "as_frame", (bool, np.bool_))
        embeddings = self._item_embeddings(embedding, gauge)
        return embeddings_frame(self, embeddings) if as_frame else embeddings

    def _item_embeddings(self, embedding, gauge):
        """:meth:`item_embeddings` as an array."""
        check_is_fitted(self)
        if embedding is None:
            embedding = self._default_embedding
        if embedding not in EMBEDDING_KINDS:
            raise ValueError(
                f"embedding must be one of {EMBEDDING_KINDS}, got {embedding!r}."
            )
        A, B = self.encoder_, self.decoder_
        if gauge is not None:
            A, B = apply_gauge(A, B, check_gauge(gauge, A.shape[1]))
        if embedding == "decoder":
            return B
        if embedding == "encoder":
            return A
        return A @ canonical_projection(A, B)

    @property
    def _n_features_out(self):
        return self.encoder_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
