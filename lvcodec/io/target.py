"""Output files that appear whole or not at all: written beside the target, renamed at the end."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from lvcodec.errors import OutputError

__all__ = ["TempTarget", "atomic_output"]


class TempTarget:
    """`.file` is a temporary file in path's directory; commit() moves it onto `path`,
    discard() deletes it. Nothing the user had is touched unless overwrite is given."""

    def __init__(self, path, overwrite: bool = False):
        self.path = Path(path)
        if self.path.is_dir():
            raise OutputError(f"{path} is a directory")
        if self.path.exists() and not overwrite:
            raise OutputError(f"{path} exists (use -y to overwrite)")
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


@contextmanager
def atomic_output(path, overwrite: bool = False):
    """Yield a binary file that replaces `path` only if the block succeeds."""
    target = TempTarget(path, overwrite)
    try:
        yield target.file
    except BaseException:
        target.discard()
        raise
    target.commit()
