"""Remedy 3: scale item columns by popularity^-beta before learning."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_array, check_is_fitted

from .._compat import Interval, _fit_context
from .._docstring import FEATURES_IN_ATTRIBUTES, Substitution
from .._validation import item_popularity, validate_interactions


def _sparse_format(X):
    """The format of a sparse ``X`` (``"coo"``, ``"csr"``, ...), else ``None``."""
    return X.format if sp.issparse(X) else None


def _scale_columns(X, scale, fmt=None):
    """``X diag(scale)``; sparse stays sparse, dense stays dense.

    ``X`` is the validated (CSR or CSC) matrix; ``fmt`` the format of the
    input before validation converted it. The result is converted back to it
    (a COO input gives COO output), so the sparse format is kept.
    """
    scale = scale.astype(X.dtype, copy=False)
    if sp.issparse(X):
        return (X @ sp.diags_array(scale)).asformat(fmt or X.format)
    return X * scale


def _check_scale(scale, dtype, beta, popularity):
    """Refuse factors that are inf or 0 in ``dtype``, or whose inverse is.

    They would turn the columns into inf/NaN (or erase them), and
    ``inverse_transform`` would divide by zero. float32 overflows far sooner
    than float64: with ``beta=20``, an item of one user in 200 gets ``1e46``.
    """
    info = np.finfo(dtype)
    if np.all((scale >= 1 / info.max) & (scale <= info.max)):
        return
    raise ValueError(
        f"beta={beta} makes popularity ** -beta overflow or underflow {dtype} "
        f"(popularity from {popularity.min():.3g} to {popularity.max():.3g}); "
        "use a smaller |beta|."
    )


@Substitution(features_in_attributes=FEATURES_IN_ATTRIBUTES)
class PopularityScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each item (column) by its popularity to the power ``-beta``.

    :ref:`remedy-normalize`: popular items
    dominate the spectrum of an interaction matrix and so the leading
    dimensions of a linear autoencoder's embeddings. Inverse-propensity-style
    weighting reduces their weight before fitting::

        X'[:, j] = X[:, j] * popularity_j ** -beta,
        popularity_j = (number of users with a nonzero entry for j) / n_samples

    ``beta=0`` leaves ``X`` unchanged, ``beta=1`` divides by the popularity
    (inverse propensity). Sparse input gives sparse output of the same
    format (CSR, CSC, COO, ...; computed in CSR or CSC and converted back) and
    container type (``*_matrix`` or ``*_array``); zeros stay zeros. Put it
    before an autoencoder in a Pipeline; for row normalization use
    :class:`sklearn.preprocessing.Normalizer`.

    Parameters
    ----------
    beta : float, default=0.5
        Exponent of the popularity. Negative values up-weight popular items.

    Attributes
    ----------
    popularity_ : ndarray of shape (n_features,)
        Share of the training users who interacted with each item. Items
        without any interaction count as if one user had interacted.
    scale_ : ndarray of shape (n_features,)
        ``popularity_ ** -beta``, the factor applied to each column.
    {features_in_attributes}

    See Also
    --------
    sklearn.preprocessing.Normalizer : Row (user) normalization.
    sklearn.preprocessing.MaxAbsScaler : Column scaling by the maximum.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.preprocessing import PopularityScaler
    >>> X = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    >>> scaler = PopularityScaler(beta=1.0).fit(X)
    >>> scaler.popularity_
    array([1.  , 0.25])
    >>> scaler.transform(X)[0]
    array([1., 4.])
    """

    _parameter_constraints: dict = {
        "beta": [Interval(Real, None, None, closed="neither")],
    }

    def __init__(self, beta=0.5):
        self.beta = beta

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the popularity of each item.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Users in rows, items in columns.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        X = validate_interactions(self, X)
        counts = item_popularity(X)
        self.popularity_ = np.maximum(counts, 1) / X.shape[0]
        with np.errstate(over="ignore"):
            self.scale_ = self.popularity_ ** -float(self.beta)
        _check_scale(self.scale_, X.dtype, self.beta, self.popularity_)
        return self

    def transform(self, X):
        """Scale each item column by ``scale_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interactions with the items seen in :meth:`fit`.

        Returns
        -------
        X_new : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Scaled interactions, in the dtype of ``X`` and, when ``X`` is
            sparse, in its sparse format.
        """
        check_is_fitted(self)
        fmt = _sparse_format(X)
        X = validate_interactions(self, X, reset=False)
        _check_scale(self.scale_, X.dtype, self.beta, self.popularity_)
        return _scale_columns(X, self.scale_, fmt)

    def inverse_transform(self, X):
        """Undo the scaling: divide each item column by ``scale_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Scaled data (e.g. a reconstruction in the scaled space).

        Returns
        -------
        X_original : {ndarray, sparse matrix} of shape (n_samples, n_features)
            Unscaled data, in the dtype of ``X`` and, when ``X`` is sparse,
            in its sparse format.
        """
        check_is_fitted(self)
        # check_array, not validate_data: the input usually comes from a
        # later step's inverse_transform, without item names.
        fmt = _sparse_format(X)
        X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but PopularityScaler is expecting "
                f"{self.n_features_in_} features as input."
            )
        _check_scale(self.scale_, X.dtype, self.beta, self.popularity_)
        return _scale_columns(X, 1.0 / self.scale_, fmt)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
