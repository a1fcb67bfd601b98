"""``filter_interactions`` and ``train_test_split_interactions`` keep the ids
of a DataFrame or of a ``load_interactions`` Bunch, in their order."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skcosim.datasets import filter_interactions, load_interactions
from skcosim.model_selection import train_test_split_interactions


def _frame(sparse=False, seed=0):
    """Long-tailed users x items with ids in no sorted order, an empty user
    and an unseen item, integer counts and a stored zero when sparse."""
    rng = np.random.RandomState(seed)
    n, p = 40, 25
    prob = 0.4 / np.arange(1, p + 1) ** 0.7
    D = (rng.rand(n, p) < prob).astype(float) * rng.randint(1, 4, (n, p))
    D[3] = 0.0  # a user without interactions
    D[:, 7] = 0.0  # an item nobody interacted with
    users = [f"user-{u}" for u in rng.permutation(n)]
    items = [f"{j * 7 % 101:03d}" for j in range(p)][::-1]  # '168', ...: unsorted
    if not sparse:
        return pd.DataFrame(D, index=users, columns=items)
    X = sp.csr_matrix(D)
    X = sp.csr_matrix(
        (np.r_[X.data, 0.0], (np.r_[X.nonzero()[0], 0], np.r_[X.nonzero()[1], 7])),
        shape=(n, p),
    )
    return pd.DataFrame.sparse.from_spmatrix(X, index=users, columns=items)


def _dense(frame):
    if hasattr(frame, "sparse"):
        return frame.sparse.to_dense().to_numpy(dtype=float)
    return frame.to_numpy(dtype=float)


def _k_core(D, min_item_count, min_user_count):
    """Brute force on a dense array: drop failing rows and columns until none
    fails; returns the kept row and column positions."""
    rows, cols = np.arange(D.shape[0]), np.arange(D.shape[1])
    while True:
        sub = D[np.ix_(rows, cols)] != 0
        keep_r = sub.sum(axis=1) >= max(min_user_count, 1)
        keep_c = sub.sum(axis=0) >= max(min_item_count, 1)
        if keep_r.all() and keep_c.all():
            return rows, cols
        rows, cols = rows[keep_r], cols[keep_c]


@pytest.mark.catalogue(
    "L65",
    input=(
        "``filter_interactions`` on a users x items DataFrame (dense and "
        "sparse, unsorted string ids, an empty user, an unseen item, a stored "
        "zero) and on a ``load_interactions(as_frame=True)`` Bunch"
    ),
    outcome=(
        "Correct: a sparse DataFrame with the kept ids in the input's order, "
        "values equal to ``frame.loc[kept users, kept items]``, the k-core of "
        "a brute-force dense filter"
    ),
)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("thresholds", [(0, 0), (3, 2), (5, 4)])
def test_filter_keeps_the_ids_of_a_dataframe(sparse, thresholds):
    """L65: ids in, ids out, in order; the values are the input's."""
    frame = _frame(sparse)
    D = _dense(frame)
    rows, cols = _k_core(D, *thresholds)
    kept = filter_interactions(
        frame, min_item_count=thresholds[0], min_user_count=thresholds[1]
    )
    assert isinstance(kept.data, pd.DataFrame) and kept.frame is kept.data
    assert kept.data.index.tolist() == frame.index[rows].tolist()
    assert kept.data.columns.tolist() == frame.columns[cols].tolist()
    assert kept.user_ids.tolist() == frame.index[rows].tolist()
    assert kept.item_ids.tolist() == frame.columns[cols].tolist()
    assert_array_equal(_dense(kept.data), D[np.ix_(rows, cols)])
    # as_frame=False: the CSR matrix with the same ids.
    plain = filter_interactions(
        frame,
        min_item_count=thresholds[0],
        min_user_count=thresholds[1],
        as_frame=False,
    )
    assert sp.issparse(plain.data) and "frame" not in plain
    assert_array_equal(plain.data.toarray(), D[np.ix_(rows, cols)])
    assert plain.item_ids.tolist() == kept.item_ids.tolist()


@pytest.mark.catalogue("L65b", part_of="L65")
def test_filter_keeps_the_ids_of_a_loader_bunch():
    """L65b: a ``load_interactions`` Bunch, with or without ``as_frame``,
    keeps its ids: ``item_ids`` as loaded (integers here), the frame's
    columns as strings (the loader's convention)."""
    rng = np.random.RandomState(1)
    log = pd.DataFrame(
        {
            "user": rng.choice(["b", "a", "c", "e", "d"] * 8, 200),
            "item": rng.randint(0, 30, 200) * 11,
        }
    )
    for as_frame in (False, True):
        bunch = load_interactions(log, "user", "item", as_frame=as_frame)
        kept = filter_interactions(bunch, min_item_count=8)
        D = _dense(bunch.data) if as_frame else bunch.data.toarray()
        rows, cols = _k_core(D, 8, 0)
        assert kept.item_ids.tolist() == bunch.item_ids[cols].tolist()
        assert kept.user_ids.tolist() == bunch.user_ids[rows].tolist()
        assert ("frame" in kept) == as_frame
        values = _dense(kept.data) if as_frame else kept.data.toarray()
        assert_array_equal(values, D[np.ix_(rows, cols)])
        if as_frame:
            assert kept.data.columns.tolist() == [str(i) for i in kept.item_ids]
            assert kept.data.index.tolist() == kept.user_ids.tolist()
    # A matrix with as_frame=True: positions as ids.
    X = load_interactions(log, "user", "item").data
    kept = filter_interactions(X, min_item_count=8, as_frame=True)
    rows, cols = _k_core(X.toarray(), 8, 0)
    assert kept.data.index.tolist() == rows.tolist()
    assert kept.data.columns.tolist() == [str(c) for c in cols]


def test_filter_refuses_ambiguous_ids():
    frame = _frame()
    with pytest.raises(ValueError, match="repeated user ids"):
        filter_interactions(frame.rename(columns={frame.columns[1]: frame.columns[0]}))
    with pytest.raises(InvalidParameterError, match="as_frame"):
        filter_interactions(frame, as_frame="yes")


@pytest.mark.catalogue(
    "L66",
    input=(
        "``train_test_split_interactions`` on a users x items DataFrame "
        "(dense and sparse, unsorted ids, an empty user, an unseen item) and "
        "on a ``load_interactions`` Bunch (with and without ``as_frame``)"
    ),
    outcome=(
        "Correct: two sparse DataFrames (Bunches) with the input's index and "
        "columns in their order, whose values are the split of the matrix with "
        "the same seed and add up to the input"
    ),
)
@pytest.mark.parametrize("sparse", [False, True])
def test_split_keeps_the_ids_of_a_dataframe(sparse):
    """L66: both parts carry every id, in order; the entries are the matrix
    split's."""
    frame = _frame(sparse)
    D = _dense(frame)
    train, test = train_test_split_interactions(frame, 0.3, random_state=4)
    ref_train, ref_test = train_test_split_interactions(
        sp.csr_matrix(D), 0.3, random_state=4
    )
    for part, ref in ((train, ref_train), (test, ref_test)):
        assert isinstance(part, pd.DataFrame)
        assert part.index.equals(frame.index) and part.columns.equals(frame.columns)
        assert_array_equal(_dense(part), ref.toarray())
    assert_array_equal(_dense(train) + _dense(test), D)
    assert not np.any((_dense(train) != 0) & (_dense(test) != 0))


@pytest.mark.catalogue("L66b", part_of="L66")
@pytest.mark.parametrize("as_frame", [False, True])
def test_split_keeps_the_ids_of_a_loader_bunch(as_frame):
    """L66b: Bunch in, two Bunches out with the same ids."""
    log = pd.DataFrame({"user": list("abcabcabcd") * 5, "item": list(range(50))})
    bunch = load_interactions(log, "user", "item", as_frame=as_frame)
    train, test = train_test_split_interactions(bunch, 0.2, random_state=0)
    ref = train_test_split_interactions(
        bunch.data.sparse.to_coo().tocsr() if as_frame else bunch.data,
        0.2,
        random_state=0,
    )
    for part, expected in zip((train, test), ref, strict=True):
        assert part.user_ids is bunch.user_ids and part.item_ids is bunch.item_ids
        assert ("frame" in part) == as_frame
        if as_frame:
            assert part.data.columns.equals(bunch.data.columns)
            assert part.data.index.equals(bunch.data.index)
            assert_array_equal(_dense(part.data), expected.toarray())
        else:
            assert_array_equal(part.data.toarray(), expected.toarray())


def test_split_refuses_a_broken_bunch():
    X = sp.random(5, 6, density=0.5, random_state=0, format="csr")
    with pytest.raises(ValueError, match="without \\['item_ids'\\]"):
        train_test_split_interactions({"data": X, "user_ids": np.arange(5)})
    with pytest.raises(ValueError, match="5 user_ids and 7 item_ids"):
        train_test_split_interactions(
            {"data": X, "user_ids": np.arange(5), "item_ids": np.arange(7)}
        )


def test_ids_reach_the_model_through_filter_and_split():
    """load_interactions -> filter_interactions -> train_test_split_interactions
    -> fit: the model's items are the filtered ids, in order, and answer
    item_embeddings(as_frame=True) and recommend(items=) by id."""
    from skcosim import WeightDecayAutoencoder

    rng = np.random.RandomState(3)
    log = pd.DataFrame(
        {"user": rng.randint(0, 80, 900), "movie": rng.zipf(1.6, 900) % 97 + 1000}
    )
    data = load_interactions(log, "user", "movie", as_frame=True)
    kept = filter_interactions(data, min_item_count=5, min_user_count=3)
    train, test = train_test_split_interactions(kept, 0.2, random_state=0)
    model = WeightDecayAutoencoder(4).fit(train.data)
    expected = [str(i) for i in kept.item_ids]
    assert model.feature_names_in_.tolist() == expected
    assert model.item_embeddings(as_frame=True).index.tolist() == expected
    candidates = expected[::3]
    ids, _ = model.recommend(train.data, 2, items=candidates)
    assert set(ids[ids != None].tolist()) <= set(candidates)  # noqa: E711
    assert test.data.columns.tolist() == expected
