"""``skcosim audit --dask`` end to end: a partitioned Parquet dataset audited on
a 2-worker LocalCluster gives the in-memory report of the same log.

The audits run in-process on the first and last models of the audit
(``fast_models``) and one resample draw: every Dask computation is a round
trip to the scheduler, and the test must stay within seconds. The
cosine-trained model on Dask is compared with the in-memory one in
``tests/autoencoders/test_cosine_dask.py``.
"""

import json

import numpy as np
import pandas as pd
import pytest

from skcosim import cli
from skcosim.cli import _settings

pytest.importorskip("matplotlib")
pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")
dask = pytest.importorskip("dask")

#: Closed forms: the same spectrum, up to the order of the sums.
LOSS_RTOL = 1e-8
#: Stabilities: the same halves and gauge draws, so the same neighbours up
#: to rounding.
STABILITY_ATOL = 0.01


@pytest.fixture(autouse=True)
def one_resample(monkeypatch):
    monkeypatch.setattr(_settings, "AUDIT_RESAMPLE_DRAWS", 1)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A long-tailed log of 4,000 rows in 3 Parquet files (each user's rows
    spread over them), and the same log as one file."""
    rng = np.random.default_rng(0)
    n = 4000
    log = pd.DataFrame(
        {
            "user": np.char.add("u", rng.zipf(1.5, n).clip(max=900).astype(str)),
            "item": np.char.add("i", rng.zipf(1.3, n).clip(max=150).astype(str)),
        }
    )
    tmp = tmp_path_factory.mktemp("dask_log")
    (tmp / "dataset").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(n), 3)):
        log.iloc[rows].to_parquet(tmp / "dataset" / f"part-{i}.parquet", index=False)
    log.to_parquet(tmp / "log.parquet", index=False)
    items = np.unique(log["item"])
    labels = pd.DataFrame({"item": items, "genre": [f"g{len(i) % 3}" for i in items]})
    labels.to_csv(tmp / "genres.csv", index=False)
    names = pd.DataFrame({"item": items, "title": [f"Title {i}" for i in items]})
    names.to_csv(tmp / "titles.csv", index=False)
    return tmp


def _audit(path, out, *extra):
    argv = ["audit", str(path), "--user-col", "user", "--item-col", "item"]
    flags = ["--min-item-count", "3", "--n-components", "6", "--no-progress"]
    flags += ["--item-labels", str(path.parent / "genres.csv")]
    flags += ["--item-names", str(path.parent / "titles.csv"), "--name-col", "title"]
    assert cli.main([*argv, *flags, "--out", str(out), *extra]) == 0
    return json.loads((out / "audit.json").read_text())


@pytest.mark.catalogue(
    "C73",
    input=(
        "``skcosim audit DIR --dask --dask-workers 2 --dask-memory-limit 1GB`` on "
        "a Parquet dataset of 3 files with ``--min-item-count 3 --item-labels "
        "--item-names``, "
        "against the in-memory audit of the same log"
    ),
    outcome=(
        "Correct: the same data summary, labels, names, neighbour lists and "
        "per-item table (items.csv), closed-form "
        "losses within rtol 1e-8, every stability and label agreement within "
        "0.01, the same JSON layout "
        "plus the cluster it ran on"
    ),
)
def test_dask_audit_gives_the_in_memory_report(dataset, tmp_path, capsys, fast_models):
    """C73: the --dask audit of a partitioned log is the in-memory report."""
    memory = _audit(dataset / "log.parquet", tmp_path / "memory")
    dask = _audit(
        dataset / "dataset",
        tmp_path / "dask",
        "--dask",
        "--dask-workers",
        "2",
        "--dask-memory-limit",
        "1GB",
    )
    assert "dashboard:" in capsys.readouterr().err
    assert dask["data"] == memory["data"]
    assert dask["neighbors"] == memory["neighbors"]
    assert dask["labels"] == memory["labels"]
    assert dask.keys() == memory.keys()
    cluster = dask["settings"].pop("dask")
    assert cluster["n_workers"] == 2 and cluster["local_cluster"]
    assert cluster["memory_limit_bytes"] == 10**9
    memory["settings"].pop("path")
    dask["settings"].pop("path")
    assert dask["settings"] == memory["settings"]
    for row, expected in zip(dask["models"], memory["models"], strict=True):
        assert row["name"] == expected["name"]
        np.testing.assert_allclose(row["loss"], expected["loss"], rtol=LOSS_RTOL)
        for key in (
            "gauge_stability",
            "resample_stability",
            "restart_stability",
            "label_agreement",
        ):
            if expected[key] is None:
                assert row[key] is None
            else:
                assert abs(row[key] - expected[key]) <= STABILITY_ATOL, key
    # Same ids, names and neighbours (the closed forms are the same models).
    assert dask["popular_item_neighbors"] == memory["popular_item_neighbors"]
    items_dask, items_memory = (
        pd.read_csv(tmp_path / run / "items.csv", keep_default_na=False)
        for run in ("dask", "memory")
    )
    assert list(items_dask.columns) == list(items_memory.columns)
    assert items_dask["item_id"].tolist() == items_memory["item_id"].tolist()
    assert items_dask["name"].tolist() == items_memory["name"].tolist()
    for column in items_memory.columns[2:]:
        got = pd.to_numeric(items_dask[column]).to_numpy(dtype=float)
        expected = pd.to_numeric(items_memory[column]).to_numpy(dtype=float)
        np.testing.assert_allclose(got, expected, atol=STABILITY_ATOL, equal_nan=True)
    markdown = (tmp_path / "dask" / "audit.md").read_text()
    assert "Run on Dask: a LocalCluster started for the audit" in markdown


@pytest.mark.catalogue(
    "C74",
    input=(
        "``--dask-workers 2`` without ``--dask``; ``--dask tcp://127.0.0.1:1`` "
        "(no scheduler there); ``--dask-memory-limit lots``"
    ),
    outcome=(
        "Refused: a one-line error naming the option (exit status 1, or 2 for "
        "the usage error), no traceback"
    ),
)
def test_dask_options_are_checked(dataset, tmp_path, capsys):
    """C74: the Dask options are refused with a message, not a traceback."""
    argv = ["audit", str(dataset / "dataset"), "--user-col", "user"]
    argv += ["--item-col", "item", "--out", str(tmp_path / "out"), "--no-progress"]
    assert cli.main([*argv, "--dask-workers", "2"]) == 1
    assert "--dask-workers is about --dask" in capsys.readouterr().err
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert cli.main([*argv, "--dask", "tcp://127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the scheduler" in err and "Traceback" not in err
    assert cli.main([*argv, "--dask", "--dask-memory-limit", "lots"]) == 2
    assert "expected a memory size" in capsys.readouterr().err


class _Bar:
    """A tqdm bar's postfix, recorded."""

    def __init__(self):
        self.postfixes = []

    def set_postfix_str(self, text, refresh=True):
        self.postfixes.append(text)


def _last_count(bar):
    """``(done, total)`` of the bar's last "Dask: done/total tasks" when all
    are done, else None."""
    if not bar.postfixes or not bar.postfixes[-1].startswith("Dask:"):
        return None
    done, total = map(int, bar.postfixes[-1].split()[1].split("/"))
    return (done, total) if done == total else None


@pytest.mark.catalogue(
    "C75",
    input=(
        "``--dask ADDRESS`` of a running 2-worker cluster, a progress bar, and a "
        "Dask computation of 8 blocks inside the audit's session"
    ),
    outcome=(
        "Correct: the session connects to that scheduler and states it (not a "
        "LocalCluster of its own); the bar shows Dask's task count of the "
        "computation up to all tasks done"
    ),
)
def test_dask_session_on_a_running_cluster_shows_dask_progress():
    """C75: --dask ADDRESS, and Dask's progress of each computation."""
    import argparse
    import time

    import dask.array as da
    import distributed

    from skcosim.cli import _audit_dask

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        args = argparse.Namespace(
            dask=cluster.scheduler_address, dask_workers=None, dask_memory_limit=None
        )
        progress = argparse.Namespace(bar=_Bar())
        with _audit_dask.session(args, progress) as info:
            assert info.scheduler == cluster.scheduler_address
            assert not info.local and info.n_workers == 2
            x = da.arange(800, chunks=100)
            assert int(x.sum().compute()) == 800 * 799 // 2
            deadline = time.monotonic() + 10
            while _last_count(progress.bar) is None and time.monotonic() < deadline:
                time.sleep(0.1)  # the last report comes from another thread
        done, total = _last_count(progress.bar) or (0, 0)
        assert done == total >= 8
        assert "Run on Dask: the cluster at tcp://127.0.0.1" in info.text()
