"""Gauge stability of any dot-product model, from its item factors alone.

A model that scores user ``u`` and item ``i`` by ``u . v`` (matrix
factorization, ALS, TruncatedSVD, a two-tower network's last layers) gives
the same scores with ``U R`` and ``V R^{-T}`` for every invertible ``R``;
its training recipe decides which ``R`` also keep its loss
(docs/user_guide/gauges.rst, "Gauges of external models").
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array

from .._compat import Interval, StrOptions, validate_params
from .._docstring import (
    AVERAGE_PARAMETER,
    METHOD_PARAMETER,
    N_DRAWS_PARAMETER,
    N_NEIGHBORS_PARAMETER,
    STABILITY_RETURNS,
    Substitution,
)
from .._linalg._gauge import GAUGE_GROUPS, apply_gauge
from ._overlap import OVERLAP_METHODS
from ._stability import gauge_overlaps


@validate_params(
    {
        "item_factors": ["array-like"],
        "group": [StrOptions(set(GAUGE_GROUPS))],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions(set(OVERLAP_METHODS))],
        "random_state": ["random_state"],
        "average": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@Substitution(
    average=AVERAGE_PARAMETER,
    n_neighbors=N_NEIGHBORS_PARAMETER,
    n_draws=N_DRAWS_PARAMETER,
    method=METHOD_PARAMETER,
    stability_returns=STABILITY_RETURNS,
)
def factor_gauge_stability(
    item_factors,
    *,
    group: str,
    n_neighbors: int = 10,
    n_draws: int = 10,
    method: str = "jaccard",
    random_state=None,
    average: bool = True,
) -> float | np.ndarray:
    r"""Gauge stability of the item factors of any dot-product model.

    The quantity of :func:`gauge_stability`, computed from an array: the
    expected overlap of the top-``k`` cosine neighbours of the rows of
    ``V`` (``item_factors``) and of ``V R^{-T}``, over ``n_draws`` random
    ``R`` from ``group``,

    .. math::

        \frac{1}{n_\mathrm{draws}} \sum_{r} \frac{1}{m} \sum_{i=1}^{m}
            \mathrm{overlap}\big(N_V(i), N_{V R_r^{-T}}(i)\big).

    The scores ``U V^T`` are the same for every such ``R``; whether the loss
    is too depends on how the factors were trained, and ``group`` says so
    (:ref:`external-gauges`):

    - ``"invertible"``: no regularization on the factors (a plain low-rank
      fit such as :class:`~sklearn.decomposition.TruncatedSVD`, or matrix
      factorization and two-tower models trained without weight decay), or a
      penalty on the product ``U V^T`` only (the paper's Objective 1, input
      dropout). Every invertible ``R`` keeps the loss.
    - ``"diagonal"``: positive diagonal ``R`` only, e.g. non-negative
      factors without regularization (:class:`~sklearn.decomposition.NMF`
      with ``alpha_W=0``): rescaling a dimension is the transform that keeps
      them non-negative. Already this moves every cosine.
    - ``"orthogonal"``: weight decay on both factors (ALS, the paper's
      Objective 2, two-tower models with L2 on both towers) or a cosine
      inside the loss. Rotations keep every cosine, so the value is 1.

    ``group`` is what is drawn (:func:`sample_gauge`), here as in
    :func:`gauge_stability`: with the same ``group`` and ``random_state``,
    ``gauge_stability(model, group=group)`` of a model whose item embedding is
    ``V`` is this number exactly. (``gauge_stability`` without ``group`` draws
    diagonal ``R`` for a model whose gauge is invertible: a smaller family,
    so a value above the invertible group's for the same model.)

    A value of 1 means the loss determines the neighbours; a value well below
    1 means they are an accident of one admissible split. Use
    :func:`skcosim.preprocessing.project_factors` for an embedding whose
    cosines no ``R`` can move.

    Parameters
    ----------
    item_factors : array-like of shape (n_items, n_components)
        The item factors ``V`` of a model scoring ``U V^T``.
    group : {"invertible", "diagonal", "orthogonal"}
        The gauge transforms the model's training leaves free, see above.
    {n_neighbors}
    {n_draws}
    {method}
    random_state : int, RandomState instance or None, default=None
        Seeds the gauge draws: ``"diagonal"`` draws ``diag(exp(z))`` with
        ``z ~ N(0, 1)``, ``"orthogonal"`` a Haar-random rotation,
        ``"invertible"`` ``Q_1 diag(exp(z)) Q_2`` with ``Q_1, Q_2``
        Haar-random rotations.
    {average}

    Returns
    -------
    {stability_returns}

    See Also
    --------
    gauge_stability : The same quantity for a fitted model.
    sample_gauge : The transforms drawn.
    skcosim.preprocessing.project_factors : The gauge-free item embedding.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import TruncatedSVD
    >>> from skcosim.metrics import factor_gauge_stability
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(300, 60) < 0.1).astype(float)
    >>> V = TruncatedSVD(n_components=8, random_state=0).fit(X).components_.T
    >>> factor_gauge_stability(V, group="orthogonal", n_neighbors=5,
    ...                        random_state=0)
    1.0
    >>> bool(factor_gauge_stability(V, group="invertible", n_neighbors=5,
    ...                             random_state=0) < 0.5)
    True
    """
    V = check_array(
        item_factors, dtype=[np.float64, np.float32], input_name="item_factors"
    )
    return gauge_overlaps(
        V,
        lambda R: apply_gauge(V, V, R)[1],
        group,
        n_neighbors=n_neighbors,
        n_draws=n_draws,
        method=method,
        random_state=random_state,
    ).reduce("Gauge stability", average)
