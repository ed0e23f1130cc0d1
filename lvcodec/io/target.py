"""Output files that appear whole or not at all: written beside the target, renamed at the end.

`-` is standard output, and an existing FIFO or device (/dev/null) is written directly: renaming
a file onto them would replace them (a FIFO's reader would wait for ever, and /dev/null would
become a file), and there is nothing there to keep whole.
"""

import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from lvcodec.errors import OutputError

__all__ = ["TempTarget", "DirectTarget", "open_target", "check_target", "atomic_output",
           "is_stdio", "is_special", "STDIO"]

STDIO = "-"


def is_stdio(path) -> bool:
    """`-`: standard input for a reader, standard output for a writer."""
    return str(path) == STDIO


def is_special(path) -> bool:
    """An existing file that is neither regular nor a directory: a FIFO, a device, a socket."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


class _Counted:
    """A write-only stream that counts what went through (tell() works on a pipe too)."""

    def __init__(self, raw, close: bool):
        self._raw, self._close, self._n = raw, close, 0

    def write(self, data) -> int:
        self._raw.write(data)
        self._n += len(data)
        return len(data)

    def tell(self) -> int:
        return self._n

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        try:
            self._raw.flush()
        finally:
            if self._close:
                self._raw.close()


class TempTarget:
    """`.file` is a temporary file in path's directory; commit() moves it onto `path`,
    discard() deletes it. Nothing the user had is touched unless overwrite is given."""

    direct = False

    def __init__(self, path, overwrite: bool = False):
        self.path = Path(path)
        check_target(self.path, overwrite)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        try:
            fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=parent)
        except OSError as e:
            raise OutputError(f"cannot write in {parent}: {e.strerror}") from None
        self.file = os.fdopen(fd, "w+b")

    def commit(self) -> None:
        self.file.close()
        umask = os.umask(0)  # mkstemp creates 0600; give the result the usual permissions
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        try:
            self.file.close()
        finally:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass


class DirectTarget:
    """Standard output, a FIFO or a device, written as it comes: what was written cannot be
    taken back, so a failed run leaves a cut stream there (the reader sees it end early)."""

    direct = True

    def __init__(self, path):
        self.path = path
        if is_stdio(path):
            out = sys.stdout.buffer
            if out.isatty():
                raise OutputError("refusing to write video to a terminal (redirect or pipe stdout)")
            self.file = _Counted(out, close=False)
            return
        try:
            raw = open(path, "wb")  # a FIFO: waits here for its reader
        except OSError as e:
            raise OutputError(f"{path}: cannot write ({e.strerror})") from None
        if raw.isatty():
            raw.close()
            raise OutputError(f"{path}: refusing to write video to a terminal")
        self.file = _Counted(raw, close=True)

    def commit(self) -> None:
        self.file.close()

    def discard(self) -> None:
        try:
            self.file.close()
        except (OSError, ValueError):
            pass


def check_target(path, overwrite: bool = False) -> None:
    """Raises the OutputError that writing `path` would raise, before any work is done. Writing
    into a FIFO or a device replaces nothing, so it needs no overwrite."""
    if is_stdio(path) or is_special(path):
        return
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a directory")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists (use -y to overwrite)")


def open_target(path, overwrite: bool = False):
    """A DirectTarget for `-` (standard output), a FIFO or a device, else a TempTarget."""
    return DirectTarget(path) if is_stdio(path) or is_special(path) else TempTarget(path, overwrite)


@contextmanager
def atomic_output(path, overwrite: bool = False):
    """Yield a binary file that replaces `path` only if the block succeeds."""
    target = open_target(path, overwrite)
    try:
        yield target.file
    except BaseException:
        target.discard()
        raise
    target.commit()
