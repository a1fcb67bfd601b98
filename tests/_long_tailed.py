"""A small long-tailed interaction matrix with the awkward cases of real logs."""

import numpy as np
import scipy.sparse as sp


def long_tailed_interactions(seed=0, n=300, p=60):
    """Zipf items, log-normal users; unseen items, an empty user, users with a
    single interaction, and stored explicit zeros (CSR, float64)."""
    rng = np.random.RandomState(seed)
    item = 1.0 / np.arange(1, p + 1)
    user = rng.lognormal(0.0, 1.0, n)
    prob = 0.1 * np.outer(user / np.median(user), item * p / item.sum())
    D = (rng.rand(n, p) < np.clip(prob, 0, 1)).astype(float)
    D[:, -3:] = 0.0  # items nobody interacted with
    D[0] = 0.0  # a user without interactions
    D[1:4] = 0.0
    D[1:4, [0, 5, 20]] = 1.0  # users with a single interaction
    C = sp.coo_matrix(D)
    # Stored zeros, one in an unseen column: not interactions.
    rows = np.r_[C.row, 5, 6, 7]
    cols = np.r_[C.col, p - 1, 2, 30]
    data = np.r_[C.data, 0.0, 0.0, 0.0]
    return sp.coo_matrix((data, (rows, cols)), shape=(n, p)).tocsr()
