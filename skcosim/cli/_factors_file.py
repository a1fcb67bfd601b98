"""The factor files of ``skcosim audit-factors``: ``.npy``, CSV/TSV or Parquet.

A ``.npy`` file holds the factors alone (one row per item, ids from
``--item-ids`` or the row numbers); a CSV, TSV or Parquet file holds an id
column (``--id-col``, default its first column) and one column per component.
Every problem is a ``ValueError`` or ``TypeError`` naming the file, the
option and what is wrong (the command turns it into a one-line error).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets._load import _as_text, _log_frame, _numeric_values
from ..metrics._estimators import check_item_factors


def read_factors(path, option, *, id_col=None, ids_path=None, sep=None):
    """``(ids, V)``: the ids as a text Index (named by the id column of a
    CSV/Parquet file) and the factors, float64, one row per id, finite."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        V = _load_npy(path, option)
        ids = _npy_ids(ids_path, V.shape[0], path)
    else:
        if ids_path is not None and option == "--item-factors":
            raise ValueError(
                f"--item-ids is for .npy factors; {path} has its own id column "
                "(--id-col)."
            )
        ids, V = _read_table(path, option, id_col, sep)
    duplicated = ids.duplicated()
    if duplicated.any():
        raise ValueError(
            f"{option} {path}: {int(duplicated.sum())} id(s) repeat another "
            f"(e.g. {ids[duplicated][0]!r}): one row per id."
        )
    return ids, V


def _load_npy(path, option):
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}.")
    try:
        V = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays, or not a .npy file at all
        raise ValueError(f"{option} {path} is not a numeric .npy array: {exc}") from exc
    return check_item_factors(V, source=f"{option} {path}")


def _npy_ids(ids_path, n_rows, path):
    """The ids of the rows of a ``.npy`` file: ``--item-ids`` (one per line)
    or the row numbers."""
    if ids_path is None:
        return pd.Index([str(i) for i in range(n_rows)])
    ids_path = Path(ids_path)
    if not ids_path.exists():
        raise FileNotFoundError(f"No such file: {str(ids_path)!r}.")
    lines = ids_path.read_text(encoding="utf-8").splitlines()
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if len(lines) != n_rows:
        raise ValueError(
            f"--item-ids {ids_path} has {len(lines)} ids but {path} has {n_rows} "
            "rows: one id per line, in the order of the rows."
        )
    blank = [n for n, line in enumerate(lines, 1) if not line.strip()]
    if blank:
        raise ValueError(f"--item-ids {ids_path}: line {blank[0]} is empty.")
    return pd.Index(lines)


def _read_table(path, option, id_col, sep):
    """The id column and the factor columns of a CSV, TSV or Parquet file."""
    chosen = {}

    def columns(names, source):
        key = names[0] if id_col is None else id_col
        if option == "--user-factors" and key not in names:
            key = names[0]  # --id-col names the item file's; users have their own
        if key not in names:
            raise ValueError(
                f"{option} {source} has no id column {key!r} (--id-col); its "
                f"columns are {names}."
            )
        chosen["id"] = key
        return [key, *(n for n in names if n != key)]

    frame, source = _log_frame(path, columns, sep)
    key = chosen["id"]
    factor_cols = [c for c in frame.columns if c != key]
    if not factor_cols:
        raise ValueError(
            f"{option} {source} has only the id column {key!r}: one column per "
            "component is needed besides it."
        )
    if len(frame) == 0:
        raise ValueError(f"{option} {source} has no rows.")
    if pd.isna(frame[key]).any():
        raise ValueError(f"{option} {source}: column {key!r} has missing ids.")
    V = np.column_stack([_numeric_values(frame, c, source) for c in factor_cols])
    ids = _as_text(frame[key].astype(object).to_numpy(), f"Column {key!r}")
    return pd.Index(ids, name=key), check_item_factors(V, source=f"{option} {source}")
