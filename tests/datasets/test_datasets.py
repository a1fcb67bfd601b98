"""Tests of skcosim.datasets: the documented properties of the generator and
the loader's contract."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcosim.datasets import (
    filter_interactions,
    load_interactions,
    load_item_labels,
    make_clustered_interactions,
)

from .._stored_zeros import with_cancelling_duplicates, with_stored_zeros

SMALL = dict(n_users=2000, n_items=200, n_clusters=5)


@pytest.fixture(scope="module")
def small():
    return make_clustered_interactions(**SMALL, random_state=0)


def _in_cluster_share(bunch):
    rows, cols = bunch.data.nonzero()
    return np.mean(bunch.user_labels[rows] == bunch.item_labels[cols])


# -- make_clustered_interactions --------------------------------------------------


def test_generator_returns_binary_float64_csr_of_the_requested_shape(small):
    X = small.data
    assert sp.issparse(X) and X.format == "csr"
    assert X.dtype == np.float64
    assert X.shape == (2000, 200)
    assert_array_equal(np.unique(X.data), [1.0])
    assert small.item_labels.shape == (200,)
    assert small.user_labels.shape == (2000,)
    assert small.item_popularity.shape == (200,)


def test_generator_has_no_duplicate_entries(small):
    X = small.data.copy()
    X.sum_duplicates()
    assert X.nnz == small.data.nnz
    assert X.max() == 1.0


def test_items_sorted_by_cluster_then_descending_popularity(small):
    labels, pop = small.item_labels, small.item_popularity
    assert np.all(np.diff(labels) >= 0)
    assert_array_equal(np.unique(labels), np.arange(5))
    for c in range(5):
        assert np.all(np.diff(pop[labels == c]) < 0)


def test_clusters_have_equal_sizes_up_to_one_item():
    bunch = make_clustered_interactions(100, 203, 7, random_state=0)
    sizes = np.bincount(bunch.item_labels)
    assert sizes.max() - sizes.min() <= 1
    assert sizes.sum() == 203


def test_item_popularity_is_the_normalized_zipf_weights(small):
    # Step 1 of the docstring: w_r = (r + 1)^-a over the global ranks.
    expected = 1.0 / np.arange(1, 201)
    assert_allclose(np.sort(small.item_popularity)[::-1], expected / expected.sum())
    assert_allclose(small.item_popularity.sum(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("exponent", [0.5, 1.0, 1.5])
def test_observed_counts_follow_popularity_where_not_saturated(exponent):
    # Items that fewer than 30 % of the users of their cluster have: counts
    # proportional to w, so the log-log slope of counts on w is close to 1.
    bunch = make_clustered_interactions(
        n_users=2000,
        n_items=1000,
        n_interactions=10,
        popularity_exponent=exponent,
        random_state=0,
    )
    counts = np.asarray(bunch.data.sum(axis=0)).ravel()
    users_per_cluster = np.bincount(bunch.user_labels)[bunch.item_labels]
    tail = (counts > 0) & (counts < 0.3 * users_per_cluster)
    assert tail.sum() > 500
    slope = np.polyfit(np.log(bunch.item_popularity[tail]), np.log(counts[tail]), 1)
    assert abs(slope[0] - 1.0) < 0.15


def test_popularity_exponent_zero_makes_items_equally_popular():
    bunch = make_clustered_interactions(**SMALL, popularity_exponent=0, random_state=0)
    assert_allclose(bunch.item_popularity, 1 / 200)


@pytest.mark.parametrize("share", [0.3, 0.8])
def test_in_cluster_share_matches_the_parameter(share):
    # 2000 users x ~30 interactions: the standard error of the share is ~0.002.
    bunch = make_clustered_interactions(**SMALL, in_cluster_share=share, random_state=1)
    assert abs(_in_cluster_share(bunch) - share) < 0.02


def test_in_cluster_share_one_and_zero_are_exact():
    inside = make_clustered_interactions(**SMALL, in_cluster_share=1.0, random_state=0)
    outside = make_clustered_interactions(**SMALL, in_cluster_share=0.0, random_state=0)
    assert _in_cluster_share(inside) == 1.0
    assert _in_cluster_share(outside) == 0.0


def test_every_user_has_an_interaction_and_mean_activity_matches():
    bunch = make_clustered_interactions(**SMALL, n_interactions=12, random_state=0)
    per_user = np.diff(bunch.data.indptr)
    assert per_user.min() >= 1
    assert abs(per_user.mean() - 12) < 0.5


def test_users_are_assigned_to_all_clusters_roughly_uniformly(small):
    counts = np.bincount(small.user_labels, minlength=5)
    assert_allclose(counts / counts.sum(), 0.2, atol=0.04)


def test_same_random_state_gives_identical_data():
    a = make_clustered_interactions(**SMALL, random_state=42)
    b = make_clustered_interactions(**SMALL, random_state=42)
    assert (a.data != b.data).nnz == 0
    assert_array_equal(a.user_labels, b.user_labels)
    c = make_clustered_interactions(**SMALL, random_state=43)
    assert (a.data != c.data).nnz > 0


def test_single_cluster_and_counts_larger_than_the_cluster_are_cut():
    bunch = make_clustered_interactions(
        n_users=50, n_items=8, n_clusters=1, n_interactions=20, random_state=0
    )
    assert_array_equal(bunch.item_labels, 0)
    # 8 items only: every user has at most all of them.
    assert np.diff(bunch.data.indptr).max() <= 8


def test_more_clusters_than_items_is_an_error():
    with pytest.raises(ValueError, match="n_clusters"):
        make_clustered_interactions(n_users=10, n_items=3, n_clusters=4)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_users": 0},
        {"in_cluster_share": 1.5},
        {"n_interactions": 0.5},
        {"popularity_exponent": -1},
    ],
)
def test_invalid_generator_parameters_are_rejected(kwargs):
    with pytest.raises(ValueError):
        make_clustered_interactions(**{"n_items": 20, **kwargs})


# -- load_interactions --------------------------------------------------------------


LOG = pd.DataFrame(
    {
        "user": ["u2", "u1", "u2", "u1", "u3"],
        "item": ["b", "a", "a", "a", "c"],
        "rating": [4.0, 5.0, 3.0, 1.0, 2.0],
    }
)


def _expected_dense(value_col):
    # users u1, u2, u3 x items a, b, c; (u1, a) appears twice and is summed.
    if value_col is None:
        return np.array([[2.0, 0, 0], [1, 1, 0], [0, 0, 1]])
    return np.array([[6.0, 0, 0], [3, 4, 0], [0, 0, 2]])


@pytest.mark.parametrize("value_col", [None, "rating"])
@pytest.mark.parametrize("source", ["dataframe", "csv", "parquet", "csv.gz", "tsv"])
def test_load_sums_duplicates_and_indexes_ids(tmp_path, source, value_col):
    if source == "dataframe":
        arg = LOG
    elif source == "parquet":
        pytest.importorskip("pyarrow")
        arg = tmp_path / "log.parquet"
        LOG.to_parquet(arg)
    else:
        arg = tmp_path / f"log.{source}"
        LOG.to_csv(arg, index=False, sep="\t" if source == "tsv" else ",")
    bunch = load_interactions(arg, "user", "item", value_col)
    assert bunch.data.format == "csr" and bunch.data.dtype == np.float64
    assert_array_equal(bunch.data.toarray(), _expected_dense(value_col))
    assert list(bunch.user_ids) == ["u1", "u2", "u3"]
    assert list(bunch.item_ids) == ["a", "b", "c"]
    assert bunch.user_ids.name == "user" and bunch.item_ids.name == "item"


def test_load_keeps_csv_ids_as_strings(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item\n007,1\n7,1\n")
    bunch = load_interactions(path, "user", "item")
    assert list(bunch.user_ids) == ["007", "7"]


def test_load_drops_entries_that_sum_to_zero():
    log = pd.DataFrame({"u": [1, 1, 2], "i": [1, 1, 1], "v": [1.0, -1.0, 2.0]})
    bunch = load_interactions(log, "u", "i", "v")
    assert bunch.data.nnz == 1
    assert_array_equal(bunch.data.toarray(), [[0.0], [2.0]])


def test_load_round_trips_simulated_data(tmp_path):
    sim = make_clustered_interactions(n_users=100, n_items=30, random_state=0)
    rows, cols = sim.data.nonzero()
    path = tmp_path / "sim.csv"
    pd.DataFrame({"u": rows, "i": cols}).to_csv(path, index=False)
    bunch = load_interactions(path, "u", "i")
    users = bunch.user_ids.astype(int)
    items = bunch.item_ids.astype(int)
    assert_array_equal(
        bunch.data.toarray(),
        sim.data[np.asarray(users)][:, np.asarray(items)].toarray(),
    )


def test_load_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_interactions(tmp_path / "nope.csv", "user", "item")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_load_missing_column_names_the_column(tmp_path, suffix):
    if suffix == "parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"log.{suffix}"
    LOG.to_parquet(path) if suffix == "parquet" else LOG.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"'movie'.*not found"):
        load_interactions(path, "user", "movie")
    with pytest.raises(ValueError, match=r"'stars'.*not found"):
        load_interactions(path, "user", "item", "stars")


def test_load_missing_column_in_dataframe():
    with pytest.raises(ValueError, match="not found in the DataFrame"):
        load_interactions(LOG, "customer", "item")


def test_load_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        load_interactions(path, "user", "item")


def test_load_header_only_file_is_an_error(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("user,item\n")
    with pytest.raises(ValueError, match="no interactions"):
        load_interactions(path, "user", "item")


@pytest.mark.parametrize("bad", ["five", "", "inf"])
def test_load_non_numeric_or_missing_values_are_an_error(tmp_path, bad):
    path = tmp_path / "log.csv"
    path.write_text(f"user,item,rating\nu1,a,3\nu2,b,{bad}\n")
    with pytest.raises(ValueError, match=r"'rating'.*line 3"):
        load_interactions(path, "user", "item", "rating")


def test_load_nan_value_in_dataframe_is_an_error():
    log = LOG.assign(rating=[1.0, np.nan, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="missing"):
        load_interactions(log, "user", "item", "rating")


def test_load_missing_id_is_an_error(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item\nu1,a\n,b\n")
    with pytest.raises(ValueError, match=r"'user'.*missing id"):
        load_interactions(path, "user", "item")


def test_load_malformed_csv_is_an_error(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text('user,item\nu1,a\nu2,b,extra,fields\n"unclosed,c\n')
    with pytest.raises(ValueError, match="could not be read"):
        load_interactions(path, "user", "item")


def test_load_garbage_parquet_is_an_error(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "log.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(ValueError, match="not a readable Parquet"):
        load_interactions(path, "user", "item")


def test_load_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    import skcosim.datasets._load as load_module

    monkeypatch.setattr(load_module, "find_spec", lambda name: None)
    path = tmp_path / "log.parquet"
    path.write_bytes(b"")
    with pytest.raises(ImportError, match="pip install pyarrow"):
        load_interactions(path, "user", "item")


def test_load_rejects_wrong_argument_types():
    with pytest.raises(TypeError, match="path or a pandas DataFrame"):
        load_interactions(42, "user", "item")
    with pytest.raises(TypeError, match="user_col"):
        load_interactions(LOG, 0, "item")
    with pytest.raises(ValueError, match="must differ"):
        load_interactions(LOG, "user", "user")


def test_defaults_make_objective1_splits_disagree_and_weight_decay_find_clusters():
    # The reason for the defaults (docstring): on the default process, two
    # equally optimal splits of Objective 1 share few top-10 neighbours while
    # Objective 2 puts almost every neighbour in the item's own cluster.
    from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
    from skcosim.metrics import neighbor_label_agreement, neighbor_overlap

    bunch = make_clustered_interactions(n_users=4000, n_items=200, random_state=0)
    X, labels = bunch.data, bunch.item_labels
    alpha = 100.0 * np.sqrt(4000 / 20000)  # singular values grow as sqrt(n_users)
    identity = DropoutAutoencoder(20, alpha=alpha**2).fit(X)
    rescaled = DropoutAutoencoder(20, alpha=alpha**2, gauge="random", random_state=0)
    rescaled.fit(X)
    assert_allclose(identity.objective(X), rescaled.objective(X), rtol=1e-9)
    overlap = neighbor_overlap(
        identity.item_embeddings("decoder"), rescaled.item_embeddings("decoder")
    )
    assert overlap < 0.5
    wd = WeightDecayAutoencoder(20, alpha=alpha).fit(X)
    assert neighbor_label_agreement(wd.item_embeddings(), labels) > 0.95


# -- filter_interactions ----------------------------------------------------------


def _k_core_by_removing_one_at_a_time(dense, min_items, min_users, rng):
    """Remove one failing user or item at a time, picked at random, until none
    fails (users and items without interactions fail too)."""
    users = set(range(dense.shape[0]))
    items = set(range(dense.shape[1]))
    while True:
        failing = [
            ("user", u)
            for u in users
            if sum(dense[u, i] != 0 for i in items) < max(min_users, 1)
        ] + [
            ("item", i)
            for i in items
            if sum(dense[u, i] != 0 for u in users) < max(min_items, 1)
        ]
        if not failing:
            return sorted(users), sorted(items)
        kind, index = failing[rng.integers(len(failing))]
        (users if kind == "user" else items).discard(index)


@pytest.mark.parametrize("seed", range(6))
def test_filter_is_the_k_core_found_by_removing_one_at_a_time(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items = rng.integers(5, 25, size=2)
    density = rng.uniform(0.1, 0.5)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 5, (1, 1))
    for min_items, min_users in [(0, 0), (2, 0), (0, 3), (3, 3), (4, 2)]:
        users, items = _k_core_by_removing_one_at_a_time(
            dense, min_items, min_users, rng
        )
        kept = filter_interactions(
            sp.csr_matrix(dense), min_item_count=min_items, min_user_count=min_users
        )
        assert_array_equal(kept.user_ids, users)
        assert_array_equal(kept.item_ids, items)
        assert_array_equal(kept.data.toarray(), dense[np.ix_(users, items)])
        if users:  # every kept user and item meets its threshold
            assert (kept.data != 0).sum(axis=1).min() >= min_users
            assert (kept.data != 0).sum(axis=0).min() >= min_items


def test_filter_repeats_until_stable_and_is_idempotent():
    # A chain: each removal makes the next user or item rare.
    n = 8
    dense = np.zeros((n, n))
    for i in range(n):
        dense[i, i] = 1.0
        if i + 1 < n:
            dense[i, i + 1] = 1.0
    kept = filter_interactions(dense, min_item_count=2, min_user_count=2)
    assert kept.data.shape == (0, 0)
    assert kept.n_passes > 2  # one pass only removes the ends of the chain
    X = make_clustered_interactions(300, 60, 3, random_state=1).data
    once = filter_interactions(X, min_item_count=105, min_user_count=14)
    assert once.n_passes > 3 and once.data.shape[0] > 0
    assert np.diff(once.data.tocsc().indptr).min() >= 105
    assert np.diff(once.data.indptr).min() >= 14
    again = filter_interactions(once.data, min_item_count=105, min_user_count=14)
    assert again.n_passes == 1 and again.data.shape == once.data.shape


def test_filter_keeps_the_ids_of_a_loaded_log_and_ignores_explicit_zeros():
    log = pd.DataFrame(
        {
            "user": ["a", "a", "b", "b", "c", "c", "d"],
            "item": ["x", "y", "x", "y", "x", "z", "z"],
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    bunch = load_interactions(log, "user", "item", "value")
    kept = filter_interactions(bunch, min_item_count=2, min_user_count=2)
    # d has one item; without d, z has one user; without z, c has one item.
    assert list(kept.user_ids) == ["a", "b"]
    assert list(kept.item_ids) == ["x", "y"]
    assert_array_equal(kept.data.toarray(), [[1, 2], [3, 4]])
    assert kept.n_passes == 4
    X = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0]]))
    X.data[1] = 0.0  # an explicit zero: not an interaction
    assert filter_interactions(X, min_user_count=1).item_ids.tolist() == [0]


def test_filter_rejects_bad_input():
    with pytest.raises(ValueError, match="without \\['user_ids', 'item_ids'\\]"):
        filter_interactions({"data": np.eye(2)})
    bunch = {"data": np.eye(2), "user_ids": ["a"], "item_ids": ["x", "y"]}
    with pytest.raises(ValueError, match="1 user_ids and 2 item_ids"):
        filter_interactions(bunch)
    with pytest.raises(ValueError, match="min_item_count"):
        filter_interactions(np.eye(2), min_item_count=-1)
    with pytest.raises(ValueError, match="NaN"):
        filter_interactions(np.array([[np.nan, 1.0]]))


# -- load_item_labels -------------------------------------------------------------


def test_item_labels_multi_label_indicator(tmp_path):
    path = tmp_path / "genres.csv"
    path.write_text(
        "genre,movie\ndrama,10\nwar,10\ndrama,10\ncomedy,20\nhorror,99\nsf,007\n"
    )
    labels = load_item_labels(path, "movie", item_ids=["10", "20", "30", "7"])
    assert list(labels.label_names) == ["comedy", "drama", "war"]
    assert_array_equal(
        labels.data.toarray(), [[0, 1, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0]]
    )
    assert labels.n_labeled_items == 2
    # Ids are text: "007" is not "7"; unknown ids are listed once.
    assert sorted(labels.unknown_item_ids) == ["007", "99"]


@pytest.mark.parametrize("suffix", [".tsv", ".parquet"])
def test_item_labels_match_ids_as_text_across_file_types(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"item": [1, 2, 2], "tag": ["a", "a", "b"], "x": 0})
    path = tmp_path / f"labels{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)  # integer ids, and pandas' index column
    else:
        frame.to_csv(path, sep="\t", index=False)
    labels = load_item_labels(path, "item", "tag", item_ids=pd.Index([2, 1, 3]))
    assert_array_equal(labels.data.toarray(), [[1, 1], [1, 0], [0, 0]])


@pytest.mark.parametrize(
    "content, kwargs, message",
    [
        ("", {}, "is empty"),
        ("item,label\n", {}, "no labels"),
        ("product,label\n1,a\n", {}, "Column\\(s\\) \\['item'\\] not found"),
        ("item,label\n1,a\n", {"label_col": "genre"}, "\\['genre'\\] not found"),
        ("item,label,year\n1,a,1999\n", {}, "name the label column"),
        ("item\n1\n", {}, "name the label column"),
        ("item,label\n1,a\n2,\n", {}, "1 missing label\\(s\\), first on line 3"),
        ("item,label\n,a\n", {}, "missing item id"),
        ("item,label\nq,a\n", {}, "None of the 1 item ids .* 'q' in the labels"),
        ("item,label\n1,a\n", {"label_col": "item"}, "must differ"),
    ],
)
def test_bad_label_files_are_clear_errors(tmp_path, content, kwargs, message):
    path = tmp_path / "labels.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_item_labels(path, "item", item_ids=["1", "2"], **kwargs)


def test_item_labels_reject_missing_file_and_ambiguous_log_ids(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_item_labels(tmp_path / "nope.csv", "item", item_ids=["1"])
    frame = pd.DataFrame({"item": ["1"], "label": ["a"]})
    with pytest.raises(ValueError, match="repeat another as text"):
        load_item_labels(frame, "item", item_ids=pd.Index([1, "1"], dtype=object))
    with pytest.raises(TypeError, match="label_col"):
        load_item_labels(frame, "item", 3, item_ids=["1"])


@pytest.mark.catalogue(
    "D01",
    input=(
        "``make_clustered_interactions(popularity_exponent=400)``: weights "
        "``(r + 1) ** -400`` underflow to 0 from rank 6 on"
    ),
    outcome=(
        "Correct: no warning, and with one cluster every user gets exactly the ``n_u`` "
        "most popular items."
    ),
)
def test_simulated_data_with_an_extreme_popularity_exponent_is_exact():
    """D01: make_clustered_interactions(popularity_exponent=400).

    Weights ``(r + 1) ** -400`` underflow to 0 from rank 6 on. The draw must
    still follow the weights: with one cluster, every user gets exactly the
    ``n_u`` most popular items. Regression: log(0) = -inf raised a
    RuntimeWarning and left the order among the underflowed items to the
    tie handling of the partial sort.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        bunch = make_clustered_interactions(
            300, 10, 1, n_interactions=8, popularity_exponent=400, random_state=0
        )
    X = bunch.data.toarray()
    n_u = X.sum(axis=1).astype(int)
    assert n_u.max() > 6  # some users reach the underflowed ranks
    expected = (np.arange(10) < n_u[:, None]).astype(float)
    assert_array_equal(X, expected)


@pytest.mark.catalogue("M34b", part_of="M34")
def test_filter_counts_only_nonzero_values():
    """M34b: filter_interactions ignores stored zeros and cancelling duplicates."""
    rng = np.random.default_rng(0)
    dense = (rng.random((30, 20)) < 0.15).astype(float)
    rows, cols = np.nonzero(dense == 0)
    pick = rng.choice(len(rows), 60, replace=False)
    dirty = with_cancelling_duplicates(
        with_stored_zeros(dense, rows[pick], cols[pick]), users=range(0, 30, 3)
    )
    for min_items, min_users in [(0, 0), (2, 2), (3, 2), (2, 4)]:
        users, items = _k_core_by_removing_one_at_a_time(
            dense, min_items, min_users, rng
        )
        kept = filter_interactions(
            dirty, min_item_count=min_items, min_user_count=min_users
        )
        assert_array_equal(kept.user_ids, users)
        assert_array_equal(kept.item_ids, items)
        assert_array_equal(kept.data.toarray(), dense[np.ix_(users, items)])
        assert np.all(kept.data.data != 0)
