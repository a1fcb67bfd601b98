"""Simulated user-item interactions with clusters and power-law popularity.

The data of the paper's Figure 1 (Steck, Ekanadham & Kallus 2024, Section 4):
users and items fall into clusters, users mostly interact with items of their
own cluster, and item popularity follows a power law. The generating process is
spelled out in the docstring of :func:`make_clustered_interactions`.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch, check_random_state

from .._compat import Interval, validate_params
from .._docstring import PAPER_REFERENCE, Substitution

# Users are drawn in blocks so that the Gumbel keys (block x items) stay small.
_BLOCK_ELEMENTS = 4_000_000


@validate_params(
    {
        "n_users": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_items": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_interactions": [Interval(numbers.Real, 1, None, closed="left")],
        "popularity_exponent": [Interval(numbers.Real, 0, None, closed="left")],
        "in_cluster_share": [Interval(numbers.Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
@Substitution(paper_reference=PAPER_REFERENCE)
def make_clustered_interactions(
    n_users: int = 20000,
    n_items: int = 1000,
    n_clusters: int = 5,
    *,
    n_interactions: float = 30.0,
    popularity_exponent: float = 1.0,
    in_cluster_share: float = 0.8,
    random_state=None,
) -> Bunch:
    """Generate binary user-item interactions with clusters and popular items.

    The simulated data of the paper's Figure 1: items and users belong to
    ``n_clusters`` clusters, users interact mostly with items of their own
    cluster, and item popularity follows a power law. The generating process:

    1. **Item popularity.** Item of global popularity rank ``r = 0, 1, ...,
       n_items - 1`` has weight ``w_r = (r + 1) ** -popularity_exponent``
       (Zipf's law); ``item_popularity`` is ``w`` normalized to sum 1.
    2. **Item clusters.** Ranks are dealt round-robin: rank ``r`` goes to
       cluster ``r % n_clusters``. Every cluster holds ``n_items //
       n_clusters`` or one more items, has a power law of its own, and the
       clusters have similar total popularity.
    3. **Item order.** Items (columns) are numbered by cluster, then by
       descending popularity within the cluster: ``item_labels`` is sorted and
       ``item_popularity`` decreases inside each cluster (the order of the
       paper's Figure 1).
    4. **Users.** Each user gets a cluster uniformly at random
       (``user_labels``) and a number of interactions
       ``n_u = 1 + Poisson(n_interactions - 1)``.
    5. **Interactions.** ``m_u ~ Binomial(n_u, in_cluster_share)`` of them are
       items of the user's cluster, the other ``n_u - m_u`` items of the other
       clusters; each group is drawn *without replacement* with probabilities
       proportional to the popularity weights ``w`` (successive sampling, done
       with the Gumbel top-k trick). A count larger than its group is cut to
       the group's size. ``X[u, j] = 1`` for the items drawn, 0 elsewhere.

    So every user has at least one interaction, no interaction is repeated, and
    the expected share of interactions inside the user's cluster is
    ``in_cluster_share`` (exactly so while no count is cut, i.e. while
    ``n_u`` stays below the cluster sizes).

    Parameters
    ----------
    n_users : int, default=20000
        Number of users (rows).
    n_items : int, default=1000
        Number of items (columns). Must be at least ``n_clusters``.
    n_clusters : int, default=5
        Number of clusters of users and of items.
    n_interactions : float, default=30.0
        Mean number of interactions per user (at least 1).
    popularity_exponent : float, default=1.0
        Exponent ``a`` of the power law ``w_r = (r + 1) ** -a``; 0 makes all
        items equally popular.
    in_cluster_share : float in [0, 1], default=0.8
        Probability that an interaction is with an item of the user's own
        cluster. ``1 / n_clusters`` or less means no cluster structure beyond
        chance.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw of the user clusters and the interactions; pass an
        int for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : scipy.sparse.csr_matrix of shape (n_users, n_items)
            Binary interactions, float64, users in rows.
        item_labels : ndarray of shape (n_items,), dtype int
            Cluster of each item, non-decreasing.
        user_labels : ndarray of shape (n_users,), dtype int
            Cluster of each user.
        item_popularity : ndarray of shape (n_items,)
            Generating popularity ``w`` of each item, summing to 1,
            decreasing within each cluster (the observed counts are
            ``data.sum(axis=0)``).

    See Also
    --------
    load_interactions : Read your own interaction log into the same form.

    References
    ----------
    {paper_reference}

    Examples
    --------
    >>> from skcosim.datasets import make_clustered_interactions
    >>> bunch = make_clustered_interactions(n_users=500, n_items=50,
    ...                                     n_clusters=5, random_state=0)
    >>> bunch.data.shape
    (500, 50)
    >>> bunch.item_labels[:12]
    array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    >>> bool(bunch.data.max() == 1.0)
    True
    """
    if n_clusters > n_items:
        raise ValueError(
            f"n_clusters={n_clusters} must not exceed n_items={n_items}: every "
            "cluster needs an item."
        )
    rng = check_random_state(random_state)

    # Steps 1-3: popularity by global rank, clusters dealt round-robin, then
    # items ordered by cluster and descending popularity (a stable sort keeps
    # the rank order inside each cluster).
    ranks = np.arange(n_items)
    weights = (ranks + 1.0) ** -float(popularity_exponent)
    rank_cluster = ranks % n_clusters
    order = np.argsort(rank_cluster, kind="stable")
    item_labels = rank_cluster[order].astype(np.intp)
    weights = weights[order]
    item_popularity = weights / weights.sum()
    # Log-weights from the ranks, not log(weights): for a large exponent the
    # weights underflow to 0 and log(0) = -inf would make the draw arbitrary.
    log_w = -float(popularity_exponent) * np.log(ranks[order] + 1.0)

    # Step 4: user clusters and activity.
    user_labels = rng.randint(n_clusters, size=n_users).astype(np.intp)
    n_per_user = 1 + rng.poisson(n_interactions - 1.0, size=n_users)
    n_inside = rng.binomial(n_per_user, in_cluster_share)
    n_outside = n_per_user - n_inside

    # Step 5: per cluster of users, draw the inside and the outside items.
    rows, cols = [], []
    for c in range(n_clusters):
        users = np.flatnonzero(user_labels == c)
        if users.size == 0:
            continue
        inside = np.flatnonzero(item_labels == c)
        outside = np.flatnonzero(item_labels != c)
        for items, counts in ((inside, n_inside), (outside, n_outside)):
            r, j = _draw_without_replacement(
                rng, users, np.minimum(counts[users], items.size), items, log_w
            )
            rows.append(r)
            cols.append(j)
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    X = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float64), (rows, cols)),
        shape=(n_users, n_items),
    )
    X.sort_indices()
    return Bunch(
        data=X,
        item_labels=item_labels,
        user_labels=user_labels,
        item_popularity=item_popularity,
    )


def _draw_without_replacement(rng, users, counts, items, log_w):
    """For each user, ``counts[u]`` distinct ``items`` with weights ``exp(log_w)``.

    Gumbel top-k: the ``m`` largest of ``log w_j + Gumbel`` are a draw of ``m``
    items without replacement, each next one with probability proportional to
    its weight among those left (Vieira 2014; Kool et al. 2019).
    """
    empty = np.empty(0, dtype=np.intp)
    if items.size == 0 or counts.max(initial=0) == 0:
        return empty, empty
    out_rows, out_cols = [], []
    block = max(1, _BLOCK_ELEMENTS // items.size)
    for start in range(0, users.size, block):
        u = users[start : start + block]
        m = counts[start : start + block]
        top = int(m.max(initial=0))
        if top == 0:
            continue
        keys = log_w[items] + rng.gumbel(size=(u.size, items.size))
        if top < items.size:
            # Only the `top` largest keys per user matter; sort just those.
            part = np.argpartition(-keys, top - 1, axis=1)[:, :top]
        else:
            part = np.broadcast_to(np.arange(items.size), (u.size, items.size))
        part_keys = np.take_along_axis(keys, part, axis=1)
        best = np.take_along_axis(part, np.argsort(-part_keys, axis=1), axis=1)
        keep = np.arange(top)[None, :] < m[:, None]
        out_rows.append(np.broadcast_to(u[:, None], best.shape)[keep])
        out_cols.append(items[best[keep]])
    if not out_rows:
        return empty, empty
    return np.concatenate(out_rows), np.concatenate(out_cols)
