"""``skcosim audit`` on files as people have them: RecBole's ``.inter`` and
``.item`` (tab separated, ``name:type`` headers, genres in one ``token_seq``
cell), ``--sep``, ``--label-sep`` and ``--label-item-col``.

The audits run in-process with two cheap models (as in ``test_faults.py``).
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import skcosim.metrics
from skcosim.cli import _settings, main

pytest.importorskip("matplotlib")

GENRES = ["Action", "Adventure", "Thriller", "Drama", "Comedy", "Sci-Fi", "War"]


@pytest.fixture
def fast_models(fast_models, monkeypatch):
    """The shared two models (tests/cli/conftest.py), cut to a few iterations."""
    monkeypatch.setattr(_settings, "AUDIT_MAX_ITER", 5)


def _recbole_files(directory, n_users=40, n_items=30, seed=0):
    """A RecBole-like ``.inter`` and ``.item``: long-tailed items (one with a
    single user), genres as ``token_seq`` cells (a repeated genre, double
    spaces), an item without a row in ``.item`` and a row of an unknown item.

    Returns the two paths and ``{item id: set of genres}``.
    """
    rng = np.random.RandomState(seed)
    popularity = 0.9 / (1 + np.arange(n_items)) ** 0.7
    X = rng.rand(n_users, n_items) < popularity
    X[:, -1] = False
    X[0, -1] = True  # an item with a single user
    X[1] = False
    X[1, 0] = True  # a user with a single item
    users, items = np.nonzero(X)
    inter = directory / "toy.inter"
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    lines += [
        f"{100 + u}\t{7 + 3 * i}\t{1 + (u + i) % 5}\t{880000000 + n}"
        for n, (u, i) in enumerate(zip(users, items, strict=True))
    ]
    inter.write_text("\n".join(lines) + "\n")
    genres = {}
    rows = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    for i in range(n_items - 1):  # the last item has no labels
        picked = rng.choice(GENRES, size=1 + i % 3, replace=False).tolist()
        genres[str(7 + 3 * i)] = set(picked)
        cell = " ".join(picked + picked[:1]) if i == 2 else "  ".join(picked)
        rows.append(f"{7 + 3 * i}\tMovie Number {i}\t{1990 + i}\t{cell}")
    rows.append("999\tNot In The Log\t1999\tDrama War")
    item = directory / "toy.item"
    item.write_text("\n".join(rows) + "\n")
    return inter, item, genres


RECBOLE_FLAGS = [
    "--user-col",
    "user_id:token",
    "--item-col",
    "item_id:token",
    "--label-col",
    "class:token_seq",
    "--label-sep",
    " ",
]


def _audit(log, out, *extra):
    argv = ["audit", str(log), "--out", str(out), "--n-components", "3"]
    return main([*argv, "--no-progress", *extra])


def _scores(report):
    """The models' rows of a JSON report without their timings."""
    return [
        {key: v for key, v in row.items() if "seconds" not in key}
        for row in report["models"]
    ]


def _brute_agreement(E, label_sets, k):
    """Mean share of each labelled item's top-k cosine neighbours (self
    excluded, ties by index) sharing a label with it, by loops over items."""
    norms = np.linalg.norm(E, axis=1)
    scores = []
    for i, own in enumerate(label_sets):
        if not own:
            continue  # unlabelled: left out of the mean
        if norms[i] == 0:
            scores.append(0.0)
            continue
        cos = [
            (E[i] @ E[j]) / (norms[i] * norms[j]) if norms[j] else 0.0
            for j in range(len(E))
        ]
        order = sorted((j for j in range(len(E)) if j != i), key=lambda j: -cos[j])
        scores.append(np.mean([bool(own & label_sets[j]) for j in order[:k]]))
    return float(np.mean(scores))


@pytest.mark.catalogue(
    "C50",
    input=(
        "``skcosim audit toy.inter --user-col user_id:token --item-col "
        "item_id:token --item-labels toy.item --label-col class:token_seq "
        '--label-sep " "`` on RecBole-like files (tab separated, ``name:type`` '
        "headers, genres ``Action  Adventure Thriller`` in one cell)"
    ),
    outcome=(
        "Correct: the audit runs on the files as they are; the labels are the "
        "genres (not their combinations) and each model's label agreement equals "
        "a brute-force multi-label computation on its embedding (to 1e-12)."
    ),
)
def test_audit_of_recbole_files_scores_the_genres(
    tmp_path, capsys, fast_models, monkeypatch
):
    """C50: the RecBole command of the issue, end to end.

    Regression: the ``.inter`` file was read comma separated ("Column(s)
    ['user_id:token', 'item_id:token'] not found"), and ``--label-sep`` did
    not exist, so each genre combination counted as one label.
    """
    inter, item, genres = _recbole_files(tmp_path)
    seen = []
    original = skcosim.metrics.neighbor_label_agreement

    def recording(E, labels, n_neighbors=10, **kwargs):
        result = original(E, labels, n_neighbors, **kwargs)
        seen.append((np.array(E), n_neighbors, result))
        return result

    monkeypatch.setattr(skcosim.metrics, "neighbor_label_agreement", recording)
    out = tmp_path / "out"
    status = _audit(inter, out, *RECBOLE_FLAGS, "--item-labels", str(item))
    assert status == 0, capsys.readouterr().err
    report = json.loads((out / "audit.json").read_text())
    info = report["labels"]
    item_ids = sorted(
        {line.split("\t")[1] for line in inter.read_text().split("\n")[1:-1]}
    )
    used = set().union(*(genres.get(i, set()) for i in item_ids))
    assert info["n_labels"] == len(used)
    assert info["n_labeled_items"] == sum(i in genres for i in item_ids)
    assert info["n_labeled_items"] < len(item_ids)
    unknown = {"999", *genres} - set(item_ids)
    assert info["n_unknown_item_ids"] == len(unknown) and info["label_sep"] == " "
    assert report["settings"]["label_sep"] == " "
    assert report["settings"]["label_item_col"] == "item_id:token"
    label_sets = [genres.get(i, set()) for i in item_ids]
    agreements = [m["label_agreement"] for m in report["models"]]
    assert len(seen) == len(agreements) == 2
    for (E, k, result), reported in zip(seen, agreements, strict=True):
        assert E.shape[0] == len(item_ids)
        assert reported == pytest.approx(_brute_agreement(E, label_sets, k), abs=1e-12)
        assert reported == pytest.approx(np.nanmean(result), abs=1e-12)
    assert "--label-sep" not in " ".join(report["warnings"])


@pytest.mark.catalogue(
    "C51",
    input=(
        "``skcosim audit`` of a TSV log through a pipe without ``--sep``; of a "
        "``;`` separated log with ``--sep ';'``; ``--sep ''``, ``--sep ';;'``; "
        "``--sep ';'`` on a comma separated log"
    ),
    outcome=(
        "Correct: the report of the same log written as a file; bad values are a "
        'usage error naming ``--sep`` (exit status 2), or "does not occur in the '
        'header line" (exit status 1).'
    ),
)
@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux)")
def test_sep_of_the_audit(tmp_path, capsys, fast_models):
    """C51: ``--sep``, and the separator sniffed from a pipe's header.

    Regression: a TSV through a pipe was read comma separated and could
    never be audited; there was no ``--sep``.
    """
    inter, _, _ = _recbole_files(tmp_path)
    cols = RECBOLE_FLAGS[:4]
    assert _audit(inter, tmp_path / "file", *cols) == 0
    expected = json.loads((tmp_path / "file" / "audit.json").read_text())
    read_end, write_end = os.pipe()
    content = inter.read_bytes()
    assert len(content) < 60_000  # fits in the pipe buffer: written up front
    os.write(write_end, content)
    os.close(write_end)
    try:
        assert _audit(f"/dev/fd/{read_end}", tmp_path / "pipe", *cols) == 0
    finally:
        os.close(read_end)
    piped = json.loads((tmp_path / "pipe" / "audit.json").read_text())
    assert _scores(piped) == _scores(expected)
    semi = tmp_path / "log.txt"
    semi.write_text(inter.read_text().replace("\t", ";"))
    assert _audit(semi, tmp_path / "semi", *cols, "--sep", ";") == 0
    semicolon = json.loads((tmp_path / "semi" / "audit.json").read_text())
    assert _scores(semicolon) == _scores(expected)
    assert semicolon["settings"]["sep"] == ";"
    capsys.readouterr()
    for bad in ("", ";;", "\n"):
        assert _audit(inter, tmp_path / "bad", *cols, "--sep", bad) == 2
        assert "argument --sep: expected one character" in capsys.readouterr().err
    assert _audit(inter, tmp_path / "bad", *cols, "--sep", ";") == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "sep=';' (--sep on the command line) does not occur in the header" in err


@pytest.mark.catalogue(
    "C52",
    input=(
        "``skcosim audit --label-sep ''``; ``--label-sep ';'`` on genres "
        "separated by spaces; ``--label-sep`` without ``--item-labels``"
    ),
    outcome=(
        "A usage error naming ``--label-sep`` (exit status 2); a one-line error "
        "\"label_sep=';' (--label-sep ...) occurs in none of the ... labels\"; "
        '"--label-sep is about --item-labels: give both" (exit status 1).'
    ),
)
def test_bad_label_sep_of_the_audit(tmp_path, capsys, fast_models):
    """C52: ``--label-sep`` values that cannot split the labels."""
    inter, item, _ = _recbole_files(tmp_path)
    flags = [*RECBOLE_FLAGS[:6], "--item-labels", str(item)]
    assert _audit(inter, tmp_path / "out", *flags, "--label-sep", "") == 2
    assert "argument --label-sep: expected a non-empty" in capsys.readouterr().err
    assert _audit(inter, tmp_path / "out", *flags, "--label-sep", ";") == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert "label_sep=';' (--label-sep on the command line) occurs in none" in err
    assert _audit(inter, tmp_path / "out", *RECBOLE_FLAGS) == 1
    assert "--label-col is about --item-labels: give both" in capsys.readouterr().err


@pytest.mark.catalogue(
    "C53",
    input=(
        "``skcosim audit --item-col movie --item-labels toy.item "
        "--label-item-col item_id:token``; a ``--label-item-col`` that the "
        "label file does not have; the log's ``--item-col`` missing from it"
    ),
    outcome=(
        "Correct: the labels are matched by the label file's own id column; a "
        "missing one is a one-line error naming the column, the file's columns "
        "and ``--label-item-col`` (exit status 1)."
    ),
)
def test_label_item_col_of_the_audit(tmp_path, capsys, fast_models):
    """C53: the label file's own id column.

    Regression: the label file had to name its id column as the log does.
    """
    inter, item, _ = _recbole_files(tmp_path)
    log = tmp_path / "log.csv"
    log.write_text(
        inter.read_text()
        .replace("\t", ",")
        .replace("user_id:token", "user")
        .replace("item_id:token", "movie")
    )
    cols = ["--user-col", "user", "--item-col", "movie"]
    labels = ["--item-labels", str(item), *RECBOLE_FLAGS[4:]]
    assert (
        _audit(inter, tmp_path / "ref", *RECBOLE_FLAGS, "--item-labels", str(item)) == 0
    )
    expected = json.loads((tmp_path / "ref" / "audit.json").read_text())
    out = tmp_path / "own"
    assert _audit(log, out, *cols, *labels, "--label-item-col", "item_id:token") == 0
    report = json.loads((out / "audit.json").read_text())
    assert _scores(report) == _scores(expected)
    assert report["labels"]["n_labels"] == expected["labels"]["n_labels"]
    assert report["settings"]["label_item_col"] == "item_id:token"
    capsys.readouterr()
    for extra in (["--label-item-col", "item"], []):
        assert _audit(log, tmp_path / "bad", *cols, *labels, *extra) == 1
        err = capsys.readouterr().err.strip().splitlines()[-1]
        missing = extra[1] if extra else "movie"
        assert f"Column(s) ['{missing}'] not found in file" in err
        assert "item_id:token" in err and "--label-item-col" in err


@pytest.mark.catalogue(
    "C54",
    input=(
        "``skcosim audit --item-labels toy.item --label-col class:token_seq`` "
        "without ``--label-sep``, the genres ``Action Adventure Thriller`` in "
        "one cell"
    ),
    outcome=(
        "Correct for what it reads (each combination one label), and the "
        "report warns that most labels hold whitespace, naming ``--label-sep``."
    ),
)
def test_audit_warns_about_multi_valued_labels(tmp_path, capsys, fast_models):
    """C54: the warning of a label file read without ``--label-sep``.

    Regression: on MovieLens-100k the audit counted 216 genre combinations
    as labels without a word.
    """
    inter, item, genres = _recbole_files(tmp_path)
    flags = [*RECBOLE_FLAGS[:6], "--item-labels", str(item)]
    out = tmp_path / "out"
    assert _audit(inter, out, *flags) == 0
    report = json.loads((out / "audit.json").read_text())
    warned = [w for w in report["warnings"] if "--label-sep" in w]
    assert len(warned) == 1 and "hold whitespace" in warned[0]
    assert "--label-sep" in (out / "audit.md").read_text()
    assert "--label-sep" in capsys.readouterr().out
    cell = dict(line.split("\t")[::3] for line in item.read_text().split("\n")[1:-1])
    item_ids = {line.split("\t")[1] for line in inter.read_text().split("\n")[1:-1]}
    combinations = {cell[i] for i in item_ids if i in cell}
    assert report["labels"]["n_labels"] == len(combinations)
    assert len(combinations) > len(set().union(*genres.values()))
