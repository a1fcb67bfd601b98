"""Exact top-k cosine neighbours, in row blocks.

The one function every neighbour metric of skcosim uses (MATH.md, "Neighbour
stability": ``N(i)`` = the ``k`` nearest rows of item ``i`` by cosine).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array
from threadpoolctl import threadpool_info, threadpool_limits

# Bytes of the similarity block each thread holds: 16 MiB keeps two blocks in a
# 32 MiB L3 cache, so the passes after the matrix product read from cache.
_BLOCK_BYTES = 16 * 2**20
# Columns per group of the threshold pre-selection (see _select_block).
_MAX_GROUP_SIZE = 64


def _blas_threads() -> int:
    """Threads BLAS may use here (1 inside joblib workers that limit it)."""
    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else 1


def _unit_rows(E):
    """Rows of ``E`` scaled to unit L2 norm; zero rows stay zero.

    Not :func:`sklearn.preprocessing.normalize`: it leaves rows of norm below
    ``10 * eps`` unscaled (about 1e-6 in float32), which made their cosines
    near 0 instead of scale-free. Dividing by the largest entry first keeps
    the norm from underflowing or overflowing.
    """
    peak = np.abs(E).max(axis=1, keepdims=True)
    U = E / np.where(peak > 0, peak, 1).astype(E.dtype)
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    U /= np.where(norms > 0, norms, 1).astype(E.dtype)
    return U


def _zero_row_neighbors(i, m, k, exclude_self):
    """Neighbours of a zero row: every cosine is 0, ties go to small indices."""
    first = np.arange(k + 1)
    if exclude_self:
        first = first[first != i]
    return first[:k]


def _select_block(S, i0, m, k, w, g, exclude_self, zero_rows):
    """Exact top-``k`` of each row of the similarity block ``S`` (``nb x g*w``).

    ``np.argpartition`` over every row costs more than the matrix product
    (MEASURED.md), so the selection first bounds the answer: split the columns
    into ``g`` groups of ``w`` (strided: group ``j`` holds columns
    ``j, j + g, ...``) and take each group's maximum in one vectorized pass.
    The ``k``-th largest group maximum ``t`` is at most the ``k``-th largest
    similarity (``k`` distinct groups reach ``t``), so every neighbour lies in
    a group whose maximum is ``>= t``: typically ``k`` groups, ``k * w``
    candidates instead of ``m``. Ties at the ``k``-th value are all kept as
    candidates, then broken by the smaller column index.
    """
    nb = S.shape[0]
    rows_in_block = np.arange(nb)
    if exclude_self:
        S[rows_in_block, i0 + rows_in_block] = -np.inf
    G = S.reshape(nb, w, g).max(axis=1)
    t = np.partition(G, g - k, axis=1)[:, g - k]
    # Zero rows are answered directly (all cosines 0): no candidate groups.
    t[zero_rows] = np.inf
    rr, jj = np.nonzero(G >= t[:, None])
    cols = jj[:, None] + g * np.arange(w)
    vals = S[rr[:, None], cols]
    keep = vals >= t[rr, None]
    rows = np.broadcast_to(rr[:, None], cols.shape)[keep]
    cols = cols[keep]
    vals = vals[keep]
    # Sort by row, then similarity (descending), then column (ascending).
    order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indices = np.empty((nb, k), dtype=np.intp)
    similarities = np.zeros((nb, k), dtype=S.dtype)
    live = np.flatnonzero(~zero_rows)
    pick = np.searchsorted(rows, live)[:, None] + np.arange(k)
    indices[live] = cols[pick]
    similarities[live] = vals[pick]
    for r in np.flatnonzero(zero_rows):
        indices[r] = _zero_row_neighbors(i0 + r, m, k, exclude_self)
    return indices, similarities


@validate_params(
    {
        "E": ["array-like"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "exclude_self": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def cosine_neighbors(
    E, n_neighbors: int = 10, *, exclude_self: bool = True, batch_size=None, n_jobs=None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact top-``k`` cosine neighbours of every row of ``E``.

    For each row ``i`` of ``E`` (an item embedding, say), the ``n_neighbors``
    rows ``j`` with the largest cosine similarity

    .. math::

        \cos(e_i, e_j) = \frac{e_i^\top e_j}{\lVert e_i \rVert \, \lVert e_j \rVert},

    sorted by decreasing similarity. Exact (no approximation): the rows are
    L2-normalized (any scale, however small or large), then processed
    in blocks of ``batch_size`` rows, each block compared with all rows by one
    matrix product, so memory is ``O(batch_size x m)``, never ``m x m``.

    Parameters
    ----------
    E : array-like of shape (m, d)
        One embedding per row. float32 is kept (faster); other dtypes are
        computed in float64.
    n_neighbors : int, default=10
        Number of neighbours ``k`` per row; at most ``m - 1`` when
        ``exclude_self`` (``m`` otherwise).
    exclude_self : bool, default=True
        Leave row ``i`` out of its own neighbours.
    batch_size : int, default=None
        Rows per block. ``None`` picks blocks of about 16 MiB of similarities.
    n_jobs : int, default=None
        Threads working on blocks in parallel (NumPy and BLAS release the
        GIL; BLAS itself is then limited to one thread per block). ``None``
        uses as many threads as BLAS may currently use (all CPUs, or 1 inside
        a joblib worker that limits threads); ``-1`` all CPUs.

    Returns
    -------
    indices : ndarray of shape (m, n_neighbors)
        ``indices[i]`` are the neighbours of row ``i``, most similar first.
        Exact ties are broken by the smaller index, so the result is
        deterministic.
    similarities : ndarray of shape (m, n_neighbors)
        The matching cosine similarities (float32 for float32 input, float64
        otherwise).

    Notes
    -----
    A row of zeros has no direction: skcosim defines its cosine with every
    row (itself included) as 0, never NaN. A zero row's neighbours are
    therefore the smallest indices, and a zero row is a neighbour of row
    ``i`` only when fewer than ``n_neighbors`` rows have a positive cosine
    with it.

    The selection after each block's matrix product bounds the ``k``-th
    largest similarity by group maxima and ranks only the few rows above the
    bound, instead of partitioning all ``m`` similarities. Many exact ties
    (e.g. many identical rows) make more candidates and are slower, never
    wrong.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.metrics import cosine_neighbors
    >>> E = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, 0.0]])
    >>> indices, similarities = cosine_neighbors(E, n_neighbors=2)
    >>> indices
    array([[1, 2],
           [0, 2],
           [1, 0],
           [0, 1]])
    >>> similarities.round(3)
    array([[0.994, 0.   ],
           [0.994, 0.11 ],
           [0.11 , 0.   ],
           [0.   , 0.   ]])
    """
    # float64 first: check_array converts other dtypes to the first listed.
    E = check_array(E, dtype=[np.float64, np.float32])
    m = E.shape[0]
    k = n_neighbors
    k_max = m - 1 if exclude_self else m
    if k > k_max:
        raise ValueError(
            f"n_neighbors={k} is too large for {m} rows: at most {k_max} "
            f"(exclude_self={exclude_self})."
        )
    zero = ~np.any(E != 0, axis=1)
    U = _unit_rows(E)  # zero rows stay zero: cosine 0
    dtype = U.dtype

    w = max(1, min(_MAX_GROUP_SIZE, m // (4 * (k + 1))))
    g = -(-m // w)  # ceil(m / w) >= 4 (k + 1): enough finite group maxima
    W = g * w
    if batch_size is None:
        batch_size = max(1, _BLOCK_BYTES // (W * dtype.itemsize))
    batch_size = min(batch_size, m)
    starts = np.arange(0, m, batch_size)
    n_threads = _blas_threads() if n_jobs is None else effective_n_jobs(n_jobs)
    n_threads = max(1, min(n_threads, starts.size))

    UT = np.ascontiguousarray(U.T)
    indices = np.empty((m, k), dtype=np.intp)
    similarities = np.empty((m, k), dtype=dtype)

    def work(my_starts):
        # Each thread owns one buffer; padded columns stay -inf forever.
        buf = np.empty((batch_size, W), dtype=dtype)
        buf[:, m:] = -np.inf
        for i0 in my_starts:
            i1 = min(i0 + batch_size, m)
            S = buf[: i1 - i0]
            np.matmul(U[i0:i1], UT, out=S[:, :m])
            ind, sim = _select_block(S, i0, m, k, w, g, exclude_self, zero[i0:i1])
            indices[i0:i1] = ind
            similarities[i0:i1] = sim

    if n_threads == 1:
        work(starts)
    else:
        with threadpool_limits(limits=1, user_api="blas"):
            with ThreadPoolExecutor(n_threads) as pool:
                futures = [
                    pool.submit(work, starts[t::n_threads]) for t in range(n_threads)
                ]
                for future in futures:
                    future.result()
    return indices, similarities
