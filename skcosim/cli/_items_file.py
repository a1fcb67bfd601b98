"""The per-item file of a report: ``items.csv`` (or ``items.parquet``).

One row per item: its id, name (``--item-names``), support (number of users)
and, for each model, its gauge and resample stability (for the items the
stabilities were sampled over; empty elsewhere) and its label agreement
(empty for unlabelled items). A user sorts it to find the unstable items.
Shared by ``skcosim audit`` and ``skcosim audit-factors``: the functions take
arrays, not the command line's arguments.
"""

from __future__ import annotations

import io
from importlib.util import find_spec

import numpy as np
import pandas as pd

from ._errors import CommandError

#: The file name of each ``--format``.
ITEMS_FILES = {"csv": "items.csv", "parquet": "items.parquet"}
#: The per-item scores, in column order: (key, column name prefix).
SCORE_COLUMNS = (
    ("gauge_stability", "gauge_stability"),
    ("resample_stability", "resample_stability"),
    ("label_agreement", "label_agreement"),
)


def check_format(fmt):
    """Refuse ``--format parquet`` without pyarrow, before any work."""
    if fmt == "parquet" and find_spec("pyarrow") is None:
        raise CommandError(
            "--format parquet needs the pyarrow package: pip install pyarrow (or "
            "pip install 'skcosim[parquet]'), or use --format csv."
        )


def score_column(key, model):
    """The column of score ``key`` of ``model``: ``"gauge_stability [name]"``."""
    return f"{key} [{model}]"


def items_frame(item_ids, support, per_model, names=None):
    """The per-item table.

    ``item_ids`` and ``support`` (users per item; None: no such column, as
    for factors without their data) have one entry per item, ``names`` too
    (or None: an empty column). ``per_model`` maps a model's
    name to ``{score key: ndarray (n_items,)}`` with NaN where the score was
    not measured; a score a model lacks altogether is left out.
    """
    n_items = len(item_ids)
    columns = {
        "item_id": [str(i) for i in item_ids],
        "name": [""] * n_items if names is None else list(names),
    }
    if support is not None:
        columns["support"] = np.asarray(support, dtype=np.int64)
    for model, scores in per_model.items():
        for key, _ in SCORE_COLUMNS:
            values = scores.get(key)
            if values is None:
                continue
            values = np.asarray(values, dtype=np.float64)
            if values.shape != (n_items,):
                raise ValueError(
                    f"{key} of {model} has shape {values.shape}, expected ({n_items},)."
                )
            columns[score_column(key, model)] = values
    return pd.DataFrame(columns)


def items_file(frame, fmt):
    """``(file name, bytes)`` of the table in ``fmt`` ("csv" or "parquet"):
    CSV with a header, empty cells for unmeasured scores, floats that read
    back exactly;
    Parquet (pyarrow) with nulls for them."""
    if fmt == "parquet":
        check_format(fmt)
        buffer = io.BytesIO()
        frame.to_parquet(buffer, engine="pyarrow", index=False)
        return ITEMS_FILES["parquet"], buffer.getvalue()
    text = frame.to_csv(index=False, na_rep="")  # floats as repr: round trips
    return ITEMS_FILES["csv"], text.encode("utf-8")
