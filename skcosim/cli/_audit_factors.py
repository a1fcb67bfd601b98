"""``skcosim audit-factors``: audit the item factors of a model trained elsewhere.

A model that scores users and items by ``U V^T`` (ALS, BPR, TruncatedSVD, a
two-tower network) gives the same scores with ``U R`` and ``V R^{-T}`` for
every invertible ``R``; which ``R`` also keep its loss is the ``--group`` the
user declares (docs/user_guide/gauges.rst, "Gauges of external models"). The
report measures how much such an ``R`` moves the item neighbours of ``V``
and, with the user factors, of the projected embedding that no ``R`` moves
(:func:`skcosim.preprocessing.project_factors`), how far the two disagree,
and how well each agrees with item labels.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..exceptions import StabilityNotAvailableWarning
from ..metrics import neighbor_label_agreement, neighbor_overlap
from ..metrics._labels import random_label_agreement
from ..metrics._neighbors import cosine_neighbors, tie_tolerance
from ..metrics._stability import gauge_overlaps
from . import _settings, _verdicts
from ._audit_log import effective_neighbors
from ._errors import CommandError
from ._items_file import check_format, items_file, items_frame
from ._models import NOT_AVAILABLE_REASON, available
from ._report import Report, md_code
from ._run import run_command

RAW = "item factors V"
PROJECTED = "projected (project_factors(U, V))"

#: The models each ``--group`` stands for, in the words of the audit's rows.
TRAINED_LIKE = {
    "invertible": _verdicts.FAMILIES["product_penalty"]["words"],
    "diagonal": "non-negative factors without a penalty (NMF)",
    "orthogonal": _verdicts.FAMILIES["weight_decay"]["words"],
}

RESAMPLE_NA = "needs the training data"

HOW_TO_READ = """\
How to read it (the user guide's "Auditing your own model"):

- **gauge stability**: mean Jaccard@{k} between each item's top-{k} cosine
  neighbours and its neighbours after a random transform `U R, V R^-T` of
  the declared group (the same scores, a loss your training does not tell
  apart). 1: the loss fixes the neighbours; well below 1: they are an
  accident of the split. For the projected embedding it is measured, not
  assumed: the factors are re-split and projected again.
- **resample stability**: needs the data the model was trained on; refit
  your model on halves of the users with
  `skcosim.metrics.resample_stability(fit_item_factors, X)`.
- **label agreement**: share of each item's top-{k} neighbours that share a
  label with it (`--item-labels`), averaged over the labelled items.
- **verdict**: what the numbers say, from the thresholds of the user
  guide's "What to do with your audit" (gauge stability below 0.5: an
  accident of the split; 0.9 and above: set by the loss); the next step of
  each row is under "What to do".
"""


def audit_factors(args) -> int:
    """``skcosim audit-factors``: the report on the user's own factors."""
    check_format(args.format)
    n_steps = 2 + (args.user_factors is not None)
    return run_command(
        args, build_factor_report, _settings.AUDIT_FACTORS_FILES, n_steps=n_steps
    )


def build_factor_report(args, progress):
    """Read the factors of ``args``, measure them and return the :class:`Report`."""
    progress.step(f"read {args.item_factors}")
    data = _read_inputs(args)
    progress.advance()
    k = data["neighbors"]["effective"]
    embeddings = {RAW: data["V"]}
    if data["U"] is not None:
        from ..preprocessing import project_factors

        embeddings[PROJECTED] = project_factors(data["U"], data["V"])
    rows, per_item = [], {}
    for name, E in embeddings.items():
        progress.step(f"measure {name}")
        row, per_item[name] = _measure(name, E, data, args)
        rows.append(row)
        progress.advance()
    overlap, overlap_per_item = _raw_projected_overlap(embeddings, rows, k)
    verdict = _verdicts.summary_verdict(rows)
    order = _shown_items(embeddings)
    return Report(
        command="audit-factors",
        title="skcosim audit-factors",
        intro=_intro(args, data, overlap),
        rows=rows,
        n_neighbors=k,
        settings=_report_settings(args, data),
        payload=_payload(data, overlap),
        warnings=data["warnings"],
        neighbors=_neighbor_tables(embeddings, order, data["ids"], data["names"]),
        panels=[
            (name, E[order[: _settings.MAX_HEATMAP_ITEMS]])
            for name, E in embeddings.items()
        ],
        figure_step="draw the heatmaps",
        step_seconds=progress.seconds,
        verdict=verdict,
        files=dict([_items_file(data, per_item, overlap_per_item, args.format)]),
        how_to_read=HOW_TO_READ,
        neighbors_heading=[
            f"## Top {_settings.N_SHOWN_NEIGHBORS} neighbours of the most "
            "strongly scored items",
            "",
            "The items whose column of scores U V^T has the largest norm (the "
            "largest rows of V without user factors): do the raw factors and "
            "the projected embedding agree on their neighbours?",
            "",
        ],
    )


def _raw_projected_overlap(embeddings, rows, k):
    """The per-item Jaccard of the raw and projected neighbours, and a note
    with its mean on the raw row; ``(mean, per item)`` or ``(None, None)``."""
    if PROJECTED not in embeddings:
        return None, None
    per_item = neighbor_overlap(
        embeddings[RAW], embeddings[PROJECTED], k, average=False
    )
    mean = float(np.mean(per_item))
    rows[0]["notes"].append(
        f"its top-{k} neighbours overlap those of the projected embedding by "
        f"Jaccard {mean:.3f} on average"
    )
    return mean, per_item


def _read_inputs(args):
    """The factors, ids, labels and names of ``args``, checked: any problem
    is a :class:`CommandError` naming the file and the option."""
    from ._factors_file import read_factors

    try:
        ids, V = read_factors(
            args.item_factors,
            "--item-factors",
            id_col=args.id_col,
            ids_path=args.item_ids,
            sep=args.sep,
        )
        U = None
        if args.user_factors is not None:
            _, U = read_factors(
                args.user_factors, "--user-factors", id_col=args.id_col, sep=args.sep
            )
            if U.shape[1] != V.shape[1]:
                raise ValueError(
                    f"--user-factors has {U.shape[1]} components (columns) and "
                    f"--item-factors {V.shape[1]}: the model scores U V^T, so "
                    "both need the same number."
                )
        if V.shape[0] < 3:
            raise ValueError(
                f"--item-factors has {V.shape[0]} items: comparing neighbours "
                "needs at least 3."
            )
        labels, label_info = _labels(args, ids)
        names, name_info = _names(args, ids)
    except (ValueError, TypeError, ImportError) as exc:
        raise CommandError(str(exc)) from exc
    neighbors = effective_neighbors(V.shape[0], _settings.N_NEIGHBORS)
    notes = [] if label_info is None else label_info.pop("warnings")
    if neighbors["forced"]:
        notes.insert(
            0,
            f"Only {V.shape[0]} items: the top-{neighbors['effective']} "
            "neighbours of an item are all the others in every embedding, so "
            "gauge stability would be 1 whatever the factors. It is not "
            "reported (n/a).",
        )
    return {
        "ids": ids,
        "V": V,
        "U": U,
        "labels": labels,
        "label_info": label_info,
        "names": names,
        "name_info": name_info,
        "neighbors": neighbors,
        "warnings": notes,
    }


def _labels(args, ids):
    """The label indicator of the items (``--item-labels``) and its summary."""
    import warnings

    from ..datasets import load_item_labels

    flags = {
        "--label-col": args.label_col,
        "--label-item-col": args.label_item_col,
        "--label-sep": args.label_sep,
    }
    if args.item_labels is None:
        for flag, value in flags.items():
            if value is not None:
                raise ValueError(f"{flag} is about --item-labels: give both.")
        return None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        labels = load_item_labels(
            args.item_labels,
            _label_item_col(args, ids),
            args.label_col,
            item_ids=ids,
            sep=args.sep,
            label_sep=args.label_sep,
        )
    Y = labels.data
    return Y, {
        "path": str(args.item_labels),
        "label_col": labels.label_names.name,
        "label_sep": args.label_sep,
        "n_labels": int(np.count_nonzero(Y.getnnz(axis=0))),
        "n_labeled_items": labels.n_labeled_items,
        "n_items": Y.shape[0],
        "chance_agreement": random_label_agreement(Y),
        "n_unknown_item_ids": len(labels.unknown_item_ids),
        "unknown_item_ids_sample": [str(i) for i in labels.unknown_item_ids[:5]],
        "warnings": [str(w.message) for w in caught],
    }


def _id_column(args, ids):
    """The id column of a CSV/Parquet factor file: ``--id-col``, or the
    column :func:`~skcosim.cli._factors_file.read_factors` took (its first)."""
    return args.id_col if args.id_col is not None else ids.name


def _label_item_col(args, ids):
    """The id column of the label file: ``--label-item-col``, else the id
    column of a CSV/Parquet factor file (``--id-col``, or its first column)."""
    if args.label_item_col is not None:
        return args.label_item_col
    if str(args.item_factors).lower().endswith(".npy"):
        raise ValueError(
            "--label-item-col is needed with .npy item factors: name the item "
            "id column of --item-labels."
        )
    return _id_column(args, ids)


def _names(args, ids):
    """The name of each item (``--item-names``; ``""``: none) and the
    summary of the names file, or ``(None, None)``."""
    from ._item_names import read_item_names

    flags = {"--name-col": args.name_col, "--name-item-col": args.name_item_col}
    if args.item_names is None:
        for flag, value in flags.items():
            if value is not None:
                raise ValueError(f"{flag} is about --item-names: give both.")
        return None, None
    id_col = args.name_item_col
    if id_col is None:
        if str(args.item_factors).lower().endswith(".npy"):
            raise ValueError(
                "--name-item-col is needed with .npy item factors: name the "
                "item id column of --item-names."
            )
        id_col = _id_column(args, ids)
    return read_item_names(args.item_names, id_col, args.name_col, ids, sep=args.sep)


def _measure(name, E, data, args):
    """The report row of one embedding, with its verdict, and its per-item
    values (:func:`~skcosim.cli._items_file.items_frame`'s scores)."""
    k = data["neighbors"]["effective"]
    with warnings.catch_warnings():
        # Shown in its cell as "n/a (reason)", not as a warning.
        warnings.simplefilter("ignore", StabilityNotAvailableWarning)
        overlaps = gauge_overlaps(
            E,
            _regauged(name, data),
            args.group,
            n_neighbors=k,
            n_draws=_settings.AUDIT_GAUGE_DRAWS,
            method="jaccard",
            random_state=args.seed,
            max_items=_settings.AUDIT_MAX_ITEMS,
        )
        gauge = overlaps.reduce("Gauge stability")
    per_item = {"gauge_stability": overlaps.per_item()}
    not_available = {"resample_stability": RESAMPLE_NA}
    if available(gauge) is None:
        gauge = None
        not_available["gauge_stability"] = NOT_AVAILABLE_REASON
    label = None
    if data["labels"] is not None:
        per_item["label_agreement"] = neighbor_label_agreement(
            E, data["labels"], k, average=False
        )
        label = neighbor_label_agreement(E, data["labels"], k)
    if data["neighbors"]["forced"]:
        gauge, per_item = None, {}
    row = {
        "trained_like": TRAINED_LIKE[args.group]
        + ("; served as the projected embedding" if name == PROJECTED else ""),
        "name": name,
        "objective": f"declared gauge: {args.group}",
        "embedding": "projected" if name == PROJECTED else "decoder",
        "loss": None,
        "gauge_stability": gauge,
        "resample_stability": None,
        "label_agreement": label,
        "not_available": not_available,
        "notes": [],
    }
    row["verdict"] = _verdicts.row_verdict(
        row,
        chance_stability=data["neighbors"]["chance_stability"],
        chance_agreement=(data["label_info"] or {}).get("chance_agreement"),
        resample=False,
    )
    return row, per_item


def _regauged(name, data):
    """``R -> `` the embedding ``name`` of the factors re-split by ``R``:
    ``V R^{-T}``, or the projection of ``U R, V R^{-T}`` (measured, not
    assumed gauge-free)."""
    from .._linalg._gauge import apply_gauge
    from ..preprocessing import project_factors

    U, V = data["U"], data["V"]
    if name == RAW:
        return lambda R: apply_gauge(V, V, R)[1]
    return lambda R: project_factors(*apply_gauge(U, V, R))


def _shown_items(embeddings):
    """Items in display order: by the norm of their row of the projected
    embedding (the norm of their column of scores ``U V^T``) when there is
    one, else of ``V``, largest first."""
    E = embeddings.get(PROJECTED, embeddings[RAW])
    return np.argsort(-np.linalg.norm(E, axis=1), kind="stable")


def _neighbor_tables(embeddings, order, ids, names):
    """The top neighbours of the most strongly scored items under each
    embedding, by id, with their names (``--item-names``)."""
    n_items = order.size
    sample = order[: min(_settings.N_SHOWN_ITEMS, n_items)]
    n_shown = min(_settings.N_SHOWN_NEIGHBORS, n_items - 1)
    tables = {}
    for name, E in embeddings.items():
        tables[name], _ = cosine_neighbors(
            E, n_shown, queries=sample, tie_tolerance=tie_tolerance(E)
        )
    entries = []
    for q, i in enumerate(sample):
        entry = {
            "item": ids[i],
            "neighbors": {n: [ids[j] for j in ind[q]] for n, ind in tables.items()},
        }
        if names is not None:
            entry["item_name"] = names[i]
            entry["neighbor_names"] = {
                n: [names[j] for j in ind[q]] for n, ind in tables.items()
            }
        entries.append(entry)
    return entries


def _intro(args, data, overlap):
    V, U, nb = data["V"], data["U"], data["neighbors"]
    text = (
        f"Item factors: {md_code(args.item_factors, in_table=False)}, "
        f"{V.shape[0]} items x {V.shape[1]} components. Declared gauge "
        f"(--group): {args.group}, the transforms R the training leaves free "
        "(the scores U V^T are the same for every invertible R). "
        f"Top-{nb['effective']} cosine neighbours; "
        f"{_settings.AUDIT_GAUGE_DRAWS} gauge draws"
        + (
            f" (over a random sample of {_settings.AUDIT_MAX_ITEMS} items)"
            if V.shape[0] > _settings.AUDIT_MAX_ITEMS
            else ""
        )
        + f"; two random top-{nb['effective']} sets have Jaccard "
        f"{nb['chance_stability']:.3g}."
    )
    if U is None:
        text += (
            " No user factors (--user-factors): no projected embedding, the "
            "one whose cosines no R moves."
        )
    else:
        text += (
            f" User factors: {md_code(args.user_factors, in_table=False)}, "
            f"{U.shape[0]} users. The projected embedding has the cosines of "
            f"the columns of U V^T; its neighbours overlap those of V by "
            f"Jaccard {overlap:.3f}."
        )
    return text + _labels_and_names_text(data)


def _labels_and_names_text(data):
    """The sentences of the intro about ``--item-labels`` and ``--item-names``."""
    text = ""
    info = data["label_info"]
    if info is not None:
        text += (
            f" Item labels: {md_code(info['path'], in_table=False)} (column "
            f"{md_code(info['label_col'], in_table=False)}): "
            f"{info['n_labeled_items']} of {info['n_items']} items have at least "
            f"one of {info['n_labels']} labels"
        )
        if info["chance_agreement"] is not None:
            text += f"; random neighbours would score {info['chance_agreement']:.3f}"
        if info["n_unknown_item_ids"]:
            text += (
                f"; {info['n_unknown_item_ids']} id(s) of the label file are not "
                "rows of the factors (ignored)"
            )
        text += "."
    names = data["name_info"]
    if names is not None:
        text += (
            f" Names: {names['n_named_items']} of {names['n_items']} items have "
            f"one in {md_code(names['path'], in_table=False)}."
        )
    return text


def _report_settings(args, data):
    return {
        "item_factors": str(args.item_factors),
        "user_factors": None if args.user_factors is None else str(args.user_factors),
        "item_ids": None if args.item_ids is None else str(args.item_ids),
        "id_col": args.id_col,
        "group": args.group,
        "item_labels": None if args.item_labels is None else str(args.item_labels),
        "label_col": None
        if data["label_info"] is None
        else data["label_info"]["label_col"],
        "label_sep": args.label_sep,
        "item_names": None if args.item_names is None else str(args.item_names),
        "name_col": None
        if data["name_info"] is None
        else data["name_info"]["name_col"],
        "name_item_col": None
        if data["name_info"] is None
        else data["name_info"]["item_col"],
        "format": args.format,
        "seed": args.seed,
    }


def _payload(data, overlap):
    V, U = data["V"], data["U"]
    return {
        "neighbors": data["neighbors"],
        "data": {
            "n_items": V.shape[0],
            "n_components": V.shape[1],
            "n_users": None if U is None else U.shape[0],
        },
        "raw_projected_overlap": overlap,
        "labels": data["label_info"],
        "names": data["name_info"],
        "warnings": data["warnings"],
    }


def _items_file(data, per_item, overlap, fmt):
    """``(file name, bytes)`` of the per-item file: the audit's columns
    (:func:`~skcosim.cli._items_file.items_frame`, without support: factors
    carry no counts) and the overlap of the raw and projected neighbours."""
    frame = items_frame(data["ids"], None, per_item, data["names"])
    if overlap is not None:
        frame["raw_projected_overlap"] = overlap
    _, content = items_file(frame, fmt)
    return _settings.AUDIT_FACTORS_FILES[f"items_{fmt}"], content
