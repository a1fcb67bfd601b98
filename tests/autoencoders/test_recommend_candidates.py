"""``recommend(..., items=, filter_items=)``: a candidate set and a block list,
checked against a brute-force ranking."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from tests._long_tailed import long_tailed_interactions

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # CosineAutoencoder, max_iter=20
)

MODELS = [
    WeightDecayAutoencoder(6, alpha=1.0),
    DropoutAutoencoder(6, alpha=5.0, gauge="random", random_state=0),
    CosineAutoencoder(6, max_iter=20),
]


@pytest.fixture(scope="module")
def X():
    """Long-tailed: unseen items 57-59 (rows of zeros, so exact score ties
    at 0), an empty user 0 (every score 0: all ties), single-interaction
    users, stored zeros."""
    return long_tailed_interactions(n=120, p=60)


def _reference_scores(model, X):
    """Scores from the factors with numpy, in float64: ``X A B^T``, or the
    softmax probabilities of a cosine model (its inverse_transform)."""
    Xd = np.asarray(sp.csr_matrix(X).toarray(), dtype=np.float64)
    Z = Xd @ model.encoder_.astype(np.float64)
    if isinstance(model, CosineAutoencoder):
        return model.inverse_transform(Z)
    return Z @ model.decoder_.astype(np.float64).T


def _brute_force(S, X, n, *, filter_seen=True, items=None, filter_items=()):
    """One user at a time: the allowed items sorted by (-score, index),
    padded with (-1, -inf)."""
    seen = sp.csr_matrix(X).toarray() != 0
    p = S.shape[1]
    candidates = set(range(p) if items is None else items) - set(filter_items)
    ids = np.full((S.shape[0], n), -1)
    scores = np.full((S.shape[0], n), -np.inf)
    for u in range(S.shape[0]):
        allowed = [j for j in candidates if not (filter_seen and seen[u, j])]
        ranked = sorted(allowed, key=lambda j: (-S[u, j], j))[:n]
        ids[u, : len(ranked)] = ranked
        scores[u, : len(ranked)] = S[u, ranked]
    return ids, scores


@pytest.mark.catalogue(
    "M60",
    input=(
        "``recommend(X, n, items=...)`` with candidates that include unseen "
        "items (exact ties at score 0), an empty user (all ties), users who "
        "have seen every candidate, more slots than candidates, in batches "
        "of 1, 7 and the default"
    ),
    outcome=(
        "Correct: the brute-force ranking of the candidates by the numpy "
        "reconstruction (ties to the smaller index), padded with ``-1`` / "
        "``-inf``; scores to ``rtol=1e-9``"
    ),
)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_recommend_among_candidates_matches_brute_force(X, model, batch_size):
    """M60: only the candidates are ranked, seen ones still left out."""
    model = clone(model).fit(X)
    S = _reference_scores(model, X)
    items = [0, 5, 20, 57, 58, 59, 33, 2]  # 57-59 unseen: tied at score 0
    for n in (3, 10):  # 10 > 8 candidates: padding for everyone
        ids, scores = model.recommend(X, n, items=items[::-1], batch_size=batch_size)
        ref_ids, ref_scores = _brute_force(S, X, n, items=items)
        assert_array_equal(ids, ref_ids)
        assert_allclose(scores, ref_scores, rtol=1e-9, atol=1e-12)
    # Users 1-3 saw exactly items 0, 5 and 20: every candidate, so padding only.
    ids, scores = model.recommend(X[1:4], 3, items=[0, 5, 20], batch_size=batch_size)
    assert_array_equal(ids, np.full((3, 3), -1))
    assert np.all(np.isneginf(scores))
    # With one more candidate, that one comes first, then padding.
    ids, scores = model.recommend(X[1:4], 3, items=[0, 5, 20, 40])
    assert_array_equal(ids, [[40, -1, -1]] * 3)
    assert_allclose(scores[:, 0], S[1:4, 40], rtol=1e-9, atol=1e-12)


@pytest.mark.catalogue(
    "M61",
    input=(
        "``recommend(X, n, filter_items=...)`` alone, with ``items`` (overlapping), "
        "with ``filter_seen=False``, repeated ids"
    ),
    outcome=(
        "Correct: the filtered items never appear; the rest is the "
        "brute-force ranking (``rtol=1e-9``)"
    ),
)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("filter_seen", [True, False])
def test_filter_items_are_never_recommended(X, model, filter_seen):
    """M61: the block list wins over the candidates and the seen filter."""
    model = clone(model).fit(X)
    S = _reference_scores(model, X)
    blocked = [0, 1, 2, 3, 4, 57, 57]
    ids, scores = model.recommend(
        X, 12, filter_items=blocked, filter_seen=filter_seen, batch_size=13
    )
    ref = _brute_force(S, X, 12, filter_seen=filter_seen, filter_items=blocked)
    assert_array_equal(ids, ref[0])
    assert_allclose(scores, ref[1], rtol=1e-9, atol=1e-12)
    assert not np.isin(ids, blocked).any()
    items = [1, 2, 3, 10, 11, 12, 58]
    ids, scores = model.recommend(
        X, 5, items=items, filter_items=blocked, filter_seen=filter_seen
    )
    ref = _brute_force(
        S, X, 5, filter_seen=filter_seen, items=items, filter_items=blocked
    )
    assert_array_equal(ids, ref[0])
    assert_allclose(scores, ref[1], rtol=1e-9, atol=1e-12)


def test_items_by_name_on_a_dataframe_model(X):
    """Fitted on a DataFrame, ``items`` and ``filter_items`` are names, and
    the answer is the same as by column index."""
    names = np.array([f"item-{j:02d}" for j in range(X.shape[1])], dtype=object)
    frame = pd.DataFrame.sparse.from_spmatrix(X, columns=names)
    model = WeightDecayAutoencoder(6).fit(frame)
    by_index = WeightDecayAutoencoder(6).fit(X)
    items, blocked = [3, 7, 11, 58, 40], [7]
    ids, scores = model.recommend(
        frame, 4, items=names[items], filter_items=names[blocked]
    )
    ref_ids, ref_scores = by_index.recommend(X, 4, items=items, filter_items=blocked)
    expected = np.where(ref_ids >= 0, names[np.maximum(ref_ids, 0)], None)
    assert_array_equal(ids, expected)
    assert_allclose(scores, ref_scores, rtol=1e-12)


@pytest.mark.catalogue(
    "M62",
    input=(
        "``recommend`` with an empty ``items``, a ``filter_items`` that removes "
        "every candidate, an id the model was not fitted with, a 2-d ``items``"
    ),
    outcome="Error naming ``items`` / ``filter_items`` and the problem",
)
def test_bad_candidate_sets_are_refused(X):
    """M62: no silent empty answer for a candidate set that cannot be ranked."""
    model = WeightDecayAutoencoder(4).fit(X)
    with pytest.raises(ValueError, match="items is empty"):
        model.recommend(X, 3, items=[])
    with pytest.raises(ValueError, match="items is empty"):
        model.recommend(X, 3, items=np.array([], dtype=int))
    with pytest.raises(ValueError, match="removes every candidate"):
        model.recommend(X, 3, items=[1, 2], filter_items=[2, 1])
    with pytest.raises(ValueError, match="removes every candidate"):
        model.recommend(X, 3, filter_items=np.arange(X.shape[1]))
    with pytest.raises(ValueError, match=r"column indices in \[0, 60\)"):
        model.recommend(X, 3, items=[1, 60])
    with pytest.raises(ValueError, match=r"column indices in \[0, 60\)"):
        model.recommend(X, 3, filter_items=[-1])
    with pytest.raises(TypeError, match="column indices"):
        model.recommend(X, 3, items=["a"])
    with pytest.raises(ValueError, match="one-dimensional"):
        model.recommend(X, 3, items=[[1, 2]])
    frame = pd.DataFrame(
        sp.csr_matrix(X).toarray(), columns=[f"i{j}" for j in range(60)]
    )
    named = WeightDecayAutoencoder(4).fit(frame)
    with pytest.raises(ValueError, match="not among the fitted items"):
        named.recommend(frame, 3, items=["i1", 2])


def test_empty_filter_items_changes_nothing(X):
    model = WeightDecayAutoencoder(4).fit(X)
    expected = model.recommend(X, 5)
    for got in (
        model.recommend(X, 5, filter_items=[]),
        model.recommend(X, 5, items=range(60)),
    ):
        assert_array_equal(got[0], expected[0])
        assert_array_equal(got[1], expected[1])
