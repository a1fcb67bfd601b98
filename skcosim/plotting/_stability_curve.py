"""Neighbour stability against a swept parameter (like ValidationCurveDisplay)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from .._compat import (
    _interval_max_min_ratio,
    _validate_style_kwargs,
    check_matplotlib_support,
)
from .._constraints import STABILITY_KINDS


def _stability_draw(kind, estimator, X, n_neighbors, embedding, seed):
    """One draw of a stability metric of skcosim.metrics
    (docs/user_guide/stability.rst); imported here so that plotting does not
    need metrics at import."""
    from skcosim import metrics

    if kind == "gauge":
        value = metrics.gauge_stability(
            estimator, n_neighbors, n_draws=1, embedding=embedding, random_state=seed
        )
    else:
        value = metrics.resample_stability(
            estimator,
            X,
            n_neighbors,
            n_resamples=1,
            embedding=embedding,
            random_state=seed,
        )
    return float(value)


class NeighborStabilityDisplay:
    """Neighbour stability of an estimator against one of its parameters.

    The neighbour-stability analogue of scikit-learn's
    :class:`~sklearn.model_selection.ValidationCurveDisplay`: for each value
    of a parameter, the mean (line) and standard deviation (band) over random
    draws of a stability score (Jaccard@k of the top-k cosine neighbours of
    the items, :ref:`stability`). It is recommended to use
    :meth:`from_estimator`; all parameters are stored as attributes.

    Parameters
    ----------
    param_name : str
        Name of the swept parameter.
    param_range : array-like of shape (n_values,)
        Its values.
    scores : ndarray of shape (n_values, n_draws)
        Stability score of each draw at each value.
    score_name : str, default=None
        Label of the y axis; ``None`` uses ``"Neighbour stability"``.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The mean score.
    fill_between_ : matplotlib PolyCollection or None
        The band of one standard deviation (``None`` with one draw).
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure containing the curve.

    See Also
    --------
    SimilarityMatrixDisplay : Heatmap of item-item cosines.
    sklearn.model_selection.ValidationCurveDisplay : The same for scores.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.plotting import NeighborStabilityDisplay
    >>> disp = NeighborStabilityDisplay(
    ...     param_name="alpha", param_range=[1, 10, 100],
    ...     scores=np.array([[0.2, 0.3], [0.5, 0.6], [0.9, 0.9]]))
    >>> disp.plot()
    <...NeighborStabilityDisplay object at ...>
    """

    def __init__(self, *, param_name, param_range, scores, score_name=None):
        self.param_name = param_name
        self.param_range = param_range
        self.scores = scores
        self.score_name = score_name

    def plot(self, ax=None, *, line_kw=None, fill_between_kw=None):
        """Plot the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        line_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the mean.
        fill_between_kw : dict, default=None
            Keyword arguments of ``ax.fill_between`` for the band.

        Returns
        -------
        display : NeighborStabilityDisplay
            The object itself, with ``line_``, ``fill_between_``, ``ax_`` and
            ``figure_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        x = np.asarray(self.param_range, dtype=np.float64)
        scores = np.asarray(self.scores, dtype=np.float64)
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.ndim != 2 or scores.shape[0] != x.shape[0]:
            raise ValueError(
                f"scores must have shape (n_values, n_draws) with n_values="
                f"{x.shape[0]}, got {np.shape(self.scores)}."
            )
        if ax is None:
            _, ax = plt.subplots()
        mean, std = scores.mean(axis=1), scores.std(axis=1)
        line_kw = _validate_style_kwargs({"marker": "o"}, line_kw or {})
        (self.line_,) = ax.plot(x, mean, **line_kw)
        self.fill_between_ = None
        if scores.shape[1] > 1:
            fill_kw = _validate_style_kwargs(
                {"alpha": 0.3, "color": self.line_.get_color()}, fill_between_kw or {}
            )
            self.fill_between_ = ax.fill_between(x, mean - std, mean + std, **fill_kw)
        # scikit-learn's rule (model_selection/_plot.py): log scale when the
        # gaps between values differ by more than a factor 5.
        if x.size > 2 and _interval_max_min_ratio(x) > 5:
            ax.set_xscale("symlog" if x.min() <= 0 else "log")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(self.param_name)
        ax.set_ylabel(self.score_name or "Neighbour stability")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        param_name,
        param_range,
        kind="gauge",
        embedding=None,
        n_neighbors=10,
        n_draws=5,
        random_state=None,
        score_name=None,
        ax=None,
        **plot_kw,
    ):
        """Sweep a parameter, score neighbour stability, and plot.

        For each value ``v`` of ``param_range`` a clone of ``estimator`` with
        ``param_name=v`` is scored ``n_draws`` times:

        - ``kind="gauge"``: fitted once on ``X``, then
          :func:`skcosim.metrics.gauge_stability` (a random admissible gauge
          transform per draw: do the neighbours survive a change of split that
          leaves the loss unchanged?);
        - ``kind="resample"``: :func:`skcosim.metrics.resample_stability` on
          ``X`` (refits on random halves of the users per draw).

        Parameters
        ----------
        estimator : estimator
            A skcosim autoencoder (fitted or not; it is cloned).
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Interaction matrix.
        param_name : str
            Parameter to sweep, e.g. ``"alpha"``.
        param_range : array-like of shape (n_values,)
            Its values.
        kind : {"gauge", "resample"}, default="gauge"
            The stability score.
        embedding : {"decoder", "encoder", "projected"}, default=None
            Which item embedding is scored; ``None``: the model's default
            (see :func:`skcosim.metrics.gauge_stability`).
        n_neighbors : int, default=10
            ``k`` of Jaccard@k.
        n_draws : int, default=5
            Random draws per value (the band is their standard deviation).
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.
        score_name : str, default=None
            Label of the y axis.
        ax : matplotlib Axes, default=None
            Axes to plot on.
        **plot_kw : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : NeighborStabilityDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if kind not in STABILITY_KINDS:
            raise ValueError(f"kind must be one of {STABILITY_KINDS}, got {kind!r}.")
        if int(n_draws) < 1:
            raise ValueError(f"n_draws must be at least 1, got {n_draws}.")
        param_range = np.asarray(param_range)
        rng = check_random_state(random_state)
        scores = np.empty((param_range.shape[0], int(n_draws)))
        for i, value in enumerate(param_range):
            model = clone(estimator).set_params(**{param_name: value})
            if kind == "gauge":
                model.fit(X)
            for j in range(int(n_draws)):
                seed = int(rng.randint(np.iinfo(np.int32).max))
                scores[i, j] = _stability_draw(
                    kind, model, X, n_neighbors, embedding, seed
                )
        if score_name is None:
            score_name = f"{kind.capitalize()} stability (Jaccard@{n_neighbors})"
        display = cls(
            param_name=param_name,
            param_range=param_range,
            scores=scores,
            score_name=score_name,
        )
        return display.plot(ax=ax, **plot_kw)
