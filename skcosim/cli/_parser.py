"""The argument parser of ``skcosim``: a declarative table of the options.

Each option's type checks its value (``argparse`` turns a bad one into a usage
error, exit status 2); the commands read the parsed namespace only.
"""

import argparse
import math
import sys

from .. import __version__
from ._audit_dask import add_dask_flags
from ._settings import (
    AUDIT_FACTORS_FILES,
    N_SHOWN_ITEMS,
    N_SHOWN_NEIGHBORS,
    PROG,
    REPRODUCE_FILES,
    REPRODUCE_SETTINGS,
)
from ._verdicts import LOW_SUPPORT, LOW_SUPPORT_SHARE

#: The groups of ``audit-factors --group`` (:func:`skcosim.metrics.sample_gauge`).
GAUGE_GROUP_CHOICES = ("invertible", "diagonal", "orthogonal")

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


def _unescape(text):
    """``\\t`` (as typed in a shell without ``$'...'``) is a tab."""
    return "\t" if text == "\\t" else text


def _separator(text):
    sep = _unescape(text)
    if len(sep) != 1 or sep in ("\n", "\r", '"'):
        raise argparse.ArgumentTypeError(
            "expected one character other than a line break or a quote (e.g. "
            f"',', ';', '\\t'), got {text!r}"
        )
    return sep


def _label_separator(text):
    sep = _unescape(text)
    if not sep or "\n" in sep or "\r" in sep:
        raise argparse.ArgumentTypeError(
            f"expected a non-empty separator without line breaks (e.g. ' ', "
            f"'|'), got {text!r}"
        )
    return sep


def _out_dir(text):
    # An unset shell variable gives "": the current directory is never meant.
    if not text:
        raise argparse.ArgumentTypeError(
            "expected a directory, got an empty string (an unset variable?)"
        )
    return text


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
            "the model trained for cosine similarity and the "
            "projected embedding; write a Figure-1 style PNG ("
            f"{REPRODUCE_FILES['figure']}) and a report ({REPRODUCE_FILES['md']}, "
            f"{REPRODUCE_FILES['json']}) with, per model, the loss, gauge "
            "stability, resample stability and label agreement; print the table."
        ),
    )
    rep.add_argument(
        "--out",
        type=_out_dir,
        default="skcosim-out",
        metavar="DIR",
        help="directory for the figure and the report, created if missing and "
        "replaced as a whole (default: %(default)s)",
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
            "'reproduce' and write a report with the gauge stability, "
            "resample stability and (with --item-labels) label agreement of "
            "each, which models are trained like it, a verdict and a next "
            "step, heatmaps of the most popular items, "
            f"the top {N_SHOWN_NEIGHBORS} neighbours of the "
            f"{N_SHOWN_ITEMS} most popular items under every model side by "
            "side (with --item-names, by name), and items.csv: each item's "
            "support and stabilities. Duplicate (user, item) rows are summed."
        ),
    )
    aud.add_argument(
        "path",
        metavar="PATH",
        help="the log: CSV or TSV with a header line (RecBole's .inter files "
        "as they are; .gz etc. decompressed) or Parquet (.parquet/.pq, needs "
        "pyarrow)",
    )
    aud.add_argument(
        "--sep",
        type=_separator,
        default=None,
        metavar="C",
        help="field separator of the log and of --item-labels, one character "
        "('\\t' is a tab). Default: from the header line (tabs and no commas: "
        "tab separated; commas and no tabs: comma separated; otherwise by the "
        "name: .tsv is tab separated), so that a TSV through a pipe works",
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
        f"suggests a value, when {LOW_SUPPORT_SHARE * 100:.0f}%% or more of the "
        f"items have fewer than {LOW_SUPPORT} users (their neighbours are near "
        "chance)",
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
        "TSV or Parquet file (RecBole's .item files as they are) with an item "
        "id column (--label-item-col) and a label column (--label-col): one "
        "row per (item, label), or one row per item with its labels in one "
        "cell (--label-sep). A neighbour agrees when it shares a label with "
        "the item; items without labels are left out of the average; ids are "
        "compared as text and ids that are not items of the log are ignored "
        "(counted in the report)",
    )
    aud.add_argument(
        "--label-item-col",
        default=None,
        metavar="I",
        help="column of the item ids in --item-labels (default: --item-col)",
    )
    aud.add_argument(
        "--label-col",
        default=None,
        metavar="L",
        help="column of the labels in --item-labels (default: its only column "
        "besides --label-item-col)",
    )
    aud.add_argument(
        "--label-sep",
        type=_label_separator,
        default=None,
        metavar="S",
        help="separator of several labels in one cell of --label-col, e.g. "
        "' ' for RecBole's token_seq genres 'Action Adventure Thriller' (' ' "
        "splits at runs of whitespace; '\\t' is a tab; empty pieces are "
        "dropped). Default: a cell is one label (the audit warns when most "
        "labels hold whitespace, '|', ';' or ',')",
    )
    add_name_flags(aud)
    add_format_flag(aud)
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
        type=_out_dir,
        default="skcosim-out",
        metavar="DIR",
        help="directory for the report and heatmaps, created if missing and "
        "replaced as a whole (default: %(default)s)",
    )
    aud.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the random gauges and the resampling (default: %(default)s)",
    )
    add_dask_flags(aud)
    _add_common_flags(aud)
    _add_audit_factors(sub)
    return parser


def add_name_flags(parser, default_id="--item-col"):
    """``--item-names``, ``--name-col``, ``--name-item-col`` (audit commands;
    ``default_id`` says where the names' id column defaults to)."""
    parser.add_argument(
        "--item-names",
        default=None,
        metavar="PATH",
        help="item names (titles) shown next to the ids in the neighbour tables "
        "and in the per-item file: any file the log may be (CSV, TSV, RecBole's "
        ".item as it is, Parquet) with an item id column (--name-item-col) and "
        "a name column (--name-col); one row per item (an id twice is an "
        "error), ids compared as text; items without a name show as empty and "
        "are counted in the report",
    )
    parser.add_argument(
        "--name-col",
        default=None,
        metavar="N",
        help="column of the names in --item-names, e.g. movie_title:token_seq "
        "(default: its only column besides --name-item-col)",
    )
    parser.add_argument(
        "--name-item-col",
        default=None,
        metavar="I",
        help=f"column of the item ids in --item-names (default: {default_id})",
    )


def add_format_flag(parser):
    """``--format`` of the per-item file (audit commands)."""
    parser.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="format of the per-item file: items.csv, or items.parquet (needs "
        "pyarrow: pip install 'skcosim[parquet]'). One row per item: id, name, "
        "support and each model's gauge stability, resample stability (for "
        "the items they were sampled over) and label agreement (default: "
        "%(default)s)",
    )


def _add_audit_factors(sub):
    """The parser of ``skcosim audit-factors``."""
    fac = sub.add_parser(
        "audit-factors",
        help="audit the item factors of a model you trained (ALS, SVD, ...)",
        description=(
            "Read the item factors V (and optionally the user factors U) of a "
            "model that scores users and items by U V^T, and report how much "
            "the transforms R its training leaves free (--group) move each "
            "item's cosine neighbours (gauge stability), the projected "
            "embedding no R moves (with --user-factors) and its neighbour "
            "overlap with V, the label agreement of both (with "
            "--item-labels), the neighbours of the most strongly scored "
            "items, a verdict per embedding and one row per item in "
            f"{AUDIT_FACTORS_FILES['items_csv']}."
        ),
    )
    fac.add_argument(
        "--item-factors",
        required=True,
        metavar="PATH",
        help="the item factors, one row per item: a .npy array (ids from "
        "--item-ids, else the row numbers) or a CSV, TSV or Parquet file with "
        "an id column (--id-col) and one column per component",
    )
    fac.add_argument(
        "--user-factors",
        default=None,
        metavar="PATH",
        help="the user factors, one row per user, in the same formats (ids are "
        "not used); gives the projected embedding, whose cosines are those of "
        "the columns of U V^T",
    )
    fac.add_argument(
        "--group",
        choices=GAUGE_GROUP_CHOICES,
        default="invertible",
        help="the transforms R your training leaves free: 'invertible' for no "
        "regularization on the factors or a penalty on U V^T only (SVD, "
        "unregularized MF, dropout), 'diagonal' for non-negative factors "
        "without penalty (NMF), 'orthogonal' for weight decay on both factors "
        "(ALS, L2-regularized MF). Default: %(default)s (the scores U V^T "
        "alone fix no more than that)",
    )
    _add_factor_ids(fac)
    _add_factor_labels(fac)
    fac.add_argument(
        "--out",
        type=_out_dir,
        default="skcosim-out",
        metavar="DIR",
        help="directory for the report, created if missing; audit-factors' "
        "files replace only its own earlier ones (default: %(default)s)",
    )
    fac.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="N",
        help="seed of the random gauge draws (default: %(default)s)",
    )
    _add_common_flags(fac)


def _add_factor_ids(fac):
    """The options of ``audit-factors`` about ids and separators."""
    fac.add_argument(
        "--item-ids",
        default=None,
        metavar="PATH",
        help="ids of the rows of a .npy --item-factors: a text file, one id "
        "per line, in row order",
    )
    fac.add_argument(
        "--id-col",
        default=None,
        metavar="C",
        help="the id column of CSV/TSV/Parquet factor files (default: their "
        "first column; a user factor file without this column uses its first)",
    )
    fac.add_argument(
        "--sep",
        type=_separator,
        default=None,
        metavar="C",
        help="field separator of the CSV/TSV files (default: from the header "
        "line, as for 'audit')",
    )


def _add_factor_labels(fac):
    """The label and name options of ``audit-factors``."""
    fac.add_argument(
        "--item-labels",
        default=None,
        metavar="PATH",
        help="item labels for the label agreement, as for 'audit' (RecBole's "
        ".item files as they are)",
    )
    fac.add_argument(
        "--label-item-col",
        default=None,
        metavar="I",
        help="the item id column of --item-labels (default: the id column of "
        "the factor file; required with .npy factors)",
    )
    fac.add_argument(
        "--label-col",
        default=None,
        metavar="L",
        help="the label column of --item-labels (default: its only column "
        "besides the id column)",
    )
    fac.add_argument(
        "--label-sep",
        type=_label_separator,
        default=None,
        metavar="S",
        help="separator of several labels in one cell, e.g. ' ' for RecBole's "
        "token_seq genres (default: a cell is one label)",
    )
    add_name_flags(fac, default_id="the id column of the factor file")
    fac.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help=f"format of the per-item file: {AUDIT_FACTORS_FILES['items_csv']}, "
        f"or {AUDIT_FACTORS_FILES['items_parquet']} (needs pyarrow). One row per "
        "item: id, name, each embedding's gauge stability and label agreement, "
        "and the overlap of its raw and projected neighbours (default: "
        "%(default)s)",
    )


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
        "matrices here are small to medium and idle BLAS threads spin, which "
        "slows a busy machine down. "
        "skcosim's own thread pools are not limited",
    )
