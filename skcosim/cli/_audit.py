"""``skcosim audit``: the comparison of ``reproduce`` on the user's own log."""

import sys

import numpy as np

from . import _audit_dask, _audit_log, _models, _settings, _verdicts
from ._errors import CommandError
from ._figure import embedding_panels
from ._items_file import check_format, items_file, items_frame
from ._report import Report, md_code
from ._run import run_command


def audit(args) -> int:
    """``skcosim audit``: the same report on the user's own log."""
    check_format(args.format)
    return run_command(args, build_audit_report, _settings.AUDIT_FILES)


def build_audit_report(args, progress):
    """Read the log of ``args``, compare the models on it and return the
    :class:`Report`."""
    from .._linalg._spectrum import shared_spectra

    with shared_spectra(), _audit_dask.session(args, progress) as cluster:
        progress.step(f"read {args.path}")
        data = _prepare_log(args)
        k, alpha = _rank_and_alpha(args, data.X, progress)
        progress.advance()
        results = _compare(data, k, alpha, args.seed, progress, cluster)
    popularity = data.popularity
    cosine = _cosine_row(results, data.X)
    by_popularity = np.argsort(-popularity, kind="stable")
    rows = _models.rows_of(results)
    per_model = {r.spec.name: r.per_item for r in results}
    if data.neighbors["forced"]:
        rows = _audit_log.blank_forced_scores(rows)
        per_model = {}
    rows, verdict = _judge(rows, per_model, data, popularity)
    _audit_log.use_suggestion(
        data, args.min_item_count, verdict["suggested_min_item_count"]
    )
    items = items_frame(data.item_ids, popularity, per_model, data.names)
    return Report(
        command="audit",
        title="skcosim audit",
        intro=_audit_intro(args, data, k, alpha, cosine)
        + ("" if cluster is None else f" {cluster.text()}"),
        rows=rows,
        n_neighbors=data.neighbors["effective"],
        settings=_audit_settings(args, data, k, alpha)
        | ({} if cluster is None else {"dask": cluster.settings()}),
        payload=_audit_payload(data),
        warnings=data.warnings,
        neighbors=_popular_neighbors(
            results, data.item_ids, popularity, by_popularity, data.names
        ),
        panels=embedding_panels(results, by_popularity[: _settings.MAX_HEATMAP_ITEMS]),
        figure_step="draw the heatmaps",
        # The same dict as the progress's: it gets the remaining steps too.
        step_seconds=progress.seconds,
        verdict=verdict,
        files=dict([items_file(items, args.format)]),
    )


def _judge(rows, per_model, data, support):
    """The rows with their plain words and verdicts, and the audit's verdict;
    the ``--min-item-count`` a verdict suggests is read off the support
    curve of the row with the most stable neighbours under resampling."""
    measured = [r for r in rows if r.get("resample_stability") is not None]
    best = max(measured, key=lambda r: r["resample_stability"], default=None)
    curve = None if best is None else per_model.get(best["name"], {})
    min_item_count = _verdicts.suggest_min_item_count(
        support,
        None if not curve else curve.get("resample_stability"),
        data.neighbors["chance_stability"],
    )
    labels = data.label_info or {}
    rows, verdict = _verdicts.judge_rows(
        rows,
        chance_stability=data.neighbors["chance_stability"],
        chance_agreement=labels.get("chance_agreement"),
        min_item_count=min_item_count,
    )
    return rows, {**verdict, "suggested_min_item_count": min_item_count}


def _rank_and_alpha(args, X, progress):
    """The embedding dimension and ``alpha`` of the audit (``--alpha`` or
    from the top-k spectrum of ``X``)."""
    from .._linalg._spectrum import top_k_spectrum
    from ..autoencoders._alpha import auto_alpha

    k = min(args.n_components, *X.shape)
    if args.alpha is not None:
        return k, args.alpha
    progress.step(f"top-{k} spectrum (shared by the closed forms)")
    s, _ = top_k_spectrum(X, k, random_state=args.seed)
    # The estimators' alpha="auto" rule (skcosim.autoencoders._alpha).
    return k, auto_alpha(s)


def _compare(data, k, alpha, seed, progress, cluster=None):
    specs = _models.default_models(
        k, alpha, random_state=seed, restarts=_settings.AUDIT_RESTARTS
    )
    for spec in specs:
        if spec.iterative:
            spec.estimator.set_params(
                max_iter=_audit_max_iter(_resolved_loss(spec.estimator, data.X))
            )
    return _models.compare_models(
        specs,
        data.X,
        labels=data.labels,
        n_neighbors=data.neighbors["effective"],
        n_draws=_settings.AUDIT_GAUGE_DRAWS,
        resample_draws=_settings.AUDIT_RESAMPLE_DRAWS,
        iterative_resample_draws=1,
        # On Dask the cluster runs the fits: no processes of our own.
        iterative_n_jobs=_settings.AUDIT_ITERATIVE_JOBS if cluster is None else None,
        random_state=seed,
        max_items=_settings.AUDIT_MAX_ITEMS,
        progress=progress,
    )


def _resolved_loss(estimator, X):
    """The loss the cosine-trained model's ``loss="auto"`` takes on ``X``: the
    estimator decides (its cap on iterations is set before it is fitted)."""
    return estimator._resolved_loss(*X.shape)


def _cosine_row(results, X):
    """The cosine-trained row's ``(loss, max_iter)``: its fitted ``loss_used_``
    (what ``loss="auto"`` resolved to), or the estimator's resolution when
    it could not be fitted."""
    for result in results:
        if result.spec.iterative:
            estimator = result.spec.estimator
            if result.model is None:
                return _resolved_loss(estimator, X), estimator.max_iter
            return result.model.loss_used_, estimator.max_iter
    # No such row (a comparison cut down in tests): what the default would run.
    from ..autoencoders import CosineAutoencoder

    loss = _resolved_loss(CosineAutoencoder(), X)
    return loss, _audit_max_iter(loss)


def _audit_max_iter(loss):
    if loss == "sampled_softmax":
        return _settings.AUDIT_MAX_EPOCHS
    return _settings.AUDIT_MAX_ITER


def _prepare_log(args):
    """The log of ``skcosim audit``, read, filtered, labelled and checked:
    whatever is wrong with it is a :class:`CommandError` (the loader's
    messages name the file and line)."""
    from .._linalg._matrix import check_gram_fits

    try:
        if getattr(args, "dask", None) is None:
            data = _audit_log.prepare(args, _settings.N_NEIGHBORS)
            check_gram_fits(data.X)  # values too large or too small to fit
        else:  # checked on the first pass over the blocks
            data = _audit_dask.prepare(args, _settings.N_NEIGHBORS)
    except (ValueError, TypeError, ImportError) as exc:
        raise CommandError(str(exc)) from exc
    n_users, n_items = data.X.shape
    if n_users * n_items > _settings.AUDIT_LARGE_CELLS:
        print(
            f"{_settings.PROG} audit: note: {n_users} users x {n_items} items, "
            f"{data.filtered['n_nonzero']} interactions; the audit fits about 40 "
            "models on them and their halves, so it may take several minutes.",
            file=sys.stderr,
        )
    return data


def _popular_neighbors(results, ids, popularity, by_popularity, names=None):
    """The top neighbours of the most popular items under every model, by id
    (and by name, with ``--item-names``)."""
    n_items = len(ids)
    sample = by_popularity[: min(_settings.N_SHOWN_ITEMS, n_items)]
    n_shown = min(_settings.N_SHOWN_NEIGHBORS, n_items - 1)
    table = _models.neighbor_table(results, sample, n_shown)
    entries = []
    for i in sample:
        entry = {
            "item": ids[i],
            "n_users": int(popularity[i]),
            "neighbors": {
                name: [ids[j] for j in idx] for name, idx in table[int(i)].items()
            },
        }
        if names is not None:
            entry["item_name"] = names[i]
            entry["neighbor_names"] = {
                name: [names[j] for j in idx] for name, idx in table[int(i)].items()
            }
        entries.append(entry)
    return entries


def _audit_intro(args, data, k, alpha, cosine):
    """The paragraph above the table: data, filter, support, models, labels."""
    read, kept, support, nb = data.read, data.filtered, data.support, data.neighbors
    flags = (
        f"--min-item-count {args.min_item_count}, "
        f"--min-user-count {args.min_user_count}"
    )
    if kept == read:
        filtered = f"No user or item removed ({flags})."
    else:
        filtered = (
            f"After the k-core filter ({flags}; {data.n_passes} passes): "
            f"{_sizes_text(kept)}."
        )
    effective = (
        f"top-{nb['effective']} (not {nb['requested']}: each item has only "
        f"{nb['n_candidates']} others)"
        if nb["effective"] < nb["requested"]
        else f"top-{nb['effective']}"
    )
    loss, max_iter = cosine
    samples = loss == "sampled_softmax"
    return (
        f"Data: {md_code(args.path, in_table=False)} (users: "
        f"{md_code(args.user_col, in_table=False)}, items: "
        f"{md_code(args.item_col, in_table=False)}, values: "
        f"{md_code(args.value_col or 'each row counts 1', in_table=False)}; "
        f"duplicate rows summed): {_sizes_text(read)}. {filtered} Item "
        f"support: median {support['median']:g} users per item, "
        f"{support['share_below']:.0%} of the items have fewer than "
        f"{support['threshold']}. Models with k = {k} and alpha = {alpha:.4g} "
        f"(Objective 1: alpha^2 = {alpha**2:.4g}); {effective} cosine "
        "neighbours of the item embeddings (two random top-"
        f"{nb['effective']} sets have Jaccard {nb['chance_stability']:.3g} on "
        f"average: the chance level of the stabilities); "
        f"{_settings.AUDIT_GAUGE_DRAWS} gauge draws, "
        f"{_settings.AUDIT_RESAMPLE_DRAWS} resample draws (1 for the "
        f"cosine-trained model, at most {max_iter} "
        f"{'epochs of a sampled softmax' if samples else 'iterations'} "
        "from the Objective 2 solution; its restart stability compares "
        f"{_settings.AUDIT_RESTARTS} fits from random starts)"
        + (
            f", each averaged over a random sample of {_settings.AUDIT_MAX_ITEMS} items"
            if kept["n_items"] > _settings.AUDIT_MAX_ITEMS
            else ""
        )
        + f". {_labels_text(data.label_info)}"
        + _names_text(data.name_info)
    )


def _names_text(info):
    """The sentence on ``--item-names``: how many items have a name."""
    if info is None:
        return ""
    text = (
        f" Item names: {md_code(info['path'], in_table=False)} (column "
        f"{md_code(info['name_col'], in_table=False)}): {info['n_named_items']} "
        f"of {info['n_items']} items have a name"
    )
    if info["n_unnamed_items"]:
        sample = ", ".join(
            md_code(i, in_table=False) for i in info["unnamed_item_ids_sample"]
        )
        text += (
            f"; {info['n_unnamed_items']} have none and show as empty (e.g. {sample})"
        )
    return text + "."


def _sizes_text(sizes):
    return (
        f"{sizes['n_users']} users x {sizes['n_items']} items, "
        f"{sizes['n_nonzero']} nonzero entries"
    )


def _labels_text(info):
    if info is None:
        return "No item labels (--item-labels), so no label agreement."
    text = (
        f"Item labels: {md_code(info['path'], in_table=False)} (column "
        f"{md_code(info['label_col'], in_table=False)}): "
        f"{info['n_labeled_items']} of {info['n_items']} items have at least one "
        f"of {info['n_labels']} labels. The label agreement averages over these "
        "items; an unlabelled neighbour shares no label."
    )
    if info["chance_agreement"] is not None:
        text += (
            f" Random neighbours would score {info['chance_agreement']:.3f} (the "
            "chance level of the label agreement)."
        )
    if info["n_unknown_item_ids"]:
        sample = ", ".join(
            md_code(i, in_table=False) for i in info["unknown_item_ids_sample"]
        )
        text += (
            f" {info['n_unknown_item_ids']} item id(s) of the label file are not "
            f"items of the log and were ignored (e.g. {sample})."
        )
    return text


def _audit_settings(args, data, k, alpha):
    """The settings of the audit, as the JSON report records them."""
    return {
        "path": str(args.path),
        "user_col": args.user_col,
        "item_col": args.item_col,
        "value_col": args.value_col,
        "sep": args.sep,
        "min_item_count": args.min_item_count,
        "min_user_count": args.min_user_count,
        "item_labels": None if args.item_labels is None else str(args.item_labels),
        "label_item_col": None
        if args.item_labels is None
        else args.label_item_col or args.item_col,
        "label_col": None if data.label_info is None else data.label_info["label_col"],
        "label_sep": args.label_sep,
        "item_names": None if args.item_names is None else str(args.item_names),
        "name_col": None if data.name_info is None else data.name_info["name_col"],
        "name_item_col": None
        if args.item_names is None
        else args.name_item_col or args.item_col,
        "format": args.format,
        "n_components": k,
        "alpha": alpha,
        "seed": args.seed,
        "stability_items": min(data.filtered["n_items"], _settings.AUDIT_MAX_ITEMS),
    }


def _audit_payload(data):
    """The JSON fields of the audit about the log: sizes, support, labels."""
    return {
        "neighbors": data.neighbors,
        "data": {
            **data.filtered,
            "before_filter": data.read,
            "filter_passes": data.n_passes,
            "item_support": data.support,
        },
        "labels": data.label_info,
        "names": data.name_info,
        "warnings": data.warnings,
    }
