"""The refits behind resample and restart stability, as plans that can run
later or in the background.

:func:`~._stability.resample_stability` and
:func:`~._restart.restart_stability` each draw their fits (subsets of the
users, or seeds) and score the fits' neighbours. A :class:`RefitPlan` holds
both halves, so that a caller with several plans (``skcosim audit``) can fit
all of them in one pool of worker processes, started before it has other work
to do (:func:`start_refits`), and score each plan with the same numbers as
the metric would compute.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from .._signals import sigint_kept_from_workers
from ._available import has_too_few_components
from ._estimators import fitted_item_model, item_embeddings
from ._neighbors import cosine_neighbors, tie_tolerance, zero_rows


@dataclass
class RefitPlan:
    """The fits of a stability and how to score their neighbours.

    ``jobs()`` yields its ``n_fits`` ``(estimator, X)`` pairs lazily (one
    subset of ``X`` in memory at a time when they run one after the other);
    ``score`` maps the
    list of their :func:`embedding_neighbors` results, in order,
    to the stability.
    """

    jobs: Callable[[], Iterable]
    n_fits: int
    n_neighbors: int
    embedding: str | None
    queries: object
    score: Callable[[list], float]

    def run(self, n_jobs=None):
        """Fit the jobs in ``n_jobs`` processes and return the stability."""
        return self.score(
            fit_all(self.jobs(), self.n_neighbors, self.embedding, self.queries, n_jobs)
        )


def _refit_or_error(estimator, X_fit, n_neighbors, embedding, queries):
    """:func:`_refit_recording`, or the exception the fit raised
    (returned, so that one failed fit does not end the other plans' fits)."""
    try:
        return _refit_recording(estimator, X_fit, n_neighbors, embedding, queries)
    except Exception as exc:  # re-raised by BackgroundRefits.score
        return exc


class BackgroundRefits:
    """The fits of several plans, running in ``n_jobs`` worker processes.

    Created by :func:`start_refits`; :meth:`score` waits for one plan's
    fits, raises again the warnings they raised (and the first exception of a
    failed fit), and returns the plan's stability.
    """

    def __init__(self, plans, n_jobs):
        self._plans = list(plans)
        self._results = []
        jobs = (
            (plan, *job)
            for plan in self._plans
            if not isinstance(plan, Exception)
            for job in plan.jobs()
        )
        with sigint_kept_from_workers():
            # A generator: joblib dispatches the jobs now and this process
            # goes on; results are collected in order by score().
            self._outputs = Parallel(
                n_jobs=n_jobs, return_as="generator", pre_dispatch="all"
            )(
                delayed(_refit_or_error)(
                    est, X_fit, plan.n_neighbors, plan.embedding, plan.queries
                )
                for plan, est, X_fit in jobs
            )
        self._counts = [
            0 if isinstance(plan, Exception) else plan.n_fits for plan in self._plans
        ]

    def score(self, index):
        """The stability of plan ``index`` (plans are scored in order)."""
        plan = self._plans[index]
        if isinstance(plan, Exception):
            raise plan
        done = sum(self._counts[:index])
        while len(self._results) < done + self._counts[index]:
            self._results.append(next(self._outputs))
        refits = self._results[done : done + self._counts[index]]
        for refit in refits:
            if isinstance(refit, Exception):
                raise refit
        for *_, caught in refits:
            for category, message in caught:
                warnings.warn(message, category, stacklevel=2)
        return plan.score([tuple(refit) for *refit, _ in refits])

    def close(self):
        """Stop the fits that were not collected (their results are not wanted:
        joblib's notice that it cancelled them is not shown)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "[0-9]+ tasks which were still being")
            self._outputs.close()


def start_refits(make_plans, n_jobs):
    """Start the fits of the plans built by the callables ``make_plans`` in
    ``n_jobs`` processes; a plan that cannot be built (e.g. a subsample that
    leaves no user out) keeps its exception for :meth:`BackgroundRefits.score`."""
    plans = []
    for make in make_plans:
        try:
            plans.append(make())
        except Exception as exc:
            plans.append(exc)
    return BackgroundRefits(plans, n_jobs)


# -- fitting the jobs --------------------------------------------------------------


def fit_all(jobs, n_neighbors, embedding, queries, n_jobs):
    """:func:`_refit_neighbors` of each ``(estimator, X)`` of ``jobs``, in
    ``n_jobs`` processes; the warnings of the fits are raised again in this
    process (a worker's ConvergenceWarning must not get lost)."""
    if n_jobs is None or n_jobs == 1:
        return [
            _refit_neighbors(est, X_fit, n_neighbors, embedding, queries)
            for est, X_fit in jobs
        ]
    # Ctrl-C stops this process, which ends the workers: none of them
    # prints a traceback of its own while it starts.
    with sigint_kept_from_workers():
        results = Parallel(n_jobs=n_jobs)(
            delayed(_refit_recording)(est, X_fit, n_neighbors, embedding, queries)
            for est, X_fit in jobs
        )
    for *_, caught in results:
        for category, message in caught:
            warnings.warn(message, category, stacklevel=3)
    return [tuple(refit) for *refit, _ in results]


def _refit_recording(estimator, X_sub, n_neighbors, embedding, queries):
    """:func:`_refit_neighbors`, with the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        refit = _refit_neighbors(estimator, X_sub, n_neighbors, embedding, queries)
    return (*refit, [(w.category, str(w.message)) for w in caught])


def _refit_neighbors(estimator, X_sub, n_neighbors, embedding, queries=None):
    """:func:`embedding_neighbors` of a clone of ``estimator`` fitted on
    ``X_sub`` (a subset of the users)."""
    fitted = clone(estimator).fit(X_sub)
    return embedding_neighbors(fitted, n_neighbors, embedding, queries)


def embedding_neighbors(fitted, n_neighbors, embedding, queries=None):
    """Neighbours of the ``queries`` items in the item embedding of
    ``fitted``, its zero rows, and whether it has too few components to
    rank them (:func:`._available.has_too_few_components`)."""
    E = item_embeddings(fitted_item_model(fitted), embedding)
    ind, _ = cosine_neighbors(
        E, n_neighbors, queries=queries, tie_tolerance=tie_tolerance(E)
    )
    return ind, zero_rows(E), has_too_few_components(E)
