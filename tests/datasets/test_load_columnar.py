"""The columnar CSV reader of load_interactions against the strict one.

A CSV log is read by pyarrow when it can only be read as Python's csv module
reads it, else by the csv module (the strict reader). Both must give the same
matrix, ids and errors: the fuzzed logs of ``test_fuzz_loader`` are read both
ways, every reason to fall back is forced, and the columnar reader is checked
to be the one that read the awkward but valid logs it should read.
"""

import csv
import gzip
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings
from numpy.testing import assert_array_equal

import skcosim.datasets._load as load_module
from skcosim.datasets import load_interactions

from .test_fuzz_loader import Invalid, _reference, documented_sep, logs

pytest.importorskip("pyarrow")


def _outcome(path, *args):
    """``("ok", X, users, items)`` or ``("error", type, message)``."""
    try:
        bunch = load_interactions(path, *args)
    except (ValueError, TypeError) as exc:
        return ("error", type(exc), str(exc))
    return ("ok", bunch.data, bunch.user_ids, bunch.item_ids)


@contextmanager
def _strict_only():
    with mock.patch.object(load_module, "_columnar_csv", return_value=None):
        yield


@contextmanager
def _columnar_calls():
    """The frames (or None) the columnar reader returned, as a list."""
    returned, columnar = [], load_module._columnar_csv

    def spy(*args):
        returned.append(columnar(*args))
        return returned[-1]

    with mock.patch.object(load_module, "_columnar_csv", spy):
        yield returned


def _assert_same(fast, strict):
    assert fast[0] == strict[0], (fast, strict)
    if fast[0] == "error":
        assert fast[1:] == strict[1:]
        return
    X, Y = fast[1], strict[1]
    assert X.shape == Y.shape and X.dtype == Y.dtype == np.float64
    for attribute in ("indptr", "indices", "data"):  # bit for bit
        assert_array_equal(getattr(X, attribute), getattr(Y, attribute))
    for a, b in zip(fast[2:], strict[2:], strict=True):
        assert a.equals(b) and a.dtype == b.dtype == object and a.name == b.name


def _load_both(path, *args):
    """The outcome of the loader as it is, checked to be the strict reader's;
    and whether the columnar reader read the file."""
    with _columnar_calls() as returned:
        fast = _outcome(path, *args)
    with _strict_only():
        strict = _outcome(path, *args)
    _assert_same(fast, strict)
    return fast, any(frame is not None for frame in returned)


@pytest.mark.catalogue(
    "L46",
    input=(
        "Fuzzed CSV logs (random ids, values, delimiters, quoting, line ends, "
        "encodings, blank lines, damage) read by the columnar reader and by "
        "the strict csv reader"
    ),
    outcome=(
        "Correct: the same matrix (bit for bit), ids and error message either "
        "way, and the rules' reading of the log"
    ),
)
@settings(max_examples=150, deadline=None)
@given(logs())
# A tab-separated header in a ".csv" file: the separator is sniffed, not named.
@example(log=(b"user\titem\nNA\tNA", ".csv", None))
def test_fuzzed_logs_load_the_same_with_either_reader(log):
    """L46: a fuzzed log loads to the same result with or without the
    columnar reader, and to what the documented rules say."""
    raw, suffix, value_col = log
    sep = documented_sep(raw, suffix)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"log{suffix}"
        path.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
        outcome, _ = _load_both(path, "user", "item", value_col)
    try:
        users, items, dense, scale = _reference(raw, sep, value_col)
    except Invalid:
        assert outcome[0] == "error"
        return
    assert outcome[0] == "ok", outcome
    assert list(outcome[2]) == users and list(outcome[3]) == items
    tolerance = 4 * np.finfo(float).eps * scale  # summing order: rounding only
    assert np.all(np.abs(outcome[1].toarray() - dense) <= tolerance)


# Valid logs the columnar reader must read itself: (text, users, items, dense).
AWKWARD = {
    "bom-crlf": ("\ufeffu,i\r\n1,2\r\n1,3\r\n", ["1"], ["2", "3"], [[1, 1]]),
    "lone-cr": (
        "u,i\r007,a\r7,a\r 7,b",
        [" 7", "007", "7"],
        ["a", "b"],
        [[0, 1], [1, 0], [1, 0]],
    ),
    "quoted": (
        'u,i\n"a,b","x\ny"\n"a,b","say ""hi"""\nc,z\n',
        ["a,b", "c"],
        ['say "hi"', "x\ny", "z"],
        [[1, 1, 0], [0, 0, 1]],
    ),
    "blank-lines": (
        "\n\nu,i\n\na,x\n\r\n\nb,y\n\n\n",
        ["a", "b"],
        ["x", "y"],
        [[1, 0], [0, 1]],
    ),
    "na-like": (
        "u,i\nNA,null\nNone,n/a\nNaN,#N/A\n",
        ["NA", "NaN", "None"],
        ["#N/A", "n/a", "null"],
        [[0, 0, 1], [1, 0, 0], [0, 1, 0]],
    ),
    "nul-and-utf8": ("u,i\na\x00,é\nb,é\n", ["a\x00", "b"], ["é"], [[1], [1]]),
    "extra-columns": ("t,u,x,i\n1,a,,b\n2,a,,b\n", ["a"], ["b"], [[2]]),
    # ASCII ids of up to 8 bytes are coded as integers: order and text kept
    "eight-bytes": (
        "u,i\nabcdefgh,~\nabcdefg,12345678\n ,0\nA,00\n",
        [" ", "A", "abcdefg", "abcdefgh"],
        ["0", "00", "12345678", "~"],
        [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    ),
    "nine-bytes": (
        "u,i\nabcdefghi,x\nabcdefgh,y\n",
        ["abcdefgh", "abcdefghi"],
        ["x", "y"],
        [[0, 1], [1, 0]],
    ),
}


@pytest.mark.catalogue(
    "L47",
    input=(
        "Valid awkward CSV logs: a byte-order mark with CRLF, lone CR line ends, "
        "quoted delimiters, line ends and doubled quotes, blank lines before "
        "the header and between records, NA-like ids, NUL and non-ASCII ids, "
        "columns not asked for"
    ),
    outcome=(
        "Correct: read by the columnar reader (not the slow fallback), to the "
        "same result as the strict reader and the expected ids and counts"
    ),
)
@pytest.mark.parametrize("name", list(AWKWARD))
def test_awkward_valid_logs_are_read_by_the_columnar_reader(tmp_path, name):
    """L47: awkward valid logs take the fast path and load as written."""
    text, users, items, dense = AWKWARD[name]
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode("utf-8"))
    outcome, columnar = _load_both(path, "u", "i")
    assert columnar, "the columnar reader declined a plain log"
    assert outcome[0] == "ok", outcome
    assert list(outcome[2]) == users and list(outcome[3]) == items
    assert_array_equal(outcome[1].toarray(), dense)


def test_errors_found_after_reading_name_the_file_line(tmp_path):
    """A bad value or missing id found in a frame the columnar reader made
    is named by its file line, counting blank lines and quoted line ends."""
    head = 'u,i,r\r\n1,a,5\r\n\r\n"multi\r\nline",b,4\r\n'
    path = tmp_path / "log.csv"
    path.write_text(head + "2,c,five\r\n", newline="")
    outcome, columnar = _load_both(path, "u", "i", "r")
    assert columnar and outcome[0] == "error"
    assert "line 6 is not a finite number: 'five'" in outcome[2]
    path.write_text('u,i\n"a\n",x\n\n"b",c\n,d\n', newline="")
    outcome, columnar = _load_both(path, "u", "i")
    assert columnar and outcome[0] == "error"
    assert "has 1 missing id(s), first on line 6" in outcome[2]


# Logs the columnar reader must leave to the strict reader, and their outcome.
FALLBACKS = {
    "quote-inside-field": ('u,i\na"b,x"\nc,d\n', ("ok", ['a"b', "c"])),
    "text-after-quote": ('u,i\n1,2\n"a"b,2\n', ("error", "line 3: ',' expected")),
    "quote-left-open": ('u,i\n1,2\n"a,2\n', ("error", "line 3: unexpected end")),
    "wide-record": ("u,i\n1,2\n1,2,3\n", ("error", "line 3 has 3 fields")),
    "short-record": ("u,i,r\n1,2,3\n1,2\n", ("error", "line 3 has 2 fields")),
    "blank-field-line": ('u,i\n1,2\n""\n', ("error", "line 3 has 1 fields")),
    "latin-1": (b"u,i\n1,caf\xe9\n", ("error", "it is not UTF-8 text")),
    "two-byte-order-marks": ("\ufeff\ufeffx,u,i\n1,a,b\n", ("ok", ["a"])),
}


@pytest.mark.catalogue(
    "L48",
    input=(
        "CSV logs the columnar reader could misread: a quote inside an unquoted "
        'field (``a"b``), text after a closing quote (``"a"b``), a quote left '
        "open, a record wider or narrower than the header, a line holding "
        '``""``, a file that is not UTF-8, two byte-order marks'
    ),
    outcome=(
        'Correct: left to the strict csv reader, which reads ``a"b`` as an id '
        'or names the file line of the error (``"a"b`` was read as ``ab`` '
        "by pyarrow)"
    ),
)
@pytest.mark.parametrize("name", list(FALLBACKS))
def test_logs_pyarrow_could_misread_fall_back_to_the_strict_reader(tmp_path, name):
    """L48: each reason to fall back, forced; the strict reader decides."""
    text, (kind, expected) = FALLBACKS[name]
    path = tmp_path / "log.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with _columnar_calls() as returned:
        outcome = _outcome(path, "u", "i")
    assert all(frame is None for frame in returned), "the columnar reader read it"
    assert outcome[0] == kind, outcome
    if kind == "ok":
        assert list(outcome[2]) == expected
    else:
        assert expected in outcome[2] and str(path) in outcome[2]


@pytest.mark.catalogue(
    "L49",
    input="A CSV field longer than the csv module's field size limit",
    outcome=(
        '``ValueError``: "field larger than field limit" on its line, whichever '
        "column holds it (pyarrow has no such limit: the columnar reader "
        "declines)"
    ),
)
@pytest.mark.parametrize("column", ["u", "x"])
def test_a_field_over_the_csv_size_limit_is_refused_either_way(tmp_path, column):
    """L49: a field over ``csv.field_size_limit()``, asked for or not."""
    path = tmp_path / "log.csv"
    long = "é" * 60  # 60 characters, 120 bytes
    row = {"u": "a", "i": "b", "x": "c"} | {column: long}
    path.write_text(f"u,i,x\na,b,c\n{row['u']},{row['i']},{row['x']}\n")
    previous = csv.field_size_limit(50)
    try:
        with _columnar_calls() as returned:
            outcome = _outcome(path, "u", "i")
        assert returned == [None]
        assert outcome[0] == "error" and "field larger than field limit" in outcome[2]
        assert "line 3" in outcome[2]
        csv.field_size_limit(100)  # bytes over the limit, characters not
        outcome, columnar = _load_both(path, "u", "i")
        assert columnar and outcome[0] == "ok"
    finally:
        csv.field_size_limit(previous)


@pytest.mark.catalogue(
    "L50",
    input="A CSV log read without pyarrow installed",
    outcome="Correct: read by the strict csv reader, to the same result",
)
def test_without_pyarrow_the_strict_reader_reads(tmp_path, monkeypatch):
    """L50: no pyarrow: the columnar reader steps aside, same result."""
    path = tmp_path / "log.csv"
    path.write_text('u,i,r\nb,"x,y",1.5\na,z,2\nb,"x,y",-1\n')
    expected = _outcome(path, "u", "i", "r")
    monkeypatch.setattr(load_module, "find_spec", lambda name: None)
    with _columnar_calls() as returned:
        outcome = _outcome(path, "u", "i", "r")
    assert returned == [None]
    _assert_same(outcome, expected)
    assert_array_equal(outcome[1].toarray(), [[0, 2], [0.5, 0]])


@pytest.mark.catalogue(
    "L51",
    input=(
        "A CSV log read from a pipe (``/dev/fd/N``), plain or one the strict "
        "reader must read"
    ),
    outcome=(
        "Correct: the pipe is read once; the strict reader, when needed, "
        "reads the bytes already read"
    ),
)
@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux)")
@pytest.mark.parametrize(
    "text, users",
    [("u,i\na,x\nb,x\na,y\n", ["a", "b"]), ('u,i\na",x\nb,x\na",y\n', ['a"', "b"])],
    ids=["columnar", "strict"],
)
def test_a_pipe_is_read_once_by_either_reader(text, users):
    """L51: a pipe, read by the columnar reader or left to the strict one."""
    read_end, write_end = os.pipe()
    os.write(write_end, text.encode())
    os.close(write_end)
    try:
        bunch = load_interactions(f"/dev/fd/{read_end}", "u", "i")
    finally:
        os.close(read_end)
    assert list(bunch.user_ids) == users
    assert_array_equal(bunch.data.toarray(), [[1, 1], [1, 0]])


@pytest.mark.parametrize(
    "text, lines",
    [
        ("u,i\n1,2\n3,4", [2, 3]),
        ("\r\nu,i\r\n\r\n1,2\r3,4\n\n", [4, 5]),
        ('u,i\n"a\r\nb",2\n\n"c\n\n",3\n5,6\n', [2, 5, 8]),
    ],
)
def test_record_lines_count_as_the_csv_module(text, lines):
    """The file line of each record, counted without a CSV parser, is the
    one the csv module counts; a record count that disagrees gives None."""
    data = text.encode()
    body = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(body == ord('"'))
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    counted, previous = [], 0
    for record in reader:
        if record:
            counted.append(previous + 1)
        previous = reader.line_num
    assert counted[1:] == lines  # the reference itself, by hand
    found = load_module._record_lines(data, 0, body, quotes, len(lines) + 1)
    assert list(found) == lines
    assert load_module._record_lines(data, 0, body, quotes, len(lines)) is None


@pytest.mark.parametrize("name", ["eight-bytes", "lone-cr", "na-like"])
def test_short_ascii_ids_coded_as_integers_or_strings_alike(tmp_path, name):
    """Short ASCII ids are hashed as 8-byte integers when pyarrow can cast
    them; coded as strings instead, the result is the same."""
    text, users, items, dense = AWKWARD[name]
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode("utf-8"))
    packed = _outcome(path, "u", "i")
    with mock.patch.object(load_module, "_can_pack", return_value=False):
        outcome, columnar = _load_both(path, "u", "i")
    assert columnar
    _assert_same(packed, outcome)
    assert list(outcome[2]) == users and list(outcome[3]) == items
    assert_array_equal(outcome[1].toarray(), dense)
