"""Item ids in and out: similar_items, recommend, as_frame, and the default score."""

import os
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import load_interactions, make_clustered_interactions
from skcosim.metrics import cosine_neighbors, make_ndcg_scorer, make_recall_scorer
from skcosim.model_selection import train_test_split_interactions

MODELS = [
    WeightDecayAutoencoder(6, alpha=1.0),
    DropoutAutoencoder(6, alpha=5.0, gauge="random", random_state=0),
    CosineAutoencoder(6, max_iter=30),
]


@pytest.fixture(scope="module")
def X():
    return make_clustered_interactions(
        n_users=300, n_items=60, n_clusters=4, n_interactions=10, random_state=0
    ).data


@pytest.fixture(scope="module")
def frame(X):
    users = [f"u{i}" for i in range(X.shape[0])]
    items = [f"item-{j:03d}" for j in range(X.shape[1])]
    return pd.DataFrame.sparse.from_spmatrix(X, index=users, columns=items)


def _brute_force_recommend(model, X, n, filter_seen=True):
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    S = model.inverse_transform(model.transform(X)).astype(np.float64)
    if filter_seen:
        S[Xd != 0] = -np.inf
    order = np.argsort(-S, axis=1, kind="stable")[:, :n]
    return order, np.take_along_axis(S, order, axis=1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("embedding", ["projected", "decoder", "encoder"])
def test_similar_items_are_the_cosine_neighbors_of_the_embedding(X, model, embedding):
    model = clone(model).fit(X)
    ids, scores = model.similar_items(
        np.arange(X.shape[1]), n_neighbors=5, embedding=embedding
    )
    ind, sims = cosine_neighbors(model.item_embeddings(embedding), n_neighbors=5)
    assert_array_equal(ids, ind)
    assert_allclose(scores, sims, atol=1e-10)
    assert not np.any(ids == np.arange(X.shape[1])[:, None])  # never itself


def test_similar_items_batches_give_the_same_answer(X):
    model = WeightDecayAutoencoder(6).fit(X)
    items = [3, 7, 0, 59]
    full = model.similar_items(items, n_neighbors=8)
    one_at_a_time = model.similar_items(items, n_neighbors=8, batch_size=1)
    assert_array_equal(one_at_a_time[0], full[0])
    assert_allclose(one_at_a_time[1], full[1], rtol=1e-12)


def test_similar_items_answers_with_feature_names(X, frame):
    model = WeightDecayAutoencoder(6).fit(frame)
    by_name, scores = model.similar_items(["item-003", "item-010"], n_neighbors=4)
    by_index, _ = WeightDecayAutoencoder(6).fit(X).similar_items([3, 10], n_neighbors=4)
    assert by_name.dtype == object
    assert_array_equal(by_name, frame.columns.to_numpy()[by_index])
    assert scores.shape == (2, 4)
    single, _ = model.similar_items("item-003", n_neighbors=4)
    assert_array_equal(single, by_name[:1])


def test_similar_items_rejects_unknown_items_and_a_too_large_n(X, frame):
    named = WeightDecayAutoencoder(4).fit(frame)
    with pytest.raises(ValueError, match=r"not among the fitted items.*'nope'"):
        named.similar_items(["item-001", "nope"])
    with pytest.raises(ValueError, match=r"7 and '7' differ"):
        named.similar_items([1])
    plain = WeightDecayAutoencoder(4).fit(X)
    with pytest.raises(TypeError, match="column indices"):
        plain.similar_items(["item-001"])
    with pytest.raises(ValueError, match=r"in \[0, 60\)"):
        plain.similar_items([-1])
    with pytest.raises(ValueError, match="n_neighbors == 60, must be <= 59"):
        plain.similar_items([0], n_neighbors=60)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_recommend_ranks_the_reconstruction_without_seen_items(X, model):
    model = clone(model).fit(X)
    ids, scores = model.recommend(X, k=7)
    expected_ids, expected_scores = _brute_force_recommend(model, X, 7)
    assert_array_equal(ids, expected_ids)
    assert_allclose(scores, expected_scores, rtol=1e-10)
    seen = X.toarray() != 0
    assert not np.any(np.take_along_axis(seen, ids, axis=1))


def test_recommend_without_filter_and_in_batches(X):
    model = DropoutAutoencoder(5, alpha=3.0).fit(X)
    ids, scores = model.recommend(X[:40], k=5, filter_seen=False)
    expected_ids, expected_scores = _brute_force_recommend(
        model, X[:40], 5, filter_seen=False
    )
    assert_array_equal(ids, expected_ids)
    assert_allclose(scores, expected_scores, rtol=1e-10)
    batched = model.recommend(X[:40], k=5, filter_seen=False, batch_size=3)
    assert_array_equal(batched[0], ids)
    assert_allclose(batched[1], scores, rtol=1e-12)


def test_recommend_pads_users_with_too_few_unseen_items(frame):
    model = WeightDecayAutoencoder(3).fit(frame)
    heavy = frame.iloc[:2].sparse.to_dense().copy()
    heavy.iloc[0, :] = 1.0
    heavy.iloc[0, [5, 9]] = 0.0  # two unseen items left
    ids, scores = model.recommend(heavy, k=4)
    assert set(ids[0, :2]) == {"item-005", "item-009"}
    assert list(ids[0, 2:]) == [None, None]
    assert np.all(scores[0, 2:] == -np.inf) and np.all(np.isfinite(scores[0, :2]))
    assert np.all(np.isfinite(scores[1]))
    plain = WeightDecayAutoencoder(3).fit(heavy.to_numpy())
    ids, _ = plain.recommend(heavy.to_numpy(), k=4)
    assert list(ids[0, 2:]) == [-1, -1]


def test_recommend_checks_its_input(X, frame):
    model = WeightDecayAutoencoder(3).fit(X)
    with pytest.raises(ValueError, match="expecting 60 features"):
        model.recommend(X[:, :50])
    with pytest.raises(ValueError, match="k == 61, must be <= 60"):
        model.recommend(X, k=61)
    with pytest.raises(TypeError, match="filter_seen"):
        model.recommend(X, filter_seen="yes")
    named = WeightDecayAutoencoder(3).fit(frame)
    renamed = frame.rename(columns={"item-000": "other"})
    with pytest.raises(ValueError, match="feature names"):
        named.recommend(renamed)


# -- item ids in: load_interactions(as_frame=True) -------------------------------


def test_as_frame_returns_a_sparse_frame_whose_ids_reach_feature_names_in():
    log = pd.DataFrame({"user": ["b", "a", "b", "c"], "item": [30, 10, 10, 20]})
    plain = load_interactions(log, "user", "item")
    bunch = load_interactions(log, "user", "item", as_frame=True)
    frame = bunch.data
    assert bunch.frame is frame
    assert all(isinstance(dtype, pd.SparseDtype) for dtype in frame.dtypes)
    assert frame.columns.tolist() == ["10", "20", "30"]
    assert frame.index.tolist() == ["a", "b", "c"]
    assert_array_equal(frame.sparse.to_coo().toarray(), plain.data.toarray())
    model = WeightDecayAutoencoder(2).fit(frame)
    assert_array_equal(model.feature_names_in_, ["10", "20", "30"])


def test_as_frame_rejects_ids_that_collide_as_strings_and_a_non_boolean():
    log = pd.DataFrame(
        {"user": [1, 1, 2], "item": pd.Series([7, "7", 8], dtype=object)}
    )
    with pytest.raises(ValueError, match="same as strings"):
        load_interactions(log, "user", "item", as_frame=True)
    with pytest.raises(TypeError, match="as_frame must be True or False"):
        load_interactions(log, "user", "item", as_frame="yes")


def _movielens_inter_file(cache):
    """MovieLens-100k's interaction file from the recbole wheel: cached, or
    downloaded with pip when SKCOSIM_TEST_DOWNLOAD=1 (no network otherwise)."""
    from pathlib import Path

    roots = [Path(__file__).resolve().parents[2] / "benchmarks" / ".cache", cache]
    wheels = [w for root in roots for w in sorted(root.glob("recbole-1.2.1-*.whl"))]
    if not wheels and os.environ.get("SKCOSIM_TEST_DOWNLOAD") != "1":
        pytest.skip(
            "MovieLens-100k (the recbole wheel) is not in benchmarks/.cache; "
            "set SKCOSIM_TEST_DOWNLOAD=1 to let the tests download it"
        )
    if not wheels:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-q"]
        result = subprocess.run(
            [*pip, "recbole==1.2.1", "-d", str(cache)],
            capture_output=True,
            timeout=300,
        )
        wheels = sorted(cache.glob("recbole-1.2.1-*.whl"))
        if result.returncode or not wheels:
            pytest.skip("MovieLens-100k (the recbole wheel) could not be downloaded")
    with zipfile.ZipFile(wheels[0]) as wheel:
        return wheel.read("recbole/dataset_example/ml-100k/ml-100k.inter").decode()


@pytest.fixture(scope="module")
def movielens_csv(tmp_path_factory):
    """MovieLens-100k as a CSV file with user_id and item_id columns."""
    cache = tmp_path_factory.mktemp("movielens")
    text = _movielens_inter_file(cache)
    table = pd.read_csv(pd.io.common.StringIO(text), sep="\t")
    table.columns = [c.split(":")[0] for c in table.columns]
    path = cache / "ratings.csv"
    table[["user_id", "item_id"]].to_csv(path, index=False)
    return path


def test_movielens_through_as_frame_answers_with_the_csv_ids(movielens_csv):
    bunch = load_interactions(movielens_csv, "user_id", "item_id", as_frame=True)
    frame = bunch.data
    assert frame.shape == (943, 1682)
    model = WeightDecayAutoencoder(32, alpha=10.0).fit(frame)
    csv_items = set(pd.read_csv(movielens_csv, dtype=str)["item_id"])
    assert set(model.feature_names_in_) == csv_items
    ids, scores = model.similar_items(
        ["50", "181"], n_neighbors=10
    )  # two popular movies
    assert ids.shape == (2, 10)
    assert set(ids.ravel()) <= csv_items
    assert "50" not in ids[0] and "181" not in ids[1]
    assert np.all(np.diff(scores, axis=1) <= 0)

    recommended, _ = model.recommend(frame, k=20)
    seen = frame.sparse.to_coo().tocsr()
    columns = frame.columns
    for u in range(frame.shape[0]):
        watched = set(columns[seen.indices[seen.indptr[u] : seen.indptr[u + 1]]])
        assert not watched & set(recommended[u])


# -- the default score ranks held-out interactions --------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_score_is_held_out_ndcg_with_a_fixed_seed(model):
    X = make_clustered_interactions(
        n_users=200, n_items=120, n_interactions=12, random_state=1
    ).data
    model = clone(model).fit(X)
    expected = make_ndcg_scorer(k=100, holdout=0.2, random_state=0)(model, X)
    assert model.score(X) == pytest.approx(expected, rel=1e-12)
    assert model.score(X) == model.score(X)  # the same share is hidden each time
    assert 0.0 < model.score(X) <= 1.0


def test_score_with_fewer_than_100_items_ranks_them_all(X):
    model = WeightDecayAutoencoder(4).fit(X)
    assert model.score(X) == pytest.approx(
        make_ndcg_scorer(k=X.shape[1], random_state=0)(model, X), rel=1e-12
    )


def test_score_needs_a_user_with_three_interactions():
    X = np.eye(5)
    model = WeightDecayAutoencoder(2).fit(X)
    with pytest.raises(ValueError, match="no user of X has 3 or more"):
        model.score(X)


@pytest.mark.catalogue(
    "M50",
    input=(
        "``score(X)`` on users with exactly two interactions (20 % of 2 "
        "rounds to 0), alone or among users with more"
    ),
    outcome=(
        "Error when no user can be scored, stating the rule (one held-out and one kept "
        "interaction, so at least 3); otherwise a ``UserWarning`` with the number of "
        "users left out of the mean (the brute-force count)."
    ),
)
def test_score_states_its_rule_and_counts_the_users_it_leaves_out():
    """M50: score() on users with exactly two interactions.

    Regression: with only two-interaction users the error said that no user
    has two; mixed with others, they left the mean without a word.
    """
    rng = np.random.RandomState(0)
    X = np.zeros((40, 15))
    for u in range(40):
        n_u = 2 if u % 3 == 0 else 1 if u % 7 == 0 else 5  # 14, 4 and 22 users
        X[u, rng.choice(15, n_u, replace=False)] = rng.randint(1, 4, n_u)
    X[39] = 0  # a user without interactions is left out too
    model = WeightDecayAutoencoder(3).fit(X)
    with pytest.raises(ValueError, match=r"one held out, one kept.*no user of X"):
        model.score(X[::3])  # users 0, 3, 6, ...: two interactions each
    brute = int(np.sum(np.count_nonzero(X, axis=1) < 3))
    assert brute == 18  # 14 users with 2 (user 39 emptied), 4 with 1
    with pytest.warns(UserWarning, match=rf"^{brute} of 40 users of X have fewer"):
        score = model.score(X)
    # brute force: rank every item unseen in training by the reconstruction
    X_train, X_test = train_test_split_interactions(X, 0.2, random_state=0)
    X_train, X_test = X_train.toarray(), X_test.toarray()
    scores = model.inverse_transform(model.transform(X_train))
    ndcg = []
    for u in range(40):
        hidden = set(np.flatnonzero(X_test[u]))
        if not hidden:
            continue
        order = [i for i in np.argsort(-scores[u], kind="stable") if not X_train[u, i]]
        dcg = sum(1 / np.log2(r + 2) for r, i in enumerate(order) if i in hidden)
        ndcg.append(dcg / sum(1 / np.log2(r + 2) for r in range(len(hidden))))
    assert len(ndcg) == 40 - brute
    assert score == pytest.approx(np.mean(ndcg), rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(
    "estimator, grid",
    [
        (WeightDecayAutoencoder(20), np.geomspace(0.5, 64, 8)),
        (DropoutAutoencoder(20), np.geomspace(1, 4096, 7)),
    ],
    ids=["weight_decay", "dropout"],
)
def test_grid_search_without_scoring_picks_the_recall_scorers_alpha(estimator, grid):
    X = make_clustered_interactions(
        n_users=800, n_items=150, n_clusters=5, n_interactions=15, random_state=0
    ).data
    cv = KFold(3, shuffle=True, random_state=0)
    default = GridSearchCV(estimator, {"alpha": grid}, cv=cv).fit(X)
    recall = GridSearchCV(
        estimator, {"alpha": grid}, cv=cv, scoring=make_recall_scorer()
    ).fit(X)
    assert abs(default.best_index_ - recall.best_index_) <= 1
    # The trap the default avoids: the reconstruction loss of held-out users
    # always prefers the smallest alpha.
    loss = GridSearchCV(
        estimator,
        {"alpha": grid},
        cv=cv,
        scoring=lambda model, X, y=None: -model.reconstruction_loss(X),
    ).fit(X)
    assert loss.best_index_ == 0
    assert recall.best_index_ > 0


# -- what counts as seen, and what a softmax model ranks by -----------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E73",
    input=(
        "``recommend(filter_seen=True)`` for users whose rows hold stored 0.0 "
        "entries (sparse ``X``)"
    ),
    outcome=(
        "Correct: a stored 0.0 is not a seen item, it stays a candidate: equal to a "
        "dense brute force that filters the nonzero entries only."
    ),
)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_recommend_does_not_filter_stored_zeros(X, model):
    """E73: recommend(filter_seen=True) keeps items whose stored value is 0.0."""
    model = clone(model).fit(X)
    # Stored zeros at each user's best-scored unseen items.
    best, _ = _brute_force_recommend(model, X, 3)
    C = X.tocoo()
    rows = np.r_[C.row, np.repeat(np.arange(X.shape[0]), 3)]
    cols = np.r_[C.col, best.ravel()]
    data = np.r_[C.data, np.zeros(best.size)]
    dirty = sp.csr_matrix((data, (rows, cols)), shape=X.shape)
    assert np.count_nonzero(dirty.data == 0) == best.size
    ids, scores = model.recommend(dirty, k=7)
    expected_ids, expected_scores = _brute_force_recommend(model, X, 7)
    assert_array_equal(ids, expected_ids)
    assert_allclose(scores, expected_scores, rtol=1e-10)
    assert_array_equal(ids[:, :3], best)


def _brute_force_logits(model, X):
    """``cos(x_u A, b_i) / t`` in float64 from the factors, with numpy only."""
    Z = np.asarray(X.toarray(), dtype=np.float64) @ model.encoder_.astype(np.float64)
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    P = Z / np.where(norms > 0, norms, 1.0)
    B = model.decoder_.astype(np.float64)
    return P @ B.T / model.temperature


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E76",
    input=(
        "``CosineAutoencoder`` (softmax loss) at temperature ``1e-3`` in "
        "float32 and ``1e-4`` in float64: ``recommend`` and ``score``"
    ),
    outcome=(
        "Correct: items ranked by the logits ``cos / t``, equal to a float64 brute "
        "force (to the float32 rounding of the cosines); the returned probabilities "
        "equal the float64 softmax of the logits; ``score`` equals the brute-force "
        "held-out NDCG."
    ),
)
@pytest.mark.parametrize("dtype, temperature", [(np.float32, 1e-3), (np.float64, 1e-4)])
def test_softmax_model_ranks_by_its_logits_at_low_temperature(X, dtype, temperature):
    """E76: recommend and score rank by logits, not underflowing probabilities."""
    X = X.astype(dtype)
    model = CosineAutoencoder(6, loss="softmax", temperature=temperature, max_iter=10)
    model.fit(X)
    n = 30
    L = _brute_force_logits(model, X)
    L[X.toarray() != 0] = -np.inf
    order = np.lexsort((np.broadcast_to(np.arange(X.shape[1]), L.shape), -L), axis=1)
    # Cosines agree to float32 rounding: compare the logits of the lists.
    atol = (1e-5 if dtype == np.float32 else 1e-12) / temperature
    ids, scores = model.recommend(X, k=n)
    top = np.take_along_axis(L, order[:, :n], axis=1)
    assert_allclose(np.take_along_axis(L, ids, axis=1), top, atol=atol)
    # Probabilities over all items (seen included), max-shifted in float64.
    logits = _brute_force_logits(model, X)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = e / e.sum(axis=1, keepdims=True)
    rtol = 1e-2 if dtype == np.float32 else 1e-8
    expected = np.take_along_axis(probabilities, ids, axis=1)
    assert_allclose(scores, expected, rtol=rtol, atol=1e-300)
    # Hard enough: in the input dtype most of these probabilities are 0.
    assert np.mean(expected.astype(dtype) == 0) > 0.2
    # score: held-out NDCG@min(100, p) of the brute-force ranking.
    X_train, X_test = train_test_split_interactions(X, test_size=0.2, random_state=0)
    L = _brute_force_logits(model, X_train)
    L[X_train.toarray() != 0] = -np.inf
    k = min(100, X.shape[1])
    top = np.lexsort((np.broadcast_to(np.arange(X.shape[1]), L.shape), -L), axis=1)
    hits = np.take_along_axis(X_test.toarray() != 0, top[:, :k], axis=1)
    discount = 1 / np.log2(np.arange(2, k + 2))
    n_rel = np.diff(X_test.indptr)
    ideal = np.array([discount[: min(r, k)].sum() for r in n_rel])
    ndcg = (hits @ discount)[n_rel > 0] / ideal[n_rel > 0]
    assert model.score(X) == pytest.approx(ndcg.mean(), rel=1e-6)
