"""``skcosim reproduce``: the paper's Figure 1 and table on simulated data."""

from . import _models, _settings
from ._figure import embedding_panels
from ._report import Report
from ._run import run_command

READING_SIMULATED = """\
On this simulated data the items of one cluster differ only in popularity:
which 10 of its items are an item's nearest neighbours is not set by the data,
so resample stability is low for every model; label agreement tells whether a
model finds the clusters. The Objective 1 rows show the paper's point: one
loss, other neighbours (gauge stability well below 1), and a random gauge can
lose much of the cluster structure. Objective 2, the cosine-trained model and
the projection have gauge-free neighbours."""


def reproduce(args) -> int:
    """``skcosim reproduce``: Figure 1 and the table on simulated data."""
    return run_command(args, build_reproduce_report, _settings.REPRODUCE_FILES)


def build_reproduce_report(args, progress):
    """Simulate clustered interactions, compare the models on them and
    return the :class:`Report`."""
    from ..datasets import make_clustered_interactions
    from ..plotting import cluster_order

    settings = _settings.REPRODUCE_SETTINGS["quick" if args.quick else "full"]
    n_neighbors = _settings.N_NEIGHBORS
    specs = _models.default_models(
        settings["n_components"],
        settings["alpha"],
        random_state=args.seed,
        max_iter=settings["max_iter"],
        temperature=settings.get("temperature"),
    )
    progress.step("simulate interactions")
    data = make_clustered_interactions(
        settings["n_users"],
        settings["n_items"],
        settings["n_clusters"],
        random_state=args.seed,
    )
    X = data.data
    progress.advance()
    results = _models.compare_models(
        specs,
        X,
        labels=data.item_labels,
        n_neighbors=n_neighbors,
        n_draws=settings["n_draws"],
        resample_draws=settings["resample_draws"],
        iterative_resample_draws=settings["iterative_resample_draws"],
        random_state=args.seed,
        clusters=data.item_labels,
        progress=progress,
    )
    order = cluster_order(data.item_labels, data.item_popularity)
    return Report(
        command="reproduce",
        title="skcosim reproduce: is cosine similarity about similarity?",
        intro=_intro(args, settings, X),
        rows=_models.rows_of(results),
        n_neighbors=n_neighbors,
        settings={**settings, "quick": args.quick, "seed": args.seed},
        payload={"data": _data_sizes(X)},
        reading=READING_SIMULATED,
        panels=embedding_panels(results, order),
        clusters=data.item_labels[order],
    )


def _data_sizes(X):
    return {
        "n_users": X.shape[0],
        "n_items": X.shape[1],
        "n_interactions": int(X.nnz),
    }


def _at_temperature(settings):
    t = settings.get("temperature")
    return "" if t is None else f"at temperature {t:g} "


def _intro(args, settings, X):
    """The paragraph above the table: the data, the models, the draws."""
    return (
        f"Simulated data (`skcosim.datasets.make_clustered_interactions`, seed "
        f"{args.seed}): {X.shape[0]} users x {X.shape[1]} items in "
        f"{settings['n_clusters']} clusters, {X.nnz} interactions, power-law item "
        f"popularity. Models with k = {settings['n_components']} and alpha = "
        f"{settings['alpha']:.4g} (Objective 1: alpha^2 = "
        f"{settings['alpha'] ** 2:.4g}); top-{_settings.N_NEIGHBORS} cosine "
        "neighbours of the item embeddings; "
        f"{settings['n_draws']} gauge draws, "
        f"{settings['resample_draws']} resample draws "
        f"({settings['iterative_resample_draws']} for the cosine-trained model, "
        f"fitted {_at_temperature(settings)}with at most "
        f"{settings['max_iter']} L-BFGS iterations from the Objective 2 "
        "solution). report.json gives, per model, the mean cosine of item pairs "
        "of one cluster (`within_cluster_cosine`) and the mean absolute cosine "
        "of pairs of different clusters (`between_cluster_abs_cosine`): 1 and 0 "
        "for the ground truth."
    )
