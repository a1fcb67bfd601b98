"""What an audit's numbers mean and what to do about them.

The thresholds of the verdicts, in one place, the plain words that say which
models a row stands for, and the verdict of each row and of the whole audit.
Every function takes plain numbers or a row of the report (a dict with the
keys ``gauge_stability``, ``resample_stability``, ``label_agreement``,
``objective``, ``embedding``, ``not_available``), never the command line's
arguments, so that ``skcosim audit``, ``skcosim audit-factors`` and scripts
reading ``audit.json`` reach the same verdict from the same numbers. The
user guide's "What to do with your audit" explains each threshold.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

# -- thresholds -------------------------------------------------------------------

#: Gauge stability below this: most of an item's top-k neighbours change
#: under an equally optimal re-split of the same fit (Jaccard 0.5 is 6-7 of
#: 10 neighbours shared), so the neighbours are an accident of the split.
GAUGE_ACCIDENT = 0.5
#: Gauge stability below this (and at least :data:`GAUGE_ACCIDENT`): some
#: neighbours still depend on the split.
GAUGE_SOLID = 0.9
#: A resample stability less than this share of the way from its chance
#: level (two random top-k sets) to 1 is "near chance": the halves of the
#: users agree on an item's neighbours hardly more than random sets do.
NEAR_CHANCE_MARGIN = 0.05
#: Resample stability below this (above near chance): fewer than a third
#: of an item's top-k neighbours survive new users (Jaccard 0.2 of two
#: top-10 sets is 3-4 shared).
RESAMPLE_WEAK = 0.2
#: Label agreement below this multiple of its chance level (random
#: neighbours): the neighbours find items with a shared label hardly more
#: often than random items do.
LABEL_LIFT = 1.5
#: Items with fewer users than this have neighbours close to chance: on
#: MovieLens-100k (Objective 2, k = 50, random halves of the users) the
#: resample Jaccard@10 of items with 2-9 users is 0.01-0.02 (chance 0.003),
#: with 10-19 users 0.035, with 100 or more users 0.28.
LOW_SUPPORT = 10
#: The audit warns when at least this share of the items has fewer than
#: :data:`LOW_SUPPORT` users: every score is a mean over items, and a
#: quarter of them at noise level pulls it down visibly (MovieLens-100k:
#: 32 %).
LOW_SUPPORT_SHARE = 0.25
#: Values of ``--min-item-count`` a verdict may suggest, smallest first.
MIN_ITEM_COUNT_STEPS = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
#: A suggested ``--min-item-count`` keeps at least this share of the items.
MIN_KEPT_SHARE = 0.2

# -- plain words ------------------------------------------------------------------

#: The three objectives of the paper, in the words of the models trained
#: like them.
FAMILIES = {
    "product_penalty": {
        "paper": "Objective 1",
        "words": (
            "input dropout, a penalty on the product, unregularized matrix "
            "factorization or SVD"
        ),
    },
    "weight_decay": {
        "paper": "Objective 2",
        "words": "weight decay on both factors (ALS, L2 matrix factorization)",
    },
    "cosine_softmax": {
        "paper": "Objective 3",
        "words": "softmax retrieval models trained on cosines",
    },
}

_FAMILY_OF_NUMBER = {"1": "product_penalty", "2": "weight_decay", "3": "cosine_softmax"}


def family_of(objective):
    """The key of :data:`FAMILIES` of a row's ``objective`` ("Objective 2
    (weight decay)" -> ``"weight_decay"``), or None."""
    match = re.match(r"Objective (\d)", objective or "")
    return _FAMILY_OF_NUMBER.get(match.group(1)) if match else None


def trained_like(row):
    """Which models a row stands for, in plain words, and which of their
    embeddings it scores (the raw factor or the projected embedding)."""
    family = family_of(row.get("objective"))
    if family is None:
        return row.get("name", "")
    words = FAMILIES[family]["words"]
    if family == "product_penalty":
        embedding = row.get("embedding")
        if embedding == "projected":
            return f"{words}; served as the projected embedding"
        if embedding is not None:
            return f"{words}; the raw item factor"
    return words


# -- the verdicts -----------------------------------------------------------------

LEVELS = ("ok", "caution", "not_available", "act")


def near_chance(value, chance):
    """Whether a stability is within :data:`NEAR_CHANCE_MARGIN` of the way
    from its chance level to 1."""
    return value < chance + NEAR_CHANCE_MARGIN * (1.0 - chance)


def suggest_min_item_count(support, per_item_resample=None, chance=0.0):
    """A ``--min-item-count`` read off the support curve.

    ``support`` holds each item's number of users. With the per-item
    resample stabilities (NaN where not sampled), the steps of
    :data:`MIN_ITEM_COUNT_STEPS` cut the items into bins of support
    (``[2, 3)``, ``[3, 5)``, ..., the last one open); the suggestion is the
    smallest step whose bin's mean resample stability is no longer near
    chance (:func:`near_chance`): the items below it have neighbours that
    two halves of the users agree on hardly more than random sets. Without
    them, :data:`LOW_SUPPORT`. Either way the suggestion keeps at least
    :data:`MIN_KEPT_SHARE` of the items (the largest step that does, if the
    curve never gets there), and is None when no step above the current
    least support does.
    """
    support = np.asarray(support)
    least = int(support.min()) if support.size else 0
    keeps = [
        n
        for n in MIN_ITEM_COUNT_STEPS
        if n > least and np.mean(support >= n) >= MIN_KEPT_SHARE
    ]
    if not keeps:
        return None
    if per_item_resample is None:
        return min(max(keeps[0], LOW_SUPPORT), keeps[-1])
    values = np.asarray(per_item_resample, dtype=np.float64)
    measured = ~np.isnan(values)
    bounds = [*keeps, math.inf]
    for n, upper in itertools.pairwise(bounds):
        in_bin = measured & (support >= n) & (support < upper)
        if in_bin.any() and not near_chance(float(values[in_bin].mean()), chance):
            return n
    return keeps[-1]


def _finding(code, level, short, text, next_step):
    return {
        "code": code,
        "level": level,
        "short": short,
        "text": text,
        "next_step": next_step,
    }


def _filter_step(min_item_count):
    if min_item_count is None:
        return "collect more interactions per item"
    return f"filter with --min-item-count {min_item_count}"


def _not_measured(row, key, what):
    reason = row.get("not_available", {}).get(key)
    if reason:
        return _finding(
            f"{key}_not_available",
            "not_available",
            "n/a",
            f"{what} is not available ({reason}): every cosine is +1, -1 or 0, "
            "so the neighbours are a tie-break by item index",
            "lower --alpha (fewer components cut)",
        )
    return _finding(
        f"{key}_not_measured",
        "not_available",
        "n/a",
        f"{what} was not measured (see the notes and warnings)",
        "see the notes and warnings of the report",
    )


def gauge_findings(value, row=None):
    """What a gauge stability says (``None``: not measured or not available)."""
    if value is None:
        return [_not_measured(row or {}, "gauge_stability", "gauge stability")]
    step = "serve the projected embedding or train with weight decay"
    if value < GAUGE_ACCIDENT:
        return [
            _finding(
                "gauge_accident",
                "act",
                "accident of the split",
                f"gauge stability {value:.3f} < {GAUGE_ACCIDENT}: neighbours of "
                "models trained like this are an accident of the split",
                step,
            )
        ]
    if value < GAUGE_SOLID:
        return [
            _finding(
                "gauge_sensitive",
                "caution",
                "split-sensitive",
                f"gauge stability {value:.3f} < {GAUGE_SOLID}: some neighbours "
                "change under an equally good re-split of the same fit",
                step,
            )
        ]
    return []


def resample_findings(value, chance, min_item_count=None, row=None):
    """What a resample stability says, given its chance level and the
    ``--min-item-count`` to suggest (:func:`suggest_min_item_count`)."""
    if value is None:
        return [_not_measured(row or {}, "resample_stability", "resample stability")]
    if near_chance(value, chance):
        return [
            _finding(
                "resample_near_chance",
                "act",
                "near chance",
                f"resample stability {value:.3f} is near its chance level "
                f"{chance:.3g}: too little data per item, two halves of the "
                "users agree on the neighbours hardly more than random sets",
                _filter_step(min_item_count),
            )
        ]
    if value < RESAMPLE_WEAK:
        return [
            _finding(
                "resample_weak",
                "caution",
                "changes with the data",
                f"resample stability {value:.3f} < {RESAMPLE_WEAK}: most of an "
                "item's neighbours change with new users",
                f"{_filter_step(min_item_count)}, or regularize more (a larger "
                "--alpha)",
            )
        ]
    return []


def label_findings(value, chance):
    """What a label agreement says against its chance level (either None:
    nothing)."""
    if value is None or chance is None or not math.isfinite(chance):
        return []
    if value < LABEL_LIFT * chance:
        return [
            _finding(
                "labels_near_chance",
                "caution",
                "labels ~ chance",
                f"label agreement {value:.3f} < {LABEL_LIFT} x its chance level "
                f"{chance:.3f}: the neighbours share a label hardly more often "
                "than random items",
                "check that the labels are what the neighbours should share",
            )
        ]
    return []


def row_verdict(
    row,
    *,
    chance_stability,
    chance_agreement=None,
    min_item_count=None,
    resample=True,
):
    """The verdict of one row: ``{"level", "short", "text", "next_step",
    "findings"}``; ``level`` is the most severe of :data:`LEVELS` among the
    findings (``"ok"`` without any). ``resample=False``: the row has no
    resample stability to judge (``audit-factors``: no training data)."""
    findings = [
        *gauge_findings(row.get("gauge_stability"), row),
        *(
            resample_findings(
                row.get("resample_stability"), chance_stability, min_item_count, row
            )
            if resample
            else []
        ),
        *label_findings(row.get("label_agreement"), chance_agreement),
    ]
    if not findings:
        return {
            "level": "ok",
            "short": "stable",
            "text": "neighbours survive an equally good re-split"
            + (" and new users" if resample else ""),
            "next_step": "none needed",
            "findings": [],
        }
    findings.sort(key=lambda f: -LEVELS.index(f["level"]))
    steps = list(dict.fromkeys(f["next_step"] for f in findings))
    return {
        "level": findings[0]["level"],
        "short": findings[0]["short"],
        "text": "; ".join(f["text"] for f in findings),
        "next_step": "; ".join(steps),
        "findings": findings,
    }


def summary_verdict(rows):
    """The verdict of the whole audit from its rows (each with its
    ``verdict``): the most severe level, the rows to trust, and the next
    steps of the rows that need one."""
    if not rows:
        return {"level": "not_available", "text": "no model", "next_steps": []}
    level = max((r["verdict"]["level"] for r in rows), key=LEVELS.index)
    counts = {lv: sum(r["verdict"]["level"] == lv for r in rows) for lv in LEVELS}
    trusted = [
        r
        for r in rows
        if r.get("gauge_stability") is not None
        and r["gauge_stability"] >= GAUGE_SOLID
        and r.get("resample_stability") is not None
    ]
    best = max(trusted, key=lambda r: r["resample_stability"], default=None)
    text = f"Of {len(rows)} models: " + ", ".join(
        f"{n} {lv.replace('_', ' ')}" for lv, n in reversed(counts.items()) if n
    )
    if best is not None:
        text += (
            f". Most stable neighbours: {best['name']} ({trained_like(best)}; "
            f"gauge stability {best['gauge_stability']:.3f}, resample stability "
            f"{best['resample_stability']:.3f})"
        )
    steps = [
        f["next_step"]
        for r in rows
        for f in r["verdict"]["findings"]
        if f["level"] == "act"
    ]
    return {
        "level": level,
        "text": text + ".",
        "next_steps": list(dict.fromkeys(steps)),
        "best_model": None if best is None else best["name"],
    }


def judge_rows(rows, *, chance_stability, chance_agreement=None, min_item_count=None):
    """``rows`` with their ``trained_like`` words and ``verdict``
    (:func:`row_verdict`), and the :func:`summary_verdict` of them all."""
    judged = [
        {
            **row,
            "trained_like": trained_like(row),
            "verdict": row_verdict(
                row,
                chance_stability=chance_stability,
                chance_agreement=chance_agreement,
                min_item_count=min_item_count,
            ),
        }
        for row in rows
    ]
    return judged, summary_verdict(judged)
