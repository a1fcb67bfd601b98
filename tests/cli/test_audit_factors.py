"""``skcosim audit-factors``: the item factors of a model trained elsewhere.

Factors with a known gauge (``V0 D``, ``U0 D^-1``) check the numbers against
the metrics computed directly and by brute force; every option is run,
with good and bad values.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD

from skcosim.cli import _settings, main
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import factor_gauge_stability, sample_gauge
from skcosim.preprocessing import project_factors

from ..metrics._reference import _brute_force

FILES = {**_settings.AUDIT_FACTORS_FILES, "items": "factor_items.csv"}


@pytest.fixture(scope="module")
def model():
    """Factors of TruncatedSVD on clustered data, re-split by a known diagonal
    gauge ``D``: ``U = U0 D^-1``, ``V = V0 D`` (the same scores)."""
    data = make_clustered_interactions(
        n_users=400, n_items=60, n_clusters=4, random_state=0
    )
    svd = TruncatedSVD(n_components=6, random_state=0).fit(data.data)
    U0, V0 = svd.transform(data.data), svd.components_.T
    D = np.diag(sample_gauge("diagonal", 6, random_state=11))
    ids = [f"i{j:02d}" for j in range(60)]
    return {
        "U": U0 / D,
        "V": V0 * D,
        "V0": V0,
        "U0": U0,
        "ids": ids,
        "labels": np.asarray(data.item_labels),
    }


def _write(tmp_path, model, fmt="npy"):
    """The item factors as ``fmt`` and the user factors as .npy; the paths."""
    V, ids = model["V"], model["ids"]
    users = tmp_path / "users.npy"
    np.save(users, model["U"])
    frame = pd.DataFrame(V, columns=[f"f{c}" for c in range(V.shape[1])])
    frame.insert(0, "item", ids)
    if fmt == "npy":
        items = tmp_path / "items.npy"
        np.save(items, V)
        (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
        return items, users, ["--item-ids", str(tmp_path / "ids.txt")]
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
        items = tmp_path / "items.parquet"
        frame.to_parquet(items, index=False)
    else:
        items = tmp_path / f"items.{fmt}"
        frame.to_csv(items, index=False, sep="\t" if fmt == "tsv" else ",")
    return items, users, []


def _run(items, out, *extra, users=None):
    argv = ["audit-factors", "--item-factors", str(items), "--out", str(out)]
    if users is not None:
        argv += ["--user-factors", str(users)]
    return main([*argv, "--no-progress", *extra])


def _report(out):
    return json.loads((out / FILES["json"]).read_text())


def _jaccard(E1, E2, k):
    a, _ = _brute_force(E1, k)
    b, _ = _brute_force(E2, k)
    return np.array(
        [len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a, b, strict=True)]
    )


@pytest.mark.catalogue(
    "C65",
    input=(
        "``skcosim audit-factors`` on item and user factors with a known diagonal "
        "gauge (``V = V0 D``, ``U = U0 D^-1``), ``--group diagonal``"
    ),
    outcome=(
        "Correct: gauge stability 1.0 for the projected embedding (re-split and "
        "projected again, measured) and below 1 for the raw factors, equal to "
        "``factor_gauge_stability`` with the same seed; the raw/projected overlap "
        "and the per-item file match a brute-force Jaccard of ``V`` and "
        "``project_factors(U0, V0)`` (to 1e-12); the JSON has the audit's layout."
    ),
)
def test_known_gauge_gives_the_measured_numbers(tmp_path, capsys, model):
    """C65: factors with a known diagonal gauge, against direct computation."""
    items, users, extra = _write(tmp_path, model)
    out = tmp_path / "out"
    assert _run(items, out, "--group", "diagonal", *extra, users=users) == 0
    report = _report(out)
    raw, projected = report["models"]
    assert projected["gauge_stability"] == 1.0
    expected = factor_gauge_stability(
        model["V"],
        group="diagonal",
        n_neighbors=10,
        n_draws=_settings.AUDIT_GAUGE_DRAWS,
        random_state=0,
    )
    assert raw["gauge_stability"] == expected < 1.0
    # The projection of the re-split factors is that of the original ones.
    overlap = _jaccard(model["V"], project_factors(model["U0"], model["V0"]), 10)
    assert report["raw_projected_overlap"] == pytest.approx(overlap.mean(), abs=1e-12)
    rows = pd.read_csv(out / FILES["items"], dtype={"item_id": str})
    assert list(rows["item_id"]) == model["ids"]
    np.testing.assert_allclose(rows["raw_projected_overlap"], overlap, atol=1e-12)
    # Per item, the mean over the draws is the stability (every item sampled).
    raw_items = rows["gauge_stability [item factors V]"]
    assert raw_items.mean() == pytest.approx(raw["gauge_stability"], abs=1e-12)
    assert (rows["gauge_stability [projected (project_factors(U, V))]"] == 1.0).all()
    assert raw["verdict"]["level"] in ("act", "caution")
    assert "gauge stability" in raw["verdict"]["text"]
    assert projected["verdict"]["level"] == "ok"
    assert "new users" not in projected["verdict"]["text"]
    assert report["verdict"]["level"] == raw["verdict"]["level"]
    # The audit's layout: the same top-level keys, in the same order.
    assert list(report)[:4] == ["command", "skcosim_version", "settings", "n_neighbors"]
    for key in ("models", "popular_item_neighbors", "figure", "labels", "warnings"):
        assert key in report
    assert report["command"] == "audit-factors"
    printed = capsys.readouterr().out
    assert "projected (project_factors(U, V))" in printed


@pytest.mark.catalogue(
    "C66",
    input=(
        "The same item factors as ``.npy`` (with ``--item-ids``), CSV, TSV and "
        "Parquet with an id column, the id column not first (``--id-col``), "
        "without user factors, with each ``--group``"
    ),
    outcome=(
        "Correct: the same numbers from every format; without ``--user-factors`` "
        "one row (the raw factors) and the note that the projected embedding "
        "needs them; ``--group orthogonal`` gives 1.0, ``invertible`` the "
        "``factor_gauge_stability`` of that group."
    ),
)
def test_every_format_and_group_gives_the_same_report(tmp_path, capsys, model):
    """C66: .npy, CSV, TSV, Parquet, --id-col, --group, no user factors."""
    results = {}
    for fmt in ("npy", "csv", "tsv", "parquet"):
        folder = tmp_path / fmt
        folder.mkdir()
        items, users, extra = _write(folder, model, fmt)
        assert _run(items, folder / "out", *extra, users=users) == 0, fmt
        results[fmt] = [r["gauge_stability"] for r in _report(folder / "out")["models"]]
    assert all(v == results["npy"] for v in results.values()), results
    expected = factor_gauge_stability(
        model["V"],
        group="invertible",
        n_draws=_settings.AUDIT_GAUGE_DRAWS,
        random_state=0,
    )
    assert results["npy"] == [expected, 1.0]
    # An id column that is not the first one.
    frame = pd.DataFrame(model["V"], columns=list("abcdef"))
    frame["movie"] = model["ids"]
    items = tmp_path / "last_id.csv"
    frame.to_csv(items, index=False)
    out = tmp_path / "orthogonal"
    assert _run(items, out, "--id-col", "movie", "--group", "orthogonal") == 0
    report = _report(out)
    assert [r["name"] for r in report["models"]] == ["item factors V"]
    assert report["models"][0]["gauge_stability"] == 1.0
    md = (out / FILES["md"]).read_text()
    assert "No user factors (--user-factors)" in md
    # User factors as CSV with their own id column: the same projection.
    users = pd.DataFrame(model["U"], columns=list("abcdef"))
    users.insert(0, "user", [f"u{n}" for n in range(len(users))])
    users.to_csv(tmp_path / "users.csv", index=False)
    with_users = tmp_path / "with_users"
    argv = ["--id-col", "movie", "--user-factors", str(tmp_path / "users.csv")]
    assert _run(items, with_users, *argv) == 0
    assert [r["gauge_stability"] for r in _report(with_users)["models"]] == results[
        "npy"
    ]
    assert pd.read_csv(out / FILES["items"])["item_id"].tolist() == model["ids"]


@pytest.mark.catalogue(
    "C67",
    input=(
        "``--item-labels`` with ``--label-col``, ``--label-sep``, "
        "``--label-item-col``, and ``--item-names`` with ``--name-col`` (RecBole "
        "``.item`` style: ``name:type`` headers, tab separated, genres in one cell)"
    ),
    outcome=(
        "Correct: the label agreement of the raw and projected embeddings as "
        "computed by brute force, the chance level, names next to ids in the "
        "neighbour tables and ``factor_items.csv``; ``--label-item-col`` "
        "defaults to the factor file's id column and is required with ``.npy``."
    ),
)
def test_labels_and_names_reach_the_report(tmp_path, capsys, model):
    """C67: labels (multi-valued cells) and names, by brute force."""
    ids, clusters = model["ids"], model["labels"]
    genres = [f"g{c} extra" if j % 7 == 0 else f"g{c}" for j, c in enumerate(clusters)]
    item_file = tmp_path / "catalogue.item"
    pd.DataFrame(
        {
            "item_id:token": ids,
            "title:token_seq": [f"Title {j}" for j in range(len(ids))],
            "class:token_seq": genres,
        }
    ).to_csv(item_file, sep="\t", index=False)
    items, users, extra = _write(tmp_path, model)
    out = tmp_path / "out"
    labels = ["--item-labels", str(item_file), "--label-col", "class:token_seq"]
    names = ["--item-names", str(item_file), "--name-col", "title:token_seq"]
    names += ["--name-item-col", "item_id:token"]
    argv = [*extra, *labels, "--label-sep", " ", *names]
    assert (
        _run(items, out, *argv, "--label-item-col", "item_id:token", users=users) == 0
    )
    report = _report(out)
    label_sets = [set(g.split()) for g in genres]
    for row, E in zip(
        report["models"],
        [model["V"], project_factors(model["U"], model["V"])],
        strict=True,
    ):
        ind, _ = _brute_force(E, 10)
        by_hand = np.mean(
            [
                np.mean([bool(label_sets[i] & label_sets[j]) for j in nb])
                for i, nb in enumerate(ind)
            ]
        )
        assert row["label_agreement"] == pytest.approx(by_hand, abs=1e-12)
    assert report["labels"]["n_labels"] == 5  # g0..g3 and "extra"
    assert 0 < report["labels"]["chance_agreement"] < 1
    md = (out / FILES["md"]).read_text()
    assert "`i00` Title 0" in md
    chance = report["labels"]["chance_agreement"]
    assert f"random neighbours would score {chance:.3f}" in md
    assert f"Names: {len(ids)} of {len(ids)} items" in md
    rows = pd.read_csv(out / FILES["items"])
    assert rows["name"].tolist() == [f"Title {j}" for j in range(len(ids))]
    assert {
        "label_agreement [item factors V]",
        "label_agreement [projected (project_factors(U, V))]",
    } <= set(rows)
    assert report["names"]["n_named_items"] == len(ids)
    # A CSV factor file: the label file's id column defaults to its id column.
    csv_items, _, _ = _write(tmp_path, model, "csv")
    pd.read_csv(item_file, sep="\t").rename(columns={"item_id:token": "item"}).to_csv(
        tmp_path / "renamed.csv", index=False
    )
    out2 = tmp_path / "out2"
    assert (
        _run(
            csv_items,
            out2,
            "--item-labels",
            str(tmp_path / "renamed.csv"),
            "--label-col",
            "class:token_seq",
            "--label-sep",
            " ",
        )
        == 0
    )
    assert (
        _report(out2)["models"][0]["label_agreement"]
        == report["models"][0]["label_agreement"]
    )
    # .npy factors have no id column name: the label file's must be given.
    assert _run(items, tmp_path / "out3", *extra, *labels) == 1
    assert "--label-item-col is needed with .npy" in capsys.readouterr().err


def _bad_cases(tmp_path, model):
    """(files to write, extra arguments, error text) of each bad value."""
    V, U = model["V"], model["U"]
    with_nan = V.copy()
    with_nan[7, 2] = np.nan
    ids = model["ids"]
    np.save(tmp_path / "good.npy", V)
    np.save(tmp_path / "nan.npy", with_nan)
    np.save(tmp_path / "flat.npy", V[:, 0])
    np.save(tmp_path / "strings.npy", np.array([["a"] * 3] * 60))
    np.save(tmp_path / "users5.npy", U[:, :5])
    np.save(tmp_path / "two.npy", V[:2])
    (tmp_path / "ids59.txt").write_text("\n".join(ids[:59]) + "\n")
    (tmp_path / "dup.txt").write_text("\n".join(["x"] * 60) + "\n")
    frame = pd.DataFrame(V, columns=list("abcdef"))
    frame.insert(0, "item", ids)
    frame.to_csv(tmp_path / "good.csv", index=False)
    bad = frame.astype({"c": object})
    bad.loc[3, "c"] = "oops"
    bad.to_csv(tmp_path / "text.csv", index=False)
    nan_csv = frame.copy()
    nan_csv.loc[4, "b"] = np.nan
    nan_csv.to_csv(tmp_path / "nan.csv", index=False)
    frame[["item"]].to_csv(tmp_path / "only_ids.csv", index=False)
    p = str(tmp_path)
    return [
        (f"{p}/nan.npy", [], "NaN or infinite values in 1 rows, first at item 7"),
        (f"{p}/flat.npy", [], "must be 2-D"),
        (f"{p}/strings.npy", [], "must hold numbers"),
        (f"{p}/good.npy", ["--user-factors", f"{p}/users5.npy"], "5 components"),
        (f"{p}/good.npy", ["--item-ids", f"{p}/ids59.txt"], "has 59 ids but"),
        (f"{p}/good.npy", ["--item-ids", f"{p}/dup.txt"], "59 id(s) repeat another"),
        (f"{p}/good.npy", ["--item-ids", f"{p}/missing.txt"], "No such file"),
        (f"{p}/two.npy", [], "needs at least 3"),
        (f"{p}/good.csv", ["--id-col", "movie"], "has no id column 'movie'"),
        (f"{p}/good.csv", ["--item-ids", f"{p}/ids59.txt"], "--item-ids is for .npy"),
        (f"{p}/only_ids.csv", [], "has only the id column 'item'"),
        (f"{p}/text.csv", [], "'oops'"),
        (f"{p}/nan.csv", [], "missing"),
        (f"{p}/missing.npy", [], "No such file"),
        (f"{p}/good.csv", ["--label-col", "x"], "--label-col is about --item-labels"),
        (f"{p}/good.csv", ["--name-col", "x"], "--name-col is about --item-names"),
        (f"{p}/good.csv", ["--name-item-col", "x"], "--name-item-col is about"),
        (f"{p}/good.csv", ["--item-names", f"{p}/good.csv"], "name the column"),
        (
            f"{p}/good.npy",
            ["--item-names", f"{p}/good.csv"],
            "--name-item-col is needed",
        ),
    ]


@pytest.mark.catalogue(
    "C68",
    input=(
        "Bad values: NaN factors (.npy, CSV), a 1-D or text array, user factors "
        "with another number of components, ``--item-ids`` of the wrong count, "
        "repeated or missing, a missing id column, a file with only ids, a text "
        "cell among the factors, too few items, a missing file, options about "
        "labels or names without their file"
    ),
    outcome=(
        "Exit status 1 and one line on standard error naming the option, the "
        "file and the problem (the row of a NaN, both counts, the columns "
        "found); no report written."
    ),
)
def test_bad_values_are_one_line_errors(tmp_path, capsys, model):
    """C68: each bad value of each option is a one-line error."""
    for items, extra, message in _bad_cases(tmp_path, model):
        out = tmp_path / "out"
        assert _run(items, out, *extra) == 1, message
        err = capsys.readouterr().err
        assert err.startswith("skcosim audit-factors: error: "), err
        assert message in err, (message, err)
        assert len(err.strip().splitlines()) == 1
        assert not out.exists()


@pytest.mark.catalogue(
    "C69",
    input=(
        "``--group`` with an unknown group, no ``--item-factors``, and an "
        "``audit-factors`` report written into a directory that holds an "
        "``audit`` report"
    ),
    outcome=(
        "Usage errors (exit 2) naming the choices or the option; the two "
        "reports keep their own files (``audit_factors.*``, "
        "``factor_items.csv``) side by side."
    ),
)
def test_usage_errors_and_reports_side_by_side(tmp_path, capsys, model):
    """C69: argparse errors; audit and audit-factors share a directory."""
    items, _, extra = _write(tmp_path, model)
    assert _run(items, tmp_path / "o", "--group", "rotation", *extra) == 2
    assert "invalid choice: 'rotation'" in capsys.readouterr().err
    assert main(["audit-factors", "--out", str(tmp_path / "o")]) == 2
    assert "--item-factors" in capsys.readouterr().err
    out = tmp_path / "shared"
    out.mkdir()
    (out / _settings.AUDIT_FILES["md"]).write_text("an audit")
    assert _run(items, out, *extra) == 0
    assert (out / _settings.AUDIT_FILES["md"]).read_text() == "an audit"
    assert {FILES["md"], FILES["json"], FILES["items"]} <= {
        p.name for p in out.iterdir()
    }


@pytest.mark.catalogue(
    "C70",
    input=(
        "``--sep`` (given, or wrong for the file), ``--format parquet``, "
        "``--seed`` (two seeds, a "
        "negative one), ``--out ''``, a ``--label-col``, ``--name-col`` or "
        "``--label-item-col`` the file does not have, a ``--label-sep`` found "
        "in no label"
    ),
    outcome=(
        "Correct: ``--sep '\\t'`` reads the TSV as sniffing does; another seed "
        "draws other gauges (the same seed the same report); the bad values are "
        "errors naming the option or the column (exit 1), or usage errors (2)."
    ),
)
def test_remaining_options_good_and_bad(tmp_path, capsys, model, monkeypatch):
    """C70: --sep, --seed, --out and bad label and name columns."""
    items, _, _ = _write(tmp_path, model, "tsv")
    assert _run(items, tmp_path / "a", "--sep", "\\t") == 0
    assert _run(items, tmp_path / "b") == 0
    assert _report(tmp_path / "a")["models"] == _report(tmp_path / "b")["models"]
    assert _run(items, tmp_path / "c", "--seed", "7") == 0
    seeded = _report(tmp_path / "c")["models"][0]["gauge_stability"]
    assert seeded == factor_gauge_stability(
        model["V"],
        group="invertible",
        n_draws=_settings.AUDIT_GAUGE_DRAWS,
        random_state=7,
    )
    assert seeded != _report(tmp_path / "b")["models"][0]["gauge_stability"]
    # The per-item file as Parquet: the same table.
    pytest.importorskip("pyarrow")
    assert _run(items, tmp_path / "pq", "--format", "parquet") == 0
    parquet = pd.read_parquet(tmp_path / "pq" / FILES["items_parquet"])
    csv = pd.read_csv(tmp_path / "b" / FILES["items"], dtype={"item_id": str})
    assert (parquet["name"] == "").all() and csv["name"].isna().all()
    pd.testing.assert_frame_equal(
        parquet.drop(columns="name"), csv.drop(columns="name"), check_dtype=False
    )
    assert not (tmp_path / "pq" / FILES["items"]).exists()
    # A large catalogue: the gauge draws compare a sample of the items.
    monkeypatch.setattr(_settings, "AUDIT_MAX_ITEMS", 20)
    assert _run(items, tmp_path / "sampled") == 0
    assert (
        "over a random sample of 20 items"
        in (tmp_path / "sampled" / FILES["md"]).read_text()
    )
    monkeypatch.undo()
    assert _run(items, tmp_path / "d", "--sep", ";") == 1
    assert "--sep" in capsys.readouterr().err
    assert _run(items, tmp_path / "e", "--seed", "-1") == 2
    assert "expected an integer from 0" in capsys.readouterr().err
    assert _run(items, "", "--seed", "1") == 2
    assert "expected a directory" in capsys.readouterr().err
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"item": model["ids"], "genre": model["labels"].astype(str)}).to_csv(
        labels, index=False
    )
    for argv, message in [
        (["--item-labels", str(labels), "--label-col", "class"], "class"),
        (["--item-labels", str(labels), "--label-item-col", "movie"], "movie"),
        (["--item-labels", str(labels), "--label-sep", "|"], "--label-sep"),
        (["--item-names", str(labels), "--name-col", "title"], "title"),
    ]:
        assert _run(items, tmp_path / "f", *argv) == 1, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.catalogue(
    "C71",
    input=(
        "Item factors with one component (every cosine +1, -1 or 0), and only 3 "
        "items (every other item is a neighbour)"
    ),
    outcome=(
        "The gauge stability cell reads n/a with its reason (fewer than 2 "
        "effective components), or n/a with a warning that 3 items force the "
        "neighbours; never a number that would be 1.0 whatever the factors."
    ),
)
def test_degenerate_factors_are_not_available(tmp_path, capsys):
    """C71: one component, or so few items that the neighbours are forced."""
    rng = np.random.RandomState(0)
    np.save(tmp_path / "one.npy", rng.rand(30, 1) + 0.1)
    assert _run(tmp_path / "one.npy", tmp_path / "a") == 0
    row = _report(tmp_path / "a")["models"][0]
    assert row["gauge_stability"] is None
    assert (
        row["not_available"]["gauge_stability"] == "fewer than 2 effective components"
    )
    assert "n/a (fewer than 2 effective components)" in capsys.readouterr().out
    np.save(tmp_path / "three.npy", rng.randn(3, 4))
    assert _run(tmp_path / "three.npy", tmp_path / "b") == 0
    report = _report(tmp_path / "b")
    assert report["models"][0]["gauge_stability"] is None
    assert "Only 3 items" in report["warnings"][0]
