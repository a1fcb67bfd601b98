"""Fitting a long-format log (user, item, value rows) as a matrix warns."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._validation import looks_like_interaction_log
from skcosim.datasets import load_interactions, make_clustered_interactions
from skcosim.preprocessing import ProjectedEmbedding

MODELS = [
    WeightDecayAutoencoder(2),
    DropoutAutoencoder(2),
    CosineAutoencoder(2, max_iter=3),
    ProjectedEmbedding(DropoutAutoencoder(2)),
]
MATCH = r"long-format interaction log.*load_interactions"


def _log(n_rows=600, n_users=40, n_items=70, seed=0):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "user": rng.randint(0, n_users, n_rows),
            "item": rng.randint(1000, 1000 + n_items, n_rows),
            "rating": rng.randint(1, 6, n_rows),
            "timestamp": rng.randint(10**9, 2 * 10**9, n_rows),
        }
    )


def _rule(table):
    """The documented rule, written out on a dense numpy table: 2-4 columns;
    each of the first two id-like (non-negative integer values) with >= 10
    distinct values and >= 2 rows per distinct value."""
    table = np.asarray(table, dtype=float)
    if not 2 <= table.shape[1] <= 4:
        return False
    for j in range(2):
        col = table[:, j]
        if (col < 0).any() or (col % 1 != 0).any():
            return False
        distinct = len(set(col.tolist()))
        if distinct < 10 or len(col) < 2 * distinct:
            return False
    return True


@pytest.mark.catalogue(
    "E93",
    input=(
        "``fit`` on a long-format log (user, item[, rating[, timestamp]] "
        "columns; a DataFrame, a float array, ids such as ``'u12'``)"
    ),
    outcome=(
        "A ``UserWarning`` naming ``load_interactions`` and the shape the "
        "model would fit (string ids: then the ``ValueError`` of validation)"
    ),
)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("columns", [2, 3, 4])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fitting_a_log_warns_naming_load_interactions(model, columns):
    """E93: a log fitted as a matrix warns once, naming the loader."""
    log = _log().iloc[:, :columns]
    for table in (log, log.to_numpy(dtype=float)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clone(model).fit(table)
        messages = [str(w.message) for w in caught if "long-format" in str(w.message)]
        assert len(messages) == 1, messages
        assert "load_interactions" in messages[0]
        assert (
            f"{type(model).__name__} would take as 600 users x {columns}"
            in (messages[0])
        )
        assert caught[0].filename == __file__  # points at the caller of fit


@pytest.mark.catalogue("E93b", part_of="E93")
def test_a_log_with_string_ids_warns_before_the_validation_error():
    """E93b: string ids cannot be fitted; the warning says what to do."""
    log = _log().assign(user=lambda d: "u" + d.user.astype(str))
    with pytest.warns(UserWarning, match=MATCH):
        with pytest.raises(ValueError):
            WeightDecayAutoencoder(2).fit(log)


@pytest.mark.parametrize(
    "table",
    [
        _log().iloc[:, :3],
        _log(n_rows=19, n_users=5, n_items=5),  # too few rows
        _log(n_users=9),  # 9 distinct users
        _log(n_users=10),
        _log(n_rows=100, n_users=60),  # fewer than 2 rows per user
        _log(n_rows=120, n_users=60),
        _log().assign(user=lambda d: d.user - 5),  # negative values
        _log().assign(item=lambda d: d.item + 0.5),  # not integers
        _log().assign(extra=1),  # 5 columns
        _log().iloc[:, [2, 0, 1]],  # ratings first
    ],
)
def test_the_rule_matches_its_definition(table):
    """The warning fires exactly on the documented rule (brute force)."""
    expected = _rule(table)
    assert (looks_like_interaction_log(table) is not None) == expected
    assert (looks_like_interaction_log(table.to_numpy(dtype=float)) is not None) == (
        expected
    )


def test_no_warning_on_matrices():
    """Users x items matrices, including small dense ones with few items and
    integer counts, do not warn."""
    rng = np.random.RandomState(0)
    matrices = [
        (rng.rand(200, 3) < 0.3).astype(float),  # binary, 3 items
        rng.randint(0, 6, (300, 4)).astype(float),  # ratings, 4 items
        rng.poisson(2.0, (100, 2)).astype(float),
        np.eye(30),
        rng.rand(50, 4),
        make_clustered_interactions(n_users=200, n_items=30, random_state=0).data,
        make_clustered_interactions(
            n_users=200, n_items=4, n_clusters=2, random_state=0
        ).data.toarray(),
    ]
    bunch = load_interactions(_log(), "user", "item", "rating", as_frame=True)
    matrices.append(bunch.data)
    for X in matrices:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*long-format")
            WeightDecayAutoencoder(2).fit(X)


@pytest.mark.catalogue(
    "E96",
    input=(
        "A long-format log given to ``filter_interactions`` or "
        "``train_test_split_interactions`` (which read users x items matrices)"
    ),
    outcome="The same ``UserWarning``, naming the function and ``load_interactions``",
)
def test_filter_and_split_warn_on_a_log():
    """E96: the k-core filter and the split read a users x items matrix
    too; a log given to them warns the same way, at the caller's line."""
    from skcosim.datasets import filter_interactions
    from skcosim.model_selection import train_test_split_interactions

    log = _log().iloc[:, :3]
    for function in (filter_interactions, train_test_split_interactions):
        with pytest.warns(UserWarning, match=MATCH) as caught:
            function(log)
        assert function.__name__ in str(caught[0].message)
        assert caught[0].filename == __file__
