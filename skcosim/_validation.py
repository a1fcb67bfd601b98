"""Input checks shared by the estimators and the transformers, and the one
rule of what counts as an interaction (a nonzero value, never a stored 0.0)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
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


def validate_interactions(estimator, X, *, reset=True, warn_log_stacklevel=None):
    """``X`` checked as interactions by ``estimator``: no dates
    (:func:`check_not_dates`), then scikit-learn's ``validate_data`` with a
    CSR or CSC matrix, or a dense array, of float64 or float32 kept (other
    dtypes become float64). The one preamble of every ``fit`` and
    ``transform`` that takes an interaction matrix. With
    ``warn_log_stacklevel`` (and ``reset``), a long-format log warns first
    (:func:`warn_if_interaction_log`, ``stacklevel`` counted from the
    caller)."""
    check_not_dates(X)
    if reset and warn_log_stacklevel is not None:
        name = type(estimator).__name__
        warn_if_interaction_log(X, name, stacklevel=warn_log_stacklevel + 1)
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


# -- A long-format log passed as a matrix -------------------------------------------
#
# ``fit(log)`` with a (user, item[, value[, time]]) table would silently fit
# n_rows "users" over 2-4 "items". The rule below flags a table whose first
# two columns both look like ids; a user x item matrix with 2-4 items rarely
# has them: binary or rating columns hold a handful of distinct values.

#: Most columns of a table read as a log: user, item, value and a timestamp.
LOG_MAX_COLUMNS = 4
#: Fewest distinct values in each of the first two columns of a log.
LOG_MIN_DISTINCT_IDS = 10
#: Each id of a log repeats on average this many times or more (a user has
#: several interactions, an item several users).
LOG_MIN_ROWS_PER_ID = 2
#: A regular expression matching the warning (for ``warnings.filterwarnings``).
LOG_WARNING_MATCH = r".*it looks like a long-format interaction log"


def _id_like(column):
    """The number of distinct values of ``column`` when it looks like ids
    (strings or objects, or integer-valued non-negative numbers), else 0."""
    values = np.asarray(column)
    if values.dtype.kind in "OSU":
        return len(set(values.tolist())) if all(map(is_hashable, values)) else 0
    if values.dtype.kind not in "biuf" or values.dtype.kind == "b":
        return 0
    finite = np.isfinite(values) if values.dtype.kind == "f" else True
    if not np.all(finite) or np.any(values < 0) or np.any(values != np.round(values)):
        return 0
    return np.unique(values).size


def looks_like_interaction_log(X):
    """``(n_users, n_items)`` distinct ids when ``X``, a DataFrame or a dense
    2-d numpy array, looks like a long-format interaction log, else ``None``.

    The rule: 2 to ``LOG_MAX_COLUMNS`` columns whose first two both hold ids
    (strings, or integer-valued numbers >= 0), each with at least
    ``LOG_MIN_DISTINCT_IDS`` distinct values, and at least
    ``LOG_MIN_ROWS_PER_ID`` rows per distinct value of each.
    """
    is_frame = hasattr(X, "iloc") and hasattr(X, "columns")
    if not is_frame and not isinstance(X, np.ndarray):
        return None
    if X.ndim != 2 or not 2 <= X.shape[1] <= LOG_MAX_COLUMNS:
        return None
    n_rows = X.shape[0]
    if n_rows < LOG_MIN_ROWS_PER_ID * LOG_MIN_DISTINCT_IDS:
        return None
    counts = []
    for j in range(2):
        column = X.iloc[:, j] if is_frame else X[:, j]
        n_distinct = _id_like(column)
        if not LOG_MIN_DISTINCT_IDS <= n_distinct <= n_rows / LOG_MIN_ROWS_PER_ID:
            return None
        counts.append(n_distinct)
    return tuple(counts)


def warn_if_interaction_log(X, name, *, stacklevel=5):
    """Warn (``UserWarning``, naming ``load_interactions``) when the ``X``
    given to ``name`` looks like a long-format log
    (:func:`looks_like_interaction_log`); ``stacklevel`` is counted from
    here (5: the caller of a ``fit`` that validates in a helper)."""
    ids = looks_like_interaction_log(X)
    if ids is None:
        return
    n_rows, n_cols = X.shape
    warnings.warn(
        f"X has {n_rows} rows and only {n_cols} columns, and its first two "
        f"columns look like user and item ids ({ids[0]} and {ids[1]} distinct "
        "values, each repeated): it looks like a long-format interaction log "
        f"(one row per interaction), which {name} would take as {n_rows} users "
        f"x {n_cols} items. Build the users x items matrix with "
        "skcosim.datasets.load_interactions(log, user_col=..., item_col=..., "
        "value_col=...) and pass its data.",
        UserWarning,
        stacklevel=stacklevel,
    )


# -- Users x items DataFrames --------------------------------------------------------


def frame_values(frame):
    """The values of a users x items DataFrame: a CSR matrix for a sparse
    DataFrame (every column sparse, as ``load_interactions(as_frame=True)``
    returns), else the frame itself (``check_array`` reads it)."""
    if len(frame.columns) and all(
        getattr(dtype, "subtype", None) is not None for dtype in frame.dtypes
    ):
        return sp.csr_matrix(frame.sparse.to_coo())
    return frame


def matrix_frame(X, like):
    """The sparse matrix ``X`` as a sparse DataFrame with the index and
    columns of the DataFrame ``like`` (its ids, in their order)."""
    return pd.DataFrame.sparse.from_spmatrix(X, index=like.index, columns=like.columns)
