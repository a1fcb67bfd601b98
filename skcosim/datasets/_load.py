"""Read a user-item interaction log (CSV, Parquet or a DataFrame) into a sparse
matrix with user and item id indexes, and item labels into an indicator
matrix; both go through the same one-pass CSV reader."""

from __future__ import annotations

import bz2
import csv
import decimal
import gzip
import io
import lzma
import os
import zipfile
import zlib
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import Bunch

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
    as_frame: bool = False,
) -> Bunch:
    """Load an interaction log into a sparse users x items matrix.

    Each row of the log is one interaction: a user id, an item id and, if
    ``value_col`` is given, a number (a rating, a count, a weight).

    Parameters
    ----------
    path_or_dataframe : str, path-like or pandas.DataFrame
        A CSV file (UTF-8, comma separated, with a header line; ``.tsv``
        files are read tab separated; ``.gz``, ``.bz2``, ``.xz`` and ``.zip``
        files are decompressed), a Parquet file (suffix ``.parquet`` or
        ``.pq``; needs the ``pyarrow`` package), or a DataFrame. A CSV file
        is read once, front to back, so it may be a pipe (``/dev/stdin``);
        fields may be quoted with ``"`` (a quote inside doubled), every line
        must have as many fields as the header, and blank lines are skipped.
    user_col : str
        Column holding the user ids. In a DataFrame whose columns are not
        strings (``read_csv(header=None)`` gives 0, 1, 2), ``"0"`` names
        column ``0``.
    item_col : str
        Column holding the item ids.
    value_col : str or None, default=None
        Column holding the value of each interaction. ``None``: every row
        counts 1.
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
        If a column is missing, the log has no rows, a line of a CSV file has
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
    frame, source = _log_frame(path_or_dataframe, columns)
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


def _log_frame(path_or_dataframe, columns):
    """``(frame, source)``: the log's ``columns`` under those names, and how
    the errors name where it came from.

    ``columns`` is a list of names, or a function of the column names found
    and the source that returns it (called once the header is read). A CSV
    file is read by :func:`_read_csv`: logs and label files alike.
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
        return _read_file(Path(path_or_dataframe), columns)
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
) -> Bunch:
    """Load item labels (genres, categories) as an items x labels indicator.

    Each row of the file is one (item, label) pair: an item with several
    labels has several rows. The labels are matched to the items of a log
    read by :func:`load_interactions`, for
    :func:`~skcosim.metrics.neighbor_label_agreement`.

    Parameters
    ----------
    path_or_dataframe : str, path-like or pandas.DataFrame
        A CSV, TSV or Parquet file, read by the reader of
        :func:`load_interactions` with its guarantees: a CSV file is read
        once, front to back (it may be a pipe), every line must have as many
        fields as the header, and ids and labels are strings exactly as
        written (``"NA"``, ``"null"``, ``"None"``, ``"N/A"`` are ids or
        labels; only an empty field is missing). Or a DataFrame.
    item_col : str
        Column holding the item ids. In a DataFrame whose columns are not
        strings (``read_csv(header=None)``), ``"0"`` names column ``0``.
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
        If an id or a label is not hashable (a list in a DataFrame).
    ValueError
        If a column is missing, ``label_col`` is ``None`` and the file does
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
    """
    _check_label_args(item_col, label_col)
    frame, source = _log_frame(path_or_dataframe, _label_columns(item_col, label_col))
    label_col = frame.columns[1]
    if len(frame) == 0:
        raise ValueError(f"{source} has no labels (no rows).")
    for col, what in ((item_col, "item id(s)"), (label_col, "label(s)")):
        missing = frame[col].isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"Column {col!r} of {source} has {int(missing.sum())} missing "
                f"{what}, first on {_locate(frame, int(np.argmax(missing)))}; "
                "leave items without labels out of the file."
            )
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


def _check_label_args(item_col, label_col):
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
    given its column names, with the only other column as ``label_col`` when
    it is None."""
    if label_col is not None:
        return [item_col, label_col]

    def choose(available, source):
        item = _match_names(available, [item_col])[0]
        _check_columns(available, [item], source)
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


def _read_file(path, columns):
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

    sep = (
        "\t"
        if path.suffix.lower() == ".tsv"
        or path.name.lower().endswith((".tsv.gz", ".tsv.bz2", ".tsv.zip", ".tsv.xz"))
        else ","
    )
    return _read_csv(path, sep, columns, source), source


def _open_text(path, source):
    """The file as UTF-8 text (a byte-order mark skipped), decompressed by suffix."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            archive.close()
            raise ValueError(f"{source} must hold exactly one file, not {len(names)}.")
        raw = archive.open(names[0])
        archive.close()  # the open member keeps the file open until it closes
    else:
        raw = _DECOMPRESSORS.get(suffix, open)(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _read_csv(path, sep, columns, source):
    """Read ``columns`` of a CSV file in one pass (a pipe can be read only once).

    Python's csv module in strict mode: every record must have as many fields
    as the header (pandas drops extra fields when ``usecols`` is given, and
    pads short rows), fields are kept as strings (no "NA" or "null" turned
    into missing values) and each record's first file line is kept, for
    error messages: the frame's index holds them.
    """
    try:
        with _open_text(path, source) as handle:
            reader = csv.reader(handle, delimiter=sep, strict=True)
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
                raise ValueError(
                    f"Column(s) {repeated} appear more than once in {source}."
                )
            where = [header.index(c) for c in columns]
            values, lines = [[] for _ in columns], []
            n_fields, previous = len(header), reader.line_num
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
    except csv.Error as exc:
        raise ValueError(
            f"{source} could not be read as CSV: line {reader.line_num}: {exc}."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{source} could not be read as CSV: it is not UTF-8 text ({exc})."
        ) from exc
    except (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{source} could not be decompressed: {exc}") from exc
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        raise ValueError(f"{source} could not be read: {exc}") from exc
    # Ids are strings so that "007" and "7" stay different items; an empty
    # field is a missing id.
    for c, column in enumerate(values):  # one list at a time, then freed
        values[c] = np.array(column, dtype=object)
    for ids in values[:2]:
        ids[ids == ""] = None
    frame = pd.DataFrame(
        dict(zip(columns, values, strict=True)),
        index=pd.Index(lines, dtype=np.int64, name=_LINE),
        dtype=object,
    )
    return frame


def _numeric_values(frame, value_col, source):
    if value_col is None:
        return np.ones(len(frame), dtype=np.float64)
    raw = frame[value_col]
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
    if raw.dtype != object:
        return
    candidates = np.flatnonzero(values == 0)
    lost = [i for i in candidates if _nonzero_text(raw.iloc[i])]
    if lost:
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


def _factorize(frame, col, source):
    """Integer codes of ``frame[col]`` and the sorted index of its distinct
    values (first-seen order if unsortable)."""
    column = frame[col]
    try:
        codes, uniques = pd.factorize(column, sort=True)
    except TypeError:  # mixed types, e.g. ints and strings in a DataFrame
        try:
            codes, uniques = pd.factorize(column, sort=False)
        except TypeError:  # unhashable values: lists, dicts, arrays
            row = next((n for n, v in enumerate(column) if not _hashable(v)), None)
            if row is None:
                raise
            raise TypeError(
                f"Column {col!r} of {source} holds a {type(column.iloc[row]).__name__} "
                f"on {_locate(frame, row)}: ids and labels must be hashable "
                "values (strings, numbers)."
            ) from None
    return codes, pd.Index(uniques, name=col)


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True
