"""The report's figure: a grid of item-item cosine heatmaps, as PNG bytes.

matplotlib is optional (the ``plot`` extra): :func:`has_matplotlib` tells
whether a figure can be drawn, and nothing here imports it at module import.
"""

import io
import math
from importlib.util import find_spec

import numpy as np

from .._linalg._matrix import unit_rows


def has_matplotlib():
    """Whether this installation can draw the figure."""
    return find_spec("matplotlib") is not None


def embedding_panels(results, order):
    """``(model name, item embeddings in display order)`` of each fitted model."""
    # An optional model that was not fitted has no embeddings and no panel.
    return [
        (r.spec.name, r.embeddings[order]) for r in results if r.embeddings is not None
    ]


def cosine_panels(panels, truth=None):
    """``(title, cosine matrix)`` of each ``(title, embeddings)`` panel, after
    a ground-truth panel when ``truth`` is given."""
    out = [] if truth is None else [("ground truth (same cluster)", truth)]
    for title, E in panels:
        # Zero rows: cosine 0 (docs/user_guide/objectives.rst, Objective 2); tiny
        # rows keep their cosines (sklearn's cosine_similarity zeroes rows of
        # norm < 10 eps).
        U = unit_rows(E)
        out.append((title, U @ U.T))
    return out


def similarity_panels(results, order, truth=None):
    """``(title, cosine matrix)`` for each model, items in ``order``."""
    return cosine_panels(embedding_panels(results, order), truth)


def heatmaps_png(panels, clusters=None):
    """PNG bytes of the cosine heatmaps of ``(title, item embeddings)`` panels.

    ``clusters`` (the items' clusters, in display order) adds a ground-truth
    panel first and draws the cluster boundaries.
    """
    truth = None
    if clusters is not None:
        truth = (clusters[:, None] == clusters[None, :]).astype(float)
    return figure_png(cosine_panels(panels, truth), labels=clusters)


def figure_png(panels, *, labels=None, columns=4, dpi=80):
    """PNG bytes of a grid of item-item cosine heatmaps.

    ``panels`` is a list of ``(title, similarities)``; ``labels`` (display
    order) draws cluster boundaries. Uses matplotlib's object API (no pyplot):
    nothing opens a window, whatever the backend.
    """
    from matplotlib.figure import Figure

    from ..plotting import SimilarityMatrixDisplay

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
