"""The output directory, and the report's files replaced together or not at all."""

import os
import secrets
import tempfile
from pathlib import Path


def check_writable_dir(path):
    """Create ``path`` if needed and check that files can be created in it.

    Raises ``OSError`` with a readable message otherwise. A probe file is
    created and removed: permission bits alone do not tell (e.g. as root).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".skcosim-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OSError(
            f"cannot write to output directory {str(path)!r}: {reason}"
        ) from exc
    return path


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
    way removes the temporary files and leaves the targets as they were: no
    half-written report, and no report without its figure.
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
