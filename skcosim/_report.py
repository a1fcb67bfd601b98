"""The report of ``skcosim reproduce`` and ``skcosim audit``.

One function fits every model of the comparison on one interaction matrix
and scores it (:func:`compare_models`); the others turn the result into a
text table, Markdown, JSON and a Figure-1 style PNG, and write the files
atomically. The command line (:mod:`skcosim.cli`) only parses arguments,
loads data and calls these.
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._linalg._matrix import unit_rows
from ._linalg._spectrum import shared_spectra
from .autoencoders import DropoutAutoencoder, WeightDecayAutoencoder

#: Columns of the report, in order: (key, header).
COLUMNS = (
    ("name", "model"),
    ("objective", "objective"),
    ("loss", "loss"),
    ("gauge_stability", "gauge stability"),
    ("resample_stability", "resample stability"),
    ("label_agreement", "label agreement"),
)


# -- progress ------------------------------------------------------------------


class Progress:
    """Progress over named steps: a tqdm bar when tqdm is installed, else lines.

    Parameters
    ----------
    total : int
        Number of steps.
    enabled : bool
        ``False`` prints nothing.
    stream : file-like, default=sys.stderr
        Where to print.
    """

    def __init__(self, total, *, enabled=True, stream=None):
        self.total = total
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.bar = None
        #: Wall-clock seconds of each announced step, in order.
        self.seconds = {}
        self._current = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # optional extra "progress"
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, file=self.stream, leave=False)

    def step(self, description):
        """Announce the next step (before doing it); the last one is timed."""
        self._clock()
        self._current = (description, time.perf_counter())
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_description(description)
        else:
            print(f"[{self.done + 1}/{self.total}] {description}", file=self.stream)

    def advance(self):
        """Mark the announced step as done."""
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)

    def _clock(self):
        if self._current is not None:
            name, start = self._current
            self.seconds[name] = self.seconds.get(name, 0.0) + (
                time.perf_counter() - start
            )
            self._current = None

    def close(self):
        self._clock()
        if self.bar is not None:
            self.bar.close()


# -- the models ------------------------------------------------------------------


@dataclass
class ModelSpec:
    """One row of the comparison: how to build the model, which embedding."""

    name: str
    objective: str
    estimator: object
    kind: str = "decoder"
    note: str = ""
    #: Iterative fit (L-BFGS): refitted on fewer resamples, see compare_models.
    iterative: bool = False
    #: A model whose failure on the data is a note in the report, not an error.
    optional: bool = False


def cosine_autoencoder_class():
    """``skcosim.CosineAutoencoder`` if this installation has it, else None."""
    import skcosim

    return getattr(skcosim, "CosineAutoencoder", None)


def default_models(n_components, alpha, *, random_state, max_iter=None):
    """The models of the paper's Figure 1 and its remedies.

    ``alpha`` is in units of singular values: Objective 2 cuts components
    with ``s_i <= alpha``; Objective 1 gets ``alpha ** 2`` so that its
    shrinkage ``g_i = s_i^2 / (s_i^2 + alpha^2)`` is one half at the same
    singular value (docs/user_guide/objectives.rst, Objectives 1 and 2).
    """
    a1 = float(alpha) ** 2
    specs = []
    for scaling in ("identity", "symmetric", "encoder", "random"):
        label = "random gauge" if scaling == "random" else f'scaling="{scaling}"'
        specs.append(
            ModelSpec(
                name=f"Objective 1, {label}",
                objective="Objective 1 (product penalty)",
                estimator=DropoutAutoencoder(
                    n_components,
                    alpha=a1,
                    scaling=scaling,
                    random_state=random_state,
                ),
            )
        )
    specs.append(
        ModelSpec(
            name="Objective 2 (weight decay)",
            objective="Objective 2 (weight decay)",
            estimator=WeightDecayAutoencoder(n_components, alpha=float(alpha)),
        )
    )
    cosine = cosine_autoencoder_class()
    if cosine is not None:
        # alpha sets its Objective 2 start (the deterministic default init).
        params = {
            "n_components": n_components,
            "alpha": float(alpha),
            "random_state": random_state,
        }
        if max_iter is not None:
            params["max_iter"] = max_iter
        specs.append(
            ModelSpec(
                name="Objective 3 (trained for cosine)",
                objective="Objective 3 (cosine softmax)",
                estimator=cosine(**params),
                iterative=True,
                optional=True,
            )
        )
    specs.append(
        ModelSpec(
            name="Objective 1, projected (Remedy 2)",
            objective="Objective 1 (product penalty)",
            estimator=DropoutAutoencoder(n_components, alpha=a1),
            kind="projected",
            note="rows of A B^T, any split",
        )
    )
    return specs


# -- the scores --------------------------------------------------------------------


def _metrics():
    from . import metrics

    return metrics


def gauge_stability_of(model, kind, n_neighbors, n_draws, random_state, max_items):
    """:func:`skcosim.metrics.gauge_stability` of the ``kind`` item embedding."""
    return float(
        _metrics().gauge_stability(
            model,
            n_neighbors,
            n_draws=n_draws,
            embedding=kind,
            random_state=random_state,
            max_items=max_items,
        )
    )


def resample_stability_of(
    model, kind, X, n_neighbors, n_draws, random_state, max_items
):
    """:func:`skcosim.metrics.resample_stability` (random halves of the users)
    of the ``kind`` item embedding."""
    return float(
        _metrics().resample_stability(
            model,
            X,
            n_neighbors,
            n_resamples=n_draws,
            embedding=kind,
            random_state=random_state,
            max_items=max_items,
        )
    )


@dataclass
class ModelResult:
    """A fitted model of the comparison and its scores."""

    spec: ModelSpec
    model: object
    embeddings: np.ndarray
    scores: dict = field(default_factory=dict)


_EMPTY_SCORES = dict.fromkeys(
    ("loss", "gauge_stability", "resample_stability", "label_agreement", "fit_seconds")
)


@dataclass
class Scoring:
    """How :func:`compare_models` scores each model (see its parameters)."""

    labels: object = None
    n_neighbors: int = 10
    n_draws: int = 5
    resample_draws: int = 2
    iterative_resample_draws: int = 1
    random_state: int = 0
    max_items: int | None = None


def _announce(progress, text):
    if progress is not None:
        progress.step(text)


def _score_model(spec, X, scoring, notes, progress=None):
    """Fit one model and compute its row of the report.

    An optional model (``spec.optional``, the cosine-trained one) that cannot
    be fitted on these data, or on a resample of them, gets ``None`` scores
    and a note instead of stopping the whole report: e.g. its Objective 2
    start is zero when ``alpha`` exceeds every singular value of a half.
    """
    failures = (ValueError, FloatingPointError) if spec.optional else ()
    seed, k = scoring.random_state, scoring.n_neighbors
    try:
        _announce(progress, f"{spec.name}: fit")
        start = time.perf_counter()
        model = spec.estimator.fit(X)
        fit_seconds = time.perf_counter() - start
    except failures as exc:
        notes.append(f"not fitted: {exc}")
        return ModelResult(
            spec=spec, model=None, embeddings=None, scores={**_EMPTY_SCORES}
        )
    E = np.asarray(model.item_embeddings(spec.kind))
    _announce(progress, f"{spec.name}: loss and gauge stability")
    scores = {
        "loss": float(model.objective(X)),
        "gauge_stability": gauge_stability_of(
            model, spec.kind, k, scoring.n_draws, seed, scoring.max_items
        ),
        "resample_stability": None,
        "label_agreement": None
        if scoring.labels is None
        else float(_metrics().neighbor_label_agreement(E, scoring.labels, k)),
        "fit_seconds": fit_seconds,
    }
    draws = (
        scoring.iterative_resample_draws if spec.iterative else scoring.resample_draws
    )
    try:
        _announce(progress, f"{spec.name}: resample stability ({2 * draws} fits)")
        scores["resample_stability"] = resample_stability_of(
            model, spec.kind, X, k, draws, seed, scoring.max_items
        )
    except failures as exc:
        notes.append(f"no resample stability: {exc}")
    return ModelResult(spec=spec, model=model, embeddings=E, scores=scores)


def compare_models(
    specs,
    X,
    *,
    labels=None,
    n_neighbors=10,
    n_draws=5,
    resample_draws=2,
    iterative_resample_draws=1,
    random_state=0,
    max_items=None,
    progress=None,
):
    """Fit each model on ``X`` and score it.

    Each draw of the resample stability refits the model twice; an
    iterative model (the cosine-trained one, ~100x the cost of a closed form)
    gets ``iterative_resample_draws`` draws instead of ``resample_draws``.
    The closed forms share one spectrum per (re)sample of ``X``
    (:func:`skcosim._spectrum.shared_spectra`), and with ``max_items`` the
    stabilities average over a random sample of that many items.

    Returns a list of :class:`ModelResult`; ``scores`` holds ``loss`` (the
    model's training objective on ``X``), ``gauge_stability``,
    ``resample_stability``, ``label_agreement`` (``None`` without labels) and
    ``fit_seconds``.
    """
    n_neighbors = int(min(n_neighbors, X.shape[1] - 1))
    if n_neighbors < 1:
        raise ValueError(
            f"The data has {X.shape[1]} item(s): neighbours need at least 2 items."
        )
    scoring = Scoring(
        labels=labels,
        n_neighbors=n_neighbors,
        n_draws=n_draws,
        resample_draws=resample_draws,
        iterative_resample_draws=iterative_resample_draws,
        random_state=random_state,
        max_items=max_items,
    )
    results = []
    with shared_spectra():
        for spec in specs:
            results.append(_compare_one(spec, X, scoring, progress))
    return results


def _compare_one(spec, X, scoring, progress):
    notes = [spec.note] if spec.note else []
    if spec.iterative and progress is not None and progress.bar is not None:
        # A bar of its own counts the iterations of the long fits.
        spec.estimator.set_params(verbose=1)
    with warnings.catch_warnings(record=True) as caught:
        # e.g. ConvergenceWarnings of an iterative model (also from its
        # refits on halves): reported in the notes of the report instead
        # of interleaved with the progress bar.
        warnings.simplefilter("always")
        result = _score_model(spec, X, scoring, notes, progress)
    notes += sorted({" ".join(str(w.message).split()) for w in caught})
    result.scores["notes"] = notes
    if progress is not None:
        progress.advance()
    return result


def neighbor_table(results, items, n_neighbors):
    """Top neighbours of the given items under each model.

    Returns ``{item_index: {model name: [neighbour indices]}}``.
    """
    metrics = _metrics()
    table = {int(i): {} for i in items}
    for res in results:
        if res.embeddings is None:  # an optional model that was not fitted
            continue
        idx, _ = metrics.cosine_neighbors(
            res.embeddings, n_neighbors, queries=np.asarray(items, dtype=np.intp)
        )
        for i, row in zip(items, idx, strict=True):
            table[int(i)][res.spec.name] = [int(j) for j in row]
    return table


# -- rendering -------------------------------------------------------------------


def _fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def rows_of(results):
    """The report table: one dict per model with the keys of ``COLUMNS``."""
    return [
        {"name": r.spec.name, "objective": r.spec.objective, **r.scores}
        for r in results
    ]


def text_table(rows):
    """A plain-text table of the report, aligned in columns."""
    cells = [[h for _, h in COLUMNS]] + [
        [_fmt(row[key]) for key, _ in COLUMNS] for row in rows
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
        "| " + " | ".join(_fmt(row[key]) for key, _ in COLUMNS) + " |" for row in rows
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
- **label agreement**: share of each item's top-{k} neighbours that share a
  label with it (its cluster in simulated data; the labels of
  `--item-labels` in an audit), averaged over the labelled items.
"""


def markdown_report(title, intro, rows, n_neighbors, *, figure=None, extra=""):
    """The full Markdown report."""
    parts = [f"# {title}", "", intro, "", markdown_table(rows), ""]
    notes = [
        f"- {row['name']}: {note}" for row in rows for note in row.get("notes", [])
    ]
    if notes:
        parts += ["Notes:", "", *notes, ""]
    parts.append(HOW_TO_READ.format(k=n_neighbors))
    if figure is not None:
        parts += [f"![Item-item cosine similarities]({figure})", ""]
    if extra:
        parts += [extra, ""]
    return "\n".join(parts)


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


def figure_png(panels, *, labels=None, columns=4, dpi=80):
    """PNG bytes of a grid of item-item cosine heatmaps.

    ``panels`` is a list of ``(title, similarities)``; ``labels`` (display
    order) draws cluster boundaries. Uses matplotlib's object API (no pyplot):
    nothing opens a window, whatever the backend.
    """
    from matplotlib.figure import Figure

    from .plotting import SimilarityMatrixDisplay

    n = len(panels)
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    fig = Figure(figsize=(3.2 * columns, 3.3 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, (title, S) in zip(axes, panels, strict=False):
        # "nearest" shows a sample of the cosines when items outnumber pixels;
        # antialiasing would average a noisy panel (the random gauge) into a
        # flat one that reads as "no similarity" instead of "any similarity".
        SimilarityMatrixDisplay(S, labels=labels, title=title).plot(
            ax=ax, colorbar=False, im_kw={"interpolation": "nearest"}
        )
        ax.title.set_fontsize(9)
    for ax in axes[n:]:
        ax.set_axis_off()
    im = axes[0].images[0]
    fig.colorbar(im, ax=list(axes[:n]), shrink=0.6, label="cosine similarity")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return _palette_png(buffer.getvalue())


def _palette_png(png, cmap="RdBu_r"):
    """Re-encode a PNG with a fixed 256-colour palette (Pillow, a matplotlib
    dependency): noisy heatmaps compress badly in RGBA, and the figure is meant
    for READMEs and docs. The palette is 200 colours of the heatmaps'
    colormap plus 56 greys (text, lines, background), so the colour bar and
    the heatmaps keep their colours (an adaptive palette bands the rarer
    side of the colormap)."""
    try:
        from matplotlib import colormaps
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return png
    colours = np.round(colormaps[cmap](np.linspace(0, 1, 200))[:, :3] * 255)
    greys = np.repeat(np.round(np.linspace(0, 255, 56))[:, None], 3, axis=1)
    palette = Image.new("P", (1, 1))
    palette.putpalette(np.vstack([colours, greys]).astype(np.uint8).ravel().tolist())
    with Image.open(io.BytesIO(png)) as image:
        indexed = image.convert("RGB").quantize(
            palette=palette, dither=Image.Dither.NONE
        )
        out = io.BytesIO()
        indexed.save(out, format="PNG", optimize=True)
    return out.getvalue()


def similarity_panels(results, order, truth=None):
    """``(title, cosine matrix)`` for each model, items in ``order``."""
    panels = []
    if truth is not None:
        panels.append(("ground truth (same cluster)", truth))
    for r in results:
        if r.embeddings is None:  # an optional model that was not fitted
            continue
        # Zero rows: cosine 0 (docs/user_guide/objectives.rst, Objective 2); tiny
        # rows keep their cosines (sklearn's cosine_similarity zeroes rows of
        # norm < 10 eps).
        U = unit_rows(r.embeddings[order])
        panels.append((r.spec.name, U @ U.T))
    return panels


# -- files -------------------------------------------------------------------------


def check_writable_dir(path):
    """Create ``path`` if needed and check that files can be created in it.

    Raises ``OSError`` with a readable message otherwise. A probe file is
    created and removed: permission bits alone do not tell (e.g. as root).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".skcosim-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OSError(
            f"cannot write to output directory {str(path)!r}: {reason}"
        ) from exc
    return path


def _create_temporary(path):
    """A new, empty file next to ``path``, as ``(fd, name)``.

    Not ``tempfile.mkstemp``: it creates mode 0600, and reading the umask to
    widen it means setting the process umask for a moment, which races with
    other threads. ``os.open`` with mode 0666 lets the kernel apply the umask,
    as ``open()`` does.
    """
    for _ in range(100):
        name = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {str(path)!r}")


def write_atomic(files):
    """Write several files atomically: ``files`` maps path -> str or bytes.

    Every file is first written in full to a temporary file in its own
    directory; only when all of them are written do they replace their
    targets (``os.replace`` is atomic on one file system). A failure on the
    way removes the temporary files and leaves the targets as they were: no
    half-written report, and no report without its figure.
    """
    staged = []
    try:
        for path, data in files.items():
            path = Path(path)
            if isinstance(data, str):
                data = data.encode("utf-8")
            fd, tmp = _create_temporary(path)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        # os.replace onto a directory fails: check every target before the
        # first replace, so that such a failure cannot leave a partial set.
        for _, path in staged:
            if path.is_dir():
                raise IsADirectoryError(
                    f"cannot write {str(path)!r}: it is a directory"
                )
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    return [path for _, path in staged]
