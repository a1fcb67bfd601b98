"""Fuzzing the label-file loader against an independent reading.

Random label files (random ids and labels, NA-like words, unicode, quoted
delimiters and line breaks, a byte-order mark, blank lines, extra or missing
fields, raw delimiters, other encodings, a file cut short) are read by
:func:`skcosim.datasets.load_item_labels` and by the RFC 4180 reader of
``test_fuzz_loader.py`` (written from the documented rules, not with the
``csv`` module the loader uses) plus the label rules: the item column and
the label column (the only other one when not named) once each, every record
as wide as the header, ids and labels as written, an empty one missing, at
least one id an item of the log. A file the rules accept loads to the same
labels; a file they reject raises a ``ValueError`` naming the file.
"""

import csv
import gzip
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skcosim.datasets import load_item_labels

from .test_fuzz_loader import Invalid, _records, documented_sep, good_ids

NA_WORDS = ["NA", "N/A", "null", "None", "n/a", "NaN", "#N/A", "<NA>", "nan"]


def _reference(raw, sep, label_col, log_ids):
    """``({log id: labels}, label names, unknown ids)`` by the rules, or
    ``Invalid``."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid("not UTF-8") from exc
    rows = [r for r in _records(text, sep) if r]
    if not rows:
        raise Invalid("empty")
    header, body = rows[0], rows[1:]
    if label_col is None:
        others = [c for c in header if c != "item"]
        others = [c for c in others if not c.startswith("__index_level_")]
        if "item" not in header or len(others) != 1:
            raise Invalid("no single label column")
        label_col = others[0]
    if any(header.count(c) != 1 for c in ("item", label_col)):
        raise Invalid("a column missing or repeated")
    if any("\x00" in name for name in header):
        raise Invalid("NUL in the header: not a text file")
    if not body:
        raise Invalid("no rows")
    i, j = header.index("item"), header.index(label_col)
    pairs = []
    for row in body:
        if len(row) != len(header):
            raise Invalid("a record as wide as the header")
        if not row[i] or not row[j]:
            raise Invalid("a missing id or label")
        pairs.append((row[i], row[j]))
    known = [(item, label) for item, label in pairs if item in log_ids]
    if not known:
        raise Invalid("no id of the file is an item of the log")
    labels = {}
    for item, label in known:
        labels.setdefault(item, set()).add(label)
    names = sorted({label for _, label in known})
    unknown = {item for item, _ in pairs if item not in log_ids}
    return labels, names, unknown


words = st.one_of(good_ids, st.sampled_from(NA_WORDS))
DAMAGES = ["missing", "field", "raw", "encoding", "cut", "columns"]


def _write_table(table, delimiter, style):
    """CSV lines of ``table``, quoted as the csv module quotes."""
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="")
    lines = []
    for row in table:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        lines.append(buffer.getvalue())
    return lines


@st.composite
def label_files(draw):
    """``(bytes, suffix, label_col, log ids)`` of a random label file, well
    formed or with one kind of damage (which may or may not break it)."""
    damage = draw(st.sampled_from([None, *DAMAGES]))
    cells = st.one_of(words, st.just("")) if damage == "missing" else words
    n_rows = draw(st.integers(0 if damage == "cut" else 1, 10))
    rows = [
        {"item": draw(cells), "genre": draw(cells), "extra": draw(words)}
        for _ in range(n_rows)
    ]
    more = draw(st.sampled_from([[], ["extra"], ["__index_level_0__"]]))
    columns = draw(st.permutations(["item", "genre", *more]))
    if damage == "columns":
        columns = draw(
            st.sampled_from([["genre"], ["item"], ["item", "item", "genre"]])
        )
    label_col = "genre" if len(columns) > 2 or draw(st.booleans()) else None
    suffix = draw(st.sampled_from([".csv", ".tsv", ".csv.gz"]))
    delimiter = "\t" if suffix == ".tsv" else ","
    table = [columns] + [[row.get(c, "0") for c in columns] for row in rows]
    if damage == "field":  # a field added to a record, or its last one dropped
        r = draw(st.integers(0, len(table) - 1))
        table[r] = table[r] + ["x"] if draw(st.booleans()) else table[r][:-1]
    if damage == "raw":  # fields joined as they are: quotes and delimiters raw
        lines = [delimiter.join(r) for r in table]
    else:
        lines = _write_table(table, delimiter, draw(st.sampled_from(["min", "all"])))
    for position in sorted(draw(st.lists(st.integers(0, len(lines)), max_size=2)))[
        ::-1
    ]:
        lines.insert(position, "")
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    encodings = ["utf-8", "utf-8-sig"]
    if damage == "encoding":
        encodings = ["utf-16", "latin-1", "cp1252"]
    try:
        raw = text.encode(draw(st.sampled_from(encodings)))
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    if damage == "cut" and raw:  # the file cut short
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    # The log: some ids of the file, maybe none, and ids of its own.
    file_ids = sorted({row["item"] for row in rows if row["item"]})
    log_ids = draw(st.lists(st.sampled_from(file_ids), unique=True)) if file_ids else []
    log_ids = list(dict.fromkeys(log_ids + draw(st.lists(words, max_size=3))))
    if not log_ids:
        log_ids = ["not-in-the-file"]
    return raw, suffix, label_col, log_ids


@settings(max_examples=150, deadline=None)
@given(label_files())
def test_a_label_file_loads_as_the_rules_read_it_or_raises(case):
    raw, suffix, label_col, log_ids = case
    sep = documented_sep(raw, suffix)
    try:
        expected = _reference(raw, sep, label_col, set(log_ids))
    except Invalid:
        expected = None
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"labels{suffix}"
        path.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
        try:
            labels = load_item_labels(path, "item", label_col, item_ids=log_ids)
        except (ValueError, TypeError) as exc:
            assert expected is None, f"a valid label file was refused: {exc}"
            assert str(path) in str(exc), f"the message names no file: {exc}"
            return
    assert expected is not None, "the loader accepted a file the rules reject"
    by_item, names, unknown = expected
    assert list(labels.label_names) == names
    Y = labels.data.toarray()
    assert Y.shape == (len(log_ids), len(names))
    assert set(np.unique(Y)) <= {0.0, 1.0}
    got = {
        log_ids[i]: {names[j] for j in np.flatnonzero(row)}
        for i, row in enumerate(Y)
        if row.any()
    }
    assert got == by_item
    assert labels.n_labeled_items == len(by_item)
    assert set(labels.unknown_item_ids) == unknown
