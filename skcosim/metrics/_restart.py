"""Restart stability: do the neighbours survive another start of the fit?"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from .._compat import HasMethods, StrOptions, validate_params
from .._constraints import EMBEDDING_KINDS, N_JOBS, Count
from .._docstring import (
    EMBEDDING_PARAMETER,
    MAX_ITEMS_PARAMETER,
    METHOD_PARAMETER,
    N_NEIGHBORS_PARAMETER,
    STABILITY_RETURNS,
    Substitution,
)
from ._available import not_available
from ._estimators import final_estimator
from ._neighbors import check_n_neighbors
from ._overlap import OVERLAP_METHODS, mean_overlap, overlap_from_indices
from ._refits import RefitPlan
from ._stability import _at, _n_features, sample_items


def _final_prefix(estimator):
    """The ``set_params`` prefix of the last step of a (nested) Pipeline."""
    prefix = ""
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        prefix += f"{name}__"
    return prefix


def random_start_params(estimator):
    """``{"<prefix>init": "random"}`` when the model (the last step of a
    Pipeline) has an ``init`` parameter that accepts ``"random"``
    (:class:`~skcosim.CosineAutoencoder`), else ``{}``."""
    model = final_estimator(estimator)
    constraints = getattr(model, "_parameter_constraints", {}).get("init", [])
    if any("random" in getattr(c, "options", ()) for c in constraints):
        return {f"{_final_prefix(estimator)}init": "random"}
    return {}


def _distinct_seeds(n, rng):
    """``n`` distinct int32 seeds (a collision would make two restarts one)."""
    seeds = np.unique(rng.randint(np.iinfo(np.int32).max, size=n))
    while seeds.size < n:
        seeds = np.unique(np.r_[seeds, rng.randint(np.iinfo(np.int32).max)])
    return rng.permutation(seeds)


def _restarts(estimator, n_restarts, random_start, rng):
    """``n_restarts`` clones of ``estimator`` that differ only in the seeds
    of every ``random_state`` parameter (and, with ``random_start``, start at
    random)."""
    keys = [
        key
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    ]
    start = random_start_params(estimator) if random_start else {}
    seeds = _distinct_seeds(n_restarts, rng)
    return [
        clone(estimator).set_params(**dict.fromkeys(keys, int(seed)), **start)
        for seed in seeds
    ]


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like", "sparse matrix"],
        "n_neighbors": [Count(1)],
        "n_restarts": [Count(2)],
        "random_start": ["boolean"],
        "embedding": [StrOptions(set(EMBEDDING_KINDS)), None],
        "method": [StrOptions(set(OVERLAP_METHODS))],
        "random_state": ["random_state"],
        "max_items": [Count(1), None],
        "n_jobs": N_JOBS,
    },
    prefer_skip_nested_validation=True,
)
@Substitution(
    embedding=EMBEDDING_PARAMETER,
    n_neighbors=N_NEIGHBORS_PARAMETER,
    method=METHOD_PARAMETER,
    max_items=MAX_ITEMS_PARAMETER,
    stability_returns=STABILITY_RETURNS,
)
def restart_stability(
    estimator,
    X,
    n_neighbors: int = 10,
    *,
    n_restarts: int = 3,
    random_start: bool = True,
    embedding: str | None = None,
    method: str = "jaccard",
    random_state=None,
    max_items: int | None = None,
    n_jobs: int | None = None,
) -> float:
    r"""Neighbour overlap between fits that differ only in their random start.

    "Would the neighbours survive another run of the optimizer?"
    (:ref:`restart stability <restart-stability>`). Fits ``n_restarts``
    clones of ``estimator`` (:func:`sklearn.base.clone`) on the same ``X``;
    they differ only in the
    seed of every ``random_state`` parameter (of each step of a Pipeline)
    and, with ``random_start``, start at random: an estimator whose ``init``
    parameter accepts ``"random"`` (:class:`~skcosim.CosineAutoencoder`) is
    fitted with ``init="random"``, so that a deterministic default start
    does not hide the dependence on the start. With ``N_r(i)`` the top-``k``
    neighbours of item ``i`` in restart ``r``, the mean over all pairs of
    restarts:

    .. math::

        \binom{R}{2}^{-1} \sum_{r < s} \frac{1}{m} \sum_{i=1}^{m}
            \mathrm{overlap}\big(N_r(i), N_s(i)\big)

    A fit that does not depend on ``random_state`` (the closed forms of
    :class:`~skcosim.WeightDecayAutoencoder` and
    :class:`~skcosim.DropoutAutoencoder` with the ``"gram"`` solver and a
    named ``gauge``) gives identical fits: exactly 1.0. The seeded
    ``"arpack"`` and ``"randomized"`` solvers move the embedding by rounding
    only; ``gauge="random"`` and the gradient solvers depend on the seed
    for real. A non-convex fit (the cosine-trained model) can reach
    near-equal losses with different neighbours: training for cosine removes
    the diagonal gauge, not the dependence on the start.

    Parameters
    ----------
    estimator : estimator object
        A skcosim autoencoder, a
        :class:`~skcosim.preprocessing.ProjectedEmbedding`, or a Pipeline
        whose last step is one of them; fitted or not (it is cloned).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Users in rows, items in columns; every restart is fitted on all of it.
    {n_neighbors}
    n_restarts : int, default=3
        Number of fits (at least 2), compared pairwise.
    random_start : bool, default=True
        Fit an estimator that offers ``init="random"`` from random starts;
        ``False`` keeps its ``init`` (then only ``random_state`` varies).
    {embedding}
    {method}
    random_state : int, RandomState instance or None, default=None
        Seeds the seeds of the restarts (and the sample of items).
    {max_items}
    n_jobs : int, default=None
        Restarts fitted in this many processes (joblib; ``None``: one after
        the other); warnings of the fits are raised again here.

    Returns
    -------
    {stability_returns}

    See Also
    --------
    resample_stability : Overlap between fits on different users.
    gauge_stability : Overlap under gauge transforms of one fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> from skcosim import WeightDecayAutoencoder
    >>> from skcosim.metrics import restart_stability
    >>> rng = np.random.RandomState(0)
    >>> X = (rng.rand(300, 40) < 0.1).astype(float)
    >>> restart_stability(WeightDecayAutoencoder(n_components=5), X,
    ...                   n_neighbors=5, random_state=0)  # a closed form
    1.0
    """
    return restart_plan(
        estimator,
        X,
        n_neighbors,
        n_restarts=n_restarts,
        random_start=random_start,
        embedding=embedding,
        method=method,
        random_state=random_state,
        max_items=max_items,
    ).run(n_jobs)


def restart_plan(
    estimator,
    X,
    n_neighbors,
    *,
    n_restarts,
    random_start=True,
    embedding=None,
    method="jaccard",
    random_state=None,
    max_items=None,
):
    """The fits of :func:`restart_stability` (validated parameters) and their
    score, as a :class:`~._refits.RefitPlan`."""
    rng = check_random_state(random_state)
    check_n_neighbors(n_neighbors, _n_features(X))
    queries = sample_items(_n_features(X), max_items, rng)
    fits = _restarts(estimator, n_restarts, random_start, rng)

    def score(refits):
        degenerate = sum(few for _, _, few in refits)
        if degenerate:
            return not_available(
                "Restart stability", f"{degenerate} of the {n_restarts} fits have"
            )
        scores = []
        for (ind1, zero1, _), (ind2, zero2, _) in itertools.combinations(refits, 2):
            undirected = _at(zero1, queries) | _at(zero2, queries)
            overlap = overlap_from_indices(ind1, ind2, method, undirected=undirected)
            scores.append(mean_overlap(overlap, undirected))
        return float(np.mean(scores))

    return RefitPlan(
        lambda: ((f, X) for f in fits),
        n_restarts,
        n_neighbors,
        embedding,
        queries,
        score,
    )
