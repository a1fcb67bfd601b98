"""restart_stability, and stabilities that are not available (issue 18)."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.exceptions import StabilityNotAvailableWarning
from skcosim.metrics import (
    NOT_AVAILABLE,
    gauge_stability,
    make_stability_scorer,
    resample_stability,
    restart_stability,
)
from skcosim.metrics._restart import _distinct_seeds, random_start_params
from skcosim.preprocessing import PopularityScaler

from ._reference import _brute_force


@pytest.fixture(scope="module")
def X():
    """Clustered, long-tailed interactions with two items nobody saw."""
    X = make_clustered_interactions(
        n_users=300, n_items=50, n_clusters=4, random_state=0
    ).data.tolil()
    X[:, [7, 30]] = 0
    return X.tocsr()


def _mean_pairwise_jaccard(embeddings, k):
    """Mean Jaccard@k over all pairs, items with a zero row in either left out."""
    scores = []
    for E1, E2 in itertools.combinations(embeddings, 2):
        (i1, _), (i2, _) = _brute_force(E1, k), _brute_force(E2, k)
        live = np.any(E1 != 0, axis=1) & np.any(E2 != 0, axis=1)
        scores.append(
            np.mean(
                [
                    len(set(a) & set(b)) / len(set(a) | set(b))
                    for a, b in zip(i1[live], i2[live], strict=True)
                ]
            )
        )
    return float(np.mean(scores))


@pytest.mark.catalogue(
    "M38",
    input=(
        "``restart_stability`` of closed forms (Objective 2, Objective 1 with "
        'a named scaling) and of ``DropoutAutoencoder(gauge="random")``\'s '
        "decoder, on clustered data with unseen items"
    ),
    outcome=(
        "Closed forms: exactly 1.0 (their fit does not depend on "
        "random_state); the random gauge: the mean pairwise Jaccard@k of a "
        "numpy brute force over fits with the same seeds (1e-12)"
    ),
)
def test_restart_stability_equals_the_brute_force(X):
    """M38: closed forms are 1.0 exactly; a seeded gauge matches numpy."""
    for model in [
        WeightDecayAutoencoder(6, alpha=1.0),
        DropoutAutoencoder(6, alpha=10.0, gauge="symmetric"),
        DropoutAutoencoder(6, alpha=10.0, gauge="random"),  # default: projected
    ]:
        assert restart_stability(model, X, 5, random_state=0) == 1.0
    model = DropoutAutoencoder(6, alpha=10.0, gauge="random")
    got = restart_stability(
        model, X, 5, n_restarts=4, embedding="decoder", random_state=3
    )
    seeds = _distinct_seeds(4, check_random_state(3))
    fits = [
        model.set_params(random_state=int(s)).fit(X).item_embeddings("decoder")
        for s in seeds
    ]
    expected = _mean_pairwise_jaccard(fits, 5)
    assert abs(got - expected) <= 1e-12
    assert got < 0.9  # the seed moves the neighbours of the raw decoder


@pytest.mark.catalogue(
    "M39",
    input=(
        "``restart_stability`` with ``n_restarts=1``, ``n_neighbors`` above "
        "the number of items, ``method='rbo'`` and a Pipeline"
    ),
    outcome=(
        "``InvalidParameterError`` naming n_restarts; ``ValueError`` "
        '"n_neighbors=60 is too large" before any fit; RBO and a Pipeline '
        "whose steps all get the seeds: values in [0, 1]"
    ),
)
def test_restart_stability_validates_its_input(X):
    """M39: bad input is named, before fitting."""
    with pytest.raises(InvalidParameterError, match="n_restarts"):
        restart_stability(WeightDecayAutoencoder(3), X, 5, n_restarts=1)
    with pytest.raises(ValueError, match="n_neighbors=60 is too large"):
        restart_stability(WeightDecayAutoencoder(3), X, 60)
    pipe = make_pipeline(
        PopularityScaler(), DropoutAutoencoder(5, alpha=5.0, gauge="random")
    )
    value = restart_stability(
        pipe, X, 5, embedding="decoder", method="rbo", random_state=0
    )
    assert 0.0 <= value < 1.0


@pytest.mark.catalogue(
    "M40",
    input=(
        "``restart_stability`` of ``CosineAutoencoder`` (deterministic "
        "default start) with and without ``random_start``, and inside a Pipeline"
    ),
    outcome=(
        'Restarts start at random (``init="random"``, also as '
        "``cosineautoencoder__init`` in a Pipeline) and differ: below 1. "
        "``random_start=False`` keeps the deterministic Objective 2 start of "
        "the exact softmax: 1.0"
    ),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_restart_stability_restarts_the_cosine_model_at_random(X):
    """M40: the cosine model's restarts start at random."""
    model = CosineAutoencoder(5, loss="softmax", max_iter=40)
    assert random_start_params(model) == {"init": "random"}
    pipe = make_pipeline(PopularityScaler(), model)
    assert random_start_params(pipe) == {"cosineautoencoder__init": "random"}
    assert random_start_params(WeightDecayAutoencoder()) == {}
    assert restart_stability(model, X, 5, n_restarts=2, random_state=0) < 0.95
    fixed = restart_stability(
        model, X, 5, n_restarts=2, random_start=False, random_state=0
    )
    assert fixed == 1.0


def _one_component_alpha(X):
    s = np.linalg.svd(X.toarray(), compute_uv=False)
    return (s[0] + s[1]) / 2  # keeps exactly one component of Objective 2


@pytest.mark.catalogue(
    "M36",
    input=(
        "Gauge, resample and restart stability, and both stability scorers, "
        "of an Objective 2 model whose ``alpha`` leaves exactly one component"
    ),
    outcome=(
        "Not available: ``NOT_AVAILABLE`` (-1.0) with a "
        "``StabilityNotAvailableWarning`` naming fewer than 2 effective components."
    ),
)
def test_stability_of_one_component_is_not_available(X):
    """M36: an alpha that leaves exactly one component."""
    alpha = _one_component_alpha(X)
    model = WeightDecayAutoencoder(6, alpha=alpha).fit(X)
    B = model.decoder_
    assert np.linalg.matrix_rank(B) == 1  # numpy's rank: one component
    calls = [
        lambda: gauge_stability(model, 5, random_state=0),
        lambda: resample_stability(
            WeightDecayAutoencoder(6, alpha=alpha), X, 5, n_resamples=1, random_state=0
        ),
        lambda: restart_stability(model, X, 5, random_state=0),
        lambda: make_stability_scorer("resample", 5, n_resamples=1)(model, X),
    ]
    for call in calls:
        with pytest.warns(StabilityNotAvailableWarning, match="fewer than 2 effective"):
            assert call() == NOT_AVAILABLE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.warns(StabilityNotAvailableWarning):
            assert make_stability_scorer("gauge", 5)(model, X) == NOT_AVAILABLE
    # Two components: a stability again.
    s = np.linalg.svd(X.toarray(), compute_uv=False)
    two = WeightDecayAutoencoder(6, alpha=(s[1] + s[2]) / 2).fit(X)
    assert gauge_stability(two, 5, random_state=0) == 1.0


@pytest.mark.catalogue(
    "M37",
    input=(
        "``GridSearchCV`` over ``alpha`` of ``WeightDecayAutoencoder`` with the "
        "gauge stability scorer"
    ),
    outcome=(
        "A ``UserWarning`` that the scorer is 1.0 for every setting of a "
        "gauge-free estimator and cannot choose between its candidates "
        "(every candidate ties); a Dropout decoder scored without the warning"
    ),
)
def test_gauge_scorer_warns_when_a_search_can_only_tie(X):
    """M37: the gauge scorer is constant within a gauge-free class."""
    from sklearn.model_selection import GridSearchCV

    with pytest.warns(UserWarning, match="cannot choose between candidates"):
        search = GridSearchCV(
            WeightDecayAutoencoder(5),
            {"alpha": [0.5, 1.0, 2.0]},
            scoring=make_stability_scorer("gauge", 5, n_draws=2),
            cv=2,
        ).fit(X)
    assert set(search.cv_results_["mean_test_score"]) == {1.0}
    model = DropoutAutoencoder(5, alpha=10.0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_stability_scorer("gauge", 5, n_draws=2, embedding="decoder")(model, X)
