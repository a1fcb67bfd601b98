"""Public exceptions of skcosim."""

from __future__ import annotations

__all__ = ["DivergenceError"]


class DivergenceError(ValueError, FloatingPointError):
    """A gradient solver diverged or could not train from its start.

    Raised when the loss overflowed or grew far above its start
    (``dropout-sgd``), or when L-BFGS ended far above the loss of the all-zero
    model, could not lower the loss from its start, or ended with a loss
    float64 cannot resolve (:func:`check_lbfgs_end`). A ``ValueError``, like
    every error of a fit whose settings cannot produce a model; also a
    ``FloatingPointError``: a run that cannot train is a numerical failure,
    the class numpy raises for overflow.
    """
