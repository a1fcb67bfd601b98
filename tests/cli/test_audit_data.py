"""Tests of what ``skcosim audit`` says about the log itself: the k-core
filter, item labels, item support and the effective number of neighbours.

The audits run in-process on small simulated logs, with the cosine-trained
model cut to a few iterations as in ``test_commands.py``.
"""

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skcosim import cli
from skcosim.cli import _audit_log, _settings
from skcosim.datasets import (
    filter_interactions,
    load_interactions,
    make_clustered_interactions,
)

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module", autouse=True)
def few_iterations():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_settings, "AUDIT_MAX_ITER", 5)
        yield


def _write_log(path, X, item_names=None):
    rows, cols = X.nonzero()
    names = item_names if item_names is not None else [f"m{c:03d}" for c in cols]
    pd.DataFrame({"user": [f"u{r}" for r in rows], "item": names}).to_csv(
        path, index=False
    )
    return path


def _run(log, out, *extra):
    argv = ["audit", str(log), "--user-col", "user", "--item-col", "item"]
    status = cli.main([*argv, "--n-components", "3", "--out", str(out), *extra])
    report = json.loads((out / "audit.json").read_text()) if status == 0 else None
    markdown = (out / "audit.md").read_text() if status == 0 else None
    return status, report, markdown


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """300 users x 40 items in 4 clusters, and a label file: every labelled
    item has its cluster, every third also a shared "all" label, items 30-39
    (cluster 3) have none, and two ids are not items of the log."""
    sim = make_clustered_interactions(300, 40, 4, random_state=0)
    tmp = tmp_path_factory.mktemp("clustered")
    log = _write_log(tmp / "log.csv", sim.data)
    rows = [(f"m{i:03d}", f"cluster{sim.item_labels[i]}") for i in range(30)]
    rows += [(f"m{i:03d}", "all") for i in range(0, 30, 3)]
    rows += [("m999", "cluster0"), ("zzz", "all")]
    labels = tmp / "labels.tsv"
    pd.DataFrame(rows, columns=["item", "genre"]).to_csv(labels, sep="\t", index=False)
    return sim, log, labels


@pytest.fixture(scope="module")
def labelled_audit(clustered, tmp_path_factory):
    _, log, labels = clustered
    out = tmp_path_factory.mktemp("labelled")
    return _run(log, out, "--item-labels", str(labels), "--no-progress")


# -- help ---------------------------------------------------------------------


def test_audit_help_shows_the_new_flags(capsys):
    assert cli.main(["audit", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--min-item-count",
        "--min-user-count",
        "--item-labels",
        "--label-col",
    ):
        assert flag in out


# -- item labels ----------------------------------------------------------------


def test_audit_fills_label_agreement_from_a_multi_label_file(labelled_audit):
    status, report, markdown = labelled_audit
    assert status == 0
    info = report["labels"]
    assert info["label_col"] == "genre"
    assert info["n_labeled_items"] == 30 and info["n_items"] == 40
    assert info["n_labels"] == 4  # clusters 0-2 (items 0-29) and "all"
    assert info["n_unknown_item_ids"] == 2
    assert sorted(info["unknown_item_ids_sample"]) == ["m999", "zzz"]
    # Random neighbours: 9 of 39 items share the cluster, more with "all".
    assert 9 / 39 < info["chance_agreement"] < 0.5
    models = {m["name"]: m for m in report["models"]}
    for model in models.values():
        assert 0.0 <= model["label_agreement"] <= 1.0
    # Weight decay finds the clusters: well above random neighbours.
    assert models["Objective 2 (weight decay)"]["label_agreement"] > 0.6
    assert "30 of 40 items have at least one of 4 labels" in markdown
    assert "2 item id(s) of the label file are not items of the log" in markdown


def test_label_agreement_leaves_unlabelled_items_out(
    clustered, labelled_audit, tmp_path
):
    """Items 30-39 have no label and are left out of the mean. Give each a
    label of its own: they agree with nobody, nothing else changes, so the
    mean over 40 items is the mean over the 30 labelled ones times 30/40."""
    _, log, labels = clustered
    frame = pd.read_csv(labels, sep="\t", dtype=str)
    own = [f"m{i:03d}" for i in range(30, 40)]
    lonely = pd.DataFrame({"item": own, "genre": [f"only-{i}" for i in own]})
    more = tmp_path / "more.csv"
    pd.concat([frame, lonely]).to_csv(more, index=False)
    status, report, _ = _run(log, tmp_path / "out", "--item-labels", str(more))
    assert status == 0 and report["labels"]["n_labeled_items"] == 40
    first = labelled_audit[1]
    for a, b in zip(first["models"], report["models"], strict=True):
        assert b["gauge_stability"] == a["gauge_stability"]  # the same fits
        np.testing.assert_allclose(
            b["label_agreement"], a["label_agreement"] * 30 / 40, rtol=1e-9
        )


@pytest.mark.parametrize(
    "content, extra, message",
    [
        ("item,genre\n", (), "no labels"),
        ("product,genre\nm001,a\n", (), "['item'] not found"),
        ("item,genre,year\nm001,a,1999\n", (), "--label-col"),
        ("item,genre\nm001,a\n", ("--label-col", "tag"), "['tag'] not found"),
        ("item,genre\nnope,a\n", (), "None of the 1 item ids"),
        ("item,genre\nm001,\n", (), "missing label(s)"),
    ],
)
def test_bad_label_files_stop_the_audit_in_one_line(
    clustered, tmp_path, capsys, content, extra, message
):
    path = tmp_path / "labels.csv"
    path.write_text(content)
    out = tmp_path / "out"
    status, _, _ = _run(clustered[1], out, "--item-labels", str(path), *extra)
    assert status == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and message in err.strip().splitlines()[-1]
    assert not out.exists()  # the run created it, and removed it


def test_label_col_without_a_label_file_is_an_error(clustered, tmp_path, capsys):
    assert _run(clustered[1], tmp_path, "--label-col", "genre")[0] == 1
    assert "give both" in capsys.readouterr().err


def test_labels_of_filtered_out_items_are_not_unknown(clustered, tmp_path, capsys):
    sim, log, labels = clustered
    popularity = np.diff(sim.data.tocsc().indptr)
    status, report, _ = _run(
        log, tmp_path, "--item-labels", str(labels), "--min-item-count", "100"
    )
    assert status == 0
    kept = int(np.sum(popularity >= 100))
    assert kept < 40
    assert report["labels"]["n_items"] == report["data"]["n_items"] == kept
    assert report["labels"]["n_unknown_item_ids"] == 2


# -- the k-core filter ----------------------------------------------------------


def test_filter_flags_give_sizes_before_and_after(clustered, tmp_path):
    sim, log, _ = clustered
    status, report, markdown = _run(
        log, tmp_path, "--min-item-count", "25", "--min-user-count", "15"
    )
    assert status == 0
    expected = filter_interactions(
        load_interactions(log, "user", "item"), min_item_count=25, min_user_count=15
    )
    data = report["data"]
    before = {"n_users": 300, "n_items": 40, "n_nonzero": sim.data.nnz}
    assert data["before_filter"] == before
    assert (data["n_users"], data["n_items"]) == expected.data.shape
    assert data["n_nonzero"] == expected.data.nnz < sim.data.nnz
    assert data["filter_passes"] == expected.n_passes
    assert report["settings"]["min_item_count"] == 25
    assert f"passes): {data['n_users']} users x {data['n_items']} items" in markdown
    assert data["item_support"]["min"] >= 25


def test_filter_that_leaves_too_few_items_names_the_flags(clustered, tmp_path, capsys):
    status, _, _ = _run(clustered[1], tmp_path, "--min-item-count", "100000")
    assert status == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "0 left by --min-item-count 100000" in line and "lower them" in line


# -- item support -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse_log(tmp_path_factory):
    """2000 users, 300 items, 2 interactions per user on average: most items
    have fewer than 10 users."""
    sim = make_clustered_interactions(2000, 300, 3, n_interactions=2, random_state=0)
    return _write_log(tmp_path_factory.mktemp("sparse") / "log.csv", sim.data), sim


def test_low_item_support_warns_and_suggests_the_filter(sparse_log, tmp_path, capsys):
    log, sim = sparse_log
    support = np.diff(sim.data.tocsc().indptr)
    support = support[support > 0]  # items never drawn are not in the log
    share = np.mean(support < _audit_log.LOW_SUPPORT)
    assert share >= _audit_log.LOW_SUPPORT_SHARE  # the premise of the test
    status, report, markdown = _run(log, tmp_path, "--no-progress")
    assert status == 0
    assert report["data"]["item_support"]["share_below"] == pytest.approx(share)
    assert report["data"]["item_support"]["median"] == np.median(support)
    (warning,) = report["warnings"]
    assert f"{share:.0%} of the items have fewer than 10 users" in warning
    assert "--min-item-count 10" in warning
    assert f"**Warning.** {warning}" in markdown
    assert f"warning: {warning}" in capsys.readouterr().out


def test_no_low_support_warning_after_the_suggested_filter(sparse_log, tmp_path):
    status, report, _ = _run(sparse_log[0], tmp_path, "--min-item-count", "10")
    assert status == 0
    assert report["data"]["item_support"]["share_below"] == 0
    assert report["warnings"] == []


@pytest.mark.parametrize(
    "share, warned",
    [
        (_audit_log.LOW_SUPPORT_SHARE - 0.01, False),
        (_audit_log.LOW_SUPPORT_SHARE, True),
        (0.32, True),  # MovieLens-100k
        (0.9, True),
    ],
)
def test_low_support_warning_threshold(share, warned):
    support = {"share_below": share, "threshold": 10, "median": 9.0}
    neighbors = _audit_log.effective_neighbors(1000, 10)
    assert bool(_audit_log.audit_warnings(support, neighbors, 0)) is warned


# -- the effective number of neighbours ------------------------------------------


def _few_items_log(path, n_items, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((80, n_items)) < 0.5).astype(float)
    return _write_log(path, sp.csr_matrix(X))


def test_eight_items_state_the_effective_k_and_report_no_forced_score(tmp_path):
    log = _few_items_log(tmp_path / "log.csv", 8)
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"item": [f"m{i:03d}" for i in range(8)], "g": list("aabbccdd")}
    ).to_csv(labels, index=False)
    status, report, markdown = _run(log, tmp_path / "out", "--item-labels", str(labels))
    assert status == 0
    assert report["n_neighbors"] == 7
    assert report["neighbors"] == {
        "requested": 10,
        "effective": 7,
        "n_candidates": 7,
        "chance_stability": 1.0,
        "forced": True,
    }
    for model in report["models"]:
        assert model["gauge_stability"] is None
        assert model["resample_stability"] is None
        assert model["label_agreement"] is None
        assert model["loss"] > 0
    assert "top-7 (not 10: each item has only 7 others)" in markdown
    assert "Jaccard@7" in markdown and "Jaccard@10" not in markdown
    rows = [
        line
        for line in markdown.splitlines()
        if "| Objective " in line and not line.startswith("| rank")
    ]
    assert len(rows) == len(report["models"])
    assert all("| n/a | n/a | n/a | not_available: n/a |" in row for row in rows)
    assert any("Only 8 items" in w for w in report["warnings"])


def test_few_items_state_the_chance_level_of_the_stabilities(tmp_path):
    log = _few_items_log(tmp_path / "log.csv", 15)
    status, report, markdown = _run(log, tmp_path / "out")
    assert status == 0
    neighbors = report["neighbors"]
    assert neighbors["effective"] == 10 and not neighbors["forced"]
    assert 0.5 < neighbors["chance_stability"] < 0.6  # 10 of 14 others
    assert any("Jaccard 0.56" in w for w in report["warnings"])
    # Reported, or not available for a stated reason (never blanked as forced).
    assert all(
        m["gauge_stability"] is not None or m["not_available"]["gauge_stability"]
        for m in report["models"]
    )
    assert f"Jaccard {neighbors['chance_stability']:.3g} on average" in markdown


# -- the default embedding, not-available stabilities, restart stability ------


@pytest.mark.catalogue(
    "C30",
    input="The model rows of ``skcosim audit`` (the comparison behind them)",
    outcome=(
        "The Objective 1 rows score the raw decoder and say so "
        '(``embedding="decoder"`` and a note); every other row scores its '
        "estimator's default embedding (``_default_embedding``), the "
        "neighbours of an explicit ``item_embeddings(embedding)``"
    ),
)
def test_audit_rows_use_the_estimators_default_embedding(clustered):
    """C30: the CLI's rows and the estimators share one default."""
    from skcosim.cli import _models
    from skcosim.metrics import cosine_neighbors

    sim, _, _ = clustered
    specs = _models.default_models(4, 3.0, random_state=0, max_iter=5)
    results = _models.compare_models(specs, sim.data, n_draws=1, resample_draws=1)
    rows = _models.rows_of(results)
    for res, row in zip(results, rows, strict=True):
        model = res.model
        if row["name"].startswith("Objective 1,") and "projected" not in row["name"]:
            assert row["embedding"] == "decoder"
            assert any('embedding="decoder"' in note for note in row["notes"])
        else:
            assert row["embedding"] == type(model)._default_embedding
        explicit = model.item_embeddings(row["embedding"])
        np.testing.assert_array_equal(res.embeddings, explicit)
        table = _models.neighbor_table([res], [0, 1, 2], 5)
        expected = cosine_neighbors(explicit, 5, queries=np.arange(3))[0]
        for i in range(3):
            assert table[i][row["name"]] == list(expected[i])
    projected = next(r for r in rows if "projected" in r["name"])
    assert projected["embedding"] == "projected"


@pytest.mark.slow
@pytest.mark.catalogue(
    "C31",
    input=(
        "``skcosim audit --alpha`` that leaves exactly one component of "
        "Objective 2 (and of the cosine model's start)"
    ),
    outcome=(
        'The stability cells read "n/a (fewer than 2 effective components)", the JSON '
        "has null and ``not_available`` with the reason"
    ),
)
def test_audit_reports_one_component_stability_as_not_available(clustered, tmp_path):
    """C31: no perfect stability from one component."""
    sim, log, _ = clustered
    s = np.linalg.svd(sim.data.toarray(), compute_uv=False)
    alpha = (s[0] + s[1]) / 2
    status, report, markdown = _run(log, tmp_path / "out", "--alpha", str(alpha))
    assert status == 0
    row = next(m for m in report["models"] if m["name"].startswith("Objective 2"))
    assert row["gauge_stability"] is None
    assert (
        row["not_available"]["gauge_stability"] == "fewer than 2 effective components"
    )
    line = next(
        x
        for x in markdown.splitlines()
        if "| Objective 2 (weight decay) |" in x and not x.startswith("| rank")
    )
    assert "n/a (fewer than 2 effective components)" in line
    assert "-1" not in line


@pytest.mark.catalogue(
    "C32",
    input="``skcosim audit`` (JSON and Markdown) of a clustered log",
    outcome=(
        "The cosine-trained row has ``restart_stability`` in [0, 1] (fits "
        "from random starts) and a note giving it; other rows have null"
    ),
)
def test_audit_reports_restart_stability_of_the_cosine_row(labelled_audit):
    """C32: restart stability in the audit."""
    status, report, markdown = labelled_audit
    assert status == 0
    for row in report["models"]:
        if row["name"].startswith("Objective 3"):
            assert 0.0 <= row["restart_stability"] <= 1.0
            assert any(n.startswith("restart stability") for n in row["notes"])
        else:
            assert row["restart_stability"] is None
    assert "restart stability" in markdown
