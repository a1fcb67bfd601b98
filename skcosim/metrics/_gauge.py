"""Random gauge transforms and their action on the factors of ``U V^T``.

The public face of :mod:`skcosim._linalg._gauge`, the one place that draws
and applies them (the estimators, the metrics and the command line share it).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_array

from .._compat import Interval, StrOptions, validate_params
from .._linalg import _gauge


@validate_params(
    {
        "group": [StrOptions(set(_gauge.GAUGE_GROUPS))],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "scale": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def sample_gauge(
    group: str,
    n_components: int,
    random_state=None,
    *,
    scale: float = _gauge.LOG_NORMAL_SCALE,
) -> np.ndarray:
    r"""Draw a random gauge transform ``R`` from one of three groups.

    A model scoring users and items by ``U V^T`` gives the same scores with
    ``U R`` and ``V R^{-T}`` for every invertible ``R``; which ``R`` also
    keep its training loss depends on the recipe (:ref:`gauges`,
    :ref:`external-gauges`). The three groups, from the largest:

    - ``"invertible"``: ``R = Q_1 \mathrm{diag}(e^{z}) Q_2`` with ``Q_1, Q_2``
      Haar-uniform rotations and ``z ~ N(0, scale^2)`` (log-normal singular
      values, so ``R`` is invertible and well conditioned for moderate
      ``scale``). Admissible for a fit without regularization on the factors
      (TruncatedSVD, PCA, matrix factorization without weight decay) or with
      a penalty on the product only (the paper's Objective 1, input
      dropout).
    - ``"diagonal"``: ``R = \mathrm{diag}(e^{z})``, positive, log-normal: a
      rescaling of each dimension, which keeps non-negative factors
      non-negative (NMF without penalty) and is what
      ``DropoutAutoencoder(gauge="random")`` draws. It already moves every
      cosine.
    - ``"orthogonal"``: a Haar-uniform rotation. The only transforms weight
      decay on both factors admits (ALS, the paper's Objective 2); it keeps
      every cosine.

    These are the draws of :func:`gauge_stability` and
    :func:`factor_gauge_stability` (same ``group`` and seed, same ``R``).

    Parameters
    ----------
    group : {"invertible", "diagonal", "orthogonal"}
        The group drawn from, see above.
    n_components : int
        The size of ``R`` (the number of components ``d`` of the factors).
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.
    scale : float, default=1.0
        Standard deviation of the log of the diagonal (diagonal and invertible
        groups).

    Returns
    -------
    R : ndarray of shape (n_components, n_components)
        The transform, float64.

    See Also
    --------
    apply_gauge : Re-split factors with ``R``.
    gauge_stability : Neighbour overlap under such transforms.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.metrics import sample_gauge
    >>> R = sample_gauge("diagonal", 3, random_state=0)
    >>> bool(np.all(R == np.diag(np.diag(R))) and np.all(np.diag(R) > 0))
    True
    >>> Q = sample_gauge("orthogonal", 3, random_state=0)
    >>> bool(np.allclose(Q @ Q.T, np.eye(3)))
    True
    """
    return _gauge.sample_gauge(group, n_components, random_state, scale=scale)


@validate_params(
    {
        "user_factors": ["array-like"],
        "item_factors": ["array-like"],
        "R": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def apply_gauge(user_factors, item_factors, R) -> tuple[np.ndarray, np.ndarray]:
    r"""Re-split the factors of ``U V^T`` with the gauge transform ``R``.

    Returns ``(U R, V R^{-T})``: the same scores ``U V^T``, another split. For
    a skcosim autoencoder ``X A B^T`` the pair is ``(A, B)``, the encoder and
    decoder (``item_embeddings(gauge=R)`` does this for a fitted one). A
    diagonal or orthogonal ``R`` is inverted exactly, any other by a linear
    solve.

    Parameters
    ----------
    user_factors : array-like of shape (n_users, n_components)
        ``U`` (or an autoencoder's encoder ``A``).
    item_factors : array-like of shape (n_items, n_components)
        ``V`` (or an autoencoder's decoder ``B``).
    R : array-like of shape (n_components, n_components)
        An invertible transform, e.g. from :func:`sample_gauge`.

    Returns
    -------
    user_factors_R : ndarray of shape (n_users, n_components)
        ``U R``.
    item_factors_R : ndarray of shape (n_items, n_components)
        ``V R^{-T}``.

    Raises
    ------
    ValueError
        If the factors do not have the same number of columns, ``R`` is not
        square of that size, is singular, or any of them holds NaN or
        infinity.

    See Also
    --------
    sample_gauge : Draw ``R`` from a group.
    skcosim.preprocessing.project_factors : The embedding no ``R`` moves.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.metrics import apply_gauge, sample_gauge
    >>> rng = np.random.RandomState(0)
    >>> U, V = rng.randn(5, 3), rng.randn(4, 3)
    >>> U_R, V_R = apply_gauge(U, V, sample_gauge("invertible", 3, random_state=0))
    >>> bool(np.allclose(U_R @ V_R.T, U @ V.T))
    True
    """
    U = check_array(
        user_factors, dtype=[np.float64, np.float32], input_name="user_factors"
    )
    V = check_array(
        item_factors, dtype=[np.float64, np.float32], input_name="item_factors"
    )
    if U.shape[1] != V.shape[1]:
        raise ValueError(
            f"user_factors has {U.shape[1]} columns and item_factors "
            f"{V.shape[1]}: they need one column per component each."
        )
    return _gauge.apply_gauge(U, V, _gauge.check_gauge(R, U.shape[1]))
