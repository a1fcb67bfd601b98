"""Tests of the ``skcosim`` command line: both commands and their error paths.

The commands run in-process through ``main([...])`` on small data (the
``--quick`` settings are shrunk for the tests); one test runs the installed
console script.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from skcosim import cli
from skcosim.cli import _figure, _models, _output, _report, _run, _settings
from skcosim.cli._progress import StepProgress
from skcosim.datasets import make_clustered_interactions

pytest.importorskip("matplotlib")

TINY = dict(
    n_users=300,
    n_items=40,
    n_clusters=4,
    n_components=5,
    alpha=100.0 * np.sqrt(300 / 20000),
    n_draws=2,
    resample_draws=1,
    iterative_resample_draws=1,
    max_iter=5,
)

OBJECTIVE1 = [
    'Objective 1, gauge="identity"',
    'Objective 1, gauge="symmetric"',
    'Objective 1, gauge="encoder"',
    "Objective 1, random gauge",
]


@pytest.fixture(scope="module", autouse=True)
def tiny_settings():
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(_settings.REPRODUCE_SETTINGS, "quick", TINY)
        mp.setattr(_settings, "AUDIT_MAX_ITER", TINY["max_iter"])
        yield


@pytest.fixture(scope="module")
def reproduced(tiny_settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "new" / "dir"
    status = cli.main(["reproduce", "--quick", "--out", str(out), "--seed", "3"])
    return status, out


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory):
    sim = make_clustered_interactions(300, 40, 4, random_state=0)
    rows, cols = sim.data.nonzero()
    log = pd.DataFrame(
        {
            "customer": [f"u{r}" for r in rows],
            "product": [f"item{c:03d}" for c in cols],
            "stars": np.random.RandomState(0).randint(1, 6, size=rows.size),
        }
    )
    path = tmp_path_factory.mktemp("logs") / "log.csv"
    log.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def audited(log_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit")
    argv = ["audit", str(log_csv), "--user-col", "customer", "--item-col", "product"]
    status = cli.main([*argv, "--n-components", "5", "--out", str(out)])
    return status, out


def _error_line(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    return lines[-1]


# -- help ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command, options",
    [
        (["--help"], ["reproduce", "audit", "--version"]),
        (
            ["reproduce", "--help"],
            ["--out", "--quick", "--seed", "--no-progress", "--blas-threads"],
        ),
        (
            ["audit", "--help"],
            [
                "PATH",
                "--user-col",
                "--item-col",
                "--value-col",
                "--n-components",
                "--alpha",
                "--out",
                "--seed",
                "--no-progress",
                "--blas-threads",
            ],
        ),
    ],
)
def test_help_explains_every_option(capsys, command, options):
    assert cli.main(command) == 0
    out = capsys.readouterr().out
    for option in options:
        assert option in out


def test_no_command_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert "required" in capsys.readouterr().err


# -- reproduce ----------------------------------------------------------------


def test_reproduce_writes_figure_and_reports_and_prints_the_table(reproduced, capsys):
    status, out = reproduced
    assert status == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["figure1.png", "report.json", "report.md"]  # no temp files
    assert (out / "figure1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "report.md").read_text()
    assert "| model | objective | gauge stability |" in markdown
    assert "![Item-item cosine similarities](figure1.png)" in markdown


def test_reproduce_report_has_every_model_and_score(reproduced):
    report = json.loads((reproduced[1] / "report.json").read_text())
    names = [m["name"] for m in report["models"]]
    expected = [
        *OBJECTIVE1,
        "Objective 2 (weight decay)",
        "Objective 3 (trained for cosine)",
        "Objective 1, projected (Remedy 2)",
    ]
    assert names == expected
    for model in report["models"]:
        for key in ("gauge_stability", "resample_stability", "label_agreement"):
            assert 0.0 <= model[key] <= 1.0
        assert model["loss"] > 0
    assert report["settings"]["seed"] == 3 and report["settings"]["quick"]
    assert report["data"]["n_users"] == TINY["n_users"]


def test_reproduce_shows_the_paper_result(reproduced):
    models = {
        m["name"]: m
        for m in json.loads((reproduced[1] / "report.json").read_text())["models"]
    }
    # Objective 1: one loss for every split (rel. 1e-9), neighbours that move
    # under a random diagonal gauge; Objective 2 and the projection: gauge-free.
    losses = [models[name]["loss"] for name in OBJECTIVE1]
    assert_allclose(losses, losses[0], rtol=1e-9)
    assert all(models[name]["gauge_stability"] < 0.9 for name in OBJECTIVE1)
    assert models["Objective 2 (weight decay)"]["gauge_stability"] == 1.0
    assert models["Objective 1, projected (Remedy 2)"]["gauge_stability"] == 1.0


def test_reproduce_same_seed_gives_same_report(tiny_settings, reproduced, tmp_path):
    assert (
        cli.main(["reproduce", "--quick", "--out", str(tmp_path), "--seed", "3"]) == 0
    )
    first = json.loads((reproduced[1] / "report.json").read_text())["models"]
    again = json.loads((tmp_path / "report.json").read_text())["models"]
    for a, b in zip(first, again, strict=True):
        assert_allclose(a["loss"], b["loss"], rtol=1e-9)
        for key in ("gauge_stability", "resample_stability", "label_agreement"):
            assert a[key] == b[key], (a["name"], key)


def test_reproduce_prints_the_table(tiny_settings, tmp_path, capsys):
    assert cli.main(["reproduce", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gauge stability" in out and "resample stability" in out
    for name in OBJECTIVE1:
        assert name in out
    assert f"wrote {tmp_path / 'report.md'}" in out


# -- audit --------------------------------------------------------------------


def test_audit_writes_report_with_neighbours_labelled_by_item_id(audited, log_csv):
    status, out = audited
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.json",
        "audit.md",
        "items.csv",
        "similarities.png",
    ]
    report = json.loads((out / "audit.json").read_text())
    ids = set(pd.read_csv(log_csv)["product"])
    neighbors = report["popular_item_neighbors"]
    assert len(neighbors) == _settings.N_SHOWN_ITEMS
    counts = [entry["n_users"] for entry in neighbors]
    assert counts == sorted(counts, reverse=True)  # the most popular first
    for entry in neighbors:
        assert entry["item"] in ids
        assert set(entry["neighbors"]) == {m["name"] for m in report["models"]}
        for listed in entry["neighbors"].values():
            assert len(listed) == _settings.N_SHOWN_NEIGHBORS
            assert set(listed) <= ids and entry["item"] not in listed
    markdown = (out / "audit.md").read_text()
    assert f"### item `{neighbors[0]['item']}`" in markdown
    assert all(m["label_agreement"] is None for m in report["models"])


def test_audit_default_alpha_is_the_capped_median_top_singular_value(audited):
    from skcosim._linalg._spectrum import top_k_spectrum

    report = json.loads((audited[1] / "audit.json").read_text())
    X = make_clustered_interactions(300, 40, 4, random_state=0).data
    s, _ = top_k_spectrum(X, 5)
    expected = min(np.median(s), s[0] / 2)
    assert_allclose(report["settings"]["alpha"], expected, rtol=1e-6)


def test_audit_value_column_and_parquet(log_csv, tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "log.parquet"
    pd.read_csv(log_csv).to_parquet(path)
    argv = ["audit", str(path), "--user-col", "customer", "--item-col", "product"]
    argv += ["--value-col", "stars", "--n-components", "3", "--alpha", "2.5"]
    assert cli.main([*argv, "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert report["settings"]["value_col"] == "stars"
    assert report["settings"]["alpha"] == 2.5
    assert report["settings"]["n_components"] == 3


# -- error paths: one line, non-zero exit, nothing written ----------------------------


def _audit(path, out, *extra):
    return cli.main(
        [
            *("audit", str(path), "--user-col", "user", "--item-col", "item"),
            *("--out", str(out), "--no-progress", *extra),
        ]
    )


def test_audit_missing_file(tmp_path, capsys):
    assert _audit(tmp_path / "nope.csv", tmp_path / "out") == 1
    line = _error_line(capsys)
    assert line.startswith("skcosim audit: error:") and "nope.csv" in line
    assert not (tmp_path / "out").exists()  # created by the run, removed


def test_audit_missing_column(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("user,product\nu1,a\n")
    assert _audit(path, tmp_path / "out") == 1
    assert "'item'" in _error_line(capsys)
    assert not (tmp_path / "out").exists()  # created by the run, removed


@pytest.mark.parametrize(
    "content, message",
    [("", "empty"), ("user,item\n", "no interactions")],
)
def test_audit_empty_data(tmp_path, capsys, content, message):
    path = tmp_path / "log.csv"
    path.write_text(content)
    assert _audit(path, tmp_path / "out") == 1
    assert message in _error_line(capsys)


def test_audit_non_numeric_values(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("user,item,value\nu1,a,1\nu2,b,lots\n")
    assert _audit(path, tmp_path / "out", "--value-col", "value") == 1
    line = _error_line(capsys)
    assert "'value'" in line and "lots" in line


def test_audit_single_item_is_an_error(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text("user,item\nu1,a\nu2,a\n")
    assert _audit(path, tmp_path / "out") == 1
    assert "at least 2" in _error_line(capsys)


def test_unwritable_out_dir_fails_before_any_work(tmp_path, capsys, log_csv):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    assert _audit(log_csv, blocker / "out") == 1
    assert "cannot write to output directory" in _error_line(capsys)
    assert cli.main(["reproduce", "--quick", "--out", str(blocker)]) == 1
    assert "cannot write to output directory" in _error_line(capsys)


@pytest.mark.parametrize(
    "option, value",
    [
        ("--n-components", "0"),
        ("--alpha", "-1"),
        ("--alpha", "nan"),
        ("--blas-threads", "-2"),
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path, capsys, option, value):
    assert _audit(tmp_path / "log.csv", tmp_path, option, value) == 2
    assert "expected a " in capsys.readouterr().err


def test_missing_required_option_is_a_usage_error(capsys):
    assert cli.main(["audit", "log.csv", "--user-col", "u"]) == 2
    assert "--item-col" in capsys.readouterr().err


# -- atomic output ------------------------------------------------------------


def test_failed_write_leaves_old_files_and_no_temporary_files(tmp_path, monkeypatch):
    old = {tmp_path / "report.md": "old report", tmp_path / "report.json": "{}"}
    _output.write_atomic(old)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    new = {tmp_path / "report.md": "new", tmp_path / "report.json": '{"new": 1}'}
    with pytest.raises(OSError, match="disk full"):
        _output.write_atomic(new)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]
    assert (tmp_path / "report.json").read_text() == "{}"


def test_failure_while_writing_data_leaves_no_report(tmp_path, monkeypatch):
    def broken(payload):
        raise ValueError("cannot serialize")

    monkeypatch.setattr(_report, "json_report", broken)
    # A ValueError from inside is a bug, not bad input: it keeps its traceback.
    with pytest.raises(ValueError, match="cannot serialize"):
        cli.main(["reproduce", "--quick", "--out", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_the_usual_permissions(tmp_path):
    (path,) = _output.write_atomic({tmp_path / "f.txt": "x"})
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


# -- progress -----------------------------------------------------------------


def test_progress_without_tqdm_prints_plain_lines(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    progress = StepProgress(2)
    progress.step("first")
    progress.advance()
    progress.step("second")
    progress.close()
    assert capsys.readouterr().err.splitlines() == ["[1/2] first", "[2/2] second"]


def test_progress_disabled_prints_nothing(capsys):
    progress = StepProgress(1, enabled=False)
    progress.step("x")
    progress.advance()
    progress.close()
    assert capsys.readouterr().err == ""


# -- the installed console script ---------------------------------------------


def test_console_script_reports_bad_input_in_one_line(tmp_path):
    exe = shutil.which("skcosim")
    if exe is None:
        pytest.skip("the skcosim console script is not installed")
    result = subprocess.run(
        [
            *(exe, "audit", str(tmp_path / "missing.csv"), "--user-col", "u"),
            *("--item-col", "i", "--out", str(tmp_path / "out")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "missing.csv" in result.stderr


class _FailingModel:
    def fit(self, X):
        raise ValueError("alpha is too large for these data")


def test_failing_optional_model_becomes_a_note_not_an_error():
    from skcosim import WeightDecayAutoencoder

    X = make_clustered_interactions(100, 12, 3, random_state=0).data
    specs = [
        _models.ModelSpec("failing", "Objective 3", _FailingModel(), optional=True),
        _models.ModelSpec("wd", "Objective 2", WeightDecayAutoencoder(3)),
    ]
    failing, wd = _models.compare_models(specs, X, n_neighbors=3, n_draws=1)
    assert failing.embeddings is None and failing.scores["loss"] is None
    assert failing.scores["notes"] == ["not fitted: alpha is too large for these data"]
    assert wd.scores["gauge_stability"] == 1.0
    assert [name for name, _ in _figure.similarity_panels([failing, wd], [0, 1])] == [
        "wd"
    ]
    assert "n/a" in _report.text_table(_models.rows_of([failing, wd]))
    specs[0].optional = False
    with pytest.raises(ValueError, match="too large"):
        _models.compare_models(specs, X, n_neighbors=3, n_draws=1)


@pytest.mark.parametrize(
    "tty, no_progress, shown",
    [(True, False, True), (True, True, False), (False, False, False)],
)
def test_progress_only_on_a_terminal(monkeypatch, tty, no_progress, shown):
    import argparse

    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    assert _run.show_progress(argparse.Namespace(no_progress=no_progress)) is shown
