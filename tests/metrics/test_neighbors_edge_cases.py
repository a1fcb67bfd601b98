"""cosine_neighbors on bad and degenerate embeddings: no similarity is ever NaN,
a row of zeros has cosine 0 with every row.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import WeightDecayAutoencoder
from skcosim.metrics import (
    cosine_neighbors,
)

from ._reference import _brute_force


@pytest.mark.catalogue(
    "M01",
    input="``cosine_neighbors`` of an embedding with NaN, inf or ``None``",
    outcome='``ValueError``: "Input contains NaN" / "infinity"',
)
@pytest.mark.parametrize(
    "value, match", [(np.nan, "NaN"), (np.inf, "infinity"), (None, "NaN")]
)
def test_nonfinite_or_missing_embedding_values_are_rejected(embedding, value, match):
    """M01: NaN, inf or None in the embedding."""
    E = embedding.astype(object) if value is None else embedding.copy()
    E[4, 1] = value
    with pytest.raises(ValueError, match=match):
        cosine_neighbors(E, 3)


@pytest.mark.catalogue(
    "M02",
    input="An embedding with no rows, no columns, or 1-D",
    outcome='``ValueError``: "0 sample(s)" / "0 feature(s)" / "Expected 2D array"',
)
@pytest.mark.parametrize(
    "E, match",
    [
        (np.zeros((0, 3)), "0 sample"),
        (np.zeros((4, 0)), "0 feature"),
        (np.ones(5), "Expected 2D array"),
    ],
    ids=["no-rows", "no-columns", "1d"],
)
def test_empty_or_one_dimensional_embeddings_are_rejected(E, match):
    """M02: no rows, no dimensions, a 1-D array."""
    with pytest.raises(ValueError, match=match):
        cosine_neighbors(E, 1, exclude_self=False)


@pytest.mark.catalogue(
    "M03",
    input="``n_neighbors`` >= rows (self excluded) or > rows (self included)",
    outcome='``ValueError``: "n_neighbors=60 is too large for 60 rows: at most 59"',
)
def test_too_many_neighbors_names_the_limit(embedding):
    """M03: n_neighbors >= number of rows (self excluded) or > rows (included)."""
    with pytest.raises(ValueError, match="n_neighbors=60 is too large for 60 rows"):
        cosine_neighbors(embedding, 60)
    with pytest.raises(ValueError, match="at most 60"):
        cosine_neighbors(embedding, 61, exclude_self=False)
    indices, _ = cosine_neighbors(embedding, 60, exclude_self=False)
    assert_array_equal(np.sort(indices, axis=1), np.tile(np.arange(60), (60, 1)))


@pytest.mark.catalogue(
    "M04",
    input='``n_neighbors`` 0, -1, 2.5, ``"3"``',
    outcome="``InvalidParameterError`` naming ``n_neighbors``",
)
@pytest.mark.parametrize("n_neighbors", [0, -1, 2.5, "3"])
def test_bad_n_neighbors_names_the_parameter(embedding, n_neighbors):
    """M04: n_neighbors not a positive int."""
    with pytest.raises(InvalidParameterError, match="'n_neighbors' parameter"):
        cosine_neighbors(embedding, n_neighbors)


@pytest.mark.catalogue(
    "M05",
    input="Zero rows among ordinary rows",
    outcome=(
        "Correct: cosine 0 with every row, neighbours = smallest other "
        "indices; equal to a brute-force computation"
    ),
)
def test_zero_rows_have_cosine_zero_and_the_documented_neighbors(embedding):
    """M05: zero rows (items with cut or unseen embeddings)."""
    E = embedding.copy()
    E[[0, 7, 30]] = 0
    indices, sims = cosine_neighbors(E, 5)
    assert not np.isnan(sims).any()
    ref_idx, ref_sims = _brute_force(E, 5)
    assert_array_equal(indices, ref_idx)
    assert_allclose(sims, ref_sims, atol=1e-12)
    # A zero row's neighbours: every cosine is 0, so the smallest other indices.
    assert_array_equal(sims[7], 0)
    assert_array_equal(indices[7], [0, 1, 2, 3, 4])
    assert_array_equal(indices[0], [1, 2, 3, 4, 5])


@pytest.mark.catalogue(
    "M06",
    input="Every row zero (Objective 2 with every component cut), float32 and float64",
    outcome="Correct: all similarities 0, deterministic neighbours, dtype kept",
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_all_zero_embedding_gives_zero_similarities(dtype):
    """M06: every row zero (e.g. Objective 2 with every component cut)."""
    X = (np.random.RandomState(1).rand(30, 8) < 0.3).astype(dtype)
    model = WeightDecayAutoencoder(n_components=3, alpha=1e6).fit(X)
    for kind in ("decoder", "encoder", "projected"):
        E = model.item_embeddings(kind)
        indices, sims = cosine_neighbors(E, 3)
        assert sims.dtype == dtype
        assert_array_equal(sims, 0)
        assert_array_equal(indices[0], [1, 2, 3])
        assert_array_equal(indices[5], [0, 1, 2])


@pytest.mark.catalogue(
    "M07",
    input="One row, ``exclude_self=False``",
    outcome=(
        "Correct: itself at cosine 1 (0 for a zero row); with "
        '``exclude_self=True``: ``ValueError`` "too large for 1 rows"'
    ),
)
def test_single_row_is_its_own_neighbor_when_self_is_included():
    """M07: one row; exclude_self=False gives itself at cosine 1 (0 if zero)."""
    indices, sims = cosine_neighbors(np.array([[3.0, 4.0]]), 1, exclude_self=False)
    assert_array_equal(indices, [[0]])
    assert_allclose(sims, [[1.0]], rtol=1e-15)
    indices, sims = cosine_neighbors(np.zeros((1, 2)), 1, exclude_self=False)
    assert_array_equal(sims, [[0.0]])
    with pytest.raises(ValueError, match="too large for 1 rows"):
        cosine_neighbors(np.array([[3.0, 4.0]]), 1)


@pytest.mark.catalogue(
    "M08",
    input=(
        "Rows of norm ``1e-300`` ... ``1e300`` (float64), ``1e-30`` ... "
        "``1e30`` (float32), or mixed scales"
    ),
    outcome=("Correct: the same neighbours and cosines as unscaled."),
)
@pytest.mark.parametrize(
    "dtype, scales",
    [
        (np.float64, [1e-300, 1e-200, 1e-16, 1e-10, 1e10, 1e200, 1e300]),
        (np.float32, [1e-30, 1e-7, 1e-6, 1e6, 1e30]),
    ],
)
def test_cosines_do_not_depend_on_the_scale_of_the_rows(embedding, dtype, scales):
    """M08: rows of tiny or huge norm, float64 and float32.

    Regression: rows of norm below 10 * eps (about 1e-6 in float32) were left
    unnormalized by sklearn's ``normalize`` and got cosines near 0; huge rows
    overflowed.
    """
    E = embedding.astype(dtype)
    ref_idx, ref_sims = cosine_neighbors(E, 4)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for scale in scales:
        scaled = E * dtype(scale)
        assert np.all(np.isfinite(scaled)) and np.all(np.any(scaled != 0, axis=1))
        indices, sims = cosine_neighbors(scaled, 4)
        assert_array_equal(indices, ref_idx)
        assert_allclose(sims, ref_sims, atol=tol)
    # Rows of very different scales in one embedding.
    mixed = E * np.logspace(-5, 5, len(E)).astype(dtype)[:, None]
    indices, sims = cosine_neighbors(mixed, 4)
    assert_array_equal(indices, ref_idx)
    assert_allclose(sims, ref_sims, atol=tol)


@pytest.mark.catalogue(
    "M09",
    input="bool, int, float16, object embeddings",
    outcome=("Correct: computed in float64, equal to brute force"),
)
@pytest.mark.parametrize(
    "convert",
    [
        lambda E: E > 0,
        lambda E: np.round(E * 3).astype(np.int64),
        lambda E: E.astype(np.float16),
        lambda E: E.astype(object),
    ],
    ids=["bool", "int64", "float16", "object"],
)
def test_non_float_embeddings_are_computed_in_float64(embedding, convert):
    """M09: bool, int, float16, object embeddings: float64 result, exact."""
    E = convert(embedding)
    indices, sims = cosine_neighbors(E, 4)
    assert sims.dtype == np.float64
    ref_idx, ref_sims = _brute_force(np.asarray(E, dtype=np.float64), 4)
    assert_allclose(sims, ref_sims, atol=1e-12)
    # Exact ties (bool, int rows repeat) may order differently only among equal
    # similarities; the similarity lists must agree exactly.
    S = _brute_force(np.asarray(E, dtype=np.float64), len(E) - 1)[1]
    assert np.all(np.isin(np.round(sims, 12), np.round(S, 12)))
    if convert(embedding).dtype.kind == "f":
        assert_array_equal(indices, ref_idx)


@pytest.mark.catalogue(
    "M10",
    input="A scipy sparse embedding",
    outcome=(
        "``InvalidParameterError``: \"The 'E' parameter ... must be an array-like\""
    ),
)
def test_sparse_embeddings_are_rejected_with_the_parameter_name(embedding):
    """M10: a scipy sparse embedding (cosine_neighbors takes dense arrays)."""
    with pytest.raises((TypeError, ValueError), match="'E' parameter"):
        cosine_neighbors(sp.csr_matrix(embedding), 3)


@pytest.mark.catalogue(
    "M11",
    input="Identical rows",
    outcome="Correct: cosine 1, ties broken by the smaller index",
)
def test_duplicate_rows_tie_at_cosine_one_smallest_index_first():
    """M11: identical rows: cosine 1, ties broken by the smaller index."""
    E = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 4.0], [0.0, 1.0]])
    indices, sims = cosine_neighbors(E, 2)
    assert_array_equal(indices[:3], [[1, 2], [0, 2], [0, 1]])
    assert_allclose(sims[:3], 1.0, rtol=1e-15)


@pytest.mark.catalogue(
    "M12",
    input="Tiny blocks and several threads (``batch_size`` 1 or 7, ``n_jobs`` 1 or 2)",
    outcome="Correct: equal to brute force",
)
def test_neighbors_are_exact_on_random_embeddings_with_blocks(embedding):
    """M12: many small blocks and threads give the brute-force answer."""
    for batch_size, n_jobs in [(1, 1), (7, 2), (None, None)]:
        indices, sims = cosine_neighbors(
            embedding, 6, batch_size=batch_size, n_jobs=n_jobs
        )
        ref_idx, ref_sims = _brute_force(embedding, 6)
        assert_array_equal(indices, ref_idx)
        assert_allclose(sims, ref_sims, atol=1e-12)
