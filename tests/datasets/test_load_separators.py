"""Files as people have them: the field separator sniffed from the header
(a TSV through a pipe, RecBole's atomic files), or given as ``sep``;
several labels in one cell split on ``label_sep``; the label file's own id
column. Every result is checked against the file rebuilt by hand."""

import os
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skcosim.datasets import load_interactions, load_item_labels

#: A RecBole-like interaction log (``.inter``): tab separated, ``name:type``
#: header cells; a user with a single interaction, a duplicate row, a zero.
INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "196\t242\t3\t881250949\n"
    "186\t302\t3\t891717742\n"
    "196\t302\t4\t881251000\n"
    "22\t377\t1\t878887116\n"
    "196\t242\t2\t881250950\n"
    "186\t51\t0\t884182806\n"
    "7\t51\t5\t884182807\n"
)

#: A RecBole-like item file (``.item``): ``token_seq`` titles and genres.
ITEM = (
    "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
    "242\tKolya\t1996\tComedy\n"
    "302\tL.A. Confidential\t1997\tCrime Film-Noir Mystery Thriller\n"
    "377\tHeavyweights\t1994\tChildren's  Comedy\n"
    "51\tLegends of the Fall\t1994\tDrama Romance War Western\n"
    "999\tNot In The Log\t1999\tDrama\n"
)


def _rows(text, sep):
    """The records of ``text`` split by hand: (header, list of rows)."""
    lines = [line.split(sep) for line in text.splitlines() if line]
    return lines[0], lines[1:]


def _brute_matrix(text, sep, user, item, value=None):
    """``{(user, item): summed value}`` of a log, by hand."""
    header, rows = _rows(text, sep)
    u, i = header.index(user), header.index(item)
    v = None if value is None else header.index(value)
    sums = defaultdict(float)
    for row in rows:
        sums[row[u], row[i]] += 1.0 if v is None else float(row[v])
    return {key: s for key, s in sums.items() if s != 0}


def _as_dict(bunch):
    X = bunch.data.tocoo()
    return {
        (bunch.user_ids[r], bunch.item_ids[c]): float(x)
        for r, c, x in zip(X.row, X.col, X.data, strict=True)
    }


def _pipe(content):
    """A pipe holding ``content`` (written up front) and its /dev/fd path."""
    read_end, write_end = os.pipe()
    os.write(write_end, content)
    os.close(write_end)
    return read_end, f"/dev/fd/{read_end}"


@pytest.mark.catalogue(
    "L53",
    input=(
        "A tab separated log without ``sep``: through a pipe (``/dev/fd/N``, "
        "no suffix), named ``.csv``, or RecBole's ``.inter``"
    ),
    outcome=(
        "Correct: the separator is sniffed from the header (tabs and no commas: "
        "tab separated), the matrix is that of the file split by hand."
    ),
)
@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux)")
def test_a_tsv_without_sep_is_sniffed_from_its_header(tmp_path):
    """L53: TSV logs read without ``sep``, whatever their name.

    Regression: the separator came from the suffix only, so ``ml-100k.inter``
    and a TSV through a pipe read as one column: "Column(s) ['user_id:token',
    'item_id:token'] not found".
    """
    cols = ("user_id:token", "item_id:token", "rating:float")
    expected = _brute_matrix(INTER, "\t", *cols)
    for name in ("log.inter", "log.csv", "log"):
        path = tmp_path / name
        path.write_text(INTER)
        assert _as_dict(load_interactions(path, *cols)) == expected, name
    read_end, piped = _pipe(INTER.encode())
    try:
        assert _as_dict(load_interactions(piped, *cols)) == expected
    finally:
        os.close(read_end)
    # A comma separated header is still comma separated, whatever the name.
    comma = tmp_path / "log.tsv"
    comma.write_text(INTER.replace("\t", ","))
    assert _as_dict(load_interactions(comma, *cols)) == expected
    # Neither (or both) in the header: the suffix decides, as before.
    both = tmp_path / "both.tsv"
    both.write_text('"a,b"\tuser\titem\n1\tu1\ti1\n2\tu2\ti1\n')
    assert _as_dict(load_interactions(both, "user", "item")) == {
        ("u1", "i1"): 1.0,
        ("u2", "i1"): 1.0,
    }


@pytest.mark.catalogue(
    "L54",
    input=(
        "RecBole's atomic files as they are: ``.inter`` and ``.item`` with "
        "``name:type`` header cells and ``token_seq`` cells (``L.A. "
        "Confidential``, ``Crime Film-Noir Mystery Thriller``)"
    ),
    outcome=(
        "Correct: columns are named by the full header cells "
        "(``user_id:token``), ``token_seq`` cells are kept as text, one label each "
        "without ``label_sep``."
    ),
)
def test_recbole_atomic_files_read_as_they_are(tmp_path):
    """L54: ``.inter``/``.item`` files, ``token_seq`` cells as text."""
    inter, item = tmp_path / "ml.inter", tmp_path / "ml.item"
    inter.write_text(INTER)
    item.write_text(ITEM)
    log = load_interactions(inter, "user_id:token", "item_id:token", "rating:float")
    assert log.user_ids.name == "user_id:token"
    assert list(log.item_ids) == sorted({"242", "302", "377", "51"})
    with pytest.warns(UserWarning, match="--label-sep"):
        titles = load_item_labels(
            item, "item_id:token", "movie_title:token_seq", item_ids=log.item_ids
        )
    _, rows = _rows(ITEM, "\t")
    title = {r[0]: r[1] for r in rows}
    assert set(titles.label_names) == {title[i] for i in log.item_ids}
    dense = titles.data.toarray()
    for r, i in enumerate(log.item_ids):
        assert dense[r].sum() == 1
        assert titles.label_names[np.argmax(dense[r])] == title[i]
    assert list(titles.unknown_item_ids) == ["999"]


def _brute_labels(text, sep, item_col, label_col, label_sep, item_ids):
    """Indicator of the label sets split by hand (``" "``: str.split())."""
    header, rows = _rows(text, sep)
    i, j = header.index(item_col), header.index(label_col)
    sets = defaultdict(set)
    for row in rows:
        cell = row[j]
        pieces = cell.split() if label_sep == " " else cell.split(label_sep)
        sets[row[i]] |= {p.strip() for p in pieces if p.strip()}
    names = sorted(set().union(*(sets[k] for k in item_ids)))
    Y = np.array([[n in sets[k] for n in names] for k in item_ids], dtype=float)
    return Y, names


@pytest.mark.catalogue(
    "L55",
    input=(
        "Several labels in one cell with ``label_sep``: RecBole's "
        "``Children's  Comedy`` (two spaces) with ``' '``, ``a | b|b`` with "
        "``'|'``, a DataFrame of ``x;y`` with ``';'``"
    ),
    outcome=(
        "Correct: one label per piece (``' '`` splits at runs of whitespace, "
        "pieces stripped, empty ones dropped, a repeated one counted once), "
        "equal to the cells split by hand."
    ),
)
def test_label_sep_splits_each_cell_into_a_label_set(tmp_path):
    """L55: multi-valued label cells, against the cells split by hand.

    Regression: ``label_sep`` did not exist, each combination was one label
    (216 "labels" on MovieLens-100k instead of 19 genres).
    """
    item = tmp_path / "ml.item"
    item.write_text(ITEM)
    ids = ["242", "302", "377", "51", "404"]  # 404: an item without labels
    labels = load_item_labels(
        item, "item_id:token", "class:token_seq", item_ids=ids, label_sep=" "
    )
    Y, names = _brute_labels(ITEM, "\t", "item_id:token", "class:token_seq", " ", ids)
    assert list(labels.label_names) == names
    np.testing.assert_array_equal(labels.data.toarray(), Y)
    assert labels.n_labeled_items == 4 and list(labels.unknown_item_ids) == ["999"]
    piped = "item,tags\ni1,a | b|b\ni2,c\ni1,d\ni3, b |\n"
    path = tmp_path / "tags.csv"
    path.write_text(piped)
    ids = ["i1", "i2", "i3"]
    labels = load_item_labels(path, "item", item_ids=ids, label_sep="|")
    Y, names = _brute_labels(piped, ",", "item", "tags", "|", ids)
    assert list(labels.label_names) == names == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(labels.data.toarray(), Y)
    frame = pd.DataFrame({"item": [1, 2], "genre": ["x;y", "y"]})
    labels = load_item_labels(frame, "item", item_ids=[1, 2], label_sep=";")
    np.testing.assert_array_equal(labels.data.toarray(), [[1, 1], [0, 1]])


@pytest.mark.catalogue(
    "L56",
    input=(
        "Bad separators: ``sep=''``, ``sep=';;'``, ``sep='\\n'``, ``sep='\"'``, "
        "``sep=';'`` for a comma separated file, ``sep=3``"
    ),
    outcome=(
        "``ValueError`` (``TypeError`` for a non-string) naming ``sep`` and ``--sep``: "
        '"must be one character", "cannot be", "does not occur in the header line".'
    ),
)
def test_bad_separators_are_clear_errors(tmp_path):
    """L56: ``sep`` values the reader cannot use, for logs and label files."""
    path = tmp_path / "log.csv"
    path.write_text("user,item\nu1,i1\n")
    cases = [
        ("", ValueError, r"sep must be one character .*\(empty\).*--sep"),
        (";;", ValueError, r"sep must be one character .*2 characters.*--sep"),
        ("\n", ValueError, r"sep cannot be '\\n'.*--sep"),
        ('"', ValueError, r"sep cannot be '\"'.*--sep"),
        (";", ValueError, r"sep=';' \(--sep .*\) does not occur in the header"),
        (3, TypeError, "sep must be a one-character string or None"),
    ]
    for sep, error, message in cases:
        with pytest.raises(error, match=message):
            load_interactions(path, "user", "item", sep=sep)
        with pytest.raises(error, match=message):
            load_item_labels(path, "user", "item", item_ids=["u1"], sep=sep)
    semi = tmp_path / "semi.txt"
    semi.write_text("user;item\nu1;i1\nu1;i2\n")
    assert _as_dict(load_interactions(semi, "user", "item", sep=";")) == {
        ("u1", "i1"): 1.0,
        ("u1", "i2"): 1.0,
    }


@pytest.mark.catalogue(
    "L57",
    input=(
        "Bad label separators: ``label_sep=''``, one with a line break, one "
        "found in no cell, a cell of separators only, ``label_sep`` on labels "
        "that are numbers"
    ),
    outcome=(
        "``ValueError`` naming ``label_sep`` and ``--label-sep`` (the file line of "
        "an empty cell); ``TypeError`` for labels that are not text."
    ),
)
def test_bad_label_separators_are_clear_errors(tmp_path):
    """L57: ``label_sep`` values that cannot split the labels."""
    path = tmp_path / "labels.csv"
    path.write_text("item,genre\ni1,a|b\ni2,|\n")
    ids = ["i1", "i2"]
    for label_sep, message in [
        ("", r"label_sep must be a non-empty string.*--label-sep"),
        ("a\nb", r"label_sep cannot hold a line break.*--label-sep"),
        (";", r"label_sep=';' \(--label-sep .*\) occurs in none of the 2"),
        ("|", r"1 label cell\(s\) with no label .*--label-sep.*line 3: '\|'"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_item_labels(path, "item", item_ids=ids, label_sep=label_sep)
    numbers = pd.DataFrame({"item": ["i1"], "genre": [7]})
    with pytest.raises(TypeError, match=r"label_sep='\|' \(--label-sep\) splits text"):
        load_item_labels(numbers, "item", item_ids=ids, label_sep="|")
    with pytest.raises(TypeError, match="label_sep must be a string or None"):
        load_item_labels(path, "item", item_ids=ids, label_sep=1)


@pytest.mark.catalogue(
    "L58",
    input=(
        "A label file whose cells mostly hold whitespace, ``|``, ``;`` or ``,`` "
        "(``Action Adventure``), read without ``label_sep``"
    ),
    outcome=(
        "Warns (``UserWarning``) naming ``--label-sep`` and the separator seen; "
        "no warning for one-word labels or with ``label_sep`` given."
    ),
)
def test_multi_valued_labels_without_label_sep_warn(tmp_path):
    """L58: the warning that each combination would count as one label."""
    ids = ["i1", "i2", "i3"]
    for cells, shown in [
        (["Action Adventure", "Drama", "Comedy\tDrama"], "whitespace"),
        (["a|b", "b|c", "c"], "'|'"),
        (["a;b", "b;c", "c"], "';'"),
    ]:
        frame = pd.DataFrame({"item": ids, "genre": cells})
        with pytest.warns(
            UserWarning, match=f"2 of the 3 .* hold {shown}.*--label-sep"
        ):
            load_item_labels(frame, "item", item_ids=ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = pd.DataFrame({"item": ids, "genre": ["Action Adventure", "Drama", "x"]})
        load_item_labels(quiet, "item", item_ids=ids)  # 1 of 3: a label of two words
        multi = pd.DataFrame({"item": ids, "genre": ["a b", "b c", "c"]})
        load_item_labels(multi, "item", item_ids=ids, label_sep=" ")


@pytest.mark.catalogue(
    "L59",
    input=(
        "A label file with its own id column name (``item_id:token`` against "
        "the log's ``movie``); ``item_col`` or ``label_col`` not in the file"
    ),
    outcome=(
        "Correct with ``item_col`` set to the file's column; a missing column is a "
        "``ValueError`` naming it, the file's columns and ``--label-item-col`` "
        "(``--label-col``)."
    ),
)
def test_the_label_files_own_id_column(tmp_path):
    """L59: ``item_col`` of the label file; missing columns name the options."""
    item = tmp_path / "ml.item"
    item.write_text(ITEM)
    log = pd.DataFrame({"user": ["u1", "u1"], "movie": ["242", "51"]})
    ids = load_interactions(log, "user", "movie").item_ids
    labels = load_item_labels(
        item, "item_id:token", "class:token_seq", item_ids=ids, label_sep=" "
    )
    assert list(labels.label_names) == ["Comedy", "Drama", "Romance", "War", "Western"]
    with pytest.raises(ValueError, match=r"\['movie'\] not found.*--label-item-col"):
        load_item_labels(item, "movie", "class:token_seq", item_ids=ids)
    with pytest.raises(ValueError, match=r"\['class'\] not found.*--label-col"):
        load_item_labels(item, "item_id:token", "class", item_ids=ids)
