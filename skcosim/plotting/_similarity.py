"""Heatmaps of item-item cosine similarities (the paper's Figure 1)."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from .._compat import _validate_style_kwargs, check_matplotlib_support
from .._linalg._matrix import unit_rows


def cluster_order(labels, popularity=None) -> np.ndarray:
    """Indices that sort items by label, then by descending popularity.

    The order of the paper's Figure 1: clusters side by side, the most popular
    item of each cluster first.

    Parameters
    ----------
    labels : array-like of shape (n_items,)
        Cluster (or genre) of each item.
    popularity : array-like of shape (n_items,), default=None
        Popularity of each item, e.g. its number of interactions. ``None``
        keeps the original order inside each label.

    Returns
    -------
    order : ndarray of shape (n_items,)
        A permutation of ``range(n_items)``.

    Examples
    --------
    >>> from skcosim.plotting import cluster_order
    >>> cluster_order([1, 0, 1, 0], popularity=[5, 1, 9, 3])
    array([3, 1, 2, 0])
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-dimensional, got shape {labels.shape}.")
    if popularity is None:
        return np.argsort(labels, kind="stable")
    popularity = np.asarray(popularity, dtype=np.float64).ravel()
    if popularity.shape != labels.shape:
        raise ValueError(
            f"popularity has shape {popularity.shape}, labels {labels.shape}: one "
            "value per item is needed."
        )
    return np.lexsort((-popularity, labels))


def _check_order(order, n_items):
    if order is None:
        return np.arange(n_items)
    order = np.asarray(order)
    if order.ndim != 1 or order.dtype.kind not in "iu":
        raise ValueError("order must be a 1-dimensional array of item indices.")
    if order.size and (order.min() < -n_items or order.max() >= n_items):
        raise ValueError(f"order holds indices outside [0, {n_items}).")
    return order


class SimilarityMatrixDisplay:
    """Heatmap of a square similarity matrix, e.g. item-item cosines.

    It is recommended to use :meth:`from_estimator` or :meth:`from_embeddings`
    to create a display. All parameters are stored as attributes.

    Parameters
    ----------
    similarities : ndarray of shape (n_items, n_items)
        The matrix to show, already in display order.
    labels : array-like of shape (n_items,), default=None
        Group of each row in display order (e.g. item clusters). When given,
        lines are drawn between consecutive groups.
    title : str, default=None
        Title of the axes.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The heatmap.
    ax_ : matplotlib Axes
        Axes with the heatmap.
    figure_ : matplotlib Figure
        Figure containing the heatmap.

    See Also
    --------
    NeighborStabilityDisplay : Neighbour stability against a parameter.
    cluster_order : The order of the paper's Figure 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim.plotting import SimilarityMatrixDisplay
    >>> S = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> SimilarityMatrixDisplay(S, title="two items").plot()
    <...SimilarityMatrixDisplay object at ...>
    """

    def __init__(self, similarities, *, labels=None, title=None):
        self.similarities = similarities
        self.labels = labels
        self.title = title

    def plot(
        self,
        ax=None,
        *,
        cmap="RdBu_r",
        vmin=-1.0,
        vmax=1.0,
        colorbar=True,
        boundaries=True,
        im_kw=None,
    ):
        """Plot the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. ``None`` creates a new figure and axes.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            Colormap; the default is diverging so that cosine 0 is white.
        vmin, vmax : float, default=-1.0, 1.0
            Range of the colour scale (cosines lie in [-1, 1]).
        colorbar : bool, default=True
            Whether to add a colorbar.
        boundaries : bool, default=True
            Whether to draw lines between groups of ``labels``.
        im_kw : dict, default=None
            Further keyword arguments of ``ax.imshow``.

        Returns
        -------
        display : SimilarityMatrixDisplay
            The object itself, with ``im_``, ``ax_`` and ``figure_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        S = np.asarray(self.similarities)
        if S.ndim != 2 or S.shape[0] != S.shape[1]:
            raise ValueError(f"similarities must be a square matrix, got {S.shape}.")
        if ax is None:
            _, ax = plt.subplots()
        default_im_kw = dict(
            cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", aspect="equal"
        )
        im_kw = _validate_style_kwargs(default_im_kw, im_kw or {})
        self.im_ = ax.imshow(S, **im_kw)
        if boundaries and self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (S.shape[0],):
                raise ValueError(
                    f"labels has shape {labels.shape}, similarities {S.shape}."
                )
            for cut in np.flatnonzero(labels[1:] != labels[:-1]) + 0.5:
                ax.axhline(cut, color="0.3", linewidth=0.5)
                ax.axvline(cut, color="0.3", linewidth=0.5)
        if colorbar:
            ax.figure.colorbar(self.im_, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks([])
        ax.set_yticks([])
        if self.title is not None:
            ax.set_title(self.title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_embeddings(
        cls, embeddings, *, order=None, labels=None, title=None, ax=None, **plot_kw
    ):
        """Plot the cosine similarities between the rows of an embedding.

        Parameters
        ----------
        embeddings : array-like of shape (n_items, n_components)
            One row per item. A row of zeros has cosine 0 with every row.
        order : array-like of int, default=None
            Items to show, in display order (e.g. from :func:`cluster_order`);
            a subset of items is allowed. ``None``: all, as given.
        labels : array-like of shape (n_items,), default=None
            Group of each item (original order) for the boundary lines.
        title : str, default=None
            Title of the axes.
        ax : matplotlib Axes, default=None
            Axes to plot on.
        **plot_kw : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : SimilarityMatrixDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from skcosim.plotting import SimilarityMatrixDisplay
        >>> E = np.random.RandomState(0).normal(size=(6, 2))
        >>> disp = SimilarityMatrixDisplay.from_embeddings(E, order=[5, 4, 3])
        >>> disp.similarities.shape
        (3, 3)
        """
        check_matplotlib_support(f"{cls.__name__}.from_embeddings")
        E = check_array(embeddings, dtype=[np.float64, np.float32])
        order = _check_order(order, E.shape[0])
        # Zero rows stay zero: cosine 0, never NaN (docs/user_guide/objectives.rst). Not
        # sklearn's cosine_similarity: it zeroes rows of norm < 10 eps too.
        U = unit_rows(E[order])
        S = U @ U.T
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (E.shape[0],):
                raise ValueError(
                    f"labels must have shape ({E.shape[0]},), got {labels.shape}."
                )
            labels = labels[order]
        return cls(S, labels=labels, title=title).plot(ax=ax, **plot_kw)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        order=None,
        labels=None,
        embedding=None,
        gauge=None,
        title=None,
        ax=None,
        **plot_kw,
    ):
        """Plot the item-item cosine similarities of a fitted autoencoder.

        Parameters
        ----------
        estimator : fitted estimator
            A fitted skcosim autoencoder (anything with ``item_embeddings``).
        order : array-like of int, default=None
            Items to show, in display order; see :func:`cluster_order`.
        labels : array-like of shape (n_items,), default=None
            Group of each item (original order) for the boundary lines.
        embedding : {"decoder", "encoder", "projected"} or None, default=None
            Which item embedding; see ``item_embeddings``. ``None``: the
            estimator's default (``_default_embedding``), the one
            ``similar_items`` and the metrics use.
        gauge : ndarray of shape (n_components, n_components), default=None
            Show the embeddings after the gauge transform ``A R, B R^{-T}``.
        title : str, default=None
            Title of the axes; ``None`` uses the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to plot on.
        **plot_kw : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : SimilarityMatrixDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from skcosim import WeightDecayAutoencoder
        >>> from skcosim.plotting import SimilarityMatrixDisplay
        >>> X = (np.random.RandomState(0).rand(50, 8) < 0.3).astype(float)
        >>> model = WeightDecayAutoencoder(n_components=3, alpha=0.5).fit(X)
        >>> disp = SimilarityMatrixDisplay.from_estimator(model)
        >>> disp.similarities.shape
        (8, 8)
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if not hasattr(estimator, "item_embeddings"):
            raise TypeError(
                f"{type(estimator).__name__} has no item_embeddings method: pass "
                "a skcosim autoencoder, or use from_embeddings."
            )
        if embedding is None:
            embedding = getattr(estimator, "_default_embedding", None)
        if embedding is None:
            E = estimator.item_embeddings(gauge=gauge)
            embedding = "default"
        else:
            E = estimator.item_embeddings(embedding, gauge=gauge)
        if title is None:
            title = f"{type(estimator).__name__} ({embedding})"
        return cls.from_embeddings(
            E, order=order, labels=labels, title=title, ax=ax, **plot_kw
        )
