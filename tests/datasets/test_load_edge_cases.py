"""load_interactions on broken, unusual and hostile logs."""

import gzip
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from skcosim.datasets import load_interactions

from .._logs import _csv


@pytest.mark.catalogue(
    "L01",
    input="A CSV without the user, item or value column asked for",
    outcome=(
        "``ValueError``: \"Column(s) ['movie'] not found in file ...; it has "
        "columns ['user', 'item']\""
    ),
)
@pytest.mark.parametrize(
    "cols, match",
    [
        (("user", "movie", None), r"Column\(s\) \['movie'\] not found"),
        (("person", "item", None), r"Column\(s\) \['person'\] not found"),
        (("user", "item", "rating"), r"Column\(s\) \['rating'\] not found"),
    ],
)
def test_missing_columns_are_named(tmp_path, cols, match):
    """L01: a CSV without the user, item or value column asked for."""
    path = _csv(tmp_path, "user,item\n1,2\n")
    with pytest.raises(ValueError, match=match + r".*has columns \['user', 'item'\]"):
        load_interactions(path, *cols)


@pytest.mark.catalogue(
    "L02",
    input="Duplicate (user, item) rows",
    outcome="Correct: summed (counts without a value column, summed values with one)",
)
def test_duplicate_rows_are_summed(tmp_path):
    """L02: duplicate (user, item) rows add up (counts, or summed ratings)."""
    path = _csv(tmp_path, "u,i,r\n1,a,4\n1,a,5\n2,b,1\n1,a,1\n")
    counts = load_interactions(path, "u", "i")
    assert_array_equal(counts.data.toarray(), [[3, 0], [0, 1]])
    sums = load_interactions(path, "u", "i", "r")
    assert_array_equal(sums.data.toarray(), [[10, 0], [0, 1]])
    assert list(sums.user_ids) == ["1", "2"] and list(sums.item_ids) == ["a", "b"]


@pytest.mark.catalogue(
    "L03",
    input="A word, ``1e400``, a blank or ``nan`` in the value column",
    outcome=(
        "``ValueError``: \"Column 'r' of file ... line 3 is not a finite "
        'number: \'four\'" / "line 3 is missing"'
    ),
)
@pytest.mark.parametrize(
    "value, match",
    [
        ("four", "line 3 is not a finite number: 'four'"),
        ("1e400", "line 3 is not a finite number"),
        ("", "line 3 is missing"),
        ("nan", "line 3 is not a finite number: 'nan'"),
    ],
    ids=["word", "overflow", "empty", "nan"],
)
def test_non_numeric_or_non_finite_values_are_named_with_their_row(
    tmp_path, value, match
):
    """L03: a word, an overflowing number, a blank or NaN in the value column."""
    path = _csv(tmp_path, f"u,i,r\n1,2,5\n1,3,{value}\n")
    with pytest.raises(ValueError, match=f"Column 'r' of file .*{match}"):
        load_interactions(path, "u", "i", "r")


@pytest.mark.catalogue(
    "L40",
    input=(
        "A value that underflows float64 to 0: ``1e-400`` or ``-2.5E-999`` in "
        "a CSV, ``Decimal('1e-400')`` in a DataFrame"
    ),
    outcome=(
        '``ValueError``: "... too small for float64 (they read as 0 and the '
        "interaction would be lost); line 3 is '1e-400'\"; ``0``, ``-0.0e5`` and the "
        "subnormal ``5e-324`` still load as written."
    ),
)
@pytest.mark.parametrize("value", ["1e-400", "-2.5E-999", " 1e-400 "])
def test_values_that_underflow_to_zero_are_named_with_their_line(tmp_path, value):
    """L40: a value written as nonzero that float64 reads as 0.

    Regression: ``1e-400`` became 0 and its interaction vanished, while
    ``1e400`` is refused. Exact zeros and subnormal values load as written.
    """
    path = _csv(tmp_path, f"u,i,r\n1,2,5\n1,3,{value}\n2,3,1\n")
    with pytest.raises(ValueError, match=r"Column 'r' of file .*too small.*line 3"):
        load_interactions(path, "u", "i", "r")
    frame = pd.DataFrame({"u": [1, 2], "i": [1, 2], "r": [Decimal(value), 1]})
    with pytest.raises(ValueError, match=r"Column 'r' of the DataFrame .*row 0"):
        load_interactions(frame, "u", "i", "r")
    ok = _csv(tmp_path, "u,i,r\n1,2,5\n1,3,0\n2,3,-0.0e5\n2,2,5e-324\n")
    loaded = load_interactions(ok, "u", "i", "r").data.toarray()
    assert_array_equal(loaded, [[5, 0], [float("5e-324"), 0]])


@pytest.mark.catalogue(
    "L04",
    input="A blank user id (CSV), a NaN item id (DataFrame)",
    outcome=(
        "``ValueError``: \"Column 'u' of file ... has 1 missing id(s), first "
        'on line 3"'
    ),
)
def test_missing_ids_are_named_with_their_row(tmp_path):
    """L04: a blank user id (CSV) or a NaN item id (DataFrame)."""
    path = _csv(tmp_path, "u,i\n1,2\n,3\n")
    with pytest.raises(ValueError, match=r"Column 'u' .* 1 missing id.*line 3"):
        load_interactions(path, "u", "i")
    frame = pd.DataFrame({"u": [1, 2], "i": [1.0, np.nan]})
    with pytest.raises(ValueError, match="Column 'i' of the DataFrame has 1 missing"):
        load_interactions(frame, "u", "i")


@pytest.mark.catalogue(
    "L05",
    input=(
        "Ids of 30 digits or ``2**64`` in a CSV; int64 and uint64 extremes "
        "and Python big integers in a DataFrame"
    ),
    outcome="Correct: every id kept exactly (CSV ids are strings)",
)
def test_huge_ids_are_kept_exactly(tmp_path):
    """L05: ids beyond int64 in a CSV, int64/uint64 extremes and big ints."""
    big_user = "9" * 30
    big_item = str(2**64)
    path = _csv(tmp_path, f"u,i\n{big_user},{big_item}\n1,3\n")
    bunch = load_interactions(path, "u", "i")
    assert list(bunch.user_ids) == ["1", big_user]
    assert list(bunch.item_ids) == [big_item, "3"]
    assert_array_equal(bunch.data.toarray(), [[0, 1], [1, 0]])
    extremes = [np.iinfo(np.int64).min, 1, np.iinfo(np.int64).max]
    bunch = load_interactions(pd.DataFrame({"u": extremes, "i": [1, 2, 3]}), "u", "i")
    assert list(bunch.user_ids) == sorted(extremes)
    unsigned = np.array([2**64 - 1, 1], dtype=np.uint64)
    bunch = load_interactions(pd.DataFrame({"u": unsigned, "i": [1, 2]}), "u", "i")
    assert list(bunch.user_ids) == [1, 2**64 - 1]
    bunch = load_interactions(pd.DataFrame({"u": [10**30, 1], "i": [1, 2]}), "u", "i")
    assert list(bunch.user_ids) == [1, 10**30]


@pytest.mark.catalogue(
    "L06",
    input="An empty file, a header without rows, a binary file",
    outcome=(
        '``ValueError``: "is empty" / "has no interactions (no rows)" / '
        '"could not be read as CSV"'
    ),
)
@pytest.mark.parametrize(
    "content, match",
    [
        ("", "is empty"),
        ("u,i\n", r"has no interactions \(no rows\)"),
        (b"\x00\xff\xfe\x00garbage", "could not be read as CSV"),
    ],
    ids=["empty-file", "header-only", "binary"],
)
def test_empty_or_unreadable_files_are_named(tmp_path, content, match):
    """L06: an empty file, a header without rows, a binary file."""
    mode = "wb" if isinstance(content, bytes) else "w"
    path = _csv(tmp_path, content, mode=mode)
    with pytest.raises(ValueError, match=match):
        load_interactions(path, "u", "i")


@pytest.mark.catalogue(
    "L07",
    input="A missing path; a directory",
    outcome=(
        '``FileNotFoundError``: "No such file"; ``ValueError``: "is a '
        'directory, not a file"'
    ),
)
def test_missing_file_or_a_directory_is_named(tmp_path):
    """L07: a path that does not exist, or a directory."""
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_interactions(tmp_path / "nope.csv", "u", "i")
    with pytest.raises(ValueError, match="is a directory, not a file"):
        load_interactions(tmp_path, "u", "i")


@pytest.mark.catalogue(
    "L08",
    input="Ids ``007``, ``7``, and ``7`` preceded by a space",
    outcome=(
        "Correct and documented: three different users (ids are read as "
        "strings, not trimmed)"
    ),
)
def test_ids_are_strings_so_leading_zeros_and_spaces_matter(tmp_path):
    """L08: "007", "7" and " 7" are three users (documented: ids are strings)."""
    path = _csv(tmp_path, "u,i\n007,1\n7,1\n 7,1\n")
    bunch = load_interactions(path, "u", "i")
    assert list(bunch.user_ids) == [" 7", "007", "7"]


@pytest.mark.catalogue(
    "L09",
    input="A UTF-8 byte-order mark, Windows line ends, ``.csv.gz``, ``.tsv``",
    outcome="Correct: read as expected",
)
def test_byte_order_mark_crlf_and_gzip_are_read(tmp_path):
    """L09: a UTF-8 BOM, Windows line ends, a gzip-compressed CSV, a TSV."""
    text = "\ufeffu,i\r\n1,2\r\n1,3\r\n"
    bom = load_interactions(_csv(tmp_path, text, name="bom.csv"), "u", "i")
    assert_array_equal(bom.data.toarray(), [[1, 1]])
    gz = tmp_path / "log.csv.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write("u,i\n1,2\n1,3\n")
    assert_array_equal(load_interactions(gz, "u", "i").data.toarray(), [[1, 1]])
    tsv = _csv(tmp_path, "u\ti\n1\t2\n", name="log.tsv")
    assert_array_equal(load_interactions(tsv, "u", "i").data.toarray(), [[1]])


@pytest.mark.catalogue(
    "L10",
    input="A DataFrame with two columns named like ``user_col``",
    outcome=("``ValueError``: \"Column(s) ['u'] appear more than once\"."),
)
def test_dataframe_with_repeated_column_names_is_rejected():
    """L10: a DataFrame with two columns called "u".

    Regression: pandas' factorize raised "factorize requires a Series ...".
    """
    frame = pd.DataFrame([[1, 2, 3]], columns=["u", "u", "i"])
    with pytest.raises(ValueError, match=r"Column\(s\) \['u'\] appear more than once"):
        load_interactions(frame, "u", "i")


@pytest.mark.catalogue(
    "L11",
    input="Duplicate rows whose values sum past float64 (``1e308 + 1e308``)",
    outcome=(
        '``ValueError``: "summing duplicate (user, item) rows overflowed float64".'
    ),
)
def test_duplicates_summing_past_float64_are_rejected():
    """L11: two finite values whose sum overflows to inf.

    Regression: the matrix silently held inf.
    """
    frame = pd.DataFrame({"u": [1, 1], "i": [1, 1], "r": [1e308, 1e308]})
    with pytest.raises(ValueError, match=r"summing duplicate .* overflowed"):
        load_interactions(frame, "u", "i", "r")


@pytest.mark.catalogue(
    "L12",
    input="Values summing to zero (``+1`` and ``-1`` for the same pair)",
    outcome="Correct: nothing stored, the user keeps an (empty) row",
)
def test_values_summing_to_zero_keep_the_user_with_an_empty_row(tmp_path):
    """L12: +1 and -1 for the same pair: nothing stored, the user is kept."""
    path = _csv(tmp_path, "u,i,r\n1,a,1\n1,a,-1\n2,b,1\n")
    bunch = load_interactions(path, "u", "i", "r")
    assert bunch.data.shape == (2, 2)
    assert bunch.data.nnz == 1
    assert_array_equal(bunch.data.toarray(), [[0, 0], [0, 1]])


@pytest.mark.catalogue(
    "L13",
    input="A non-string column name; the same column for users and items",
    outcome=(
        '``TypeError``: "user_col must be a column name (str)"; '
        '``ValueError``: "must differ"'
    ),
)
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"user_col": 0, "item_col": "i"}, TypeError, "user_col must be a column name"),
        ({"user_col": "u", "item_col": "u"}, ValueError, "must differ"),
    ],
)
def test_bad_column_arguments_are_named(kwargs, error, match):
    """L13: a non-string column name; the same column for users and items."""
    with pytest.raises(error, match=match):
        load_interactions(pd.DataFrame({"u": [1], "i": [2]}), **kwargs)


@pytest.mark.catalogue(
    "L14",
    input="A Parquet file without the column asked for; a CSV named ``.parquet``",
    outcome=(
        '``ValueError``: "Column(s) [\'x\'] not found" / "is not a readable '
        'Parquet file"; a valid Parquet file keeps its column types'
    ),
)
def test_parquet_with_missing_columns_or_not_parquet_is_named(tmp_path):
    """L14: a Parquet file without the asked column; a CSV named .parquet."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "log.parquet"
    pd.DataFrame({"u": [1, 2], "i": ["a", "b"], "r": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(ValueError, match=r"Column\(s\) \['x'\] not found"):
        load_interactions(path, "u", "x")
    bunch = load_interactions(path, "u", "i", "r")
    assert_array_equal(bunch.data.toarray(), [[1, 0], [0, 2]])
    assert list(bunch.user_ids) == [1, 2]  # Parquet keeps the column types
    fake = _csv(tmp_path, "u,i\n1,2\n", name="fake.parquet")
    with pytest.raises(ValueError, match="is not a readable Parquet file"):
        load_interactions(fake, "u", "i")


@pytest.mark.catalogue(
    "L15",
    input="A DataFrame with duplicate rows, mixed-type ids and boolean values",
    outcome="Correct: loaded (duplicates summed), the caller's DataFrame unchanged",
)
def test_loading_never_modifies_the_callers_dataframe():
    """L15: a DataFrame with duplicates, mixed ids and bool values is unchanged."""
    frame = pd.DataFrame(
        {"u": [3, 1, 3, "x"], "i": [1, 2, 1, 2], "r": [True, False, True, True]}
    )
    before = frame.copy(deep=True)
    bunch = load_interactions(frame, "u", "i", "r")
    pd.testing.assert_frame_equal(frame, before)
    assert bunch.data.sum() == 3


def _date_columns():
    days = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])
    return {
        "datetime": days,
        "timedelta": pd.to_timedelta([1, 2, 3], unit="s"),
        "tz-aware": days.tz_localize("Europe/Paris"),
        "period": pd.period_range("2020-01", periods=3, freq="M"),
        "timestamp-objects": pd.Series(list(days), dtype=object),
        "date-objects": pd.Series([d.date() for d in days], dtype=object),
    }


@pytest.mark.catalogue(
    "L17",
    input=(
        "A value column of dates, durations, tz-aware timestamps, Periods, "
        "``Timestamp`` or ``date`` objects (DataFrame or Parquet)"
    ),
    outcome=(
        "``TypeError``: \"Column 'r' of the DataFrame holds datetime64[us] values: "
        'interactions must be numbers, not dates or durations", as the estimators '
        "(E45)."
    ),
)
@pytest.mark.parametrize("kind", list(_date_columns()))
@pytest.mark.parametrize("container", ["DataFrame", "Parquet"])
def test_dates_or_durations_as_values_are_rejected(tmp_path, kind, container):
    """L17: a value column of dates, durations, tz-aware timestamps or Periods.

    Regression: they became nanoseconds or ordinals (an audit of them picked
    alpha = 8e15 and wrote a report).
    """
    frame = pd.DataFrame({"u": ["a", "b", "a"], "i": ["x", "y", "y"]})
    frame["r"] = _date_columns()[kind]
    source = frame
    if container == "Parquet":
        pytest.importorskip("pyarrow")
        if kind == "date-objects":
            frame["r"] = frame["r"].astype(object)
        source = tmp_path / "log.parquet"
        frame.to_parquet(source)
    with pytest.raises(TypeError, match=r"'r' .* must be numbers, not dates"):
        load_interactions(source, "u", "i", "r")


@pytest.mark.catalogue(
    "L18",
    input="A complex value column (``complex128`` or Python complex objects)",
    outcome=("``ValueError``: \"Column 'r' ... holds complex numbers\"."),
)
@pytest.mark.parametrize(
    "values",
    [np.array([1 + 2j, 3, 4]), np.array([1 + 2j, 3, 4], dtype=object)],
    ids=["complex128", "complex-objects"],
)
def test_complex_values_are_rejected(values):
    """L18: a complex value column. Regression: the imaginary part was
    dropped with only a ComplexWarning."""
    frame = pd.DataFrame({"u": ["a", "b", "a"], "i": ["x", "y", "y"], "r": values})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way
        with pytest.raises(ValueError, match=r"'r' .* complex numbers"):
            load_interactions(frame, "u", "i", "r")


@pytest.mark.catalogue(
    "L19",
    input="A Parquet file with corrupt data pages (valid footer)",
    outcome=(
        "``ValueError``: \"file '...' could not be read as Parquet: Unexpected end of "
        'stream", naming the file.'
    ),
)
def test_corrupt_parquet_data_pages_are_named(tmp_path):
    """L19: a Parquet file whose footer is fine but whose data pages are not.

    Regression: pyarrow's own error ("Unexpected end of stream", "Invalid
    BYTE_ARRAY value") came without the file name.
    """
    pytest.importorskip("pyarrow")
    path = tmp_path / "log.parquet"
    frame = pd.DataFrame({"u": [f"user{n:03d}" for n in range(50)], "i": ["x"] * 50})
    frame.to_parquet(path, compression=None, index=False)
    data = bytearray(path.read_bytes())
    first = data.find(b"user000")
    data[first - 4 : first] = (10**9).to_bytes(4, "little")  # a false length
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"file {str(path)!r} could not be read as"):
        load_interactions(path, "u", "i")


@pytest.mark.catalogue(
    "L20",
    input=(
        "A bad value or a missing id after a blank line and a quoted field "
        "spanning two lines"
    ),
    outcome=(
        '``ValueError`` naming the file line (the header is line 1): "line 6 is not a '
        'finite number: \'five\'" / "first on line 6"; for a DataFrame, "row 1 '
        '(counting from 0)".'
    ),
)
def test_errors_name_the_file_line(tmp_path):
    """L20: a blank line and a quoted field over two lines before the bad row.

    Regression: "row 18" was the 0-based data row; the message names the file
    line (header = line 1), counting blank lines and lines inside quotes.
    """
    head = 'u,i,r\n1,a,5\n\n"multi\nline",b,4\n'
    path = _csv(tmp_path, head + "2,c,five\n")
    with pytest.raises(ValueError, match="line 6 is not a finite number: 'five'"):
        load_interactions(path, "u", "i", "r")
    path = _csv(tmp_path, head + ",c,3\n", name="blank.csv")
    with pytest.raises(ValueError, match=r"1 missing id.*first on line 6"):
        load_interactions(path, "u", "i", "r")
    frame = pd.DataFrame({"u": [1, 2, 3], "i": [1, None, 2]}, index=[10, 20, 30])
    with pytest.raises(ValueError, match=r"row 1 \(counting from 0\)"):
        load_interactions(frame, "u", "i")


@pytest.mark.catalogue(
    "L21",
    input="Ids ``NA``, ``null``, ``None``, ``n/a``, ``NaN``, ``#N/A`` in a CSV",
    outcome=(
        "Correct: ids like any other (strings, as documented); only an empty field is "
        "a missing id."
    ),
)
def test_na_like_ids_are_strings(tmp_path):
    """L21: ids "NA", "null", "None", "n/a", "NaN" in a CSV are ids, as
    documented (ids are strings); only an empty field is a missing id.

    Regression: pandas counted them as missing ids.
    """
    words = ["NA", "null", "None", "n/a", "NaN", "nan", "#N/A"]
    text = "u,i\n" + "".join(f"{w},{w}\n" for w in words) + "NA,null\n"
    bunch = load_interactions(_csv(tmp_path, text), "u", "i")
    assert sorted(bunch.user_ids) == sorted(words)
    assert sorted(bunch.item_ids) == sorted(words)
    X = pd.DataFrame(bunch.data.toarray(), bunch.user_ids, bunch.item_ids)
    assert X.loc["NA", "NA"] == 1 and X.loc["NA", "null"] == 1
    assert X.to_numpy().sum() == len(words) + 1


@pytest.mark.catalogue(
    "L22",
    input=(
        "A DataFrame with integer column names (``read_csv(header=None)``), "
        'loaded with ``"0"``, ``"1"``'
    ),
    outcome=(
        'Correct: ``"0"`` names column ``0``; a missing column is reported with the '
        'real names, "it has columns [0, 1, 2]".'
    ),
)
def test_dataframe_with_integer_column_names_is_loaded():
    """L22: a DataFrame from ``read_csv(header=None)`` (columns 0, 1, 2).

    Regression: "Column(s) ['0', '1'] not found ...; it has columns ['0',
    '1']": the names were printed as strings, so the message contradicted
    itself, and there was no way to load such a frame.
    """
    frame = pd.DataFrame([["a", "x", 2.0], ["b", "y", 3.0], ["a", "y", 1.0]])
    bunch = load_interactions(frame, "0", "1", "2")
    assert_array_equal(bunch.data.toarray(), [[2, 1], [0, 3]])
    assert list(bunch.user_ids) == ["a", "b"]
    with pytest.raises(ValueError, match=r"\['5'\] not found .* columns \[0, 1, 2\]"):
        load_interactions(frame, "0", "5")
