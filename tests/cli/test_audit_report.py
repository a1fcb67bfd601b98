"""``skcosim audit`` in the user's words: item names, plain words and verdicts
per model, the per-item file (``items.csv`` / ``--format parquet``), the
loss per objective and the support warning.

The audits run in-process with two cheap models (tests/cli/conftest.py) on
RecBole-like files (:func:`tests.cli.test_audit_recbole._recbole_files`).
"""

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from skcosim.cli import _audit_log, _items_file, _settings, _verdicts, main
from skcosim.cli._report import md_text

from .test_audit_recbole import RECBOLE_FLAGS, _recbole_files

pytest.importorskip("matplotlib")

NAME_FLAGS = ["--name-col", "movie_title:token_seq"]


@pytest.fixture
def fast_models(fast_models, monkeypatch):
    """The shared two models (tests/cli/conftest.py), cut to a few iterations."""
    monkeypatch.setattr(_settings, "AUDIT_MAX_ITER", 5)


def _audit(log, out, *extra):
    argv = ["audit", str(log), "--out", str(out), "--n-components", "3"]
    return main([*argv, "--no-progress", *extra])


def _read_tsv(path):
    """A tab-separated file as a list of rows (header first), by plain Python."""
    return [line.split("\t") for line in path.read_text().splitlines()]


def _brute_per_item_agreement(E, label_sets, k):
    """Each item's share of top-k cosine neighbours (ties by index) sharing
    a label with it; NaN for the unlabelled ones, by loops over items."""
    norms = np.linalg.norm(E, axis=1)
    out = []
    for i, own in enumerate(label_sets):
        if not own:
            out.append(np.nan)
            continue
        if norms[i] == 0:
            out.append(0.0)
            continue
        cos = [
            (E[i] @ E[j]) / (norms[i] * norms[j]) if norms[j] else 0.0
            for j in range(len(E))
        ]
        order = sorted((j for j in range(len(E)) if j != i), key=lambda j: -cos[j])
        out.append(np.mean([bool(own & label_sets[j]) for j in order[:k]]))
    return np.array(out)


@pytest.mark.catalogue(
    "C55",
    input=(
        "``skcosim audit toy.inter ... --item-labels toy.item --label-col "
        'class:token_seq --label-sep " " --item-names toy.item --name-col '
        "movie_title:token_seq`` on RecBole-like files (an item with one user, "
        "an item without a row in ``.item``)"
    ),
    outcome=(
        "Correct: titles next to the ids in the neighbour tables of audit.md; "
        "plain words and a verdict per model and a summary verdict in audit.json; "
        "items.csv with one row per item whose support equals the column counts "
        "(numpy), names the .item titles, label agreement a brute force per item "
        "(to 1e-12), gauge and resample stability per item whose means are the "
        "report's; the support warning suggests the verdicts' --min-item-count."
    ),
)
def test_audit_speaks_the_users_words(tmp_path, capsys, fast_models, monkeypatch):
    """C55: the issue's RecBole command with names, end to end.

    Regression: the neighbour tables showed ids only, the rows the paper's
    names only, there were no verdicts and no per-item file.
    """
    import skcosim.metrics

    inter, item, genres = _recbole_files(tmp_path)
    seen = []
    original = skcosim.metrics.neighbor_label_agreement

    def recording(E, labels, n_neighbors=10, **kwargs):
        seen.append((np.array(E), n_neighbors))
        return original(E, labels, n_neighbors, **kwargs)

    monkeypatch.setattr(skcosim.metrics, "neighbor_label_agreement", recording)
    out = tmp_path / "out"
    flags = [*RECBOLE_FLAGS, "--item-labels", str(item), "--item-names", str(item)]
    assert _audit(inter, out, *flags, *NAME_FLAGS) == 0, capsys.readouterr().err
    report = json.loads((out / "audit.json").read_text())
    markdown = (out / "audit.md").read_text()

    # Independent truth: the files read by plain Python, support by numpy.
    log = _read_tsv(inter)[1:]
    ids = sorted({row[1] for row in log})  # the loader sorts ids as text
    users = sorted({row[0] for row in log})
    X = np.zeros((len(users), len(ids)))
    for row in log:
        X[users.index(row[0]), ids.index(row[1])] = 1
    support = np.count_nonzero(X, axis=0)
    titles = {row[0]: row[1] for row in _read_tsv(item)[1:]}

    # Titles in the neighbour tables, next to their ids.
    entry = report["popular_item_neighbors"][0]
    assert entry["item_name"] == titles[entry["item"]]
    for model, neighbours in entry["neighbors"].items():
        names = entry["neighbor_names"][model]
        assert names == [titles.get(i, "") for i in neighbours]
        assert f"| 1 | `{neighbours[0]}` {names[0]} |" in markdown or (
            f"`{neighbours[0]}` {names[0]}" in markdown
        )
    assert f"### item `{entry['item']}` {titles[entry['item']]}" in markdown

    # Plain words, verdicts, and the summary.
    for row in report["models"]:
        family = _verdicts.family_of(row["objective"])
        assert _verdicts.FAMILIES[family]["words"] in row["trained_like"]
        assert row["verdict"]["level"] in _verdicts.LEVELS
        assert row["verdict"]["next_step"]
        assert row["trained_like"] in markdown
    assert report["verdict"]["level"] == max(
        (r["verdict"]["level"] for r in report["models"]),
        key=_verdicts.LEVELS.index,
    )
    assert "## What to do" in markdown
    suggested = report["verdict"]["suggested_min_item_count"]
    assert report["data"]["item_support"]["suggested_min_item_count"] == suggested
    (warning,) = [w for w in report["warnings"] if "fewer than 10 users" in w]
    assert warning.endswith(f"with --min-item-count {suggested}.")
    assert md_text(report["verdict"]["text"]) in markdown
    assert report["verdict"]["suggested_min_item_count"] in (None, 2, 3, 5, 10)

    # items.csv against the independent computation.
    items = pd.read_csv(out / "items.csv", dtype={"item_id": str, "name": str})
    assert list(items["item_id"]) == ids
    np.testing.assert_array_equal(items["support"], support)
    assert list(items["name"].fillna("")) == [titles.get(i, "") for i in ids]
    label_sets = [genres.get(i, set()) for i in ids]
    assert len(seen) == len(report["models"]) == 2
    for (E, k), row in zip(seen, report["models"], strict=True):
        name = row["name"]
        agreement = items[_items_file.score_column("label_agreement", name)]
        expected = _brute_per_item_agreement(E, label_sets, k)
        np.testing.assert_allclose(agreement, expected, rtol=0, atol=1e-12)
        gauge = items[_items_file.score_column("gauge_stability", name)]
        assert gauge.notna().all()  # every item sampled (29 < AUDIT_MAX_ITEMS)
        assert gauge.mean() == pytest.approx(row["gauge_stability"], abs=1e-12)
        resample = items[_items_file.score_column("resample_stability", name)]
        assert resample.dropna().between(0, 1).all()
        # The item with one user is in one half only: never directed in both.
        assert np.isnan(resample[int(np.argmin(support))])
    printed = capsys.readouterr().out
    assert "items.csv" in printed
    assert f"verdict: {report['verdict']['level']}: " in printed


@pytest.mark.catalogue(
    "C56",
    input=(
        "``--item-names`` of a missing file; ``--name-col`` or "
        "``--name-item-col`` that the file does not have; ``--name-col`` "
        "without ``--item-names``; a names file with more than one other "
        "column and no ``--name-col``"
    ),
    outcome=(
        "A one-line error before any model is fitted (exit status 1): "
        '"No such file", the missing column with the file\'s columns and the '
        'option, "--name-col is about --item-names: give both", "name the '
        'column of the names with --name-col".'
    ),
)
def test_bad_item_names_options(tmp_path, capsys, fast_models):
    """C56: bad values of the name options."""
    inter, item, _ = _recbole_files(tmp_path)
    cols = RECBOLE_FLAGS[:4]
    out = tmp_path / "out"
    cases = [
        (["--item-names", str(tmp_path / "missing.item"), *NAME_FLAGS], "No such file"),
        (
            ["--item-names", str(item), "--name-col", "title"],
            "Column 'title' (--name-col) not found in file",
        ),
        (
            ["--item-names", str(item), *NAME_FLAGS, "--name-item-col", "movie"],
            "Column 'movie' (--name-item-col) not found in file",
        ),
        (NAME_FLAGS, "--name-col is about --item-names: give both"),
        (["--item-names", str(item)], "name the column of the names with --name-col"),
    ]
    for extra, message in cases:
        assert _audit(inter, out, *cols, *extra) == 1
        err = capsys.readouterr().err.strip()
        assert "Traceback" not in err and len(err.splitlines()) == 1
        assert message in err
        if "not found" in message:
            assert "movie_title:token_seq" in err  # the file's columns
    assert not out.exists()


@pytest.mark.catalogue(
    "C57",
    input="``--item-names`` whose file gives one item id two names (lines 3 and 9)",
    outcome=(
        "A one-line error \"gives item '10' a name twice (line 3 and line 9; 1 "
        'id(s) repeat)" (exit status 1), before any model is fitted.'
    ),
)
def test_duplicate_ids_in_the_names_file(tmp_path, capsys, fast_models):
    """C57: duplicate ids in the names file are an error, not a silent pick."""
    inter, item, _ = _recbole_files(tmp_path)
    lines = item.read_text().splitlines()
    lines.insert(8, "10\tAnother Title\t2001\tDrama")
    names = tmp_path / "names.item"
    names.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    flags = [*RECBOLE_FLAGS[:4], "--item-names", str(names), *NAME_FLAGS]
    assert _audit(inter, out, *flags) == 1
    err = capsys.readouterr().err.strip()
    assert "gives item '10' a name twice (line 3 and line 9; 1 id(s) repeat)" in err
    assert "--item-names" in err and not out.exists()


@pytest.mark.catalogue(
    "C58",
    input=(
        "``--item-names`` of a CSV file with its own id column "
        "(``--name-item-col movie``) that names only some items, one with an "
        "empty cell, plus ids that are not items of the log"
    ),
    outcome=(
        "Correct: the named items show their names, the others an empty name in "
        "items.csv and the id alone in the tables; the report counts them "
        '("N of M items have a name; K have none and show as empty") and '
        "audit.json records the counts."
    ),
)
def test_items_without_a_name_are_counted(tmp_path, capsys, fast_models):
    """C58: missing names are shown as empty and counted."""
    inter, _, _ = _recbole_files(tmp_path)
    ids = sorted({row[1] for row in _read_tsv(inter)[1:]})
    named = {i: f"Title {i}" for i in ids[::2]}
    named[ids[2]] = ""  # an empty cell: no name
    frame = pd.DataFrame(
        {"movie": [*named, "5000", "5001"], "title": [*named.values(), "x", "y"]}
    )
    names = tmp_path / "names.csv"
    frame.to_csv(names, index=False)
    out = tmp_path / "out"
    flags = [*RECBOLE_FLAGS[:4], "--item-names", str(names), "--name-item-col"]
    assert _audit(inter, out, *flags, "movie", "--name-col", "title") == 0
    report = json.loads((out / "audit.json").read_text())
    info = report["names"]
    n_named = sum(bool(v) for v in named.values())
    assert info["n_named_items"] == n_named
    assert info["n_unnamed_items"] == len(ids) - n_named
    assert info["n_unknown_item_ids"] == 2
    assert report["settings"]["name_item_col"] == "movie"
    markdown = (out / "audit.md").read_text()
    assert (
        f"{n_named} of {len(ids)} items have a name; {len(ids) - n_named} have "
        "none and show as empty" in markdown
    )
    items = pd.read_csv(out / "items.csv", dtype=str, keep_default_na=False)
    assert list(items["name"]) == [named.get(i, "") for i in ids]


@pytest.mark.catalogue(
    "C59",
    input=(
        "``skcosim audit --format parquet`` into a directory holding an earlier "
        "items.csv; ``--format parquet`` without pyarrow (simulated); "
        "``--format xml``"
    ),
    outcome=(
        "Correct: items.parquet holds what items.csv would (NaN as null) and "
        "the earlier items.csv is gone; without pyarrow a one-line error naming "
        "pyarrow and ``--format csv`` before any work (exit status 1); a usage "
        "error naming ``--format`` (exit status 2)."
    ),
)
def test_format_of_the_items_file(tmp_path, capsys, fast_models, monkeypatch):
    """C59: ``--format``."""
    pytest.importorskip("pyarrow")
    inter, item, _ = _recbole_files(tmp_path)
    flags = [*RECBOLE_FLAGS, "--item-labels", str(item)]
    out = tmp_path / "out"
    assert _audit(inter, out, *flags) == 0
    expected = pd.read_csv(out / "items.csv", dtype={"item_id": str})
    assert _audit(inter, out, *flags, "--format", "parquet") == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "audit.json",
        "audit.md",
        "items.parquet",
        "similarities.png",
    ]
    parquet = pd.read_parquet(out / "items.parquet")
    parquet["name"] = parquet["name"].replace("", np.nan)
    pd.testing.assert_frame_equal(parquet, expected, check_dtype=False, atol=0)
    assert json.loads((out / "audit.json").read_text())["settings"]["format"] == (
        "parquet"
    )
    capsys.readouterr()
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        _items_file,
        "find_spec",
        lambda name: None if name == "pyarrow" else real_find_spec(name),
    )
    fresh = tmp_path / "fresh"
    assert _audit(inter, fresh, *flags, "--format", "parquet") == 1
    err = capsys.readouterr().err.strip()
    assert "--format parquet needs the pyarrow package" in err
    assert "--format csv" in err and not fresh.exists()
    assert _audit(inter, fresh, *flags, "--format", "xml") == 2
    assert "argument --format: invalid choice: 'xml'" in capsys.readouterr().err


@pytest.mark.catalogue(
    "C60",
    input=(
        "The verdict of rows at and around each threshold: gauge stability "
        "0.49, 0.5, 0.9; resample stability near its chance level, below 0.2, "
        "not available; label agreement below 1.5 x chance"
    ),
    outcome=(
        'Correct: "act: accident of the split" with "serve the projected '
        'embedding or train with weight decay" below 0.5; "caution" below 0.9; '
        '"act: near chance" with "filter with --min-item-count N"; "not '
        'available" said so; "ok" above every threshold; the summary is the '
        "most severe level and names the most stable gauge-free row."
    ),
)
def test_verdicts_follow_the_documented_thresholds():
    """C60: the thresholds of cli/_verdicts.py, at their boundaries."""
    chance = 0.01

    def verdict(gauge, resample, label=None, reasons=None):
        row = {
            "name": "m",
            "objective": "Objective 1 (product penalty)",
            "embedding": "decoder",
            "gauge_stability": gauge,
            "resample_stability": resample,
            "label_agreement": label,
            "not_available": reasons or {},
        }
        return _verdicts.row_verdict(
            row, chance_stability=chance, chance_agreement=0.2, min_item_count=20
        )

    low = verdict(_verdicts.GAUGE_ACCIDENT - 0.01, 0.5)
    assert (low["level"], low["short"]) == ("act", "accident of the split")
    assert low["next_step"] == (
        "serve the projected embedding or train with weight decay"
    )
    assert "an accident of the split" in low["text"]
    mid = verdict(_verdicts.GAUGE_ACCIDENT, 0.5)
    assert (mid["level"], mid["short"]) == ("caution", "split-sensitive")
    assert verdict(_verdicts.GAUGE_SOLID, 0.5)["level"] == "ok"
    near = chance + _verdicts.NEAR_CHANCE_MARGIN * (1 - chance)
    at_chance = verdict(1.0, near - 1e-9)
    assert (at_chance["level"], at_chance["short"]) == ("act", "near chance")
    assert at_chance["next_step"] == "filter with --min-item-count 20"
    assert verdict(1.0, near)["short"] == "changes with the data"
    assert verdict(1.0, _verdicts.RESAMPLE_WEAK)["level"] == "ok"
    labels = verdict(1.0, 0.5, label=_verdicts.LABEL_LIFT * 0.2 - 1e-9)
    assert labels["short"] == "labels ~ chance"
    assert verdict(1.0, 0.5, label=_verdicts.LABEL_LIFT * 0.2)["level"] == "ok"
    reason = "fewer than 2 effective components"
    na = verdict(None, None, reasons={"gauge_stability": reason})
    assert na["level"] == "not_available" and "not available (" + reason in na["text"]
    assert "not measured" in na["text"]  # the resample one has no reason
    rows = [
        {"name": "a", "gauge_stability": 0.3, "resample_stability": 0.4,
         "objective": "Objective 1 (product penalty)", "embedding": "decoder"},
        {"name": "b", "gauge_stability": 1.0, "resample_stability": 0.3,
         "objective": "Objective 2 (weight decay)"},
    ]  # fmt: skip
    judged, summary = _verdicts.judge_rows(rows, chance_stability=chance)
    assert [r["verdict"]["level"] for r in judged] == ["act", "ok"]
    assert summary["level"] == "act" and summary["best_model"] == "b"
    assert summary["next_steps"] == [
        "serve the projected embedding or train with weight decay"
    ]


@pytest.mark.catalogue(
    "C61",
    input=(
        "A support curve (users per item, 70 % under 20) and per-item resample "
        "stabilities near chance below 20 users, 0.35 from 20; the same curve "
        "without stabilities; one where no step keeps 20 % of the items"
    ),
    outcome=(
        "Correct: ``--min-item-count`` 20 (the smallest step whose support bin "
        "is no longer near chance, by a brute-force scan of the bins); 10 "
        "without stabilities; None when no step keeps enough items."
    ),
)
def test_min_item_count_is_read_off_the_support_curve():
    """C61: the suggested ``--min-item-count``.

    Regression: the suggestion was always 10, whatever the stabilities said.
    """
    rng = np.random.RandomState(0)
    chance = 0.003
    support = np.where(
        rng.rand(500) < 0.7, rng.randint(1, 20, 500), rng.randint(20, 200, 500)
    )
    per_item = np.where(support >= 20, 0.35, 0.02) + rng.uniform(-0.01, 0.01, 500)
    per_item[rng.rand(500) < 0.3] = np.nan  # not sampled
    steps = _verdicts.MIN_ITEM_COUNT_STEPS
    # Brute force: the first bin [step, next step) whose mean is past chance.
    expected = next(
        lo
        for lo, hi in zip(steps, [*steps[1:], np.inf], strict=True)
        if lo > support.min()
        and np.nanmean(per_item[(support >= lo) & (support < hi)])
        >= chance + _verdicts.NEAR_CHANCE_MARGIN * (1 - chance)
    )
    assert expected == 20
    assert _verdicts.suggest_min_item_count(support, per_item, chance) == 20
    assert _verdicts.suggest_min_item_count(support) == _verdicts.LOW_SUPPORT
    assert (
        _verdicts.suggest_min_item_count(np.r_[np.ones(90), 50 * np.ones(10)]) is None
    )


@pytest.mark.catalogue(
    "C62",
    input=(
        "The item support of a log where 32 % of the items have fewer than 10 "
        "users (MovieLens-100k's share)"
    ),
    outcome=(
        "A warning (it was silent below 50 %) that states the documented share "
        "(25 %) and suggests ``--min-item-count`` from the support curve."
    ),
)
def test_support_warning_fires_at_the_movielens_share():
    """C62: the low-support warning at 32 %.

    Regression: it fired only from 50 %, so MovieLens-100k's 32 % of items
    under 10 users was silent.
    """
    counts = np.r_[np.full(32, 3), np.full(68, 40)]
    support = _audit_log.support_of(counts)
    assert support["share_below"] == pytest.approx(0.32)
    assert support["suggested_min_item_count"] == 10
    (warning,) = _audit_log.audit_warnings(
        support, _audit_log.effective_neighbors(100, 10), 0
    )
    assert "32% of the items have fewer than 10 users" in warning
    assert "the audit warns from 25%" in warning
    assert warning.endswith("Audit the well-supported items with --min-item-count 10.")


@pytest.mark.catalogue(
    "C63",
    input="``skcosim audit`` of a log: the table of audit.md and the terminal's",
    outcome=(
        "No loss column (it compared numbers of different objectives); the "
        "losses listed per objective under the table, Objective 1's once for "
        "its equally optimal rows; every loss still in audit.json."
    ),
)
def test_loss_is_listed_per_objective(tmp_path, capsys, fast_models):
    """C63: the loss is not a column read as "lower is better".

    Regression: the table put Objective 1, 2 and 3 losses in one column.
    """
    inter, _, _ = _recbole_files(tmp_path)
    out = tmp_path / "out"
    assert _audit(inter, out, *RECBOLE_FLAGS[:4]) == 0
    printed = capsys.readouterr().out
    markdown = (out / "audit.md").read_text()
    report = json.loads((out / "audit.json").read_text())
    header = next(line for line in markdown.splitlines() if line.startswith("| "))
    assert "loss" not in header and "loss" not in printed.splitlines()[0]
    assert "Training loss of each model, per objective" in markdown
    for row in report["models"]:
        assert row["loss"] > 0
        assert f"- {row['objective']}: " in markdown


@pytest.mark.catalogue(
    "C64",
    input=(
        "``--item-names`` whose names hold Markdown and HTML (``<img src=x "
        "onerror=...>``, backticks, ``|``, ``**strong** [link](...)``, ``# "
        "heading``, ``&amp;``) and a quoted line break"
    ),
    outcome=(
        "Correct: every name reaches audit.md as text on one line (entities and "
        "backslash escapes): no heading, HTML, code span or broken table row "
        "appears; items.csv and audit.json keep the names exactly."
    ),
)
def test_names_reach_the_report_as_text(tmp_path, capsys, fast_models):
    """C64: hostile names are shown, never rendered."""
    from .test_audit_labels import HOSTILE, _markup

    inter, _, _ = _recbole_files(tmp_path)
    counts = {}
    for row in _read_tsv(inter)[1:]:
        counts[row[1]] = counts.get(row[1], 0) + 1
    popular = sorted(counts, key=lambda i: (-counts[i], i))  # report's order
    hostile = [*HOSTILE, "Fish &amp; Chips", "x\\|y"]
    named = dict(zip(popular, hostile, strict=False))
    names = tmp_path / "names.csv"
    pd.DataFrame({"item_id:token": list(named), "title": list(named.values())}).to_csv(
        names, index=False
    )
    out = tmp_path / "out"
    flags = [*RECBOLE_FLAGS[:4], "--item-names", str(names), "--name-col", "title"]
    assert _audit(inter, out, *flags) == 0, capsys.readouterr().err
    markdown = (out / "audit.md").read_text()
    headings, spans = _markup(markdown)
    assert [h.split(" ")[:2] for h in headings] == [
        ["#", "skcosim"],
        ["##", "What"],
        ["##", "Top"],
        *[["###", "item"]] * _settings.N_SHOWN_ITEMS,
    ]
    assert not any(name in span for span in spans for name in hostile)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "Fish &amp;amp; Chips" in markdown and "x\\\\\\|y" in markdown
    assert "a\\|b" in markdown and "x \\# Injected heading" in markdown
    report = json.loads((out / "audit.json").read_text())
    shown = report["popular_item_neighbors"]
    assert [e["item_name"] for e in shown[: len(hostile)]] == hostile
    items = pd.read_csv(out / "items.csv", dtype=str, keep_default_na=False)
    by_id = dict(zip(items["item_id"], items["name"], strict=True))
    assert [by_id[i] for i in named] == hostile
