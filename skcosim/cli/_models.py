"""The models that ``skcosim reproduce`` and ``skcosim audit`` compare, and
their scores.

:func:`default_models` lists the models of the paper's Figure 1 and its
remedies; :func:`compare_models` fits each on one interaction matrix and
scores its item neighbours (loss, gauge and resample stability, label
agreement). Nothing here renders or writes: that is :mod:`._report`.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from .._linalg._spectrum import shared_spectra
from ..autoencoders import (
    CosineAutoencoder,
    DropoutAutoencoder,
    WeightDecayAutoencoder,
)


@dataclass
class ModelSpec:
    """One row of the comparison: how to build the model, which embedding
    (``None``: the estimator's default, ``_default_embedding``)."""

    name: str
    objective: str
    estimator: object
    embedding: str | None = None
    note: str = ""
    #: Iterative fit (L-BFGS): refitted on fewer resamples, see compare_models.
    iterative: bool = False
    #: A model whose failure on the data is a note in the report, not an error.
    optional: bool = False
    #: Fits from random starts whose neighbour overlap is the row's restart
    #: stability (:func:`skcosim.metrics.restart_stability`); 0: not measured.
    restarts: int = 0


#: The note of the rows that score Objective 1's raw decoder, not the default.
RAW_DECODER_NOTE = (
    'item embedding: the raw decoder factor B (embedding="decoder"), not '
    'DropoutAutoencoder\'s default "projected"'
)


def spec_embedding(spec):
    """The item embedding a row scores: its ``embedding``, or the estimator's
    default."""
    if spec.embedding is not None:
        return spec.embedding
    return getattr(spec.estimator, "_default_embedding", "decoder")


def default_models(
    n_components, alpha, *, random_state, max_iter=None, temperature=None, restarts=0
):
    """The models of the paper's Figure 1 and its remedies; the cosine-trained
    one gets a restart stability over ``restarts`` fits (0: none).

    ``alpha`` is in units of singular values: Objective 2 cuts components
    with ``s_i <= alpha``; Objective 1 gets ``alpha ** 2`` so that its
    shrinkage ``g_i = s_i^2 / (s_i^2 + alpha^2)`` is one half at the same
    singular value (docs/user_guide/objectives.rst, Objectives 1 and 2).
    """
    a1 = float(alpha) ** 2
    specs = []
    for split in ("identity", "symmetric", "encoder", "random"):
        label = "random gauge" if split == "random" else f'gauge="{split}"'
        specs.append(
            ModelSpec(
                name=f"Objective 1, {label}",
                objective="Objective 1 (product penalty)",
                estimator=DropoutAutoencoder(
                    n_components,
                    alpha=a1,
                    gauge=split,
                    random_state=random_state,
                ),
                # The raw factor is the point of these rows: its cosines
                # depend on the split.
                embedding="decoder",
                note=RAW_DECODER_NOTE,
            )
        )
    specs.append(
        ModelSpec(
            name="Objective 2 (weight decay)",
            objective="Objective 2 (weight decay)",
            estimator=WeightDecayAutoencoder(n_components, alpha=float(alpha)),
        )
    )
    # alpha sets its Objective 2 start (the deterministic default init).
    params = {
        "n_components": n_components,
        "init_alpha": float(alpha),
        "random_state": random_state,
    }
    if max_iter is not None:
        params["max_iter"] = max_iter
    if temperature is not None:
        params["temperature"] = temperature
    specs.append(
        ModelSpec(
            name="Objective 3 (trained for cosine)",
            objective="Objective 3 (cosine softmax)",
            estimator=CosineAutoencoder(**params),
            iterative=True,
            optional=True,
            restarts=restarts,
        )
    )
    specs.append(
        ModelSpec(
            name="Objective 1, projected (Remedy 2)",
            objective="Objective 1 (product penalty)",
            estimator=DropoutAutoencoder(n_components, alpha=a1),
            note="rows of A B^T, any split (DropoutAutoencoder's default embedding)",
        )
    )
    return specs


# -- the scores --------------------------------------------------------------------


def _metrics():
    from .. import metrics

    return metrics


def available(value):
    """A stability of :mod:`skcosim.metrics`, or ``None`` when it is not
    available (:data:`skcosim.metrics.NOT_AVAILABLE`): the report shows
    ``n/a`` and the reason (:data:`NOT_AVAILABLE_REASON`), never the sentinel."""
    return None if value == _metrics().NOT_AVAILABLE else value


#: Why a stability of the report is not available.
NOT_AVAILABLE_REASON = "fewer than 2 effective components"


def gauge_stability_of(model, embedding, n_neighbors, n_draws, random_state, max_items):
    """:func:`skcosim.metrics.gauge_stability` of the ``embedding`` item embedding,
    and its per-item values (``average=False``) from the same draws."""
    from ..metrics._stability import gauge_overlaps_of

    overlaps = gauge_overlaps_of(
        model,
        n_neighbors,
        n_draws=n_draws,
        embedding=embedding,
        method="jaccard",
        random_state=random_state,
        max_items=max_items,
    )
    return float(overlaps.reduce("Gauge stability")), overlaps.per_item()


def resample_stability_of(
    model, embedding, X, n_neighbors, n_draws, random_state, max_items, n_jobs=None
):
    """:func:`skcosim.metrics.resample_stability` (random halves of the users)
    of the ``embedding`` item embedding, and its per-item values (``average=False``)
    from the same refits; fits in ``n_jobs`` processes."""
    from ..metrics._stability import resample_overlaps

    if n_jobs not in (None, 1) and "verbose" in model.get_params():
        # Progress bars of several processes would overwrite each other.
        model = clone(model).set_params(verbose=0)
    overlaps = resample_overlaps(
        model,
        X,
        n_neighbors,
        n_resamples=n_draws,
        embedding=embedding,
        random_state=random_state,
        max_items=max_items,
        n_jobs=n_jobs,
    )
    return float(overlaps.reduce("Resample stability")), overlaps.per_item()


def label_agreement_of(E, labels, n_neighbors):
    """:func:`skcosim.metrics.neighbor_label_agreement` of ``E`` and its
    per-item values (NaN for the unlabelled items), from one neighbour search."""
    per_item = np.asarray(
        _metrics().neighbor_label_agreement(E, labels, n_neighbors, average=False)
    )
    # The function's own mean: over the labelled items, the non-NaN ones.
    return float(per_item[~np.isnan(per_item)].mean()), per_item


@dataclass
class ModelResult:
    """A fitted model of the comparison and its scores."""

    spec: ModelSpec
    model: object
    embeddings: np.ndarray
    scores: dict = field(default_factory=dict)
    #: Per-item values of the scores (``average=False``): ``{score: ndarray
    #: of shape (n_items,)}``, NaN where not measured (items.csv).
    per_item: dict = field(default_factory=dict)


_EMPTY_SCORES = dict.fromkeys(
    (
        "loss",
        "gauge_stability",
        "resample_stability",
        "label_agreement",
        "fit_seconds",
        "restart_stability",
    )
)

#: The stabilities of a row, which may be not available.
STABILITIES = ("gauge_stability", "resample_stability", "restart_stability")


@dataclass
class Scoring:
    """How :func:`compare_models` scores each model (see its parameters)."""

    labels: object = None
    n_neighbors: int = 10
    n_draws: int = 5
    resample_draws: int = 2
    iterative_resample_draws: int = 1
    iterative_n_jobs: int | None = None
    random_state: int = 0
    max_items: int | None = None
    clusters: object = None
    #: The resample and restart fits of iterative models, running in worker
    #: processes while this one fits and scores the other models (by name).
    background: dict = field(default_factory=dict)


def _announce(progress, text):
    if progress is not None:
        progress.step(text)


def _score_model(spec, X, scoring, notes, progress=None):
    """Fit one model and compute its row of the report.

    An optional model (``spec.optional``, the cosine-trained one) that cannot
    be fitted on these data, or on a resample of them, gets ``None`` scores
    and a note instead of stopping the whole report: e.g. its Objective 2
    start is zero when ``alpha`` exceeds every singular value of a half.
    """
    failures = (ValueError, FloatingPointError) if spec.optional else ()
    seed, n_neighbors = scoring.random_state, scoring.n_neighbors
    background = scoring.background.get(spec.name)
    try:
        _announce(progress, f"{spec.name}: fit")
        start = time.perf_counter()
        model = spec.estimator.fit(X)
        fit_seconds = time.perf_counter() - start
    except failures as exc:
        if background is not None:
            background.close()
        notes.append(f"not fitted: {exc}")
        empty = {**_EMPTY_SCORES}
        if scoring.clusters is not None:
            empty.update(within_cluster_cosine=None, between_cluster_abs_cosine=None)
        return ModelResult(spec=spec, model=None, embeddings=None, scores=empty)
    E = np.asarray(model.item_embeddings(spec.embedding))
    _announce(progress, f"{spec.name}: loss and gauge stability")
    per_item = {}
    gauge, per_item["gauge_stability"] = gauge_stability_of(
        model, spec.embedding, n_neighbors, scoring.n_draws, seed, scoring.max_items
    )
    scores = {
        "loss": _training_objective(model, X),
        "gauge_stability": gauge,
        "resample_stability": None,
        "label_agreement": None,
        "fit_seconds": fit_seconds,
    }
    if scoring.labels is not None:
        scores["label_agreement"], per_item["label_agreement"] = label_agreement_of(
            E, scoring.labels, n_neighbors
        )
    if scoring.clusters is not None:
        within, between = cluster_cosines(E, scoring.clusters)
        scores["within_cluster_cosine"] = within
        scores["between_cluster_abs_cosine"] = between
    if getattr(model, "fit_warning_", None):
        notes.append(model.fit_warning_)
    draws = (
        scoring.iterative_resample_draws if spec.iterative else scoring.resample_draws
    )
    n_jobs = scoring.iterative_n_jobs if spec.iterative else None
    try:
        _announce(progress, f"{spec.name}: resample stability ({2 * draws} fits)")
        if background is not None:
            overlaps = background.score(0)
            resample = float(overlaps.reduce("Resample stability"))
            per_item["resample_stability"] = overlaps.per_item()
        else:
            resample, per_item["resample_stability"] = resample_stability_of(
                model,
                spec.embedding,
                X,
                n_neighbors,
                draws,
                seed,
                scoring.max_items,
                n_jobs,
            )
        scores["resample_stability"] = resample
    except failures as exc:
        notes.append(f"no resample stability: {exc}")
    scores["restart_stability"] = _restart_stability_of(
        spec, X, scoring, notes, progress
    )
    return ModelResult(
        spec=spec, model=model, embeddings=E, scores=scores, per_item=per_item
    )


def _training_objective(model, X):
    """The objective of ``model`` on ``X``, its training data: the closed forms'
    ``loss_curve_`` ends on it (the objective at the solution, from the
    spectrum: no pass over ``X``); other models compute it."""
    if isinstance(model, (WeightDecayAutoencoder, DropoutAutoencoder)):
        return float(model.loss_curve_[-1])
    return float(model.objective(X))


def _restart_stability_of(spec, X, scoring, notes, progress):
    """:func:`skcosim.metrics.restart_stability` of the row's model over
    ``spec.restarts`` fits from random starts, or ``None`` (not measured, or
    a fit failed: a note says which)."""
    if not spec.restarts:
        return None
    failures = (ValueError, FloatingPointError) if spec.optional else ()
    model = spec.estimator
    if scoring.iterative_n_jobs not in (None, 1) and "verbose" in model.get_params():
        model = clone(model).set_params(verbose=0)
    _announce(progress, f"{spec.name}: restart stability ({spec.restarts} fits)")
    background = scoring.background.get(spec.name)
    try:
        if background is not None:
            value = background.score(1)
        else:
            value = _metrics().restart_stability(
                model,
                X,
                scoring.n_neighbors,
                n_restarts=spec.restarts,
                embedding=spec.embedding,
                random_state=scoring.random_state,
                max_items=scoring.max_items,
                n_jobs=scoring.iterative_n_jobs,
            )
    except failures as exc:
        notes.append(f"no restart stability: {exc}")
        return None
    shown = (
        f"{value:.3f}"
        if available(value) is not None
        else f"n/a ({NOT_AVAILABLE_REASON})"
    )
    notes.append(
        f"restart stability {shown}: mean Jaccard@{scoring.n_neighbors} "
        f"between {spec.restarts} fits on all users that differ only in "
        "random_state and start from random factors (init='random'); "
        "training for cosine removes the diagonal gauge, not the dependence "
        "on the start"
    )
    return float(value)


def compare_models(
    specs,
    X,
    *,
    labels=None,
    n_neighbors=10,
    n_draws=5,
    resample_draws=2,
    iterative_resample_draws=1,
    iterative_n_jobs=None,
    random_state=0,
    max_items=None,
    clusters=None,
    progress=None,
):
    """Fit each model on ``X`` and score it.

    Each draw of the resample stability refits the model twice; an
    iterative model (the cosine-trained one, far dearer than a closed form)
    gets ``iterative_resample_draws`` draws instead of ``resample_draws``,
    fitted in ``iterative_n_jobs`` processes.
    The closed forms share one spectrum per (re)sample of ``X``
    (:func:`skcosim._linalg._spectrum.shared_spectra`), and with ``max_items`` the
    stabilities average over a random sample of that many items.

    Returns a list of :class:`ModelResult`; ``scores`` holds ``loss`` (the
    model's training objective on ``X``), ``gauge_stability``,
    ``resample_stability``, ``label_agreement`` (``None`` without labels) and
    ``fit_seconds``; given the items' ``clusters`` (simulated data), also
    ``within_cluster_cosine`` and ``between_cluster_abs_cosine``
    (:func:`cluster_cosines` of the embedding the row shows).
    """
    n_neighbors = int(min(n_neighbors, X.shape[1] - 1))
    if n_neighbors < 1:
        raise ValueError(
            f"The data has {X.shape[1]} item(s): neighbours need at least 2 items."
        )
    scoring = Scoring(
        labels=labels,
        n_neighbors=n_neighbors,
        n_draws=n_draws,
        resample_draws=resample_draws,
        iterative_resample_draws=iterative_resample_draws,
        iterative_n_jobs=iterative_n_jobs,
        random_state=random_state,
        max_items=max_items,
        clusters=clusters,
    )
    results = {}
    with shared_spectra():
        scoring.background = _start_background_refits(specs, X, scoring)
        try:
            for i in _fitting_order(specs, scoring):
                results[i] = _compare_one(specs[i], X, scoring, progress)
        finally:
            for background in scoring.background.values():
                background.close()
    return [results[i] for i in range(len(specs))]


def _fitting_order(specs, scoring):
    """The rows in the order they are computed: with background refits, the
    iterative models first (their single-threaded fit beside the workers;
    the closed forms' threaded spectra fill the cores once the workers are
    done), else as listed. The report keeps the listed order."""
    if not scoring.background:
        return range(len(specs))
    return sorted(range(len(specs)), key=lambda i: not specs[i].iterative)


def _start_background_refits(specs, X, scoring):
    """Start the resample and restart fits of the iterative models in
    ``scoring.iterative_n_jobs`` worker processes, before any model is
    fitted here: they run beside the closed forms and the iterative model's
    own fit (which use this process). The same fits and scores as
    :func:`resample_stability_of` and :func:`_restart_stability_of`; ``{}``
    without worker processes."""
    from ..metrics._refits import start_refits
    from ..metrics._restart import restart_plan
    from ..metrics._stability import resample_plan

    if scoring.iterative_n_jobs in (None, 1):
        return {}
    started = {}
    for spec in specs:
        if not spec.iterative:
            continue
        model = clone(spec.estimator)
        if "verbose" in model.get_params():
            # Progress bars of several processes would overwrite each other.
            model.set_params(verbose=0)
        common = dict(
            embedding=spec.embedding,
            random_state=scoring.random_state,
            max_items=scoring.max_items,
        )
        plans = [
            lambda model=model, common=common: resample_plan(
                model,
                X,
                scoring.n_neighbors,
                n_resamples=scoring.iterative_resample_draws,
                **common,
            )
        ]
        if spec.restarts:
            plans.append(
                lambda model=model, spec=spec, common=common: restart_plan(
                    model, X, scoring.n_neighbors, n_restarts=spec.restarts, **common
                )
            )
        started[spec.name] = start_refits(plans, scoring.iterative_n_jobs)
    return started


def _compare_one(spec, X, scoring, progress):
    notes = [spec.note] if spec.note else []
    if spec.iterative and progress is not None and progress.bar is not None:
        # A bar of its own counts the iterations of the long fits.
        spec.estimator.set_params(verbose=1)
    with warnings.catch_warnings(record=True) as caught:
        # e.g. ConvergenceWarnings of an iterative model (also from its
        # refits on halves): reported in the notes of the report instead
        # of interleaved with the progress bar.
        warnings.simplefilter("always")
        result = _score_model(spec, X, scoring, notes, progress)
    unavailable = _StabilityNotAvailable()
    # Not-available stabilities are shown in their cells, and a fit's own
    # warning is already a note (fit_warning_): neither twice.
    caught = {
        " ".join(str(w.message).split())
        for w in caught
        if not issubclass(w.category, unavailable)
    }
    notes += sorted(caught - set(notes))
    result.scores["notes"] = notes
    result.scores["not_available"] = _not_available(result.scores)
    if progress is not None:
        progress.advance()
    return result


def cluster_cosines(embeddings, labels):
    """How well item embeddings show known clusters, as two numbers.

    Returns ``(within, between)``: the mean cosine over pairs of distinct
    items of the same cluster, and the mean absolute cosine over pairs of
    items of different clusters (``None`` when there is no such pair). The
    ground truth's panel, cosine 1 inside a cluster and 0 across, scores
    ``(1, 0)``; zero rows have cosine 0 with everything.
    """
    from .._linalg._matrix import unit_rows

    U = unit_rows(np.asarray(embeddings, dtype=np.float64))
    labels = np.asarray(labels)
    C = U @ U.T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    across = labels[:, None] != labels[None, :]
    within = float(C[same].mean()) if same.any() else None
    between = float(np.abs(C[across]).mean()) if across.any() else None
    return within, between


def _StabilityNotAvailable():
    from ..exceptions import StabilityNotAvailableWarning

    return StabilityNotAvailableWarning


def _not_available(scores):
    """Set the stabilities that are not available to ``None`` and return
    ``{key: reason}`` for them (the report shows "n/a (reason)")."""
    reasons = {}
    for key in STABILITIES:
        if scores.get(key) is not None and available(scores[key]) is None:
            scores[key] = None
            reasons[key] = NOT_AVAILABLE_REASON
    return reasons


def neighbor_table(results, items, n_neighbors):
    """Top neighbours of the given items under each model.

    Returns ``{item_index: {model name: [neighbour indices]}}``.
    """
    metrics = _metrics()
    table = {int(i): {} for i in items}
    for res in results:
        if res.embeddings is None:  # an optional model that was not fitted
            continue
        idx, _ = metrics.cosine_neighbors(
            res.embeddings, n_neighbors, queries=np.asarray(items, dtype=np.intp)
        )
        for i, row in zip(items, idx, strict=True):
            table[int(i)][res.spec.name] = [int(j) for j in row]
    return table


def rows_of(results):
    """The rows of the report: one dict per model with the keys of
    :data:`skcosim.cli._report.COLUMNS`, its notes, fit time and embedding."""
    return [
        {
            "name": r.spec.name,
            "objective": r.spec.objective,
            **r.scores,
            "embedding": spec_embedding(r.spec),
        }
        for r in results
    ]
