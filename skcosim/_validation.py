"""Input checks shared by the estimators and the transformers, and the one
rule of what counts as an interaction (a nonzero value, never a stored 0.0)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data


def check_not_dates(X):
    """Raise a TypeError for datetime64 / timedelta64 arrays and DataFrame
    columns (tz-aware ones included).

    ``check_array(dtype=float)`` would cast them to numbers (days or
    nanoseconds since 1970) and the fit would go ahead; a DataFrame mixing
    them with numbers failed inside numpy ("DTypePromotionError").
    """
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in ("m", "M"):
        raise TypeError(
            f"X has dtype {X.dtype}: interactions must be numbers, not dates "
            "or durations."
        )
    dtypes = getattr(X, "dtypes", None)
    for name, dtype in getattr(dtypes, "items", dict().items)():
        if getattr(dtype, "kind", None) in ("m", "M"):
            raise TypeError(
                f"X has column {name!r} of dtype {dtype}: interactions must be "
                "numbers, not dates or durations."
            )


def validate_interactions(estimator, X, *, reset=True):
    """``X`` checked as interactions by ``estimator``: no dates
    (:func:`check_not_dates`), then scikit-learn's ``validate_data`` with a
    CSR or CSC matrix, or a dense array, of float64 or float32 kept (other
    dtypes become float64). The one preamble of every ``fit`` and
    ``transform`` that takes an interaction matrix."""
    check_not_dates(X)
    return validate_data(
        estimator,
        X,
        accept_sparse=["csr", "csc"],
        dtype=[np.float64, np.float32],
        reset=reset,
    )


# -- What an interaction is --------------------------------------------------------
#
# One rule everywhere: an interaction is a nonzero value. A stored 0.0 in a
# sparse matrix (left by arithmetic, or written explicitly) is not one: it
# does not make an item "seen", it does not count towards an item's users, and
# an item whose column holds only stored zeros is unseen.


def item_popularity(X):
    """Number of users with a nonzero value, per item (column).

    ``X`` is a numpy array or a scipy.sparse matrix of any format; stored
    zeros, and duplicate entries that sum to zero, are not counted.
    """
    if sp.issparse(X):
        X = drop_stored_zeros(X)  # canonical: one stored value per nonzero
        if X.format == "csc":
            return np.diff(X.indptr)
        return np.bincount(X.indices, minlength=X.shape[1])
    return np.count_nonzero(np.asarray(X), axis=0)


def drop_stored_zeros(X):
    """``X`` without stored zeros: a copy when a sparse ``X`` has any (or
    duplicate entries, which may sum to zero), ``X`` itself otherwise.

    The input is never modified. Every consumer of the result then reads
    "stored" as "interaction" (``X.indices``, ``X.nnz``, ``tocoo()``). CSR
    and CSC keep their format; other sparse formats become CSR.
    """
    if not sp.issparse(X):
        return X
    if X.format not in ("csr", "csc"):
        X = sp.csr_matrix(X)
    if X.has_canonical_format and np.all(X.data != 0):
        return X
    X = X.copy()
    X.sum_duplicates()
    X.eliminate_zeros()
    return X


def zero_item_rows(unseen, *factors):
    """Set the rows ``unseen`` (a boolean mask over items) of each item
    factor to exactly 0.0, in place.

    The data say nothing about an item nobody interacted with: every
    objective here is minimized with its rows at zero, and a solver's
    rounding (``1e-17``) or an untrained random start would otherwise become
    a unit vector under row normalization and give the item neighbours.
    """
    if np.any(unseen):
        for factor in factors:
            factor[unseen] = 0


def is_hashable(value):
    """Whether ``value`` can be a dict key (an id or a label): ``hash`` says,
    unlike ``isinstance(value, Hashable)``, which passes a tuple of lists."""
    try:
        hash(value)
    except TypeError:
        return False
    return True
