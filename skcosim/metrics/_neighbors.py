"""Exact top-k cosine neighbours, tile by tile.

The one function every neighbour metric of skcosim uses
(docs/user_guide/stability.rst: ``N(i)`` = the ``k`` nearest rows of item
``i`` by cosine).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from numbers import Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils.validation import check_array
from threadpoolctl import threadpool_info, threadpool_limits

from .._compat import Interval, validate_params
from .._constraints import N_JOBS, Count
from .._linalg._matrix import unit_rows

# Bytes of the similarity tile each thread holds (3072 x 3072 in float32):
# large enough that the per-tile merges are few, small enough to stay in memory.
_BLOCK_BYTES = 36 * 2**20
# Smallest tile side used, whatever batch_size says.
_MIN_TILE = 32
# Entries per group of the threshold pre-selection (see _tile).
_MAX_GROUP_SIZE = 64


def tie_tolerance(*embeddings):
    """Cosines closer than this are ties when neighbour lists are compared.

    Rounding moves a computed cosine by about ``d eps`` (``1e-14`` in float64,
    ``6e-6`` in float32, for ``d = 50``): two embeddings with the same cosines
    in exact arithmetic (a rotated one, or one whose items all lie on a line,
    at cosine +1 or -1) would otherwise order equal cosines at random.
    ``2^-30`` (float64) and ``2^-13`` (float32) are far above that rounding;
    the coarser applies when the dtypes differ.
    """
    single = any(np.asarray(E).dtype != np.float64 for E in embeddings)
    return 2.0**-13 if single else 2.0**-30


def _blas_threads() -> int:
    """Threads BLAS may use here (1 inside joblib workers that limit it)."""
    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else 1


def check_n_neighbors(n_neighbors, m, exclude_self=True):
    """Raise a ValueError when ``m`` rows cannot have ``n_neighbors`` each."""
    k_max = m - 1 if exclude_self else m
    if n_neighbors > k_max:
        raise ValueError(
            f"n_neighbors={n_neighbors} is too large for {m} rows: at most "
            f"{k_max} (exclude_self={exclude_self})."
        )


def zero_rows(E):
    """Rows of ``E`` that are all zero: no direction, cosine 0 with everything."""
    return ~np.any(E != 0, axis=1)


def _zero_row_neighbors(i, m, k, exclude_self):
    """Neighbours of a zero row: every cosine is 0, ties go to small indices."""
    first = np.arange(k + 1)
    if exclude_self:
        first = first[first != i]
    return first[:k]


def _group_shape(c, k):
    """Group size ``w`` and number of groups ``g`` for ``c`` similarities.

    ``g >= 4 (k + 1)`` when ``w > 1``, so at least ``k`` group maxima are
    finite even with self and padding set to ``-inf``.
    """
    w = max(1, min(_MAX_GROUP_SIZE, c // (4 * (k + 1))))
    return w, -(-c // w)


def _kth_largest(G, k, axis):
    """The ``k``-th largest entry of ``G`` along ``axis``."""
    n = G.shape[axis]
    return np.take(np.partition(G, n - k, axis=axis), n - k, axis=axis)


def _merge(best_val, best_idx, cand_q, cand_j, cand_v, k, presorted=False):
    """Fold candidates ``(query, neighbour, similarity)`` into the running top-k.

    Order: larger similarity first, then the smaller index (deterministic
    ties). A query may have any number of candidates; its current top-k
    (``-inf`` / index ``m`` placeholders at first) takes part in the sort.
    Queries usually have a few candidates, so each one's top-k and
    candidates go into one short row of a dense array, sorted row-wise; when
    one query has far more candidates than the others (rows of many tied
    cosines), that array would be mostly padding, and one sort of the
    candidate list is used instead. ``presorted``: ``cand_q`` is already
    non-decreasing.
    """
    if cand_q.size == 0:
        return
    if not presorted:
        order = np.argsort(cand_q, kind="stable")
        cand_q, cand_j, cand_v = cand_q[order], cand_j[order], cand_v[order]
    first = np.flatnonzero(np.concatenate([[True], cand_q[1:] != cand_q[:-1]]))
    queries = cand_q[first]
    counts = np.diff(np.append(first, cand_q.size))
    width = k + int(counts.max())
    if queries.size * width > 4 * (queries.size * k + cand_q.size):
        _merge_sorted(best_val, best_idx, queries, counts, cand_q, cand_j, cand_v, k)
        return
    vals = np.full((queries.size, width), -np.inf, dtype=best_val.dtype)
    idx = np.full((queries.size, width), np.iinfo(np.intp).max, dtype=np.intp)
    vals[:, :k] = best_val[queries]
    idx[:, :k] = best_idx[queries]
    group = np.repeat(np.arange(queries.size), counts)
    slot = k + np.arange(cand_q.size) - first[group]
    vals[group, slot] = cand_v
    idx[group, slot] = cand_j
    top = np.lexsort((idx, -vals), axis=1)[:, :k]
    best_val[queries] = np.take_along_axis(vals, top, axis=1)
    best_idx[queries] = np.take_along_axis(idx, top, axis=1)


def _merge_sorted(best_val, best_idx, queries, counts, cand_q, cand_j, cand_v, k):
    """:func:`_merge` by one sort of all entries by (query, -similarity, index).

    ``queries`` (increasing) have ``counts`` candidates each; every query
    brings its ``k`` current best, so its first ``k`` entries are its new top-k.
    """
    q = np.concatenate([np.repeat(queries, k), cand_q])
    j = np.concatenate([best_idx[queries].ravel(), cand_j])
    v = np.concatenate([best_val[queries].ravel(), cand_v])
    order = np.lexsort((j, -v, q))
    sizes = counts + k
    start = np.cumsum(sizes) - sizes
    rank = np.arange(order.size) - np.repeat(start, sizes)
    keep = order[rank < k]
    best_val[queries] = v[keep].reshape(-1, k)
    best_idx[queries] = j[keep].reshape(-1, k)


def _group_bound(S, r, c, k, axis):
    """Lower bound of the ``k``-th largest entry of each row (``axis=1``) or
    column (``axis=0``) of ``S[:r, :c]``, from maxima of strided groups.

    ``np.argpartition`` over every row would cost more than the matrix
    product itself. Instead, split the ``c`` entries of a row into ``g``
    groups of ``w`` (group ``j`` holds columns ``j, j + g, ...``) and take each
    group's maximum in one vectorized pass: the ``k``-th largest group
    maximum is at most the ``k``-th largest entry (``k`` distinct groups reach
    it). ``S`` is used with a padding of ``-inf`` up to ``w g`` entries.
    A tile with at most ``k`` entries per line gives no bound (``-inf``):
    all its entries are candidates.
    """
    if (c if axis == 1 else r) <= k:
        return np.full(r if axis == 1 else c, -np.inf, dtype=S.dtype)
    if axis == 1:
        w, g = _group_shape(c, k)
        S[:r, c : w * g] = -np.inf
        G = S[:r, : w * g].reshape(r, w, g).max(axis=1)
        return _kth_largest(G, k, axis=1)
    w, g = _group_shape(r, k)
    S[r : w * g, :c] = -np.inf
    G = S[: w * g, :c].reshape(w, g, c).max(axis=0)
    return _kth_largest(G, k, axis=0)


def _check_queries(queries, m):
    queries = np.asarray(queries)
    if queries.ndim != 1 or not np.issubdtype(queries.dtype, np.integer):
        raise TypeError("queries must be a 1-D array of row indices (integers).")
    if queries.size and (queries.min() < 0 or queries.max() >= m):
        raise ValueError(f"queries must be row indices in [0, {m}).")
    return queries.astype(np.intp)


def _snap(S, grid):
    """Round ``S`` in place to a multiple of ``grid`` (``None``: leave it):
    cosines that differ by rounding alone then tie."""
    if grid is not None:
        S *= 1.0 / grid
        np.rint(S, out=S)
        S *= grid


def _candidates(S, bound, grid):
    """Entries ``(row, column, value)`` of ``S`` whose value on the tie grid
    is at least the row's ``bound`` on the grid.

    Rounding is monotone, so the bound of the snapped matrix is the snapped
    bound, and only entries within one grid step of it need rounding.
    """
    m = S.shape[1]
    if grid is not None:
        _snap(bound, grid)
    threshold = bound if grid is None else bound - grid
    # flatnonzero on the flat mask, then divmod: cheaper than 2-D nonzero.
    ri, ci = np.divmod(np.flatnonzero(S >= threshold[:, None]), m)
    vals = S[ri, ci]
    if grid is not None:
        _snap(vals, grid)
        keep = vals >= bound[ri]
        ri, ci, vals = ri[keep], ci[keep], vals[keep]
    return ri, ci, vals


def _query_neighbors(U, zero, queries, k, exclude_self, grid):
    """Top-k neighbours of the rows ``queries`` among all rows of ``U``.

    One matrix product per block of queries; every entry at least the
    group-maximum bound of its row (:func:`_group_bound`) is a candidate for
    :func:`_merge`, which breaks exact ties by the smaller index, like the
    full search.
    """
    m = U.shape[0]
    best_val = np.full((queries.size, k), -np.inf, dtype=U.dtype)
    best_idx = np.full((queries.size, k), m, dtype=np.intp)
    width = int(np.prod(_group_shape(m, k)))  # padded for _group_bound
    step = max(1, _BLOCK_BYTES // (U.dtype.itemsize * width))
    buf = np.empty((min(step, queries.size), width), dtype=U.dtype)
    for start in range(0, queries.size, step):
        rows = queries[start : start + step]
        r = rows.size
        S = buf[:r, :m]
        np.matmul(U[rows], U.T, out=S)
        if exclude_self:
            S[np.arange(r), rows] = -np.inf
        bound = _group_bound(buf, r, m, k, axis=1)
        ri, ci, vals = _candidates(S, bound, grid)
        _merge(best_val, best_idx, start + ri, ci, vals, k, presorted=True)
    for q in np.flatnonzero(zero[queries]):
        best_idx[q] = _zero_row_neighbors(queries[q], m, k, exclude_self)
        best_val[q] = 0
    return best_idx, best_val


def _tile(
    U, bounds, a, b, k, exclude_self, zero, buf, maskbuf, best_val, best_idx, grid
):
    """Fold one tile ``S = U_a U_b^T`` of the similarity matrix into the top-k.

    The matrix is symmetric, so a tile with ``a < b`` serves both the rows
    of block ``a`` (neighbours in block ``b``) and the rows of block ``b``
    (neighbours in block ``a``): half the matrix products. Only entries at
    least as large as a lower bound of their row's ``k``-th largest
    similarity can be neighbours: the running ``k``-th best of the row, or
    for a row seen for the first time, the group-maximum bound. After a few
    tiles, a row's running bound is high and a tile brings few candidates.
    """
    i0, i1, j0, j1 = bounds[a], bounds[a + 1], bounds[b], bounds[b + 1]
    r, c = i1 - i0, j1 - j0
    S = buf  # (P, P) with P >= every padded tile width, see _group_bound
    block = S[:r, :c]
    np.matmul(U[i0:i1], U[j0:j1].T, out=block)
    _snap(block, grid)
    if a == b and exclude_self:
        block[np.arange(r), np.arange(r)] = -np.inf
    # Zero rows are answered directly (bound +inf: no candidates).
    t_row = np.where(zero[i0:i1], np.inf, best_val[i0:i1, k - 1])
    if np.any(t_row == -np.inf):
        t_row = np.maximum(t_row, _group_bound(S, r, c, k, axis=1))
    mask = maskbuf[0, : r * c].reshape(r, c)
    np.greater_equal(block, t_row[:, None], out=mask)
    ri, ci = np.divmod(np.flatnonzero(mask), c)
    # flatnonzero is row-major: the queries (rows) come sorted.
    _merge(best_val, best_idx, i0 + ri, j0 + ci, block[ri, ci], k, presorted=True)
    if a != b:
        t_col = np.where(zero[j0:j1], np.inf, best_val[j0:j1, k - 1])
        if np.any(t_col == -np.inf):
            t_col = np.maximum(t_col, _group_bound(S, r, c, k, axis=0))
        mask = maskbuf[1, : r * c].reshape(r, c)
        np.greater_equal(block, t_col, out=mask)
        ri, ci = np.divmod(np.flatnonzero(mask), c)
        _merge(best_val, best_idx, j0 + ci, i0 + ri, block[ri, ci], k)


@validate_params(
    {
        "E": ["array-like"],
        "n_neighbors": [Count(1)],
        "exclude_self": ["boolean"],
        "batch_size": [Count(1), None],
        "n_jobs": N_JOBS,
        "queries": ["array-like", None],
        "tie_tolerance": [Interval(Real, 0, 1, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def cosine_neighbors(
    E,
    n_neighbors: int = 10,
    *,
    exclude_self: bool = True,
    batch_size=None,
    n_jobs=None,
    queries=None,
    tie_tolerance: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact top-``k`` cosine neighbours of every row of ``E``.

    For each row ``i`` of ``E`` (an item embedding, say), the ``n_neighbors``
    rows ``j`` with the largest cosine similarity

    .. math::

        \cos(e_i, e_j) = \frac{e_i^\top e_j}{\lVert e_i \rVert \, \lVert e_j \rVert},

    sorted by decreasing similarity. Exact (no approximation): the rows are
    L2-normalized (any scale, however small or large), then the similarity
    matrix is computed tile by tile (``batch_size x batch_size`` rows against
    columns, one matrix product each) and only a running top-``k`` per row is
    kept: memory is ``O(batch_size^2 + m k)`` per thread, never ``m x m``.

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
        Rows (and columns) per tile, at least 32. ``None`` picks tiles of
        about 36 MiB of similarities (3072 rows in float32).
    n_jobs : int, default=None
        Threads working on tiles in parallel (NumPy and BLAS release the
        GIL; BLAS itself is then limited to one thread per tile). ``None``
        uses as many threads as BLAS may currently use (all CPUs, or 1 inside
        a joblib worker that limits threads); ``-1`` all CPUs.
    queries : array-like of int, default=None
        Rows whose neighbours are wanted (searched among all ``m`` rows);
        ``None``: every row. A sample of a few thousand queries estimates a
        mean over all rows at a fraction of the ``m^2`` cost.
    tie_tolerance : float in (0, 1), default=None
        If given, cosines are rounded to the nearest multiple of it before
        ranking, so that cosines that differ only by rounding error tie (and
        go to the smaller index), and the returned similarities are the
        rounded ones. The stability metrics compare neighbour lists this way
        (:func:`gauge_stability`). ``None``: exact cosines.

    Returns
    -------
    indices : ndarray of shape (m, n_neighbors)
        ``indices[i]`` are the neighbours of row ``i`` (of ``queries[i]``
        when given), most similar first. Exact ties are broken by the smaller
        index, so the result is deterministic.
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

    The similarity matrix is symmetric: each off-diagonal tile serves the
    rows of both its row block and its column block, so only half of it is
    computed. After each tile's matrix product, the selection bounds the
    ``k``-th largest similarity of each row by group maxima and ranks only
    the few entries above the bound, instead of partitioning all of them.
    Many exact ties (e.g. many identical rows) make more candidates and are
    slower, never wrong.

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
    check_n_neighbors(k, m, exclude_self)
    zero = zero_rows(E)
    U = unit_rows(E)  # zero rows stay zero: cosine 0
    if queries is not None:
        queries = _check_queries(queries, m)
        return _query_neighbors(U, zero, queries, k, exclude_self, tie_tolerance)

    indices, similarities = _all_neighbors(
        U, zero, k, exclude_self, batch_size, n_jobs, tie_tolerance
    )
    for i in np.flatnonzero(zero):
        indices[i] = _zero_row_neighbors(i, m, k, exclude_self)
        similarities[i] = 0
    return indices, similarities


def _tiling(m, k, batch_size, dtype):
    """Tile bounds, the ``(a, b)`` tile pairs of the upper triangle, and the
    side of the tile buffer.

    Square tiles of about ``_BLOCK_BYTES``, of even widths, at least
    ``_MIN_TILE`` (smaller tiles cost more in Python than they save). Their
    size does not depend on ``k``: a tile narrower than ``k`` bounds nothing
    and every entry of it is a candidate (correct, slower).
    """
    if batch_size is None:
        batch_size = math.isqrt(_BLOCK_BYTES // dtype.itemsize)
    tile = min(max(batch_size, _MIN_TILE), m)
    n_tiles = -(-m // tile)
    bounds = np.linspace(0, m, n_tiles + 1).astype(np.intp)
    pairs = [(a, b) for a in range(n_tiles) for b in range(a, n_tiles)]
    # Buffer side: the largest padded tile width (see _group_bound).
    side = max(np.prod(_group_shape(int(c), k)) for c in np.unique(np.diff(bounds)))
    return bounds, pairs, side


def _all_neighbors(U, zero, k, exclude_self, batch_size, n_jobs, grid):
    """``(indices, similarities)`` of every row of the unit rows ``U``, the
    tiles shared among threads (zero rows are left for the caller)."""
    m, dtype = U.shape[0], U.dtype
    bounds, pairs, side = _tiling(m, k, batch_size, dtype)
    n_threads = _blas_threads() if n_jobs is None else effective_n_jobs(n_jobs)
    n_threads = max(1, min(n_threads, len(pairs)))

    def work(my_pairs):
        # Each thread keeps its own tile buffers and running top-k.
        buf = np.empty((side, side), dtype=dtype)
        maskbuf = np.empty((2, side * side), dtype=bool)
        best_val = np.full((m, k), -np.inf, dtype=dtype)
        best_idx = np.full((m, k), m, dtype=np.intp)
        for a, b in my_pairs:
            _tile(
                U,
                bounds,
                a,
                b,
                k,
                exclude_self,
                zero,
                buf,
                maskbuf,
                best_val,
                best_idx,
                grid,
            )
        return best_val, best_idx

    if n_threads == 1:
        similarities, indices = work(pairs)
        return indices, similarities
    with threadpool_limits(limits=1, user_api="blas"):
        with ThreadPoolExecutor(n_threads) as pool:
            parts = list(
                pool.map(work, [pairs[t::n_threads] for t in range(n_threads)])
            )
    similarities, indices = parts[0]
    live = np.flatnonzero(~zero)
    for best_val, best_idx in parts[1:]:
        _merge(
            similarities,
            indices,
            np.repeat(live, k),
            best_idx[live].ravel(),
            best_val[live].ravel(),
            k,
            presorted=True,
        )
    return indices, similarities
