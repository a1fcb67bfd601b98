"""The ranking metrics, their scorers and the splitter on bad and degenerate
held-out data.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import WeightDecayAutoencoder
from skcosim.metrics import (
    make_ndcg_scorer,
    make_recall_scorer,
    make_stability_scorer,
    ndcg_at_k,
    recall_at_k,
)
from skcosim.model_selection import train_test_split_interactions

from .._stored_zeros import with_cancelling_duplicates, with_stored_zeros


@pytest.fixture
def split(interactions):
    X_train, X_test = train_test_split_interactions(
        interactions, test_size=0.3, random_state=0
    )
    model = WeightDecayAutoencoder(n_components=3).fit(X_train)
    return model, X_train, X_test


@pytest.mark.catalogue(
    "M21",
    input=(
        "``recall_at_k`` / ``ndcg_at_k`` with an empty ``X_test``, ``k`` > "
        "items, other users, an unfitted model, NaN"
    ),
    outcome=(
        '``ValueError``: "X_test holds no interaction" / "k=16 is larger '
        'than the number of items" / "must hold the same users" / "X_test '
        'contains NaN"; ``NotFittedError``'
    ),
)
@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_ranking_metrics_on_bad_held_out_data_name_the_problem(split, metric):
    """M21: empty X_test, k > items, other users, unfitted model, NaN."""
    model, X_train, X_test = split
    with pytest.raises(ValueError, match="X_test holds no interaction"):
        metric(model, X_train, sp.csr_matrix(X_test.shape), 5)
    with pytest.raises(ValueError, match="k=16 is larger than the number of items"):
        metric(model, X_train, X_test, 16)
    with pytest.raises(ValueError, match="must hold the same users"):
        metric(model, X_train, X_test[:10], 5)
    with pytest.raises(NotFittedError):
        metric(WeightDecayAutoencoder(n_components=3), X_train, X_test, 5)
    nan_test = X_test.toarray()
    nan_test[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_test contains NaN"):
        metric(model, X_train, nan_test, 5)


@pytest.mark.catalogue(
    "M22",
    input="Ranking metrics of a zero model (all scores tie)",
    outcome=(
        "Correct: a value in [0, 1]; per-user values are NaN exactly for "
        "users without held-out items (documented marker)"
    ),
)
@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
def test_ranking_metrics_of_a_zero_model_are_defined(split, metric):
    """M22: every component cut: all scores tie, the metric is still in [0, 1]."""
    _, X_train, X_test = split
    zero = WeightDecayAutoencoder(n_components=3, alpha=1e6).fit(X_train)
    score = metric(zero, X_train, X_test, 5)
    assert 0.0 <= score <= 1.0
    per_user = metric(zero, X_train, X_test, 5, average=False)
    # NaN marks (documented) only users without held-out items.
    no_test = np.diff(sp.csr_matrix(X_test).indptr) == 0
    assert_array_equal(np.isnan(per_user), no_test)


@pytest.mark.catalogue(
    "M23",
    input=(
        "``train_test_split_interactions``: users with 0 or 1 interactions; "
        "``test_size`` 0 or 1"
    ),
    outcome=(
        "Correct: ``X_train + X_test == X``, a single interaction stays in "
        "training; ``InvalidParameterError`` for ``test_size``"
    ),
)
def test_train_test_split_of_degenerate_users():
    """M23: users with 0 or 1 interaction; test_size outside (0, 1)."""
    X = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 1, 1]], dtype=float)
    X_train, X_test = train_test_split_interactions(X, 0.5, random_state=0)
    assert_array_equal((X_train + X_test).toarray(), X)
    assert X_train[1].nnz == 1 and X_test[1].nnz == 0  # the only one stays
    assert X_test[2].nnz == 2
    for bad in (0.0, 1.0):
        with pytest.raises(InvalidParameterError, match="'test_size' parameter"):
            train_test_split_interactions(X, bad)


@pytest.mark.catalogue(
    "M24",
    input=(
        "Ranking scorers with ``k=20`` (the recall scorer's default) on 15 "
        "items; ``make_ndcg_scorer()`` there"
    ),
    outcome=(
        '``ValueError``: "k=20 is larger than the number of items (15)"; the '
        "NDCG scorer's default (``k=None``) is ``score``'s: all 15 items, the "
        "same number as ``score``"
    ),
)
def test_scorers_with_more_neighbors_than_items_name_k(interactions):
    """M24: k=20 on 15 items; the NDCG scorer's default is score's."""
    model = WeightDecayAutoencoder(n_components=3).fit(interactions)
    for make in (make_recall_scorer, make_ndcg_scorer):
        with pytest.raises(ValueError, match="k=20 is larger than the number"):
            make(k=20)(model, interactions)
    assert make_ndcg_scorer()(model, interactions) == pytest.approx(
        model.score(interactions), rel=1e-12
    )
    with pytest.warns(UserWarning, match="cannot choose between"):
        assert make_stability_scorer()(model, interactions) == 1.0


@pytest.mark.catalogue(
    "M29",
    input=(
        "``recall_at_k`` / ``ndcg_at_k`` with an ``X_test`` that shares "
        "entries with ``X_train`` (e.g. the full ``X`` as ``X_train``; "
        "dense, sparse or a DataFrame)"
    ),
    outcome=(
        '``ValueError``: "X_train and X_test share 114 nonzero entries: the ranking '
        'leaves out the items a user has in X_train ...".'
    ),
)
@pytest.mark.parametrize("metric", [recall_at_k, ndcg_at_k])
@pytest.mark.parametrize("container", ["dense", "sparse", "DataFrame"])
def test_ranking_with_test_entries_in_the_training_matrix_is_an_error(
    split, metric, container
):
    """M29: ``X_test`` sharing entries with ``X_train`` (e.g. the full ``X``
    passed as ``X_train``). Regression: 0.0, or silently lowered, since the
    items in ``X_train`` are never recommended."""
    model, X_train, X_test = split
    full = X_train + X_test
    if container == "dense":
        full = full.toarray()
    elif container == "DataFrame":
        full = pd.DataFrame(full.toarray())
    with pytest.raises(ValueError, match=r"share \d+ nonzero entries"):
        metric(model, full, X_test, 5)
    assert 0.0 < metric(model, X_train, X_test, 5) <= 1.0


@pytest.mark.catalogue(
    "M34",
    input=(
        "``train_test_split_interactions`` of a sparse ``X`` with stored 0.0 "
        "entries and duplicate entries that sum to 0 (``+1, -1``)"
    ),
    outcome=(
        "Correct: only nonzero values are interactions: each user holds out "
        "``round(test_size * n_u)`` of its ``n_u`` nonzero entries (counted on the "
        "dense matrix), ``X_train + X_test == X`` and neither stores a zero."
    ),
)
def test_train_test_split_counts_only_nonzero_values(interactions):
    """M34: the split ignores stored zeros and cancelling duplicates."""
    X = sp.csr_matrix(interactions)
    rng = np.random.RandomState(0)
    rows, cols = np.nonzero(interactions == 0)
    pick = rng.choice(len(rows), 40, replace=False)
    dirty = with_cancelling_duplicates(
        with_stored_zeros(X, rows[pick], cols[pick]), users=range(0, 80, 4)
    )
    dense = dirty.toarray()
    for seed in range(5):
        X_train, X_test = train_test_split_interactions(dirty, 0.3, random_state=seed)
        assert_array_equal((X_train + X_test).toarray(), dense)
        for part in (X_train, X_test):
            assert np.all(part.data != 0) and part.has_canonical_format
        n_u = np.count_nonzero(dense, axis=1)
        expected = np.minimum(np.floor(0.3 * n_u + 0.5), np.maximum(n_u - 1, 0))
        assert_array_equal(np.diff(X_test.indptr), expected)
        assert_array_equal(np.diff(X_train.indptr), n_u - expected)
