"""Tests of neighbor_overlap (Jaccard@k, rank-biased overlap) and label agreement."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.utils._param_validation import InvalidParameterError

from skcosim.metrics import cosine_neighbors, neighbor_label_agreement, neighbor_overlap
from skcosim.metrics._overlap import jaccard_from_indices, rbo_from_indices


def _rbo_reference(a, b, p):
    """Extrapolated RBO of two lists, term by term (Webber et al. 2010, Eq. 32)."""
    k = len(a)
    X = [len(set(a[:d]) & set(b[:d])) for d in range(1, k + 1)]
    total = sum(X[d - 1] / d * p**d for d in range(1, k + 1))
    return X[-1] / k * p**k + (1 - p) / p * total


def _random_lists(m, k, n_items, seed):
    rng = np.random.default_rng(seed)
    return np.array([rng.choice(n_items, size=k, replace=False) for _ in range(m)])


def test_jaccard_from_indices_matches_python_sets():
    a, b = _random_lists(300, 7, 15, 0), _random_lists(300, 7, 15, 1)
    expected = [
        len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a, b, strict=True)
    ]
    assert_allclose(jaccard_from_indices(a, b), expected, rtol=1e-15)


@pytest.mark.parametrize("p", [0.5, 0.9, 0.98])
def test_rbo_from_indices_matches_term_by_term_formula(p):
    a, b = _random_lists(300, 8, 14, 2), _random_lists(300, 8, 14, 3)
    expected = [_rbo_reference(list(x), list(y), p) for x, y in zip(a, b, strict=True)]
    assert_allclose(rbo_from_indices(a, b, p), expected, rtol=1e-12)


def test_rbo_is_one_for_identical_zero_for_disjoint_and_rank_aware():
    a = np.arange(10)[None, :]
    assert_allclose(rbo_from_indices(a, a), 1.0, rtol=1e-12)
    assert_allclose(rbo_from_indices(a, a + 10), 0.0, atol=1e-15)
    # Same set, reversed order: Jaccard 1, RBO below 1.
    assert_allclose(jaccard_from_indices(a, a[:, ::-1]), 1.0)
    assert rbo_from_indices(a, a[:, ::-1])[0] < 0.9


@pytest.mark.parametrize("method", ["jaccard", "rbo"])
def test_neighbor_overlap_is_one_under_rotation_and_scaling(method):
    rng = np.random.default_rng(4)
    E = rng.standard_normal((300, 6))
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    assert neighbor_overlap(E, 2.5 * E @ Q, 8, method=method) == 1.0


def test_neighbor_overlap_drops_under_per_dimension_rescaling():
    # Objective 1 (docs/user_guide/objectives.rst): a diagonal gauge moves them.
    rng = np.random.default_rng(5)
    E = rng.standard_normal((500, 8))
    D = np.exp(rng.standard_normal(8))
    per_item = neighbor_overlap(E, E * D, 10, average=False)
    assert per_item.shape == (500,)
    assert per_item.mean() < 0.6
    ind1, _ = cosine_neighbors(E, 10)
    ind2, _ = cosine_neighbors(E * D, 10)
    assert_allclose(per_item, jaccard_from_indices(ind1, ind2), rtol=1e-15)


def test_neighbor_overlap_rejects_different_items_and_bad_method():
    E = np.random.default_rng(6).standard_normal((20, 3))
    with pytest.raises(ValueError, match="same items"):
        neighbor_overlap(E, E[:10], 3)
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        neighbor_overlap(E, E, 3, method="cka")
    with pytest.raises(InvalidParameterError, match="'p' parameter"):
        neighbor_overlap(E, E, 3, method="rbo", p=1.0)


# -- neighbor_label_agreement ---------------------------------------------------


def _agreement_reference(E, label_sets, k):
    ind, _ = cosine_neighbors(E, k)
    return np.array(
        [
            np.mean([bool(label_sets[i] & label_sets[j]) for j in ind[i]])
            if label_sets[i]
            else np.nan
            for i in range(len(E))
        ]
    )


def test_label_agreement_single_labels_matches_loop():
    rng = np.random.default_rng(7)
    E = rng.standard_normal((200, 4))
    labels = rng.choice(["x", "y", "z"], size=200)
    expected = _agreement_reference(E, [{lab} for lab in labels], 6)
    got = neighbor_label_agreement(E, labels, 6, average=False)
    assert_allclose(got, expected, rtol=1e-15)
    assert_allclose(neighbor_label_agreement(E, labels, 6), expected.mean())


def test_label_agreement_multilabel_forms_agree():
    rng = np.random.default_rng(8)
    E = rng.standard_normal((150, 5))
    indicator = rng.random((150, 4)) < 0.3
    sets = [set(np.flatnonzero(row)) for row in indicator]
    expected = _agreement_reference(E, sets, 5)
    for labels in (sets, indicator.astype(int), sp.csr_matrix(indicator)):
        got = neighbor_label_agreement(E, labels, 5, average=False)
        assert_allclose(got, expected, rtol=1e-15)  # NaN where unlabelled
        # The mean is over the labelled items only.
        assert_allclose(
            neighbor_label_agreement(E, labels, 5), np.nanmean(expected), rtol=1e-12
        )
    unlabeled = ~indicator.any(axis=1)
    assert unlabeled.any() and np.isnan(expected[unlabeled]).all()


def test_label_agreement_by_hand_on_a_multilabel_example():
    # Items 0, 1 and 4 near x, 2 and 3 near y: the top-1 neighbours are
    # 0->1 (cosine 0.995), 1->0, 2->3, 3->2 and 4->0 (0.981; 0.956 to 1).
    E = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1], [1, -0.2]])
    labels = np.array(
        [[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 0]]  # 3 unlabelled
    )
    got = neighbor_label_agreement(E, labels, 1, average=False)
    # 0 and 1 share label 1; 2's neighbour 3 has no label; 4 and 0 share label 0.
    assert_allclose(got, [1.0, 1.0, 0.0, np.nan, 1.0])
    assert_allclose(neighbor_label_agreement(E, labels, 1), 3 / 4)


def test_label_agreement_needs_one_labelled_item():
    with pytest.raises(ValueError, match="None of the 4 items has a label"):
        neighbor_label_agreement(np.eye(4), [set(), set(), set(), set()], 1)


def test_label_agreement_separates_clustered_from_shuffled_labels():
    rng = np.random.default_rng(9)
    centers = rng.standard_normal((4, 6)) * 5
    labels = np.repeat(np.arange(4), 50)
    E = centers[labels] + rng.standard_normal((200, 6))
    assert neighbor_label_agreement(E, labels, 10) > 0.95
    assert neighbor_label_agreement(E, rng.permutation(labels), 10) < 0.5


def test_label_agreement_rejects_wrong_number_of_labels():
    E = np.ones((10, 2))
    with pytest.raises(ValueError, match="labels has 9 entries"):
        neighbor_label_agreement(E, np.zeros(9), 3)
    with pytest.raises(ValueError, match="labels has 9 rows"):
        neighbor_label_agreement(E, np.zeros((9, 2)), 3)


# -- chance levels ----------------------------------------------------------------


@pytest.mark.parametrize("n_items, k", [(12, 10), (30, 5), (200, 10)])
def test_random_jaccard_matches_random_neighbour_sets(n_items, k):
    from skcosim.metrics._overlap import jaccard_from_indices, random_jaccard

    rng = np.random.default_rng(0)
    draws = 20000
    sets = [
        np.argsort(rng.random((draws, n_items - 1)), axis=1)[:, :k] for _ in range(2)
    ]
    simulated = jaccard_from_indices(*sets)
    # Monte Carlo: 4 standard errors.
    tol = 4 * simulated.std() / np.sqrt(draws)
    assert abs(random_jaccard(n_items, k) - simulated.mean()) < tol


def test_random_jaccard_is_one_when_every_item_is_a_neighbour():
    from skcosim.metrics._overlap import random_jaccard

    assert random_jaccard(11, 10) == 1.0
    assert random_jaccard(8, 10) == 1.0  # k is cut to the 7 other items
    with pytest.raises(ValueError, match="no neighbours"):
        random_jaccard(1, 10)


def test_random_label_agreement_matches_a_loop_over_item_pairs():
    from skcosim.metrics._labels import random_label_agreement

    rng = np.random.default_rng(3)
    indicator = rng.random((60, 5)) < 0.25
    sets = [set(np.flatnonzero(row)) for row in indicator]
    labelled = [i for i in range(60) if sets[i]]
    expected = np.mean(
        [
            sum(bool(sets[i] & sets[j]) for j in range(60) if j != i) / 59
            for i in labelled
        ]
    )
    for labels in (sets, indicator, sp.csr_matrix(indicator)):
        assert_allclose(random_label_agreement(labels), expected, rtol=1e-12)
    codes = rng.integers(0, 4, size=60)
    single = np.mean([(np.sum(codes == c) - 1) / 59 for c in codes])
    assert_allclose(random_label_agreement(codes), single, rtol=1e-12)
    assert random_label_agreement([set(), set()]) is None


def test_label_agreement_of_random_embeddings_is_near_the_chance_level():
    from skcosim.metrics._labels import random_label_agreement

    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, size=300)
    scores = [
        neighbor_label_agreement(rng.standard_normal((300, 20)), labels, 10)
        for _ in range(5)
    ]
    # 5 x 300 items x 10 neighbours: the mean is within 0.02 of chance.
    assert abs(np.mean(scores) - random_label_agreement(labels)) < 0.02
