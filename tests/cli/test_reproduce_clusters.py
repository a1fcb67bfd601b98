"""``skcosim reproduce``: the cluster scores of its report and its cosine model."""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skcosim.cli import _models, _settings
from skcosim.datasets import make_clustered_interactions


def _brute_force(E, labels):
    """Reference: every pair of items, one at a time."""
    same, across = [], []
    for i in range(len(E)):
        for j in range(len(E)):
            if i == j:
                continue
            ni, nj = np.linalg.norm(E[i]), np.linalg.norm(E[j])
            c = 0.0 if ni == 0 or nj == 0 else float(E[i] @ E[j]) / (ni * nj)
            (same if labels[i] == labels[j] else across).append(c)
    return np.mean(same), np.mean(np.abs(across))


@pytest.mark.catalogue(
    "C27",
    input=(
        "``cluster_cosines`` of item embeddings with zero rows, tiny rows, "
        "a singleton cluster and unequal cluster sizes"
    ),
    outcome=(
        "Correct: mean within-cluster cosine and mean absolute between-cluster "
        "cosine equal a brute-force loop over pairs (zero rows: cosine 0)"
    ),
)
def test_cluster_cosines_match_a_brute_force_loop():
    """C27: the two numbers ``report.json`` gives per model."""
    rng = np.random.default_rng(0)
    E = rng.standard_normal((23, 4))
    E[3] = 0.0  # an item without embedding
    E[7] *= 1e-150  # a tiny row keeps its direction
    labels = np.array([0] * 10 + [1] * 12 + [2])  # cluster 2 has one item
    within, between = _models.cluster_cosines(E, labels)
    ref_within, ref_between = _brute_force(E, labels)
    assert_allclose(within, ref_within, rtol=1e-12)
    assert_allclose(between, ref_between, rtol=1e-12)
    # The ground truth's panel scores (1, 0).
    truth = np.eye(3)[labels]
    assert _models.cluster_cosines(truth, labels) == (1.0, 0.0)


def test_cluster_cosines_without_pairs_are_none():
    assert _models.cluster_cosines(np.ones((3, 2)), np.array([0, 0, 0]))[1] is None
    assert _models.cluster_cosines(np.eye(2), np.array([0, 1]))[0] is None


@pytest.mark.slow
@pytest.mark.catalogue(
    "C28",
    input="``skcosim reproduce --quick``: its cosine-trained model on its data",
    outcome=(
        "Correct: the fit converges without a warning and its item cosines show "
        "the clusters (within-cluster cosine above the between-cluster absolute "
        "cosine by more than 0.4)"
    ),
)
def test_reproduce_cosine_model_converges_and_shows_the_clusters():
    """C28: the Objective 3 panel of the README's command.

    Before, at temperature 0.1 and 30 iterations, it stopped at ``max_iter``
    (a warning in the report) with positive and negative stripes between
    clusters.
    """
    settings = _settings.REPRODUCE_SETTINGS["quick"]
    data = make_clustered_interactions(
        settings["n_users"],
        settings["n_items"],
        settings["n_clusters"],
        random_state=0,
    )
    (spec,) = [
        s
        for s in _models.default_models(
            settings["n_components"],
            settings["alpha"],
            random_state=0,
            max_iter=settings["max_iter"],
            temperature=settings.get("temperature"),
        )
        if s.iterative
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = spec.estimator.fit(data.data)
    assert model.fit_warning_ is None
    within, between = _models.cluster_cosines(
        model.item_embeddings(spec.embedding), data.item_labels
    )
    assert within - between > 0.4
    assert math.isfinite(within) and math.isfinite(between)


@pytest.mark.catalogue(
    "C29",
    input="A cosine-trained model of the report whose fit stops at ``max_iter``",
    outcome=(
        "Warns: its reason (``fit_warning_``) is a note of its row, once, and "
        "the cluster scores are in its row"
    ),
)
def test_a_fit_warning_is_one_note_of_its_row():
    """C29: the audit and reproduce reports show why a fit did not converge."""
    data = make_clustered_interactions(200, 30, 3, random_state=0)
    (spec,) = [
        s
        for s in _models.default_models(4, 1.0, random_state=0, max_iter=1)
        if s.iterative
    ]
    (result,) = _models.compare_models(
        [spec],
        data.data,
        labels=data.item_labels,
        n_draws=1,
        resample_draws=1,
        clusters=data.item_labels,
    )
    notes = result.scores["notes"]
    assert result.model.fit_warning_ in notes
    assert notes.count(result.model.fit_warning_) == 1
    assert "max_iter=1" in result.model.fit_warning_
    for key in ("within_cluster_cosine", "between_cluster_abs_cosine"):
        assert 0.0 <= abs(result.scores[key]) <= 1.0
