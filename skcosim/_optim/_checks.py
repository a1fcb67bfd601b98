"""The checks of a gradient run at its start and at its end.

A run that cannot produce a model raises instead of returning one: a start
whose loss is not finite a ``ValueError`` (:func:`check_start`), and a run
that diverged, ended far above the all-zero model or with a loss float64
cannot resolve a :class:`~skcosim.exceptions.DivergenceError`
(:func:`check_run_end`, over the :class:`RunEnd` record every solver fills).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..exceptions import DivergenceError

#: :func:`~skcosim._optim._sgd.dropout_sgd` has diverged when its final loss is more
#: than this many times its loss at the start (in magnitude: a loss of huge factors can
#: also come out negative, by cancellation). A run that trains ends below its start; a
#: diverging one grows geometrically and overshoots any such factor by orders of
#: magnitude, while a step size that merely spikes the loss for a few epochs is halved
#: at the next plateau and can recover, so only the end is judged.
DIVERGENCE_FACTOR = 10.0


#: :func:`check_run_end` judges a loss unresolved when its rounding error
#: exceeds this fraction of the loss of the all-zero model: float64 can then
#: no longer tell the fit from no model at all, while ordinary starts stay
#: many orders of magnitude below it.
LOSS_RESOLUTION = 0.1


def check_start(loss, grad=None, *, name, init_scale=None):
    """Raise a ValueError when the loss (or gradient) at the start is not finite.

    Every later check of the loss is relative to its start, and an overflowed
    start is no place to train from. The message names ``init_scale`` when
    the start was drawn with it: the usual cause is ``init_scale`` so large
    that products of the initial factors overflow float64 (the data
    themselves are checked before, ``skcosim._linalg._matrix.check_gram_fits``).
    """
    if not np.isfinite(loss):
        problem = f"the loss at the start is {loss}"
    elif grad is not None and not np.all(np.isfinite(grad)):
        problem = "the gradient at the start is not finite"
    else:
        return
    if init_scale is not None:
        raise ValueError(
            f"{name}: init_scale={init_scale:g} makes the initial factors "
            f"overflow float64 ({problem}); lower init_scale."
        )
    raise ValueError(f"{name}: {problem} (it overflows float64).")


@dataclass(frozen=True)
class RunEnd:
    """How a gradient run ended: what :func:`check_run_end` judges.

    Attributes
    ----------
    name : str
        The solver's name in errors.
    loss, start_loss : float
        The loss at the end and at the start.
    reference : float
        The loss of the all-zero factors, which a useful fit must beat.
    error : float
        The estimated rounding error of ``loss`` (:func:`expanded_loss_error`).
    n_iter : int
        Iterations (L-BFGS) or epochs (SGD) run; ``unit`` names them.
    stopped_early : bool
        Whether the solver's own rule ended the run (else ``max_iter`` did).
    init_scale : float or None
        The scale the start was drawn with, named by the errors it causes.
    start_error : float or None
        The rounding error of the start's loss; given, a run is judged
        unresolved only when its start was too (dropout SGD).
    line_search_failed : bool
        Whether L-BFGS-B ended on a failed line search (scipy's status 2).
    learning_rate : float or None
        The step size of a run whose loss can grow (dropout SGD), named when
        it did.
    unit : str
        What ``n_iter`` counts, in messages.
    """

    name: str
    loss: float
    start_loss: float
    reference: float
    error: float
    n_iter: int
    stopped_early: bool
    init_scale: float | None = None
    start_error: float | None = None
    line_search_failed: bool = False
    learning_rate: float | None = None
    unit: str = "iterations"


def check_run_end(run):
    """Raise a :class:`~skcosim.exceptions.DivergenceError` when a gradient run
    (a :class:`RunEnd`) produced no model.

    The reference is the loss of the all-zero factors. In this order, the
    run failed when:

    - (a run with a ``learning_rate``) ``|loss|`` exceeds
      :data:`DIVERGENCE_FACTOR` times the loss at the start: the loss grew,
      ``learning_rate`` is too large;
    - (L-BFGS) its line search failed without lowering the loss from a start
      worse than the reference: L-BFGS-B's first step has unit length, which
      changes nothing float64 resolves on factors of size 1e20 or more;
    - ``error`` exceeds :data:`LOSS_RESOLUTION` times the reference, however
      the run stopped: the computed loss cannot tell the fit from the
      all-zero model (the expanded loss of Objectives 1 and 2 cancels terms
      of size ``||X A||^2 ||B||^2``; from large starts it even comes out
      negative). With a ``start_error``, the start must have been unresolved
      too: training conserves ``A^T A - B^T B``, so such factors hardly
      shrink, while factors that grew from a resolved start are left to the
      other rules (a step size that spikes the loss can recover: 300 x 60
      binary data, ``learning_rate=10``: a final loss 0.66 times the
      reference with an error estimate 0.13 times it);
    - the solver's own rule stopped it at more than :data:`DIVERGENCE_FACTOR`
      times the reference (in magnitude; a reference of zero, ``X`` without a
      nonzero entry, is not judged). A run that stops at ``max_iter`` gets
      the ``ConvergenceWarning`` instead: it was still going down.

    Legitimate fits stay far from these lines: they end below the reference,
    or just above it when the zero model is optimal (``alpha >= s_1``: up to
    1.15 times, measured); their error is below ``1e-13`` times it from
    starts up to ``init_scale=1``.
    """
    grew = abs(run.loss) > DIVERGENCE_FACTOR * run.start_loss
    if run.learning_rate is not None and grew:
        raise diverged(
            run.name,
            f"the loss ended at {run.loss:.3g} after {run.n_iter} {run.unit}, "
            f"more than {DIVERGENCE_FACTOR:g} times its start in magnitude",
            start_loss=run.start_loss,
            learning_rate=run.learning_rate,
        )
    resolution = LOSS_RESOLUTION * run.reference
    if run.line_search_failed and run.loss >= run.start_loss > run.reference:
        problem = (
            "L-BFGS could not take a first step: its line search found no "
            f"loss below the start's {run.start_loss:.3g} (the all-zero model "
            f"has {run.reference:.3g})"
        )
        raise _no_model(run.name, problem, run.init_scale)
    start_unresolved = run.start_error is None or run.start_error > resolution
    if run.error > resolution and start_unresolved:
        problem = (
            f"the factors are so large that float64 resolves the loss only to "
            f"about {run.error:.3g}, more than {LOSS_RESOLUTION:g} times the loss "
            f"of the all-zero model ({run.reference:.3g}; the loss ended at "
            f"{run.loss:.3g} after {run.n_iter} {run.unit}, from "
            f"{run.start_loss:.3g})"
        )
        raise _no_model(run.name, problem, run.init_scale)
    far = run.reference > 0 and abs(run.loss) > DIVERGENCE_FACTOR * run.reference
    if run.stopped_early and far:
        _raise_far_above(run)


def _raise_far_above(run):
    """The error of a run that stopped far above the all-zero model: it names
    ``init_scale`` when the start was that far above it too (or, without a
    ``learning_rate`` to blame, whenever the start was drawn with it)."""
    problem = (
        f"it stopped after {run.n_iter} {run.unit} at a loss of {run.loss:.3g}, "
        f"more than {DIVERGENCE_FACTOR:g} times that of the all-zero model "
        f"({run.reference:.3g}; the loss at the start is {run.start_loss:.3g})"
    )
    if run.learning_rate is None:
        raise _no_model(run.name, problem, run.init_scale)
    start_far = run.start_loss > DIVERGENCE_FACTOR * run.reference
    if run.init_scale is not None and start_far:
        raise DivergenceError(
            f"{run.name} failed: {problem}; lower init_scale (now "
            f"{run.init_scale:g}) or learning_rate (now {run.learning_rate:g})."
        )
    raise DivergenceError(
        f"{run.name} failed: {problem}; lower learning_rate (now "
        f"{run.learning_rate:g})."
    )


def diverged(name, message, *, start_loss, learning_rate):
    """The :class:`DivergenceError` of a run whose loss grew: it names
    ``learning_rate``."""
    return DivergenceError(
        f"{name} diverged: {message} (the loss at the start is "
        f"{start_loss:.3g}); lower learning_rate (now {learning_rate:g})."
    )


def _no_model(name, problem, init_scale):
    """The :class:`DivergenceError` of a run that produced no model.

    Names ``init_scale`` when the start was drawn with it (the final checks
    raise this only for problems a smaller start avoids).
    """
    if init_scale is not None:
        return DivergenceError(
            f"{name}: init_scale={init_scale:g} is too large: {problem}; "
            "lower init_scale."
        )
    return DivergenceError(f"{name} failed: {problem}.")


def above_reference_note(loss, reference, start_loss, *, init_scale=None):
    """The note of a dropout-SGD ``ConvergenceWarning`` ending above the reference.

    ``None`` when the loss ended at or below the all-zero model's. Such a run
    passed :func:`check_run_end`: its loss is resolved and did not
    grow, so more epochs can help; from a start far above the reference
    (a large ``init_scale``) a smaller ``init_scale`` helps more.
    """
    if not loss > reference:
        return None
    note = (
        f"Its loss ({loss:.3g}) is still above that of the all-zero model "
        f"({reference:.3g}): this model is worse than none."
    )
    if init_scale is not None and start_loss > DIVERGENCE_FACTOR * reference:
        note += (
            f" Its start ({start_loss:.3g}) was far above it too: a smaller "
            f"init_scale (now {init_scale:g}) trains faster."
        )
    return note


#: A cosine fit that ends less than this share of its start's loss lower
#: "barely left its start" (:func:`check_progress`). The fits it is meant for
#: gain more from the Objective 2 start (8 % on MovieLens-100k, 3 to 20 % on
#: the simulated data of ``skcosim reproduce`` depending on the temperature),
#: while a fit whose line search stalls on a few huge gradient entries gained
#: 0.15 % on a real dependency graph.
MIN_GAIN = 1e-2

#: A run that ends with ``||g|| ||theta|| / |f|`` above this has not converged
#: (:func:`check_progress`): moving its parameters by a small share ``e`` of
#: their size along the gradient would still lower the loss by about ``e``
#: times itself. Converged cosine fits end near ``1e-3`` to ``2e-2``; a fit
#: stalled by users with a zero start embedding under an absolute
#: normalization floor ended near ``1e5``.
MAX_SENSITIVITY = 1.0


def check_progress(
    name, curve, *, min_gain, n_iter, unit="iterations", sensitivity=None, detail=""
):
    """Warn (``ConvergenceWarning``) when a run barely left its start.

    That is: its loss fell by less than ``min_gain`` times its start's, or
    (given) its relative gradient ``sensitivity`` (``||g|| ||theta|| / |f|``
    at the end) exceeds :data:`MAX_SENSITIVITY`. ``curve`` is the loss at
    the start and after each iteration of the returned model; ``detail`` (a
    sentence) says how the run stopped. Returns the message, or ``None``.
    """
    start, end = float(curve[0]), float(min(curve))
    gain = (start - end) / abs(start) if start else 0.0
    steep = sensitivity is not None and sensitivity > MAX_SENSITIVITY
    if gain >= min_gain and not steep:
        return None
    why = []
    if gain < min_gain:
        why.append(f"less than the {min_gain:.0%} a fit is expected to gain")
    if steep:
        why.append(
            "its relative gradient ||g|| ||theta|| / |loss| is still "
            f"{sensitivity:.3g} (above {MAX_SENSITIVITY:g})"
        )
    message = (
        f"{name} stopped close to its start: its loss fell by {gain:.3%} (from "
        f"{start:.6g} to {end:.6g}) in {n_iter} {unit}, and {' and '.join(why)}."
        f"{' ' + detail if detail else ''} For CosineAutoencoder the start is the "
        "Objective 2 solution: check the data for users or items without any "
        "embedding, or lower tol."
    )
    warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return message
