"""``skcosim audit --dask``: the audit of a log that one process cannot hold.

The log is read by :func:`skcosim.datasets._dask_load.read_interactions_dask`
(a Parquet dataset, a glob of files, one file) into a row-chunked sparse
dask array, filtered to its k-core on the blocks, and every model of the
audit is fitted on that array (the estimators sum over its blocks); the
embeddings, neighbours and report are in memory as without ``--dask``
(items x k is small). The work runs on the cluster of ``--dask ADDRESS``,
or on a :class:`distributed.LocalCluster` started here.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from dataclasses import dataclass

import numpy as np

from . import _audit_log
from ._errors import CommandError
from ._settings import PROG

#: ``--dask`` without an address: start a LocalCluster.
LOCAL = "local"


def add_dask_flags(parser):
    """The options of ``skcosim audit`` about Dask."""
    parser.add_argument(
        "--dask",
        nargs="?",
        const=LOCAL,
        default=None,
        metavar="ADDRESS",
        help="run the audit on Dask (needs dask[distributed]), for logs larger "
        "than memory: PATH may then also be a Parquet dataset directory or a "
        "glob of CSV or Parquet files ('logs/*.parquet'). With ADDRESS "
        "(tcp://host:8786) on that scheduler's cluster; without, on a "
        "LocalCluster started for the audit (its dashboard address is printed)",
    )
    parser.add_argument(
        "--dask-workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="worker processes of the LocalCluster of --dask (default: sized "
        "to the machine's cores)",
    )
    parser.add_argument(
        "--dask-memory-limit",
        type=_memory_limit,
        default=None,
        metavar="SIZE",
        help="memory limit of each LocalCluster worker, e.g. 3GB (default: the "
        "machine's memory shared among the workers)",
    )


def _positive_int(text):
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _memory_limit(text):
    try:
        from dask.utils import parse_bytes

        value = parse_bytes(text)
    except ImportError:
        return text  # refused with the other --dask errors, naming the package
    except (ValueError, TypeError):
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a memory size such as 3GB or 500MB, got {text!r}"
        )
    return text


def check_flags(args):
    """Refuse the Dask options without ``--dask``, and ``--dask`` without
    the packages (a ValueError/ImportError: a one-line error of the CLI)."""
    workers = getattr(args, "dask_workers", None)
    memory = getattr(args, "dask_memory_limit", None)
    if getattr(args, "dask", None) is None:
        for flag, value in (
            ("--dask-workers", workers),
            ("--dask-memory-limit", memory),
        ):
            if value is not None:
                raise ValueError(f"{flag} is about --dask: give both.")
        return
    if args.dask != LOCAL and (workers or memory):
        raise ValueError(
            "--dask-workers and --dask-memory-limit size the LocalCluster that "
            "--dask starts without an ADDRESS; a running cluster keeps its own."
        )
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"--dask needs dask[dataframe] and distributed ({exc}): "
            "pip install 'dask[dataframe,distributed]'."
        ) from exc


@dataclass
class ClusterInfo:
    """The cluster an audit ran on, as the report states it."""

    scheduler: str
    local: bool
    n_workers: int
    threads: int
    memory_limit: int
    dashboard: str | None

    def text(self):
        kind = "a LocalCluster started for the audit" if self.local else "the cluster"
        memory = f"{self.memory_limit / 2**30:.3g} GiB" if self.memory_limit else "no"
        return (
            f"Run on Dask: {kind} at {self.scheduler}, {self.n_workers} "
            f"worker(s), {self.threads} thread(s) in all, {memory} memory "
            "limit per worker."
        )

    def settings(self):
        return {
            "scheduler": self.scheduler,
            "local_cluster": self.local,
            "n_workers": self.n_workers,
            "threads": self.threads,
            "memory_limit_bytes": self.memory_limit,
        }


def _local_cluster(args):
    from distributed import LocalCluster

    n_workers = args.dask_workers
    cores = os.cpu_count() or 1
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=None if n_workers is None else max(1, cores // n_workers),
        memory_limit=args.dask_memory_limit or "auto",
        processes=True,
        host="127.0.0.1",
        # On this machine only, as the scheduler (ssh -L to reach it).
        dashboard_address="127.0.0.1:0",
        # The p2p shuffle logs each sort at level WARNING.
        silence_logs=logging.ERROR,
    )


def _describe(client, local):
    info = client.scheduler_info()
    workers = info.get("workers", {}).values()
    limits = [w.get("memory_limit") or 0 for w in workers]
    dashboard = None
    with contextlib.suppress(Exception):  # no bokeh: no dashboard
        dashboard = client.dashboard_link
    return ClusterInfo(
        scheduler=client.scheduler.address,
        local=local,
        n_workers=len(limits),
        threads=int(sum(w.get("nthreads", 0) for w in workers)),
        memory_limit=int(min(limits)) if limits else 0,
        dashboard=dashboard,
    )


def _progress_bar_class():
    from distributed.diagnostics.progressbar import TextProgressBar

    class StepBar(TextProgressBar):
        """Dask's progress of one computation (its tasks and their
        dependencies, as the scheduler counts them), handed to ``show``."""

        def __init__(self, keys, show):
            self._show = show
            super().__init__(keys, interval="0.5s")

        def _draw_bar(self, remaining, all, **kwargs):
            self._show(all - remaining, all)

        def _draw_stop(self, **kwargs):
            pass

    return StepBar


def _get_with_progress(client, progress):
    """A Dask scheduler function: ``client``'s, with each computation's
    progress shown after the step of ``progress`` (a tqdm bar's postfix)."""
    import threading

    from distributed import futures_of

    bar_class = _progress_bar_class()
    latest = [0]  # the computation being shown: earlier ones may report late

    def shower(number):
        def show(done, total):
            if number == latest[0]:
                text = f"Dask: {done}/{total} tasks"
                progress.bar.set_postfix_str(text, refresh=True)

        return show

    def get(dsk, keys, **kwargs):
        futures = client.get(dsk, keys, sync=False, **kwargs)
        flat = futures_of(futures)
        if flat:
            latest[0] += 1
            show = shower(latest[0])
            threading.Thread(target=bar_class, args=(flat, show), daemon=True).start()
        return client.gather(futures)

    return get


@contextlib.contextmanager
def session(args, progress=None):
    """The Dask client of ``--dask`` (None without it), closed at the end;
    yields its :class:`ClusterInfo`. With a tqdm bar in ``progress``, each
    Dask computation shows its progress there."""
    try:
        check_flags(args)
    except (ValueError, ImportError) as exc:
        raise CommandError(str(exc)) from exc
    if getattr(args, "dask", None) is None:
        yield None
        return
    from distributed import Client

    with contextlib.ExitStack() as stack:
        if args.dask == LOCAL:
            cluster = stack.enter_context(_local_cluster(args))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(args.dask))
            except OSError as exc:
                raise CommandError(
                    f"--dask {args.dask}: cannot reach the scheduler ({exc})."
                ) from exc
        info = _describe(client, args.dask == LOCAL)
        if info.local:
            print(
                f"{PROG} audit: Dask LocalCluster of {info.n_workers} workers; "
                f"dashboard: {info.dashboard or 'not available (install bokeh)'}",
                file=sys.stderr,
            )
        if progress is not None and progress.bar is not None:
            import dask

            get = _get_with_progress(client, progress)
            stack.enter_context(dask.config.set(scheduler=get))
        yield info


def prepare(args, n_neighbors):
    """The Dask counterpart of :func:`skcosim.cli._audit_log.prepare`: the same
    :class:`~skcosim.cli._audit_log.AuditData` with ``X`` a dask array."""
    from ..datasets._dask_load import (
        filter_interactions_dask,
        read_interactions_dask,
    )

    _audit_log.check_label_flags(args)
    bunch = read_interactions_dask(
        args.path, args.user_col, args.item_col, args.value_col, sep=args.sep
    )
    if bunch.n_nonzero == 0:
        raise ValueError(f"{args.path} has no nonzero interaction values.")
    kept = filter_interactions_dask(
        bunch.data,
        bunch.item_ids,
        min_item_count=args.min_item_count,
        min_user_count=args.min_user_count,
    )
    X = kept.data
    n_read = bunch.data.shape
    _audit_log.check_enough(args, "item", n_read[1], X.shape[1])
    _audit_log.check_enough(args, "user", n_read[0], X.shape[0])
    data = _audit_log.AuditData(
        X=X,
        item_ids=kept.item_ids,
        read=_sizes(bunch.data, bunch.n_nonzero),
        filtered=_sizes(X, kept.n_nonzero),
        n_passes=kept.n_passes,
        support=_audit_log.support_of(kept.item_counts),
        neighbors=_audit_log.effective_neighbors(X.shape[1], n_neighbors),
        popularity=np.asarray(kept.item_counts),
    )
    _audit_log.add_labels_and_warnings(args, data, bunch.item_ids)
    return data


def _sizes(X, nnz):
    return {"n_users": X.shape[0], "n_items": X.shape[1], "n_nonzero": int(nnz)}
