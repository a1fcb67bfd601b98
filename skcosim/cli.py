"""The ``skcosim`` command line: reproduce the paper, audit your own data.

``skcosim reproduce`` fits, on simulated clustered interactions, Objective 1
under its named splits and a random gauge, Objective 2, the model trained
for cosine (when this installation has it) and the projection of the
paper's second remedy; it writes a Figure-1 style PNG and a report (Markdown
and JSON) and prints the table. ``skcosim audit`` does the same on your own
interaction log (CSV or Parquet) and lists the top neighbours of popular
items under every model side by side.

Run ``skcosim --help`` or ``skcosim COMMAND --help`` for the options.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import sys
import time
from importlib.util import find_spec

import numpy as np

from . import __version__
from . import _audit as audit_data
from . import _report as report

# The public surface is the command itself (``main``, the console script);
# the rest of this module implements its subcommands.
__all__ = ["main"]

PROG = "skcosim"

#: Settings of ``reproduce``: the full run and ``--quick``. ``alpha`` is in
#: units of singular values (Objective 2; Objective 1 gets alpha**2) and
#: scales with sqrt(n_users), as the singular values of the data do.
#: ``max_iter`` bounds the L-BFGS iterations of the cosine-trained model,
#: the one iterative fit (it starts from the Objective 2 solution).
REPRODUCE_SETTINGS = {
    "full": dict(
        n_users=20000,
        n_items=1000,
        n_clusters=5,
        n_components=50,
        alpha=100.0,
        n_draws=5,
        resample_draws=3,
        iterative_resample_draws=1,
        max_iter=50,
    ),
    "quick": dict(
        n_users=4000,
        n_items=400,
        n_clusters=5,
        n_components=20,
        alpha=100.0 * math.sqrt(4000 / 20000),
        n_draws=3,
        resample_draws=2,
        iterative_resample_draws=1,
        max_iter=30,
    ),
}

#: Files written by each command, inside --out.
REPRODUCE_FILES = {"figure": "figure1.png", "md": "report.md", "json": "report.json"}
AUDIT_FILES = {"figure": "similarities.png", "md": "audit.md", "json": "audit.json"}

N_NEIGHBORS = 10
N_SHOWN_ITEMS = 10  # popular items whose neighbours the audit lists
N_SHOWN_NEIGHBORS = 5
MAX_HEATMAP_ITEMS = 300  # the audit's heatmaps show the most popular items
# L-BFGS iterations of the cosine-trained model on small logs: its own default,
# which the preconditioned fit reaches tol within (MovieLens-100k, k = 50).
AUDIT_MAX_ITER = 500
# Epochs of the cosine-trained model when it samples its softmax (large logs):
# each epoch costs about one full pass of O((nnz + n S) k), three fits in all.
AUDIT_MAX_EPOCHS = 4
AUDIT_GAUGE_DRAWS = 5
AUDIT_RESAMPLE_DRAWS = 3  # 1 for the cosine-trained model (iterative, costly)
# Stabilities average over a random sample of this many items on larger catalogues.
AUDIT_MAX_ITEMS = 2000
#: users x items above which the audit says up front that it will be slow.
AUDIT_LARGE_CELLS = 10**7


READING_SIMULATED = """\
On this simulated data the items of one cluster differ only in popularity:
which 10 of its items are an item's nearest neighbours is not set by the data,
so resample stability is low for every model; label agreement tells whether a
model finds the clusters. The Objective 1 rows show the paper's point: one
loss, other neighbours (gauge stability well below 1), and a random gauge can
lose much of the cluster structure. Objective 2, the cosine-trained model and
the projection have gauge-free neighbours."""


class CommandError(Exception):
    """A user error: bad input data, arguments or environment.

    ``main`` prints it on one line, without a traceback, and exits 1. Every
    step that reads what the user gave raises it (``_prepare_log`` turns the
    loader's ``ValueError`` / ``TypeError`` / ``ImportError`` into it); any
    other exception is a bug and keeps its traceback.
    """


# -- argument types -------------------------------------------------------------


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive number, got {text!r}"
        ) from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _alpha(text):
    value = _positive_float(text)
    if not math.isfinite(value * value):  # Objective 1 uses alpha ** 2
        raise argparse.ArgumentTypeError(
            f"expected a positive number whose square is finite (at most "
            f"{math.sqrt(sys.float_info.max):.4g}), got {text!r}"
        )
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**32:  # numpy's RandomState takes 32-bit seeds
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to 4294967295, got {text!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``skcosim`` (all options documented in --help)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Is the cosine similarity of your embeddings about similarity? "
            "Fit linear autoencoders under equally optimal gauges and remedies "
            "(Steck, Ekanadham & Kallus, WWW'24) and report how stable the "
            "item neighbours are."
        ),
        epilog="Run 'skcosim COMMAND --help' for the options of a command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    rep = sub.add_parser(
        "reproduce",
        help="reproduce the paper's Figure 1 and table on simulated data",
        description=(
            "Simulate clustered user-item interactions with power-law item "
            "popularity, fit Objective 1 under the 'identity', 'symmetric' and "
            "'encoder' splits and a random gauge, Objective 2 (weight decay), "
            "the model trained for cosine similarity (when available) and the "
            "projected embedding; write a Figure-1 style PNG ("
            f"{REPRODUCE_FILES['figure']}) and a report ({REPRODUCE_FILES['md']}, "
            f"{REPRODUCE_FILES['json']}) with, per model, the loss, gauge "
            "stability, resample stability and label agreement; print the table."
        ),
    )
    rep.add_argument(
        "--out",
        default="skcosim-out",
        metavar="DIR",
        help="directory for the figure and the report, created if missing "
        "(default: %(default)s)",
    )
    rep.add_argument(
        "--quick",
        action="store_true",
        help=(
            "smaller data ({n_users} users x {n_items} items, k={n_components}) "
            "and fewer random draws: under a minute on 2 cores. Default: "
            "{full_users} users x {full_items} items, k={full_k}.".format(
                **REPRODUCE_SETTINGS["quick"],
                full_users=REPRODUCE_SETTINGS["full"]["n_users"],
                full_items=REPRODUCE_SETTINGS["full"]["n_items"],
                full_k=REPRODUCE_SETTINGS["full"]["n_components"],
            )
        ),
    )
    rep.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the simulated data, the random gauge and the resampling "
        "(default: %(default)s)",
    )
    _add_common_flags(rep)

    aud = sub.add_parser(
        "audit",
        help="run the same comparison on your own interaction log",
        description=(
            "Read an interaction log (one row per interaction: a user id, an "
            "item id and optionally a value), fit the same models as "
            "'reproduce' and write a report with the loss, gauge stability, "
            "resample stability and (with --item-labels) label agreement of "
            "each, heatmaps of the most popular items, "
            f"and the top {N_SHOWN_NEIGHBORS} neighbours of the "
            f"{N_SHOWN_ITEMS} most popular items under every model side by "
            "side. Duplicate (user, item) rows are summed."
        ),
    )
    aud.add_argument(
        "path",
        metavar="PATH",
        help="the log: CSV with a header line (.tsv: tab separated; .gz etc. "
        "decompressed) or Parquet (.parquet/.pq, needs pyarrow)",
    )
    aud.add_argument(
        "--user-col", required=True, metavar="U", help="column of the user ids"
    )
    aud.add_argument(
        "--item-col", required=True, metavar="I", help="column of the item ids"
    )
    aud.add_argument(
        "--value-col",
        default=None,
        metavar="V",
        help="column of the interaction values (ratings, counts); without it "
        "every row counts 1",
    )
    aud.add_argument(
        "--min-item-count",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="keep only items with at least N users and users with at least "
        "--min-user-count items, removing both again until every remaining "
        "one passes (a k-core, as RecBole's item_inter_num_interval). "
        "Default: %(default)s, the log as it is; the report warns, and "
        "suggests a value, when most items have too few users for their "
        "neighbours to mean anything",
    )
    aud.add_argument(
        "--min-user-count",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="keep only users with at least N items (with --min-item-count, "
        "see there; default: %(default)s)",
    )
    aud.add_argument(
        "--item-labels",
        default=None,
        metavar="PATH",
        help="item labels (genres, categories) for the label agreement: a CSV, "
        "TSV or Parquet file with the --item-col column and a label column, "
        "one row per (item, label), several rows for an item with several "
        "labels. A neighbour agrees when it shares a label with the item; "
        "items without labels are left out of the average; ids are compared "
        "as text and ids that are not items of the log are ignored (counted "
        "in the report)",
    )
    aud.add_argument(
        "--label-col",
        default=None,
        metavar="L",
        help="column of the labels in --item-labels (default: its only column "
        "besides --item-col)",
    )
    aud.add_argument(
        "--n-components",
        type=_positive_int,
        default=50,
        metavar="K",
        help="embedding dimension k, cut to the number of users and items "
        "(default: %(default)s)",
    )
    aud.add_argument(
        "--alpha",
        type=_alpha,
        default=None,
        metavar="A",
        help="regularization in units of singular values: Objective 2 uses "
        "alpha=A (cuts components with s_i <= A), Objective 1 alpha=A**2 (the "
        "same cut-off). Default: the median of the top-k singular values of "
        "the data (so that Objective 2 keeps about half of the components), at "
        "most half the largest one",
    )
    aud.add_argument(
        "--out",
        default="skcosim-out",
        metavar="DIR",
        help="directory for the report and heatmaps, created if missing "
        "(default: %(default)s)",
    )
    aud.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the random gauges and the resampling (default: %(default)s)",
    )
    _add_common_flags(aud)
    return parser


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}"
        )
    return value


def _add_common_flags(parser):
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="do not show progress (shown on standard error when it is a "
        "terminal: a tqdm bar when tqdm is installed, else one line per step)",
    )
    parser.add_argument(
        "--blas-threads",
        type=_non_negative_int,
        default=1,
        metavar="N",
        help="threads of the BLAS library (numpy/scipy linear algebra); 0 "
        "keeps the library's default. Default: %(default)s, because the "
        "matrices here are small to medium and idle BLAS threads spin: on a "
        "busy 2-core machine 'reproduce --quick' took 56 s with the default "
        "threads and 5 s with one. skcosim's own thread pools are not limited",
    )


# -- commands ------------------------------------------------------------------------


def _show_progress(args):
    """Progress goes to standard error, and only to a terminal: piped or
    logged output, and error messages, stay free of progress lines."""
    return not args.no_progress and sys.stderr.isatty()


def _has_matplotlib():
    return find_spec("matplotlib") is not None


def _write_outputs(out, names, *, markdown, payload, png):
    files = {
        out / names["md"]: markdown,
        out / names["json"]: report.json_report(payload),
    }
    if png is not None:
        files[out / names["figure"]] = png
    written = report.write_atomic(files)
    if png is None:
        # An earlier run's figure must not pass for this report's.
        (out / names["figure"]).unlink(missing_ok=True)
    return written


def reproduce(args) -> int:
    """``skcosim reproduce``: Figure 1 and the table on simulated data."""
    from .datasets import make_clustered_interactions
    from .plotting import cluster_order

    settings = REPRODUCE_SETTINGS["quick" if args.quick else "full"]
    out = report.check_writable_dir(args.out)
    start = time.perf_counter()
    specs = report.default_models(
        settings["n_components"],
        settings["alpha"],
        random_state=args.seed,
        max_iter=settings["max_iter"],
    )
    draw_png = _has_matplotlib()
    progress = report.Progress(len(specs) + 1 + draw_png, enabled=_show_progress(args))
    try:
        progress.step("simulate interactions")
        data = make_clustered_interactions(
            settings["n_users"],
            settings["n_items"],
            settings["n_clusters"],
            random_state=args.seed,
        )
        X = data.data
        progress.advance()
        results = report.compare_models(
            specs,
            X,
            labels=data.item_labels,
            n_neighbors=N_NEIGHBORS,
            n_draws=settings["n_draws"],
            resample_draws=settings["resample_draws"],
            iterative_resample_draws=settings["iterative_resample_draws"],
            random_state=args.seed,
            progress=progress,
        )
        png = None
        if draw_png:
            progress.step("draw the figure")
            order = cluster_order(data.item_labels, data.item_popularity)
            labels = data.item_labels[order]
            truth = (labels[:, None] == labels[None, :]).astype(float)
            png = report.figure_png(
                report.similarity_panels(results, order, truth), labels=labels
            )
            progress.advance()
    finally:
        # Before any error message: tqdm clears its line (leave=False).
        progress.close()

    rows = report.rows_of(results)
    intro = (
        f"Simulated data (`skcosim.datasets.make_clustered_interactions`, seed "
        f"{args.seed}): {X.shape[0]} users x {X.shape[1]} items in "
        f"{settings['n_clusters']} clusters, {X.nnz} interactions, power-law item "
        f"popularity. Models with k = {settings['n_components']} and alpha = "
        f"{settings['alpha']:.4g} (Objective 1: alpha^2 = "
        f"{settings['alpha'] ** 2:.4g}); top-{N_NEIGHBORS} cosine neighbours of "
        f"the item embeddings; {settings['n_draws']} gauge draws, "
        f"{settings['resample_draws']} resample draws "
        f"({settings['iterative_resample_draws']} for the cosine-trained model, "
        f"fitted with at most {settings['max_iter']} L-BFGS iterations from the "
        "Objective 2 solution)."
    )
    figure = REPRODUCE_FILES["figure"] if png is not None else None
    markdown = report.markdown_report(
        "skcosim reproduce: is cosine similarity about similarity?",
        intro,
        rows,
        N_NEIGHBORS,
        figure=figure,
        extra=READING_SIMULATED,
    )
    payload = {
        "command": "reproduce",
        "skcosim_version": __version__,
        "settings": {**settings, "quick": args.quick, "seed": args.seed},
        "n_neighbors": N_NEIGHBORS,
        "data": {
            "n_users": X.shape[0],
            "n_items": X.shape[1],
            "n_interactions": int(X.nnz),
        },
        "models": [
            {**row, "kind": r.spec.kind} for row, r in zip(rows, results, strict=True)
        ],
        "figure": figure,
    }
    written = _write_outputs(
        out, REPRODUCE_FILES, markdown=markdown, payload=payload, png=png
    )
    _print_summary(rows, written, time.perf_counter() - start, draw_png)
    return 0


def audit(args) -> int:
    """``skcosim audit``: the same report on the user's own log."""
    from ._linalg._spectrum import shared_spectra, top_k_spectrum

    out = report.check_writable_dir(args.out)
    start = time.perf_counter()
    draw_png = _has_matplotlib()
    n_models = len(report.default_models(1, 1.0, random_state=None))
    progress = report.Progress(1 + n_models + draw_png, enabled=_show_progress(args))
    with contextlib.ExitStack() as stack:
        # Closed before any error message: tqdm clears its line (leave=False).
        stack.callback(progress.close)
        stack.enter_context(shared_spectra())
        progress.step(f"read {args.path}")
        data = _prepare_log(args)
        X = data.X
        n_users, n_items = X.shape
        k = min(args.n_components, n_users, n_items)
        alpha = args.alpha
        if alpha is None:
            progress.step(f"top-{k} spectrum (shared by the closed forms)")
            s, _ = top_k_spectrum(X, k, random_state=args.seed)
            # Capped at s_1 / 2: a random half of the users has a top singular
            # value near s_1 / sqrt(2), which must stay above alpha for the
            # resampled models (and the cosine model's Objective 2 start).
            alpha = float(min(np.median(s[s > 0]), s[0] / 2)) if s[0] > 0 else 1.0
        progress.advance()

        specs = report.default_models(
            k, alpha, random_state=args.seed, max_iter=_audit_max_iter(X)
        )
        results = report.compare_models(
            specs,
            X,
            labels=data.labels,
            n_neighbors=data.neighbors["effective"],
            n_draws=AUDIT_GAUGE_DRAWS,
            resample_draws=AUDIT_RESAMPLE_DRAWS,
            iterative_resample_draws=1,
            random_state=args.seed,
            max_items=AUDIT_MAX_ITEMS,
            progress=progress,
        )
        popularity = np.diff(X.tocsc().indptr)  # number of users per item
        by_popularity = np.argsort(-popularity, kind="stable")
        png = None
        if draw_png:
            progress.step("draw the heatmaps")
            shown = by_popularity[:MAX_HEATMAP_ITEMS]
            png = report.figure_png(report.similarity_panels(results, shown))
            progress.advance()

    figure = AUDIT_FILES["figure"] if png is not None else None
    neighbors = _popular_neighbors(results, data.item_ids, popularity, by_popularity)
    rows = report.rows_of(results)
    if data.neighbors["forced"]:
        rows = audit_data.blank_forced_scores(rows)
    markdown = report.markdown_report(
        "skcosim audit",
        _audit_intro(args, data, k, alpha),
        rows,
        data.neighbors["effective"],
        figure=figure,
        extra=_neighbors_markdown(
            neighbors, [r.spec.name for r in results if r.embeddings is not None]
        ),
    )
    payload = _audit_payload(args, data, k, alpha, rows, results)
    payload.update(
        popular_item_neighbors=neighbors,
        figure=figure,
        step_seconds=progress.seconds,
    )
    written = _write_outputs(
        out, AUDIT_FILES, markdown=markdown, payload=payload, png=png
    )
    _print_summary(
        rows, written, time.perf_counter() - start, draw_png, warnings=data.warnings
    )
    return 0


def _samples(X):
    """Whether the audit's cosine model samples its softmax on ``X``."""
    from ._optim._sampled_softmax import use_sampled_softmax

    return use_sampled_softmax(
        *X.shape, report.cosine_autoencoder_class()().n_negatives
    )


def _audit_max_iter(X):
    return AUDIT_MAX_EPOCHS if _samples(X) else AUDIT_MAX_ITER


def _popular_neighbors(results, ids, popularity, by_popularity):
    """The top neighbours of the most popular items under every model, by id."""
    n_items = len(ids)
    sample = by_popularity[: min(N_SHOWN_ITEMS, n_items)]
    n_shown = min(N_SHOWN_NEIGHBORS, n_items - 1)
    table = report.neighbor_table(results, sample, n_shown)
    return [
        {
            "item": ids[i],
            "n_users": int(popularity[i]),
            "neighbors": {
                name: [ids[j] for j in idx] for name, idx in table[int(i)].items()
            },
        }
        for i in sample
    ]


def _audit_intro(args, data, k, alpha):
    """The paragraphs above the table: data, filter, support, models, labels,
    then the warnings."""
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
    text = (
        f"Data: {_md_code(args.path, in_table=False)} (users: "
        f"{_md_code(args.user_col, in_table=False)}, items: "
        f"{_md_code(args.item_col, in_table=False)}, values: "
        f"{_md_code(args.value_col or 'each row counts 1', in_table=False)}; "
        f"duplicate rows summed): {_sizes_text(read)}. {filtered} Item "
        f"support: median {support['median']:g} users per item, "
        f"{support['share_below']:.0%} of the items have fewer than "
        f"{support['threshold']}. Models with k = {k} and alpha = {alpha:.4g} "
        f"(Objective 1: alpha^2 = {alpha**2:.4g}); {effective} cosine "
        "neighbours of the item embeddings (two random top-"
        f"{nb['effective']} sets have Jaccard {nb['chance_stability']:.3g} on "
        f"average: the chance level of the stabilities); {AUDIT_GAUGE_DRAWS} "
        f"gauge draws, {AUDIT_RESAMPLE_DRAWS} resample draws (1 for the "
        f"cosine-trained model, at most {_audit_max_iter(data.X)} "
        f"{'epochs of a sampled softmax' if _samples(data.X) else 'iterations'} "
        "from the Objective 2 solution)"
        + (
            f", each averaged over a random sample of {AUDIT_MAX_ITEMS} items"
            if kept["n_items"] > AUDIT_MAX_ITEMS
            else ""
        )
        + f". {_labels_text(data.label_info)}"
    )
    return "\n\n".join([text, *(f"**Warning.** {w}" for w in data.warnings)])


def _sizes_text(sizes):
    return (
        f"{sizes['n_users']} users x {sizes['n_items']} items, "
        f"{sizes['n_nonzero']} nonzero entries"
    )


def _labels_text(info):
    if info is None:
        return "No item labels (--item-labels), so no label agreement."
    text = (
        f"Item labels: `{info['path']}` (column `{info['label_col']}`): "
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
        sample = ", ".join(f"`{i}`" for i in info["unknown_item_ids_sample"])
        text += (
            f" {info['n_unknown_item_ids']} item id(s) of the label file are not "
            f"items of the log and were ignored (e.g. {sample})."
        )
    return text


def _audit_payload(args, data, k, alpha, rows, results):
    """The JSON report of the audit, without the neighbour lists."""
    return {
        "command": "audit",
        "skcosim_version": __version__,
        "settings": {
            "path": str(args.path),
            "user_col": args.user_col,
            "item_col": args.item_col,
            "value_col": args.value_col,
            "min_item_count": args.min_item_count,
            "min_user_count": args.min_user_count,
            "item_labels": None if args.item_labels is None else str(args.item_labels),
            "label_col": None
            if data.label_info is None
            else data.label_info["label_col"],
            "n_components": k,
            "alpha": alpha,
            "seed": args.seed,
            "stability_items": min(data.filtered["n_items"], AUDIT_MAX_ITEMS),
        },
        "n_neighbors": data.neighbors["effective"],
        "neighbors": data.neighbors,
        "data": {
            **data.filtered,
            "before_filter": data.read,
            "filter_passes": data.n_passes,
            "item_support": data.support,
        },
        "labels": data.label_info,
        "warnings": data.warnings,
        "models": [
            {**row, "kind": r.spec.kind} for row, r in zip(rows, results, strict=True)
        ],
    }


def _prepare_log(args):
    """The log of ``skcosim audit``, read, filtered, labelled and checked:
    whatever is wrong with it is a :class:`CommandError` (the loader's
    messages name the file and line)."""
    from ._linalg._matrix import check_gram_fits

    try:
        data = audit_data.prepare(args, N_NEIGHBORS)
        check_gram_fits(data.X)  # values too large or too small to fit
    except (ValueError, TypeError, ImportError) as exc:
        raise CommandError(str(exc)) from exc
    n_users, n_items = data.X.shape
    if n_users < 2:
        raise CommandError(
            f"{args.path} has {n_users} distinct user(s): resample stability "
            "compares models fitted on different users, so it needs at least 2."
        )
    if n_users * n_items > AUDIT_LARGE_CELLS:
        print(
            f"{PROG} audit: note: {n_users} users x {n_items} items, "
            f"{data.X.nnz} interactions; the audit fits about 40 models on "
            "them and their halves, so it may take several minutes.",
            file=sys.stderr,
        )
    return data


def _md_code(value, *, in_table=True):
    """``value`` as a Markdown code span: line breaks shown as ``\\n``, a
    fence longer than any run of backticks in it, and ``|`` escaped in a
    table cell (GitHub's tables split cells at pipes, even in code)."""
    text = report.id_text(value).replace("\r", "\\r").replace("\n", "\\n")
    if in_table:
        text = text.replace("|", "\\|")
    fence = "`" * (1 + max((len(r) for r in re.findall("`+", text)), default=0))
    if text.startswith(("`", " ")) or text.endswith(("`", " ")):
        text = f" {text} "  # a space on each side is stripped, not part of it
    return f"{fence}{text}{fence}"


def _neighbors_markdown(neighbors, names):
    lines = [
        f"## Top {N_SHOWN_NEIGHBORS} neighbours of the most popular items",
        "",
        "Same item, same data, equally optimal models (Objective 1 rows): do "
        "they agree on its neighbours?",
        "",
    ]
    for entry in neighbors:
        item = _md_code(entry["item"], in_table=False)
        lines += [f"### item {item} ({entry['n_users']} users)", ""]
        lines.append("| rank | " + " | ".join(names) + " |")
        lines.append("|---:|" + "|".join("---" for _ in names) + "|")
        n_rows = max((len(v) for v in entry["neighbors"].values()), default=0)
        for r in range(n_rows):
            cells = [_md_code(entry["neighbors"][name][r]) for name in names]
            lines.append(f"| {r + 1} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _print_summary(rows, written, seconds, drew_png, *, warnings=()):
    print(report.text_table(rows))
    print()
    for warning in warnings:
        print(f"warning: {warning}")
    for path in written:
        print(f"wrote {path}")
    if not drew_png:
        print("no figure: install matplotlib (pip install 'skcosim[plot]')")
    print(f"done in {seconds:.1f} s")


def _blas_limit(n_threads):
    """Limit BLAS threads (threadpoolctl, a scikit-learn dependency)."""
    if not n_threads:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n_threads, user_api="blas")


# -- entry point --------------------------------------------------------------------

COMMANDS = {"reproduce": reproduce, "audit": audit}

#: Errors that mean bad input or environment: one line, no traceback.
#: Not ValueError or TypeError: raised anywhere else, they are bugs.
USER_ERRORS = (CommandError, OSError)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it cleans up as Ctrl-C
    does (no temporary files left)."""


def _on_sigterm(signum, frame):
    raise _Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt():
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout():
    """Point standard output at /dev/null, so that Python's flush at exit does
    not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a file descriptor
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``skcosim`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (without the program name); ``None`` reads
        ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success (also when standard output is closed early), 1 on bad
        input (a one-line message on standard error), 2 on a usage error
        (from argparse), 130 when interrupted (Ctrl-C), 143 on SIGTERM.
        Any other exception is a bug and propagates with its traceback.

    Examples
    --------
    >>> from skcosim.cli import main
    >>> main(["--version"])
    skcosim ...
    0

    From a shell: ``skcosim reproduce --quick --out results`` writes
    ``results/figure1.png``, ``results/report.md`` and
    ``results/report.json``.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code or 0)
    try:
        with _blas_limit(args.blas_threads), _sigterm_as_interrupt():
            return COMMANDS[args.command](args)
    except BrokenPipeError:
        # Standard output was closed (``| head``) after the report was
        # written: nothing is lost, so a quiet success.
        _silence_stdout()
        return 0
    except USER_ERRORS as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        if isinstance(exc, _Terminated):
            print(f"{PROG}: terminated", file=sys.stderr)
            return 128 + signal.SIGTERM
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
