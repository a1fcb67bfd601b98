"""Reach the model inside an estimator that may be a Pipeline."""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


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


def fitted_item_model(estimator):
    """The fitted model that offers ``item_embeddings``, with a clear error."""
    model = final_estimator(estimator)
    if not hasattr(model, "item_embeddings"):
        raise TypeError(
            f"{type(model).__name__} has no item_embeddings method: neighbour "
            "stability needs a skcosim autoencoder or ProjectedEmbedding (as "
            "the estimator or the last step of a Pipeline)."
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
