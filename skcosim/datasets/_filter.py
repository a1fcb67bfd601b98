"""Filter an interaction log down to users and items with enough interactions.

The k-core filter of recommender-system benchmarks (RecBole's
``user_inter_num_interval`` / ``item_inter_num_interval``, the "5-core"
Amazon reviews): removing a rare item can make a user rare and vice versa,
so the thresholds are applied again until nothing changes.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array

from .._compat import Interval, validate_params
from .._validation import drop_stored_zeros, frame_values, warn_if_interaction_log
from ._load import interactions_frame


@validate_params(
    {
        "data": [dict, "array-like", "sparse matrix"],
        "min_item_count": [Interval(numbers.Integral, 0, None, closed="left")],
        "min_user_count": [Interval(numbers.Integral, 0, None, closed="left")],
        "as_frame": ["boolean", None],
    },
    prefer_skip_nested_validation=True,
)
def filter_interactions(
    data,
    *,
    min_item_count: int = 0,
    min_user_count: int = 0,
    as_frame: bool | None = None,
) -> Bunch:
    """Keep the users and items with enough interactions (a k-core).

    Removes every item with fewer than ``min_item_count`` users and every
    user with fewer than ``min_user_count`` items, then repeats on what is
    left until nothing changes: the result is the largest sub-log in which
    every item has at least ``min_item_count`` users and every user at least
    ``min_user_count`` items. It does not depend on the order of the
    removals. Users and items left without any interaction are removed too
    (so thresholds of 0 only drop empty rows and columns).

    An interaction is a nonzero entry of the matrix: with a log read by
    :func:`load_interactions`, a distinct (user, item) pair whose values do
    not sum to zero. Each pass costs ``O(nnz)``.

    Parameters
    ----------
    data : Bunch, DataFrame or {array-like, sparse matrix} of shape \
            (n_users, n_items)
        The output of :func:`load_interactions` (a Bunch with ``data``,
        ``user_ids`` and ``item_ids``, with or without ``as_frame``), a
        users x items DataFrame (dense or sparse; the index holds the user
        ids, the columns the item ids), or an interaction matrix with users
        in rows and items in columns.
    min_item_count : int, default=0
        Least number of users an item keeps.
    min_user_count : int, default=0
        Least number of items a user keeps.
    as_frame : bool or None, default=None
        If True, ``data`` is a sparse :class:`pandas.DataFrame` (the kept user
        ids as the index, the kept item ids as the columns), also returned as
        ``frame``, as :func:`load_interactions` gives with ``as_frame=True``.
        ``None``: True when ``data`` is a DataFrame or a Bunch holding one.

    Returns
    -------
    filtered : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : scipy.sparse.csr_matrix or DataFrame of shape \
                (n_kept_users, n_kept_items)
            The kept rows and columns, in their order, values (and dtype)
            unchanged; a sparse DataFrame with ``as_frame``.
        user_ids : pandas.Index or ndarray of shape (n_kept_users,)
            The ids of the kept users (from ``data.user_ids``, or the index
            of a DataFrame), or their row positions in the input when
            ``data`` is a matrix.
        item_ids : pandas.Index or ndarray of shape (n_kept_items,)
            Likewise for the items (columns).
        frame : DataFrame of shape (n_kept_users, n_kept_items)
            Only with ``as_frame``: the same DataFrame as ``data``.
        n_passes : int
            Number of passes over the interactions (the last one removes
            nothing).

    Raises
    ------
    ValueError
        If the matrix holds NaN or infinite values, or a Bunch lacks ``data``,
        ``user_ids`` or ``item_ids`` or their sizes disagree. An empty result
        is not an error: check ``filtered.data.shape``.

    See Also
    --------
    load_interactions : Read a log into the Bunch this function filters.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.datasets import filter_interactions
    >>> X = np.array([[1, 1, 1, 0],
    ...               [1, 1, 0, 0],
    ...               [1, 0, 0, 1],
    ...               [0, 1, 0, 0]])
    >>> kept = filter_interactions(X, min_item_count=2, min_user_count=2)
    >>> kept.data.toarray()
    array([[1, 1],
           [1, 1]])
    >>> kept.user_ids, kept.item_ids
    (array([0, 1]), array([0, 1]))

    The first pass removes items 2 and 3 (one user each) and user 3 (one
    item); that leaves user 2 with one item, removed by the second pass; the
    third pass removes nothing.

    >>> kept.n_passes
    3

    A DataFrame keeps its ids:

    >>> import pandas as pd
    >>> frame = pd.DataFrame(X, index=["ann", "bob", "cy", "di"],
    ...                      columns=["a", "b", "c", "d"])
    >>> kept = filter_interactions(frame, min_item_count=2, min_user_count=2)
    >>> kept.data.index.tolist(), kept.data.columns.tolist()
    (['ann', 'bob'], ['a', 'b'])
    """
    warn_if_interaction_log(data, "filter_interactions", stacklevel=4)
    if as_frame is None:
        as_frame = _holds_frame(data)
    X, user_ids, item_ids = _matrix_and_ids(data)
    rows, cols = X.nonzero()
    min_users = max(int(min_item_count), 1)
    min_items = max(int(min_user_count), 1)
    n_users, n_items = X.shape
    n_passes = 0
    while True:
        n_passes += 1
        user_counts = np.bincount(rows, minlength=n_users)
        item_counts = np.bincount(cols, minlength=n_items)
        # A user's entries all see the same count: a failing user leaves at once.
        keep = (user_counts[rows] >= min_items) & (item_counts[cols] >= min_users)
        if keep.all():
            break
        rows, cols = rows[keep], cols[keep]
    users = np.flatnonzero(np.bincount(rows, minlength=n_users))
    items = np.flatnonzero(np.bincount(cols, minlength=n_items))
    # At the fixed point an entry is kept exactly when its user and item are.
    kept = X[users][:, items]
    kept_users = users if user_ids is None else user_ids[users]
    kept_items = items if item_ids is None else item_ids[items]
    result = Bunch(
        data=kept, user_ids=kept_users, item_ids=kept_items, n_passes=n_passes
    )
    if as_frame:
        result.data = result.frame = _ids_frame(kept, kept_users, kept_items, data)
    return result


def _holds_frame(data):
    """Whether ``data`` is a DataFrame or a Bunch whose ``data`` is one."""
    if isinstance(data, dict):
        data = data.get("data")
    return isinstance(data, pd.DataFrame)


def _ids_frame(X, user_ids, item_ids, source):
    """The sparse matrix ``X`` as a sparse DataFrame with these ids: the
    column labels of a DataFrame ``source`` as they are, otherwise the item
    ids as strings (:func:`load_interactions`' ``as_frame`` convention)."""
    if isinstance(source, pd.DataFrame):
        return pd.DataFrame.sparse.from_spmatrix(
            X, index=pd.Index(user_ids), columns=pd.Index(item_ids)
        )
    return interactions_frame(X, pd.Index(user_ids), pd.Index(item_ids))


def _matrix_and_ids(data):
    """The CSR matrix (explicit zeros removed) and the ids of a Bunch, or
    ``None`` ids for a matrix."""
    user_ids = item_ids = None
    if isinstance(data, pd.DataFrame):
        user_ids, item_ids = data.index, data.columns
        if not (user_ids.is_unique and item_ids.is_unique):
            raise ValueError(
                "data is a DataFrame with repeated user ids (index) or item ids "
                "(columns): each id must name one row or column."
            )
        data = frame_values(data)
    elif isinstance(data, dict):
        missing = [key for key in ("data", "user_ids", "item_ids") if key not in data]
        if missing:
            raise ValueError(
                f"data is a dict without {missing}: pass the Bunch of "
                "load_interactions or an interaction matrix."
            )
        user_ids, item_ids, data = data["user_ids"], data["item_ids"], data["data"]
        if isinstance(data, pd.DataFrame):
            data = frame_values(data)
    if user_ids is not None:
        user_ids, item_ids = (
            ids if isinstance(ids, pd.Index | np.ndarray) else np.asarray(ids)
            for ids in (user_ids, item_ids)
        )
    X = check_array(data, accept_sparse="csr", dtype=None, input_name="data")
    # An explicit zero is not an interaction; duplicates count once.
    X = sp.csr_matrix(drop_stored_zeros(sp.csr_matrix(X)), copy=True)
    if user_ids is not None and (
        len(user_ids) != X.shape[0] or len(item_ids) != X.shape[1]
    ):
        raise ValueError(
            f"data.data has shape {X.shape} but data has {len(user_ids)} "
            f"user_ids and {len(item_ids)} item_ids."
        )
    return X, user_ids, item_ids
