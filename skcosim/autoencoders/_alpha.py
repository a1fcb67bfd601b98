"""``alpha="auto"``: a regularization strength read from the data's spectrum.

One rule, shared by the estimators (``alpha="auto"``, ``init_alpha="auto"``)
and ``skcosim audit`` (its ``--alpha`` default): with ``s`` the top-``k``
singular values of ``X`` (``k = n_components``), the strength in units of
singular values is

    min(median(s_i > 0), s_1 / 2)    (1.0 when X is all zero).

The median puts the cut of Objective 2 (components with ``s_i <= alpha``)
in the middle of the kept spectrum, so about half of the ``k`` components
are used whatever the scale of ``X``; the cap keeps it below the top singular
value of a random half of the users (near ``s_1 / sqrt(2)``), so that a model
refitted on such a half keeps at least one component.
"""

from __future__ import annotations

import numpy as np

#: The value of ``alpha="auto"`` (in units of singular values) on all-zero data.
ZERO_DATA_ALPHA = 1.0


def auto_alpha(singular_values) -> float:
    """The data-driven regularization strength, in units of singular values.

    Parameters
    ----------
    singular_values : array-like of shape (k,)
        The top-``k`` singular values of ``X`` (any order; zeros for
        components beyond the rank).

    Returns
    -------
    alpha : float
        ``min(median(s[s > 0]), max(s) / 2)``; ``1.0`` when every ``s`` is 0.
        It is Objective 2's weight decay (and ``CosineAutoencoder``'s
        ``init_alpha``); Objective 1 measures its penalty in squared singular
        values and takes its square (:func:`resolve_alpha`).
    """
    s = np.asarray(singular_values, dtype=np.float64).ravel()
    positive = s[s > 0]
    if positive.size == 0:
        return ZERO_DATA_ALPHA
    return float(min(np.median(positive), positive.max() / 2))


def resolve_alpha(alpha, singular_values, *, squared=False) -> float:
    """``alpha`` as a number: itself, or :func:`auto_alpha` of the spectrum.

    Parameters
    ----------
    alpha : float or "auto"
        The estimator's parameter.
    singular_values : array-like of shape (k,)
        The top-``k`` singular values of the training data.
    squared : bool, default=False
        The estimator measures ``alpha`` in squared singular values
        (Objective 1, whose shrinkage ``s^2 / (s^2 + alpha)`` is then one half
        at the singular value where Objective 2 cuts).

    Returns
    -------
    alpha : float
    """
    if isinstance(alpha, str) and alpha == "auto":
        value = auto_alpha(singular_values)
        return value**2 if squared else value
    return float(alpha)
