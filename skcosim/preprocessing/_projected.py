"""Remedy 2: the gauge-free projection of a linear autoencoder's embeddings."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import check_scalar
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_array, check_is_fitted

from .._compat import HasMethods, _fit_context, validate_params
from .._docstring import FEATURES_IN_ATTRIBUTES, Substitution
from .._linalg._gauge import apply_gauge, check_gauge
from .._linalg._matrix import canonical_projection
from .._validation import (
    LOG_WARNING_MATCH,
    item_popularity,
    validate_interactions,
    zero_item_rows,
)
from ..autoencoders._base import embeddings_frame
from ..autoencoders._weight_decay import WeightDecayAutoencoder


@validate_params(
    {"user_factors": ["array-like"], "item_factors": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def project_factors(user_factors, item_factors) -> np.ndarray:
    """The gauge-free item embedding of any dot-product model ``U V^T``.

    A model that scores users and items by ``U V^T`` gives the same scores
    with ``U R`` and ``V R^{-T}`` for every invertible ``R``, and such an
    ``R`` moves the cosines of the rows of ``V``. The columns of ``U V^T``
    do not move: column ``i`` holds the model's scores of item ``i`` across
    all users, so the cosine of two columns says how alike the model scores
    two items. This returns rows with exactly those cosines, computed in
    ``n_components`` dimensions, never forming the ``n_users x n_items``
    matrix: ``V T`` with ``T = L W``, ``L L^T = U^T U``, and ``W`` rotating
    ``V L`` onto its principal axes so that the embedding itself, not only
    its cosines, is the same for every ``R`` (:ref:`external-gauges`; the
    same projection :class:`ProjectedEmbedding` applies to a skcosim
    autoencoder, :ref:`remedy-project`).

    Parameters
    ----------
    user_factors : array-like of shape (n_users, n_components)
        The user factors ``U`` (for an autoencoder, the user embeddings
        ``X A``; for TruncatedSVD, ``transform(X)``).
    item_factors : array-like of shape (n_items, n_components)
        The item factors ``V``.

    Returns
    -------
    embedding : ndarray of shape (n_items, n_components)
        One row per item, float64, with the cosines (and inner products) of
        the columns of ``U V^T``. Computed on both factors divided by their
        largest entry and scaled back once: scaling either factor by ``c > 0``
        scales the embedding by ``c`` and leaves its cosines as they are, at
        any scale whose scores ``U V^T`` are normal float64 numbers (beyond,
        a ``ValueError``). Zero factors give zero rows, and a zero row of
        ``item_factors`` (an item the model knows nothing about) an exactly
        zero row.

    See Also
    --------
    skcosim.metrics.factor_gauge_stability : How much ``R`` moves the
        neighbours of ``V``.
    ProjectedEmbedding : The same projection for a skcosim autoencoder.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.preprocessing import project_factors
    >>> rng = np.random.RandomState(0)
    >>> U, V = rng.randn(50, 3), rng.randn(20, 3)
    >>> R = rng.randn(3, 3)
    >>> E = project_factors(U, V)
    >>> E_R = project_factors(U @ R, V @ np.linalg.inv(R).T)
    >>> bool(np.allclose(E, E_R))
    True
    >>> S = U @ V.T
    >>> bool(np.allclose(E @ E.T, S.T @ S))
    True
    """
    U = check_array(user_factors, dtype=np.float64, input_name="user_factors")
    V = check_array(item_factors, dtype=np.float64, input_name="item_factors")
    if U.shape[1] != V.shape[1]:
        raise ValueError(
            f"user_factors has {U.shape[1]} columns and item_factors "
            f"{V.shape[1]}: both must have one column per component."
        )
    # The projection is linear in each factor's scale: computed on factors of
    # largest entry 1, the Gram matrix and the SVD neither overflow nor
    # underflow, and the scale is put back once, at the end.
    U, u_peak = _unit_peak(U)
    V, v_peak = _unit_peak(V)
    E = V @ canonical_projection(V, U)
    scale = u_peak * v_peak
    representable = np.finfo(np.float64).tiny <= scale < np.inf
    if u_peak > 0 and v_peak > 0 and not representable:
        raise ValueError(
            f"user_factors and item_factors have largest entries {u_peak:.3g} "
            f"and {v_peak:.3g}: the scores U V^T (and the inner products of the "
            "embedding) overflow or underflow float64. Rescale either factor."
        )
    return E * scale


def _unit_peak(F):
    """``F`` divided by its largest absolute entry, and that entry (0 for a
    zero ``F``, left as it is)."""
    peak = float(np.abs(F).max(initial=0.0))
    return (F / peak if peak > 0 else F), peak


@Substitution(features_in_attributes=FEATURES_IN_ATTRIBUTES)
class ProjectedEmbedding(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator
):
    """User and item embeddings whose cosines do not depend on the gauge.

    :ref:`remedy-project`: the products
    ``X A B^T`` (users) and ``A B^T`` (items) of a fitted linear autoencoder
    are the same for every equally optimal split ``A R, B R^{-T}``, so
    cosines computed there are well defined. They are computed in
    ``n_components`` dimensions, never forming ``n x p`` or ``p x p``: with
    ``L`` a ``k x k`` factor with ``L L^T = B^T B``,

    - :meth:`transform` returns the user embedding ``X A L``, whose rows have
      the inner products (so the cosines) of the rows of ``X A B^T``;
    - :meth:`item_embeddings` returns ``A L``, with the cosines of the rows
      of ``A B^T``.

    The wrapped estimator is cloned and fitted in :meth:`fit`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A skcosim linear autoencoder (``encoder_``, ``decoder_`` after fit).
        ``None`` uses ``WeightDecayAutoencoder()``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    projection_ : ndarray of shape (n_components, n_components)
        ``T = L W``: ``L L^T = B^T B``, and ``W`` rotates ``A L`` onto its
        principal axes so that the projected embedding is the same for every
        gauge of the wrapped model (not only its cosines).
    projected_encoder_ : ndarray of shape (n_features, n_components)
        ``A T``: user embeddings are ``X @ projected_encoder_``, item
        embeddings its rows. Items that no training user interacted with
        have exactly zero rows.
    {features_in_attributes}

    See Also
    --------
    skcosim.DropoutAutoencoder : Whose own embeddings depend on the gauge.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import DropoutAutoencoder
    >>> from skcosim.metrics import gauge_stability
    >>> from skcosim.preprocessing import ProjectedEmbedding
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(200, 40) < 0.2).astype(float)
    >>> proj = ProjectedEmbedding(DropoutAutoencoder(n_components=5, alpha=5.0))
    >>> proj.fit_transform(X).shape
    (200, 5)
    >>> gauge_stability(proj, n_neighbors=5, random_state=0)
    1.0
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform"]), None],
    }

    #: Its only item embedding (the shared default of skcosim's estimators).
    _default_embedding = "projected"

    def __init__(self, estimator=None):
        self.estimator = estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the wrapped autoencoder and compute its projection.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Users in rows, items in columns.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = validate_interactions(self, X, warn_log_stacklevel=4)
        base = WeightDecayAutoencoder() if self.estimator is None else self.estimator
        with warnings.catch_warnings():
            # Warned above, on the table as given.
            warnings.filterwarnings("ignore", message=LOG_WARNING_MATCH)
            estimator = clone(base).fit(X)
        if not (hasattr(estimator, "encoder_") and hasattr(estimator, "decoder_")):
            raise TypeError(
                f"{type(estimator).__name__} has no encoder_ and decoder_ after "
                "fit: ProjectedEmbedding wraps a linear autoencoder X A B^T."
            )
        self.estimator_ = estimator
        # Remedy 2: A L with L L^T = B^T B has the Gram matrix of A B^T.
        self.projection_ = canonical_projection(estimator.encoder_, estimator.decoder_)
        self.projected_encoder_ = estimator.encoder_ @ self.projection_
        # skcosim's autoencoders already give unseen items zero rows; a
        # wrapped model of another kind may leave rounding there.
        zero_item_rows(item_popularity(X) == 0, self.projected_encoder_)
        return self

    def transform(self, X):
        """Gauge-free user embeddings ``X A L``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interactions with the items seen in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Rows with the cosines of the rows of ``X A B^T``.
        """
        check_is_fitted(self)
        X = validate_interactions(self, X, reset=False)
        P = self.projected_encoder_.astype(X.dtype, copy=False)
        return safe_sparse_dot(X, P, dense_output=True)

    def inverse_transform(self, X):
        """Reconstruct interactions ``X A B^T`` from projected user embeddings.

        ``Z T^+ B^T`` with ``T^+`` the pseudo-inverse of ``projection_``:
        exact, because the directions ``T`` drops are those ``B`` maps to
        zero.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Projected user embeddings, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstruction ``X A B^T`` of the wrapped autoencoder.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        B = self.estimator_.decoder_
        if Z.shape[1] != B.shape[1]:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but the projection has "
                f"{B.shape[1]} components."
            )
        T = self.projection_.astype(np.float64)
        back = (np.linalg.pinv(T) @ B.T.astype(np.float64)).astype(Z.dtype)
        return Z @ back

    def item_embeddings(self, embedding=None, *, gauge=None, as_frame=False):
        """Gauge-free item embeddings ``A L`` (one row per item).

        Parameters
        ----------
        embedding : {"projected"} or None, default=None
            The only embedding (``None``, the default ``_default_embedding``, means
            it): rows with the cosines of the rows of ``A B^T``.
        gauge : ndarray of shape (n_components, n_components), default=None
            If given, project the re-split model ``A R, B R^{-T}`` instead:
            the cosines are the same (what gauge stability checks).
        as_frame : bool, default=False
            Return a :class:`pandas.DataFrame` indexed by item id
            (``feature_names_in_`` when fitted on a DataFrame, column
            positions otherwise), with the columns of
            ``get_feature_names_out()``.

        Returns
        -------
        embeddings : ndarray or DataFrame of shape (n_features, n_components)
            One row per item.
        """
        check_scalar(as_frame, "as_frame", (bool, np.bool_))
        embeddings = self._item_embeddings(embedding, gauge)
        return embeddings_frame(self, embeddings) if as_frame else embeddings

    def _item_embeddings(self, embedding, gauge):
        """:meth:`item_embeddings` as an array."""
        check_is_fitted(self)
        if embedding is None:
            embedding = self._default_embedding
        if embedding != "projected":
            raise ValueError(
                f"ProjectedEmbedding only has embedding='projected', got {embedding!r}."
            )
        if gauge is None:
            return self.projected_encoder_
        A, B = self.estimator_.encoder_, self.estimator_.decoder_
        A, B = apply_gauge(A, B, check_gauge(gauge, A.shape[1]))
        return A @ canonical_projection(A, B)

    @property
    def _gauge_group(self):
        return getattr(self.estimator_, "_gauge_group", "orthogonal")

    @property
    def _n_features_out(self):
        return self.projected_encoder_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
