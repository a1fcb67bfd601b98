"""Reliability catalogue, input files and the command line under faults.

Part 1 (``L`` cases): what :func:`skcosim.datasets.load_interactions` (the
reader behind ``skcosim audit``) does with broken logs. Part 2 (``C`` cases):
``skcosim`` run in-process through :func:`skcosim.cli.main` with faults
injected: interrupted runs leave no partial files, unwritable output
directories give a one-line message and a non-zero exit status. One test per
row of ``docs/reliability.rst``.
"""

import errno
import gzip
import json
import os
import re
import signal
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from skcosim.cli import _models, _output, _report, main
from skcosim.datasets import load_interactions, make_clustered_interactions


def _csv(tmp_path, text, name="log.csv", mode="w"):
    path = tmp_path / name
    with open(path, mode) as handle:
        handle.write(text)
    return path


# == Part 1: interaction logs =====================================================


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


def test_duplicate_rows_are_summed(tmp_path):
    """L02: duplicate (user, item) rows add up (counts, or summed ratings)."""
    path = _csv(tmp_path, "u,i,r\n1,a,4\n1,a,5\n2,b,1\n1,a,1\n")
    counts = load_interactions(path, "u", "i")
    assert_array_equal(counts.data.toarray(), [[3, 0], [0, 1]])
    sums = load_interactions(path, "u", "i", "r")
    assert_array_equal(sums.data.toarray(), [[10, 0], [0, 1]])
    assert list(sums.user_ids) == ["1", "2"] and list(sums.item_ids) == ["a", "b"]


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


def test_missing_ids_are_named_with_their_row(tmp_path):
    """L04: a blank user id (CSV) or a NaN item id (DataFrame)."""
    path = _csv(tmp_path, "u,i\n1,2\n,3\n")
    with pytest.raises(ValueError, match=r"Column 'u' .* 1 missing id.*line 3"):
        load_interactions(path, "u", "i")
    frame = pd.DataFrame({"u": [1, 2], "i": [1.0, np.nan]})
    with pytest.raises(ValueError, match="Column 'i' of the DataFrame has 1 missing"):
        load_interactions(frame, "u", "i")


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


def test_missing_file_or_a_directory_is_named(tmp_path):
    """L07: a path that does not exist, or a directory."""
    with pytest.raises(FileNotFoundError, match="No such file"):
        load_interactions(tmp_path / "nope.csv", "u", "i")
    with pytest.raises(ValueError, match="is a directory, not a file"):
        load_interactions(tmp_path, "u", "i")


def test_ids_are_strings_so_leading_zeros_and_spaces_matter(tmp_path):
    """L08: "007", "7" and " 7" are three users (documented: ids are strings)."""
    path = _csv(tmp_path, "u,i\n007,1\n7,1\n 7,1\n")
    bunch = load_interactions(path, "u", "i")
    assert list(bunch.user_ids) == [" 7", "007", "7"]


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


def test_dataframe_with_repeated_column_names_is_rejected():
    """L10: a DataFrame with two columns called "u".

    Regression: pandas' factorize raised "factorize requires a Series ...".
    """
    frame = pd.DataFrame([[1, 2, 3]], columns=["u", "u", "i"])
    with pytest.raises(ValueError, match=r"Column\(s\) \['u'\] appear more than once"):
        load_interactions(frame, "u", "i")


def test_duplicates_summing_past_float64_are_rejected():
    """L11: two finite values whose sum overflows to inf.

    Regression: the matrix silently held inf.
    """
    frame = pd.DataFrame({"u": [1, 1], "i": [1, 1], "r": [1e308, 1e308]})
    with pytest.raises(ValueError, match=r"summing duplicate .* overflowed"):
        load_interactions(frame, "u", "i", "r")


def test_values_summing_to_zero_keep_the_user_with_an_empty_row(tmp_path):
    """L12: +1 and -1 for the same pair: nothing stored, the user is kept."""
    path = _csv(tmp_path, "u,i,r\n1,a,1\n1,a,-1\n2,b,1\n")
    bunch = load_interactions(path, "u", "i", "r")
    assert bunch.data.shape == (2, 2)
    assert bunch.data.nnz == 1
    assert_array_equal(bunch.data.toarray(), [[0, 0], [0, 1]])


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


def test_loading_never_modifies_the_callers_dataframe():
    """L15: a DataFrame with duplicates, mixed ids and bool values is unchanged."""
    frame = pd.DataFrame(
        {"u": [3, 1, 3, "x"], "i": [1, 2, 1, 2], "r": [True, False, True, True]}
    )
    before = frame.copy(deep=True)
    bunch = load_interactions(frame, "u", "i", "r")
    pd.testing.assert_frame_equal(frame, before)
    assert bunch.data.sum() == 3


@pytest.mark.parametrize(
    "text, line, n_fields",
    [
        ("user,item,rating\nu1,i1,4,5\nu2,i2,3\n", 2, 4),  # a decimal comma
        ("user,item,rating\nu2,i2,3\nu1,i1,4,5\n", 3, 4),
        ("user,item,rating\nu2,i2,3\nu1,i1\n", 3, 2),
        ("user,item,rating\nu2,i2,3,\n", 2, 4),  # a trailing delimiter
    ],
    ids=["first-row", "later-row", "short-row", "trailing-comma"],
)
def test_rows_with_more_or_fewer_fields_than_the_header_are_named(
    tmp_path, capsys, text, line, n_fields
):
    """L16: a CSV row with more (or fewer) fields than the header.

    Regression: the extra field was dropped (``u1,i1,4,5`` read as rating 4)
    and the audit went on, exit 0.
    """
    path = _csv(tmp_path, text)
    match = f"line {line} has {n_fields} fields, the header has 3"
    with pytest.raises(ValueError, match=match):
        load_interactions(path, "user", "item", "rating")
    with pytest.raises(ValueError, match=match):
        load_interactions(path, "user", "item")  # also when rating is not used
    out = tmp_path / "out"
    argv = ["audit", str(path), "--user-col", "user", "--item-col", "item"]
    assert main([*argv, "--value-col", "rating", "--out", str(out)]) == 1
    assert match in _one_line_error(capsys)
    assert not out.exists() or _files(out) == []


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


def test_simulated_data_with_an_extreme_popularity_exponent_is_exact():
    """D01: make_clustered_interactions(popularity_exponent=400).

    Weights ``(r + 1) ** -400`` underflow to 0 from rank 6 on. The draw must
    still follow the weights: with one cluster, every user gets exactly the
    ``n_u`` most popular items. Regression: log(0) = -inf raised a
    RuntimeWarning and left the order among the underflowed items to the
    tie handling of the partial sort.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        bunch = make_clustered_interactions(
            300, 10, 1, n_interactions=8, popularity_exponent=400, random_state=0
        )
    X = bunch.data.toarray()
    n_u = X.sum(axis=1).astype(int)
    assert n_u.max() > 6  # some users reach the underflowed ranks
    expected = (np.arange(10) < n_u[:, None]).astype(float)
    assert_array_equal(X, expected)


# == Part 2: the command line under faults =========================================


@pytest.fixture
def log_csv(tmp_path):
    """A small interaction log with string item ids and a duplicate row."""
    rng = np.random.RandomState(0)
    users, items = np.nonzero(rng.rand(60, 12) < 0.3)
    frame = pd.DataFrame({"user": users, "item": [f"it{j}" for j in items]})
    frame = pd.concat([frame, frame.iloc[:1]])  # one duplicate (user, item) row
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def fast_models(monkeypatch):
    """Only two cheap models in the comparison: fault tests need no more."""
    original = _models.default_models

    def two_models(*args, **kwargs):
        specs = original(*args, **kwargs)
        return [specs[0], specs[-1]]

    monkeypatch.setattr(_models, "default_models", two_models)


def _audit(log, out, *extra):
    return main(
        [
            "audit",
            str(log),
            "--user-col",
            "user",
            "--item-col",
            "item",
            "--out",
            str(out),
            "--n-components",
            "3",
            "--no-progress",
            *extra,
        ]
    )


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def _files(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def test_audit_end_to_end_writes_a_complete_report_without_nan(
    log_csv, tmp_path, capsys
):
    """C01: a normal audit (all models): the three files, valid JSON, no NaN."""
    out = tmp_path / "new" / "nested"  # missing directories are created
    assert _audit(log_csv, out) == 0
    names = _files(out)
    assert {"audit.md", "audit.json"} <= set(names)
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".")]
    text = (out / "audit.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    payload = json.loads(text)
    log = pd.read_csv(log_csv)
    assert payload["data"]["n_users"] == log["user"].nunique()
    # The duplicate row is summed, not a second interaction.
    assert payload["data"]["n_nonzero"] == len(log) - 1
    for row in payload["models"]:
        assert 0.0 <= row["gauge_stability"] <= 1.0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("fault", [KeyboardInterrupt, RuntimeError])
def test_a_run_interrupted_before_writing_leaves_no_file(
    log_csv, tmp_path, monkeypatch, capsys, fast_models, fault
):
    """C02: Ctrl-C (exit 130) or a crash in the last step: nothing written."""

    def broken(*args, **kwargs):
        raise fault("injected")

    monkeypatch.setattr(_report, "json_report", broken)
    out = tmp_path / "out"
    if fault is KeyboardInterrupt:
        assert _audit(log_csv, out) == 130
        assert "interrupted" in _one_line_error(capsys)
    else:
        with pytest.raises(RuntimeError, match="injected"):
            _audit(log_csv, out)
    assert _files(out) == []


@pytest.mark.parametrize("fault", ["disk-full", "interrupt"])
def test_a_failure_while_writing_keeps_the_previous_report_and_no_temp_files(
    log_csv, tmp_path, monkeypatch, capsys, fast_models, fault
):
    """C03: the disk fills up (or Ctrl-C) while the second file is written.

    The previous report stays whole, no temporary file is left behind.
    """
    out = tmp_path / "out"
    assert _audit(log_csv, out) == 0
    before = {name: (out / name).read_bytes() for name in _files(out)}
    capsys.readouterr()

    real_fdopen = os.fdopen
    calls = []

    def failing_fdopen(fd, *args, **kwargs):
        calls.append(fd)
        if len(calls) == 2:
            os.close(fd)
            if fault == "interrupt":
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", failing_fdopen)
    status = _audit(log_csv, out, "--seed", "1")
    monkeypatch.undo()
    if fault == "interrupt":
        assert status == 130
    else:
        assert status == 1
        assert "No space left on device" in _one_line_error(capsys)
    assert _files(out) == sorted(before)
    for name, content in before.items():
        assert (out / name).read_bytes() == content


def test_output_path_that_is_a_file_gives_a_one_line_error(log_csv, tmp_path, capsys):
    """C04: --out names an existing file, or a directory below a file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    for out in (blocker, blocker / "sub"):
        assert _audit(log_csv, out) == 1
        err = _one_line_error(capsys)
        assert "cannot write to output directory" in err
        assert str(out) in err
    assert blocker.read_text() == "not a directory"


def test_read_only_output_directory_gives_a_one_line_error(
    log_csv, tmp_path, capsys, monkeypatch
):
    """C05: an output directory where files cannot be created (EACCES/EROFS).

    Simulated by making file creation fail the way a read-only directory or
    file system does, so that the test also means something when run as root
    (root ignores permission bits).
    """
    out = tmp_path / "out"
    out.mkdir()
    for code, reason in [
        (errno.EACCES, "Permission denied"),
        (errno.EROFS, "Read-only file system"),
    ]:

        def refuse(*args, _code=code, _reason=reason, **kwargs):
            raise OSError(_code, _reason)

        monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
        assert _audit(log_csv, out) == 1
        err = _one_line_error(capsys)
        assert f"cannot write to output directory {str(out)!r}: {reason}" in err
    assert _files(out) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root ignores permission bits; C05 covers it by simulation",
)
def test_really_read_only_output_directory_gives_a_one_line_error(
    log_csv, tmp_path, capsys
):
    """C05b: chmod 0o500 on the output directory (non-root runs)."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert _audit(log_csv, out) == 1
        assert "Permission denied" in _one_line_error(capsys)
    finally:
        out.chmod(0o700)


@pytest.mark.parametrize(
    "log_text, args, match",
    [
        ("user,item\n1,a\n", ["--item-col", "movie"], r"\['movie'\] not found"),
        ("user,item,r\n1,a,x\n2,b,1\n", ["--value-col", "r"], "not a finite number"),
        ("user,item\n1,a\n2,a\n", [], "1 distinct item"),
        ("user,item,r\n1,a,0\n2,b,0\n", ["--value-col", "r"], "no nonzero"),
        ("", [], "is empty"),
    ],
    ids=["missing-column", "non-numeric", "one-item", "all-zero", "empty"],
)
def test_bad_logs_give_a_one_line_error_and_no_report(
    tmp_path, capsys, log_text, args, match
):
    """C06: the audit of a broken log: exit 1, one line naming the problem."""
    path = _csv(tmp_path, log_text)
    out = tmp_path / "out"
    argv = ["audit", str(path), "--user-col", "user", "--item-col", "item"]
    if "--item-col" in args:
        argv = argv[:-2]
    status = main([*argv, *args, "--out", str(out), "--no-progress"])
    assert status == 1
    err = _one_line_error(capsys)
    assert err.startswith("skcosim audit: error:")
    assert re.search(match, err), err
    assert not out.exists() or _files(out) == []


def test_missing_log_file_gives_a_one_line_error(tmp_path, capsys):
    """C07: the log path does not exist."""
    status = main(
        [
            "audit",
            str(tmp_path / "nope.csv"),
            "--user-col",
            "u",
            "--item-col",
            "i",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert status == 1
    assert "No such file" in _one_line_error(capsys)


@pytest.mark.parametrize(
    "args",
    [
        ["--n-components", "0"],
        ["--n-components", "three"],
        ["--alpha", "nan"],
        ["--alpha", "-1"],
        ["--alpha", "inf"],
    ],
)
def test_bad_numeric_options_are_usage_errors(log_csv, tmp_path, capsys, args):
    """C08: non-positive or non-numeric --n-components / --alpha: exit 2."""
    status = main(
        [
            "audit",
            str(log_csv),
            "--user-col",
            "user",
            "--item-col",
            "item",
            "--out",
            str(tmp_path / "out"),
            *args,
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "expected a positive" in err
    assert not (tmp_path / "out").exists()


def test_huge_ids_survive_into_the_audit_report(tmp_path, capsys, fast_models):
    """C09: 30-digit user ids and item ids beyond uint64, end to end."""
    rng = np.random.RandomState(2)
    users, items = np.nonzero(rng.rand(40, 8) < 0.4)
    big_items = [str(2**70 + j) for j in range(8)]
    frame = pd.DataFrame(
        {
            "user": [f"{10**29 + int(u)}" for u in users],
            "item": [big_items[j] for j in items],
        }
    )
    path = tmp_path / "huge.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    assert _audit(path, out) == 0
    payload = json.loads((out / "audit.json").read_text())
    listed = {entry["item"] for entry in payload["popular_item_neighbors"]}
    assert listed <= set(big_items) and len(listed) == 8


@pytest.mark.parametrize("fault", [KeyboardInterrupt, MemoryError])
def test_reproduce_interrupted_mid_run_leaves_no_file(
    tmp_path, monkeypatch, capsys, fault
):
    """C10: ``skcosim reproduce`` stopped while fitting (Ctrl-C, out of memory)."""

    def broken(*args, **kwargs):
        raise fault()

    monkeypatch.setattr(_models, "compare_models", broken)
    out = tmp_path / "out"
    argv = ["reproduce", "--quick", "--out", str(out), "--no-progress"]
    if fault is KeyboardInterrupt:
        assert main(argv) == 130
        assert "interrupted" in _one_line_error(capsys)
    else:
        with pytest.raises(MemoryError):
            main(argv)
    assert _files(out) == []


def test_reproduce_into_an_unwritable_directory_fails_before_any_work(
    tmp_path, monkeypatch, capsys
):
    """C11: ``skcosim reproduce --out`` below a file: one line, nothing computed."""
    blocker = tmp_path / "file"
    blocker.write_text("x")

    def must_not_run(*args, **kwargs):
        raise AssertionError("simulated data before checking --out")

    monkeypatch.setattr("skcosim.datasets.make_clustered_interactions", must_not_run)
    assert main(["reproduce", "--quick", "--out", str(blocker / "out")]) == 1
    assert "cannot write to output directory" in _one_line_error(capsys)


def test_two_audits_with_the_same_seed_write_the_same_report(
    log_csv, tmp_path, capsys, fast_models
):
    """C12: determinism end to end: same log, same seed, same numbers."""

    def numbers(out):
        payload = json.loads((out / "audit.json").read_text())
        for row in payload["models"]:
            row.pop("fit_seconds", None)  # wall-clock time, the only variable
        # Wall-clock seconds per step: the steps must match, not their times.
        payload["step_seconds"] = sorted(payload["step_seconds"])
        payload["settings"].pop("path", None)
        return payload

    assert _audit(log_csv, tmp_path / "a") == 0
    assert _audit(log_csv, tmp_path / "b") == 0
    assert numbers(tmp_path / "a") == numbers(tmp_path / "b")


def test_a_target_that_is_a_directory_leaves_the_previous_report_whole(
    log_csv, tmp_path, capsys, fast_models
):
    """C13: ``audit.json`` in --out is a directory (the report cannot be written).

    Regression: ``audit.md`` was replaced before the JSON failed, leaving a
    report without its JSON and figure.
    """
    out = tmp_path / "out"
    (out / "audit.json").mkdir(parents=True)
    (out / "audit.md").write_text("previous report")
    assert _audit(log_csv, out) == 1
    err = _one_line_error(capsys)
    assert f"cannot write {str(out / 'audit.json')!r}: it is a directory" in err
    assert (out / "audit.md").read_text() == "previous report"
    assert _files(out) == ["audit.json", "audit.md"]


def test_audit_of_a_small_sparse_log_completes(tmp_path, capsys):
    """C14: an audit of a valid, small, uniformly sparse log (100 x 30 items).

    Regression: it stopped with "the weight-decay start is zero" (alpha from
    the full log cut the cosine model's start on the resample halves).
    """
    rng = np.random.RandomState(1)
    users, items = np.nonzero(rng.rand(100, 30) < 0.05)
    path = tmp_path / "small.csv"
    pd.DataFrame({"user": users, "item": items}).to_csv(path, index=False)
    status = _audit(path, tmp_path / "out", "--n-components", "5")
    assert status == 0, capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux)")
def test_audit_of_a_pipe_reads_it_once(log_csv, tmp_path, capsys, fast_models):
    """C15: ``skcosim audit <(cat log.csv)``, ``/dev/stdin`` or a FIFO.

    Regression: the file was opened twice (header, then rows), so a pipe came
    back empty the second time ("is empty" or a parser error) and a FIFO hung.
    """
    content = log_csv.read_bytes()
    assert len(content) < 16384  # fits in the pipe buffer: written up front
    read_end, write_end = os.pipe()
    os.write(write_end, content)
    os.close(write_end)
    try:
        assert _audit(f"/dev/fd/{read_end}", tmp_path / "pipe") == 0
    finally:
        os.close(read_end)
    expected = json.loads((tmp_path / "pipe" / "audit.json").read_text())
    assert expected["data"]["n_nonzero"] > 0

    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as handle:  # blocks until the reader opens it
            handle.write(content)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()

    def timeout(*args):
        raise TimeoutError("the FIFO was opened a second time: no writer")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    try:
        assert _audit(fifo, tmp_path / "fifo") == 0
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    thread.join(5)
    payload = json.loads((tmp_path / "fifo" / "audit.json").read_text())
    assert payload["data"] == expected["data"]


def test_audit_of_values_too_small_to_square_is_an_error(tmp_path, capsys):
    """C16: an audit of a log whose values are all ``1e-200``.

    Regression: every loss and stability came out 0.000 (``X^T X``
    underflows to zero), with no word. Values too large are refused likewise.
    """
    rng = np.random.RandomState(0)
    users, items = np.nonzero(rng.rand(30, 8) < 0.4)
    for value, match in [(1e-200, "too small"), (1e300, "too large")]:
        frame = pd.DataFrame({"user": users, "item": items, "r": value})
        path = tmp_path / f"log{value}.csv"
        frame.to_csv(path, index=False)
        out = tmp_path / "out"
        assert _audit(path, out, "--value-col", "r") == 1
        err = _one_line_error(capsys)
        assert match in err and "Rescale X" in err
        assert not out.exists() or _files(out) == []


def test_parquet_ids_that_json_cannot_hold_are_written_as_text(
    tmp_path, capsys, fast_models
):
    """C17: a Parquet log with Timestamp user ids and bytes item ids.

    Regression: the whole audit ran, then "Object of type Timestamp is not
    JSON serializable" and no report.
    """
    pytest.importorskip("pyarrow")
    rng = np.random.RandomState(0)
    users, items = np.nonzero(rng.rand(30, 6) < 0.5)
    frame = pd.DataFrame(
        {
            "user": pd.Timestamp("2024-01-01") + pd.to_timedelta(users, unit="D"),
            "item": [f"it\u00e9m{j}".encode() for j in items],
        }
    )
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    out = tmp_path / "out"
    assert _audit(path, out) == 0
    payload = json.loads((out / "audit.json").read_text())
    listed = {entry["item"] for entry in payload["popular_item_neighbors"]}
    assert listed == {f"it\u00e9m{j}" for j in range(6)}
    assert "`it\u00e9m0`" in (out / "audit.md").read_text()


def test_ids_with_pipes_backticks_and_line_breaks_keep_the_tables_whole(
    tmp_path, capsys, fast_models
):
    """C18: item ids containing ``|``, a backtick, a line break.

    Regression: the ids went into the Markdown verbatim, so a pipe added a
    cell, a backtick ended the code span and a line break split the row.
    Every table row now has as many cells as the header; the JSON keeps the
    ids exactly.
    """
    names = ["a|b", "tick`s", "two\nlines", "``x``", " pad ", "plain"]
    rng = np.random.RandomState(3)
    users, items = np.nonzero(rng.rand(40, len(names)) < 0.5)
    frame = pd.DataFrame({"user": users, "item": [names[j] for j in items]})
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)  # quotes the id with a line break
    out = tmp_path / "out"
    assert _audit(path, out) == 0
    payload = json.loads((out / "audit.json").read_text())
    assert {e["item"] for e in payload["popular_item_neighbors"]} == set(names)
    lines = (out / "audit.md").read_text().split("\n")
    tables = [ln for ln in lines if ln.startswith("| rank")]
    assert len(tables) == len(names)
    width = len(re.split(r"(?<!\\)\|", tables[0]))
    rows = [ln for ln in lines if re.match(r"\| \d+ \|", ln)]
    assert len(rows) == len(names) * (len(names) - 1)
    for row in rows:
        assert len(re.split(r"(?<!\\)\|", row)) == width, row
    headings = [ln for ln in lines if ln.startswith("### item")]
    assert "### item `two\\nlines`" in "\n".join(headings)
    assert "### item ``` ``x`` ```" in "\n".join(headings)


@pytest.mark.parametrize(
    "args, match",
    [
        (["--alpha", "1e160"], "whose square is finite"),
        (["--seed", "-1"], "expected an integer from 0 to 4294967295"),
        (["--seed", "4294967296"], "expected an integer from 0 to 4294967295"),
    ],
)
def test_alpha_and_seed_out_of_range_are_usage_errors(
    log_csv, tmp_path, capsys, args, match
):
    """C19: ``--alpha 1e160`` (its square overflows), ``--seed -1`` or
    ``--seed 4294967296``.

    Regression: an OverflowError traceback from inside, or, after loading
    the data, errors naming internal parameters (``random_state``).
    """
    out = tmp_path / "out"
    argv = ["audit", str(log_csv), "--user-col", "user", "--item-col", "item"]
    assert main([*argv, "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert match in err and args[0] in err
    assert not out.exists()


def test_audit_of_a_single_user_names_the_data(tmp_path, capsys):
    """C20: a log with a single user.

    Regression: after the models were fitted, "subsample=0.5 of 1 samples
    leaves no sample to fit on", an internal parameter.
    """
    path = _csv(tmp_path, "user,item\nu,a\nu,b\nu,c\n")
    assert _audit(path, tmp_path / "out") == 1
    err = _one_line_error(capsys)
    assert "has 1 distinct user(s)" in err and "subsample" not in err


def test_sigterm_while_writing_keeps_the_previous_report_and_no_temp_files(
    log_csv, tmp_path, monkeypatch, capsys, fast_models
):
    """C21: SIGTERM arrives while the second file of the report is written.

    Regression: the default action killed the process on the spot, leaving
    ``.audit.*.tmp`` files next to the (intact) previous report. SIGTERM is
    now handled as Ctrl-C is: cleanup, "terminated", exit status 143.
    """
    out = tmp_path / "out"
    assert _audit(log_csv, out) == 0
    before = {name: (out / name).read_bytes() for name in _files(out)}
    capsys.readouterr()
    real_fdopen = os.fdopen
    calls = []

    def fdopen_then_sigterm(fd, *args, **kwargs):
        calls.append(fd)
        if len(calls) == 2:
            # Without a handler, SIGTERM would end the test run itself.
            assert callable(signal.getsignal(signal.SIGTERM)), "SIGTERM kills"
            os.kill(os.getpid(), signal.SIGTERM)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", fdopen_then_sigterm)
    status = _audit(log_csv, out, "--seed", "1")
    monkeypatch.undo()
    assert status == 143
    assert "terminated" in _one_line_error(capsys)
    assert _files(out) == sorted(before)
    for name, content in before.items():
        assert (out / name).read_bytes() == content
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


class _ClosedPipe:
    """Standard output whose reader has gone (``skcosim audit ... | true``)."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        pass


def test_closed_standard_output_is_a_quiet_success(
    log_csv, tmp_path, monkeypatch, capsys, fast_models
):
    """C22: ``skcosim audit ... | true``: standard output closed early.

    Regression: the report was written, then exit 1 with "Broken pipe".
    """
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    out = tmp_path / "out"
    assert _audit(log_csv, out) == 0
    assert capsys.readouterr().err == ""
    assert {"audit.md", "audit.json"} <= set(_files(out))


def test_a_run_without_a_figure_removes_the_previous_runs_figure(
    log_csv, tmp_path, monkeypatch, capsys, fast_models
):
    """C23: a second audit into the same ``--out``, without matplotlib.

    Regression: the first run's ``similarities.png`` stayed beside the new
    report, as if it were its figure.
    """
    out = tmp_path / "out"
    out.mkdir()
    (out / "similarities.png").write_bytes(b"an earlier run's figure")
    monkeypatch.setattr("skcosim.cli._figure.has_matplotlib", lambda: False)
    assert _audit(log_csv, out) == 0
    assert _files(out) == ["audit.json", "audit.md"]
    assert json.loads((out / "audit.json").read_text())["figure"] is None


def test_only_user_errors_are_one_line_messages(
    log_csv, tmp_path, monkeypatch, capsys, fast_models
):
    """C24: a ValueError or TypeError raised by a bug inside the audit,
    against the same errors from the user's data.

    Regression: the command line caught every ValueError, TypeError and
    ImportError as "bad input": a bug printed as a one-line user error,
    exit 1, no traceback. User errors now have their own type
    (``CommandError``); a bug propagates with its traceback.
    """
    for error in (ValueError, TypeError, ImportError):

        def broken(*args, _error=error, **kwargs):
            raise _error("a bug in the comparison")

        monkeypatch.setattr(_models, "compare_models", broken)
        with pytest.raises(error, match="a bug in the comparison"):
            _audit(log_csv, tmp_path / "out")
    monkeypatch.undo()
    path = _csv(tmp_path, "user,item,r\n1,a,x\n2,b,1\n")
    assert _audit(path, tmp_path / "out", "--value-col", "r") == 1
    assert "not a finite number" in _one_line_error(capsys)


def test_writing_a_report_never_changes_the_process_umask(tmp_path, monkeypatch):
    """C25: the report's files get the mode ``open()`` gives, and the process
    umask is never touched.

    Regression: ``_report._umask()`` set the umask to 0 for a moment to read
    it, which races with other threads creating files.
    """
    mask = os.umask(0o022)
    os.umask(mask)

    def no_umask(*args):
        raise AssertionError("os.umask called while writing")

    monkeypatch.setattr(os, "umask", no_umask)
    written = _output.write_atomic({tmp_path / "a.md": "x", tmp_path / "b.bin": b"y"})
    monkeypatch.undo()
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert _files(tmp_path) == ["a.md", "b.bin"]


def test_a_large_log_is_announced(log_csv, tmp_path, monkeypatch, capsys, fast_models):
    """C26: a log of many distinct users and items.

    Regression: 20,000 distinct ids in a 435 KB log ran for minutes without a
    word (the cosine-trained model costs users x items). The audit now says
    so up front on standard error (the threshold is lowered here).
    """
    monkeypatch.setattr("skcosim.cli._settings.AUDIT_LARGE_CELLS", 100)
    assert _audit(log_csv, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert "users x 12 items" in err and "several minutes" in err
