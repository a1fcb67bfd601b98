"""The Dask reader and k-core filter give the in-memory matrix, on a real cluster.

Two worker processes of a ``distributed.LocalCluster`` read a partitioned
Parquet dataset (and CSV files) whose users are spread over several files;
the in-memory loader and filter (:func:`load_interactions`,
:func:`filter_interactions`) are the reference.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import filter_interactions, load_interactions

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")

from skcosim.datasets._dask_load import (  # noqa: E402
    filter_interactions_dask,
    read_interactions_dask,
)


def awkward_log(n_rows=3000, seed=0):
    """Long-tailed users and items, users with one interaction, duplicate
    (user, item) rows (summed), and a pair whose values sum to zero."""
    rng = np.random.default_rng(seed)
    users = np.char.add("u", rng.zipf(1.6, n_rows).clip(max=2000).astype(str))
    items = np.char.add("i", rng.zipf(1.3, n_rows).clip(max=400).astype(str))
    values = rng.integers(1, 6, n_rows).astype(float)
    log = pd.DataFrame({"user": users, "item": items, "rating": values})
    cancel = pd.DataFrame(
        {"user": ["u1", "u1"], "item": ["i_zero", "i_zero"], "rating": [2.0, -2.0]}
    )
    return pd.concat([log, cancel], ignore_index=True)


def write_dataset(log, directory, n_files=4, kind="parquet"):
    """The log split into ``n_files`` files in row order (each user's rows
    spread over several files)."""
    directory.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(log)), n_files)):
        part = log.iloc[rows]
        if kind == "parquet":
            part.to_parquet(directory / f"part-{i}.parquet", index=False)
        else:
            part.to_csv(directory / f"part-{i}.csv", index=False)
    return directory


def _stacked(X):
    return sp.vstack([block.compute() for block in X.blocks]).tocsr()


@pytest.mark.catalogue(
    "D02",
    input=(
        "A log in 4 Parquet files (a dataset directory) or 4 CSV files (a glob): "
        "long-tailed users and items, users spread over the files, duplicate "
        "(user, item) rows, a pair whose values sum to 0"
    ),
    outcome=(
        "Correct: the Dask reader gives the in-memory loader's matrix (rows in "
        "the same user order, each user in one block, duplicates summed, the "
        "zero sum not stored) and item ids"
    ),
)
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_dask_reader_gives_the_in_memory_matrix(client, tmp_path, kind):
    """D02: a partitioned log read on Dask is the in-memory matrix."""
    log = awkward_log()
    directory = write_dataset(log, tmp_path / "log", kind=kind)
    path = str(directory) if kind == "parquet" else str(directory / "*.csv")
    bunch = read_interactions_dask(path, "user", "item", "rating")
    reference = load_interactions(log, "user", "item", "rating")
    X = _stacked(bunch.data)
    assert len(bunch.data.chunks[0]) > 1
    assert X.shape == reference.data.shape
    assert bunch.n_nonzero == reference.data.nnz
    assert_array_equal(bunch.item_ids.astype(str), reference.item_ids.astype(str))
    assert abs(X - reference.data).max() == 0
    # Every user sits in one block: block row counts add up to the users.
    assert sum(bunch.data.chunks[0]) == reference.data.shape[0]


@pytest.mark.catalogue(
    "D03",
    input=(
        "The k-core filter (min item count 0-5, or 10^6: nothing kept; min user "
        "count 0-5) on the Dask blocks of a long-tailed log"
    ),
    outcome=(
        "Correct: the same kept users, items, entries and number of passes as "
        "``filter_interactions`` in memory"
    ),
)
@pytest.mark.parametrize("counts", [(0, 0), (3, 2), (2, 5), (5, 5), (10**6, 0)])
def test_dask_k_core_filter_matches_the_in_memory_one(client, tmp_path, counts):
    """D03: the k-core filter on Dask blocks, pass for pass."""
    log = awkward_log(seed=1)
    bunch = read_interactions_dask(
        str(write_dataset(log, tmp_path / "log")), "user", "item"
    )
    reference = load_interactions(log, "user", "item")
    min_items, min_users = counts
    kept = filter_interactions_dask(
        bunch.data, bunch.item_ids, min_item_count=min_items, min_user_count=min_users
    )
    expected = filter_interactions(
        reference, min_item_count=min_items, min_user_count=min_users
    )
    assert kept.n_passes == expected.n_passes
    assert_array_equal(kept.item_ids, expected.item_ids)
    X = _stacked(kept.data)
    assert X.shape == expected.data.shape
    assert_array_equal(X.toarray(), expected.data.toarray())
    assert_array_equal(kept.item_counts, np.diff(expected.data.tocsc().indptr))


@pytest.mark.catalogue(
    "D04",
    input=(
        "The closed forms (Objective 1 with every scaling, Objective 2) fitted "
        "on the Dask array of a partitioned log and on the in-memory matrix"
    ),
    outcome=(
        "Correct: equal singular values and training objectives (rtol 1e-8) "
        "and equal decoder Gram matrices ``B B^T`` (atol 1e-8 of the largest entry)"
    ),
)
def test_closed_forms_on_the_dask_log_equal_the_in_memory_ones(client, tmp_path):
    """D04: the closed forms on the Dask array of a log give the same answers."""
    log = awkward_log(seed=2)
    # Continuous values: no tied singular values, so the cosines are unique.
    log["rating"] = np.random.default_rng(2).uniform(0.5, 5.0, len(log))
    bunch = read_interactions_dask(
        str(write_dataset(log, tmp_path / "log")), "user", "item", "rating"
    )
    X = load_interactions(log, "user", "item", "rating").data
    for model in (
        WeightDecayAutoencoder(8, alpha=3.0),
        DropoutAutoencoder(8, alpha=9.0, gauge="symmetric"),
    ):
        memory = model.__class__(**model.get_params()).fit(X)
        dask = model.__class__(**model.get_params()).fit(bunch.data)
        assert_allclose(dask.singular_values_, memory.singular_values_, rtol=1e-8)
        assert_allclose(dask.objective(bunch.data), memory.objective(X), rtol=1e-8)
        # B B^T: the same for every rotation of the decoder (a cosine of an
        # item with a near-zero row would be rounding noise).
        G_dask, G_memory = (m.decoder_ @ m.decoder_.T for m in (dask, memory))
        assert_allclose(G_dask, G_memory, atol=1e-8 * np.abs(G_memory).max())


@pytest.mark.catalogue(
    "D05",
    input=(
        "A Parquet dataset with a missing user id or dates as values; CSV "
        "files with a value that is not a number, or a missing column; a glob "
        "that matches nothing"
    ),
    outcome=(
        "Refused: a ValueError (TypeError for dates, FileNotFoundError) naming "
        "the column or path"
    ),
)
def test_dask_reader_refuses_bad_logs(client, tmp_path):
    """D05: what the in-memory loader refuses, the Dask reader refuses."""
    log = awkward_log(n_rows=200)
    bad = log.copy()
    bad.loc[5, "user"] = None
    path = str(write_dataset(bad, tmp_path / "missing"))
    with pytest.raises(ValueError, match=r"'user'.*1 missing id"):
        read_interactions_dask(path, "user", "item")
    bad = log.astype({"rating": object})
    bad.loc[7, "rating"] = "x"
    path = str(write_dataset(bad, tmp_path / "text", kind="csv") / "*.csv")
    with pytest.raises(ValueError, match=r"'rating'.*1 value"):
        read_interactions_dask(path, "user", "item", "rating")
    with pytest.raises(ValueError, match=r"'when'.*not found"):
        read_interactions_dask(path, "user", "item", "when")
    dates = log.assign(rating=pd.Timestamp("2024-01-01"))
    path = str(write_dataset(dates, tmp_path / "dates"))
    with pytest.raises(TypeError, match=r"'rating'.*not dates"):
        read_interactions_dask(path, "user", "item", "rating")
    with pytest.raises(FileNotFoundError, match="No file matches"):
        read_interactions_dask(str(tmp_path / "none*.parquet"), "user", "item")
