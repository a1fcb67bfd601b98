"""Share of an item's cosine neighbours that carry one of its labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_array

from .._constraints import Count
from ._neighbors import cosine_neighbors, tie_tolerance, zero_rows


def _label_indicator(labels, m):
    """``labels`` as ``(codes, None)`` for one label per item, or ``(None, Y)``
    with ``Y`` a sparse ``m x n_labels`` indicator for label sets."""
    if sp.issparse(labels):
        Y = sp.csr_array(labels)
    elif isinstance(labels, list | tuple) and any(
        isinstance(x, set | frozenset | list | tuple) for x in labels
    ):
        Y = sp.csr_array(MultiLabelBinarizer(sparse_output=True).fit_transform(labels))
    else:
        arr = np.asarray(labels)
        if arr.ndim == 2 and arr.shape[1] == 1:
            # A column vector holds one label per item (as scikit-learn reads
            # y), not an indicator of a single label.
            arr = arr[:, 0]
        if arr.ndim == 1:
            if arr.shape[0] != m:
                raise ValueError(
                    f"labels has {arr.shape[0]} entries but E has {m} rows."
                )
            # A missing label is not a label: NaN would agree with NaN, and
            # None cannot be sorted next to other labels.
            missing = np.flatnonzero(pd.isna(arr))
            if missing.size:
                raise ValueError(
                    f"labels has {missing.size} missing values (NaN or None), "
                    f"first at item {missing[0]}: give every item a label, or "
                    "pass label sets (an empty set for an unlabelled item)."
                )
            return np.unique(arr, return_inverse=True)[1].ravel(), None
        Y = sp.csr_array(check_array(arr, input_name="labels"))
    if Y.shape[0] != m:
        raise ValueError(f"labels has {Y.shape[0]} rows but E has {m} rows.")
    if not np.all(np.isin(Y.data, (0, 1))):
        raise ValueError(
            "A 2-D labels array is an indicator matrix of label sets and must "
            "hold only 0 and 1; for one label per item pass a 1-D array."
        )
    return None, (Y != 0).astype(np.float64)


@validate_params(
    {
        "E": ["array-like"],
        "labels": ["array-like", "sparse matrix", list],
        "n_neighbors": [Count(1)],
        "average": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def neighbor_label_agreement(E, labels, n_neighbors: int = 10, *, average: bool = True):
    r"""Share of each item's top-``k`` cosine neighbours that share a label with it.

    With ``N(i)`` the ``k = n_neighbors`` nearest items of item ``i`` by
    cosine (self excluded, :func:`cosine_neighbors`) and ``L(i)`` its set of
    labels (a cluster in simulated data, genres on MovieLens; MATH.md,
    "Neighbour stability"):

    .. math::

        a_i = \frac{1}{k} \, \big|\{ j \in N(i) : L(i) \cap L(j) \neq \emptyset \}\big|

    With one label per item this is the share of neighbours with the same
    label. Cosines that agree to within rounding (``2^-30`` in float64,
    ``2^-13`` in float32) rank as ties, broken by index, so that duplicate
    items are ordered the same way whatever the rounding. An item without
    labels agrees with no neighbour, and neither does an item whose
    embedding row is zero (it has no direction, so its
    "neighbours" would only be a tie-break by index).

    Parameters
    ----------
    E : array-like of shape (m, d)
        Item embedding, one row per item.
    labels : array-like of shape (m,) or (m, n_labels), sparse matrix, or list
        One label per item (any hashable values; a column vector of shape
        ``(m, 1)`` too), a set (or list) of labels per item, or a binary
        indicator matrix of labels (multi-label, 0 and 1 only).
    n_neighbors : int, default=10
        Number of neighbours ``k``.
    average : bool, default=True
        Return the mean over items; otherwise one value per item.

    Returns
    -------
    agreement : float or ndarray of shape (m,)
        Mean agreement in ``[0, 1]``, or the agreement of each item.

    See Also
    --------
    cosine_neighbors : The neighbours counted.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.metrics import neighbor_label_agreement
    >>> E = np.array([[1.0, 0.1], [1.0, 0.2], [0.1, 1.0], [0.2, 1.0]])
    >>> float(neighbor_label_agreement(E, ["a", "a", "b", "b"], n_neighbors=1))
    1.0
    >>> neighbor_label_agreement(E, [{"a"}, {"a", "b"}, {"b"}, set()],
    ...                          n_neighbors=2, average=False)
    array([0.5, 0.5, 0.5, 0. ])
    """
    E = check_array(E, dtype=[np.float32, np.float64])
    m = E.shape[0]
    codes, Y = _label_indicator(labels, m)
    ind, _ = cosine_neighbors(E, n_neighbors, tie_tolerance=tie_tolerance(E))
    if codes is not None:
        agree = codes[ind] == codes[:, None]
    else:
        rows = np.repeat(np.arange(m), n_neighbors)
        shared = Y[rows].multiply(Y[ind.ravel()]).sum(axis=1)
        agree = np.asarray(shared).reshape(m, n_neighbors) > 0
    agreement = agree.mean(axis=1)
    # A zero row's neighbours are tie-broken by index, not found: it agrees
    # with none of them (an embedding with every component cut scores 0).
    agreement[zero_rows(E)] = 0.0
    return float(agreement.mean()) if average else agreement
