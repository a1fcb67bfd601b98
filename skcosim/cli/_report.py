"""The report of ``skcosim reproduce`` and ``skcosim audit`` and how it reads.

A :class:`Report` holds what a command found (the rows of the comparison,
the data's summary, the neighbour tables, the heatmap panels) and renders
itself as Markdown, JSON and a PNG; :func:`text_table` is the table printed
at the end of a run.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import numpy as np

from .. import __version__
from . import _figure, _settings

#: Columns of the report, in order: (key, header). The loss is not one of
#: them: each objective has its own units (:func:`losses_markdown`).
COLUMNS = (
    ("trained_like", "trained like"),
    ("name", "model"),
    ("objective", "objective"),
    ("gauge_stability", "gauge stability"),
    ("resample_stability", "resample stability"),
    ("label_agreement", "label agreement"),
    ("verdict", "verdict"),
)
#: Columns of text rather than numbers (left-aligned).
TEXT_KEYS = ("trained_like", "name", "objective", "verdict")
#: Columns shown only when a row has them (audit rows have them).
OPTIONAL_KEYS = ("trained_like", "verdict")


def _columns(rows, *, terminal=False):
    """The columns of ``rows``: the optional ones when a row has them, and no
    plain-words column in the terminal's table (too wide)."""
    return [
        (key, head)
        for key, head in COLUMNS
        if not (key in OPTIONAL_KEYS and not any(key in row for row in rows))
        and not (terminal and key == "trained_like")
    ]


def _fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def _cell(row, key):
    """The text of a cell: a value, "n/a (reason)" for a stability that is
    not available (``row["not_available"]``), or a verdict's level and gist."""
    if key == "verdict":
        verdict = row.get("verdict")
        return "" if not verdict else f"{verdict['level']}: {verdict['short']}"
    reason = row.get("not_available", {}).get(key)
    if row.get(key) is None and reason:
        return f"n/a ({reason})"
    return _fmt(row.get(key))


def text_table(rows):
    """A plain-text table of the report, aligned in columns."""
    columns = _columns(rows, terminal=True)
    cells = [[h for _, h in columns]] + [
        [_cell(row, key) for key, _ in columns] for row in rows
    ]
    widths = [max(len(r[c]) for r in cells) for c in range(len(columns))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(
                v.ljust(w) if key in TEXT_KEYS else v.rjust(w)
                for (key, _), v, w in zip(columns, r, widths, strict=True)
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows):
    """The report table in Markdown."""
    columns = _columns(rows)
    head = "| " + " | ".join(h for _, h in columns) + " |"
    rule = "|" + "|".join("---" if k in TEXT_KEYS else "---:" for k, _ in columns) + "|"
    body = [
        "| " + " | ".join(_cell(row, key) for key, _ in columns) + " |" for row in rows
    ]
    return "\n".join([head, rule, *body])


def losses_markdown(rows):
    """The training losses, grouped by objective: each objective has its own
    units, so a loss compares only with the losses of the same objective."""
    groups = {}
    for row in rows:
        if row.get("loss") is not None:
            groups.setdefault(row["objective"], []).append(row)
    if not groups:
        return ""
    parts = []
    for objective, members in groups.items():
        losses = [r["loss"] for r in members]
        if len(members) > 1 and np.allclose(losses, losses[0], rtol=1e-9, atol=0):
            parts.append(
                f"{objective}: {_fmt(losses[0])} (all {len(members)} rows: every "
                "split is equally optimal)"
            )
        else:
            parts.append(
                f"{objective}: "
                + ", ".join(f"{_fmt(r['loss'])} ({r['name']})" for r in members)
            )
    return (
        "Training loss of each model, per objective (each objective has its own "
        "units: compare a loss only with the same objective's, never across "
        "rows of different objectives):\n\n" + "\n".join(f"- {p}" for p in parts)
    )


HOW_TO_READ = """\
How to read it (the user guide's "Measuring neighbour stability"):

- **trained like**: the models that are trained like the row, in plain
  words; **model** and **objective** are the paper's names for it.
- **loss** (listed per objective, and in the JSON): the model's own training
  objective on the data, in that objective's units. The Objective 1 rows
  share one loss: every split `A D, B D^-1` is equally optimal.
- **gauge stability**: mean Jaccard@{k} between each item's top-{k} cosine
  neighbours and the neighbours after a random transform that leaves the loss
  unchanged (a random diagonal `D` for Objective 1, a rotation otherwise).
  Below 1: the neighbours are an accident of the split, not of the data.
- **resample stability**: mean Jaccard@{k} between models fitted on two random
  halves of the users: would the neighbours survive new data?
- **n/a (fewer than 2 effective components)**: the model's item embedding
  (or one of its refits) spans at most one direction, so every cosine is
  +1, -1 or 0 and its neighbours are a tie-break by index: a stability would
  come out near 1.0 whatever the data, so none is given.
- **restart stability** (a note of the cosine-trained row, `restart_stability`
  in the JSON): mean Jaccard@{k} between fits from different random starts on
  all users: would the neighbours survive another run of the optimizer?
- **label agreement**: share of each item's top-{k} neighbours that share a
  label with it (its cluster in simulated data; the labels of
  `--item-labels` in an audit), averaged over the labelled items.
- **verdict** (an audit): what the numbers say, from the thresholds of the
  user guide's "What to do with your audit"; the next step of each row is
  under "What to do".
"""


def id_text(value):
    """An item or user id as text: bytes decoded (undecodable bytes as
    ``\\xff``), anything else as ``str`` (a Timestamp of a Parquet log)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN
    if obj is None or isinstance(obj, str | int | float):
        return obj
    # Ids of a Parquet log may be Timestamps, bytes, Decimals...: written as
    # text, rather than failing after the whole audit has run.
    return id_text(obj)


def json_report(payload):
    """Strict JSON text (NaN becomes null)."""
    return json.dumps(_jsonable(payload), indent=2, allow_nan=False) + "\n"


def md_code(value, *, in_table=True):
    """``value`` as a Markdown code span: line breaks shown as ``\\n``, a
    fence longer than any run of backticks in it, and ``|`` escaped in a
    table cell (GitHub's tables split cells at pipes, even in code)."""
    text = id_text(value).replace("\r", "\\r").replace("\n", "\\n")
    if in_table:
        text = text.replace("|", "\\|")
    fence = "`" * (1 + max((len(r) for r in re.findall("`+", text)), default=0))
    if text.startswith(("`", " ")) or text.endswith(("`", " ")):
        text = f" {text} "  # a space on each side is stripped, not part of it
    return f"{fence}{text}{fence}"


#: Characters of Markdown and HTML markup in plain text, and how
#: :func:`md_text` writes them: HTML as entities (``<img>`` stays text, and a
#: backtick never opens a code span), the rest backslash-escaped.
_MD_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "`": "&#96;",
    **{c: "\\" + c for c in "\\*_[]#~|"},
}
_MD_SPECIAL = re.compile("[" + re.escape("".join(_MD_ESCAPES)) + "]")


def md_text(text):
    """Plain ``text`` (an item name, a verdict) for Markdown: on one line,
    with every character that could start markup escaped, so that a name
    from the user's file reads as written and is never rendered (``|``
    escaped too, for table cells)."""
    text = " ".join(id_text(text).split())
    return _MD_SPECIAL.sub(lambda m: _MD_ESCAPES[m.group()], text)


def _named(item_id, name):
    """An id as code, followed by its name if it has one."""
    return md_code(item_id) + (f" {md_text(name)}" if name else "")


def neighbors_markdown(neighbors, heading=None):
    """The side-by-side neighbour tables of the popular items, in Markdown;
    ``heading`` replaces the title and sentence above them."""
    lines = list(
        heading
        or [
            f"## Top {_settings.N_SHOWN_NEIGHBORS} neighbours of the most popular "
            "items",
            "",
            "Same item, same data, equally optimal models (Objective 1 rows): do "
            "they agree on its neighbours?",
            "",
        ]
    )
    for entry in neighbors:
        names = list(entry["neighbors"])  # the fitted models, in report order
        item = md_code(entry["item"], in_table=False)
        if entry.get("item_name"):
            item += f" {md_text(entry['item_name'])}"
        titles = entry.get("neighbor_names", {})
        users = entry.get("n_users")
        lines += [f"### item {item}" + (f" ({users} users)" if users else ""), ""]
        lines.append("| rank | " + " | ".join(md_text(n) for n in names) + " |")
        lines.append("|---:|" + "|".join("---" for _ in names) + "|")
        n_rows = max((len(v) for v in entry["neighbors"].values()), default=0)
        for r in range(n_rows):
            cells = [
                _named(
                    entry["neighbors"][name][r],
                    titles[name][r] if name in titles else "",
                )
                for name in names
            ]
            lines.append(f"| {r + 1} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def verdicts_markdown(rows, verdict):
    """The "What to do" section: the run's verdict and each row's."""
    lines = [
        "## What to do",
        "",
        f"**Verdict: {verdict['level']}.** {md_text(verdict['text'])}",
        "",
    ]
    for row in rows:
        v = row.get("verdict")
        if not v:
            continue
        lines.append(
            f"- **{md_text(row.get('trained_like', row['name']))}** "
            f"({md_text(row['name'])}): {v['level']}, "
            f"{md_text(v['text'])}. Next step: "
            f"{md_text(v['next_step'])}."
        )
    return "\n".join(lines)


@dataclass
class Report:
    """What a command found, ready to render as Markdown, JSON and a figure.

    ``reproduce`` and ``audit`` each build one; rendering and writing it is
    the same for both (:func:`skcosim.cli._run.write_report`).

    Examples
    --------
    >>> import json
    >>> from skcosim.cli._report import Report
    >>> row = {"name": "wd", "objective": "Objective 2", "loss": 12.5,
    ...        "gauge_stability": 1.0, "resample_stability": 0.25,
    ...        "label_agreement": None, "notes": []}
    >>> report = Report("audit", "skcosim audit", "Data: ...", [row],
    ...                 n_neighbors=10, settings={"seed": 0})
    >>> print(report.to_markdown().splitlines()[6])
    | wd | Objective 2 | 1.000 | 0.250 | n/a |
    >>> json.loads(report.to_json(figure="similarities.png"))["figure"]
    'similarities.png'
    >>> report.figure() is None  # no heatmap panels
    True
    """

    #: The command that made it, first field of the JSON report.
    command: str
    #: The Markdown title.
    title: str
    #: The paragraphs above the table: data, models, settings.
    intro: str
    #: One row per model (:func:`skcosim.cli._models.rows_of`).
    rows: list
    #: The ``k`` of the top-k neighbours that the scores compare.
    n_neighbors: int
    #: The settings of the run (JSON).
    settings: dict
    #: Further JSON fields, between ``n_neighbors`` and the models.
    payload: dict = field(default_factory=dict)
    #: Warnings about the data: in the Markdown below the intro, and printed.
    warnings: list = field(default_factory=list)
    #: Markdown after the figure (how to read a simulated run).
    reading: str = ""
    #: Top neighbours of the popular items by id (Markdown tables and JSON).
    neighbors: list | None = None
    #: ``(title, item embeddings in display order)`` of the figure's heatmaps.
    panels: list = field(default_factory=list)
    #: Clusters of the items in display order: a ground-truth panel first.
    clusters: np.ndarray | None = None
    #: The progress step that draws the figure.
    figure_step: str = "draw the figure"
    #: Seconds of each step of the run (JSON), when recorded.
    step_seconds: dict | None = None
    #: The verdict of the whole run (:func:`._verdicts.summary_verdict`):
    #: Markdown under the table and JSON ``verdict``; rows have their own.
    verdict: dict | None = None
    #: Further files of the report, name -> bytes (the per-item file).
    files: dict = field(default_factory=dict)
    #: The "how to read it" text, if not :data:`HOW_TO_READ` (``{k}``: k).
    how_to_read: str = HOW_TO_READ
    #: Markdown lines above the neighbour tables, if not the audit's.
    neighbors_heading: list | None = None

    def to_markdown(self, figure=None):
        """The Markdown report; ``figure`` is the file name of the PNG, if any."""
        warnings = [f"**Warning.** {w}" for w in self.warnings]
        parts = [f"# {self.title}", "", "\n\n".join([self.intro, *warnings]), ""]
        parts += [markdown_table(self.rows), ""]
        losses = losses_markdown(self.rows)
        if losses:
            parts += [losses, ""]
        if self.verdict is not None:
            parts += [verdicts_markdown(self.rows, self.verdict), ""]
        notes = [
            f"- {row['name']}: {note}"
            for row in self.rows
            for note in row.get("notes", [])
        ]
        if notes:
            parts += ["Notes:", "", *notes, ""]
        parts.append(self.how_to_read.format(k=self.n_neighbors))
        if figure is not None:
            parts += [f"![Item-item cosine similarities]({figure})", ""]
        if self.reading:
            parts += [self.reading, ""]
        if self.neighbors is not None:
            parts += [neighbors_markdown(self.neighbors, self.neighbors_heading), ""]
        return "\n".join(parts)

    def to_json(self, figure=None):
        """The JSON report; ``figure`` is the file name of the PNG, if any."""
        payload = {
            "command": self.command,
            "skcosim_version": __version__,
            "settings": self.settings,
            "n_neighbors": self.n_neighbors,
            **self.payload,
            "models": self.rows,
        }
        if self.verdict is not None:
            payload["verdict"] = self.verdict
        if self.neighbors is not None:
            payload["popular_item_neighbors"] = self.neighbors
        payload["figure"] = figure
        if self.step_seconds is not None:
            payload["step_seconds"] = self.step_seconds
        return json_report(payload)

    def figure(self):
        """PNG bytes of the heatmaps, or None without matplotlib."""
        if not self.panels or not _figure.has_matplotlib():
            return None
        return _figure.heatmaps_png(self.panels, self.clusters)
