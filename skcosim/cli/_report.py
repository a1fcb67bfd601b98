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

#: Columns of the report, in order: (key, header).
COLUMNS = (
    ("name", "model"),
    ("objective", "objective"),
    ("loss", "loss"),
    ("gauge_stability", "gauge stability"),
    ("resample_stability", "resample stability"),
    ("label_agreement", "label agreement"),
)


def _fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def _cell(row, key):
    """The text of a cell: a value, or "n/a (reason)" for a stability that
    is not available (``row["not_available"]``)."""
    reason = row.get("not_available", {}).get(key)
    if row.get(key) is None and reason:
        return f"n/a ({reason})"
    return _fmt(row.get(key))


def text_table(rows):
    """A plain-text table of the report, aligned in columns."""
    cells = [[h for _, h in COLUMNS]] + [
        [_cell(row, key) for key, _ in COLUMNS] for row in rows
    ]
    widths = [max(len(r[c]) for r in cells) for c in range(len(COLUMNS))]
    lines = []
    for n, r in enumerate(cells):
        lines.append(
            "  ".join(
                v.ljust(w) if c < 2 else v.rjust(w)
                for c, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows):
    """The report table in Markdown."""
    head = "| " + " | ".join(h for _, h in COLUMNS) + " |"
    rule = "|" + "|".join("---" if c < 2 else "---:" for c in range(len(COLUMNS))) + "|"
    body = [
        "| " + " | ".join(_cell(row, key) for key, _ in COLUMNS) + " |" for row in rows
    ]
    return "\n".join([head, rule, *body])


HOW_TO_READ = """\
How to read it (the user guide's "Measuring neighbour stability"):

- **loss**: the model's own training objective on the data. The Objective 1
  rows share one loss: every split `A D, B D^-1` is equally optimal.
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


def neighbors_markdown(neighbors, heading=None):
    """The side-by-side neighbour tables of the popular items, in Markdown;
    ``heading`` replaces the title and sentence above them."""
    lines = heading or [
        f"## Top {_settings.N_SHOWN_NEIGHBORS} neighbours of the most popular items",
        "",
        "Same item, same data, equally optimal models (Objective 1 rows): do "
        "they agree on its neighbours?",
        "",
    ]
    lines = list(lines)
    for entry in neighbors:
        names = list(entry["neighbors"])  # the fitted models, in report order
        item = md_code(entry["item"], in_table=False)
        users = entry.get("n_users")
        lines += [f"### item {item}" + (f" ({users} users)" if users else ""), ""]
        lines.append("| rank | " + " | ".join(names) + " |")
        lines.append("|---:|" + "|".join("---" for _ in names) + "|")
        n_rows = max((len(v) for v in entry["neighbors"].values()), default=0)
        for r in range(n_rows):
            cells = [md_code(entry["neighbors"][name][r]) for name in names]
            lines.append(f"| {r + 1} | " + " | ".join(cells) + " |")
        lines.append("")
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
    | wd | Objective 2 | 12.5 | 1.000 | 0.250 | n/a |
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
    #: Further files of the report, by name (``items.csv``): text or bytes.
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
