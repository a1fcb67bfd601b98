"""The fast paths of skcosim._linalg._spectrum give the exact spectrum.

The solvers work on the smaller side of ``X``, split their products over row
blocks on threads, keep float32 in float32 and switch to Lanczos for large
dense eigenproblems; each of these is checked here against numpy's dense SVD.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skcosim._linalg import _eigen, _spectrum
from skcosim._linalg._eigen import top_k_eigh
from skcosim._linalg._spectrum import top_k_spectrum


def _reference(X, k):
    _, s, Vt = np.linalg.svd(X.toarray() if sp.issparse(X) else X)
    return s[:k], Vt[:k].T


def _assert_same_subspace_columns(V, V_ref, atol):
    # columns equal up to sign (distinct singular values: unique directions)
    signs = np.sign(np.sum(V * V_ref, axis=0))
    assert_allclose(V * signs, V_ref, atol=atol)


@pytest.fixture
def many_threads(monkeypatch):
    """Force the threaded row-block products even on small matrices."""
    monkeypatch.setattr(_spectrum, "THREAD_MIN_NNZ", 0)
    monkeypatch.setattr(_spectrum, "_n_threads", lambda: 3)


@pytest.mark.parametrize("shape", [(300, 60), (60, 300)], ids=["tall", "wide"])
@pytest.mark.parametrize("solver", ["gram", "arpack"])
@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
def test_exact_solvers_match_dense_svd_on_either_side(
    many_threads, shape, solver, sparse
):
    X = sp.random(*shape, density=0.2, random_state=0, format="csr")
    X = X if sparse else X.toarray()
    s_ref, V_ref = _reference(X, 8)
    s, V = top_k_spectrum(X, 8, solver=solver, random_state=0)
    assert V.shape == (shape[1], 8)
    assert_allclose(s, s_ref, rtol=1e-10)
    _assert_same_subspace_columns(V, V_ref, atol=1e-8)
    assert_allclose(V.T @ V, np.eye(8), atol=1e-10)


@pytest.mark.parametrize("solver", ["gram", "arpack"])
def test_float32_input_stays_float32_and_is_accurate_to_single_precision(solver):
    X = sp.random(400, 80, density=0.2, random_state=1, format="csr")
    s_ref, V_ref = _reference(X, 6)
    s, V = top_k_spectrum(X.astype(np.float32), 6, solver=solver, random_state=0)
    assert s.dtype == np.float32 and V.dtype == np.float32
    assert_allclose(s, s_ref, rtol=1e-5)
    _assert_same_subspace_columns(V, V_ref, atol=1e-3)


def test_threaded_operator_equals_the_plain_products(many_threads):
    X = sp.random(500, 40, density=0.1, random_state=2, format="csr")
    v = np.random.RandomState(0).rand(40)
    with _spectrum._single_threaded_blas(X.nnz) as pool:
        assert pool is not None
        normal = _spectrum._ThreadedOperator(X, pool)
        assert len(normal.blocks) == 3
        assert_allclose(normal @ v, X.T @ (X @ v), rtol=1e-12)
        V = np.random.RandomState(1).rand(40, 3)
        assert_allclose(normal @ V, X.T @ (X @ V), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_symmetric_operator_reads_the_lower_triangle_only(dtype):
    rng = np.random.RandomState(3)
    A = rng.randn(50, 50)
    M = (A + A.T).astype(dtype)
    garbled = np.tril(M) + np.triu(rng.randn(50, 50), 1).astype(dtype)
    op = _eigen._SymmetricOperator(garbled)
    v, V = rng.randn(50).astype(dtype), rng.randn(50, 4).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert (op @ v).dtype == dtype
    assert_allclose(op @ v, M @ v, rtol=rtol, atol=rtol * 10)
    assert_allclose(op @ V, M @ V, rtol=rtol, atol=rtol * 10)


def test_both_branches_of_top_k_eigh_read_the_lower_triangle_only(monkeypatch):
    rng = np.random.RandomState(4)
    p = 300
    Q = np.linalg.qr(rng.randn(p, p))[0]
    M = (Q * np.geomspace(100, 1, p)) @ Q.T
    garbled = np.tril(M) + np.triu(rng.randn(p, p), 1)  # not symmetric
    w_ref = np.geomspace(100, 1, p)[:8]
    assert_allclose(top_k_eigh(garbled, 8)[0], w_ref, rtol=1e-10)  # LAPACK
    monkeypatch.setattr(_eigen, "EIGSH_MIN_DIM", 100)
    assert_allclose(top_k_eigh(garbled, 8)[0], w_ref, rtol=1e-10)  # Lanczos


def test_lanczos_branch_of_top_k_eigh_matches_lapack(monkeypatch):
    rng = np.random.RandomState(0)
    p = 400
    Q = np.linalg.qr(rng.randn(p, p))[0]
    w = np.geomspace(1000, 1, p)
    M = (Q * w) @ Q.T
    w_lapack, V_lapack = top_k_eigh(M, 10)
    monkeypatch.setattr(_eigen, "EIGSH_MIN_DIM", 100)  # take the eigsh branch
    w_lanczos, V_lanczos = top_k_eigh(M, 10)
    assert_allclose(w_lanczos, w_lapack, rtol=1e-10)
    assert_allclose(w_lapack, w[:10], rtol=1e-10)
    _assert_same_subspace_columns(V_lanczos, V_lapack, atol=1e-8)


def test_auto_rule_picks_gram_for_a_small_side_and_arpack_otherwise():
    small = _spectrum.GRAM_MAX_DIM
    assert _spectrum._choose_solver(10 * small, small, 10) == "gram"
    assert _spectrum._choose_solver(small, 10 * small, 10) == "gram"
    assert _spectrum._choose_solver(10 * small, small + 1, 10) == "arpack"
    # ARPACK needs k < min(n, p) - 1: the full spectrum goes through the Gram
    assert _spectrum._choose_solver(10 * small, small + 1, small) == "gram"


@pytest.mark.parametrize("solver", ["gram", "arpack"])
def test_float32_keeps_small_real_components_of_a_tall_matrix(solver):
    # 200,000 rows: the rank rule max(n, p) * eps32 would cut every singular
    # value below 2.4 % of s_1, though float32 resolves them.
    rng = np.random.RandomState(0)
    n, p = 200_000, 30
    X = sp.random(n, p, density=0.002, random_state=rng, format="csc")
    X = (X @ sp.diags(np.geomspace(1.0, 0.005, p))).tocsr()
    s_ref, _ = _reference(X.T @ X, p)  # eigenvalues of the Gram: s^2
    s, _ = top_k_spectrum(X.astype(np.float32), 28, solver=solver, random_state=0)
    assert s[-1] / s[0] < 0.01  # below the old cut
    # float32 eigenvalues of X^T X err by ~eps32 * s_1^2: relative error of
    # s_i ~ eps32 / (2 (s_i / s_1)^2), about 1e-3 at s_i / s_1 = 0.007
    assert_allclose(s, np.sqrt(s_ref[:28]), rtol=3e-3)
    assert np.all(s > 0)


def _integer_matrix(values, rng):
    """A 60 x 40 sparse matrix, 30 % dense (the BLAS branch of gram_matrix)."""
    X = sp.random(60, 40, density=0.3, random_state=rng, format="csr")
    X.data = rng.choice(values, size=X.nnz).astype(np.float64)
    return X


@pytest.mark.parametrize(
    "values", [[1], [1, 2, 3, 5], [-3, 7, 250]], ids=["binary", "counts", "signed"]
)
def test_gram_of_integer_data_is_exact_through_float32(values):
    X = _integer_matrix(values, np.random.RandomState(0))
    assert _spectrum._integer_gram_is_exact_in_float32(X)
    G = _spectrum.gram_matrix(X)
    assert G.dtype == np.float64
    exact = X.T.astype(np.int64) @ X.astype(np.int64)  # integer arithmetic
    assert np.array_equal(G, exact.toarray())


def test_gram_keeps_float64_when_float32_would_round():
    rng = np.random.RandomState(1)
    # 4097^2 = 2^24 + 8193 is odd: float32 cannot hold a single product
    big = _integer_matrix([4097], rng)
    halves = _integer_matrix([1], rng)
    halves.data[::2] = 0.5
    for X in (big, halves):
        assert not _spectrum._integer_gram_is_exact_in_float32(X)
    G = _spectrum.gram_matrix(big)
    assert np.array_equal(G, (big.T.astype(np.int64) @ big.astype(np.int64)).toarray())
    D = halves.toarray()
    assert_allclose(_spectrum.gram_matrix(halves), D.T @ D, rtol=1e-15)
