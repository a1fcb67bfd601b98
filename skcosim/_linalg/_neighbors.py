"""Exact top-k cosine neighbours, tile by tile: the one search.

:func:`top_k_cosines` serves :func:`skcosim.metrics.cosine_neighbors` (every
neighbour metric) and the estimators' ``similar_items``, so both find the
same neighbours with the same tie rule.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import effective_n_jobs
from threadpoolctl import threadpool_info, threadpool_limits

from ._matrix import unit_rows

# Bytes of the similarity tile each thread holds (3072 x 3072 in float32):
# large enough that the per-tile merges are few, small enough to stay in memory.
_BLOCK_BYTES = 36 * 2**20
# Smallest tile side used, whatever batch_size says.
_MIN_TILE = 32
# Entries per group of the threshold pre-selection (see _tile).
_MAX_GROUP_SIZE = 64


def _blas_threads() -> int:
    """Threads BLAS may use here (1 inside joblib workers that limit it)."""
    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return max(counts) if counts else 1


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


def _query_neighbors(U, zero, queries, k, exclude_self, grid, batch_size=None):
    """Top-k neighbours of the rows ``queries`` among all rows of ``U``.

    One matrix product per block of queries; every entry at least the
    group-maximum bound of its row (:func:`_group_bound`) is a candidate for
    :func:`_merge`, which breaks exact ties by the smaller index, like the
    full search. ``batch_size`` queries per block (``None``: about
    ``_BLOCK_BYTES`` of similarities).
    """
    m = U.shape[0]
    best_val = np.full((queries.size, k), -np.inf, dtype=U.dtype)
    best_idx = np.full((queries.size, k), m, dtype=np.intp)
    width = int(np.prod(_group_shape(m, k)))  # padded for _group_bound
    step = batch_size or max(1, _BLOCK_BYTES // (U.dtype.itemsize * width))
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


def top_k_cosines(
    E, k, *, exclude_self=True, batch_size=None, n_jobs=None, queries=None, grid=None
):
    """``(indices, similarities)``: the exact top-``k`` cosine neighbours of
    the rows ``queries`` of ``E`` (``None``: every row), most similar first,
    ties to the smaller index; a zero row has cosine 0 with every row.

    ``E`` is validated by the caller; ``grid`` rounds cosines to its
    multiples before ranking (``None``: exact cosines).
    """
    m = E.shape[0]
    zero = zero_rows(E)
    U = unit_rows(E)  # zero rows stay zero: cosine 0
    if queries is not None:
        return _query_neighbors(U, zero, queries, k, exclude_self, grid, batch_size)
    indices, similarities = _all_neighbors(
        U, zero, k, exclude_self, batch_size, n_jobs, grid
    )
    for i in np.flatnonzero(zero):
        indices[i] = _zero_row_neighbors(i, m, k, exclude_self)
        similarities[i] = 0
    return indices, similarities
