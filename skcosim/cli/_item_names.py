"""Item names for the reports: ``--item-names PATH --name-col COL``.

The names file is read by the loader of the log and the labels
(:func:`skcosim.datasets.load_interactions`'s reader: CSV, TSV, RecBole's
``.item`` as it is, Parquet), and matched to the audited items by id, as
text, as the labels are. Shared by ``skcosim audit`` and ``skcosim
audit-factors``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..datasets._load import _as_text, _locate, _log_frame, _match_names
from ._report import id_text

#: How many ids the report lists of the items without a name.
N_SAMPLE_IDS = 5


def _name_columns(item_col, name_col):
    """``[item_col, name_col]`` of a names file, checked against its columns
    (the errors name the options), ``name_col`` None: its only other column."""

    def choose(available, source):
        for col, flag in ((item_col, "--name-item-col"), (name_col, "--name-col")):
            if col is not None and _match_names(available, [col])[0] not in available:
                raise ValueError(
                    f"Column {col!r} ({flag}) not found in {source} (--item-names); "
                    f"it has columns {list(available)}."
                )
        if name_col is not None:
            return [item_col, name_col]
        others = [
            c
            for c in available
            if c != item_col
            and not (isinstance(c, str) and c.startswith("__index_level_"))
        ]
        if len(others) != 1:
            raise ValueError(
                f"{source} (--item-names) has columns {list(available)}: name the "
                "column of the names with --name-col."
            )
        return [item_col, str(others[0])]

    return choose


def read_item_names(path, item_col, name_col, item_ids, *, sep=None):
    """The names of ``item_ids`` in the file ``path``.

    Returns ``(names, info)``: an object array of one name per item of
    ``item_ids`` (``""`` for an item without one) and a JSON-ready summary
    (how many items have a name, a sample of those without, how many ids of
    the file are not audited items). Raises ``ValueError`` naming the option
    for a missing column, a missing id, or an id that appears twice (two
    names for one item).
    """
    if name_col is not None and name_col == item_col:
        raise ValueError(
            f"--name-col and --name-item-col must differ, got {item_col!r}."
        )
    frame, source = _log_frame(path, _name_columns(item_col, name_col), sep)
    name_col = frame.columns[1]
    ids = frame[item_col]
    missing = ids.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"Column {item_col!r} of {source} (--item-names) has "
            f"{int(missing.sum())} missing item id(s), first on "
            f"{_locate(frame, int(np.argmax(missing)))}."
        )
    file_ids = _as_text(ids.astype(object).to_numpy(), f"Column {item_col!r}")
    repeated = file_ids.duplicated(keep=False)
    if repeated.any():
        first = file_ids[repeated][0]
        rows = np.flatnonzero(file_ids == first)[:2]
        where = " and ".join(_locate(frame, int(r)) for r in rows)
        raise ValueError(
            f"{source} (--item-names) gives item {first!r} a name twice ({where}; "
            f"{int(file_ids[repeated].nunique())} id(s) repeat): one row per "
            "item, please."
        )
    values = frame[name_col].astype(object).to_numpy()
    log_ids = _as_text(item_ids, "item ids of the log")
    position = pd.Index(file_ids).get_indexer(log_ids)
    names = np.array(
        [
            "" if p < 0 or pd.isna(values[p]) else id_text(values[p]).strip()
            for p in position
        ],
        dtype=object,
    )
    unnamed = np.flatnonzero(names == "")
    info = {
        "path": str(path),
        "item_col": item_col,
        "name_col": str(name_col),
        "n_items": len(log_ids),
        "n_named_items": len(log_ids) - unnamed.size,
        "n_unnamed_items": int(unnamed.size),
        "unnamed_item_ids_sample": [str(log_ids[i]) for i in unnamed[:N_SAMPLE_IDS]],
        "n_unknown_item_ids": int(np.count_nonzero(~file_ids.isin(log_ids))),
    }
    return names, info
