"""Fuzzing the metrics against brute-force references.

Random embeddings of small integers (so that ties, zero rows, duplicate and
rescaled rows turn up), random shapes, labels and interaction matrices. Each
metric is recomputed here from its definition with dense numpy: all cosines
at once, neighbours by sorting (larger cosine first, then the smaller index),
sets and sums in Python. Where the metric compares two neighbour lists it
ranks cosines rounded to a multiple of the tie tolerance (documented), and so
does the reference; elsewhere the neighbours must be a valid top-k, exact up
to rounding among equal cosines.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils import check_random_state

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._gauge import sample_gauge
from skcosim.metrics import (
    NOT_AVAILABLE,
    cosine_neighbors,
    gauge_stability,
    ndcg_at_k,
    neighbor_label_agreement,
    neighbor_overlap,
    recall_at_k,
    resample_stability,
)
from skcosim.metrics._neighbors import tie_tolerance
from skcosim.preprocessing import ProjectedEmbedding

FUZZ = settings(max_examples=60, deadline=None)


# -- the brute-force reference ---------------------------------------------------


def _cosines(E):
    """All cosines in float64; a zero row has cosine 0 with every row."""
    E = np.asarray(E, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", E, E))
    U = E / np.where(norms > 0, norms, 1.0)[:, None]
    return U @ U.T, norms == 0


def _top_k(S, k, exclude_self=True):
    """Neighbours by sorting: larger similarity first, then the smaller index."""
    S = S.copy()
    if exclude_self:
        np.fill_diagonal(S, -np.inf)
    index = np.broadcast_to(np.arange(S.shape[1]), S.shape)
    order = np.lexsort((index, -S), axis=1)[:, :k]
    return order, np.take_along_axis(S, order, axis=1)


def _snapped(S, tol):
    return np.rint(S / tol) * tol


def _rbo(a, b, p=0.9):
    k = len(a)
    shared = [len(set(a[:d]) & set(b[:d])) for d in range(1, k + 1)]
    tail = sum(x / d * p**d for d, x in zip(range(1, k + 1), shared, strict=True))
    return shared[-1] / k * p**k + (1 - p) / p * tail


def _mean_overlap(ind1, ind2, undirected, method="jaccard"):
    """Mean overlap over the rows with a direction in both; 0.0 if none."""
    scores = []
    for i in np.flatnonzero(~undirected):
        a, b = list(ind1[i]), list(ind2[i])
        if method == "jaccard":
            scores.append(len(set(a) & set(b)) / len(set(a) | set(b)))
        else:
            scores.append(_rbo(a, b))
    return float(np.mean(scores)) if scores else 0.0


# -- random inputs ------------------------------------------------------------------


@st.composite
def integer_embeddings(draw, max_rows=70):
    """``(E, base)``: rows of small integers (ties, zero rows, duplicates),
    each scaled by a power of two, which changes no cosine exactly."""
    m = draw(st.integers(2, max_rows))
    d = draw(st.integers(1, 5))
    base = draw(arrays(np.int64, (m, d), elements=st.integers(-2, 2)))
    exponents = draw(arrays(np.int64, m, elements=st.sampled_from([0, 1, -40, 40])))
    return base * np.exp2(exponents)[:, None], base


@st.composite
def gaussian_embeddings(draw):
    """Random normal rows (no near-ties), some zero, some exact copies or
    power-of-two multiples of others (exact ties)."""
    rng = np.random.RandomState(draw(st.integers(0, 2**31)))
    m, d = draw(st.integers(2, 60)), draw(st.integers(1, 6))
    E = rng.randn(m, d)
    for i in range(m):
        kind = rng.randint(6)
        if kind == 0:
            E[i] = 0.0
        elif kind == 1:
            E[i] = E[rng.randint(m)] * 2.0 ** rng.randint(-3, 4)
    return E


# -- cosine_neighbors ----------------------------------------------------------------


@FUZZ
@given(
    integer_embeddings(),
    st.integers(1, 8),
    st.booleans(),
    st.sampled_from([None, 1, 7]),
    st.sampled_from([1, 2]),
)
def test_neighbors_with_a_tie_tolerance_equal_the_rounded_brute_force(
    embedding, k, exclude_self, batch_size, n_jobs
):
    E, base = embedding
    k = min(k, E.shape[0] - exclude_self)
    tol = tie_tolerance(E)
    idx, sims = cosine_neighbors(
        E,
        k,
        exclude_self=exclude_self,
        batch_size=batch_size,
        n_jobs=n_jobs,
        tie_tolerance=tol,
    )
    S, _ = _cosines(base)
    ref_idx, ref_sims = _top_k(_snapped(S, tol), k, exclude_self)
    assert_array_equal(idx, ref_idx)
    assert_allclose(sims, ref_sims, rtol=0, atol=1e-15)


@FUZZ
@given(
    integer_embeddings(), st.integers(1, 8), st.sampled_from([np.float64, np.float32])
)
def test_neighbors_are_a_top_k_of_the_brute_force_cosines(embedding, k, dtype):
    """Exact mode: a top-k up to rounding among equal cosines, exact ties
    (bit-equal similarities) in index order, zero rows to the smallest
    indices."""
    E, base = embedding
    E = E.astype(dtype)
    k = min(k, E.shape[0] - 1)
    atol = 1e-12 if dtype == np.float64 else 1e-5
    idx, sims = cosine_neighbors(E, k)
    S, zero = _cosines(base)
    np.fill_diagonal(S, -np.inf)
    for i in range(E.shape[0]):
        assert len(set(idx[i])) == k and i not in idx[i]
        if zero[i]:
            assert_array_equal(idx[i], [j for j in range(k + 1) if j != i][:k])
            assert_array_equal(sims[i], 0)
            continue
        assert_allclose(sims[i], S[i, idx[i]], rtol=0, atol=atol)
        kth = np.sort(S[i])[::-1][k - 1]
        others = np.setdiff1d(np.arange(E.shape[0]), idx[i])
        assert np.all(S[i, others] <= kth + atol)
        assert np.all(sims[i] >= kth - atol)
        assert np.all(np.diff(sims[i]) <= 0)
        tied = np.flatnonzero(np.diff(sims[i]) == 0)
        assert np.all(idx[i][tied] < idx[i][tied + 1])


# -- overlap, stability ---------------------------------------------------------------


@FUZZ
@given(st.data(), st.sampled_from(["jaccard", "rbo"]))
def test_neighbor_overlap_equals_the_brute_force(data, method):
    E1, base1 = data.draw(integer_embeddings(max_rows=40))
    m = E1.shape[0]
    d = data.draw(st.integers(1, 4))
    base2 = data.draw(arrays(np.int64, (m, d), elements=st.integers(-2, 2)))
    k = data.draw(st.integers(1, m - 1))
    tol = tie_tolerance(E1)
    S1, zero1 = _cosines(base1)
    S2, zero2 = _cosines(base2)
    ind1, _ = _top_k(_snapped(S1, tol), k)
    ind2, _ = _top_k(_snapped(S2, tol), k)
    expected = _mean_overlap(ind1, ind2, zero1 | zero2, method)
    got = neighbor_overlap(E1, base2.astype(float), k, method=method)
    assert abs(got - expected) <= 1e-12


@st.composite
def interactions(draw):
    """Small count matrices: zero rows and columns, repeated columns."""
    n, p = draw(st.integers(4, 25)), draw(st.integers(3, 12))
    X = draw(arrays(np.int64, (n, p), elements=st.integers(0, 2)))
    if draw(st.booleans()):
        X[:, -1] = X[:, 0]  # two items with the same users
    return X.astype(np.float64)


def _rank_below_two(E):
    """numpy's rank of ``E`` is below 2: the stabilities are not available."""
    return np.linalg.matrix_rank(E) < 2 if np.any(E) else True


@FUZZ
@given(interactions(), st.integers(1, 4), st.integers(0, 2**31))
@pytest.mark.filterwarnings("ignore::skcosim.exceptions.StabilityNotAvailableWarning")
def test_gauge_stability_equals_the_brute_force(X, n_components, seed):
    """Objective 1's decoder (diagonal gauge): the brute force over the same
    draws. Objective 2 and the projected embedding: 1.0 exactly (a rotation
    keeps every cosine). NOT_AVAILABLE when the embedding has rank < 2."""
    p = X.shape[1]
    k = min(3, p - 1)
    for model in [
        WeightDecayAutoencoder(n_components, alpha=0.5),
        ProjectedEmbedding(DropoutAutoencoder(n_components, alpha=0.5)),
        DropoutAutoencoder(n_components, alpha=0.5),  # its default: projected
    ]:
        model.fit(X)
        E = model.item_embeddings()
        expected = NOT_AVAILABLE if _rank_below_two(E) else 1.0
        assert gauge_stability(model, k, n_draws=3, random_state=seed) == expected
    model = DropoutAutoencoder(n_components, alpha=0.5).fit(X)
    E = model.item_embeddings("decoder")
    got = gauge_stability(model, k, n_draws=3, embedding="decoder", random_state=seed)
    if _rank_below_two(E):
        assert got == NOT_AVAILABLE
        return
    tol = tie_tolerance(E)
    S, zero = _cosines(E)
    ind, _ = _top_k(_snapped(S, tol), k)
    rng = check_random_state(seed)
    scores = []
    for _ in range(3):
        R = sample_gauge("diagonal", n_components, rng)
        E_R = model.item_embeddings("decoder", gauge=R)
        S_R, zero_R = _cosines(E_R)
        ind_R, _ = _top_k(_snapped(S_R, tol), k)
        scores.append(_mean_overlap(ind, ind_R, zero | zero_R))
    assert abs(got - np.mean(scores)) <= 1e-12


@FUZZ
@given(interactions(), st.integers(1, 3), st.integers(0, 2**31))
@pytest.mark.filterwarnings("ignore::skcosim.exceptions.StabilityNotAvailableWarning")
def test_resample_stability_equals_the_brute_force(X, n_components, seed):
    n, p = X.shape
    k = min(3, p - 1)
    estimator = WeightDecayAutoencoder(n_components, alpha=0.5)
    rng = check_random_state(seed)
    half = n // 2  # disjoint halves; for odd n, one user is in neither
    scores, degenerate = [], False
    for _ in range(2):
        perm = rng.permutation(n)
        second = perm[half : 2 * half]
        neighbors, undirected = [], np.zeros(p, dtype=bool)
        for rows in (perm[:half], second):
            E = WeightDecayAutoencoder(n_components, alpha=0.5)
            E = E.fit(X[np.sort(rows)]).item_embeddings()
            degenerate |= _rank_below_two(E)
            S, zero = _cosines(E)
            neighbors.append(_top_k(_snapped(S, tie_tolerance(E)), k)[0])
            undirected |= zero
        scores.append(_mean_overlap(*neighbors, undirected))
    got = resample_stability(estimator, X, k, n_resamples=2, random_state=seed)
    if degenerate:
        assert got == NOT_AVAILABLE
    else:
        assert abs(got - np.mean(scores)) <= 1e-12


# -- labels, ranking ------------------------------------------------------------------


@FUZZ
@given(gaussian_embeddings(), st.data())
def test_label_agreement_equals_the_brute_force(E, data):
    m = E.shape[0]
    k = data.draw(st.integers(1, m - 1))
    codes = data.draw(arrays(np.int64, m, elements=st.integers(0, 3)))
    sets = [set(np.flatnonzero([(c >> b) & 1 for b in range(2)])) for c in codes]
    S, zero = _cosines(E)
    ind, _ = _top_k(_snapped(S, tie_tolerance(E)), k)

    def agreement(share, labeled):
        a = np.array([np.mean([share(i, j) for j in ind[i]]) for i in range(m)])
        a[zero] = 0.0
        a[~labeled] = np.nan  # an item without labels is left out
        return a

    single = agreement(lambda i, j: codes[i] == codes[j], np.ones(m, dtype=bool))
    multi = agreement(
        lambda i, j: bool(sets[i] & sets[j]), np.array([bool(s) for s in sets])
    )
    indicator = np.array([[b in s for b in range(2)] for s in sets], dtype=int)
    for labels, expected in [
        (codes, single),
        (np.array(["ab"[c % 2] + str(c) for c in codes]), single),
        (codes.reshape(-1, 1), single),
        (sets, multi),
        (indicator, multi),
    ]:
        if np.isnan(expected).all():
            with pytest.raises(ValueError, match="has a label"):
                neighbor_label_agreement(E, labels, k, average=False)
            continue
        got = neighbor_label_agreement(E, labels, k, average=False)
        assert_allclose(got, expected, rtol=0, atol=1e-12)


@FUZZ
@given(interactions(), st.integers(0, 2**31), st.sampled_from([0.5, 1e9]))
def test_ranking_metrics_equal_the_brute_force(X, seed, alpha):
    """Recall@k and NDCG@k: the model's scores of unseen items, sorted (ties
    to the smaller index); ``alpha=1e9`` cuts every component, so every
    score ties at 0."""
    rng = np.random.RandomState(seed)
    held = (X > 0) & (rng.rand(*X.shape) < 0.3)
    X_train, X_test = np.where(held, 0.0, X), np.where(held, X, 0.0)
    n, p = X.shape
    if not held.any():
        return
    k = rng.randint(1, p + 1)
    model = WeightDecayAutoencoder(2, alpha=alpha).fit(X_train)
    scores = (X_train @ model.encoder_) @ model.decoder_.T
    scores[X_train != 0] = -np.inf
    top, _ = _top_k(scores, k, exclude_self=False)
    hits = held[np.arange(n)[:, None], top]
    relevant = held.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = hits.sum(axis=1) / np.minimum(k, relevant)
        discount = 1 / np.log2(np.arange(2, k + 2))
        ideal = np.array([discount[: min(k, r)].sum() for r in relevant])
        ndcg = (hits @ discount) / ideal
    for metric, expected in [(recall_at_k, recall), (ndcg_at_k, ndcg)]:
        got = metric(model, X_train, X_test, k, average=False)
        assert_allclose(got, np.where(relevant > 0, expected, np.nan), atol=1e-12)
        mean = metric(model, X_train, X_test, k)
        assert abs(mean - expected[relevant > 0].mean()) <= 1e-12
