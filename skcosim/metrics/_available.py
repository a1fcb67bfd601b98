"""When a neighbour stability is not available: fewer than two components.

An embedding whose rows span at most one direction puts every item on one
line: every cosine is +1, -1 or 0, each item's neighbours are a tie-break by
index, and two such embeddings agree on them whatever the data (gauge,
resample and restart stability all come out at about 1.0). Such a value
measures the tie-break, not the model: the stability metrics return
:data:`NOT_AVAILABLE` with a :class:`~skcosim.exceptions.StabilityNotAvailableWarning`
instead (user guide: :ref:`stability-not-available`).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._linalg._eigen import rank_rtol
from ..exceptions import StabilityNotAvailableWarning

#: What a stability metric returns when it is not available: outside
#: ``[0, 1]``, so that it can never be read as a stability, and below every
#: stability, so that a search ranks such a candidate last.
NOT_AVAILABLE = -1.0

#: Fewest effective components an embedding needs for its neighbours to
#: mean something: with one, every cosine is +1, -1 or 0.
MIN_COMPONENTS = 2

#: The reason the reports give for :data:`NOT_AVAILABLE`.
FEWER_COMPONENTS = f"fewer than {MIN_COMPONENTS} effective components"

# Singular values from the Gram matrix E^T E are resolved down to about
# sqrt(eps) (1.5e-8) of the largest: smaller ones count as zero.
_GRAM_RTOL = 1e-7


def effective_components(E):
    """Number of effective components of the embedding ``E``: its numerical
    rank (singular values above ``1e-7`` of the largest, or
    :func:`~skcosim._linalg._eigen.rank_rtol` if larger), from the ``d x d``
    Gram matrix (``O(m d^2)``, no copy of ``E`` beyond float64)."""
    E = np.asarray(E)
    if E.size == 0:
        return 0
    E64 = E.astype(np.float64, copy=False)
    ev = np.linalg.eigvalsh(E64.T @ E64)
    s = np.sqrt(np.clip(ev, 0.0, None))
    if s[-1] == 0 or not np.isfinite(s[-1]):
        return 0
    tol = max(rank_rtol(E.dtype, max(E.shape)), _GRAM_RTOL) * s[-1]
    return int(np.count_nonzero(s > tol))


def has_too_few_components(*embeddings):
    """Whether any of the ``embeddings`` has fewer than
    :data:`MIN_COMPONENTS` effective components."""
    return any(effective_components(E) < MIN_COMPONENTS for E in embeddings)


def not_available(metric, detail=""):
    """Warn that ``metric`` is not available and return :data:`NOT_AVAILABLE`."""
    warnings.warn(
        f"{metric} is not available: {detail or 'the embedding has'} "
        f"{FEWER_COMPONENTS}, so every cosine is +1, -1 or 0 and the "
        "neighbours are a tie-break by item index that any two such models "
        f"share (the overlap would be about 1.0 whatever the data). Returned "
        f"{NOT_AVAILABLE} (skcosim.metrics.NOT_AVAILABLE), never a stability. "
        "Lower alpha (fewer components cut).",
        StabilityNotAvailableWarning,
        stacklevel=3,
    )
    return NOT_AVAILABLE
