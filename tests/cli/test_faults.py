"""``skcosim`` run in-process through :func:`skcosim.cli.main` under faults.

Faults are injected by monkeypatching; reports are written atomically, so
a failed run leaves the previous report whole and no temporary file.
"""

import errno
import json
import os
import re
import signal
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skcosim.cli import _models, _output, _report, main
from skcosim.datasets import load_interactions

from .._logs import _csv


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


@pytest.mark.catalogue(
    "C01",
    input="A normal ``skcosim audit`` into a missing nested directory",
    outcome=(
        "Correct: the directory is created; ``audit.md`` and ``audit.json`` "
        "(valid JSON without NaN or Infinity) are written, no temporary "
        "file is left, the duplicate row is counted once"
    ),
)
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
        for key in ("gauge_stability", "resample_stability"):
            if row[key] is None:  # a half kept one component: not available
                assert row["not_available"][key] == "fewer than 2 effective components"
            else:
                assert 0.0 <= row[key] <= 1.0
    assert "wrote" in capsys.readouterr().out


@pytest.mark.catalogue(
    "C02",
    input="Ctrl-C or a crash in the step before writing",
    outcome=(
        'Exit status 130 and "interrupted" (Ctrl-C), or the exception; the '
        "output directory, which the run would have created, does not exist"
    ),
)
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
    assert not out.exists()  # created by the run, removed


@pytest.mark.catalogue(
    "C03",
    input=(
        "The disk fills up (``ENOSPC``) or Ctrl-C while the second file is "
        "written, over an existing report"
    ),
    outcome=(
        "Exit status 1 with the one-line reason (or 130); the previous "
        "report is unchanged, byte for byte, and no temporary file remains"
    ),
)
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


@pytest.mark.catalogue(
    "C04",
    input="``--out`` is an existing file, or a directory below a file",
    outcome="Exit status 1, one line: \"cannot write to output directory '...': ...\"",
)
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


@pytest.mark.catalogue(
    "C05",
    input=(
        "An output directory where files cannot be created (``EACCES``, "
        "``EROFS``; simulated, since root ignores permission bits; C05b "
        "uses a real ``chmod 0o500`` when not root)"
    ),
    outcome=(
        "Exit status 1, one line: \"cannot write to output directory '...': "
        'Permission denied" / "Read-only file system"; nothing written'
    ),
)
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


@pytest.mark.catalogue("C05b", part_of="C05")
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


@pytest.mark.catalogue(
    "C06",
    input=(
        "A log with a missing column, a non-numeric value, one item, only "
        "zero values, or an empty file"
    ),
    outcome=(
        'Exit status 1, one line "skcosim audit: error: ..." naming the '
        "problem; no report"
    ),
)
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


@pytest.mark.catalogue(
    "C07",
    input="A log path that does not exist",
    outcome='Exit status 1, one line: "No such file"',
)
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


@pytest.mark.catalogue(
    "C08",
    input="``--n-components`` 0 or ``three``; ``--alpha`` NaN, -1 or inf",
    outcome=(
        'Exit status 2 (usage error): "expected a positive integer / '
        'number"; nothing created'
    ),
)
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


@pytest.mark.catalogue(
    "C09",
    input="30-digit user ids and item ids beyond ``2**64``",
    outcome="Correct: the ids appear exactly in the report's neighbour lists",
)
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


@pytest.mark.catalogue(
    "C10",
    input=(
        "``skcosim reproduce --quick`` stopped while fitting (Ctrl-C, or a "
        "``MemoryError``)"
    ),
    outcome=(
        'Exit status 130 and "interrupted" (Ctrl-C), or the exception; the '
        "output directory, which the run would have created, does not exist"
    ),
)
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
    assert not out.exists()  # created by the run, removed


@pytest.mark.catalogue(
    "C11",
    input="``skcosim reproduce --out`` below a file",
    outcome="Exit status 1, one line, before any data is simulated",
)
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


@pytest.mark.catalogue(
    "C12",
    input="Two ``skcosim audit`` runs on the same log with the same seed",
    outcome="Correct: the same report (every number except the fit times)",
)
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


@pytest.mark.catalogue(
    "C13",
    input=(
        "A directory named ``audit.json`` in ``--out``, next to an earlier ``audit.md``"
    ),
    outcome=(
        "Exit status 1, one line: \"cannot write '.../audit.json': it is a "
        'directory"; the earlier ``audit.md`` is unchanged and no temporary file '
        "remains."
    ),
)
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


@pytest.mark.catalogue(
    "C14",
    input=(
        "``skcosim audit`` of a valid, small, uniformly sparse log (100 "
        "users x 30 items, 5 % dense, ``--n-components 5``)"
    ),
    outcome=(
        'Correct: the audit completes. It stopped with "the weight-decay '
        'start is zero" on 7 of 15 such logs (the random halves of '
        "``resample_stability`` have smaller singular values). Fixed: the "
        "default ``alpha`` is at most half the largest singular value, and "
        'a cosine model that cannot be fitted gets "n/a" scores and a note'
    ),
)
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


@pytest.mark.catalogue(
    "C15",
    input=(
        "``skcosim audit`` of a pipe (``<(cat log.csv)``, ``/dev/stdin``) or of a FIFO"
    ),
    outcome=("Correct: the report of the same log."),
)
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


@pytest.mark.catalogue(
    "C16",
    input="``skcosim audit`` of a log whose values are all ``1e-200`` (or ``1e300``)",
    outcome=(
        'Exit status 1, one line: "X is too small to fit in float64 ... Rescale X" (or '
        '"too large"), before any fit (E56, E18).'
    ),
)
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


@pytest.mark.catalogue(
    "C17",
    input="A Parquet log with ``Timestamp`` user ids and ``bytes`` item ids",
    outcome=(
        "Correct: the report, with such ids written as text (bytes decoded as UTF-8)."
    ),
)
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


@pytest.mark.catalogue(
    "C18",
    input="Item ids containing ``|``, a backtick, a line break, leading spaces",
    outcome=(
        "Correct: every Markdown table row has as many cells as its header (``\\|`` in "
        "cells, longer backtick fences, line breaks shown as ``\\n``); the JSON keeps "
        "the ids exactly."
    ),
)
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


@pytest.mark.catalogue(
    "C19",
    input=(
        "``--alpha 1e160`` (its square overflows), ``--seed -1``, ``--seed 4294967296``"
    ),
    outcome=(
        'Exit status 2 (usage error) naming the flag: "expected a positive number '
        'whose square is finite (at most 1.341e+154)" / "expected an integer from 0 to '
        '4294967295".'
    ),
)
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


@pytest.mark.catalogue(
    "C20",
    input="A log with a single user",
    outcome=(
        'Exit status 1, one line: "has 1 distinct user(s): resample stability compares '
        'models fitted on different users".'
    ),
)
def test_audit_of_a_single_user_names_the_data(tmp_path, capsys):
    """C20: a log with a single user.

    Regression: after the models were fitted, "subsample=0.5 of 1 samples
    leaves no sample to fit on", an internal parameter.
    """
    path = _csv(tmp_path, "user,item\nu,a\nu,b\nu,c\n")
    assert _audit(path, tmp_path / "out") == 1
    err = _one_line_error(capsys)
    assert "has 1 distinct user(s)" in err and "subsample" not in err


@pytest.mark.catalogue(
    "C37",
    input=("``--min-user-count 5`` on a log of 7 users of which the k-core keeps 1"),
    outcome=(
        'Exit status 1, one line: "has 7 distinct user(s), 1 left by --min-item-count '
        '0 and --min-user-count 5 (lower them)".'
    ),
)
def test_a_filter_that_leaves_one_user_is_named(tmp_path, capsys):
    """C37: ``--min-user-count 5`` keeps 1 of 7 users.

    Regression: the message said the log "has 1 distinct user(s)", blaming
    the data for what the filter did. The brute-force count of users with at
    least 5 items (a k-core with no item filter is one pass) is 1.
    """
    rows = [("a", f"i{j}") for j in range(5)] + [
        (u, f"i{j % 5}") for j, u in enumerate("bcdefg")
    ]
    text = "user,item\n" + "".join(f"{u},{i}\n" for u, i in rows)
    counts = {u: sum(1 for v, _ in rows if v == u) for u, _ in rows}
    assert len(counts) == 7 and sum(n >= 5 for n in counts.values()) == 1
    out = tmp_path / "out"
    assert _audit(_csv(tmp_path, text), out, "--min-user-count", "5") == 1
    err = _one_line_error(capsys)
    assert "has 7 distinct user(s), 1 left by" in err, err
    assert "--min-user-count 5 (lower them)" in err, err


@pytest.mark.catalogue(
    "C21",
    input=(
        "SIGTERM while the second file of the report is written, over an "
        "existing report"
    ),
    outcome=(
        'Exit status 143 and "terminated"; the previous report is unchanged and no '
        "temporary file remains (SIGTERM is handled as Ctrl-C is, C03)."
    ),
)
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


@pytest.mark.catalogue(
    "C22",
    input="``skcosim audit ... | true``: standard output closed early",
    outcome=("Exit status 0, nothing on standard error; the report is written."),
)
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


@pytest.mark.catalogue(
    "C23",
    input="A second audit into the same ``--out``, without matplotlib",
    outcome=(
        "Correct: the earlier run's ``similarities.png`` is removed; the report says "
        "there is no figure."
    ),
)
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
    assert _files(out) == ["audit.json", "audit.md", "items.csv"]
    assert json.loads((out / "audit.json").read_text())["figure"] is None


@pytest.mark.catalogue(
    "C24",
    input=(
        "A ``ValueError``, ``TypeError`` or ``ImportError`` raised by a bug "
        "inside the audit, against a bad value in the log"
    ),
    outcome=(
        'The bug propagates with its traceback; the bad value is a one-line "skcosim '
        'audit: error: ..." (exit 1). User errors have their own type, '
        "``CommandError`` (the loader's errors become one); other ``ValueError`` and "
        "``TypeError`` are not printed as bad input."
    ),
)
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


@pytest.mark.catalogue(
    "C25",
    input="Writing the report's files (``skcosim.cli._output.write_atomic``)",
    outcome=(
        "Correct: the mode ``open()`` gives (``0o666`` less the umask), and the "
        "process umask is never set."
    ),
)
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


@pytest.mark.catalogue(
    "C26",
    input="A log with many distinct users and items (users x items above 10^7)",
    outcome=(
        'Correct, and said up front on standard error: "note: 20000 users x 20000 '
        "items; the cosine-trained model costs time in proportion to their product, so "
        'this audit may take several minutes".'
    ),
)
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


@pytest.mark.catalogue(
    "L16",
    input=(
        "A CSV line with more fields than the header (``u1,i1,4,5``: a "
        "decimal comma), or fewer, or a trailing delimiter; also through "
        "``skcosim audit``"
    ),
    outcome=(
        '``ValueError``: "could not be read as CSV: line 2 has 4 fields, the header '
        'has 3 (a decimal comma, or a delimiter inside an unquoted field?)"; the audit '
        "exits 1 with that line."
    ),
)
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
