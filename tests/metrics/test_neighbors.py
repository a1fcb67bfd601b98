"""Tests of skcosim.metrics.cosine_neighbors."""

import tracemalloc

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from skcosim.metrics import cosine_neighbors


def _brute_force(E, k, exclude_self=True):
    """Top-k cosine neighbours from the full m x m matrix, ties by index."""
    E = np.asarray(E, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    U = np.divide(E, norms, out=np.zeros_like(E), where=norms > 0)
    C = U @ U.T
    if exclude_self:
        np.fill_diagonal(C, -np.inf)
    order = np.argsort(-C, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(C, order, axis=1)


@pytest.mark.parametrize("batch_size", [None, 1, 37])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize(("m", "d", "k"), [(500, 8, 10), (300, 3, 1), (60, 2, 59)])
def test_cosine_neighbors_agree_with_brute_force(m, d, k, batch_size, n_jobs):
    rng = np.random.default_rng(m + d + k)
    E = rng.standard_normal((m, d))
    ind, sim = cosine_neighbors(E, k, batch_size=batch_size, n_jobs=n_jobs)
    ind_ref, sim_ref = _brute_force(E, k)
    assert_array_equal(ind, ind_ref)
    assert_allclose(sim, sim_ref, rtol=0, atol=1e-12)


def test_cosine_neighbors_include_self_puts_self_first():
    E = np.random.default_rng(0).standard_normal((200, 5))
    ind, sim = cosine_neighbors(E, 3, exclude_self=False)
    assert_array_equal(ind[:, 0], np.arange(200))
    assert_allclose(sim[:, 0], 1.0, atol=1e-12)
    ind_ref, _ = _brute_force(E, 3, exclude_self=False)
    assert_array_equal(ind, ind_ref)


def test_cosine_neighbors_zero_rows_have_cosine_zero_and_no_nan():
    rng = np.random.default_rng(1)
    E = rng.standard_normal((400, 6))
    E[::9] = 0.0
    ind, sim = cosine_neighbors(E, 5, batch_size=50)
    assert np.all(np.isfinite(sim))
    zero = np.flatnonzero(~E.any(axis=1))
    # A zero row's neighbours are the smallest other indices, all at cosine 0.
    for i in zero:
        expected = [j for j in range(6) if j != i][:5]
        assert_array_equal(ind[i], expected)
        assert_array_equal(sim[i], 0.0)
    ind_ref, sim_ref = _brute_force(E, 5)
    assert_array_equal(ind, ind_ref)
    assert_allclose(sim, sim_ref, atol=1e-12)


def test_cosine_neighbors_ties_are_broken_by_smaller_index():
    # Duplicated rows and a one-dimensional embedding: massive exact ties.
    E = np.repeat(np.array([[1.0], [-1.0], [2.0]]), 40, axis=0)
    ind, sim = cosine_neighbors(E, 7, batch_size=13)
    ind_ref, sim_ref = _brute_force(E, 7)
    assert_array_equal(ind, ind_ref)
    assert_allclose(sim, sim_ref, atol=1e-12)


def test_cosine_neighbors_preserves_float32():
    E = np.random.default_rng(2).standard_normal((300, 16)).astype(np.float32)
    _, sim = cosine_neighbors(E, 4)
    assert sim.dtype == np.float32
    _, sim_ref = _brute_force(E, 4)
    assert_allclose(sim, sim_ref, atol=1e-5)


def test_cosine_neighbors_is_deterministic_across_batches_and_threads():
    E = np.random.default_rng(3).standard_normal((1000, 4)).astype(np.float32)
    ind1, sim1 = cosine_neighbors(E, 10, batch_size=1000, n_jobs=1)
    ind2, sim2 = cosine_neighbors(E, 10, batch_size=33, n_jobs=2)
    assert_array_equal(ind1, ind2)
    assert_allclose(sim1, sim2, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_neighbors": 10}, ValueError, "at most 9"),
        ({"n_neighbors": 0}, ValueError, "n_neighbors"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"exclude_self": "yes"}, ValueError, "exclude_self"),
    ],
)
def test_cosine_neighbors_rejects_bad_arguments(kwargs, error, match):
    E = np.ones((10, 2))
    with pytest.raises(error, match=match):
        cosine_neighbors(E, **kwargs)


def test_cosine_neighbors_rejects_nan():
    E = np.ones((10, 2))
    E[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cosine_neighbors(E, 2)


@pytest.mark.slow
def test_cosine_neighbors_memory_is_bounded_on_100k_rows():
    # 100,000 x 64 float32: the m x m similarity matrix would be 40 GB.
    rng = np.random.default_rng(0)
    E = rng.standard_normal((100_000, 64), dtype=np.float32)
    tracemalloc.start()
    try:
        ind, sim = cosine_neighbors(E, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 500 * 2**20, f"peak traced memory {peak / 2**20:.0f} MiB"
    # Spot-check a few rows against brute force on those rows.
    U = E / np.linalg.norm(E, axis=1, keepdims=True)
    rows = np.array([0, 12_345, 99_999])
    C = U[rows] @ U.T
    C[np.arange(rows.size), rows] = -np.inf
    ref = np.argsort(-C, axis=1, kind="stable")[:, :10]
    assert_array_equal(ind[rows], ref)
    assert_allclose(sim[rows], np.take_along_axis(C, ref, axis=1), atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    m=st.integers(2, 250),
    d=st.integers(1, 5),
    n_jobs=st.sampled_from([1, 2]),
    exclude_self=st.booleans(),
)
def test_cosine_neighbors_are_a_true_top_k_with_many_ties(
    data, m, d, n_jobs, exclude_self
):
    # Small integer entries: many zero rows, duplicated rows and exact ties.
    values = data.draw(
        hnp.arrays(np.float64, (m, d), elements=st.integers(-2, 2).map(float))
    )
    k = data.draw(st.integers(1, m - 1 if exclude_self else m))
    batch_size = data.draw(st.integers(1, m + 5))
    ind, sim = cosine_neighbors(
        values, k, exclude_self=exclude_self, batch_size=batch_size, n_jobs=n_jobs
    )
    _, ref_sim = _brute_force(values, k, exclude_self=exclude_self)
    # The similarities are the k largest (whatever the order among ties) ...
    assert_allclose(sim, ref_sim, atol=1e-12)
    # ... of distinct neighbours, each with the similarity reported for it,
    rows = np.arange(m)[:, None]
    assert np.all(np.diff(np.sort(ind, axis=1), axis=1) > 0)
    if exclude_self:
        assert not np.any(ind == rows)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    U = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
    assert_allclose(np.einsum("ikd,id->ik", U[ind], U), sim, atol=1e-12)
    # ... sorted by decreasing similarity, equal ones by increasing index.
    assert np.all(np.diff(sim, axis=1) <= 0)
    tied = sim[:, 1:] == sim[:, :-1]
    assert np.all(np.diff(ind, axis=1)[tied] > 0)
