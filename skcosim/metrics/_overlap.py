"""Overlap of two neighbour lists: Jaccard@k and rank-biased overlap."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_array

from .._compat import Interval, StrOptions, validate_params
from .._constraints import Count
from ._neighbors import cosine_neighbors, tie_tolerance, zero_rows

OVERLAP_METHODS = ("jaccard", "rbo")


def jaccard_from_indices(ind1, ind2):
    """Per-row Jaccard index of two ``m x k`` neighbour index arrays.

    Each row holds ``k`` distinct indices, so in the sorted concatenation of
    the two rows a repeated value is exactly one shared neighbour.
    """
    k = ind1.shape[1]
    both = np.sort(np.concatenate([ind1, ind2], axis=1), axis=1)
    shared = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)
    return shared / (2 * k - shared)


def random_jaccard(n_items, n_neighbors):
    """Expected Jaccard@k of two independent random top-``k`` sets of an item.

    The chance level of the stabilities: each set is a uniformly random
    ``k``-subset of the ``N = n_items - 1`` other items, so the number ``I``
    of shared neighbours is hypergeometric and the expectation is
    ``sum_i P(I = i) * i / (2k - i)``. It is 1 when ``k = N`` (every top-k
    set is all the other items) and about ``k / (2N)`` when ``k << N``.
    """
    from scipy.stats import hypergeom

    n_other = int(n_items) - 1
    k = min(int(n_neighbors), n_other)
    if k < 1:
        raise ValueError(f"{n_items} item(s) have no neighbours to compare.")
    if k == n_other:
        return 1.0  # exactly, not a sum of rounded probabilities
    shared = np.arange(k + 1)
    prob = hypergeom(n_other, k, k).pmf(shared)
    return float(np.sum(prob * shared / (2 * k - shared)))


def rbo_from_indices(ind1, ind2, p=0.9):
    """Per-row extrapolated rank-biased overlap (Webber et al. 2010, Eq. 32).

    ``RBO_ext = X_k / k * p^k + (1 - p) / p * sum_{d=1}^{k} X_d / d * p^d``
    with ``X_d`` the number of items shared by the two top-``d`` prefixes;
    identical lists give 1. An item at rank ``a`` in one list and ``b`` in the
    other is shared by every prefix of depth ``d > max(a, b)``, so ``X_d`` is
    a cumulative count of ``max(a, b)`` over the shared items.
    """
    m, k = ind1.shape
    match = ind1[:, :, None] == ind2[:, None, :]  # m x k x k, k is small
    found = match.any(axis=2)
    rank2 = match.argmax(axis=2)
    depth = np.maximum(np.arange(k), rank2)  # 0-based rank where it is shared
    rows = np.broadcast_to(np.arange(m)[:, None], (m, k))
    counts = np.zeros((m, k))
    np.add.at(counts, (rows[found], depth[found]), 1.0)
    X = np.cumsum(counts, axis=1)  # X[:, d - 1] = X_d
    d = np.arange(1, k + 1)
    weights = (1.0 - p) / p * p**d / d
    return X @ weights + X[:, -1] / k * p**k


def overlap_from_indices(ind1, ind2, method="jaccard", p=0.9, *, undirected=None):
    """Per-row overlap of two neighbour index arrays.

    Rows flagged in ``undirected`` (a zero embedding row in either embedding)
    have no neighbours to share: their overlap is 0.
    """
    if method == "jaccard":
        overlap = jaccard_from_indices(ind1, ind2)
    else:
        overlap = rbo_from_indices(ind1, ind2, p=p)
    if undirected is not None:
        overlap[undirected] = 0.0
    return overlap


def mean_overlap(overlap, undirected):
    """Mean overlap over the rows with a direction in both embeddings.

    A zero row's neighbours are tie-broken by index, not found: counting them
    would score an all-zero embedding (every component cut) as perfectly
    stable. When no row has a direction there is nothing stable: 0.0.
    """
    directed = ~undirected
    return float(overlap[directed].mean()) if directed.any() else 0.0


@validate_params(
    {
        "E1": ["array-like"],
        "E2": ["array-like"],
        "n_neighbors": [Count(1)],
        "method": [StrOptions(set(OVERLAP_METHODS))],
        "average": ["boolean"],
        "p": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def neighbor_overlap(
    E1,
    E2,
    n_neighbors: int = 10,
    *,
    method: str = "jaccard",
    average: bool = True,
    p: float = 0.9,
):
    r"""Overlap of the top-``k`` cosine neighbours of two embeddings of the same items.

    ``E1`` and ``E2`` embed the same ``m`` items (row ``i`` of each is item
    ``i``), possibly in different dimensions. With ``N_1(i)``, ``N_2(i)`` the
    ``k = n_neighbors`` nearest items of item ``i`` by cosine in each (self
    excluded, :func:`cosine_neighbors`; user guide: :ref:`stability`):

    - ``method="jaccard"`` (Jaccard@k), order-blind:

      .. math::

          J_i = \frac{|N_1(i) \cap N_2(i)|}{|N_1(i) \cup N_2(i)|}

    - ``method="rbo"``, the extrapolated rank-biased overlap of Webber,
      Moffat & Zobel (2010), which weighs the top of the lists more, with
      ``X_d`` the size of the overlap of the top-``d`` prefixes:

      .. math::

          \mathrm{RBO}_i = \frac{X_k}{k} p^k
              + \frac{1 - p}{p} \sum_{d=1}^{k} \frac{X_d}{d} p^d

    Both are 1 for identical lists and 0 for disjoint ones. Cosines that
    agree to within rounding (``2^-30`` in float64, ``2^-13`` in float32)
    rank as ties, broken by index, in both embeddings. An item whose row
    is zero in either embedding has no direction, so no neighbours: its
    overlap is 0 and it is left out of the mean; the mean is 0.0 when no item
    has a direction (an embedding whose components are all cut is not
    "stable").

    Parameters
    ----------
    E1 : array-like of shape (m, d1)
        First embedding, one row per item.
    E2 : array-like of shape (m, d2)
        Second embedding of the same items.
    n_neighbors : int, default=10
        Number of neighbours ``k`` compared.
    method : {"jaccard", "rbo"}, default="jaccard"
        Set overlap (Jaccard@k) or rank-biased overlap.
    average : bool, default=True
        Return the mean over items; otherwise one value per item.
    p : float in (0, 1), default=0.9
        Persistence of RBO (weight of deeper ranks); ignored by Jaccard.

    Returns
    -------
    overlap : float or ndarray of shape (m,)
        Mean overlap, or the overlap of each item.

    See Also
    --------
    cosine_neighbors : The neighbours compared.
    gauge_stability : Overlap under random admissible gauge transforms.

    Notes
    -----
    The ``rbo`` package on PyPI computes the same quantity one pair of lists
    at a time in Python; here all ``m`` rows are compared at once.

    References
    ----------
    .. [1] W. Webber, A. Moffat, J. Zobel. "A similarity measure for
       indefinite rankings." ACM TOIS 28(4), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.metrics import neighbor_overlap
    >>> rng = np.random.RandomState(0)
    >>> E = rng.randn(200, 8)
    >>> float(neighbor_overlap(E, 3.0 * E, n_neighbors=5))  # scale-free
    1.0
    >>> D = np.exp(rng.randn(8))  # a per-dimension rescaling moves neighbours
    >>> bool(neighbor_overlap(E, E * D, n_neighbors=5) < 0.9)
    True
    >>> float(neighbor_overlap(E, E @ np.linalg.qr(rng.randn(8, 8))[0],
    ...                        n_neighbors=5, method="rbo"))  # rotation-free
    1.0
    """
    E1 = check_array(E1, dtype=[np.float32, np.float64], input_name="E1")
    E2 = check_array(E2, dtype=[np.float32, np.float64], input_name="E2")
    if E1.shape[0] != E2.shape[0]:
        raise ValueError(
            f"E1 and E2 must embed the same items: E1 has {E1.shape[0]} rows, "
            f"E2 has {E2.shape[0]}."
        )
    tol = tie_tolerance(E1, E2)
    ind1, _ = cosine_neighbors(E1, n_neighbors, tie_tolerance=tol)
    ind2, _ = cosine_neighbors(E2, n_neighbors, tie_tolerance=tol)
    undirected = zero_rows(E1) | zero_rows(E2)
    overlap = overlap_from_indices(ind1, ind2, method, p, undirected=undirected)
    return mean_overlap(overlap, undirected) if average else overlap
