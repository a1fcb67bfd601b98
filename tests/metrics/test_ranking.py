"""Tests of train_test_split_interactions, recall_at_k and ndcg_at_k."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import make_pipeline

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import (
    make_ndcg_scorer,
    make_recall_scorer,
    ndcg_at_k,
    recall_at_k,
)
from skcosim.model_selection import train_test_split_interactions
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding

from .._stored_zeros import with_stored_zeros


@pytest.fixture(scope="module")
def data():
    return make_clustered_interactions(
        n_users=600, n_items=80, n_clusters=4, random_state=0
    ).data


def _reference(scores, X_train, X_test, k):
    """Recall and NDCG per user from the dense score matrix, in Python loops."""
    X_train, X_test = X_train.toarray(), X_test.toarray()
    recall, ndcg = [], []
    for u in range(scores.shape[0]):
        s = np.where(X_train[u] != 0, -np.inf, scores[u])
        top = sorted(range(len(s)), key=lambda j: (-s[j], j))[:k]
        relevant = set(np.flatnonzero(X_test[u]))
        if not relevant:
            recall.append(np.nan)
            ndcg.append(np.nan)
            continue
        hits = [j in relevant for j in top]
        recall.append(sum(hits) / min(k, len(relevant)))
        dcg = sum(h / np.log2(r + 2) for r, h in enumerate(hits))
        idcg = sum(1 / np.log2(r + 2) for r in range(min(k, len(relevant))))
        ndcg.append(dcg / idcg)
    return np.array(recall), np.array(ndcg)


def test_split_partitions_each_users_interactions(data):
    X_train, X_test = train_test_split_interactions(data, 0.25, random_state=0)
    assert sp.issparse(X_train) and sp.issparse(X_test)
    assert_allclose((X_train + X_test).toarray(), data.toarray(), rtol=0)
    assert X_train.multiply(X_test).nnz == 0
    n_u = np.diff(data.indptr)
    expected = np.minimum(np.floor(0.25 * n_u + 0.5), np.maximum(n_u - 1, 0))
    assert_array_equal(np.diff(X_test.tocsr().indptr), expected)
    assert np.all(np.diff(X_train.tocsr().indptr) >= np.minimum(n_u, 1))


def test_split_is_random_but_reproducible(data):
    a, _ = train_test_split_interactions(data, random_state=1)
    b, _ = train_test_split_interactions(data, random_state=1)
    c, _ = train_test_split_interactions(data, random_state=2)
    assert (a != b).nnz == 0
    assert (a != c).nnz > 0


@pytest.mark.parametrize("batch_size", [None, 7])
def test_recall_and_ndcg_match_dense_reference(data, batch_size):
    X_train, X_test = train_test_split_interactions(data, random_state=0)
    model = WeightDecayAutoencoder(n_components=6, alpha=1.0).fit(X_train)
    scores = X_train @ model.encoder_ @ model.decoder_.T
    recall_ref, ndcg_ref = _reference(scores, X_train, X_test, 10)
    recall = recall_at_k(
        model, X_train, X_test, 10, batch_size=batch_size, average=False
    )
    ndcg = ndcg_at_k(model, X_train, X_test, 10, batch_size=batch_size, average=False)
    assert_allclose(recall, recall_ref, rtol=1e-12)
    assert_allclose(ndcg, ndcg_ref, rtol=1e-12)
    assert_allclose(
        recall_at_k(model, X_train, X_test, 10), np.nanmean(recall_ref), rtol=1e-12
    )
    assert_allclose(
        ndcg_at_k(model, X_train, X_test, 10), np.nanmean(ndcg_ref), rtol=1e-12
    )


def test_users_without_held_out_items_are_left_out(data):
    X_train, X_test = train_test_split_interactions(data, random_state=0)
    X_test = X_test.tolil()
    X_test[:50] = 0
    X_test = X_test.tocsr()
    model = WeightDecayAutoencoder(n_components=6).fit(X_train)
    per_user = recall_at_k(model, X_train, X_test, 5, average=False)
    assert np.all(np.isnan(per_user[:50]))
    assert not np.any(np.isnan(per_user[50:]))
    assert_allclose(recall_at_k(model, X_train, X_test, 5), per_user[50:].mean())
    with pytest.raises(ValueError, match="no interaction"):
        recall_at_k(model, X_train, X_test * 0, 5)


def test_pipeline_scores_in_the_last_steps_item_space(data):
    # As Pipeline.score and the last step's recommend: the scaled items,
    # not mapped back by the scaler's inverse_transform (which re-ranks).
    X_train, X_test = train_test_split_interactions(data, random_state=0)
    pipe = make_pipeline(
        PopularityScaler(beta=1.0), WeightDecayAutoencoder(n_components=6)
    ).fit(X_train)
    scaler, model = pipe[0], pipe[1]
    scores = scaler.transform(X_train) @ model.encoder_ @ model.decoder_.T
    recall_ref, _ = _reference(scores, X_train, X_test, 10)
    assert_allclose(
        recall_at_k(pipe, X_train, X_test, 10, average=False), recall_ref, rtol=1e-12
    )


def test_projected_embedding_ranks_like_its_autoencoder(data):
    X_train, X_test = train_test_split_interactions(data, random_state=0)
    ae = DropoutAutoencoder(n_components=6, alpha=5.0)
    proj = ProjectedEmbedding(ae).fit(X_train)
    ae.fit(X_train)
    assert_allclose(
        ndcg_at_k(proj, X_train, X_test, 10, average=False),
        ndcg_at_k(ae, X_train, X_test, 10, average=False),
        rtol=1e-10,
    )


def test_model_beats_random_scores(data):
    X_train, X_test = train_test_split_interactions(data, random_state=0)
    model = WeightDecayAutoencoder(n_components=6).fit(X_train)
    # Chance level: k / (number of unseen items) on average.
    assert recall_at_k(model, X_train, X_test, 10) > 2 * 10 / 80


@pytest.mark.parametrize("make", [make_recall_scorer, make_ndcg_scorer])
def test_ranking_scorer_equals_metric_on_its_own_split(data, make):
    metric = recall_at_k if make is make_recall_scorer else ndcg_at_k
    model = WeightDecayAutoencoder(n_components=6).fit(data)
    scorer = make(k=10, holdout=0.3, random_state=3)
    X_train, X_test = train_test_split_interactions(data, 0.3, random_state=3)
    assert scorer(model, data) == metric(model, X_train, X_test, 10)
    assert "k=10" in repr(scorer)


def test_ranking_metrics_reject_mismatched_inputs(data):
    X_train, X_test = train_test_split_interactions(data, random_state=0)
    model = WeightDecayAutoencoder(n_components=6).fit(X_train)
    with pytest.raises(ValueError, match="same users"):
        recall_at_k(model, X_train, X_test[:10], 5)
    with pytest.raises(ValueError, match="k=81 is larger"):
        ndcg_at_k(model, X_train, X_test, 81)


@pytest.mark.catalogue(
    "M32",
    input=(
        "``recall_at_k`` / ``ndcg_at_k`` whose ``X_train`` stores 0.0 at "
        "items that are held out in ``X_test``"
    ),
    outcome=(
        "Correct: a stored 0.0 is not a seen item, so those items are ranked (and "
        "hit): equal to the dense reference."
    ),
)
def test_ranking_metrics_do_not_filter_stored_zeros(data):
    """M32: stored zeros in X_train are no seen items for the metrics."""
    X_train, X_test = train_test_split_interactions(data, 0.2, random_state=0)
    model = WeightDecayAutoencoder(8, alpha=1.0).fit(X_train)
    held = X_test.tocoo()
    dirty = with_stored_zeros(X_train, held.row[::2], held.col[::2])
    assert np.count_nonzero(dirty.data == 0) == len(held.row[::2])
    A, B = model.encoder_, model.decoder_
    scores = X_train.toarray() @ A @ B.T
    recall, ndcg = _reference(scores, X_train, X_test, 10)
    kept = ~np.isnan(recall)
    got_recall = recall_at_k(model, dirty, X_test, 10, average=False)
    got_ndcg = ndcg_at_k(model, dirty, X_test, 10, average=False)
    assert_allclose(got_recall[kept], recall[kept], rtol=1e-12)
    assert_allclose(got_ndcg[kept], ndcg[kept], rtol=1e-12)


@pytest.mark.catalogue(
    "M33",
    input=(
        "``recall_at_k`` / ``ndcg_at_k`` of a ``CosineAutoencoder`` (softmax "
        "loss) at temperature ``1e-3`` in float32 and ``1e-4`` in float64"
    ),
    outcome=(
        "Correct: items ranked by the model's logits ``cos / t``, equal to the dense "
        "reference on float64 logits, and to the model's own ``score`` protocol."
    ),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype, temperature", [(np.float32, 1e-3), (np.float64, 1e-4)])
def test_ranking_metrics_rank_a_softmax_model_by_its_logits(data, dtype, temperature):
    """M33: the ranking metrics use the logits of a softmax model."""
    X = data[:300].astype(dtype)
    X_train, X_test = train_test_split_interactions(X, 0.2, random_state=0)
    model = CosineAutoencoder(6, loss="softmax", temperature=temperature, max_iter=10)
    model.fit(X_train)
    Z = X_train.toarray().astype(np.float64) @ model.encoder_.astype(np.float64)
    P = Z / np.linalg.norm(Z, axis=1, keepdims=True).clip(1e-300)
    logits = P @ model.decoder_.astype(np.float64).T / temperature
    recall, ndcg = _reference(logits, X_train, X_test, 30)
    kept = ~np.isnan(recall)
    got = ndcg_at_k(model, X_train, X_test, 30, average=False)
    assert_allclose(got[kept], ndcg[kept], rtol=1e-12)
    got = recall_at_k(model, X_train, X_test, 30, average=False)
    assert_allclose(got[kept], recall[kept], rtol=1e-12)
    assert model.score(X) == pytest.approx(
        make_ndcg_scorer(k=80, holdout=0.2, random_state=0)(model, X), rel=1e-12
    )
