"""Read a user-item interaction log (CSV, Parquet or a DataFrame) into a sparse
matrix with user and item id indexes, and item labels into an indicator
matrix; both go through the same one-pass CSV reader."""

from __future__ import annotations

import bz2
import codecs
import csv
import decimal
import gzip
import io
import itertools
import lzma
import os
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import Bunch

from .._validation import is_hashable

PARQUET_SUFFIXES = (".parquet", ".pq")

# Decompressors of CSV files, by suffix (zip: an archive with one file).
_DECOMPRESSORS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

# Index name of a frame read from a CSV file: its index holds file lines.
_LINE = "line"


def load_interactions(
    path_or_dataframe: str | os.PathLike | pd.DataFrame,
    user_col: str,
    item_col: str,
    value_col: str | None = None,
    *,
    sep: str | None = None,
    as_frame: bool = False,
) -> Bunch:
    """Load an interaction log into a sparse users x items matrix.

    Each row of the log is one interaction: a user id, an item id and, if
    ``value_col`` is given, a number (a rating, a count, a weight).

    Parameters
    ----------
    path_or_dataframe : str, path-like or pandas.DataFrame
        A CSV file (UTF-8, with a header line, fields separated by ``sep``;
        ``.gz``, ``.bz2``, ``.xz`` and ``.zip`` files are decompressed;
        RecBole's atomic files ``.inter``, ``.item``, ``.user`` as they are:
        tab separated, columns named by the whole header cell such as
        ``"user_id:token"``, ``token_seq`` cells kept as text), a Parquet
        file (suffix ``.parquet`` or ``.pq``; needs the ``pyarrow``
        package), or a DataFrame. A CSV file is read into memory once, so it
        may be a pipe (``/dev/stdin``);
        fields may be quoted with ``"`` (a quote inside doubled), every line
        must have as many fields as the header, and blank lines are skipped:
        the rules of Python's :mod:`csv` module in strict mode. With
        ``pyarrow`` installed, a file that its CSV reader can only read by
        these rules is read by it, much faster; any other file (e.g. with a
        quote inside an unquoted field, or an error) by the csv module. The
        result and the error messages are the same either way.
    user_col : str
        Column holding the user ids. In a DataFrame whose columns are not
        strings (``read_csv(header=None)`` gives 0, 1, 2), ``"0"`` names
        column ``0``.
    item_col : str
        Column holding the item ids.
    value_col : str or None, default=None
        Column holding the value of each interaction. ``None``: every row
        counts 1.
    sep : str or None, default=None
        Field separator of a CSV file, one character other than a line
        break or ``"``. ``None``: read from the header line (a header with
        tabs and no commas is tab separated, one with commas and no tabs
        comma separated; with neither or both, a name ending in ``.tsv``,
        ``.tsv.gz`` etc. is tab separated, any other comma separated), so
        that a TSV through a pipe works. Not used for Parquet files and
        DataFrames.
    as_frame : bool, default=False
        If True, ``data`` is a sparse :class:`pandas.DataFrame` (users as the
        index, item ids as the columns; scikit-learn's ``as_frame``
        convention), also returned as ``frame``. An estimator fitted on it
        keeps the item ids in ``feature_names_in_``, so
        ``similar_items`` and ``recommend`` answer with them. The column
        labels are the item ids as strings (scikit-learn accepts only string
        feature names).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : scipy.sparse.csr_matrix or DataFrame of shape (n_users, n_items)
            float64; a sparse DataFrame when ``as_frame=True``.
            ``data[u, i]`` is the **sum** of the values of all rows with user
            ``user_ids[u]`` and item ``item_ids[i]``: duplicate (user, item) rows
            are added up, so without ``value_col`` the matrix holds counts.
            Entries that sum to zero are not stored.
        user_ids : pandas.Index of shape (n_users,)
            The user id of each row of ``data``, sorted (in order of first
            appearance when the ids cannot be sorted, e.g. mixed types). Ids
            read from a CSV file are strings, exactly as written (``"007"``
            and ``"7"`` are two users, ``"NA"`` and ``"null"`` are ids; only
            an empty field is a missing id); Parquet files and DataFrames keep
            their column types.
        item_ids : pandas.Index of shape (n_items,)
            The item id of each column of ``data``, sorted likewise.
        frame : pandas.DataFrame of shape (n_users, n_items)
            Only when ``as_frame=True``: the same sparse DataFrame as
            ``data``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ImportError
        If a Parquet file is given and ``pyarrow`` is not installed.
    TypeError
        If the values are dates, durations or periods.
    ValueError
        If ``sep`` is empty, longer than one character, a line break or
        ``"``, or not in the header line of the file; if a column is
        missing, the log has no rows, a line of a CSV file has
        more or fewer fields than the header, an id is missing, or a value is
        missing, infinite, complex or not a number; the message names the
        file line (CSV) or the row. Nothing is returned in that case: there
        is no partial result.

    See Also
    --------
    make_clustered_interactions : Simulated interactions in the same form.

    Examples
    --------
    >>> import pandas as pd
    >>> from skcosim.datasets import load_interactions
    >>> log = pd.DataFrame({"user": ["ann", "bob", "ann", "ann"],
    ...                     "movie": [10, 10, 20, 10]})
    >>> bunch = load_interactions(log, user_col="user", item_col="movie")
    >>> bunch.data.toarray()
    array([[2., 1.],
           [1., 0.]])
    >>> list(bunch.user_ids), list(bunch.item_ids)
    (['ann', 'bob'], [10, 20])
    >>> frame = load_interactions(log, "user", "movie", as_frame=True).data
    >>> frame.columns.tolist(), frame.index.tolist()
    (['10', '20'], ['ann', 'bob'])
    """
    columns = _check_column_args(user_col, item_col, value_col, as_frame)
    frame, source = _log_frame(path_or_dataframe, columns, _check_sep(sep))
    if len(frame) == 0:
        raise ValueError(f"{source} has no interactions (no rows).")
    for col in (user_col, item_col):
        missing = frame[col].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"Column {col!r} of {source} has {int(missing.sum())} missing "
                f"id(s), first on {_locate(frame, int(np.argmax(missing)))}."
            )
    values = _numeric_values(frame, value_col, source)
    X, users, items = _interaction_matrix(
        frame, user_col, item_col, values, value_col, source
    )
    # "user_ids"/"item_ids", not "users"/"items": a Bunch is a dict, and
    # ``bunch.items`` would be the dict method.
    if as_frame:
        frame = interactions_frame(X, users, items)
        return Bunch(data=frame, frame=frame, user_ids=users, item_ids=items)
    return Bunch(data=X, user_ids=users, item_ids=items)


def _check_column_args(user_col, item_col, value_col, as_frame):
    """The columns to read, ``[user_col, item_col(, value_col)]``, checked."""
    columns = [user_col, item_col] + ([value_col] if value_col is not None else [])
    for name, col in (("user_col", user_col), ("item_col", item_col)):
        if not isinstance(col, str):
            raise TypeError(f"{name} must be a column name (str), got {col!r}.")
    if value_col is not None and not isinstance(value_col, str):
        raise TypeError(
            f"value_col must be a column name (str) or None, got {value_col!r}."
        )
    if not isinstance(as_frame, bool | np.bool_):
        raise TypeError(f"as_frame must be True or False, got {as_frame!r}.")
    if len(set(columns)) < len(columns):
        raise ValueError(
            f"user_col, item_col and value_col must differ, got {columns}."
        )
    return columns


def _log_frame(path_or_dataframe, columns, sep=None):
    """``(frame, source)``: the log's ``columns`` under those names, and how
    the errors name where it came from.

    ``columns`` is a list of names, or a function of the column names found
    and the source that returns it (called once the header is read). A CSV
    file is read by :func:`_read_csv`: logs and label files alike, with
    ``sep`` (None: sniffed from the header, see :func:`_sniff_separator`).
    """
    if isinstance(path_or_dataframe, pd.DataFrame):
        source = "the DataFrame"
        if callable(columns):
            columns = columns(list(path_or_dataframe.columns), source)
        names = _match_names(path_or_dataframe.columns, columns)
        _check_columns(list(path_or_dataframe.columns), names, source)
        repeated = [c for c in names if np.sum(path_or_dataframe.columns == c) > 1]
        if repeated:  # frame[col] would be a DataFrame, not a column
            raise ValueError(f"Column(s) {repeated} appear more than once in {source}.")
        frame = path_or_dataframe[names].set_axis(columns, axis=1)
        return frame.reset_index(drop=True), source
    if isinstance(path_or_dataframe, str | os.PathLike):
        return _read_file(Path(path_or_dataframe), columns, sep)
    raise TypeError(
        "path_or_dataframe must be a path or a pandas DataFrame, got "
        f"{type(path_or_dataframe).__name__}."
    )


def _interaction_matrix(frame, user_col, item_col, values, value_col, source):
    """``(X, users, items)``: the CSR matrix of summed values, and the sorted
    ids of its rows and columns."""
    user_codes, users = _factorize(frame, user_col, source)
    item_codes, items = _factorize(frame, item_col, source)
    X = sp.csr_matrix(
        (values, (user_codes, item_codes)), shape=(len(users), len(items))
    )  # COO -> CSR adds up duplicate (user, item) rows
    X.sum_duplicates()
    if not np.all(np.isfinite(X.data)):
        raise ValueError(
            f"Column {value_col!r} of {source}: summing duplicate (user, item) "
            "rows overflowed float64; rescale the values."
        )
    X.eliminate_zeros()
    return X, users, items


def load_item_labels(
    path_or_dataframe: str | os.PathLike | pd.DataFrame,
    item_col: str,
    label_col: str | None = None,
    *,
    item_ids,
    sep: str | None = None,
    label_sep: str | None = None,
) -> Bunch:
    """Load item labels (genres, categories) as an items x labels indicator.

    Each row of the file is one (item, label) pair: an item with several
    labels has several rows, or one row whose label cell holds them all,
    split on ``label_sep`` (RecBole's ``token_seq`` genres, ``"Action
    Adventure Thriller"``). The labels are matched to the items of a log
    read by :func:`load_interactions`, for
    :func:`~skcosim.metrics.neighbor_label_agreement`.

    Parameters
    ----------
    path_or_dataframe : str, path-like or pandas.DataFrame
        A CSV, TSV or Parquet file (RecBole's ``.item`` as it is), read by
        the reader of :func:`load_interactions` with its guarantees: a CSV
        file is read once, front to back (it may be a pipe), its separator
        is ``sep`` or read from its header line, every line must have as many
        fields as the header, and ids and labels are strings exactly as
        written (``"NA"``, ``"null"``, ``"None"``, ``"N/A"`` are ids or
        labels; only an empty field is missing). Or a DataFrame.
    item_col : str
        Column of the label file holding the item ids: its own name, which
        need not be the log's (``"item_id:token"`` in RecBole's ``.item``;
        ``--label-item-col`` of ``skcosim audit``). In a DataFrame whose
        columns are not strings (``read_csv(header=None)``), ``"0"`` names
        column ``0``.
    label_col : str or None, default=None
        Column holding the labels (any hashable values). ``None``: the one
        column besides ``item_col`` (an error if there are more), not
        counting the index columns pandas writes to Parquet files
        (``__index_level_0__``).
    item_ids : array-like of shape (n_items,)
        The item ids of the log, e.g. ``load_interactions(...).item_ids``.
        Ids are compared as text (``str``; ``bytes`` decoded as UTF-8): the
        item ``7`` of a Parquet log matches the label row ``"7"`` of a CSV
        file, but ``"007"`` does not match ``"7"`` and ``7.0`` does not
        match ``7``.
    sep : str or None, default=None
        Field separator of a CSV file, as in :func:`load_interactions`
        (``None``: read from the header line).
    label_sep : str or None, default=None
        Separator of several labels in one label cell (labels must then be
        text). ``" "`` splits at runs of whitespace (``str.split()``), any
        other string where it occurs; pieces are stripped of surrounding
        whitespace, empty pieces dropped, and a label repeated in a cell
        counts once. ``None``: each cell is one label; a ``UserWarning``
        then names ``label_sep`` when most of the distinct labels hold
        whitespace, ``|``, ``;`` or ``,`` (each combination would count as
        a label of its own).

    Returns
    -------
    labels : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : scipy.sparse.csr_matrix of shape (n_items, n_labels), float64
            ``data[i, j] = 1`` when item ``item_ids[i]`` has label
            ``label_names[j]``, else 0 (repeated rows count once). An item
            without a row in the file has a row of zeros.
        label_names : pandas.Index of shape (n_labels,)
            The labels of the items of the log, sorted (in order of first
            appearance when they cannot be sorted).
        n_labeled_items : int
            Number of items of the log with at least one label.
        unknown_item_ids : pandas.Index
            The ids of the file that are not items of the log (as text,
            sorted); their rows are ignored.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ImportError
        If a Parquet file is given and ``pyarrow`` is not installed.
    TypeError
        If an id or a label is not hashable (a list in a DataFrame), or
        ``label_sep`` is given and a label is not text.
    ValueError
        If ``sep`` is not a usable separator (see :func:`load_interactions`),
        ``label_sep`` is empty or holds a line break, occurs in no label, or
        leaves a cell without a label; if a column is missing (the message
        names it and the file's columns), ``label_col`` is ``None`` and the file does
        not have exactly one column besides ``item_col``, the file has no
        rows, a line of a CSV file has more or fewer fields than the header,
        an item id or a label is missing, an id is ``bytes`` that are not
        UTF-8, two items of ``item_ids`` have the same text, or no id of the
        file is an item of the log. The message names the file line (CSV)
        or the row.

    See Also
    --------
    load_interactions : Read the log whose items are labelled.
    skcosim.metrics.neighbor_label_agreement : Score neighbours with labels.

    Examples
    --------
    >>> import pandas as pd
    >>> from skcosim.datasets import load_item_labels
    >>> genres = pd.DataFrame({"movie": ["10", "10", "20", "99"],
    ...                        "genre": ["drama", "war", "drama", "comedy"]})
    >>> labels = load_item_labels(genres, "movie", item_ids=[10, 20, 30])
    >>> labels.data.toarray()
    array([[1., 1.],
           [1., 0.],
           [0., 0.]])
    >>> list(labels.label_names), labels.n_labeled_items
    (['drama', 'war'], 2)
    >>> list(labels.unknown_item_ids)
    ['99']

    Several labels in one cell, as in RecBole's ``.item`` files:

    >>> items = pd.DataFrame({"item_id:token": ["10", "20"],
    ...                       "class:token_seq": ["Drama War", "Drama"]})
    >>> labels = load_item_labels(items, "item_id:token", "class:token_seq",
    ...                           item_ids=[10, 20], label_sep=" ")
    >>> labels.data.toarray()
    array([[1., 1.],
           [1., 0.]])
    >>> list(labels.label_names)
    ['Drama', 'War']
    """
    _check_label_args(item_col, label_col, label_sep)
    frame, source = _log_frame(
        path_or_dataframe, _label_columns(item_col, label_col), _check_sep(sep)
    )
    label_col = frame.columns[1]
    if len(frame) == 0:
        raise ValueError(f"{source} has no labels (no rows).")
    _check_no_missing_labels(frame, item_col, label_col, source)
    if label_sep is None:
        _warn_if_multi_valued(frame[label_col], label_col, source)
    else:
        frame = _split_labels(frame, label_col, label_sep, source)
    log_ids = _as_text(item_ids, "item_ids")
    if log_ids.has_duplicates:
        raise ValueError(
            f"item_ids has {int(log_ids.duplicated().sum())} id(s) that repeat "
            f"another as text, e.g. {log_ids[log_ids.duplicated()][0]!r}."
        )
    # Factorized first: ids are checked (hashable) and turned into text once each.
    id_codes, file_ids = _factorize(frame, item_col, source)
    file_ids = _as_text(file_ids, f"Column {item_col!r} of {source}")
    position = log_ids.get_indexer(file_ids)[id_codes]
    known = position >= 0
    if not known.any():
        raise ValueError(
            f"None of the {len(file_ids.unique())} item ids of {source} is an "
            f"item of the log (ids compared as text: e.g. {file_ids[0]!r} in the "
            f"labels, {log_ids[0]!r} in the log)."
        )
    codes, names = _factorize(frame, label_col, source)
    used, codes = np.unique(codes[known], return_inverse=True)
    Y = sp.csr_matrix(
        (np.ones(codes.size), (position[known], codes.ravel())),
        shape=(len(log_ids), used.size),
    )
    Y.sum_duplicates()
    Y.data[:] = 1.0  # a repeated (item, label) row is still one label
    unknown = file_ids[np.unique(id_codes[~known])]
    return Bunch(
        data=Y,
        label_names=names[used],
        n_labeled_items=int(np.count_nonzero(np.diff(Y.indptr))),
        unknown_item_ids=pd.Index(unknown, name=item_col).unique(),
    )


def _check_no_missing_labels(frame, item_col, label_col, source):
    for col, what in ((item_col, "item id(s)"), (label_col, "label(s)")):
        missing = frame[col].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"Column {col!r} of {source} has {int(missing.sum())} missing "
                f"{what}, first on {_locate(frame, int(np.argmax(missing)))}; "
                "leave items without labels out of the file."
            )


#: Separators of several labels in one cell that the loader looks for when
#: ``label_sep`` is not given (whitespace stands for any of it).
_COMMON_LABEL_SEPS = (" ", "|", ";", ",")


def _warn_if_multi_valued(cells, label_col, source):
    """Warn when most distinct label cells hold whitespace or a common
    separator: they are probably several labels each (RecBole's
    ``Action Adventure Thriller``), which would count as one label."""
    try:
        distinct = pd.unique(cells.to_numpy())
    except TypeError:  # unhashable labels: reported when they are coded
        return
    text = [c for c in distinct if isinstance(c, str)]
    if len(text) < 2 or 2 * len(text) <= len(distinct):
        return
    counts = {
        sep: sum(
            (any(ch.isspace() for ch in c) if sep == " " else sep in c) for c in text
        )
        for sep in _COMMON_LABEL_SEPS
    }
    sep, count = max(counts.items(), key=lambda kv: kv[1])
    if 2 * count <= len(distinct):
        return
    warnings.warn(
        f"{count} of the {len(distinct)} distinct labels of column {label_col!r} "
        f"of {source} hold {'whitespace' if sep == ' ' else repr(sep)}: if a cell "
        "holds several labels, give the separator (label_sep, --label-sep "
        f"{sep!r} on the command line), or each combination counts as one label.",
        UserWarning,
        stacklevel=3,
    )


def _split_labels(frame, label_col, label_sep, source):
    """``frame`` with one row per (item, label) piece of each label cell split
    on ``label_sep`` (empty pieces dropped); the index (file lines) repeated."""
    cells = frame[label_col]
    codes, distinct = _factorize(frame, label_col, source)
    not_text = [c for c in distinct if not isinstance(c, str)]
    if not_text:
        raise TypeError(
            f"label_sep={label_sep!r} (--label-sep) splits text labels, but column "
            f"{label_col!r} of {source} holds a {type(not_text[0]).__name__} "
            f"({not_text[0]!r})."
        )
    if not any(label_sep in c for c in distinct):
        raise ValueError(
            f"label_sep={label_sep!r} (--label-sep on the command line) occurs "
            f"in none of the {len(distinct)} distinct labels of column "
            f"{label_col!r} of {source} (e.g. {distinct[0]!r}): leave it out "
            "when each cell holds one label."
        )
    # " " splits at runs of whitespace, as str.split() does.
    pieces = [c.split() if label_sep == " " else c.split(label_sep) for c in distinct]
    pieces = [[p.strip() for p in ps if p.strip()] for ps in pieces]
    counts = np.array([len(p) for p in pieces])[codes]
    if not counts.all():
        row = int(np.argmin(counts))
        raise ValueError(
            f"Column {label_col!r} of {source} has {int(np.sum(counts == 0))} "
            f"label cell(s) with no label between the separators "
            f"label_sep={label_sep!r} (--label-sep), first on "
            f"{_locate(frame, row)}: {cells.iloc[row]!r}."
        )
    rows = np.repeat(np.arange(len(frame)), counts)
    split = frame.iloc[rows].copy()
    flat = np.array([p for ps in pieces for p in ps], dtype=object)
    offsets = np.concatenate(([0], np.cumsum([len(p) for p in pieces])))
    # Position of each row's pieces in ``flat``: its cell's start plus a count.
    within = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    split[label_col] = flat[np.repeat(offsets[:-1][codes], counts) + within]
    return split


def _check_label_args(item_col, label_col, label_sep=None):
    if label_sep is not None:
        if not isinstance(label_sep, str):
            raise TypeError(f"label_sep must be a string or None, got {label_sep!r}.")
        if not label_sep:
            raise ValueError(
                "label_sep must be a non-empty string (e.g. ' ', '|'), got '' "
                "(--label-sep on the command line)."
            )
        if "\n" in label_sep or "\r" in label_sep:
            raise ValueError(
                f"label_sep cannot hold a line break, got {label_sep!r} "
                "(--label-sep on the command line)."
            )
    if not isinstance(item_col, str):
        raise TypeError(f"item_col must be a column name (str), got {item_col!r}.")
    if label_col is not None and not isinstance(label_col, str):
        raise TypeError(
            f"label_col must be a column name (str) or None, got {label_col!r}."
        )
    if label_col == item_col:
        raise ValueError(f"item_col and label_col must differ, got {item_col!r}.")


def _label_columns(item_col, label_col):
    """``[item_col, label_col]`` of a label file, as :func:`_log_frame` asks:
    given its column names, checked (the errors name the arguments and the
    command line's options), with the only other column as ``label_col``
    when it is None."""

    def choose(available, source):
        item = _match_names(available, [item_col])[0]
        if item not in available:
            raise ValueError(
                f"Column(s) {[item_col]} not found in {source}; it has columns "
                f"{list(available)} (the item ids: item_col; --label-item-col on "
                "the command line, default --item-col)."
            )
        if label_col is not None:
            if _match_names(available, [label_col])[0] not in available:
                raise ValueError(
                    f"Column(s) {[label_col]} not found in {source}; it has "
                    f"columns {list(available)} (the labels: label_col; "
                    "--label-col on the command line)."
                )
            return [item_col, label_col]
        # Parquet files written by pandas may store its index as a column.
        others = [
            c
            for c in available
            if c != item and not (isinstance(c, str) and c.startswith("__index_level_"))
        ]
        if len(others) != 1:
            raise ValueError(
                f"{source} has columns {list(available)}: name the label column "
                "(label_col, --label-col) when there is not exactly one column "
                f"besides {item_col!r}."
            )
        return [item_col, str(others[0])]

    return choose


def _as_text(ids, what):
    """``ids`` as a text Index (``str`` of each; bytes decoded as UTF-8), to
    match the ids of a label file with those of a log."""
    values = np.asarray(ids, dtype=object)
    if values.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {values.shape}.")
    raw = [n for n, v in enumerate(values) if isinstance(v, bytes)]
    if raw:  # decoded here: str(b"a") would be "b'a'"
        values = values.copy()
        for n in raw:
            try:
                values[n] = values[n].decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(
                    f"{what} holds bytes that are not UTF-8 text, e.g. "
                    f"{values[n]!r}: ids are compared as text; decode them (or "
                    "give them as strings) first."
                ) from None
    return pd.Index(values, dtype=object).astype(str)


def interactions_frame(X, user_ids, item_ids):
    """``X`` as a sparse DataFrame: users as the index, item ids (as strings)
    as the columns, so that a fitted estimator's ``feature_names_in_`` holds
    them."""
    columns = pd.Index(item_ids.astype(str), name=item_ids.name)
    if not columns.is_unique:  # e.g. 7 and "7" in a DataFrame of mixed ids
        repeated = columns[columns.duplicated()].unique().tolist()[:5]
        raise ValueError(
            f"Item ids {repeated} are the same as strings; as_frame=True needs "
            "item ids that stay distinct as column names."
        )
    return pd.DataFrame.sparse.from_spmatrix(X, index=user_ids, columns=columns)


def _check_columns(available, required, source):
    missing = [c for c in required if c not in available]
    if missing:
        raise ValueError(
            f"Column(s) {missing} not found in {source}; it has columns "
            f"{list(available)}."
        )


def _match_names(available, required):
    """``required`` names, each replaced by the one non-string column of
    ``available`` that prints as it (``0`` for ``"0"``: the columns of
    ``read_csv(header=None)``) when no column has that exact name."""
    matched = []
    for name in required:
        alike = [c for c in available if not isinstance(c, str) and str(c) == name]
        matched.append(alike[0] if name not in available and len(alike) == 1 else name)
    return matched


def _locate(frame, position):
    """Where row ``position`` of a loaded frame is: its file line for a CSV."""
    if frame.index.name == _LINE:
        return f"line {frame.index[position]}"
    return f"row {position} (counting from 0)"


def _read_file(path, columns, sep=None):
    """Read ``columns`` of a CSV or Parquet file, checking the header first."""
    source = f"file {str(path)!r}"
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}.")
    if path.is_dir():
        raise ValueError(f"{source} is a directory, not a file.")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        if find_spec("pyarrow") is None:
            raise ImportError(
                "Reading Parquet files needs the pyarrow package: "
                "pip install pyarrow (or pip install 'skcosim[parquet]')."
            )
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except Exception as exc:  # pyarrow raises its own ArrowInvalid etc.
            raise ValueError(f"{source} is not a readable Parquet file: {exc}") from exc
        if callable(columns):
            columns = columns(names, source)
        _check_columns(names, columns, source)
        try:
            frame = pd.read_parquet(path, columns=columns, engine="pyarrow")
        except (pa.ArrowException, OSError) as exc:  # e.g. corrupt data pages
            raise ValueError(f"{source} could not be read as Parquet: {exc}") from exc
        return frame.reset_index(drop=True), source

    return _read_csv(path, sep, columns, source), source


def _open_binary(path, source):
    """The file's bytes as a stream, decompressed by suffix."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            archive.close()
            raise ValueError(f"{source} must hold exactly one file, not {len(names)}.")
        raw = archive.open(names[0])
        archive.close()  # the open member keeps the file open until it closes
        return raw
    return _DECOMPRESSORS.get(suffix, open)(path, "rb")


def _read_bytes(path, source):
    """The whole (decompressed) file, read once: a pipe can be read only once,
    and both readers of :func:`_read_csv` work on these bytes."""
    try:
        with _open_binary(path, source) as raw:
            return raw.read()
    except (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{source} could not be decompressed: {exc}") from exc
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        raise ValueError(f"{source} could not be read: {exc}") from exc


# Separators the reader refuses: they end records or quote fields.
_BAD_SEPARATORS = ("\n", "\r", '"')


def _check_sep(sep):
    """``sep`` (a field separator, or None to sniff it), checked."""
    if sep is None:
        return None
    if not isinstance(sep, str):
        raise TypeError(f"sep must be a one-character string or None, got {sep!r}.")
    if len(sep) != 1:
        raise ValueError(
            f"sep must be one character (e.g. ',', '\\t', ';'), got {sep!r}"
            + (" (empty)" if not sep else f" ({len(sep)} characters)")
            + " (--sep on the command line)."
        )
    if sep in _BAD_SEPARATORS:
        raise ValueError(
            f"sep cannot be {sep!r}: it ends records or quotes fields "
            "(--sep on the command line)."
        )
    return sep


def _header_line(data):
    """The first non-blank line of a file's bytes, as text (for sniffing)."""
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    for line in data[start : start + (1 << 20)].splitlines():
        if line.strip(b"\r\n"):
            return line.decode("utf-8", errors="replace")
    return ""


def _is_tsv_name(path):
    return path.suffix.lower() == ".tsv" or path.name.lower().endswith(
        (".tsv.gz", ".tsv.bz2", ".tsv.zip", ".tsv.xz")
    )


def _sniff_separator(data, path):
    """The field separator of a file whose ``sep`` was not given: a tab when
    its header line has tabs and no commas (RecBole's ``.inter`` and
    ``.item``, a TSV through a pipe), a comma when it has commas and no
    tabs; otherwise (neither, or both) a tab for a ``.tsv`` name, else a
    comma."""
    header = _header_line(data)
    tabs, commas = "\t" in header, "," in header
    if tabs != commas:
        return "\t" if tabs else ","
    return "\t" if _is_tsv_name(path) else ","


def _check_sep_in_header(data, sep, source):
    """Refuse a given ``sep`` that the header line does not hold: the file
    would read as one column, and every column would seem missing."""
    header = _header_line(data)
    if header and sep not in header:
        shown = header if len(header) <= 120 else header[:120] + "..."
        raise ValueError(
            f"sep={sep!r} (--sep on the command line) does not occur in the "
            f"header line of {source}, {shown!r}: give the file's separator, "
            "or leave it out to detect it from the header."
        )


def _read_csv(path, sep, columns, source):
    """Read ``columns`` of a CSV file (read once: a pipe can be read only once),
    fields separated by ``sep`` (None: :func:`_sniff_separator`).

    The rules are those of Python's csv module in strict mode: every record
    must have as many fields as the header (pandas drops extra fields when
    ``usecols`` is given, and pads short rows), fields are kept as strings
    (no "NA" or "null" turned into missing values), and the frame's index
    holds each record's first file line, for error messages.

    A columnar reader (pyarrow, when installed) reads the file when it can
    only read it as the csv module does: its quotes open, close or double
    (no quote inside an unquoted field, no text after a closing quote) and
    every record is as wide as the header. Any other file, or any doubt, is
    read by the csv module itself, which names the line of an error.

    Every column is a :class:`pandas.Categorical` of strings whose
    categories are sorted (by code point); in the first two columns (the
    ids) an empty field is a missing value (NaN), elsewhere it is ``""``.
    """
    data = _read_bytes(path, source)
    if sep is None:
        sep = _sniff_separator(data, path)
    else:
        _check_sep_in_header(data, sep, source)
    handle = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(handle, delimiter=sep, strict=True)
    try:
        columns, where, n_fields = _csv_header(reader, columns, source)
        frame = _columnar_csv(data, sep, columns, where, n_fields)
        if frame is None:
            frame = _strict_csv(reader, columns, where, n_fields, source)
    except csv.Error as exc:
        raise ValueError(
            f"{source} could not be read as CSV: line {reader.line_num}: {exc}."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{source} could not be read as CSV: it is not UTF-8 text ({exc})."
        ) from exc
    return frame


def _csv_header(reader, columns, source):
    """``(columns, where, n_fields)``: the columns (``columns(header, source)``
    when it is a function that picks them), their header positions and the
    header's width, read from ``reader`` (its first non-blank record), checked."""
    header = next((r for r in reader if r), None)
    if header is None:
        raise ValueError(f"{source} is empty.")
    if any("\x00" in name for name in header):
        raise ValueError(
            f"{source} could not be read as CSV: its header holds NUL "
            "bytes (a binary or UTF-16 file?); save it as UTF-8 text."
        )
    if callable(columns):
        columns = columns(header, source)
    _check_columns(header, columns, source)
    repeated = [c for c in columns if header.count(c) > 1]
    if repeated:
        raise ValueError(f"Column(s) {repeated} appear more than once in {source}.")
    return columns, [header.index(c) for c in columns], len(header)


def _strict_csv(reader, columns, where, n_fields, source):
    """The records after the header, read by Python's csv module (strict)."""
    values, lines = [[] for _ in columns], []
    previous = reader.line_num
    for record in reader:
        start, previous = previous + 1, reader.line_num
        if len(record) != n_fields:
            if not record:  # a blank line
                continue
            raise ValueError(
                f"{source} could not be read as CSV: line {start} has "
                f"{len(record)} fields, the header has {n_fields} (a "
                "decimal comma, or a delimiter inside an unquoted field?)."
            )
        for column, j in zip(values, where, strict=True):
            column.append(record[j])
        lines.append(start)
    coded = {}
    for c, name in enumerate(columns):  # one list at a time, then freed
        codes, uniques = pd.factorize(np.array(values[c], dtype=object), sort=True)
        values[c] = None
        coded[name] = _text_column(codes, uniques, is_id=c < 2)
    return pd.DataFrame(coded, index=pd.Index(lines, dtype=np.int64, name=_LINE))


def _text_column(codes, uniques, is_id):
    """A column of strings as codes into its sorted ``uniques``; in an id
    column the empty string (sorted first) is a missing id."""
    if is_id and len(uniques) and uniques[0] == "":
        codes, uniques = codes - 1, uniques[1:]
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))


def _columnar_csv(data, sep, columns, where, n_fields):
    """The records after the header read by pyarrow, as :func:`_strict_csv`
    reads them; None when pyarrow is not installed or the file is not plain
    enough to be sure of that (then the strict reader decides)."""
    if find_spec("pyarrow") is None or not sep.isascii():
        return None  # a non-ASCII delimiter is several bytes
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    if data.startswith(codecs.BOM_UTF8, start) or not _is_utf8(data):
        return None  # pyarrow would skip a second mark; the strict reader reports
    body = np.frombuffer(data, dtype=np.uint8)[start:]
    quoted = b'"' in data
    quotes = np.flatnonzero(body == ord('"')) if quoted else np.zeros(0, np.intp)
    if quoted and not _plain_quotes(body, quotes, ord(sep)):
        return None
    table = _arrow_table(data, start, sep, quoted, n_fields, where)
    if table is None:
        return None
    lines = _record_lines(data, start, body, quotes, table.num_rows)
    if lines is None:
        return None
    # Short ASCII ids without NUL are coded as 8-byte integers: faster.
    packable = data.isascii() and b"\x00" not in data and _can_pack()
    sorted_codes = _sorted_codes(table, packable)
    coded = {
        name: _text_column(codes, uniques, is_id=c < 2)
        for c, (name, (codes, uniques)) in enumerate(
            zip(columns, sorted_codes, strict=True)
        )
    }
    return pd.DataFrame(coded, index=lines)


def _sorted_codes(table, ascii_text):
    """``[(codes, uniques)]`` of each column of a pyarrow table but its first
    value (the header): ``uniques`` sorted by code point, as ``pd.factorize``.

    Each column is coded in pieces side by side (pyarrow computes without
    the GIL), then the pieces' dictionaries are merged. In ``ascii_text``
    (ASCII, no NUL), a column of strings of at most 8 bytes is coded as
    integers: each string's bytes, zero-padded, read big-endian, which
    sort as the strings do.
    """
    import pyarrow.compute as pc

    workers = min(os.cpu_count() or 1, 4)
    pieces = []  # (column, a slice of its strings, whether to pack them)
    for c, column in enumerate(table.columns):
        strings = column.slice(1)  # chunked, not copied
        pack = ascii_text and (pc.max(pc.binary_length(strings)).as_py() or 0) <= 8
        bounds = np.linspace(0, len(strings), workers + 1).astype(np.int64)
        for a, b in itertools.pairwise(bounds):
            if b > a:
                pieces.append((c, strings.slice(a, b - a), pack))

    def encode(piece):
        """``(indices, dictionary)`` of a slice; one dictionary for its chunks."""
        _, strings, pack = piece
        chunks = pc.dictionary_encode(_packed(strings) if pack else strings).chunks
        indices = np.concatenate([chunk.indices.to_numpy() for chunk in chunks])
        return indices, chunks[0].dictionary

    with ThreadPoolExecutor(max_workers=workers) as pool:
        encoded = list(pool.map(encode, pieces))
    return [
        _merged_codes([e for p, e in zip(pieces, encoded, strict=True) if p[0] == c])
        for c in range(table.num_columns)
    ]


def _packed(strings):
    """ASCII strings of at most 8 bytes (chunked) as big-endian zero-padded
    integers, in native byte order."""
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = pc.utf8_rpad(strings, width=8, padding="\x00").cast(pa.binary(8))
    keys = [
        np.frombuffer(chunk.buffers()[1], dtype=np.uint64)[
            chunk.offset : chunk.offset + len(chunk)
        ]
        for chunk in padded.chunks
        if len(chunk)
    ]
    return pa.chunked_array([pa.array(k) for k in keys], type=pa.uint64())


def _can_pack():
    """Whether this pyarrow casts strings to fixed-size binary (for _packed)."""
    import pyarrow as pa

    try:
        return len(_packed(pa.chunked_array([["a"]]))) == 1
    except (pa.ArrowException, ValueError, TypeError):
        return False


def _merged_codes(parts):
    """``(codes, uniques)`` of a column coded in pieces, each ``(indices,
    dictionary)``: ``uniques`` sorted by code point (as UTF-8 bytes sort)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not parts:  # no rows
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=object)
    merged = pc.dictionary_encode(pa.concat_arrays([d for _, d in parts]))
    dictionary = merged.dictionary
    if pa.types.is_uint64(dictionary.type):  # from _packed
        keys = dictionary.to_numpy()
        order = np.argsort(keys.view(">u8"), kind="stable")  # the bytes in order
        text = pa.array(keys[order].view("S8"), pa.binary())  # trailing NULs cut
        uniques = text.cast(pa.string()).to_numpy(zero_copy_only=False)
    else:
        order = pc.array_sort_indices(dictionary).to_numpy()
        uniques = dictionary.take(order).to_numpy(zero_copy_only=False)
    rank = np.empty(order.size, dtype=np.int32 if order.size < 2**31 else np.intp)
    rank[order] = np.arange(order.size)
    rank = rank[merged.indices.to_numpy()]  # from the pieces' dictionaries
    codes = np.empty(sum(len(indices) for indices, _ in parts), dtype=rank.dtype)
    start = stop = 0
    for indices, part_dictionary in parts:
        size, out = len(part_dictionary), codes[stop : stop + len(indices)]
        np.take(rank[start : start + size], indices, out=out)
        start, stop = start + size, stop + len(indices)
    return codes, uniques


def _is_utf8(data):
    """Whether ``data`` decodes as UTF-8 (decoded in pieces, then dropped)."""
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view, step = memoryview(data), 1 << 24
    try:
        for at in range(0, len(data), step):
            decoder.decode(view[at : at + step])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _plain_quotes(body, quotes, sep):
    """Whether every quote of the file opens a field, closes one (then a
    delimiter or a line end follows), or is doubled inside one: no quote in
    an unquoted field, no text after a closing quote, no field left open.

    Then pyarrow splits fields as the csv module does. Quotes come in runs
    of consecutive ones; a run starts outside a quoted field when an even
    number of quotes precede it; outside, its first quote opens a field, and
    a run that ends outside a field ends with a closing quote.
    """
    if quotes.size % 2:
        return False
    first = np.ones(quotes.size, dtype=bool)
    first[1:] = np.diff(quotes) != 1
    runs = np.flatnonzero(first)  # position in ``quotes`` of each run's first
    lengths = np.diff(np.append(runs, quotes.size))
    begin, end = quotes[runs], quotes[runs] + lengths - 1
    before = np.where(begin > 0, body[np.maximum(begin - 1, 0)], ord("\n"))
    after = np.where(end + 1 < body.size, body[np.minimum(end + 1, body.size - 1)], 10)
    outside = runs % 2 == 0
    closes = outside == (lengths % 2 == 0)
    opens_ok = ~outside | _is_boundary(before, sep)
    closes_ok = ~closes | _is_boundary(after, sep)
    return bool(np.all(opens_ok & closes_ok))


def _is_boundary(byte, sep):
    return (byte == sep) | (byte == ord("\n")) | (byte == ord("\r"))


def _arrow_table(data, start, sep, quoted, n_fields, where):
    """The file's records (the header included) as strings, only the
    ``where`` fields; None when pyarrow refuses the file (a record wider
    or narrower than the header, a quote left open) or the csv module would
    (a field over its size limit)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    names = [f"f{j}" for j in range(n_fields)]
    try:
        table = pv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            read_options=pv.ReadOptions(column_names=names),
            parse_options=pv.ParseOptions(
                delimiter=sep,
                quote_char='"' if quoted else False,
                double_quote=True,
                escape_char=False,
                newlines_in_values=quoted,
                ignore_empty_lines=True,
            ),
            convert_options=pv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, ValueError):
        return None
    # The csv module refuses a field longer than its limit, in any column.
    limit = csv.field_size_limit()
    for column in table.columns:  # a field has no more characters than bytes
        if (pc.max(pc.binary_length(column)).as_py() or 0) > limit:
            if (pc.max(pc.utf8_length(column)).as_py() or 0) > limit:
                return None
    return table.select([names[j] for j in where])


def _record_lines(data, start, body, quotes, n_records):
    """The file line (from 1) of each record after the header, as the index
    of a frame; None unless the file has ``n_records`` records, header
    included. A line ends at ``\\r\\n``, ``\\r`` or ``\\n``; a record starts
    a non-blank line outside quotes."""
    stop = len(data)
    while stop > start and data[stop - 1] in b"\r\n":  # trailing blank lines
        stop -= 1
    n_ends = data.count(b"\n", start, stop)
    if b"\r" in data:
        n_ends += data.count(b"\r", start, stop) - data.count(b"\r\n", start, stop)
    if quotes.size == 0 and n_ends + 1 == n_records:  # a record on every line
        return pd.RangeIndex(2, n_records + 1, name=_LINE)
    cr = np.flatnonzero(body == ord("\r"))
    lf = np.flatnonzero(body == ord("\n"))
    ends = np.sort(np.concatenate((cr, lf[(lf == 0) | (body[lf - 1] != ord("\r"))])))
    following = body[np.minimum(ends + 1, body.size - 1)]
    crlf = (body[ends] == ord("\r")) & (following == ord("\n")) & (ends + 1 < body.size)
    starts = np.concatenate(([0], ends + 1 + crlf))  # of each line
    record = starts < body.size
    record[1:] &= np.searchsorted(quotes, ends) % 2 == 0  # the end is not quoted
    first = body[np.minimum(starts, body.size - 1)]
    record &= (first != ord("\n")) & (first != ord("\r"))  # not a blank line
    lines = np.flatnonzero(record) + 1
    if lines.size != n_records:
        return None
    return pd.Index(lines[1:], dtype=np.int64, name=_LINE)


def _is_parquet(path):
    return path.suffix.lower() in PARQUET_SUFFIXES


def _numeric_values(frame, value_col, source):
    if value_col is None:
        return np.ones(len(frame), dtype=np.float64)
    raw = frame[value_col]
    if _is_csv_text(raw):  # each distinct string converted once
        text = pd.Series(np.asarray(raw.cat.categories, dtype=object))
        numbers = pd.to_numeric(text, errors="coerce")
        numbers = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        values = numbers[raw.cat.codes.to_numpy()]
    else:
        _check_real_numbers(raw, value_col, source)
        if raw.dtype == bool:
            raw = raw.astype(np.float64)
        numbers = pd.to_numeric(raw, errors="coerce")
        _check_real_numbers(numbers, value_col, source)
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        original = raw.iloc[row]
        blank = pd.isna(original) or (isinstance(original, str) and not original)
        what = "missing" if blank else f"not a finite number: {original!r}"
        raise ValueError(
            f"Column {value_col!r} of {source} has {int(bad.sum())} value(s) that "
            f"are missing or not finite numbers; {_locate(frame, row)} is {what}."
        )
    _check_no_underflow(raw, values, frame, value_col, source)
    return values


def _check_no_underflow(raw, values, frame, value_col, source):
    """Refuse values written as nonzero that read as 0 (``1e-400``): the
    interaction would vanish without a word, as ``1e400`` would overflow."""
    if _is_csv_text(raw):  # each distinct string checked once
        codes = raw.cat.codes.to_numpy()
        zero_codes = np.unique(codes[values == 0])
        text = raw.cat.categories
        bad = [c for c in zero_codes if c >= 0 and _nonzero_text(text[c])]
        lost = np.flatnonzero(np.isin(codes, bad)) if bad else []
    elif raw.dtype == object:
        candidates = np.flatnonzero(values == 0)
        lost = [i for i in candidates if _nonzero_text(raw.iloc[i])]
    else:
        return
    if len(lost):
        raise ValueError(
            f"Column {value_col!r} of {source} has {len(lost)} value(s) too "
            "small for float64 (they read as 0 and the interaction would be "
            f"lost); {_locate(frame, lost[0])} is {raw.iloc[lost[0]]!r}. Rescale "
            "the values."
        )


def _nonzero_text(value):
    """Whether ``value`` (a field of an object column) denotes a nonzero
    number; exact, so that a float64 underflow shows."""
    if isinstance(value, str):
        try:
            return decimal.Decimal(value.strip()) != 0
        except decimal.InvalidOperation:
            return False
    try:
        return bool(value != 0)
    except (TypeError, ValueError):
        return False


# pandas.api.types.infer_dtype names of columns of dates, times or durations.
_DATE_KINDS = {"datetime64", "datetime", "date", "time", "timedelta64", "timedelta"}


def _check_real_numbers(column, name, source):
    """Refuse dates, durations and periods (pandas would turn them into
    nanoseconds or ordinals) and complex numbers (it would drop the
    imaginary part), as the estimators do."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    kind = getattr(dtype, "kind", None)
    inferred = pd.api.types.infer_dtype(column, skipna=True) if kind == "O" else None
    if (
        kind in ("m", "M")
        or isinstance(dtype, pd.DatetimeTZDtype | pd.PeriodDtype)
        or inferred in _DATE_KINDS
        or inferred == "period"
    ):
        what = f"{inferred} objects" if inferred else f"{dtype} values"
        raise TypeError(
            f"Column {name!r} of {source} holds {what}: interactions must be "
            "numbers, not dates or durations."
        )
    if kind == "c" or inferred == "complex":
        raise ValueError(
            f"Column {name!r} of {source} holds complex numbers: interactions "
            "must be real numbers (complex data not supported)."
        )


def _is_csv_text(column):
    """Whether ``column`` is a column of a CSV file read by :func:`_read_csv`."""
    return isinstance(column.dtype, pd.CategoricalDtype) and column.index.name == _LINE


def _factorize(frame, col, source):
    """Integer codes of ``frame[col]`` and the sorted index of its distinct
    values (first-seen order if unsortable)."""
    column = frame[col]
    if _is_csv_text(column):  # already coded, its categories sorted
        codes = column.cat.codes.to_numpy()
        codes = codes.astype(np.int32 if len(codes) < 2**31 else np.intp, copy=False)
        uniques = column.cat.categories
        used = np.zeros(len(uniques) + 1, dtype=bool)
        used[codes] = True  # a missing id (-1) marks the extra last entry
        used = used[:-1]
        if not used.all():  # e.g. a subset of the rows
            new_code = np.cumsum(used) - 1
            codes = np.where(codes >= 0, new_code[codes], -1)
            uniques = uniques[used]
        return codes, pd.Index(uniques, dtype=object, name=col)
    try:
        codes, uniques = pd.factorize(column, sort=True)
    except TypeError:  # mixed types, e.g. ints and strings in a DataFrame
        try:
            codes, uniques = pd.factorize(column, sort=False)
        except TypeError:  # unhashable values: lists, dicts, arrays
            row = next((n for n, v in enumerate(column) if not is_hashable(v)), None)
            if row is None:
                raise
            raise TypeError(
                f"Column {col!r} of {source} holds a {type(column.iloc[row]).__name__} "
                f"on {_locate(frame, row)}: ids and labels must be hashable "
                "values (strings, numbers)."
            ) from None
    return codes, pd.Index(uniques, name=col)
