"""``skcosim audit --item-labels``: label files read like logs, and whatever
comes from the user's files reaches the report as text, never as Markdown.

The audits run in-process with two cheap models (as in ``test_faults.py``).
"""

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skcosim.cli import _settings, main

pytest.importorskip("matplotlib")


@pytest.fixture
def fast_models(fast_models, monkeypatch):
    """The shared two models (tests/cli/conftest.py), cut to a few iterations."""
    monkeypatch.setattr(_settings, "AUDIT_MAX_ITER", 5)


def _log(path, items, *, user="user", item="item", value=None, seed=0):
    """A random log over ``items`` (every item has a user), written as CSV."""
    rng = np.random.RandomState(seed)
    X = rng.rand(40, len(items)) < 0.5
    X[0] = True
    users, cols = np.nonzero(X)
    frame = pd.DataFrame({user: [f"u{u}" for u in users], item: np.take(items, cols)})
    if value is not None:
        frame[value] = 1 + cols % 3
    frame.to_csv(path, index=False)  # quotes fields with commas, quotes, breaks
    return path


def _audit(log, out, *extra, user="user", item="item"):
    argv = ["audit", str(log), "--user-col", user, "--item-col", item]
    argv += ["--out", str(out), "--n-components", "3", "--no-progress", *extra]
    return main(argv)


@pytest.mark.catalogue(
    "C33",
    input="``skcosim audit --item-labels <(cat labels.csv)``, or a FIFO",
    outcome=("Correct: the report of the same labels."),
)
@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd (Linux)")
def test_item_labels_of_a_pipe_give_the_report_of_the_file(
    tmp_path, capsys, fast_models
):
    """C33: ``--item-labels`` of a pipe (what ``<(cat labels.csv)`` passes).

    Regression: "skcosim audit: error: file '/dev/fd/63' could not be read as
    CSV: No columns to parse from file".
    """
    items = [f"m{j}" for j in range(12)]
    log = _log(tmp_path / "log.csv", items)
    labels = tmp_path / "labels.csv"
    rows = [(m, f"g{j % 3}") for j, m in enumerate(items)] + [("zz", "g0")]
    pd.DataFrame(rows, columns=["item", "genre"]).to_csv(labels, index=False)
    assert _audit(log, tmp_path / "file", "--item-labels", str(labels)) == 0
    expected = json.loads((tmp_path / "file" / "audit.json").read_text())
    content = labels.read_bytes()
    read_end, write_end = os.pipe()
    os.write(write_end, content)  # fits in the pipe buffer: written up front
    os.close(write_end)
    try:
        piped = f"/dev/fd/{read_end}"
        assert _audit(log, tmp_path / "pipe", "--item-labels", piped) == 0, (
            capsys.readouterr().err
        )
    finally:
        os.close(read_end)
    report = json.loads((tmp_path / "pipe" / "audit.json").read_text())
    assert report["labels"]["path"] == piped
    assert {**report["labels"], "path": None} == {**expected["labels"], "path": None}
    assert [m["label_agreement"] for m in report["models"]] == [
        m["label_agreement"] for m in expected["models"]
    ]
    assert report["labels"]["n_labeled_items"] == 12


@pytest.mark.catalogue(
    "C35",
    input=(
        "``skcosim audit --item-labels`` of a file with item ids ``NA``, "
        "``None`` and labels ``N/A``, ``None``; of one with a row of three "
        "fields under a two-field header"
    ),
    outcome=(
        "Correct: the NA-like ids are the log's items and the labels real ones; the "
        'extra field is a one-line error "line 3 has 3 fields" (exit status 1).'
    ),
)
def test_audit_reads_label_files_as_strictly_as_the_log(tmp_path, capsys, fast_models):
    """C35: the audit's label files get the log's reading rules.

    Regression: ``NA`` and ``None`` ids stopped the audit as "missing item
    id(s), first in row 0"; ``1,Action,Comedy`` under ``item,genre`` kept
    Action and dropped Comedy without a word.
    """
    items = ["NA", "None", "null", "#N/A", *(f"m{j}" for j in range(8))]
    log = _log(tmp_path / "log.csv", items)
    labels = tmp_path / "labels.csv"
    rows = "".join(f"{m},g{j % 2}\n" for j, m in enumerate(items[4:]))
    labels.write_text(f"item,genre\nNA,N/A\nNone,None\nnull,N/A\n{rows}")
    assert _audit(log, tmp_path / "ok", "--item-labels", str(labels)) == 0
    info = json.loads((tmp_path / "ok" / "audit.json").read_text())["labels"]
    assert info["n_labeled_items"] == 11 and info["n_unknown_item_ids"] == 0
    assert info["n_labels"] == 4  # N/A, None, g0, g1
    labels.write_text("item,genre\nm1,g0\nm2,Action,Comedy\n")
    assert _audit(log, tmp_path / "bad", "--item-labels", str(labels)) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert "line 3 has 3 fields, the header has 2" in err.splitlines()[-1]


# -- the report is text, not markup --------------------------------------------

#: Markdown and HTML that would change the report if pasted into it.
HOSTILE = [
    "x\n# Injected heading",
    "<img src=x onerror=alert(1)>",
    "`x` <b>bold</b>",
    "a|b",
    "**strong** [link](http://e.com) ``y``",
]
BACKTICKS = re.compile("`+")


def _outside_code(text):
    """``text`` with its code spans replaced by ``CODE``, and their contents.

    CommonMark: a run of n backticks opens a span that the next run of
    exactly n backticks closes; an unclosed run is literal text.
    """
    kept, spans, i = [], [], 0
    while i < len(text):
        opening = BACKTICKS.match(text, i)
        if opening is None:
            kept.append(text[i])
            i += 1
            continue
        run = opening.group()
        closing = next(
            (m for m in BACKTICKS.finditer(text, opening.end()) if m.group() == run),
            None,
        )
        if closing is None:
            kept.append(run)
            i = opening.end()
            continue
        content = text[opening.end() : closing.start()]
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]
        spans.append(content)
        kept.append("CODE")
        i = closing.end()
    return "".join(kept), spans


def _cells(row):
    """A GitHub table row split at its unescaped pipes (done before inline
    parsing, code spans included), with ``\\|`` turned back into ``|``."""
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    return [c.replace("\\|", "|").strip() for c in cells]


def _markup(markdown):
    """``(headings, spans)``: the heading lines of the report and the text
    of all its code spans; fails on HTML, or a table row of the wrong width."""
    headings, spans, width = [], [], None
    for line in markdown.split("\n"):
        if line.startswith("|"):
            cells = _cells(line)
            width = len(cells) if width is None else width
            assert len(cells) == width, f"a table row of the wrong width: {line!r}"
            for cell in cells:
                text, found = _outside_code(cell)
                assert "<" not in text, f"raw HTML in a table: {line!r}"
                spans += found
            continue
        width = None if not line.strip() else width
        text, found = _outside_code(line)
        spans += found
        if re.match(r" {0,3}#{1,6}( |$)", line):
            headings.append(text)
        assert not re.search(r"<[A-Za-z/!?]", text), f"raw HTML: {line!r}"
    return headings, spans


@pytest.mark.catalogue(
    "C34",
    input=(
        "Markdown, HTML and backticks (``# Injected heading`` after a line "
        "break, ``<img src=x onerror=...>``, ``|``, backtick runs) in the "
        "file names, column names, item ids of the log and unknown ids of "
        "``--item-labels``"
    ),
    outcome=(
        "Correct: each reaches ``audit.md`` as a code span (text), line breaks shown "
        "as ``\\n``; no heading, HTML or broken table row appears."
    ),
)
def test_user_data_reaches_the_report_as_text(tmp_path, capsys, fast_models):
    """C34: hostile Markdown and HTML in every field that reaches audit.md.

    Regression: the ``--item-labels`` path, the label column name and the
    unknown item ids of the label file went into the report between single
    backticks, so a backtick ended the code span and a line break started a
    line of its own: ``# Injected heading`` became a heading and
    ``<img src=x onerror=alert(1)>`` raw HTML.
    """
    user, item, value, label = (
        f"{role} {h}"
        for role, h in zip(("user", "item", "value", "label"), HOSTILE[1:], strict=True)
    )
    items = [*HOSTILE, *(f"plain{j}" for j in range(5))]
    # File names may hold anything but "/" and NUL.
    directory = tmp_path / "data `<i>x` # h"
    directory.mkdir()
    log = _log(directory / "log |`<b>`.csv", items, user=user, item=item, value=value)
    unknown = [f"gone {h}" for h in HOSTILE]
    rows = [(m, f"g{j % 2}") for j, m in enumerate(items)] + [
        (u, "g0") for u in unknown
    ]
    labels = directory / "labels\n# Injected heading <img src=x onerror=alert(1)>.csv"
    pd.DataFrame(rows, columns=[item, label]).to_csv(labels, index=False)
    out = tmp_path / "out"
    extra = ["--item-labels", str(labels), "--value-col", value]
    assert _audit(log, out, *extra, user=user, item=item) == 0, capsys.readouterr()
    markdown = (out / "audit.md").read_text()
    headings, spans = _markup(markdown)
    assert [h.split(" ")[:2] for h in headings] == [
        ["#", "skcosim"],
        ["##", "What"],
        ["##", "Top"],
        *[["###", "item"]] * len(items[: _settings.N_SHOWN_ITEMS]),
    ]
    for text in [str(log), str(labels), user, item, value, label, *items, *unknown]:
        assert text.replace("\n", "\\n") in spans, f"not shown as text: {text!r}"
    report = json.loads((out / "audit.json").read_text())
    assert report["settings"]["item_labels"] == str(labels)  # JSON keeps it exact
    assert sorted(report["labels"]["unknown_item_ids_sample"]) == sorted(unknown)


def test_the_markup_checker_sees_headings_html_and_broken_tables():
    """The checker of C34 on hand-made Markdown: it must catch what it guards."""
    assert _outside_code("a ``b`c`` d `e` `f") == ("a CODE d CODE `f", ["b`c", "e"])
    assert _outside_code("`` `x` ``") == ("CODE", ["`x`"])
    headings, spans = _markup("# t\n\nsee `x\\n# y` and `<img>`\n")
    assert headings == ["# t"] and spans == ["x\\n# y", "<img>"]
    with pytest.raises(AssertionError, match="raw HTML"):
        _markup("text `a` <img src=x onerror=alert(1)>")
    with pytest.raises(AssertionError, match="wrong width"):
        _markup("| a | b |\n|---|---|\n| `x|y` | z |")
    _markup("| a | b |\n|---|---|\n| `x\\|y` | z |")
    assert _markup("x\n# Injected heading")[0] == ["# Injected heading"]
