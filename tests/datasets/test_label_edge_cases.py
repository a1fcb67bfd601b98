"""load_item_labels on broken, unusual and hostile label files.

Label files are read by the log's reader (see test_load_edge_cases.py), so
they get the same guarantees: every line as wide as the header, ids and
labels as written, one pass over the file.
"""

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from skcosim.datasets import load_interactions, load_item_labels

from .._logs import _csv


def _indicator(labels):
    """``{item id: sorted labels}`` of a loaded label Bunch, as text."""
    Y = labels.data.toarray()
    return {
        i: sorted(str(labels.label_names[j]) for j in np.flatnonzero(row))
        for i, row in enumerate(Y)
        if row.any()
    }


@pytest.mark.catalogue(
    "L23",
    input=(
        "A label file with a row of more (or fewer) fields than its header: "
        "``item,genre`` then ``1,Action,Comedy``"
    ),
    outcome=(
        '``ValueError`` naming the file line: "line 3 has 3 fields, the header has 2"; '
        "no column is dropped."
    ),
)
@pytest.mark.parametrize("row", ["1,Action,Comedy", "1"])
def test_label_rows_wider_or_narrower_than_the_header_are_refused(tmp_path, row):
    """L23: a label row with an extra (or a missing) field.

    Regression: ``pd.read_csv(usecols=...)`` dropped the extra field (item 1
    labelled Action only, Comedy lost) and padded a short row with NaN.
    """
    path = _csv(tmp_path, f"item,genre\n2,Drama\n{row}\n", "labels.csv")
    with pytest.raises(ValueError, match=r"line 3 has \d fields, the header has 2"):
        load_item_labels(path, "item", item_ids=["1", "2"])
    # The same field quoted is one label with a comma in it.
    path = _csv(tmp_path, 'item,genre\n2,Drama\n1,"Action,Comedy"\n', "ok.csv")
    labels = load_item_labels(path, "item", item_ids=["1", "2"])
    assert _indicator(labels) == {0: ["Action,Comedy"], 1: ["Drama"]}


NA_WORDS = ["NA", "null", "None", "n/a", "NaN", "nan", "#N/A", "N/A", "<NA>"]


@pytest.mark.catalogue(
    "L24",
    input=(
        "Label files with ids and labels ``NA``, ``null``, ``None``, "
        "``n/a``, ``NaN``, ``#N/A``, ``N/A``; a byte-order mark; an empty label"
    ),
    outcome=(
        "Correct: ids and labels like any other (strings, as in a log), matched to the "
        "log's ``NA`` item; only an empty field is missing, and its error names the "
        'file line ("first on line 4").'
    ),
)
def test_na_like_ids_and_labels_are_values(tmp_path):
    """L24: NA-like ids and labels are values, as in the log.

    Regression: pandas turned ``NA``, ``null``, ``None``, ``n/a``, ``NaN``,
    ``#N/A`` into missing values: valid item ids of a log failed as "missing
    item id(s)", labels such as ``N/A`` or ``None`` as "missing label(s)",
    and the error said "row 0" instead of the file line.
    """
    rows = "".join(f"{w},{w}\n" for w in NA_WORDS)
    log = _csv(tmp_path, "user,item\n" + "".join(f"u,{w}\n" for w in NA_WORDS))
    item_ids = load_interactions(log, "user", "item").item_ids
    path = tmp_path / "labels.csv"
    path.write_bytes(("\ufeffitem,genre\n" + rows + "NA,None\n").encode())
    labels = load_item_labels(path, "item", item_ids=item_ids)
    assert sorted(labels.label_names) == sorted(NA_WORDS)
    assert labels.n_labeled_items == len(NA_WORDS)
    assert len(labels.unknown_item_ids) == 0
    got = {item_ids[i]: names for i, names in _indicator(labels).items()}
    assert got == {w: sorted({w, "None"} if w == "NA" else {w}) for w in NA_WORDS}
    # Only an empty field is missing; the message names its file line.
    path = _csv(tmp_path, "item,genre\nNA,x\n\nnull,\n", "holes.csv")
    with pytest.raises(ValueError, match="1 missing label\\(s\\), first on line 4"):
        load_item_labels(path, "item", item_ids=item_ids)
    path = _csv(tmp_path, "item,genre\nNA,x\n,y\n", "holes.csv")
    with pytest.raises(ValueError, match="1 missing item id\\(s\\), first on line 3"):
        load_item_labels(path, "item", item_ids=item_ids)


def _with_alarm(function, seconds=60):
    def timeout(*args):
        raise TimeoutError("the FIFO was opened a second time: no writer")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        return function()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.catalogue(
    "L25",
    input="A label file given as a pipe (``<(cat labels.csv)``) or a FIFO",
    outcome=("Correct: the labels of the same file."),
)
@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux)")
def test_label_file_of_a_pipe_or_fifo_is_read_once(tmp_path):
    """L25: ``load_item_labels("/dev/fd/N")`` of a pipe, and of a FIFO.

    Regression: the header was read first and the rows after, so a pipe was
    empty the second time ("No columns to parse from file") and a FIFO,
    whose writer had gone, hung forever.
    """
    content = b"item,genre\n1,a\n1,b\n2,a\n3,c\n"
    expected = load_item_labels(
        _csv(tmp_path, content.decode(), "labels.csv"), "item", item_ids=["1", "2"]
    )
    read_end, write_end = os.pipe()
    os.write(write_end, content)  # fits in the pipe buffer: written up front
    os.close(write_end)
    try:
        piped = load_item_labels(f"/dev/fd/{read_end}", "item", item_ids=["1", "2"])
    finally:
        os.close(read_end)
    assert_array_equal(piped.data.toarray(), expected.data.toarray())
    assert list(piped.label_names) == list(expected.label_names) == ["a", "b"]
    assert list(piped.unknown_item_ids) == ["3"]

    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "labels.fifo"
    os.mkfifo(fifo)

    def writer():
        with open(fifo, "wb") as handle:  # blocks until the reader opens it
            handle.write(content)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    fifoed = _with_alarm(lambda: load_item_labels(fifo, "item", item_ids=["1", "2"]))
    thread.join(5)
    assert_array_equal(fifoed.data.toarray(), expected.data.toarray())


@pytest.mark.catalogue(
    "L26",
    input=(
        "A label DataFrame with integer column names (``read_csv(header="
        'None)``), loaded with ``item_col="0"``, with and without ``label_col``'
    ),
    outcome=(
        'Correct: ``"0"`` names column ``0`` and the label column is the other one, as '
        "for a log (L22)."
    ),
)
def test_label_dataframe_with_integer_column_names_is_loaded():
    """L26: a label DataFrame with columns 0, 1 (and 2).

    Regression: a raw ``KeyError: "None of [Index(['0', '1'])] are in the
    [columns]"``; the log loader had been fixed (L22), the label loader not.
    """
    frame = pd.DataFrame([["a", "x", 1], ["b", "y", 2], ["a", "y", 3]])
    two = frame[[0, 1]]
    for labels in (
        load_item_labels(two, "0", item_ids=["a", "b", "c"]),
        load_item_labels(frame, "0", "1", item_ids=["a", "b", "c"]),
    ):
        assert_array_equal(labels.data.toarray(), [[1, 1], [0, 1], [0, 0]])
        assert list(labels.label_names) == ["x", "y"]
    with pytest.raises(ValueError, match=r"has columns \[0, 1, 2\]: name the label"):
        load_item_labels(frame, "0", item_ids=["a"])
    with pytest.raises(ValueError, match=r"\['5'\] not found .* columns \[0, 1\]"):
        load_item_labels(two, "5", item_ids=["a"])


@pytest.mark.catalogue(
    "L27",
    input=(
        "Label (or log) ids that are non-UTF-8 ``bytes``, or lists; labels "
        "that are lists or dicts"
    ),
    outcome=(
        "``ValueError`` \"Column 'item' of the DataFrame holds bytes that are not "
        'UTF-8 text" / ``TypeError`` "Column \'item\' ... holds a list on row 1": one '
        "line naming the column."
    ),
)
def test_bytes_and_unhashable_ids_are_one_line_errors_naming_the_column():
    """L27: exotic ids of a label DataFrame, and of a log.

    Regression: non-UTF-8 bytes ids raised a raw ``UnicodeDecodeError``
    (while comparing ids as text); list ids were turned into the text
    ``"[1]"`` and matched nothing, list labels raised "unhashable type:
    'list'", and a log with list ids raised the same.
    """
    bad_bytes = pd.DataFrame({"item": [b"a", b"\xff"], "genre": ["x", "y"]})
    with pytest.raises(ValueError, match="Column 'item' of the DataFrame holds bytes"):
        load_item_labels(bad_bytes, "item", item_ids=["a"])
    with pytest.raises(ValueError, match="item_ids holds bytes that are not UTF-8"):
        load_item_labels(bad_bytes.iloc[:1], "item", item_ids=[b"\xfe"])
    # UTF-8 bytes are text: b"a" is the item "a".
    labels = load_item_labels(bad_bytes.iloc[:1], "item", item_ids=["a"])
    assert labels.n_labeled_items == 1
    lists = pd.DataFrame({"item": ["a", ["b"]], "genre": ["x", "y"]})
    with pytest.raises(TypeError, match=r"Column 'item' .* holds a list on row 1"):
        load_item_labels(lists, "item", item_ids=["a"])
    dicts = pd.DataFrame({"item": ["a", "a"], "genre": ["x", {"y": 1}]})
    with pytest.raises(TypeError, match=r"Column 'genre' .* holds a dict on row 1"):
        load_item_labels(dicts, "item", item_ids=["a"])
    log = pd.DataFrame({"user": [1, 2], "item": ["a", ["b"]]})
    with pytest.raises(TypeError, match=r"Column 'item' .* holds a list on row 1"):
        load_interactions(log, "user", "item")
