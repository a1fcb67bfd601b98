"""The entry point of ``skcosim``: parse, run a command, map errors to exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from ._audit import audit
from ._audit_factors import audit_factors
from ._errors import CommandError
from ._parser import build_parser
from ._reproduce import reproduce
from ._settings import PROG


def _blas_limit(n_threads):
    """Limit BLAS threads (threadpoolctl, a scikit-learn dependency)."""
    if not n_threads:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n_threads, user_api="blas")


COMMANDS = {"reproduce": reproduce, "audit": audit, "audit-factors": audit_factors}

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
