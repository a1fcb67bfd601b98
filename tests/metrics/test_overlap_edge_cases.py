"""neighbor_overlap and label_agreement on bad and degenerate input."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from skcosim.metrics import (
    neighbor_label_agreement,
    neighbor_overlap,
)

from ._reference import _brute_force


@pytest.mark.catalogue(
    "M13",
    input="``neighbor_overlap`` of embeddings with different row counts, or NaN",
    outcome=(
        '``ValueError``: "E1 and E2 must embed the same items" / "Input E2 '
        'contains NaN"'
    ),
)
def test_overlap_of_embeddings_of_different_items_is_rejected(embedding):
    """M13: E1 and E2 with different numbers of rows, or a NaN in one."""
    with pytest.raises(ValueError, match="must embed the same items"):
        neighbor_overlap(embedding, embedding[:-1], 3)
    bad = embedding.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="E2 contains NaN"):
        neighbor_overlap(embedding, bad, 3)


@pytest.mark.catalogue(
    "M14",
    input=(
        "``neighbor_overlap`` of two all-zero embeddings, of embeddings "
        "with some zero rows; integer embeddings"
    ),
    outcome=(
        "Correct: 0.0 (a zero row has no direction, so no neighbours to "
        "share; zero rows count 0 per item and are left out of the mean); "
        "integers exact"
    ),
)
def test_overlap_of_zero_and_integer_embeddings_is_defined(embedding):
    """M14: zero rows share no neighbours; integer input is exact."""
    zero = np.zeros_like(embedding)
    # No direction, no neighbours: an all-zero embedding is not "stable".
    assert neighbor_overlap(zero, zero, 3) == 0.0
    assert_array_equal(neighbor_overlap(zero, embedding, 3, average=False), 0.0)
    # Zero rows are left out of the mean, so they do not dilute the others.
    partial = embedding.copy()
    partial[:5] = 0
    per_item = neighbor_overlap(partial, partial, 3, average=False)
    assert_array_equal(per_item[:5], 0.0)
    assert neighbor_overlap(partial, partial, 3) == 1.0
    as_int = np.round(embedding * 1e6).astype(np.int64)
    assert neighbor_overlap(as_int, embedding, 3) == 1.0


@pytest.mark.catalogue(
    "M19",
    input=(
        "``neighbor_label_agreement`` with labels of the wrong length, NaN "
        "or ``None`` labels"
    ),
    outcome=(
        '``ValueError``: "labels has 59 entries but E has 60 rows" / "labels has 2 '
        'missing values (NaN or None), first at item 3".'
    ),
)
def test_label_agreement_rejects_mismatched_or_missing_labels(embedding):
    """M19: labels of the wrong length; NaN or None labels.

    Regression: None raised "'<' not supported between 'int' and 'NoneType'",
    and NaN labels counted as one shared label.
    """
    labels = np.arange(60) % 4
    with pytest.raises(ValueError, match="labels has 59 entries but E has 60"):
        neighbor_label_agreement(embedding, labels[:-1], 3)
    with_nan = labels.astype(float)
    with_nan[[3, 9]] = np.nan
    with pytest.raises(ValueError, match=r"2 missing values .* first at item 3"):
        neighbor_label_agreement(embedding, with_nan, 3)
    with_none = list(labels)
    with_none[7] = None
    with pytest.raises(ValueError, match="missing values"):
        neighbor_label_agreement(embedding, with_none, 3)


@pytest.mark.catalogue(
    "M20",
    input="String, integer and huge-integer labels; an all-zero embedding",
    outcome="Correct: the same agreement whatever the label values; no NaN",
)
def test_label_agreement_is_the_same_for_any_label_values(embedding):
    """M20: string, integer and huge integer labels give the same agreement."""
    codes = np.arange(60) % 4
    expected = neighbor_label_agreement(embedding, codes, 5)
    names = np.array(["rock", "jazz", "pop", "folk"])[codes]
    huge = codes.astype(np.int64) * (2**62 // 4) + 2**60
    assert neighbor_label_agreement(embedding, names, 5) == expected
    assert neighbor_label_agreement(embedding, huge, 5) == expected
    agree = neighbor_label_agreement(np.zeros((60, 3)), codes, 5, average=False)
    assert not np.isnan(agree).any()


@pytest.mark.catalogue(
    "M26",
    input=(
        "``neighbor_label_agreement`` with integer labels of shape ``(m, "
        "1)``; a 2-D labels array that is not 0/1; a binary indicator"
    ),
    outcome=(
        "Correct: a column vector is one label per item (the 1-D result, equal to a "
        'brute-force count); ``ValueError`` "A 2-D labels array is an indicator matrix '
        '... must hold only 0 and 1"; a binary indicator is multi-label (equal to the '
        "label sets)."
    ),
)
def test_label_column_vectors_are_ids_and_indicators_must_be_binary(embedding):
    """M26: integer labels of shape (m, 1); a 2-D array that is not 0/1.

    Regression: the column was read as an indicator matrix (every nonzero
    label one shared label): 0.453 where the 1-D labels give 0.38.
    """
    labels = np.arange(60) % 4
    idx, _ = _brute_force(embedding, 5)
    expected = np.mean(labels[idx] == labels[:, None])
    assert neighbor_label_agreement(embedding, labels, 5) == pytest.approx(expected)
    column = neighbor_label_agreement(embedding, labels.reshape(-1, 1), 5)
    assert column == pytest.approx(expected, abs=1e-12)
    counts = np.stack([labels, labels + 1], axis=1)  # not an indicator
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        neighbor_label_agreement(embedding, counts, 5)
    with pytest.raises(ValueError, match="must hold only 0 and 1"):
        neighbor_label_agreement(embedding, sp.csr_matrix(counts), 5)
    # A binary indicator stays multi-label: the same as the label sets.
    indicator = np.stack([labels % 2 == 0, labels < 2], axis=1).astype(int)
    sets = [{c for c in range(2) if indicator[i, c]} for i in range(60)]
    assert neighbor_label_agreement(embedding, indicator, 5) == pytest.approx(
        neighbor_label_agreement(embedding, sets, 5), abs=1e-12
    )


def _brute_force_agreement(E, labels, k):
    """Share of the top-k neighbours whose label is ``==`` the item's, by a
    Python loop; a zero row agrees with none."""
    idx, _ = _brute_force(E, k)
    zero = ~np.any(E != 0, axis=1)
    return np.mean(
        [
            0.0 if zero[i] else sum(labels[j] == labels[i] for j in idx[i]) / k
            for i in range(len(labels))
        ]
    )


@pytest.mark.catalogue(
    "M45",
    input=(
        '``neighbor_label_agreement`` with mixed labels: ``[1, "1"] * 20`` '
        "as a list or an object array, and ints, strings, floats, tuples, "
        "``None``-free mixes"
    ),
    outcome=(
        'Correct: ``1`` and ``"1"`` are two labels (Python equality, as in a set), '
        "equal to a brute-force count (0.415, not 1.0). Unhashable labels are a "
        "``TypeError`` naming the item."
    ),
)
def test_label_agreement_with_mixed_type_labels_counts_python_equality(embedding):
    """M45: labels of mixed types are "any hashable values", compared by
    Python equality.

    Regression: a list ``[1, "1"] * 20`` went through ``np.asarray``, which
    turned ``1`` into ``"1"``: agreement 1.0 where a brute-force count gives
    0.415; as an object array ``np.unique`` raised a raw ``TypeError``
    (``'<' not supported between str and int``).
    """
    E = embedding[:40].copy()
    E[7] = 0.0  # a zero row agrees with no neighbour
    E[8] = E[9]  # a tie at cosine 1
    labels = [1, "1"] * 20
    expected = _brute_force_agreement(E, labels, 5)
    assert expected < 0.6  # not 1.0: half the items carry the other label
    as_list = neighbor_label_agreement(E, labels, 5)
    as_objects = neighbor_label_agreement(E, np.array(labels, dtype=object), 5)
    assert as_list == pytest.approx(expected, abs=1e-12)
    assert as_objects == pytest.approx(expected, abs=1e-12)
    on_fixture = neighbor_label_agreement(embedding[:40], labels, 5)
    assert on_fixture == pytest.approx(0.415, abs=1e-12)

    rng = np.random.RandomState(3)
    # True == 1 == 1.0 in Python: one label, as in a set.
    pool = [0, 1, "0", "1", 2.5, 1.0, True, "a", b"a", np.int64(2), 2.0]
    mixed = [pool[i] for i in rng.randint(len(pool), size=60)]
    expected = _brute_force_agreement(embedding, mixed, 4)
    assert neighbor_label_agreement(embedding, mixed, 4) == pytest.approx(
        expected, abs=1e-12
    )
    with pytest.raises(TypeError, match="labels holds a dict at item 2"):
        neighbor_label_agreement(E, np.array([1, 2, {}] + [1] * 37), 5)
