"""Public exceptions of skcosim."""

from __future__ import annotations

__all__ = ["DivergenceError", "StabilityNotAvailableWarning"]


class DivergenceError(ValueError, FloatingPointError):
    """A gradient solver diverged or could not train from its start.

    Raised when the loss overflowed or grew far above its start
    (``dropout-sgd``), or when L-BFGS ended far above the loss of the all-zero
    model, could not lower the loss from its start, or ended with a loss
    float64 cannot resolve. A ``ValueError``, like every error of a fit whose
    settings cannot produce a model; also a ``FloatingPointError``: a run that
    cannot train is a numerical failure, the class numpy raises for overflow.
    """


class StabilityNotAvailableWarning(UserWarning):
    """A neighbour stability could not be measured on this model.

    Raised by :func:`~skcosim.metrics.gauge_stability`,
    :func:`~skcosim.metrics.resample_stability`,
    :func:`~skcosim.metrics.restart_stability` and the stability scorers
    when an item embedding has fewer than two effective components: every
    cosine is then +1, -1 or 0 and the neighbours are a tie-break that any
    two such models share. The metric returns
    :data:`skcosim.metrics.NOT_AVAILABLE` (``-1.0``) instead of a value near
    1.0 that would read as perfect stability.
    """
