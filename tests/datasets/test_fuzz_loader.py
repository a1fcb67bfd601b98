"""Fuzzing the interaction-log loader against an independent reading.

Random CSV files (random ids, values, delimiters, quoting, line ends,
encodings, compression, blank lines and damage: a field added or dropped, a
file cut short) are read by :func:`skcosim.datasets.load_interactions` and by
a small reader written here from the documented rules alone (RFC 4180 quoting,
UTF-8 with an optional byte-order mark, blank lines skipped, every record as
wide as the header, ids as written, an empty id missing, values decimal
numbers). The property: a file the rules accept loads to the same matrix and
ids; a file they reject raises a ``ValueError`` naming the file. The loader
never loads something else.
"""

import csv
import gzip
import io
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skcosim.datasets import load_interactions


class Invalid(Exception):
    """The documented rules reject the file."""


def _records(text, sep):
    """RFC 4180 records of ``text``: lists of fields, ``[]`` for a blank line.

    A field that starts with ``"`` is quoted: it ends at a ``"`` that is not
    doubled, which must be followed by the delimiter or a line end. Any other
    field runs to the next delimiter or line end (``\\n``, ``\\r\\n`` or
    ``\\r``), quotes in it included.
    """
    records, i, n = [], 0, len(text)
    while i < n:
        if text[i] in "\r\n":
            records.append([])
        else:
            fields = []
            while True:
                if i < n and text[i] == '"':
                    j, chars = i + 1, []
                    while True:
                        if j >= n:
                            raise Invalid("end of file inside quotes")
                        if text[j] == '"':
                            if text.startswith('""', j):
                                chars.append('"')
                                j += 2
                                continue
                            j += 1
                            break
                        chars.append(text[j])
                        j += 1
                    if j < n and text[j] not in (sep, "\r", "\n"):
                        raise Invalid("text after a closing quote")
                    fields.append("".join(chars))
                else:
                    j = i
                    while j < n and text[j] not in (sep, "\r", "\n"):
                        j += 1
                    fields.append(text[i:j])
                i = j
                if i < n and text[i] == sep:
                    i += 1
                    continue
                break
            records.append(fields)
        if i < n:
            i += 2 if text.startswith("\r\n", i) else 1
    return records


_NUMBER = re.compile(r"[ \t]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t]*")


def _number(text):
    if not _NUMBER.fullmatch(text):
        raise Invalid(f"not a number: {text!r}")
    value = float(text)
    if not math.isfinite(value):
        raise Invalid(f"not finite: {text!r}")
    if value == 0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise Invalid(f"underflows to 0: {text!r}")
    return value


def documented_sep(raw, suffix):
    """The separator the documented rule picks when none is given: a tab
    when the first non-blank line (after a byte-order mark) has tabs and no
    commas, a comma when it has commas and no tabs, else by the suffix."""
    data = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    header = next((line for line in re.split(rb"\r\n|\r|\n", data) if line), b"")
    tabs, commas = b"\t" in header, b"," in header
    if tabs != commas:
        return "\t" if tabs else ","
    return "\t" if suffix.startswith(".tsv") else ","


def _reference(raw, sep, value_col):
    """``(user_ids, item_ids, dense matrix)`` by the rules, or ``Invalid``."""
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
    wanted = ["user", "item"] + ([value_col] if value_col else [])
    if any(header.count(c) != 1 for c in wanted):
        raise Invalid("a column missing or repeated")
    if any("\x00" in name for name in header):
        raise Invalid("NUL in the header: not a text file")
    if not body:
        raise Invalid("no rows")
    where = [header.index(c) for c in wanted]
    cells = {}
    for row in body:
        if len(row) != len(header):
            raise Invalid("a record as wide as the header")
        user, item = row[where[0]], row[where[1]]
        if not user or not item:
            raise Invalid("a missing id")
        value = _number(row[where[2]]) if value_col else 1.0
        cells.setdefault((user, item), []).append(value)
    users = sorted({u for u, _ in cells})
    items = sorted({i for _, i in cells})
    dense = np.zeros((len(users), len(items)))
    scale = np.zeros_like(dense)  # sum of |values|: the rounding allowance
    for (user, item), values in cells.items():
        u, i = users.index(user), items.index(item)
        dense[u, i] = math.fsum(values)
        scale[u, i] = math.fsum(abs(v) for v in values)
    return users, items, dense, scale


# -- random logs ---------------------------------------------------------------

_ID_CHARS = st.characters(
    exclude_categories=("Cs",), max_codepoint=0x2FF, include_characters='",;\t\r\n '
)
good_ids = st.one_of(
    st.sampled_from(["NA", "null", "None", "n/a", "NaN", "007", "7", " 7", "é"]),
    st.text(_ID_CHARS, min_size=1, max_size=6),
)
good_values = st.one_of(
    st.floats(-1e100, 1e100, allow_nan=False).map(repr),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.3e}"),
    st.sampled_from([" 3 ", "+.5", "1.e2", "-0"]),
)
bad_values = st.one_of(
    st.sampled_from(
        ["", "four", "4,5", "nan", "inf", "1e400", "1e-400", "-2.5E-999", "1_0", "٣"]
    ),
    st.text(st.sampled_from("0123456789.,+-eE \t"), max_size=5),
)


DAMAGES = ["id", "value", "delimiter", "field", "raw", "encoding", "cut", "columns"]


@st.composite
def logs(draw):
    """``(bytes, suffix, value_col)`` of a random log: well-formed, or with one
    kind of damage (which may or may not break it), so that each rule is
    tested on its own."""
    damage = draw(st.sampled_from([None, *DAMAGES]))
    ids = st.one_of(good_ids, st.just("")) if damage == "id" else good_ids
    values = st.one_of(good_values, bad_values) if damage == "value" else good_values
    n_rows = draw(st.integers(0 if damage == "cut" else 1, 12))
    rows = [
        {"user": draw(ids), "item": draw(ids), "value": draw(values), "extra": "x"}
        for _ in range(n_rows)
    ]
    columns = draw(st.permutations(["user", "item", "value", "extra"]))
    columns = columns[: draw(st.integers(2, 4))]
    if damage != "columns":  # every column asked for is there
        columns = [c for c in ["user", "item"] if c not in columns] + columns
    value_col = "value" if "value" in columns and draw(st.booleans()) else None
    if damage == "value":
        value_col = "value"
        columns = columns if "value" in columns else [*columns, "value"]
    suffix = draw(st.sampled_from([".csv", ".tsv", ".csv.gz"]))
    delimiter = "\t" if suffix == ".tsv" else ","
    if damage == "delimiter":
        delimiter = draw(st.sampled_from([",", "\t", ";", "|"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    table = [columns] + [[row[c] for c in columns] for row in rows]
    if damage == "field":  # a field added to a record, or its last one dropped
        r = draw(st.integers(0, len(table) - 1))
        table[r] = table[r] + ["4"] if draw(st.booleans()) else table[r][:-1]
    style = draw(st.sampled_from(["minimal", "all"]))
    if damage == "raw":  # fields joined as they are: quotes and delimiters raw
        lines = [delimiter.join(r) for r in table]
    else:
        buffer = io.StringIO()
        quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
        writer = csv.writer(
            buffer, delimiter=delimiter, quoting=quoting, lineterminator="\n"
        )
        lines = []
        for r in table:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(r)
            lines.append(buffer.getvalue()[:-1])
    blanks = draw(st.lists(st.integers(0, len(lines)), max_size=2))
    for position in sorted(blanks, reverse=True):
        lines.insert(position, "")
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    encodings = ["utf-8", "utf-8-sig"]
    if damage == "encoding":
        encodings = ["utf-16", "utf-16-le", "latin-1", "cp1252"]
    encoding = draw(st.sampled_from(encodings))
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8")
    if damage == "cut" and raw:  # the file cut short
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    return raw, suffix, value_col


@settings(max_examples=100, deadline=None)
@given(logs())
# A tab-separated header in a ".csv" file: the separator is sniffed, not named.
@example(log=(b"user\titem\nNA\tNA", ".csv", None))
def test_a_log_loads_as_the_rules_read_it_or_raises(log):
    raw, suffix, value_col = log
    sep = documented_sep(raw, suffix)
    try:
        expected = _reference(raw, sep, value_col)
    except Invalid:
        expected = None
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"log{suffix}"
        path.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
        try:
            bunch = load_interactions(path, "user", "item", value_col)
        except (ValueError, TypeError) as exc:
            assert expected is None, f"a valid log was refused: {exc}"
            assert str(path) in str(exc), f"the message names no file: {exc}"
            return
    assert expected is not None, "the loader accepted a log the rules reject"
    users, items, dense, scale = expected
    assert list(bunch.user_ids) == users
    assert list(bunch.item_ids) == items
    X = bunch.data.toarray()
    assert X.shape == dense.shape
    # Duplicates may be summed in another order: rounding only.
    assert np.all(np.abs(X - dense) <= 4 * np.finfo(float).eps * scale)


@pytest.mark.parametrize(
    "text, fields",
    [
        (
            'a,"b ""c""",d\r\n\r\n"x\ny",,\r',
            [["a", 'b "c"', "d"], [], ["x\ny", "", ""]],
        ),
        ('a,b"c\n', [["a", 'b"c']]),
    ],
)
def test_the_reference_reader_follows_rfc_4180(text, fields):
    """The independent reader itself, on hand-checked records."""
    assert _records(text, ",") == fields
    with pytest.raises(Invalid):
        _records('"a"b,c\n', ",")
    with pytest.raises(Invalid):
        _records('"open\n', ",")
