"""The top-k spectrum of an interaction matrix: the one place that decomposes ``X``.

Every closed form of skcosim (docs/user_guide/objectives.rst, Objectives 1
and 2, and the start of Objective 3) needs only the top ``k`` singular values
``s_k`` and right singular vectors ``V_k`` of ``X``; the exact dropout form
needs the Gram matrix ``G = X^T X`` and the top eigenvectors of a symmetric
``p x p`` matrix. They are all computed here.

Both exact solvers work on the *smaller* side of ``X``: with ``m = min(n, p)``
they take the top eigenpairs of the ``m x m`` matrix ``Y^T Y``, where ``Y = X``
when ``n >= p`` and ``Y = X^T`` otherwise. When ``Y = X^T`` the right singular
vectors follow from the left ones, ``V_k = X^T U_k diag(1 / s_k)``.

Solvers of :func:`top_k_spectrum`:

``"gram"``
    Forms ``Y^T Y`` (sparse-aware, summed over row blocks on all cores; a
    small ``Y`` at least 2 % dense is densified for BLAS) and takes its top
    ``k`` eigenpairs (:func:`top_k_eigh`: LAPACK, or Lanczos from
    ``m = EIGSH_MIN_DIM``). Exact to machine precision for the leading values;
    memory ``m x m``.
``"arpack"``
    ARPACK's Lanczos (:func:`scipy.sparse.linalg.eigsh`) on the operator
    ``v -> Y^T (Y v)``, applied as two sparse matrix-vector products over row
    blocks of ``Y`` on all cores (scipy's sparse products release the GIL).
    This is what ``scipy.sparse.linalg.svds(solver="arpack")`` does, with the
    products threaded, a wider Krylov basis (fewer restarts) and float32 kept
    float32. Exact (ARPACK's default tolerance is machine precision); memory
    ``O(nnz + m k)``.
``"randomized"``
    :func:`sklearn.utils.extmath.randomized_svd` (Halko et al.), with more power
    iterations than scikit-learn's ``TruncatedSVD`` default so that the tail of
    the top ``k`` is accurate, though not exact; memory
    ``O((n + p) k)``.
``"auto"``
    ``"gram"`` when ``m = min(n_samples, n_features) <= GRAM_MAX_DIM`` or when
    ``k >= m - 1`` (``arpack_fits``: the rule that also turns an explicit
    ``"arpack"`` into ``"gram"``), otherwise ``"arpack"``. The Gram
    route costs ``O(sum_i nnz_i^2)`` (``nnz_i``: non-zeros of row ``i`` of
    ``Y``) plus the ``m x m`` eigenproblem, so it wins while ``m`` is small
    and loses once the near-dense ``m x m`` product dominates.
    ``"randomized"`` is never picked: slower than ``"arpack"`` and inexact
    on these spectra.

While ARPACK or LAPACK run, BLAS is limited to one thread and the products
run over row blocks on our own threads instead: the eigensolvers' many small
BLAS calls each wait for every BLAS thread, and on a busy machine one
descheduled thread stalls them all.

A row-chunked :mod:`dask.array` goes to :mod:`skcosim._linalg._dask`, which computes
``X^T X`` or the Lanczos products block by block on the Dask scheduler; the
eigendecomposition of the small ``p x p`` problem stays here.

When ``k`` exceeds ``min(n_samples, n_features)`` the missing components are
returned as zero singular values with zero vectors: the rank-``k`` optimum of
every objective here is then the full-rank one, and a zero component carries
nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count
from scipy.sparse.linalg import LinearOperator, eigsh
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd

from . import _dask
from ._eigen import (
    THREAD_MIN_NNZ,
    arpack_fits,
    flip_signs,
    lanczos_ncv,
    one_blas_thread,
    padded,
    top_k_from_gram,
    zero_null_eigenvalues,
)
from ._matrix import column_moments

SOLVERS = ("auto", "gram", "randomized", "arpack")

#: Largest ``min(n_samples, n_features)`` for which ``solver="auto"`` picks
#: ``"gram"``: where the Gram product stops beating Lanczos.
GRAM_MAX_DIM = 1500


# Largest n * p for which a sparse X at least 2 % dense is densified for its
# Gram product: its dense copy stays small beside the data.
_DENSE_GRAM_MAX_SIZE = 8_000_000

# Non-zeros per row block of the sparse Gram product; several blocks per thread
# keep the partial products (and their sparse intermediates) small.
_GRAM_BLOCK_NNZ = 2_000_000


def _n_threads():
    return max(1, cpu_count(only_physical_cores=False))


def _choose_solver(n_samples, n_features, n_components):
    """The rule of ``solver="auto"`` (module docstring)."""
    m = min(n_samples, n_features)
    if m <= GRAM_MAX_DIM or not arpack_fits(n_components, m):
        return "gram"
    return "arpack"


def gram_matrix(X):
    """Return the dense Gram matrix ``X^T X`` (``n_features`` square).

    Sparse input is multiplied in row blocks on all cores: scipy's sparse
    product releases the GIL, and small block products keep their sparse
    intermediates in cache. The result has the dtype of ``X``. A
    row-chunked dask array is reduced block by block on its scheduler
    (:func:`skcosim._linalg._dask.gram_matrix`).

    Parameters
    ----------
    X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)

    Returns
    -------
    G : ndarray of shape (n_features, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim._linalg._spectrum import gram_matrix
    >>> gram_matrix(np.array([[1.0, 2.0], [0.0, 1.0]]))
    array([[1., 2.],
           [2., 5.]])
    """
    if _dask.is_dask_array(X):
        return _dask.gram_matrix(X)
    if not sp.issparse(X):
        X = np.asarray(X)
        return X.T @ X
    X = sp.csr_matrix(X)
    if X.shape[0] * X.shape[1] <= _DENSE_GRAM_MAX_SIZE and X.nnz >= 0.02 * max(
        X.shape[0] * X.shape[1], 1
    ):
        # small and not very sparse: BLAS's dense product beats the sparse one
        if X.dtype == np.float64 and _integer_gram_is_exact_in_float32(X):
            # counts and 0/1 interactions: float32 gives the float64 result
            # exactly, with half the memory traffic
            D = X.astype(np.float32).toarray()
            return (D.T @ D).astype(np.float64)
        D = X.toarray()
        return D.T @ D
    n_blocks = max(1, math.ceil(X.nnz / _GRAM_BLOCK_NNZ))
    n_threads = min(_n_threads(), n_blocks)
    if n_threads > 1:
        # at least one block per thread, and a multiple of the thread count
        n_blocks = n_threads * math.ceil(n_blocks / n_threads)
    slices = _row_slices(X.shape[0], n_blocks)

    def block_sum(my_slices):
        acc = None
        for s in my_slices:
            B = X[s]
            prod = B.T @ B
            acc = prod if acc is None else acc + prod
        return acc

    if n_threads <= 1:
        G = block_sum(slices)
    else:
        groups = [slices[i::n_threads] for i in range(n_threads)]
        with ThreadPoolExecutor(n_threads) as pool:
            parts = [part for part in pool.map(block_sum, groups) if part is not None]
        G = parts[0] if parts else None
        for part in parts[1:]:
            G = G + part
    if G is None:  # no rows at all
        return np.zeros((X.shape[1], X.shape[1]), dtype=X.dtype)
    return G.toarray()


def _integer_gram_is_exact_in_float32(X):
    """Whether float32 arithmetic computes ``X^T X`` of a sparse ``X`` exactly.

    True when every entry is an integer and ``max|x| * max_j sum_i |x_ij|`` is
    below ``2**24``: each product and every partial sum of an entry of the
    Gram matrix (in whatever order BLAS adds them, fused multiply-adds
    included) is then an integer of at most that size, and float32 represents
    all integers up to ``2**24`` exactly. Implicit-feedback matrices (0/1
    interactions, small counts) qualify; ratings with halves do not.
    """
    data = X.data
    if data.size == 0 or not np.array_equal(data, np.rint(data)):
        return False
    absolute = abs(X)
    bound = float(absolute.max()) * float(absolute.sum(axis=0).max())
    return bound < 2.0**24


def _row_slices(n_rows, n_blocks):
    bounds = np.linspace(0, n_rows, n_blocks + 1).astype(int)
    return [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]


class _ThreadedOperator(LinearOperator):
    """``v -> Y^T (Y v)``, the row blocks of ``Y`` on threads.

    scipy's sparse products and numpy's BLAS calls release the GIL, so the row
    blocks of ``Y`` run in parallel, each on one core; the caller runs the
    solver with BLAS limited to one thread (see :func:`one_blas_thread`).
    Each thread keeps its own output and the parts are summed. The dtype is
    that of ``Y``: float32 data stays float32 (half the memory traffic), and
    ARPACK then runs in single precision too.
    """

    def __init__(self, Y, pool):
        self.pool = pool
        n_blocks = pool._max_workers if pool is not None else 1
        self.blocks = [Y[s] for s in _row_slices(Y.shape[0], n_blocks)]
        m = Y.shape[1]
        super().__init__(dtype=Y.dtype, shape=(m, m))

    @staticmethod
    def _block(B, v):
        return B.T @ (B @ v)

    def _apply(self, v):
        if len(self.blocks) == 1:
            return self._block(self.blocks[0], v)
        parts = list(self.pool.map(lambda B: self._block(B, v), self.blocks))
        out = parts[0]
        for part in parts[1:]:
            out += part
        return out

    def _matvec(self, v):
        return self._apply(np.asarray(v, dtype=self.dtype).ravel())

    def _matmat(self, V):
        return self._apply(np.asarray(V, dtype=self.dtype))

    def _adjoint(self):
        return self


@contextmanager
def _single_threaded_blas(size):
    """A thread pool for the operator, with BLAS itself on one thread.

    :func:`one_blas_thread`, and the parallelism put where the work is
    instead: row blocks of the operator on our own threads (``None`` when
    ``size`` is small or there is one core).
    """
    threads = _n_threads()
    with one_blas_thread(size):
        if size < THREAD_MIN_NNZ or threads == 1:  # small: no threads
            yield None
            return
        with ThreadPoolExecutor(threads) as pool:
            yield pool


def _smaller_side(X):
    """``(Y, transposed)``: ``Y = X`` if ``n >= p`` else ``X^T`` (CSR if sparse)."""
    if X.shape[0] >= X.shape[1]:
        return (sp.csr_matrix(X) if sp.issparse(X) else X), False
    return (sp.csr_matrix(X.T) if sp.issparse(X) else X.T), True


def _right_vectors(X, Q, s, transposed):
    """``V_k`` from the eigenvectors ``Q`` of ``Y^T Y`` (module docstring)."""
    if not transposed:
        return Q
    # V = X^T U diag(1/s): null components get zero vectors (zeroed by padded).
    XtU = X.T @ Q
    XtU = XtU.toarray() if sp.issparse(XtU) else np.asarray(XtU)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(s > 0, 1.0 / s, 0.0).astype(XtU.dtype)
    return flip_signs(XtU * inv)


def _arpack_spectrum(X, k, dtype, random_state):
    """Top-``k`` of ``X`` by Lanczos on ``Y^T Y`` (module docstring, "arpack")."""
    Y, transposed = _smaller_side(X)
    if Y.dtype != dtype:
        Y = Y.astype(dtype)
    m = Y.shape[1]
    rng = check_random_state(random_state)
    v0 = rng.uniform(-1, 1, size=m).astype(dtype)
    size = Y.nnz if sp.issparse(Y) else Y.size
    with _single_threaded_blas(size) as pool:
        op = _ThreadedOperator(Y, pool)
        w, Q = eigsh(op, k=k, which="LA", v0=v0, ncv=lanczos_ncv(k, m))
    order = np.argsort(w)[::-1]
    w, Q = w[order], flip_signs(Q[:, order])
    # Eigenvalues of Y^T Y: the rank tolerance applies to s^2 (as for "gram").
    s = np.sqrt(zero_null_eigenvalues(w, dtype, max(X.shape)))
    return s, _right_vectors(X, Q, s, transposed)


#: The cache of :func:`shared_spectra` (``None`` outside of it).
_SHARED: ContextVar[dict | None] = ContextVar("skcosim_shared_spectra", default=None)


@contextmanager
def shared_spectra():
    """Within this block, :func:`top_k_spectrum` decomposes each matrix once.

    Models compared on the same data (every Objective 1 split, Objective 2,
    their projections) and on the same resamples need the same top-``k``
    spectrum; the exact solvers return it from a cache keyed by a digest of
    the matrix's contents, so equal matrices built separately (the same
    random half, drawn for each model) share it too.
    """
    if _SHARED.get() is not None:  # nested: the outer block's cache serves
        yield
        return
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _cacheable(X):
    """Whether :func:`_digest` reads all of ``X``: an ndarray, CSR or CSC."""
    return isinstance(X, np.ndarray) or getattr(X, "format", "") in ("csr", "csc")


def _shared_digest(cache, X):
    """:func:`_digest` of ``X``, computed once per matrix object in a
    :func:`shared_spectra` block (which matrices do not change in place)."""
    held = cache.get(("digest", id(X)))
    if held is not None and held[0]() is X:
        return held[1]
    digest = _digest(X)
    cache[("digest", id(X))] = (weakref.ref(X), digest)
    return digest


def shared_column_moments(X):
    """:func:`~._matrix.column_moments` of an in-memory ``X``, computed once
    per matrix (by the digest of its contents) in a :func:`shared_spectra`
    block: the closed forms fitted on the same data, or on the same random
    half of it, share them as they share its spectrum."""
    cache = _SHARED.get()
    if cache is None or not _cacheable(X):
        return column_moments(X)
    key = (_shared_digest(cache, X), "column_moments")
    if key not in cache:
        cache[key] = column_moments(X)
    return tuple(a.copy() for a in cache[key])


def _digest(X):
    """A digest of the contents of an in-memory matrix (format included)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((X.shape, str(X.dtype), getattr(X, "format", "dense"))).encode())
    parts = (X.indptr, X.indices, X.data) if sp.issparse(X) else (X,)
    for part in parts:
        h.update(np.ascontiguousarray(part).data)
    return h.hexdigest()


def top_k_spectrum(
    X,
    n_components,
    *,
    solver="auto",
    random_state=None,
    n_iter=10,
    n_oversamples=20,
):
    """Top-``k`` singular values and right singular vectors of ``X``.

    Parameters
    ----------
    X : {ndarray, sparse matrix, dask array} of shape (n_samples, n_features)
        Interaction matrix; float32 input gives float32 output. A dask array
        must be chunked along rows only (numpy or scipy.sparse chunks).
    n_components : int
        Number ``k`` of components. When larger than
        ``min(n_samples, n_features)`` the extra components are zero.
    solver : {"auto", "gram", "randomized", "arpack"}, default="auto"
        See the module docstring for what each does and for the rule of
        ``"auto"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized range finder and ARPACK's start vector.
    n_iter : int, default=10
        Power iterations of the ``"randomized"`` solver.
    n_oversamples : int, default=20
        Oversampling of the ``"randomized"`` solver.

    Returns
    -------
    singular_values : ndarray of shape (n_components,)
        ``s_1 >= ... >= s_k >= 0``.
    components : ndarray of shape (n_features, n_components)
        ``V_k``: orthonormal columns (zero columns for padded components), the
        sign of each fixed so that its largest-magnitude entry is positive.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim._linalg._spectrum import top_k_spectrum
    >>> X = np.diag([3.0, 2.0, 1.0])
    >>> s, V = top_k_spectrum(X, 2)
    >>> s.round(6)
    array([3., 2.])
    >>> V.shape
    (3, 2)
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}.")
    cache = _SHARED.get()
    on_dask = _dask.is_dask_array(X)
    if cache is None or solver == "randomized" or not (on_dask or _cacheable(X)):
        return _top_k_spectrum(
            X, n_components, solver, random_state, n_iter, n_oversamples
        )
    # Exact solvers agree to rounding whatever their start: one entry serves
    # all. A dask array's name is a digest of the graph that computes it (the
    # same blocks and the same rows of them give the same name).
    digest = ("dask", X.name, str(X.dtype)) if on_dask else _shared_digest(cache, X)
    key = (digest, int(n_components))
    if key not in cache:
        cache[key] = _top_k_spectrum(
            X, n_components, solver, random_state, n_iter, n_oversamples
        )
    s, V = cache[key]
    return s.copy(), V.copy()


def _top_k_spectrum(X, n_components, solver, random_state, n_iter, n_oversamples):
    n_samples, n_features = X.shape
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    k = min(n_components, n_samples, n_features)
    if _dask.is_dask_array(X):
        s, V = _dask.top_k_spectrum(
            X,
            k,
            solver=solver,
            random_state=random_state,
            n_iter=n_iter,
            n_oversamples=n_oversamples,
        )
        return padded(s.astype(dtype), V.astype(dtype), n_components, max(X.shape))
    if solver == "auto":
        solver = _choose_solver(n_samples, n_features, k)
    if solver == "arpack" and not arpack_fits(k, min(n_samples, n_features)):
        solver = "gram"  # the (nearly) full spectrum of a small side

    if k == 0 or not (X.count_nonzero() if sp.issparse(X) else np.any(X)):
        # A zero X has a zero spectrum; ARPACK would fail on it ("starting
        # vector is zero") and the Gram route would form p x p zeros.
        return padded(
            np.zeros(0, dtype),
            np.zeros((n_features, 0), dtype),
            n_components,
            max(n_samples, n_features),
        )
    if solver == "gram":
        Y, transposed = _smaller_side(X)
        s, Q = top_k_from_gram(gram_matrix(Y), k, max(n_samples, n_features))
        sk, Vk = s, _right_vectors(X, Q, s, transposed)
    elif solver == "arpack":
        sk, Vk = _arpack_spectrum(X, k, dtype, random_state)
    else:  # randomized
        _, sk, Vt = randomized_svd(
            X,
            k,
            n_oversamples=n_oversamples,
            n_iter=n_iter,
            random_state=random_state,
        )
        Vk = flip_signs(Vt.T)
    return padded(sk, Vk, n_components, max(n_samples, n_features))
