"""The output directory of ``skcosim``: one whole report at every instant, a
lock against a second run, nothing left behind by a failed one, and Ctrl-C
in one line.

The swap is checked by snapshots of ``--out`` after every file-system call
that changes something, and by an interruption at each of those calls.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skcosim.cli import _output, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_csv(tmp_path):
    """A small interaction log (60 users, 12 items)."""
    rng = np.random.RandomState(0)
    users, items = np.nonzero(rng.rand(60, 12) < 0.3)
    path = tmp_path / "log.csv"
    pd.DataFrame({"user": users, "item": [f"it{j}" for j in items]}).to_csv(
        path, index=False
    )
    return path


def _audit(log, out, *extra):
    argv = ["audit", str(log), "--user-col", "user", "--item-col", "item"]
    return main(
        [*argv, "--out", str(out), "--n-components", "3", "--no-progress", *extra]
    )


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def _tree(directory):
    """``{name: bytes}`` of the files in ``directory``, ``None`` if absent."""
    directory = Path(directory)
    if not directory.exists():
        return None
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def _leftovers(out):
    """Lock files and sibling directories of ``out`` that a run left."""
    return sorted(
        p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")
    )


_MUTATIONS = ("mkdir", "rename", "replace", "link", "unlink", "rmdir")


def _on_every_mutation(monkeypatch, action):
    """Call ``action(name)`` after (or, if it raises, instead of) every
    file-system call that changes a directory."""
    for name in _MUTATIONS:
        real = getattr(os, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            action(_name, before=True)
            result = _real(*args, **kwargs)
            action(_name, before=False)
            return result

        monkeypatch.setattr(os, name, spy)


@pytest.mark.catalogue(
    "C38",
    input='``--out ""`` (an unset shell variable), for ``audit`` and ``reproduce``',
    outcome=(
        "Exit status 2 (a usage error) naming the empty string; nothing is written."
    ),
)
def test_an_empty_out_is_a_usage_error(log_csv, tmp_path, monkeypatch, capsys):
    """C38: ``--out ""``, as an unset shell variable gives it.

    Regression: the report's three files were written into the current
    directory, over any files of those names.
    """
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    assert _audit(log_csv, "") == 2
    err = capsys.readouterr().err
    assert "--out" in err and "empty string" in err, err
    assert main(["reproduce", "--quick", "--out", ""]) == 2
    assert "empty string" in capsys.readouterr().err
    assert list(cwd.iterdir()) == []


@pytest.mark.catalogue(
    "C39",
    input=(
        "An audit that fails on its data (a filter that leaves one item, a "
        "missing label file) into a new nested ``--out``, and into an "
        "existing report"
    ),
    outcome=(
        "Exit status 1; the new ``--out`` and the parent directories the run created "
        "do not exist afterwards, an existing report is unchanged byte for byte, and "
        "no lock file or sibling directory remains."
    ),
)
def test_a_failed_audit_removes_what_it_created_and_nothing_else(
    log_csv, tmp_path, capsys, fast_models
):
    """C39: a failed audit into a new directory, and into an existing report.

    Regression: the run created ``--out`` before reading the log, and a
    failure left it behind, empty.
    """
    missing = tmp_path / "missing-labels.csv"
    failures = [("--min-item-count", "1000"), ("--item-labels", str(missing))]
    new = tmp_path / "new" / "nested" / "out"
    for extra in failures:
        assert _audit(log_csv, new, *extra) == 1
        err = _one_line_error(capsys)
        assert extra[1] in err, err
        assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    assert _audit(log_csv, existing) == 0
    before = _tree(existing)
    assert {"audit.md", "audit.json"} <= set(before)
    for extra in failures:
        assert _audit(log_csv, existing, *extra) == 1
        assert _tree(existing) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing", "log.csv"]


@pytest.mark.catalogue(
    "C40",
    input=(
        "A second audit into a directory that holds the first one's report, "
        "watched after every file-system change the run makes"
    ),
    outcome=(
        "Correct: at every step ``--out`` holds the whole old report, the whole new "
        "one, or (between the two renames) nothing."
    ),
)
def test_a_reader_never_sees_half_old_and_half_new_files(
    log_csv, tmp_path, monkeypatch, capsys, fast_models
):
    """C40: snapshots of ``--out`` after every change a second audit makes.

    Regression: ``os.replace`` of each file in turn, so that between two of
    them the directory held the new Markdown and the old JSON.
    """
    out = tmp_path / "out"
    assert _audit(log_csv, out) == 0
    old = _tree(out)
    states = []
    _on_every_mutation(monkeypatch, lambda name, before: states.append(_tree(out)))
    assert _audit(log_csv, out, "--seed", "1") == 0
    monkeypatch.undo()
    new = _tree(out)
    assert new["audit.json"] != old["audit.json"]
    assert new["audit.md"] != old["audit.md"]
    assert len(states) > 4
    mixed = [s for s in states if s not in (old, new, None)]
    assert mixed == [], sorted(mixed[0])
    assert _leftovers(out) == []


@pytest.mark.catalogue("C40b", part_of="C40")
def test_an_interruption_at_any_step_leaves_one_whole_report(tmp_path, monkeypatch):
    """C40b: Ctrl-C at each file-system change of a swap, in turn.

    After each, ``--out`` holds the whole old or the whole new set; the next
    run then replaces it and leaves no lock file or sibling directory, also
    when the interrupted one stopped while removing the old directory.
    """
    names = {"r.md", "r.json", "r.png"}

    def write(out, files):
        with _output.open_output(out, names) as output:
            output.write(files, replaces=names)

    def report(tag):
        return {name: f"{tag} {name}".encode() for name in names}

    step = 0
    while True:
        out = tmp_path / f"case{step}" / "out"
        write(out, report("old"))
        calls = []

        def interrupt(name, before, _step=step, _calls=calls):
            if before:
                _calls.append(name)
                if len(_calls) == _step + 1:
                    raise KeyboardInterrupt

        _on_every_mutation(monkeypatch, interrupt)
        try:
            write(out, {**report("new"), "r.png": b"new"})
            finished = True
        except KeyboardInterrupt:
            finished = False
        monkeypatch.undo()
        assert _tree(out) in ({**report("new"), "r.png": b"new"}, report("old"))
        write(out, report("third"))
        assert _tree(out) == report("third")
        assert _leftovers(out) == [], step
        if finished:
            break
        step += 1
    assert step > 5  # every step of the swap was interrupted once


@pytest.mark.catalogue(
    "C44",
    input=(
        "A run killed (``SIGKILL``) between the two renames of its swap "
        "(``--out`` missing, the old report aside), and one killed while "
        "writing its new directory; then a run that fails"
    ),
    outcome=(
        "Correct: the next run, under the lock and before any work, puts the "
        "old report back as ``--out`` and removes the half-written directory, "
        "so even a failing run leaves the previous report whole"
    ),
)
def test_the_next_run_cleans_up_after_a_killed_one(tmp_path):
    """C44: a run killed (SIGKILL) between the two renames of its swap, and
    another one killed while writing its new directory.

    Nothing ran to clean up: the old report is aside, ``--out`` is missing,
    a half-written new directory is there. The next run puts the old report
    back before it does anything, even when it then fails, and removes the
    half-written directory.
    """
    names = {"r.md", "r.json"}
    out = tmp_path / "out"
    with _output.open_output(out, names) as output:
        output.write({"r.md": b"old md", "r.json": b"old json"}, replaces=names)
    old = _tree(out)
    out.rename(tmp_path / ".out.0123456789ab.old")
    (tmp_path / ".out.abcdef012345.new").mkdir()
    (tmp_path / ".out.abcdef012345.new" / "r.md").write_bytes(b"half")
    with pytest.raises(RuntimeError, match="a failure"):
        with _output.open_output(out, names):
            raise RuntimeError("a failure of the next run")
    assert _tree(out) == old
    assert _leftovers(out) == []


@pytest.mark.catalogue(
    "C41",
    input=(
        "A second run into an ``--out`` whose lock another process holds; "
        "the holder killed with ``SIGKILL``"
    ),
    outcome=(
        "Exit status 1 at once, one line: \"another skcosim run is writing into '...' "
        "(it holds the lock '...')\"; the report in ``--out`` is unchanged. After the "
        "holder is killed the next run succeeds (the kernel releases the lock) and "
        "removes the lock file."
    ),
)
def test_a_second_run_into_a_locked_out_fails_clearly(
    log_csv, tmp_path, capsys, fast_models
):
    """C41: another process holds the lock of ``--out``.

    Regression: nothing kept two runs apart; their files could interleave.
    """
    out = tmp_path / "out"
    assert _audit(log_csv, out) == 0
    before = _tree(out)
    capsys.readouterr()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import time
                from skcosim.cli._output import output_lock
                with output_lock({str(out)!r}):
                    print("locked", flush=True)
                    time.sleep(120)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        assert _audit(log_csv, out, "--seed", "1") == 1
        assert time.monotonic() - start < 60  # failed, did not wait for it
        err = _one_line_error(capsys)
        assert f"another skcosim run is writing into {str(out)!r}" in err, err
        assert _tree(out) == before
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert _leftovers(out) == [".out.lock"]  # the killed holder's file
    assert _audit(log_csv, out, "--seed", "1") == 0
    assert _tree(out) != before
    assert _leftovers(out) == []


@pytest.mark.catalogue(
    "C42",
    input=(
        "``--out`` that holds a file of the user's (``notes.txt``), or is the "
        "current directory; ``--out`` that holds the other command's report"
    ),
    outcome=(
        "Exit status 1 before any work, one line naming the file (or the current "
        "directory); nothing changes. The other command's report is kept, byte for "
        "byte, beside the new one."
    ),
)
def test_out_must_be_the_reports_own_directory(
    log_csv, tmp_path, monkeypatch, capsys, fast_models
):
    """C42: ``--out`` with a file that is not a report's, or the current
    directory; another command's report is kept.

    Regression: the report's files were dropped among the user's; a
    directory that is replaced as a whole must hold only reports.
    """

    def must_not_run(*args, **kwargs):
        raise AssertionError("the log was read before --out was checked")

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with monkeypatch.context() as patch:
        patch.setattr("skcosim.cli._audit_log.load_interactions", must_not_run)
        assert _audit(log_csv, out) == 1
        err = _one_line_error(capsys)
        assert "'notes.txt'" in err and "not part of a skcosim report" in err, err
        assert _tree(out) == {"notes.txt": b"mine"}
        here = tmp_path / "here"
        here.mkdir()
        patch.chdir(here)
        for target in (".", str(here), str(tmp_path)):
            assert _audit(log_csv, target) == 1
            assert "is the current directory or holds it" in _one_line_error(capsys)
        assert list(here.iterdir()) == []
    (out / "notes.txt").unlink()
    other = {"figure1.png": b"png", "report.md": b"md", "report.json": b"{}"}
    for name, data in other.items():
        (out / name).write_bytes(data)
    assert _audit(log_csv, out) == 0
    after = _tree(out)
    assert {name: after[name] for name in other} == other
    assert {"audit.md", "audit.json"} <= set(after)


_INTERRUPTED_SCRIPT = """
import signal, sys, time
import numpy as np
from skcosim import WeightDecayAutoencoder
from skcosim.cli import _audit, main
from skcosim.metrics import resample_stability

class SlowFit(WeightDecayAutoencoder):
    def fit(self, X, y=None):
        time.sleep(30)  # Ctrl-C comes first
        return super().fit(X)

def build(args, progress):
    X = (np.random.RandomState(0).rand(200, 30) < 0.2).astype(float)
    print("ready", flush=True)
    resample_stability(SlowFit(3), X, 5, n_resamples=1, n_jobs=2)
    raise SystemExit("not interrupted")

_audit.build_audit_report = build
# As in a terminal, also when the tests run as a background job (SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(main(["audit", "log.csv", "--user-col", "u", "--item-col", "i",
               "--out", sys.argv[1], "--no-progress"]))
"""


@pytest.mark.catalogue(
    "C43",
    input=(
        "Ctrl-C (``SIGINT`` to the whole process group, as a terminal sends "
        "it) 0 to 0.6 s after the parallel resample starts its joblib workers"
    ),
    outcome=(
        'Exit status 130 and one line, "skcosim: interrupted", every time; no '
        "``--out``."
    ),
)
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="no process groups")
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.3, 0.6])
def test_ctrl_c_while_workers_start_prints_one_line(tmp_path, delay):
    """C43: SIGINT to the process group while joblib's workers start.

    Regression: Python in a starting worker raised KeyboardInterrupt inside
    its imports and printed a 20- to 30-line traceback before the parent's
    "skcosim: interrupted".
    """
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_SCRIPT, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,  # its own process group, as a shell job has
    )
    try:
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, err
    assert err == "skcosim: interrupted\n"
    assert not out.exists()


_LEAKED_SEMAPHORE_SCRIPT = """
import sys
from joblib.externals.loky.backend import resource_tracker
from skcosim._signals import sigint_kept_from_workers

with sigint_kept_from_workers():
    resource_tracker.register("/skcosim-test-never-unregistered", "semlock")
"""


@pytest.mark.catalogue("C43b", part_of="C43")
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="no process groups")
def test_interrupted_parent_leaves_no_resource_tracker_notice():
    """C43b: a semaphore the interrupted parent never unregistered.

    Regression: loky's resource tracker printed two "leaked semlock" warnings
    after "skcosim: interrupted" when Ctrl-C came once a worker had made one.
    The tracker keeps stderr open until it has cleaned up, so ``run`` waits
    for its notice.
    """
    done = subprocess.run(
        [sys.executable, "-c", _LEAKED_SEMAPHORE_SCRIPT],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
