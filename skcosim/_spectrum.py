"""The top-k spectrum of an interaction matrix: the one place that decomposes ``X``.

Every closed form of skcosim (MATH.md, Objectives 1 and 2, and the start of
Objective 3) needs only the top ``k`` singular values ``s_k`` and right singular
vectors ``V_k`` of ``X``; the exact dropout form needs the Gram matrix
``G = X^T X`` and the top eigenvectors of a symmetric ``p x p`` matrix. They are
all computed here.

Solvers of :func:`top_k_spectrum`:

``"gram"``
    Forms ``G = X^T X`` (sparse-aware, summed over row blocks on all cores) and
    takes its top ``k`` eigenpairs with ``scipy.linalg.eigh(subset_by_index=...)``.
    Exact to machine precision for the leading values; memory ``p x p``.
``"arpack"``
    ``scipy.sparse.linalg.svds(solver="arpack")``: Lanczos on ``X`` itself,
    exact, memory ``O((n + p) k)``.
``"randomized"``
    :func:`sklearn.utils.extmath.randomized_svd` (Halko et al.), with more power
    iterations than scikit-learn's ``TruncatedSVD`` default so that the tail of
    the top ``k`` is accurate; memory ``O((n + p) k)``.
``"auto"``
    ``"gram"`` when ``n_features <= 2000`` or when ``k`` is at least
    ``min(n_samples, n_features) - 1`` (ARPACK needs ``k < min(n, p)``),
    otherwise ``"arpack"``. Gram + ``eigh`` costs ``O(nnz * p + p^3)`` and is
    the fastest exact route for a few thousand items; past that the ``p^3`` of
    ``eigh`` dominates and Lanczos on ``X`` wins (../shared/docs/MEASURED.md:
    ``eigh`` alone took 52 s at p = 10,000).

When ``k`` exceeds ``min(n_samples, n_features)`` the missing components are
returned as zero singular values with zero vectors: the rank-``k`` optimum of
every objective here is then the full-rank one, and a zero component carries
nothing.
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from joblib import cpu_count
from scipy.sparse.linalg import svds
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd

SOLVERS = ("auto", "gram", "randomized", "arpack")

#: Largest number of features for which ``solver="auto"`` picks ``"gram"``.
GRAM_MAX_FEATURES = 2000

# Rows of X per block when the sparse Gram matrix is summed over row blocks.
_GRAM_BLOCK_NNZ = 2_000_000


def _choose_solver(n_samples, n_features, n_components):
    """The rule of ``solver="auto"`` (module docstring)."""
    if (
        n_features <= GRAM_MAX_FEATURES
        or n_components >= min(n_samples, n_features) - 1
    ):
        return "gram"
    return "arpack"


def gram_matrix(X):
    """Return the dense Gram matrix ``X^T X`` (``n_features`` square).

    Sparse input is multiplied in row blocks on all cores: scipy's sparse
    product releases the GIL, and block products summed are faster than one
    large product (MEASURED.md). The result has the dtype of ``X``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
    """
    if not sp.issparse(X):
        X = np.asarray(X)
        return X.T @ X
    X = sp.csr_matrix(X)
    n_blocks = max(1, math.ceil(X.nnz / _GRAM_BLOCK_NNZ))
    n_threads = min(cpu_count(only_physical_cores=False), n_blocks)
    bounds = np.linspace(0, X.shape[0], n_blocks + 1).astype(int)
    slices = [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]

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
            parts = list(pool.map(block_sum, groups))
        G = parts[0]
        for part in parts[1:]:
            G = G + part
    if G is None:  # no rows at all
        return np.zeros((X.shape[1], X.shape[1]), dtype=X.dtype)
    return G.toarray()


def top_k_eigh(M, n_components):
    """Top ``n_components`` eigenpairs of a symmetric matrix, largest first.

    Parameters
    ----------
    M : ndarray of shape (p, p)
        Symmetric matrix (only the lower triangle is read).
    n_components : int
        Number of eigenpairs; must be at most ``p``.

    Returns
    -------
    eigenvalues : ndarray of shape (n_components,)
        In descending order.
    eigenvectors : ndarray of shape (p, n_components)
        Orthonormal columns, signs fixed by :func:`_flip_signs`.
    """
    p = M.shape[0]
    w, Q = scipy.linalg.eigh(
        M, subset_by_index=[p - n_components, p - 1], check_finite=False
    )
    return w[::-1], _flip_signs(Q[:, ::-1])


def _flip_signs(V):
    """Make the largest-magnitude entry of each column positive (deterministic)."""
    if V.size == 0:
        return V
    idx = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1
    return V * signs.astype(V.dtype)


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
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Interaction matrix; float32 input gives float32 output.
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
    >>> from skcosim._spectrum import top_k_spectrum
    >>> X = np.diag([3.0, 2.0, 1.0])
    >>> s, V = top_k_spectrum(X, 2)
    >>> s.round(6)
    array([3., 2.])
    >>> V.shape
    (3, 2)
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}.")
    n_samples, n_features = X.shape
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    k = min(n_components, n_samples, n_features)
    if solver == "auto":
        solver = _choose_solver(n_samples, n_features, k)
    if solver == "arpack" and k >= min(n_samples, n_features):
        # ARPACK needs k < min(n, p); the full spectrum is small anyway.
        solver = "gram"

    if k == 0 or not (X.count_nonzero() if sp.issparse(X) else np.any(X)):
        # A zero X has a zero spectrum; ARPACK would fail on it ("starting
        # vector is zero") and the Gram route would form p x p zeros.
        return _padded(
            np.zeros(0, dtype),
            np.zeros((n_features, 0), dtype),
            n_components,
            max(n_samples, n_features),
        )
    if solver == "gram":
        return spectrum_from_gram(gram_matrix(X), n_components, n_samples=n_samples)
    if solver == "arpack":
        rng = check_random_state(random_state)
        v0 = rng.uniform(-1, 1, size=min(n_samples, n_features)).astype(dtype)
        _, sk, Vt = svds(X, k=k, solver="arpack", v0=v0, return_singular_vectors="vh")
        order = np.argsort(sk)[::-1]
        sk, Vk = sk[order], _flip_signs(Vt[order].T)
    else:  # randomized
        _, sk, Vt = randomized_svd(
            X,
            k,
            n_oversamples=n_oversamples,
            n_iter=n_iter,
            random_state=random_state,
        )
        Vk = _flip_signs(Vt.T)
    return _padded(sk, Vk, n_components, max(n_samples, n_features))


def spectrum_from_gram(G, n_components, *, n_samples):
    """Top-``k`` singular values and right singular vectors from ``G = X^T X``.

    The ``"gram"`` solver of :func:`top_k_spectrum`, for callers that need
    ``G`` itself too (the exact dropout form). Same returns.
    """
    n_features = G.shape[0]
    k = min(n_components, n_samples, n_features)
    if k == 0:
        return _padded(
            np.zeros(0, G.dtype),
            np.zeros((n_features, 0), G.dtype),
            n_components,
            max(n_samples, n_features),
        )
    w, Vk = top_k_eigh(G, k)
    # Eigenvalues of G carry absolute errors ~ eps * s_1^2, so the rank
    # tolerance applies to s^2 here, not to s.
    w = np.where(
        w > w.max(initial=0) * max(n_samples, n_features) * np.finfo(G.dtype).eps, w, 0
    )
    return _padded(np.sqrt(w), Vk, n_components, max(n_samples, n_features))


def _padded(sk, Vk, n_components, max_dim):
    """Zero-pad to ``n_components``, zeroing numerically null components.

    Singular values below the numerical rank tolerance (numpy.linalg.matrix_rank's
    rule) are zero and their directions arbitrary, so both are set to zero.
    """
    dtype = Vk.dtype
    k = sk.shape[0]
    tol = sk.max(initial=0) * max_dim * np.finfo(dtype).eps
    keep = sk > tol
    s = np.zeros(n_components, dtype=dtype)
    V = np.zeros((Vk.shape[0], n_components), dtype=dtype)
    s[:k] = np.where(keep, sk, 0)
    V[:, :k] = Vk * keep
    return s, V
