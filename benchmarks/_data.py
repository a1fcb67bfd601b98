"""Data for the benchmarks: synthetic power-law interactions and MovieLens-100k.

Nothing here is part of the package. MovieLens-100k is read at run time from
the recbole wheel (downloaded with pip into ``benchmarks/.cache``, never
committed); the package itself never depends on recbole.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

CACHE = Path(__file__).resolve().parent / ".cache"
RECBOLE = "recbole==1.2.1"
ML100K_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"

#: Named synthetic sizes: (n_users, n_items, nnz).
SIZES = {
    "small": (20_000, 2_000, 240_000),
    "medium": (200_000, 5_000, 2_400_000),
    "large": (1_000_000, 20_000, 10_000_000),
}


def make_powerlaw(
    n_users,
    n_items,
    nnz,
    *,
    item_exponent=1.0,
    user_sigma=1.0,
    dtype=np.float64,
    random_state=0,
):
    """A binary CSR matrix with Zipf item popularity and log-normal user activity.

    Each interaction draws its user with probability proportional to a
    log-normal activity (sigma ``user_sigma``) and its item with probability
    proportional to ``rank^-item_exponent``, independently; repeated pairs are
    merged and draws continue until exactly ``nnz`` distinct pairs are set.
    Popular items make the column norms, and so the top singular values,
    power-law distributed, as in real interaction logs.

    Parameters
    ----------
    n_users, n_items, nnz : int
        Shape and number of non-zeros.
    item_exponent : float, default=1.0
        Zipf exponent of item popularity.
    user_sigma : float, default=1.0
        Standard deviation of the log of user activity.
    dtype : {np.float64, np.float32}, default=np.float64
    random_state : int, default=0

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items)
    """
    if nnz > n_users * n_items:
        raise ValueError("nnz exceeds n_users * n_items.")
    rng = np.random.default_rng(random_state)
    item_p = np.arange(1, n_items + 1, dtype=np.float64) ** -item_exponent
    item_p /= item_p.sum()
    user_p = rng.lognormal(0.0, user_sigma, n_users)
    user_p /= user_p.sum()
    keys = np.zeros(0, dtype=np.int64)
    while keys.size < nnz:
        missing = nnz - keys.size
        m = int(missing * 1.2) + 1000
        rows = rng.choice(n_users, size=m, p=user_p)
        cols = rng.choice(n_items, size=m, p=item_p)
        new = rows.astype(np.int64) * n_items + cols
        keys = np.union1d(keys, new)  # sorted, distinct
    if keys.size > nnz:  # drop a random surplus, keep exactly nnz
        keys = np.sort(rng.choice(keys, size=nnz, replace=False))
    rows, cols = np.divmod(keys, n_items)
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_users), out=indptr[1:])
    index_dtype = np.int32 if nnz < 2**31 else np.int64
    return sp.csr_matrix(
        (
            np.ones(nnz, dtype=dtype),
            cols.astype(index_dtype),
            indptr.astype(index_dtype),
        ),
        shape=(n_users, n_items),
    )


def _recbole_wheel():
    wheels = sorted(CACHE.glob("recbole-1.2.1-*.whl"))
    if wheels:
        return wheels[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", RECBOLE, "-d", CACHE],
        check=True,
        capture_output=True,
    )
    return sorted(CACHE.glob("recbole-1.2.1-*.whl"))[0]


def load_movielens_100k(binary=True, dtype=np.float64):
    """MovieLens-100k as a users x items CSR matrix (943 x 1682).

    Read from the recbole 1.2.1 wheel (``pip download`` into
    ``benchmarks/.cache`` on first use). ``binary=True`` sets every rating to
    1 (implicit feedback, what ALS and the autoencoders are compared on).
    """
    with zipfile.ZipFile(_recbole_wheel()) as wheel:
        text = wheel.read(ML100K_MEMBER).decode()
    table = np.loadtxt(io.StringIO(text), skiprows=1, dtype=np.float64)
    users = np.unique(table[:, 0], return_inverse=True)[1]
    items = np.unique(table[:, 1], return_inverse=True)[1]
    values = np.ones(len(table)) if binary else table[:, 2]
    X = sp.csr_matrix(
        (values.astype(dtype), (users, items)),
        shape=(users.max() + 1, items.max() + 1),
    )
    X.sum_duplicates()
    return X


def extract_movielens_100k(folder=CACHE / "ml-100k"):
    """MovieLens-100k's atomic files, as RecBole ships them, in ``folder``.

    Writes ``ml-100k.inter`` (tab separated, header ``user_id:token ...``) and
    ``ml-100k.item`` (titles and space-separated genres) once; the docs build
    calls this so that the gallery reads the files as a user has them.
    """
    folder = Path(folder)
    names = [ML100K_MEMBER, ML100K_MEMBER.replace(".inter", ".item")]
    targets = [folder / Path(name).name for name in names]
    if all(target.exists() for target in targets):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(_recbole_wheel()) as wheel:
        for name, target in zip(names, targets, strict=True):
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(wheel.read(name))
            partial.replace(target)  # never a half-written file under the real name
    return folder


def load_movielens_100k_genres():
    """Genre labels of the 1682 movies, in the column order of
    :func:`load_movielens_100k`: a list of lists of genre names."""
    with zipfile.ZipFile(_recbole_wheel()) as wheel:
        text = wheel.read(ML100K_MEMBER.replace(".inter", ".item")).decode("utf-8")
    genres = {}
    for line in text.splitlines()[1:]:
        fields = line.split("\t")
        genres[float(fields[0])] = fields[-1].split()
    return [genres[i] for i in sorted(genres)]


#: The shape of the dependency graph of issue 18, item 1: users x items,
#: interactions (items with at least 10 users).
DEPENDENCY_GRAPH = (48_880, 3_283, 198_922)


def make_dependency_log(
    n_users=DEPENDENCY_GRAPH[0],
    n_items=DEPENDENCY_GRAPH[1],
    nnz=DEPENDENCY_GRAPH[2],
    *,
    n_communities=10,
    community_items=6,
    community_users=25,
    random_state=0,
):
    """A long-tailed log like a package dependency graph, with isolated corners.

    A power-law core (:func:`make_powerlaw`) plus ``n_communities`` small
    isolated communities: ``community_users`` users each, who use only the
    ``community_items`` items of their community (1 to 3 of them, every item
    at least 10 users) and nothing else, as a small ecosystem of a
    dependency graph does. A community's singular values are far below the
    core's, so the Objective 2 start of :class:`skcosim.CosineAutoencoder`
    (at the audit's alpha, the median of the top singular values) cuts them:
    its users, ``n_communities * community_users`` of them, have a zero
    start embedding ``X A``, and its items a zero decoder row.

    Returns a binary CSR matrix of shape ``(n_users, n_items)`` with about
    ``nnz`` non-zeros; the community users and items are the last rows and
    columns.
    """
    rng = np.random.default_rng(random_state)
    m_users = n_communities * community_users
    m_items = n_communities * community_items
    rows, cols = [], []
    for c in range(n_communities):
        for u in range(community_users):
            # Round-robin first item: every item gets at least
            # community_users / community_items users.
            first = u % community_items
            extra = rng.choice(community_items, size=rng.integers(0, 3), replace=False)
            items = np.union1d([first], extra)
            rows += [c * community_users + u] * len(items)
            cols += list(c * community_items + items)
    corner = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m_users, m_items))
    core_shape = (n_users - m_users, n_items - m_items)
    core_nnz = nnz - corner.nnz
    core = make_powerlaw(
        *core_shape, core_nnz, item_exponent=0.7, random_state=random_state
    )
    # A log has no user without an interaction: redraw with the empty rows'
    # share of the interactions set aside, and give each empty row one item.
    empty = int(np.count_nonzero(np.diff(core.indptr) == 0))
    core = make_powerlaw(
        *core_shape, core_nnz - empty, item_exponent=0.7, random_state=random_state
    ).tolil()
    popularity = np.bincount(core.tocsr().indices, minlength=core_shape[1])
    for u in np.flatnonzero(np.diff(core.tocsr().indptr) == 0):
        core[u, rng.choice(core_shape[1], p=popularity / popularity.sum())] = 1.0
    return sp.block_diag([core.tocsr(), corner], format="csr")


if __name__ == "__main__":
    if sys.argv[1:] != ["ml-100k"]:
        sys.exit("usage: python benchmarks/_data.py ml-100k")
    print(extract_movielens_100k())
