"""Neighbour stability of a model: under gauge transforms and under resampling.

docs/user_guide/stability.rst: gauge stability is the expected Jaccard@k
between a fitted model's item embedding and the same model after a random
admissible gauge transform; resample stability is the Jaccard@k between models
fitted on random halves of the users.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _num_samples,
    _safe_indexing,
    validate_params,
)
from .._constraints import EMBEDDING_KINDS, N_JOBS, Count
from .._docstring import (
    AVERAGE_PARAMETER,
    EMBEDDING_PARAMETER,
    MAX_ITEMS_PARAMETER,
    METHOD_PARAMETER,
    N_DRAWS_PARAMETER,
    N_NEIGHBORS_PARAMETER,
    STABILITY_RETURNS,
    Substitution,
)
from .._linalg import _dask
from .._linalg._gauge import GAUGE_GROUPS, sample_gauge
from ._available import has_too_few_components, not_available
from ._estimators import as_item_estimator, fitted_item_model, item_embeddings
from ._neighbors import check_n_neighbors, cosine_neighbors, tie_tolerance, zero_rows
from ._overlap import OVERLAP_METHODS, mean_overlap, overlap_from_indices
from ._refits import RefitPlan, _refit_neighbors

#: The family :func:`skcosim.metrics.gauge_stability` draws from, by an
#: autoencoder's ``_gauge_group``: a diagonal ``R`` already moves every cosine
#: of Objective 1 and keeps the metric in step with ``gauge="random"``.
STABILITY_DRAWS = {"invertible": "diagonal", "orthogonal": "orthogonal"}


def sample_items(n_items, max_items, random_state):
    """Sorted indices of ``max_items`` items drawn without replacement, or
    ``None`` (every item) when there are no more items than that."""
    if max_items is None or max_items >= n_items:
        return None
    return np.sort(random_state.choice(n_items, size=max_items, replace=False))


def _same_up_to_rounding(E1, E2):
    """Whether two embeddings differ only by the rounding of re-gauging (a
    gauge-free embedding computed through ``A R`` and ``B R^{-T}``)."""
    scale = np.abs(E2).max(initial=0.0)
    return np.allclose(E1, E2, rtol=1e-9, atol=1e-12 * scale)


def _n_features(X):
    return X.shape[1] if hasattr(X, "shape") else len(X[0])


def _at(mask, queries):
    return mask if queries is None else mask[queries]


class Overlaps:
    """The neighbour overlaps of a stability, draw by draw, before averaging.

    ``values[r, q]`` is the overlap of item ``queries[q]`` (every item when
    ``queries`` is None) in draw ``r``, NaN where the item has no direction
    (a zero row) in either embedding compared. ``unavailable`` is None, or
    what :func:`._available.not_available` says when an embedding has too
    few components. :meth:`reduce` gives the stability (``average=True``)
    or one value per item (``average=False``); the command line takes both
    from one computation.
    """

    def __init__(self, values, queries, n_items, unavailable=None):
        self.values = np.asarray(values, dtype=np.float64)
        self.queries = queries
        self.n_items = n_items
        self.unavailable = unavailable

    @classmethod
    def of_draws(cls, draws, queries, n_items):
        """From ``(overlap, undirected)`` pairs, one per draw."""
        values = np.array(
            [np.where(undirected, np.nan, overlap) for overlap, undirected in draws]
        )
        return cls(values, queries, n_items)

    def mean(self):
        """The stability: the mean over draws of each draw's mean over the
        items with a direction (0.0 for a draw where none has one)."""
        scores = []
        for row in self.values:
            directed = ~np.isnan(row)
            scores.append(float(row[directed].mean()) if directed.any() else 0.0)
        return float(np.mean(scores))

    def per_item(self):
        """Each item's mean overlap over the draws in which it has a
        direction; NaN for an item that has none in any draw, or that is not
        among the sampled ``queries``, and for every item when not available."""
        out = np.full(self.n_items, np.nan)
        if self.unavailable is not None:
            return out
        counts = np.count_nonzero(~np.isnan(self.values), axis=0)
        sums = np.nansum(self.values, axis=0)
        sampled = np.full(counts.shape, np.nan)
        np.divide(sums, counts, out=sampled, where=counts > 0)
        out[slice(None) if self.queries is None else self.queries] = sampled
        return out

    def reduce(self, metric, average=True):
        """:meth:`mean` or :meth:`per_item`; when not available, the warning
        of :func:`._available.not_available` and :data:`NOT_AVAILABLE`
        (``average=True``) or NaN for every item."""
        if self.unavailable is not None:
            value = not_available(metric, self.unavailable)
            return value if average else self.per_item()
        return self.mean() if average else self.per_item()


@validate_params(
    {
        "estimator": [HasMethods(["fit"]), callable],
        "n_neighbors": [Count(1)],
        "n_draws": [Count(1)],
        "embedding": [StrOptions(set(EMBEDDING_KINDS)), None],
        "method": [StrOptions(set(OVERLAP_METHODS))],
        "random_state": ["random_state"],
        "max_items": [Count(1), None],
        "group": [StrOptions(set(GAUGE_GROUPS)), None],
        "X": ["array-like", "sparse matrix", None],
        "average": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@Substitution(
    embedding=EMBEDDING_PARAMETER,
    n_neighbors=N_NEIGHBORS_PARAMETER,
    n_draws=N_DRAWS_PARAMETER,
    average=AVERAGE_PARAMETER,
    method=METHOD_PARAMETER,
    max_items=MAX_ITEMS_PARAMETER,
    stability_returns=STABILITY_RETURNS,
)
def gauge_stability(
    estimator,
    n_neighbors: int = 10,
    *,
    n_draws: int = 10,
    embedding: str | None = None,
    method: str = "jaccard",
    random_state=None,
    max_items: int | None = None,
    group: str | None = None,
    X=None,
    average: bool = True,
) -> float | np.ndarray:
    r"""Expected neighbour overlap of a fitted model under random gauge transforms.

    A linear autoencoder ``X A B^T`` fits exactly as well with ``A R`` and
    ``B R^{-T}`` for every ``R`` its objective admits (:ref:`gauges`): any
    invertible ``R`` for Objective 1 and dropout (``DropoutAutoencoder``),
    rotations only for Objectives 2 and 3 (``WeightDecayAutoencoder``,
    ``CosineAutoencoder``). The same holds for the item factors ``V`` of
    any model scoring ``U V^T`` (``V R^{-T}``). This draws ``n_draws`` such
    ``R`` from ``group`` (:func:`sample_gauge`) and returns

    .. math::

        \frac{1}{n_\mathrm{draws}} \sum_{r} \frac{1}{m} \sum_{i=1}^{m}
            \mathrm{overlap}\big(N_E(i), N_{E_R}(i)\big)

    with ``E`` the model's item embedding, ``E_R`` the embedding of the
    re-split model and ``N(i)`` the top-``k`` cosine neighbours of item
    ``i``. A value of 1 means the neighbours are determined by the fit; a
    value well below 1 means they are an accident of the split. Rotations
    keep every cosine, so models whose gauge is orthogonal score 1, and so
    does the projected embedding of any model (:ref:`remedy-project`): both
    are returned as exactly 1 without a neighbour search. Cosines that
    agree to within rounding (``2^-30`` in float64, ``2^-13`` in float32)
    rank as ties, broken by index, in both embeddings. An embedding with
    fewer than two effective components (every cosine +1, -1 or 0) is not
    available (see Returns).

    With the same ``group`` and ``random_state`` this is exactly
    :func:`factor_gauge_stability` of the model's item embedding.

    Parameters
    ----------
    estimator : estimator object or callable
        A fitted skcosim autoencoder, a fitted
        :class:`~skcosim.preprocessing.ProjectedEmbedding`, a fitted
        scikit-learn estimator with ``components_`` (item factors
        ``components_.T``: :class:`~sklearn.decomposition.TruncatedSVD`,
        :class:`~sklearn.decomposition.PCA`,
        :class:`~sklearn.decomposition.NMF`), a fitted Pipeline whose last
        step is one of them, or a callable ``fit_item_factors(X) -> V``
        returning item factors of shape ``(n_features, d)`` (fitted on
        ``X`` here; its gauge is unknown, so ``group`` is required).
    {n_neighbors}
    {n_draws}
    {embedding}
    {method}
    random_state : int, RandomState instance or None, default=None
        Seeds the gauge draws (and the sample of items, see ``max_items``).
    {max_items}
    group : {"diagonal", "orthogonal", "invertible"} or None, default=None
        The family the transforms ``R`` are drawn from (:func:`sample_gauge`):
        ``"diagonal"`` (positive, log-normal), ``"orthogonal"`` (rotations) or
        ``"invertible"`` (rotation, diagonal, rotation). It must be admissible
        for the model: every family for an invertible gauge (Objective 1,
        TruncatedSVD, PCA), only ``"diagonal"`` for NMF without penalty, only
        ``"orthogonal"`` for Objectives 2 and 3. ``None``: ``"diagonal"``
        for a model whose gauge is invertible or diagonal (the smallest family
        that moves cosines, what ``DropoutAutoencoder(gauge="random")``
        draws), ``"orthogonal"`` for one whose gauge is orthogonal; a model
        that declares no gauge (a callable, another estimator with
        ``components_``) needs ``group``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        The data a callable ``estimator`` is fitted on; only for a callable.
    {average}

    Returns
    -------
    {stability_returns}

    Raises
    ------
    TypeError
        If the model has no item embedding, or declares no gauge and
        ``group`` is None.
    ValueError
        If ``group`` is not admissible for the model, ``X`` is missing for a
        callable (or given for a fitted model), or the callable returns item
        factors of the wrong shape or with NaN.

    See Also
    --------
    resample_stability : Overlap between models fitted on different users.
    factor_gauge_stability : The same quantity from an array of item factors.
    sample_gauge : The random transforms drawn.
    neighbor_overlap : Overlap of two embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import TruncatedSVD
    >>> from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
    >>> from skcosim.metrics import gauge_stability
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(300, 60) < 0.1).astype(float)
    >>> wd = WeightDecayAutoencoder(n_components=8, alpha=1.0).fit(X)
    >>> gauge_stability(wd, n_neighbors=5, random_state=0)
    1.0
    >>> do = DropoutAutoencoder(n_components=8, alpha=10.0).fit(X)
    >>> gauge_stability(do, n_neighbors=5, random_state=0)  # its default: projected
    1.0
    >>> bool(gauge_stability(do, n_neighbors=5, embedding="decoder",
    ...                      random_state=0) < 0.5)
    True
    >>> svd = TruncatedSVD(n_components=8, random_state=0).fit(X)
    >>> bool(gauge_stability(svd, n_neighbors=5, group="invertible",
    ...                      random_state=0) < 0.5)
    True
    """
    return gauge_overlaps_of(
        estimator,
        n_neighbors,
        n_draws=n_draws,
        embedding=embedding,
        method=method,
        random_state=random_state,
        max_items=max_items,
        group=group,
        X=X,
    ).reduce("Gauge stability", average)


def gauge_overlaps_of(estimator, n_neighbors, *, group=None, X=None, **kwargs):
    """The :class:`Overlaps` behind :func:`gauge_stability` (its arguments,
    unvalidated): the stability and its per-item values from one computation."""
    model = fitted_item_model(estimator, X)
    draws = _drawn_group(model, group)
    embedding = kwargs.pop("embedding", None)
    return gauge_overlaps(
        item_embeddings(model, embedding),
        lambda R: item_embeddings(model, embedding, R),
        draws,
        n_neighbors=n_neighbors,
        **kwargs,
    )


#: The families of transforms each declared gauge admits.
_ADMISSIBLE = {
    "invertible": GAUGE_GROUPS,
    "diagonal": ("diagonal",),
    "orthogonal": ("orthogonal",),
}


def _drawn_group(model, group):
    """The family :func:`gauge_stability` draws from: ``group``, checked
    against the gauge ``model`` declares, or the declared gauge's default."""
    declared = getattr(model, "_gauge_group", None)
    name = type(getattr(model, "estimator", model)).__name__
    if declared is None:
        if group is None:
            raise TypeError(
                f"{name} declares no gauge group: pass group= (the transforms "
                "its training leaves free: 'invertible' without regularization "
                "or with a penalty on the product only, 'diagonal', or "
                "'orthogonal' with weight decay on both factors)."
            )
        return group
    if group is None:
        return STABILITY_DRAWS.get(declared, declared)
    if group not in _ADMISSIBLE[declared]:
        raise ValueError(
            f"group={group!r} is not admissible for {name}: its loss is kept "
            f"only by {declared} transforms; use group in "
            f"{_ADMISSIBLE[declared]}."
        )
    return group


def mean_gauge_overlap(
    E, regauged, group, *, n_neighbors, n_draws, method, random_state, max_items=None
):
    """Mean neighbour overlap of ``E`` and ``regauged(R)`` over ``n_draws`` gauges.

    ``regauged(R)`` is the item embedding after the gauge transform ``R``
    drawn by :func:`skcosim._linalg._gauge.sample_gauge` from ``group``; shared by
    :func:`gauge_stability` and :func:`factor_gauge_stability`.
    """
    return gauge_overlaps(
        E,
        regauged,
        group,
        n_neighbors=n_neighbors,
        n_draws=n_draws,
        method=method,
        random_state=random_state,
        max_items=max_items,
    ).reduce("Gauge stability")


def gauge_overlaps(
    E, regauged, group, *, n_neighbors, n_draws, method, random_state, max_items=None
):
    """The :class:`Overlaps` of :func:`mean_gauge_overlap`, draw by draw."""
    rng = check_random_state(random_state)
    m = E.shape[0]
    check_n_neighbors(n_neighbors, m)
    if has_too_few_components(E):
        return Overlaps(np.empty((0, 0)), None, m, unavailable="")
    # The probe has a generator of its own: the draws below stay the ones of
    # random_state.
    probe = sample_gauge(group, E.shape[1], np.random.RandomState(0))
    if group == "orthogonal" or _same_up_to_rounding(regauged(probe), E):
        # Rotations keep every cosine, and a gauge-free embedding does not
        # move: the overlap is 1 by construction (for every item), whatever
        # ties the neighbour search would break differently in floating point.
        return Overlaps(np.ones((1, m)), None, m)
    tol = tie_tolerance(E)
    queries = sample_items(m, max_items, rng)
    ind, _ = cosine_neighbors(E, n_neighbors, queries=queries, tie_tolerance=tol)
    draws = []
    for _ in range(n_draws):
        E_R = regauged(sample_gauge(group, E.shape[1], rng))
        ind_R, _ = cosine_neighbors(
            E_R, n_neighbors, queries=queries, tie_tolerance=tol
        )
        undirected = _at(zero_rows(E) | zero_rows(E_R), queries)
        overlap = overlap_from_indices(ind, ind_R, method, undirected=undirected)
        draws.append((overlap, undirected))
    return Overlaps.of_draws(draws, queries, m)


@validate_params(
    {
        "estimator": [HasMethods(["fit"]), callable],
        "X": ["array-like", "sparse matrix"],
        "n_neighbors": [Count(1)],
        "n_resamples": [Count(1)],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "embedding": [StrOptions(set(EMBEDDING_KINDS)), None],
        "method": [StrOptions(set(OVERLAP_METHODS))],
        "random_state": ["random_state"],
        "max_items": [Count(1), None],
        "n_jobs": N_JOBS,
        "average": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@Substitution(
    embedding=EMBEDDING_PARAMETER,
    n_neighbors=N_NEIGHBORS_PARAMETER,
    average=AVERAGE_PARAMETER,
    method=METHOD_PARAMETER,
    max_items=MAX_ITEMS_PARAMETER,
    stability_returns=STABILITY_RETURNS,
)
def resample_stability(
    estimator,
    X,
    n_neighbors: int = 10,
    *,
    n_resamples: int = 5,
    subsample: float = 0.5,
    embedding: str | None = None,
    method: str = "jaccard",
    random_state=None,
    max_items: int | None = None,
    n_jobs: int | None = None,
    average: bool = True,
) -> float | np.ndarray:
    r"""Neighbour overlap between models fitted on random subsets of the users.

    "Would the neighbours survive new data?" (:ref:`stability`).
    Each of the ``n_resamples`` draws fits two clones of ``estimator``
    (:func:`sklearn.base.clone`: same parameters, not fitted) on two random
    subsets ``U_1``, ``U_2`` of ``round(subsample * n_samples)`` users each,
    and compares their item neighbours:

    .. math::

        \frac{1}{n_\mathrm{resamples}} \sum_{r} \frac{1}{m} \sum_{i=1}^{m}
            \mathrm{overlap}\big(N_{U_1}(i), N_{U_2}(i)\big)

    With ``subsample <= 0.5`` the two subsets are disjoint (two random halves
    when ``subsample=0.5``, of ``n_samples // 2`` each: with an odd number of
    samples one is left out); above, they are drawn independently.

    Parameters
    ----------
    estimator : estimator object or callable
        A skcosim autoencoder, a
        :class:`~skcosim.preprocessing.ProjectedEmbedding`, a scikit-learn
        estimator with ``components_`` after fitting (item factors
        ``components_.T``: :class:`~sklearn.decomposition.TruncatedSVD`,
        :class:`~sklearn.decomposition.PCA`,
        :class:`~sklearn.decomposition.NMF`), or a Pipeline whose last step
        is one of them; fitted or not (it is cloned). Or a callable
        ``fit_item_factors(X_subset) -> V`` that trains any model (ALS, BPR,
        a two-tower network) on the users it is given and returns its item
        factors, shape ``(n_features, d)``, finite.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Users in rows, items in columns.
    {n_neighbors}
    n_resamples : int, default=5
        Number of pairs of subsets (``2 * n_resamples`` fits).
    subsample : float in (0, 1], default=0.5
        Share of the users in each subset. A share that puts every user in
        both subsets (1.0, or 0.95 of 5 users) is an error: the two fits would
        be the same model.
    {embedding}
    {method}
    random_state : int, RandomState instance or None, default=None
        Seeds the draws of subsets and of items (not the estimator: set its
        own ``random_state`` for reproducible fits).
    {max_items}
    n_jobs : int, default=None
        Fits of the subsets run in this many processes (joblib; ``None``: one
        after the other, ``-1``: all processors; 0 and booleans are
        refused, as joblib would fail on 0 and read ``True`` as 1). The
        subsets are the same; an estimator whose fit depends on the order of
        floating-point sums (stochastic gradient steps) may land elsewhere in
        another process.
        Warnings the fits raise are raised again here.
    {average}

    Returns
    -------
    {stability_returns}

    See Also
    --------
    gauge_stability : Overlap under gauge transforms of one fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import WeightDecayAutoencoder
    >>> from skcosim.metrics import resample_stability
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(400, 50) < 0.1).astype(float)
    >>> score = resample_stability(WeightDecayAutoencoder(n_components=5), X,
    ...                            n_neighbors=5, n_resamples=2, random_state=0)
    >>> 0.0 <= score <= 1.0
    True

    Any model the user trains, refitted on each subset by the user's code:

    >>> from sklearn.decomposition import TruncatedSVD
    >>> def fit_item_factors(X_subset):
    ...     svd = TruncatedSVD(n_components=5, random_state=0).fit(X_subset)
    ...     return svd.components_.T  # one row per item
    >>> by_callable = resample_stability(fit_item_factors, X, n_neighbors=5,
    ...                                  n_resamples=2, random_state=0)
    >>> by_callable == resample_stability(
    ...     TruncatedSVD(n_components=5, random_state=0), X, n_neighbors=5,
    ...     n_resamples=2, random_state=0)
    True
    """
    return resample_overlaps(
        estimator,
        X,
        n_neighbors,
        n_resamples=n_resamples,
        subsample=subsample,
        embedding=embedding,
        method=method,
        random_state=random_state,
        max_items=max_items,
        n_jobs=n_jobs,
    ).reduce("Resample stability", average)


def resample_overlaps(
    estimator,
    X,
    n_neighbors,
    *,
    n_resamples,
    subsample=0.5,
    embedding=None,
    method="jaccard",
    random_state=None,
    max_items=None,
    n_jobs=None,
):
    """The :class:`Overlaps` behind :func:`resample_stability` (its
    arguments, unvalidated): the stability and its per-item values from one
    set of refits."""
    return resample_plan(
        estimator,
        X,
        n_neighbors,
        n_resamples=n_resamples,
        subsample=subsample,
        embedding=embedding,
        method=method,
        random_state=random_state,
        max_items=max_items,
    ).run(n_jobs)


def resample_plan(
    estimator,
    X,
    n_neighbors,
    *,
    n_resamples,
    subsample=0.5,
    embedding=None,
    method="jaccard",
    random_state=None,
    max_items=None,
):
    """The refits of :func:`resample_overlaps` and their :class:`Overlaps`, as
    a :class:`~._refits.RefitPlan` (to fit now, or in the background)."""
    estimator = as_item_estimator(estimator)
    rng = check_random_state(random_state)
    X, n, n_sub = _subsets(X, subsample)
    if n_sub == n:
        raise ValueError(
            f"subsample={subsample} of {n} samples puts every sample in both "
            "subsets: the two fits would be the same model (stability 1 for "
            "any deterministic estimator). Use subsample <= 0.5."
        )
    if subsample <= 0.5:
        # round(0.5 * 943) is 472, and two subsets of 472 of 943 users overlap.
        n_sub = min(n_sub, n // 2)
    n_items = _n_features(X)
    queries = sample_items(n_items, max_items, rng)
    pairs = []
    for _ in range(n_resamples):
        perm = rng.permutation(n)
        first = perm[:n_sub]
        second = (
            perm[n_sub : 2 * n_sub] if 2 * n_sub <= n else rng.permutation(n)[:n_sub]
        )
        pairs += [first, second]

    def jobs():
        return ((estimator, _take_rows(X, rows)) for rows in pairs)

    def score(refits):
        degenerate = sum(few for _, _, few in refits)
        if degenerate:
            return Overlaps(
                np.empty((0, 0)),
                None,
                n_items,
                unavailable=f"{degenerate} of the {len(refits)} fits have",
            )
        draws = []
        for (ind1, zero1, _), (ind2, zero2, _) in zip(
            refits[::2], refits[1::2], strict=True
        ):
            undirected = _at(zero1, queries) | _at(zero2, queries)
            overlap = overlap_from_indices(ind1, ind2, method, undirected=undirected)
            draws.append((overlap, undirected))
        return Overlaps.of_draws(draws, queries, n_items)

    return RefitPlan(jobs, len(pairs), n_neighbors, embedding, queries, score)


def _take_rows(X, rows):
    """The users ``rows`` of ``X``, in order; of a dask array, a subset of
    each row block, where it lives."""
    rows = np.sort(rows)
    if _dask.is_dask_array(X):
        return _dask.take_rows(X, rows)
    return _safe_indexing(X, rows)


def _subsets(X, subsample):
    """``X`` indexable by rows, its number of rows and the size of a subset."""
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()  # COO and DIA cannot be indexed by rows
    n = _num_samples(X)
    n_sub = round(subsample * n)
    if n_sub < 1:
        raise ValueError(
            f"subsample={subsample} of {n} samples leaves no sample to fit on."
        )
    return X, n, n_sub


def refit_stability(
    estimator,
    X,
    n_neighbors,
    *,
    n_resamples,
    subsample,
    embedding,
    method,
    random_state,
):
    """Overlap between a fitted model's item neighbours and those of clones of
    it refitted on random subsets of the users ``X`` (other users than it was
    fitted on, in a cross-validation): the ``"resample"`` stability scorer."""
    model = fitted_item_model(estimator)
    E = item_embeddings(model, embedding)
    X, n, n_sub = _subsets(X, subsample)
    if E.shape[0] != X.shape[1]:
        raise ValueError(
            f"The fitted model embeds {E.shape[0]} items, X has {X.shape[1]}."
        )
    ind, _ = cosine_neighbors(E, n_neighbors, tie_tolerance=tie_tolerance(E))
    rng = check_random_state(random_state)
    scores = []
    degenerate = int(has_too_few_components(E))
    for _ in range(n_resamples):
        rows = rng.permutation(n)[:n_sub]
        X_sub = _take_rows(X, rows)
        ind_r, zero_r, few = _refit_neighbors(estimator, X_sub, n_neighbors, embedding)
        degenerate += few
        undirected = zero_rows(E) | zero_r
        overlap = overlap_from_indices(ind, ind_r, method, undirected=undirected)
        scores.append(mean_overlap(overlap, undirected))
    if degenerate:
        return not_available(
            "Resample stability",
            f"{degenerate} of the {n_resamples + 1} models (the fitted one and "
            "its refits) have",
        )
    return float(np.mean(scores))
