"""The user's log as ``skcosim audit`` sees it, and what the report says of it.

The log is read (:func:`skcosim.datasets.load_interactions`), filtered to a
k-core (:func:`skcosim.datasets.filter_interactions`) and given the labels of
``--item-labels`` (:func:`skcosim.datasets.load_item_labels`). Before any
model is fitted, it is summarised by what decides whether item neighbours can
mean anything: how many users each item has (its support) and how many
candidate neighbours each item has (the effective ``k`` and the chance level
of the stabilities). The report turns these into warnings.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..datasets import filter_interactions, load_interactions, load_item_labels
from ..metrics._labels import random_label_agreement
from ..metrics._overlap import random_jaccard
from ._item_names import read_item_names
from ._verdicts import (
    LOW_SUPPORT,
    LOW_SUPPORT_SHARE,
    MIN_KEPT_SHARE,
    suggest_min_item_count,
)

__all__ = ["LOW_SUPPORT", "LOW_SUPPORT_SHARE"]  # the thresholds live in _verdicts

#: The report warns when random neighbours already reach this Jaccard@k.
HIGH_CHANCE = 0.1

SCORES = (
    "gauge_stability",
    "resample_stability",
    "label_agreement",
    "restart_stability",
)


@dataclass
class AuditData:
    """The audited log and its summary (JSON-ready dictionaries)."""

    X: object
    item_ids: object
    read: dict
    filtered: dict
    n_passes: int
    support: dict
    neighbors: dict
    labels: object = None
    label_info: dict | None = None
    warnings: list = field(default_factory=list)
    #: One name per item (``""``: none) from ``--item-names``, or None.
    names: object = None
    name_info: dict | None = None
    #: Users per item of ``X``.
    popularity: object = None


def sizes(X):
    """Users, items and stored interactions of a matrix."""
    return {"n_users": X.shape[0], "n_items": X.shape[1], "n_nonzero": int(X.nnz)}


ITEMS_NEEDED = "comparing neighbours needs at least 2."
USERS_NEEDED = (
    "resample stability compares models fitted on different users, so it "
    "needs at least 2."
)


def check_enough(args, kind, n_read, n_left):
    """Refuse a log with fewer than 2 ``kind`` (users or items) left: the
    message names the k-core filter when it removed them, not the log."""
    if n_left >= 2:
        return
    why = ITEMS_NEEDED if kind == "item" else USERS_NEEDED
    filtered = args.min_item_count or args.min_user_count
    raise ValueError(
        f"{args.path} has {n_read} distinct {kind}(s)"
        + (
            f", {n_left} left by --min-item-count {args.min_item_count} and "
            f"--min-user-count {args.min_user_count} (lower them)"
            if filtered and n_left < n_read
            else ""
        )
        + f": {why}"
    )


def prepare(args, n_neighbors):
    """Read, filter and label the log of ``args``; check that it can be audited.

    Raises ``ValueError`` (a one-line message naming the file or the flag)
    when too little is left to compare neighbours.
    """
    check_label_flags(args)
    bunch = load_interactions(
        args.path, args.user_col, args.item_col, args.value_col, sep=args.sep
    )
    if bunch.data.nnz == 0:
        raise ValueError(f"{args.path} has no nonzero interaction values.")
    kept = filter_interactions(
        bunch,
        min_item_count=args.min_item_count,
        min_user_count=args.min_user_count,
    )
    X = kept.data
    check_enough(args, "item", bunch.data.shape[1], X.shape[1])
    check_enough(args, "user", bunch.data.shape[0], X.shape[0])
    popularity = np.diff(X.tocsc().indptr)
    data = AuditData(
        X=X,
        item_ids=kept.item_ids,
        read=sizes(bunch.data),
        filtered=sizes(X),
        n_passes=kept.n_passes,
        support=support_of(popularity),
        neighbors=effective_neighbors(X.shape[1], n_neighbors),
        popularity=popularity,
    )
    add_labels_and_warnings(args, data, bunch.item_ids)
    return data


def check_label_flags(args):
    """Refuse an option about ``--item-labels`` or ``--item-names`` without it."""
    for flag, value in _label_flags(args):
        if value is not None and args.item_labels is None:
            raise ValueError(f"{flag} is about --item-labels: give both.")
    for flag, value in _name_flags(args):
        if value is not None and args.item_names is None:
            raise ValueError(f"{flag} is about --item-names: give both.")


def add_labels_and_warnings(args, data, log_item_ids):
    """Give ``data`` the labels of ``--item-labels`` (matched against
    ``log_item_ids``, every item of the log), the names of ``--item-names``
    and the report's warnings."""
    label_warnings = []
    if args.item_labels is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            data.labels, data.label_info = _labels(args, log_item_ids, data.item_ids)
        label_warnings = [str(w.message) for w in caught]
    if args.item_names is not None:
        data.names, data.name_info = read_item_names(
            args.item_names,
            args.item_col if args.name_item_col is None else args.name_item_col,
            args.name_col,
            data.item_ids,
            sep=args.sep,
        )
    data.warnings = audit_warnings(data.support, data.neighbors, args.min_item_count)
    data.warnings += label_warnings


def _name_flags(args):
    """The options about ``--item-names`` and their values."""
    return (("--name-col", args.name_col), ("--name-item-col", args.name_item_col))


def _label_flags(args):
    """The options about ``--item-labels`` and their values."""
    return (
        ("--label-col", args.label_col),
        ("--label-item-col", args.label_item_col),
        ("--label-sep", args.label_sep),
    )


def _labels(args, log_item_ids, kept_item_ids):
    """The label indicator of the audited items and its summary.

    Matched against every item of the log, so that an item removed by the
    filter is not counted as unknown.
    """
    labels = load_item_labels(
        args.item_labels,
        args.item_col if args.label_item_col is None else args.label_item_col,
        args.label_col,
        item_ids=log_item_ids,
        sep=args.sep,
        label_sep=args.label_sep,
    )
    Y = labels.data[log_item_ids.get_indexer(kept_item_ids)]
    n_labeled = int(np.count_nonzero(np.diff(Y.indptr)))
    if n_labeled == 0:
        raise ValueError(
            f"None of the {len(kept_item_ids)} items left by --min-item-count "
            f"{args.min_item_count} and --min-user-count {args.min_user_count} "
            f"has a label in {args.item_labels} ({labels.n_labeled_items} items of "
            "the log have one)."
        )
    label_col = labels.label_names.name
    info = {
        "path": str(args.item_labels),
        "label_col": label_col,
        "label_sep": args.label_sep,
        "n_labels": int(np.count_nonzero(Y.getnnz(axis=0))),
        "n_labeled_items": n_labeled,
        "n_items": len(kept_item_ids),
        "chance_agreement": random_label_agreement(Y),
        "n_unknown_item_ids": len(labels.unknown_item_ids),
        "unknown_item_ids_sample": [str(i) for i in labels.unknown_item_ids[:5]],
    }
    return Y, info


def support_of(counts, threshold=LOW_SUPPORT):
    """How many users each item has (``counts``): median, least, the share
    below ``threshold`` and the ``--min-item-count`` the support curve
    suggests (:func:`skcosim.cli._verdicts.suggest_min_item_count`)."""
    below = int(np.count_nonzero(counts < threshold))
    return {
        "median": float(np.median(counts)),
        "min": int(counts.min()),
        "threshold": threshold,
        "n_items_below": below,
        "share_below": below / counts.size,
        "warn_share": LOW_SUPPORT_SHARE,
        "suggested_min_item_count": suggest_min_item_count(counts),
    }


def effective_neighbors(n_items, n_neighbors):
    """The ``k`` each item really gets and the chance level of Jaccard@k.

    With ``n_items <= k + 1`` every top-k set is all the other items: any two
    models, or a model and random numbers, have the same neighbours, and
    every stability is 1 by construction (``forced``).
    """
    effective = min(n_neighbors, n_items - 1)
    return {
        "requested": n_neighbors,
        "effective": effective,
        "n_candidates": n_items - 1,
        "chance_stability": random_jaccard(n_items, effective),
        "forced": effective == n_items - 1,
    }


def audit_warnings(support, neighbors, min_item_count):
    """The warnings of the report: forced or near-chance stabilities, items
    with too few users."""
    warnings = []
    k, n_other = neighbors["effective"], neighbors["n_candidates"]
    chance = neighbors["chance_stability"]
    if neighbors["forced"]:
        warnings.append(
            f"Only {n_other + 1} items: the top-{k} neighbours of an item "
            f"(top-{neighbors['requested']} asked) are all the {n_other} others "
            "under every model, so gauge and resample stability are 1 and "
            "label agreement is set by the labels alone, whatever the model. "
            "They are not reported (n/a)."
        )
    elif chance >= HIGH_CHANCE:
        warnings.append(
            f"Only {n_other + 1} items: two random top-{k} sets of the "
            f"{n_other} other items have Jaccard {chance:.3f} on average, so "
            "stabilities near that are no better than random neighbours."
        )
    if support["share_below"] >= LOW_SUPPORT_SHARE:
        suggested = support.get("suggested_min_item_count", support["threshold"])
        advice = (
            f"Audit the well-supported items with --min-item-count {suggested}."
            if suggested is not None
            else f"No --min-item-count keeps {MIN_KEPT_SHARE:.0%} of the items: "
            "collect more interactions per item."
        )
        warnings.append(
            f"{support['share_below']:.0%} of the items have fewer than "
            f"{support['threshold']} users (median {support['median']:g}"
            + (f", after --min-item-count {min_item_count}" if min_item_count else "")
            + f"; the audit warns from {LOW_SUPPORT_SHARE:.0%}). The neighbours "
            "of such items are close to chance (items.csv lists each item's "
            f"support and stabilities), and every score is a mean over items. {advice}"
        )
    return warnings


def use_suggestion(data, min_item_count, suggested):
    """Make ``suggested`` (read off the support curve of the stabilities,
    :func:`skcosim.cli._verdicts.suggest_min_item_count`) the
    ``--min-item-count`` of the summary and of the support warning, which
    suggested one from the counts alone before any model was fitted."""
    if suggested is None:
        return
    before = audit_warnings(data.support, data.neighbors, min_item_count)
    data.support = {**data.support, "suggested_min_item_count": suggested}
    after = audit_warnings(data.support, data.neighbors, min_item_count)
    data.warnings = after + data.warnings[len(before) :]


def blank_forced_scores(rows):
    """The rows of the report without the scores that the item count forces."""
    return [{**row, **dict.fromkeys(SCORES), "not_available": {}} for row in rows]
