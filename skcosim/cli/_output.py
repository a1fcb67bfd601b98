"""The output directory: the report's files replaced as one set, under a lock.

The promise: at every instant the directory named by ``--out`` holds one
complete report, the previous one or the new one, never files of both (for
an instant during the swap it may not exist at all). The new files are
written into a fresh sibling directory, which replaces ``--out`` by two
renames (the old directory aside, the new one in) once every file is on
disk; the old directory is removed after. A run that fails or is interrupted
before the swap leaves ``--out`` as it was, removes its sibling directory,
and removes the directories it created for ``--out``.

A lock file next to ``--out`` (``.<name>.lock``) keeps two runs from
writing into the same directory: the second one stops with a one-line error
before any work. It is an advisory ``flock``, which the kernel releases when
the process ends however it ends, so a killed run never leaves a stale
lock; ``os.open(O_EXCL)`` replaces it where ``fcntl`` is missing.
"""

import contextlib
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from ._errors import CommandError
from ._settings import PROG

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: Files an operating system drops into any folder it shows; a report
#: directory may hold them, and they go with the old report.
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: The probe files of :func:`check_writable_dir` (one stays if a run is
#: killed at that instant): they go with the old report too.
PROBE_PREFIX = ".skcosim-probe-"


def _disposable(name):
    return name in SYSTEM_FILES or name.startswith(PROBE_PREFIX)


def check_writable_dir(path, name=None):
    """Check that files can be created in the existing directory ``path``.

    Raises ``OSError`` with a readable message naming ``name`` (default:
    ``path``) otherwise. A probe file is created and removed: permission
    bits alone do not tell (e.g. as root).
    """
    path = Path(path)
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=PROBE_PREFIX):
            pass
    except OSError as exc:
        raise _cannot_write(path if name is None else name, exc) from exc
    return path


def _cannot_write(path, exc):
    reason = exc.strerror or str(exc)
    return OSError(f"cannot write to output directory {str(path)!r}: {reason}")


def _create_temporary(path):
    """A new, empty file next to ``path``, as ``(fd, name)``.

    Not ``tempfile.mkstemp``: it creates mode 0600, and reading the umask to
    widen it means setting the process umask for a moment, which races with
    other threads. ``os.open`` with mode 0666 lets the kernel apply the umask,
    as ``open()`` does.
    """
    for _ in range(100):
        name = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {str(path)!r}")


def write_atomic(files):
    """Write several files atomically: ``files`` maps path -> str or bytes.

    Every file is first written in full to a temporary file in its own
    directory; only when all of them are written do they replace their
    targets (``os.replace`` is atomic on one file system). A failure on the
    way removes the temporary files and leaves the targets as they were.
    Each file is atomic, the set is not: a reader may see some files
    replaced and others not yet. :class:`OutputDirectory` swaps whole sets.
    """
    staged = []
    try:
        for path, data in files.items():
            path = Path(path)
            if isinstance(data, str):
                data = data.encode("utf-8")
            fd, tmp = _create_temporary(path)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        # os.replace onto a directory fails: check every target before the
        # first replace, so that such a failure cannot leave a partial set.
        for _, path in staged:
            if path.is_dir():
                raise IsADirectoryError(
                    f"cannot write {str(path)!r}: it is a directory"
                )
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    return [path for _, path in staged]


# -- the lock -------------------------------------------------------------------


def _busy(out, lock):
    return CommandError(
        f"another {PROG} run is writing into {str(out)!r} (it holds the lock "
        f"{str(lock)!r}): wait for it to end, or choose another --out."
    )


def _acquire(lock, out):
    """The open, locked ``lock`` file, or :class:`CommandError` at once."""
    if fcntl is None:
        try:
            return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            raise _busy(out, lock) from None
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _busy(out, lock) from None
        except BaseException:
            os.close(fd)
            raise
        # The previous holder unlinks the file when it releases: a lock taken
        # on a file no longer at that name locks nothing.
        try:
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def output_lock(out):
    """Hold the lock of the output directory ``out`` (a resolved path) for
    the ``with`` block; raises :class:`CommandError` if another run holds it."""
    out = Path(out)
    lock = out.parent / f".{out.name}.lock"
    fd = _acquire(lock, out)
    try:
        yield lock
    finally:
        try:
            # Unlinked while still held, so that no one locks a stale file.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)
        finally:
            os.close(fd)


# -- the directory swap -----------------------------------------------------------


class OutputDirectory:
    """The ``--out`` directory of one run: checked, locked, replaced as a set.

    Use :func:`open_output`; :meth:`write` puts a new report in place.
    ``report_names`` are the file names a report of any command may leave in
    the directory: those (and :data:`SYSTEM_FILES`) may be replaced, and a
    report of another command is kept. Anything else in the directory stops
    the run, since the directory is replaced as a whole.
    """

    def __init__(self, path, report_names):
        self.path = Path(path)  # as the user gave it, for messages
        self.target = Path(os.path.abspath(path)).resolve()
        self.report_names = frozenset(report_names)

    def check(self):
        """Refuse a directory that cannot be replaced (before any work)."""
        target = self.target
        cwd = Path.cwd().resolve()
        if target == cwd or target in cwd.parents:
            raise CommandError(
                f"--out {str(self.path)!r} is the current directory or holds it: "
                "the report replaces its directory as a whole, so give it one "
                f"of its own (e.g. --out {PROG}-out)."
            )
        if target.exists() and not target.is_dir():
            raise _cannot_write(self.path, NotADirectoryError(20, "Not a directory"))
        if target.is_dir():
            self._check_contents()
            check_writable_dir(target, self.path)

    def _check_contents(self):
        foreign, directories = [], []
        for entry in os.scandir(self.target):
            known = entry.name in self.report_names or _disposable(entry.name)
            if not known:
                foreign.append(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                directories.append(entry.name)
        if directories:
            path = self.path / sorted(directories)[0]
            raise IsADirectoryError(f"cannot write {str(path)!r}: it is a directory")
        if foreign:
            raise CommandError(
                f"output directory {str(self.path)!r} holds "
                f"{len(foreign)} entr{'y' if len(foreign) == 1 else 'ies'} that "
                f"{'is' if len(foreign) == 1 else 'are'} not part of a {PROG} "
                f"report (e.g. {sorted(foreign)[0]!r}): the report replaces the "
                "whole directory, so give --out a new directory or one that "
                "holds only a report."
            )

    def _sibling(self, kind):
        return self.target.parent / (
            f".{self.target.name}.{secrets.token_hex(6)}.{kind}"
        )

    def write(self, files, replaces=()):
        """Write ``files`` (name -> str or bytes) as the new report and swap
        it in; returns the paths written, under the name the user gave.

        The old files named in ``replaces`` (the command's whole set, e.g. a
        figure this run did not draw) go with the old directory; those of
        another command's report are kept.
        """
        new = self._sibling("new")
        os.mkdir(new)
        try:
            write_atomic({new / name: data for name, data in files.items()})
            if self.target.is_dir():
                self._check_contents()
                self._keep_other_reports(new, {*files, *replaces})
                os.chmod(new, stat.S_IMODE(os.stat(self.target).st_mode))
            _fsync_dir(new)
            self._swap(new)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
        return [self.path / name for name in files]

    def _keep_other_reports(self, new, replaced):
        """Hard-link the files of another command's report into ``new``."""
        for entry in os.scandir(self.target):
            if entry.name in replaced or entry.name not in self.report_names:
                continue
            try:
                os.link(entry.path, new / entry.name)
            except OSError:  # a file system without hard links
                shutil.copy2(entry.path, new / entry.name)

    def _swap(self, new):
        """``new`` becomes ``--out``; the old directory, if any, is removed."""
        if not self.target.exists():
            os.rename(new, self.target)
            _fsync_dir(self.target.parent)
            return
        old = self._sibling("old")
        os.rename(self.target, old)
        try:
            os.rename(new, self.target)
        except BaseException:
            os.rename(old, self.target)  # put the previous report back
            raise
        _fsync_dir(self.target.parent)
        remove_report_dir(old, self.report_names)


def remove_report_dir(path, report_names):
    """Remove a directory of report files, or say on standard error why it
    stays: only ``report_names``, :data:`SYSTEM_FILES` and probe files are
    removed, so a file that is not part of a report keeps it (and is never
    lost)."""
    try:
        for entry in os.scandir(path):
            removable = entry.name in report_names or _disposable(entry.name)
            if removable and not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
        os.rmdir(path)
    except OSError as exc:
        print(
            f"{PROG}: note: could not remove the previous report in "
            f"{str(path)!r}: {exc.strerror or exc}",
            file=sys.stderr,
        )


def _fsync_dir(path):
    """Make the renames in ``path`` durable (where directories can be synced)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _missing_parents(target):
    """The ancestors of ``target`` that do not exist yet, outermost first."""
    missing = []
    for parent in target.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing[::-1]


_STALE = r"\.{name}\.[0-9a-f]{{12}}\.(new|old)"


def _remove_stale_siblings(output):
    """Clean up after a run that was killed (SIGKILL, power loss) between
    writing and cleaning up; called under the lock. Killed between the two
    renames, it left no ``--out``: its old report is put back."""
    target = output.target
    pattern = re.compile(_STALE.format(name=re.escape(target.name)))
    for entry in os.scandir(target.parent):
        match = pattern.fullmatch(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False):
            continue
        if match.group(1) == "new":  # only ever held what a run wrote
            shutil.rmtree(entry.path, ignore_errors=True)
        elif not target.exists():
            os.rename(entry.path, target)
        else:
            remove_report_dir(entry.path, output.report_names)


@contextlib.contextmanager
def open_output(path, report_names):
    """Check and lock the output directory ``path`` for one run.

    Yields an :class:`OutputDirectory`. Missing parent directories are
    created for the lock and the new report, and removed again if the run
    fails; ``path`` itself is only created by the swap. Raises ``OSError``
    (a directory that cannot be written) or :class:`CommandError` (another
    run holds the lock, or the directory holds other files).
    """
    output = OutputDirectory(path, report_names)
    output.check()
    created = _missing_parents(output.target)
    try:
        try:
            output.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_write(output.path, exc) from exc
        check_writable_dir(output.target.parent, output.path)
        with output_lock(output.target):
            _remove_stale_siblings(output)
            yield output
    except BaseException:
        for directory in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(directory)
        raise
