"""Worker processes that leave Ctrl-C to their parent."""

import contextlib
import signal
import sys
import threading
from multiprocessing import resource_tracker

from joblib.externals.loky.backend import resource_tracker as loky_tracker

# The notice loky's tracker prints at exit about semaphores of a parent that
# was interrupted before it unregistered them: the tracker unlinks them itself.
_QUIET_TRACKER = "ignore::UserWarning:joblib.externals.loky.backend.resource_tracker"


@contextlib.contextmanager
def sigint_kept_from_workers():
    """Start worker processes (joblib's loky) in the block with SIGINT blocked.

    Ctrl-C in a terminal sends SIGINT to every process of the foreground
    group: a worker still importing its modules printed a traceback of its
    own before the parent's one-line message. A process inherits the signal
    mask of the thread that forks it, across ``exec`` too, and Python's
    start-up leaves it as is, so a worker forked here never receives SIGINT;
    the parent still gets its ``KeyboardInterrupt`` and joblib then ends the
    workers. loky starts its resource tracker the same way.

    The mask is per thread: a helper thread with SIGINT unblocked stays
    alive meanwhile, so that the signal reaches this process at once (its
    handler runs in the main thread) instead of waiting for the block to end.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no process groups
        yield
        return
    # loky starts multiprocessing's resource tracker before each worker, and
    # CPython 3.11's unblocks SIGINT after starting it instead of restoring
    # the mask; once it runs, later calls leave the mask alone.
    resource_tracker.ensure_running()
    _start_quiet_loky_tracker()
    done = threading.Event()
    receiver = threading.Thread(target=done.wait, name="sigint-receiver", daemon=True)
    receiver.start()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        done.set()
        receiver.join()


def _start_quiet_loky_tracker():
    """Start loky's resource tracker (if not running) without its exit notice.

    The tracker is a process of its own, started with this interpreter's
    ``-W`` options, so the filter goes in ``sys.warnoptions`` while it starts.
    """
    sys.warnoptions.append(_QUIET_TRACKER)
    try:
        loky_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(_QUIET_TRACKER)
