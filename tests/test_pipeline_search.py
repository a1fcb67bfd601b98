"""skcosim in scikit-learn pipelines and grid searches (issue 3, definition of done)."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import (
    make_ndcg_scorer,
    make_recall_scorer,
    make_stability_scorer,
)
from skcosim.model_selection import train_test_split_interactions
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding


@pytest.fixture(scope="module")
def data():
    return make_clustered_interactions(
        n_users=400, n_items=60, n_clusters=4, random_state=0
    )


@pytest.mark.slow  # starts two joblib worker processes: 16 s on a loaded machine
def test_grid_search_over_pipeline_with_stability_and_recall(data):
    pipe = Pipeline(
        [
            ("scale", PopularityScaler()),
            ("ae", DropoutAutoencoder(n_components=5)),
        ]
    )
    grid = {"ae__alpha": [1.0, 30.0], "scale__beta": [0.0, 0.5]}
    search = GridSearchCV(
        pipe,
        grid,
        scoring={
            "stability": make_stability_scorer(
                n_neighbors=5, n_draws=3, embedding="decoder"
            ),
            "recall": make_recall_scorer(k=10),
        },
        refit="recall",
        cv=KFold(3, shuffle=True, random_state=0),
        n_jobs=2,
    ).fit(data.data)
    results = search.cv_results_
    for name in ("stability", "recall"):
        scores = results[f"mean_test_{name}"]
        assert scores.shape == (4,)
        assert np.all((scores >= 0) & (scores <= 1))
    # Objective 1 embeddings depend on the gauge: stability clearly below 1.
    assert np.all(results["mean_test_stability"] < 0.9)
    best = int(np.argmax(results["mean_test_recall"]))
    assert search.best_index_ == best
    assert isinstance(search.best_estimator_, Pipeline)


def test_grid_search_stability_separates_gauge_free_models(data):
    # With each model's default embedding every candidate is gauge-free (the
    # projected one is DropoutAutoencoder's default); Dropout's raw decoder,
    # named, scores less.
    pipe = Pipeline(
        [("scale", PopularityScaler()), ("model", WeightDecayAutoencoder())]
    )
    grid = {
        "model": [
            WeightDecayAutoencoder(n_components=5),
            DropoutAutoencoder(n_components=5, alpha=10.0),
            ProjectedEmbedding(DropoutAutoencoder(n_components=5, alpha=10.0)),
        ]
    }
    with pytest.warns(UserWarning, match="cannot choose between"):
        search = GridSearchCV(
            pipe, grid, scoring=make_stability_scorer(n_neighbors=5, n_draws=3), cv=2
        ).fit(data.data)
    assert list(search.cv_results_["mean_test_score"]) == [1.0, 1.0, 1.0]
    search = GridSearchCV(
        pipe,
        {"model": grid["model"][:2]},
        scoring=make_stability_scorer(n_neighbors=5, n_draws=3, embedding="decoder"),
        cv=2,
    ).fit(data.data)
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] == 1.0
    assert scores[1] < 0.9


def test_resample_stability_scorer_in_cross_validate(data):
    pipe = make_pipeline(PopularityScaler(beta=0.5), WeightDecayAutoencoder(5))
    result = cross_validate(
        pipe,
        data.data,
        cv=2,
        scoring=make_stability_scorer("resample", n_neighbors=5, n_resamples=1),
    )
    assert result["test_score"].shape == (2,)
    assert np.all((result["test_score"] > 0) & (result["test_score"] <= 1))


def test_set_output_pandas_gives_named_columns_through_the_pipeline(data):
    items = [f"item{j}" for j in range(data.data.shape[1])]
    X = pd.DataFrame(data.data.toarray(), columns=items)
    pipe = Pipeline(
        [("scale", PopularityScaler(beta=0.5)), ("ae", DropoutAutoencoder(4))]
    ).set_output(transform="pandas")
    Z = pipe.fit_transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.columns) == [f"dropoutautoencoder{i}" for i in range(4)]
    scaled = pipe[0].transform(X)
    assert isinstance(scaled, pd.DataFrame)
    assert list(scaled.columns) == items
    # The same with the projection and sklearn's row Normalizer behind it.
    proj = make_pipeline(
        PopularityScaler(), ProjectedEmbedding(DropoutAutoencoder(3)), Normalizer()
    ).set_output(transform="pandas")
    P = proj.fit_transform(X)
    assert list(P.columns) == [f"projectedembedding{i}" for i in range(3)]
    np.testing.assert_allclose(np.linalg.norm(P.to_numpy(), axis=1), 1.0, rtol=1e-12)


def test_recall_scorer_on_pandas_input_keeps_feature_names(data):
    items = [f"item{j}" for j in range(data.data.shape[1])]
    X = pd.DataFrame(data.data.toarray(), columns=items)
    pipe = make_pipeline(PopularityScaler(), WeightDecayAutoencoder(4)).fit(X)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        score = make_recall_scorer(k=5)(pipe, X)
    assert 0 < score <= 1


def _long_tailed_log(n_users=300, n_items=80, seed=0):
    """Binary log with power-law item popularity, 5 items nobody saw (zero
    columns), users with a single interaction, stored explicit zeros, and
    two items with the same users (tied scores)."""
    rng = np.random.RandomState(seed)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 1.1
    popularity[-5:] = 0.0
    popularity /= popularity.sum()
    rows, cols = [], []
    for u in range(n_users):
        size = 1 if u % 10 == 0 else rng.randint(2, 15)
        items = rng.choice(
            n_items, size=min(size, n_items - 5), replace=False, p=popularity
        )
        rows += [u] * items.size
        cols += list(items)
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))
    X.data[:] = 1.0
    X = X.tolil()
    X[:, 20] = X[:, 3]  # a duplicate item: its scores tie with item 3's
    X = X.tocsr()
    # Stored explicit zeros: not interactions.
    X = sp.csr_matrix(
        (
            np.r_[X.data, np.zeros(3)],
            (np.r_[X.nonzero()[0], [1, 2, 3]], np.r_[X.nonzero()[1], [70, 71, 72]]),
        ),
        shape=X.shape,
    )
    return X


def _reference_ndcg(pipe, X, k=100, holdout=0.2, seed=0):
    """NDCG@k of the pipeline's last step ranking the scaled users, in numpy:
    dense scores, seen items last, ties to the smaller index."""
    X_train, X_test = train_test_split_interactions(
        X, test_size=holdout, random_state=seed
    )
    scale = pipe[0].scale_
    model = pipe[-1]
    S = (X_train.toarray() * scale) @ model.encoder_ @ model.decoder_.T
    seen = X_train.toarray() != 0
    S[seen] = -np.inf
    k = min(k, X.shape[1])
    test = X_test.toarray() != 0
    values = []
    for u in range(X.shape[0]):
        if not test[u].any():
            continue
        order = np.lexsort((np.arange(X.shape[1]), -S[u]))
        ranked = [j for j in order if not seen[u, j]][:k]
        dcg = sum(1.0 / np.log2(r + 2) for r, j in enumerate(ranked) if test[u, j])
        ideal = sum(1.0 / np.log2(r + 2) for r in range(min(k, test[u].sum())))
        values.append(dcg / ideal)
    return float(np.mean(values))


@pytest.mark.catalogue(
    "M35",
    input=(
        "``GridSearchCV`` over ``alpha`` of ``make_pipeline(PopularityScaler(0.5), "
        "WeightDecayAutoencoder(...))`` with the default score and with "
        "``make_ndcg_scorer()``, on a long-tailed log with unseen items, "
        "single-interaction users, stored zeros and tied items"
    ),
    outcome=(
        "The same numbers (rtol 1e-10) and the same alpha; both rank in the scaled "
        "item space the last step serves, equal to a numpy reference."
    ),
)
def test_pipeline_default_score_is_the_ndcg_scorer():
    """M35: a pipeline's default score and make_ndcg_scorer agree."""
    X = _long_tailed_log()
    pipe = make_pipeline(PopularityScaler(0.5), WeightDecayAutoencoder(8, alpha=1.0))
    fitted = clone(pipe).fit(X)
    expected = _reference_ndcg(fitted, X)
    assert fitted.score(X) == pytest.approx(expected, rel=1e-10)
    assert make_ndcg_scorer()(fitted, X) == pytest.approx(expected, rel=1e-10)
    grid = {"weightdecayautoencoder__alpha": [0.3, 1.0, 3.0, 6.0, 10.0]}
    cv = KFold(3, shuffle=True, random_state=0)
    by_score = GridSearchCV(pipe, grid, cv=cv).fit(X)
    by_scorer = GridSearchCV(pipe, grid, cv=cv, scoring=make_ndcg_scorer()).fit(X)
    assert_allclose(
        by_score.cv_results_["mean_test_score"],
        by_scorer.cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert by_score.best_params_ == by_scorer.best_params_
    assert np.ptp(by_score.cv_results_["mean_test_score"]) > 0  # alpha matters
