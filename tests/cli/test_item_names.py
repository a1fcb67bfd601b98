"""The names file of ``--item-names`` (``skcosim.cli._item_names``), read by
the loader of the log: CSV, RecBole's ``.item``, Parquet."""

import numpy as np
import pandas as pd
import pytest

from skcosim.cli._item_names import read_item_names


@pytest.mark.catalogue(
    "L60",
    input=(
        "A names file as RecBole's tab-separated ``.item`` (``item_id:token``, "
        "``movie_title:token_seq``), as a CSV and as Parquet with integer ids; "
        "log ids ``7``, ``10``, ``007``, ``99`` (the last without a row); an "
        "empty name cell"
    ),
    outcome=(
        "Correct: the same names from every format, aligned with the log's ids "
        "compared as text (``007`` is not ``7``); empty for an item without a "
        "row or with an empty cell, counted; ids of the file that are not items "
        "counted."
    ),
)
def test_names_of_every_format_match_the_log_ids_as_text(tmp_path):
    """L60: the names of the log's items, whatever the file's format."""
    rows = [(7, "Toy Story"), (10, "Richard III"), (12, ""), (55, "Not Audited")]
    item = tmp_path / "toy.item"
    item.write_text(
        "item_id:token\tmovie_title:token_seq\tclass:token_seq\n"
        + "".join(f"{i}\t{t}\tDrama\n" for i, t in rows)
    )
    csv = tmp_path / "names.csv"
    pd.DataFrame(rows, columns=["movie", "title"]).to_csv(csv, index=False)
    log_ids = pd.Index(["007", "10", "12", "7", "99"])
    expected = ["", "Richard III", "", "Toy Story", ""]
    names, info = read_item_names(
        item, "item_id:token", "movie_title:token_seq", log_ids
    )
    assert list(names) == expected
    assert info["n_named_items"] == 2 and info["n_unnamed_items"] == 3
    assert info["unnamed_item_ids_sample"] == ["007", "12", "99"]
    assert info["n_unknown_item_ids"] == 1
    assert list(read_item_names(csv, "movie", "title", log_ids)[0]) == expected
    assert list(read_item_names(csv, "movie", None, log_ids)[0]) == expected
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "names.parquet"
    frame = pd.DataFrame(rows, columns=["movie", "title"]).replace("", None)
    frame["movie"] = frame["movie"].astype(np.int64)
    frame.to_parquet(parquet)
    assert list(read_item_names(parquet, "movie", "title", log_ids)[0]) == expected


@pytest.mark.catalogue(
    "L61",
    input=(
        "A names file with a missing id cell; with an id on two rows (CSV and "
        "Parquet); with the same column as ids and names; a directory"
    ),
    outcome=(
        "A ``ValueError`` naming the file, ``--item-names`` and the line (CSV) "
        "or row (Parquet) of the problem; ``--name-col and --name-item-col "
        'must differ``; "is a directory".'
    ),
)
def test_bad_names_files_name_the_line(tmp_path):
    """L61: names files that cannot give one name per item."""
    log_ids = pd.Index(["1", "2"])
    missing = tmp_path / "missing.csv"
    missing.write_text("item,title\n1,One\n,Nobody\n")
    with pytest.raises(ValueError, match=r"1 missing item id\(s\), first on line 3"):
        read_item_names(missing, "item", "title", log_ids)
    twice = tmp_path / "twice.csv"
    twice.write_text("item,title\n1,One\n2,Two\n1,Uno\n")
    with pytest.raises(
        ValueError, match=r"gives item '1' a name twice \(line 2 and line 4"
    ):
        read_item_names(twice, "item", "title", log_ids)
    with pytest.raises(ValueError, match="must differ"):
        read_item_names(twice, "item", "item", log_ids)
    with pytest.raises(ValueError, match="is a directory"):
        read_item_names(tmp_path, "item", "title", log_ids)
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "twice.parquet"
    pd.DataFrame({"item": [1, 2, 1], "title": ["a", "b", "c"]}).to_parquet(parquet)
    with pytest.raises(ValueError, match=r"row 0 \(counting from 0\) and row 2"):
        read_item_names(parquet, "item", "title", log_ids)
