"""Top eigenpairs of a symmetric ``p x p`` matrix, and the rank and sign rules.

The leaf of skcosim's linear algebra: :mod:`skcosim._linalg._spectrum` (in
memory) and :mod:`skcosim._linalg._dask` (row-chunked dask arrays) both turn
a Gram matrix or a Lanczos run into singular values and vectors through the
same rank tolerance, sign convention and Krylov basis size defined here.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator, eigsh
from threadpoolctl import ThreadpoolController

#: Smallest ``p`` from which :func:`top_k_eigh` uses Lanczos (``eigsh``) on a
#: dense symmetric matrix instead of LAPACK's ``eigh``, when ``k <= p / 8``:
#: below it ``eigh``'s ``p^3`` is no dearer than Lanczos's restarts.
EIGSH_MIN_DIM = 400


# Below this many non-zeros a threaded matrix-vector product costs more in
# dispatch than it saves.
THREAD_MIN_NNZ = 200_000


def arpack_fits(k, m):
    """Whether ARPACK computes ``k`` eigenpairs of the ``m x m`` problem: the
    one rule of every solver choice (``"auto"``, explicit ``"arpack"``, dask).

    ``eigsh`` needs ``k < m``; at ``k = m - 1`` its Krylov basis is the whole
    space, a dense ``m x m`` eigenproblem that the Gram route solves directly.
    """
    return k < m - 1


def top_k_eigh(M, n_components):
    """Top ``n_components`` eigenpairs of a symmetric matrix, largest first.

    LAPACK's ``eigh`` (restricted to the wanted indices) for small matrices;
    for ``p >= EIGSH_MIN_DIM`` and ``k <= p / 8`` ARPACK's Lanczos on the dense
    matrix, whose cost grows as ``p^2`` per iteration instead of ``eigh``'s
    ``p^3``, at the same accuracy (tolerance: machine precision). For larger
    ``k`` the Krylov basis grows and Lanczos loses its advantage.

    Parameters
    ----------
    M : ndarray of shape (p, p)
        Symmetric matrix; only its lower triangle is read (by LAPACK's
        ``eigh`` and by the Lanczos branch's ``symv``).
    n_components : int
        Number of eigenpairs; must be at most ``p``.

    Returns
    -------
    eigenvalues : ndarray of shape (n_components,)
        In descending order.
    eigenvectors : ndarray of shape (p, n_components)
        Orthonormal columns, signs fixed by :func:`flip_signs`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim._linalg._eigen import top_k_eigh
    >>> w, Q = top_k_eigh(np.diag([1.0, 3.0, 2.0]), 2)
    >>> w
    array([3., 2.])
    >>> Q
    array([[0., 0.],
           [1., 0.],
           [0., 1.]])
    """
    p = M.shape[0]
    if n_components == 0:
        return np.zeros(0, M.dtype), np.zeros((p, 0), M.dtype)
    with one_blas_thread(M.size):
        if p >= EIGSH_MIN_DIM and 8 * n_components <= p:
            v0 = np.random.RandomState(0).uniform(-1, 1, p).astype(M.dtype)
            ncv = lanczos_ncv(n_components, p, wide=False)
            w, Q = eigsh(
                _SymmetricOperator(M), k=n_components, which="LA", v0=v0, ncv=ncv
            )
            order = np.argsort(w)[::-1]
            return w[order], flip_signs(Q[:, order])
        w, Q = scipy.linalg.eigh(
            M, subset_by_index=[p - n_components, p - 1], check_finite=False
        )
    return w[::-1], flip_signs(Q[:, ::-1])


def lanczos_ncv(k, m, *, wide=True):
    """Lanczos basis size.

    ``wide``: ``3k`` when a product costs more than ARPACK's own work (sparse
    ``X``: fewer restarts). Otherwise ``1.5k + 4``, narrower than ARPACK's
    default ``2k + 1``: on a dense ``p x p`` Gram matrix ARPACK's own work
    (re-orthogonalization, restarts), which grows with the basis, is about
    half the cost, so a narrower basis pays for its extra restarts.
    """
    if wide:
        return min(m, max(3 * k, 20))
    return min(m, max(3 * k // 2 + 4, 20))


def flip_signs(V):
    """Make the largest-magnitude entry of each column positive (deterministic)."""
    if V.size == 0:
        return V
    idx = np.argmax(np.abs(V), axis=0)
    signs = np.sign(V[idx, np.arange(V.shape[1])])
    signs[signs == 0] = 1
    return V * signs.astype(V.dtype)


class _SymmetricOperator(LinearOperator):
    """``v -> M v`` for a dense symmetric ``M``, by BLAS ``symv`` / ``symm``.

    Reads only the lower triangle of ``M`` (as :func:`scipy.linalg.eigh`
    does), so a product streams half the memory of ``M @ v``, which bounds
    its cost on a matrix this size. The lower triangle of a C-ordered ``M`` is
    the upper triangle of the Fortran-ordered ``M.T``, which BLAS takes
    without a copy.
    """

    def __init__(self, M):
        self.M_f = np.asfortranarray(M.T)  # a view when M is C-contiguous
        self.symv, self.symm = scipy.linalg.get_blas_funcs(("symv", "symm"), (M,))
        super().__init__(dtype=M.dtype, shape=M.shape)

    def _matvec(self, v):
        v = np.asarray(v, dtype=self.dtype).ravel()
        return self.symv(1.0, self.M_f, v, lower=0)

    def _matmat(self, V):
        V = np.asarray(V, dtype=self.dtype)
        return self.symm(1.0, self.M_f, V, side=0, lower=0)

    def _adjoint(self):
        return self


@contextmanager
def one_blas_thread(size):
    """BLAS limited to one thread while an eigensolver runs (if ``size`` is large).

    ARPACK and LAPACK's ``eigh`` make many small BLAS calls, each a barrier
    for BLAS's threads: on a busy machine one descheduled thread stalls every
    call.
    """
    if size < THREAD_MIN_NNZ:  # small: no limits to set
        yield
        return
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@functools.cache
def _blas_controller():
    # Scanning the loaded libraries is not free: do it once (numpy's and
    # scipy's BLAS are loaded by the imports of this module).
    return ThreadpoolController()


def top_k_from_gram(G, k, max_dim):
    """``(s, Q)``: square roots of the top-``k`` eigenvalues of ``G``, eigenvectors.

    Eigenvalues of ``G`` carry absolute errors ~ ``eps * s_1^2``, so the rank
    tolerance applies to ``s^2`` here, not to ``s`` (``max_dim``: the larger
    dimension of ``X``, as in numpy.linalg.matrix_rank).
    """
    w, Q = top_k_eigh(G, k)
    return np.sqrt(zero_null_eigenvalues(w, G.dtype, max_dim)), Q


def zero_null_eigenvalues(w, dtype, max_dim):
    """Eigenvalues ``w = s^2`` of ``X^T X`` with those below the rank tolerance
    (:func:`rank_rtol` of ``max(w)``) set to zero: the one rank threshold of
    every solver that reaches ``s`` through ``s^2``."""
    return np.where(w > w.max(initial=0) * rank_rtol(dtype, max_dim), w, 0)


def rank_rtol(dtype, max_dim):
    """Relative tolerance below which a singular value (or eigenvalue) is zero.

    numpy.linalg.matrix_rank's ``max(n, p) * eps``, with float64's ``eps``, and
    never below ``8 * eps`` of the working dtype. With float32's ``eps`` the
    factor ``max(n, p)`` would cut real components: at a million rows the
    threshold would reach a tenth of ``s_1``.
    """
    return max(max_dim * np.finfo(np.float64).eps, 8 * np.finfo(dtype).eps)


def spectrum_from_gram(G, n_components, *, n_samples):
    """Top-``k`` singular values and right singular vectors from ``G = X^T X``.

    The ``"gram"`` solver of :func:`top_k_spectrum`, for callers that need
    ``G`` itself too (the exact dropout form).

    Parameters
    ----------
    G : ndarray of shape (n_features, n_features)
        ``X^T X``.
    n_components : int
        Number ``k`` of components.
    n_samples : int
        Number of rows of ``X`` (bounds the rank and sets the tolerance).

    Returns
    -------
    singular_values : ndarray of shape (n_components,)
    components : ndarray of shape (n_features, n_components)
        As returned by :func:`top_k_spectrum`.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim._linalg._eigen import spectrum_from_gram
    >>> X = np.diag([3.0, 2.0, 1.0])
    >>> s, V = spectrum_from_gram(X.T @ X, 2, n_samples=3)
    >>> s
    array([3., 2.])
    """
    n_features = G.shape[0]
    k = min(n_components, n_samples, n_features)
    max_dim = max(n_samples, n_features)
    if k == 0:
        return padded(
            np.zeros(0, G.dtype),
            np.zeros((n_features, 0), G.dtype),
            n_components,
            max_dim,
        )
    s, Vk = top_k_from_gram(G, k, max_dim)
    return padded(s, Vk, n_components, max_dim)


def padded(sk, Vk, n_components, max_dim):
    """Zero-pad to ``n_components``, zeroing numerically null components.

    Singular values below the numerical rank tolerance (:func:`rank_rtol`) are
    zero and their directions arbitrary, so both are set to zero.
    """
    dtype = Vk.dtype
    k = sk.shape[0]
    tol = sk.max(initial=0) * rank_rtol(dtype, max_dim)
    keep = sk > tol
    s = np.zeros(n_components, dtype=dtype)
    V = np.zeros((Vk.shape[0], n_components), dtype=dtype)
    s[:k] = np.where(keep, sk, 0)
    V[:, :k] = Vk * keep
    return s, V
