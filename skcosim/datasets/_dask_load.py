"""Interaction logs too large for one process: read with :mod:`dask.dataframe`.

:func:`read_interactions_dask` reads a Parquet dataset directory, a glob of
CSV or Parquet files, or one file, into a users x items
:mod:`dask.array` of scipy.sparse CSR row blocks: the items (a catalogue
fits in memory) are mapped to codes once, the rows are sorted by user with
:meth:`dask.dataframe.DataFrame.set_index` so that every block holds whole
users, in the order of the in-memory loader (:func:`load_interactions`:
sorted ids), and duplicate (user, item) rows are summed. The users never
come to the client. :func:`filter_interactions_dask` is the k-core filter
of :func:`filter_interactions` on these blocks, pass for pass.

``dask[dataframe]`` is imported only here (an optional dependency).
"""

from __future__ import annotations

import glob
import os
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import Bunch

from ._load import (
    PARQUET_SUFFIXES,
    _check_column_args,
    _check_columns,
    _check_real_numbers,
    _check_sep,
    _check_sep_in_header,
    _open_binary,
    _sniff_separator,
)

#: Rows of CSV text per partition when dask splits a file (64 MB).
CSV_BLOCKSIZE = "64MB"
#: Compressed CSV files cannot be split: one partition per file.
_COMPRESSED = (".gz", ".bz2", ".xz", ".zip")


def _files(path):
    """``(files, kind, source)`` of a dataset directory, glob or file."""
    text = os.fspath(path)
    source = f"{text!r}"
    if Path(text).is_dir():
        files = sorted(
            str(p)
            for p in Path(text).rglob("*")
            if p.is_file() and not p.name.startswith(("_", "."))
        )
        if not files:
            raise ValueError(f"The directory {source} holds no data files.")
        if not all(Path(f).suffix.lower() in PARQUET_SUFFIXES for f in files):
            others = [
                f for f in files if Path(f).suffix.lower() not in PARQUET_SUFFIXES
            ]
            raise ValueError(
                f"The directory {source} is read as a Parquet dataset, but "
                f"{others[0]!r} is not a .parquet/.pq file; pass a glob of CSV "
                "files instead."
            )
        return files, "parquet", f"dataset {source}"
    files = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
    if not files:
        raise FileNotFoundError(f"No file matches {source}.")
    for f in files:
        if not Path(f).is_file():
            raise FileNotFoundError(f"No such file: {f!r}.")
    parquet = [Path(f).suffix.lower() in PARQUET_SUFFIXES for f in files]
    if any(parquet) and not all(parquet):
        raise ValueError(f"{source} matches both Parquet and CSV files; give one kind.")
    kind = "parquet" if parquet[0] else "csv"
    return files, kind, (f"file {files[0]!r}" if len(files) == 1 else source)


def _read_frame(files, kind, columns, sep, source):
    """The dask DataFrame of ``columns``: Parquet columns keep their types,
    CSV fields are strings (as the in-memory loader keeps them)."""
    import dask.dataframe as dd

    if kind == "parquet":
        names = dd.read_parquet(files[0]).columns
        _check_columns(list(names), columns, source)
        return dd.read_parquet(files, columns=columns)
    with _open_binary(Path(files[0]), source) as raw:
        head = raw.read(1 << 20)  # the header line is enough to sniff
    if sep is None:
        sep = _sniff_separator(head, Path(files[0]))
    else:
        _check_sep_in_header(head, sep, source)
    compressed = Path(files[0]).suffix.lower() in _COMPRESSED
    header = pd.read_csv(files[0], sep=sep, nrows=0, dtype=str).columns
    _check_columns(list(header), columns, source)
    return dd.read_csv(
        files,
        sep=sep,
        usecols=columns,
        dtype=dict.fromkeys(columns, object),
        keep_default_na=False,
        na_values=[],
        blocksize=None if compressed else CSV_BLOCKSIZE,
        compression="infer",
        encoding="utf-8-sig",
    )


def _values(frame, value_col):
    """The float64 values of a partition (NaN where not a finite number)."""
    if value_col is None:
        return np.ones(len(frame), dtype=np.float64)
    raw = frame[value_col]
    if raw.dtype == bool:
        raw = raw.astype(np.float64)
    values = pd.to_numeric(raw, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return np.where(np.isfinite(values), values, np.nan)


def _missing_ids(column):
    """Missing ids of a partition: NaN, or an empty CSV field."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_string_dtype(column.dtype):
        missing = missing | (column == "").to_numpy(dtype=bool, na_value=True)
    return int(missing.sum())


def _partition_checks(frame, user_col, item_col, value_col):
    """Counts of missing ids and of bad values in one partition."""
    return pd.DataFrame(
        {
            "user": [_missing_ids(frame[user_col])],
            "item": [_missing_ids(frame[item_col])],
            "value": [int(np.isnan(_values(frame, value_col)).sum())],
            "rows": [len(frame)],
        }
    )


def _check_log(ddf, user_col, item_col, value_col, source):
    """One pass over the log: its sorted item ids, after refusing missing
    ids and values that are not finite numbers (as the in-memory loader)."""
    import dask

    if value_col is not None:
        empty = pd.Series([], dtype=ddf.dtypes[value_col])  # the column's type
        _check_real_numbers(empty, value_col, source)
    meta = pd.DataFrame(
        {k: pd.Series(dtype=np.int64) for k in ("user", "item", "value", "rows")}
    )
    checks = ddf.map_partitions(
        _partition_checks, user_col, item_col, value_col, meta=meta
    )
    items = ddf[item_col].drop_duplicates()
    checks, items = dask.compute(checks, items)
    totals = checks.sum()
    if totals["rows"] == 0:
        raise ValueError(f"{source} has no interactions (no rows).")
    for key, col in (("user", user_col), ("item", item_col)):
        if totals[key]:
            raise ValueError(
                f"Column {col!r} of {source} has {int(totals[key])} missing id(s)."
            )
    if totals["value"]:
        raise ValueError(
            f"Column {value_col!r} of {source} has {int(totals['value'])} "
            "value(s) that are missing or not finite numbers."
        )
    try:
        return pd.Index(np.sort(items.to_numpy()), name=item_col)
    except TypeError:  # unsortable ids (mixed types): first-seen order
        return pd.Index(items.to_numpy(), name=item_col)


def _csr_block(frame, item_ids, item_col, value_col, source):
    """The CSR rows of one partition indexed by user (sorted): duplicate
    (user, item) rows summed, entries that sum to zero not stored."""
    n_items = len(item_ids)
    if len(frame) == 0:
        return sp.csr_matrix((0, n_items))
    user_codes, users = pd.factorize(frame.index, sort=False)
    cols = item_ids.get_indexer(frame[item_col])
    X = sp.csr_matrix(
        (_values(frame, value_col), (user_codes, cols)),
        shape=(len(users), n_items),
    )
    X.sum_duplicates()
    if not np.all(np.isfinite(X.data)):
        raise ValueError(
            f"Column {value_col!r} of {source}: summing duplicate (user, item) "
            "rows overflowed float64; rescale the values."
        )
    X.eliminate_zeros()
    return X


def _block_summary(B):
    return B.shape[0], B.nnz


def blocks_to_array(blocks, n_features):
    """A row-chunked dask array of delayed CSR ``blocks`` (computed once, so
    that their numbers of rows are known; empty blocks are dropped)."""
    import dask
    import dask.array as da

    blocks = list(dask.persist(*blocks))
    summary = dask.compute(*[dask.delayed(_block_summary)(b) for b in blocks])
    parts = [
        da.from_delayed(
            b,
            shape=(n_rows, n_features),
            dtype=np.float64,
            meta=sp.csr_matrix((0, n_features)),
        )
        for b, (n_rows, _) in zip(blocks, summary, strict=True)
        if n_rows
    ]
    nnz = int(sum(n for _, n in summary))
    if not parts:  # e.g. a k-core that keeps nobody
        empty = sp.csr_matrix((0, n_features))
        return da.from_array(empty, chunks=((0,), (n_features,)), asarray=False), nnz
    return da.concatenate(parts, axis=0), nnz


def read_interactions_dask(path, user_col, item_col, value_col=None, *, sep=None):
    """Read a partitioned log into a row-chunked sparse dask array.

    Parameters
    ----------
    path : str or path-like
        A Parquet dataset directory, a glob of CSV or Parquet files
        (``"logs/*.parquet"``), or one file. CSV files follow the rules of
        :func:`load_interactions` for separators and ids (kept as strings).
    user_col, item_col, value_col, sep
        As in :func:`load_interactions`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: a dask array of shape ``(n_users, n_items)`` with
        ``scipy.sparse.csr_matrix`` row blocks, users in sorted order as
        :func:`load_interactions` has them, each user in one block;
        ``item_ids``: the sorted item ids (a :class:`pandas.Index`);
        ``n_nonzero``: its number of stored entries.
    """
    import dask

    columns = _check_column_args(user_col, item_col, value_col, False)
    files, kind, source = _files(path)
    if kind == "parquet" and find_spec("pyarrow") is None:
        raise ImportError(
            "Reading Parquet files needs the pyarrow package: pip install pyarrow."
        )
    ddf = _read_frame(files, kind, columns, _check_sep(sep), source)
    item_ids = _check_log(ddf, user_col, item_col, value_col, source)
    # Sorted by user: whole users per partition, in the in-memory order.
    by_user = ddf.set_index(user_col, sort=True)
    items = dask.delayed(item_ids, pure=True)
    make = dask.delayed(_csr_block, pure=True)
    blocks = [
        make(part, items, item_col, value_col, source) for part in by_user.to_delayed()
    ]
    X, nnz = blocks_to_array(blocks, len(item_ids))
    return Bunch(data=X, item_ids=item_ids, n_nonzero=nnz)


# -- the k-core filter on row blocks --------------------------------------------


def _kept_users(B, user_items, min_items):
    """Rows of ``B`` with at least ``min_items`` entries among the items of
    the mask ``user_items`` (all rows when it is None)."""
    if user_items is None:
        return np.ones(B.shape[0], dtype=bool)
    return np.diff((B[:, user_items]).indptr) >= min_items


def _filter_pass(B, user_items, items, min_items):
    """One pass of the k-core filter on a block: users per item and the
    entries of the users that fail, among the entries still kept."""
    rows = _kept_users(B, user_items, min_items)
    kept = B[rows][:, items]
    counts = np.diff(kept.indptr)
    item_counts = np.zeros(B.shape[1], dtype=np.int64)
    item_counts[items] = np.bincount(kept.indices, minlength=kept.shape[1])
    failing = int(counts[counts < min_items].sum())
    return item_counts, failing, int(kept.nnz)


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _filtered_block(B, items, min_items):
    return B[_kept_users(B, items, min_items)][:, items]


def filter_interactions_dask(X, item_ids, *, min_item_count=0, min_user_count=0):
    """The k-core of :func:`filter_interactions` on a row-chunked dask array
    whose blocks hold whole users: the same kept users and items, in the
    same number of passes, each pass one Dask computation.

    A pass keeps the entries whose user and item both pass on the entries
    of the previous pass. As the item set only shrinks, a user kept after
    pass ``t`` is one with at least ``min_user_count`` entries among the
    items kept after pass ``t - 1``: the client holds only item masks.

    Returns a Bunch with ``data`` (the kept rows and columns),
    ``item_ids``, ``n_passes``, ``n_nonzero`` and ``item_counts`` (users per
    kept item).
    """
    import dask

    n_items = X.shape[1]
    min_users = max(int(min_item_count), 1)
    min_items = max(int(min_user_count), 1)
    blocks = list(X.to_delayed().ravel())
    one_pass = dask.delayed(_filter_pass, pure=True)
    before, items = None, np.ones(n_items, dtype=bool)
    n_passes = 0
    while True:
        n_passes += 1
        parts = [one_pass(b, before, items, min_items) for b in blocks]
        counts, failing, _ = dask.compute(_tree(parts))[0]
        failing_items = int(counts[(counts > 0) & (counts < min_users)].sum())
        if failing == 0 and failing_items == 0:
            break
        before, items = items, items & (counts >= min_users)
    # At the fixed point: items with users left, users with enough of them.
    items = counts > 0
    keep = dask.delayed(_filtered_block, pure=True)
    data, nnz = blocks_to_array(
        [keep(b, items, min_items) for b in blocks], int(items.sum())
    )
    return Bunch(
        data=data,
        item_ids=item_ids[items],
        n_passes=n_passes,
        n_nonzero=nnz,
        item_counts=counts[items],
    )


def _tree(parts):
    """Pairwise sum of delayed tuples."""
    import dask

    add = dask.delayed(_add, pure=True)
    while len(parts) > 1:
        pairs = [add(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]
