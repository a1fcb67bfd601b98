"""Share of an item's cosine neighbours that carry one of its labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils.validation import check_array

from .._compat import HasMethods, StrOptions, validate_params
from .._constraints import EMBEDDING_KINDS, Count
from .._validation import is_hashable
from ._estimators import fitted_item_model, item_embeddings
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
        # Lists as objects: np.asarray would turn [1, "1"] into ["1", "1"].
        arr = np.asarray(
            labels, dtype=object if isinstance(labels, list | tuple) else None
        )
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
            return _codes(arr), None
        Y = sp.csr_array(check_array(arr, input_name="labels"))
    if Y.shape[0] != m:
        raise ValueError(f"labels has {Y.shape[0]} rows but E has {m} rows.")
    if not np.all(np.isin(Y.data, (0, 1))):
        raise ValueError(
            "A 2-D labels array is an indicator matrix of label sets and must "
            "hold only 0 and 1; for one label per item pass a 1-D array."
        )
    return None, (Y != 0).astype(np.float64)


def _codes(labels):
    """One integer per distinct label, by hash and equality as in a Python
    set (``1`` and ``"1"`` differ): labels need not be sortable."""
    try:
        return pd.factorize(labels)[0]
    except TypeError:  # unhashable labels: lists or dicts in an object array
        item = next((i for i, v in enumerate(labels) if not is_hashable(v)), None)
        if item is None:
            raise
        raise TypeError(
            f"labels holds a {type(labels[item]).__name__} at item {item}: one "
            "label per item must be a hashable value (for label sets pass a "
            "list of sets)."
        ) from None


@validate_params(
    {
        "E": ["array-like", HasMethods(["fit"]), callable],
        "labels": ["array-like", "sparse matrix", list],
        "n_neighbors": [Count(1)],
        "average": ["boolean"],
        "embedding": [StrOptions(set(EMBEDDING_KINDS)), None],
        "X": ["array-like", "sparse matrix", None],
    },
    prefer_skip_nested_validation=True,
)
def neighbor_label_agreement(
    E,
    labels,
    n_neighbors: int = 10,
    *,
    average: bool = True,
    embedding: str | None = None,
    X=None,
):
    r"""Share of each item's top-``k`` cosine neighbours that share a label with it.

    With ``N(i)`` the ``k = n_neighbors`` nearest items of item ``i`` by
    cosine (self excluded, :func:`cosine_neighbors`) and ``L(i)`` its set of
    labels (a cluster in simulated data, genres on MovieLens;
    :ref:`stability`):

    .. math::

        a_i = \frac{1}{k} \, \big|\{ j \in N(i) : L(i) \cap L(j) \neq \emptyset \}\big|

    With one label per item this is the share of neighbours with the same
    label; with several labels per item (multi-label), a neighbour agrees
    when it shares at least one label. Cosines that agree to within rounding
    (``2^-30`` in float64, ``2^-13`` in float32) rank as ties, broken by
    index, so that duplicate items are ordered the same way whatever the
    rounding. An item whose embedding row is zero agrees with no neighbour
    (it has no direction, so its "neighbours" would only be a tie-break by
    index).

    Items without labels (an empty set, a row of zeros) are left out: their
    ``a_i`` is undefined (NaN with ``average=False``) and the mean is over
    the labelled items, so that partial labels measure the model, not the
    label coverage. As neighbours they count: an unlabelled neighbour shares
    no label, so with partial labels the agreement is at most the share of
    labelled neighbours.

    Parameters
    ----------
    E : array-like of shape (m, d), estimator object or callable
        Item embedding, one row per item; or a fitted model whose item
        embedding to use (``embedding``): a skcosim autoencoder, a
        :class:`~skcosim.preprocessing.ProjectedEmbedding`, a scikit-learn
        estimator with ``components_`` (items ``components_.T``), a Pipeline
        ending in one; or a callable ``fit_item_factors(X) -> V``, fitted on
        ``X``.
    labels : array-like of shape (m,) or (m, n_labels), sparse matrix, or list
        One label per item (any hashable values, of mixed types too,
        compared as a Python set compares them: ``1`` and ``"1"`` are two
        labels, ``1`` and ``1.0`` one; a column vector of shape ``(m, 1)``
        too), a set (or list) of labels per item, or a binary indicator
        matrix of labels (multi-label, 0 and 1 only).
    n_neighbors : int, default=10
        Number of neighbours ``k``.
    average : bool, default=True
        Return the mean over items; otherwise one value per item.
    embedding : {"decoder", "encoder", "projected"} or None, default=None
        For a model ``E``: which of its item embeddings (``None``: its
        default, as in :func:`gauge_stability`). Ignored for an array.
    X : {array-like, sparse matrix} of shape (n_samples, m), default=None
        The data a callable ``E`` is fitted on; only for a callable.

    Returns
    -------
    agreement : float or ndarray of shape (m,)
        Mean agreement in ``[0, 1]`` over the labelled items, or the
        agreement of each item (NaN for the unlabelled ones).

    Raises
    ------
    TypeError
        If a label is not hashable (a dict in an object array).
    ValueError
        If ``labels`` does not have one entry (row) per item, a label is
        missing (NaN or None), or no item has a label.

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
    array([0.5, 0.5, 0.5, nan])
    """
    if hasattr(E, "fit") or callable(E):
        E = item_embeddings(fitted_item_model(E, X), embedding)
    elif X is not None:
        raise ValueError(
            "X is for a callable fit_item_factors(X) only, not an array E."
        )
    E = check_array(E, dtype=[np.float32, np.float64])
    m = E.shape[0]
    codes, Y = _label_indicator(labels, m)
    labeled = np.ones(m, dtype=bool) if Y is None else np.diff(Y.indptr) > 0
    if not labeled.any():
        raise ValueError(
            f"None of the {m} items has a label: label agreement is undefined."
        )
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
    agreement[~labeled] = np.nan
    return float(agreement[labeled].mean()) if average else agreement


#: Above this many distinct label sets the chance level is not computed: it
#: needs their pairwise intersections.
_MAX_LABEL_SETS = 20_000


def random_label_agreement(labels):
    """Expected :func:`neighbor_label_agreement` of random neighbours.

    The chance level of the label agreement: for a labelled item ``i``, a
    uniformly random neighbour among the ``m - 1`` other items shares a label
    with probability ``|{j != i : L(i) & L(j)}| / (m - 1)``, whatever ``k``;
    the mean is over the labelled items, as in the agreement. Computed on
    the distinct label sets (few in practice); ``None`` when there are more
    than ``_MAX_LABEL_SETS`` of them, a single item or no labelled item.
    """
    m = len(labels) if not sp.issparse(labels) else labels.shape[0]
    codes, Y = _label_indicator(labels, m)
    if m < 2:
        return None
    if codes is not None:
        Y = sp.csr_array((np.ones(m), (np.arange(m), codes)))
    Y = sp.csr_array(Y)
    Y.sort_indices()
    keys = np.empty(m, dtype=object)  # bytes objects: numpy's "S" drops NULs
    keys[:] = [
        Y.indices[a:b].tobytes()
        for a, b in zip(Y.indptr[:-1], Y.indptr[1:], strict=True)
    ]
    set_of_item = pd.factorize(keys)[0]
    first = np.unique(set_of_item, return_index=True)[1]
    if first.size > _MAX_LABEL_SETS:
        return None
    Z = Y[first]
    n_items_with_set = np.bincount(set_of_item, minlength=first.size)
    # Items (self included) sharing a label with each label set.
    sharing = ((Z @ Z.T) > 0).astype(np.float64) @ n_items_with_set
    labeled = np.diff(Y.indptr) > 0
    if not labeled.any():
        return None
    others = sharing[set_of_item[labeled]] - 1
    return float(np.mean(others / (m - 1)))
