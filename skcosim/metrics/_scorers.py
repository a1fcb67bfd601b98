"""Scorers for GridSearchCV and cross_validate: plain callables.

scikit-learn's ``make_scorer`` cannot call ``transform`` (its
``response_method`` has no "transform"), so these are plain callables
``scorer(estimator, X, y=None) -> float`` (higher is better), which
``GridSearchCV(scoring=...)`` accepts as they are.
"""

from __future__ import annotations

import warnings
from numbers import Real

import pandas as pd

from .._compat import Interval, StrOptions, validate_params
from .._constraints import EMBEDDING_KINDS, STABILITY_KINDS, Count
from .._docstring import (
    EMBEDDING_PARAMETER,
    METHOD_PARAMETER,
    N_NEIGHBORS_PARAMETER,
    RANKING_SCORER_PARAMETERS,
    SCORER_RETURNS,
    Substitution,
)
from .._linalg._topk import SCORE_K
from .._validation import frame_values
from ..model_selection._split import train_test_split_interactions
from ._estimators import default_embedding, final_estimator, fitted_item_model
from ._overlap import OVERLAP_METHODS
from ._ranking import ndcg_at_k, recall_at_k
from ._stability import gauge_stability, refit_stability


def _constant_gauge_stability(estimator, embedding):
    """Why the gauge stability of ``estimator``'s item embedding is 1.0 for
    every setting of it (its gauge keeps every cosine, or the embedding is
    the gauge-free projection), or ``None`` when it can vary."""
    model = fitted_item_model(estimator)
    chosen = default_embedding(model, embedding)
    if chosen == "projected":
        return f"the {chosen!r} embedding is gauge-free"
    if getattr(model, "_gauge_group", None) == "orthogonal":
        return "its gauge transforms are rotations, which keep every cosine"
    return None


class _StabilityScorer:
    """``scorer(estimator, X, y=None)``: gauge or resample stability."""

    def __init__(self, kind, **kwargs):
        self.kind = kind
        self.kwargs = kwargs

    def __call__(self, estimator, X, y=None):
        if self.kind == "gauge":
            reason = _constant_gauge_stability(estimator, self.kwargs["embedding"])
            if reason is not None:
                # A search over the settings of such a model can only tie.
                warnings.warn(
                    "The gauge stability scorer gives "
                    f"{type(final_estimator(estimator)).__name__} 1.0 for every "
                    f"setting ({reason}): it cannot choose between candidates "
                    "of one such estimator, only between estimator classes or "
                    'embeddings. To choose parameters use kind="resample" or a '
                    "ranking scorer.",
                    UserWarning,
                    stacklevel=2,
                )
            return gauge_stability(estimator, **self.kwargs)
        # The fitted model against refits on the scored users: a score of the
        # model, not only of its parameters (resample_stability clones it).
        return refit_stability(estimator, X, **self.kwargs)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"make_stability_scorer(kind={self.kind!r}, {args})"


class _RankingScorer:
    """``scorer(estimator, X, y=None)``: hide items of ``X``'s users, rank."""

    _metrics = {"recall": recall_at_k, "ndcg": ndcg_at_k}

    def __init__(self, metric, k, holdout, random_state, batch_size):
        self.metric = metric
        self.k = k
        self.holdout = holdout
        self.random_state = random_state
        self.batch_size = batch_size

    def __call__(self, estimator, X, y=None):
        X_train, X_test = train_test_split_interactions(
            X, test_size=self.holdout, random_state=self.random_state
        )
        if isinstance(X_test, pd.DataFrame):
            # The split of a DataFrame keeps the item names the estimator was
            # fitted with, in sparse DataFrames; the held-out part is read as
            # a matrix.
            X_test = frame_values(X_test)
        # k=None is score's: NDCG@100, or every item when there are fewer.
        k = min(SCORE_K, X_train.shape[1]) if self.k is None else self.k
        return self._metrics[self.metric](
            estimator, X_train, X_test, k, batch_size=self.batch_size
        )

    def __repr__(self):
        return (
            f"make_{self.metric}_scorer(k={self.k}, holdout={self.holdout}, "
            f"random_state={self.random_state!r})"
        )


@validate_params(
    {
        "kind": [StrOptions(set(STABILITY_KINDS))],
        "n_neighbors": [Count(1)],
        "n_draws": [Count(1)],
        "n_resamples": [Count(1)],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "embedding": [StrOptions(set(EMBEDDING_KINDS)), None],
        "method": [StrOptions(set(OVERLAP_METHODS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
@Substitution(
    embedding=EMBEDDING_PARAMETER,
    n_neighbors=N_NEIGHBORS_PARAMETER,
    method=METHOD_PARAMETER,
    scorer_returns=SCORER_RETURNS,
)
def make_stability_scorer(
    kind: str = "gauge",
    n_neighbors: int = 10,
    *,
    n_draws: int = 10,
    n_resamples: int = 5,
    subsample: float = 0.5,
    embedding: str | None = None,
    method: str = "jaccard",
    random_state=0,
):
    """Make a neighbour-stability scorer for model selection.

    The scorer is a plain callable ``scorer(estimator, X, y=None) -> float``
    (higher is better) for ``scoring=`` in
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`. ``estimator`` may be a
    Pipeline whose last step is a skcosim autoencoder or ProjectedEmbedding.

    - ``kind="gauge"``: :func:`gauge_stability` of the fitted model (``X``
      is not used). It is constant within a gauge-free estimator class:
      1.0 for every ``alpha`` of :class:`~skcosim.WeightDecayAutoencoder`
      and :class:`~skcosim.CosineAutoencoder` (rotations keep every cosine)
      and for every projected embedding (the default of
      :class:`~skcosim.DropoutAutoencoder`). It separates estimator classes or
      embeddings (e.g. Objective 1's ``embedding="decoder"`` from Objective
      2), never the settings of one such model: a search over them would
      only tie, so the scorer warns (``UserWarning``) whenever it scores such
      a model.
    - ``kind="resample"``: would the fitted model's item neighbours survive
      other users? The mean overlap between its neighbours and those of
      ``n_resamples`` clones refitted on random subsets (a share
      ``subsample``) of the users ``X`` of the validation fold, who were
      not used to fit it (as :func:`resample_stability`, with the fitted
      model as one side of each pair).

    Parameters
    ----------
    kind : {"gauge", "resample"}, default="gauge"
        Which stability.
    {n_neighbors}
    n_draws : int, default=10
        Gauge draws (``kind="gauge"``).
    n_resamples : int, default=5
        Refits on user subsets (``kind="resample"``).
    subsample : float in (0, 1], default=0.5
        Share of the scored users per refit (``kind="resample"``).
    {embedding}
    {method}
    random_state : int, RandomState instance or None, default=0
        Seeds the draws; an int (the default) scores every candidate of a
        search with the same draws.

    Returns
    -------
    {scorer_returns}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skcosim import DropoutAutoencoder
    >>> from skcosim.metrics import make_stability_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(120, 30) < 0.2).astype(float)
    >>> search = GridSearchCV(
    ...     DropoutAutoencoder(n_components=4),
    ...     {"gauge": ["identity", "symmetric"]},
    ...     scoring=make_stability_scorer(n_neighbors=5, n_draws=3), cv=2,
    ... ).fit(X)
    >>> search.cv_results_["mean_test_score"].shape
    (2,)
    """
    if kind == "gauge":
        kwargs = {"n_draws": n_draws}
    else:
        kwargs = {"n_resamples": n_resamples, "subsample": subsample}
    return _StabilityScorer(
        kind,
        n_neighbors=n_neighbors,
        embedding=embedding,
        method=method,
        random_state=random_state,
        **kwargs,
    )


_RANKING_SCORER_PARAMS = {
    "k": [Count(1)],
    "holdout": [Interval(Real, 0, 1, closed="neither")],
    "random_state": ["random_state"],
    "batch_size": [Count(1), None],
}


@validate_params(_RANKING_SCORER_PARAMS, prefer_skip_nested_validation=True)
@Substitution(
    ranking_scorer_parameters=RANKING_SCORER_PARAMETERS, scorer_returns=SCORER_RETURNS
)
def make_recall_scorer(
    k: int = 20, *, holdout: float = 0.2, random_state=0, batch_size=None
):
    """Make a recall@k scorer on held-out interactions of the scored users.

    The scorer ``scorer(estimator, X, y=None) -> float`` hides a share ``holdout``
    of each user's interactions in ``X``
    (:func:`~skcosim.model_selection.train_test_split_interactions`), lets the
    fitted estimator reconstruct the users from the rest, and returns
    :func:`recall_at_k`. In a cross-validation the users of the validation fold were
    not seen in fitting (strong generalization). Works on a Pipeline ending in a
    skcosim autoencoder: items are ranked by its last step's reconstruction
    of the transformed users, as ``Pipeline.score`` ranks them
    (:ref:`choosing-alpha`).

    Parameters
    ----------
    k : int, default=20
        Number of recommended items.
    {ranking_scorer_parameters}

    Returns
    -------
    {scorer_returns}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_validate
    >>> from skcosim import WeightDecayAutoencoder
    >>> from skcosim.metrics import make_recall_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(120, 30) < 0.2).astype(float)
    >>> result = cross_validate(WeightDecayAutoencoder(n_components=4), X, cv=3,
    ...                         scoring=make_recall_scorer(k=5))
    >>> result["test_score"].shape
    (3,)
    """
    return _RankingScorer("recall", k, holdout, random_state, batch_size)


@validate_params(
    {**_RANKING_SCORER_PARAMS, "k": [Count(1), None]},
    prefer_skip_nested_validation=True,
)
@Substitution(
    ranking_scorer_parameters=RANKING_SCORER_PARAMETERS, scorer_returns=SCORER_RETURNS
)
def make_ndcg_scorer(
    k: int | None = None, *, holdout: float = 0.2, random_state=0, batch_size=None
):
    """Make an NDCG@k scorer on held-out interactions of the scored users.

    As :func:`make_recall_scorer`, with :func:`ndcg_at_k`. With its defaults
    it is the autoencoders' ``score`` (NDCG@100 on 20 % of each user's
    interactions, seed 0), also for a Pipeline such as
    ``make_pipeline(PopularityScaler(), WeightDecayAutoencoder())``: the
    same number, so a search with ``scoring=make_ndcg_scorer()`` and one
    without ``scoring`` pick the same candidate (:ref:`choosing-alpha`; for
    column-wise steps like PopularityScaler, which keep the held-out
    entries in place).

    Parameters
    ----------
    k : int or None, default=None
        Number of recommended items. ``None``: as ``score``, 100, or every
        item when there are fewer.
    {ranking_scorer_parameters}

    Returns
    -------
    {scorer_returns}

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import WeightDecayAutoencoder
    >>> from skcosim.metrics import make_ndcg_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(120, 30) < 0.2).astype(float)
    >>> model = WeightDecayAutoencoder(n_components=4).fit(X)
    >>> 0.0 <= make_ndcg_scorer(k=5)(model, X) <= 1.0
    True
    """
    return _RankingScorer("ndcg", k, holdout, random_state, batch_size)
