"""Docstring sections shared by several public objects, written once.

Modelled on imbalanced-learn's ``utils/_docstring.py``: a :class:`Substitution`
decorator fills named placeholders of a docstring with the texts below. A
placeholder is a line holding only ``{name}``; the text replacing it is indented
as the placeholder was, so one text serves a class docstring and a function's.
Only whole-line placeholders are replaced, so the braces of the mathematics and
of ``{"a", "b"}`` options need no escaping (as they would with ``str.format``).
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(
    r"^(?P<indent>[ \t]*)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}[ \t]*$"
)


class Substitution:
    """Decorate a function or class to fill the placeholders of its docstring.

    Parameters
    ----------
    **texts : str
        Text of each placeholder, by name, without indentation.

    Examples
    --------
    >>> from skcosim._docstring import Substitution
    >>> @Substitution(extra="x : int\\n    An extra parameter.")
    ... def f(x):
    ...     '''Do nothing.
    ...
    ...     Parameters
    ...     ----------
    ...     {extra}
    ...     '''
    >>> import inspect  # Python 3.13 dedents docstrings itself; cleandoc either way
    >>> print(inspect.cleandoc(f.__doc__).splitlines()[4:])
    ['x : int', '    An extra parameter.']
    """

    def __init__(self, **texts):
        self.texts = texts

    def __call__(self, obj):
        # obj.__doc__ is None under python -OO: nothing to fill.
        if obj.__doc__:
            obj.__doc__ = substitute(obj.__doc__, self.texts)
        return obj


def substitute(doc, texts):
    """``doc`` with each whole-line placeholder ``{name}`` replaced by
    ``texts[name]``, indented as the placeholder; an unknown name raises a
    KeyError (a misspelt placeholder would otherwise be published)."""
    lines = []
    for line in doc.splitlines():
        match = _PLACEHOLDER.match(line)
        if match is None:
            lines.append(line)
            continue
        indent = match["indent"]
        text = texts[match["name"]]
        lines.extend(indent + part if part else "" for part in text.splitlines())
    return "\n".join(lines) + ("\n" if doc.endswith("\n") else "")


# -- References ------------------------------------------------------------------

PAPER_REFERENCE = """\
.. [1] H. Steck, C. Ekanadham, N. Kallus. "Is Cosine-Similarity of
   Embeddings Really About Similarity?" WWW'24 Companion, 2024.
   arXiv:2403.05440."""

# -- The closed-form autoencoders ------------------------------------------------

DASK_CLOSED_FORM_NOTES = """\
``X`` may also be a :mod:`dask.array` chunked along rows (numpy or
scipy.sparse chunks; ``pip install skcosim[dask]``): ``fit`` then computes
``X^T X`` (or the Lanczos products, ``solver="arpack"``) block by block on
the Dask scheduler, and ``transform`` returns a lazy dask array."""

FACTOR_ATTRIBUTES = """\
encoder_ : ndarray of shape (n_features, n_components)
    ``A``; user embeddings are ``X A``.
decoder_ : ndarray of shape (n_features, n_components)
    ``B``; its rows are the item embeddings. Items that no training user
    interacted with (no nonzero value in their column; a stored 0.0 is not
    an interaction) have exactly zero rows in both factors, whatever the
    solver: cosine 0 with every item, no neighbours.
singular_values_ : ndarray of shape (n_components,)
    Top singular values ``s_i`` of the training data.
components_ : ndarray of shape (n_components, n_features)
    Right singular vectors of the model's reconstruction of the training
    data (``X A B^T``), as in
    :class:`~sklearn.decomposition.TruncatedSVD`; the same for every
    gauge. Rows beyond the rank of the reconstruction are zero."""

EXPLAINED_VARIANCE_RATIO_ATTRIBUTE = """\
explained_variance_ratio_ : ndarray of shape (n_components,)
    ``explained_variance_`` over the total variance of the training data."""

# -- Every estimator fitted on items ---------------------------------------------

FEATURES_IN_ATTRIBUTES = """\
n_features_in_ : int
    Number of items seen during :term:`fit`.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of the items seen during :term:`fit`, when ``X`` has string
    column names."""

# -- Neighbour stability ---------------------------------------------------------

N_NEIGHBORS_PARAMETER = """\
n_neighbors : int, default=10
    Number of neighbours ``k`` compared."""

N_DRAWS_PARAMETER = """\
n_draws : int, default=10
    Number of random gauge transforms."""

METHOD_PARAMETER = """\
method : {"jaccard", "rbo"}, default="jaccard"
    Overlap measure, see :func:`neighbor_overlap`."""

MAX_ITEMS_PARAMETER = """\
max_items : int, default=None
    Average over a random sample of at most this many items, whose
    neighbours are still searched among all items: an unbiased estimate
    of the mean over all items at a fraction of the cost on large
    catalogues. ``None``: every item."""

AVERAGE_PARAMETER = """\
average : bool, default=True
    Return the stability, a float (see Returns). ``False``: an ndarray of
    shape ``(n_items,)`` instead, each item's overlap averaged over the
    draws in which it has a direction in both embeddings compared; NaN for
    an item with none, for an item outside the sample of ``max_items``, and
    for every item when the stability is not available (with the warning).
    Without zero rows the mean of these values is the stability; with them,
    the stability averages each draw's items first."""

EMBEDDING_PARAMETER = """\
embedding : {"decoder", "encoder", "projected"} or None, default=None
    Which item embedding (``item_embeddings(embedding=...)``). ``None``: the
    estimator's default, its class attribute ``_default_embedding``, shared
    by ``item_embeddings()``, ``similar_items``, every metric, the displays
    and the command line: ``"projected"`` for
    :class:`~skcosim.DropoutAutoencoder` (the only gauge-free one),
    ``"decoder"`` for :class:`~skcosim.WeightDecayAutoencoder` and
    :class:`~skcosim.CosineAutoencoder`, the projected items of
    :class:`~skcosim.preprocessing.ProjectedEmbedding`
    (:ref:`default-embedding`)."""

STABILITY_RETURNS = """\
stability : float
    Mean overlap in ``[0, 1]``. :data:`~skcosim.metrics.NOT_AVAILABLE`
    (``-1.0``, never a stability), with a
    :class:`~skcosim.exceptions.StabilityNotAvailableWarning`, when an
    embedding compared has fewer than two effective components: its
    cosines are all +1, -1 or 0, and the overlap of its tie-broken
    neighbours would be about 1.0 whatever the data
    (:ref:`stability-not-available`)."""

# -- Scorers ---------------------------------------------------------------------

RANKING_SCORER_PARAMETERS = """\
holdout : float in (0, 1), default=0.2
    Share of each user's interactions held out.
random_state : int, RandomState instance or None, default=0
    Seeds the held-out entries; an int (the default) holds out the same
    entries for every candidate of a search.
batch_size : int, default=None
    Users per block of scores."""

SCORER_RETURNS = """\
scorer : callable
    ``scorer(estimator, X, y=None) -> float``."""
