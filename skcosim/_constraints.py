"""Parameter constraints that scikit-learn's validation does not offer."""

from __future__ import annotations

import numbers

from ._compat import Interval

#: The item embeddings a fitted autoencoder offers (``item_embeddings(embedding)``),
#: and the ``embedding`` options of the metrics that read them.
EMBEDDING_KINDS = ("decoder", "encoder", "projected")

#: The neighbour-stability metrics a scorer or a display can draw.
STABILITY_KINDS = ("gauge", "resample")


class Count(Interval):
    """An interval of integers that are not booleans.

    ``True`` is a :class:`numbers.Integral`, so scikit-learn's
    ``Interval(Integral, 1, None)`` accepts ``n_components=True``; numpy then
    fails on it far from the parameter. This constraint rejects it with
    scikit-learn's ``InvalidParameterError`` naming the parameter.

    Parameters
    ----------
    left : int or None
        Lower bound.
    right : int or None, default=None
        Upper bound.
    closed : {"left", "right", "both", "neither"}, default="left"
        Which bounds are included.
    """

    def __init__(self, left, right=None, *, closed="left"):
        super().__init__(numbers.Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)


#: ``n_jobs`` as joblib reads it: a nonzero int (``-1`` all processors) or
#: ``None``. Not 0, which joblib refuses only once it runs, nor a bool, which
#: it would read as 1 job.
N_JOBS = [Count(None, -1, closed="right"), Count(1), None]
