"""Reach the item embedding inside whatever model the user hands a metric.

Three kinds of models reach the neighbour metrics the same way, as an object
with ``item_embeddings(embedding=None, *, gauge=None)``:

- skcosim's autoencoders and :class:`~skcosim.preprocessing.ProjectedEmbedding`
  (as the estimator or the last step of a Pipeline);
- any fitted scikit-learn estimator with ``components_`` (TruncatedSVD, NMF,
  PCA): its item factors are ``components_.T`` (:class:`ComponentsFactors`);
- a callable ``fit_item_factors(X) -> V`` (items x d), wrapped in
  :class:`FactorFunction` so that the metrics can clone and refit it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._linalg._gauge import apply_gauge


def final_estimator(estimator):
    """The last step of a (nested) Pipeline, or the estimator itself."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def transform_before_final(estimator, X):
    """Apply every step of a (nested) Pipeline but the last one to ``X``."""
    while isinstance(estimator, Pipeline):
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        estimator = estimator.steps[-1][1]
    return X


def check_item_factors(V, n_items=None, *, source="item_factors"):
    """``V`` as a finite float array of shape ``(n_items, d)``, or a
    TypeError/ValueError that names ``source`` and what is wrong."""
    if sp.issparse(V):
        V = V.toarray()
    if not (isinstance(V, list | tuple) or hasattr(V, "__array__")):
        raise TypeError(
            f"{source} must be an array of shape (n_items, n_components), got "
            f"{type(V).__name__}."
        )
    V = np.asarray(V)
    if V.dtype.kind not in "biuf":
        raise TypeError(f"{source} must hold numbers, got an array of dtype {V.dtype}.")
    if V.ndim != 2 or V.shape[1] < 1:
        raise ValueError(
            f"{source} must be 2-D, one row per item and one column per "
            f"component, got shape {V.shape}."
        )
    if n_items is not None and V.shape[0] != n_items:
        hint = (
            " (its transpose has one row per item: return V, not V.T)"
            if V.shape[1] == n_items
            else ""
        )
        raise ValueError(
            f"{source} has {V.shape[0]} rows but X has {n_items} items (columns){hint}."
        )
    V = V.astype(V.dtype if V.dtype == np.float32 else np.float64, copy=False)
    bad = np.flatnonzero(~np.isfinite(V).all(axis=1))
    if bad.size:
        raise ValueError(
            f"{source} has NaN or infinite values in {bad.size} rows, first at "
            f"item {bad[0]}."
        )
    return V


def factor_embeddings(V, embedding=None, gauge=None):
    """The item embedding of item factors ``V`` (the decoder of ``U V^T``),
    after the gauge transform ``gauge``: ``V R^{-T}``."""
    if embedding not in (None, "decoder"):
        raise ValueError(
            f"Item factors alone have no {embedding!r} embedding, only the factors "
            "themselves (embedding=None or 'decoder'); for the gauge-free one "
            "use skcosim.preprocessing.project_factors(U, V)."
        )
    return V if gauge is None else apply_gauge(V, V, gauge)[1]


class ComponentsFactors:
    """The item factors ``components_.T`` of a fitted scikit-learn estimator,
    seen as the metrics see a skcosim model.

    ``_gauge_group`` is the gauge its loss leaves free, where scikit-learn's
    class says: every invertible ``R`` for the unregularized low-rank fits
    (TruncatedSVD, PCA), positive diagonal ones for NMF without penalty
    (they keep the factors non-negative), none that moves a cosine for a
    penalized NMF (only permutations keep its penalty); ``None`` otherwise.
    """

    _default_embedding = None

    def __init__(self, estimator):
        self.estimator = estimator
        self.item_factors_ = check_item_factors(
            estimator.components_.T,
            source=f"{type(estimator).__name__}.components_.T",
        )
        self._gauge_group = _components_gauge_group(estimator)

    def item_embeddings(self, embedding=None, *, gauge=None):
        return factor_embeddings(self.item_factors_, embedding, gauge)


def _components_gauge_group(estimator):
    from sklearn.decomposition import NMF, PCA, MiniBatchNMF, TruncatedSVD

    if isinstance(estimator, TruncatedSVD | PCA):
        return "invertible"
    if isinstance(estimator, NMF | MiniBatchNMF):
        alpha_H = (
            estimator.alpha_W if estimator.alpha_H == "same" else estimator.alpha_H
        )
        return "diagonal" if estimator.alpha_W == 0 and alpha_H == 0 else "orthogonal"
    return None


class FactorFunction(BaseEstimator):
    """A callable ``fit_item_factors(X) -> V`` as an estimator: ``fit(X)``
    calls it and checks ``V`` (one row per column of ``X``, finite).

    The neighbour metrics wrap a callable in it, so that
    :func:`~skcosim.metrics.resample_stability` clones it and refits it on
    halves of the users like any estimator. Its gauge is unknown
    (``_gauge_group = None``): :func:`~skcosim.metrics.gauge_stability`
    needs ``group=``.
    """

    _default_embedding = None
    _gauge_group = None

    def __init__(self, fit_item_factors=None):
        self.fit_item_factors = fit_item_factors

    def fit(self, X, y=None):
        name = getattr(self.fit_item_factors, "__name__", "fit_item_factors")
        self.item_factors_ = check_item_factors(
            self.fit_item_factors(X),
            X.shape[1],
            source=f"The item factors returned by {name}(X)",
        )
        return self

    def item_embeddings(self, embedding=None, *, gauge=None):
        check_is_fitted(self)
        return factor_embeddings(self.item_factors_, embedding, gauge)


def as_item_estimator(estimator):
    """``estimator``, with a plain callable wrapped in :class:`FactorFunction`."""
    if callable(estimator) and not hasattr(estimator, "fit"):
        return FactorFunction(estimator)
    return estimator


def fitted_item_model(estimator, X=None):
    """The fitted model that offers ``item_embeddings``, with a clear error.

    A callable is fitted on ``X`` here (required for it, refused otherwise:
    a fitted model's embedding does not depend on data passed afterwards).
    """
    is_function = callable(estimator) and not hasattr(estimator, "fit")
    if X is not None and not is_function:
        raise ValueError(
            "X is for a callable fit_item_factors(X) only: "
            f"{type(estimator).__name__} is used as fitted."
        )
    if is_function:
        if X is None:
            raise ValueError(
                "A callable fit_item_factors(X) needs the data it is fitted "
                "on: pass X=."
            )
        return FactorFunction(estimator).fit(X)
    model = final_estimator(estimator)
    if not hasattr(model, "item_embeddings"):
        if hasattr(model, "components_"):
            return ComponentsFactors(model)
        raise TypeError(
            f"{type(model).__name__} has no item_embeddings method and no "
            "components_ (or is not fitted): neighbour metrics need a "
            "skcosim autoencoder or ProjectedEmbedding, a scikit-learn "
            "estimator with components_ (TruncatedSVD, NMF, PCA), or a "
            "callable fit_item_factors(X) -> V "
            "(as the estimator or the last step of a Pipeline)."
        )
    check_is_fitted(model)
    return model


def default_embedding(model, embedding=None):
    """The item embedding ``embedding`` names: itself, or for ``None`` the
    model's default (its class attribute ``_default_embedding``)."""
    if embedding is not None:
        return embedding
    return getattr(final_estimator(model), "_default_embedding", None)


def item_embeddings(model, embedding, gauge=None):
    """``model.item_embeddings`` with ``embedding=None`` meaning its default."""
    if embedding is None:
        E = model.item_embeddings(gauge=gauge)
    else:
        E = model.item_embeddings(embedding, gauge=gauge)
    return np.asarray(E)
