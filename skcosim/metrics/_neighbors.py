"""Exact top-k cosine neighbours: the public, validated search.

The one function every neighbour metric of skcosim uses
(docs/user_guide/stability.rst: ``N(i)`` = the ``k`` nearest rows of item
``i`` by cosine); the search itself is :func:`skcosim._linalg._neighbors.top_k_cosines`,
which ``similar_items`` uses too.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_array

from .._compat import Interval, validate_params
from .._constraints import N_JOBS, Count
from .._linalg._neighbors import top_k_cosines, zero_rows

__all__ = ["check_n_neighbors", "cosine_neighbors", "tie_tolerance", "zero_rows"]


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


def check_n_neighbors(n_neighbors, m, exclude_self=True):
    """Raise a ValueError when ``m`` rows cannot have ``n_neighbors`` each."""
    k_max = m - 1 if exclude_self else m
    if n_neighbors > k_max:
        raise ValueError(
            f"n_neighbors={n_neighbors} is too large for {m} rows: at most "
            f"{k_max} (exclude_self={exclude_self})."
        )


def _check_queries(queries, m):
    queries = np.asarray(queries)
    if queries.ndim != 1 or not np.issubdtype(queries.dtype, np.integer):
        raise TypeError("queries must be a 1-D array of row indices (integers).")
    if queries.size and (queries.min() < 0 or queries.max() >= m):
        raise ValueError(f"queries must be row indices in [0, {m}).")
    return queries.astype(np.intp)


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
        about 36 MiB of similarities (3072 rows in float32). With
        ``queries``: queries per block of similarities against all rows.
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
    check_n_neighbors(n_neighbors, m, exclude_self)
    if queries is not None:
        queries = _check_queries(queries, m)
    return top_k_cosines(
        E,
        n_neighbors,
        exclude_self=exclude_self,
        batch_size=batch_size,
        n_jobs=n_jobs,
        queries=queries,
        grid=tie_tolerance,
    )
