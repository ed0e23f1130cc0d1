"""`lvc concat`: whole .lvc files joined into one stream (bitstream/concat.py), written whole or
not at all. Container work only: nothing is decoded, and torch is not loaded."""

from pathlib import Path

from lvcodec.bitstream import LvcReader
from lvcodec.bitstream.concat import StreamJoiner
from lvcodec.bitstream.info import trailing_bytes
from lvcodec.bitstream.stream import open_lvc
from lvcodec.errors import FormatError, InputError, OutputError
from lvcodec.io import atomic_output, check_target

__all__ = ["concat_files"]


def concat_files(inputs, dst, *, overwrite: bool = False) -> dict:
    """Join whole .lvc files, in order, into one stream at `dst` (docs/bitstream.md §8); returns
    {"frames", "bytes", "streams"}. Refuses, naming the file and what differs, a stream that
    cannot follow the first (model, size, rate, format, structure), one that does not start
    with an I frame, and anything damaged; `dst` is then left as it was."""
    inputs = [Path(p) for p in inputs]
    if not inputs:
        raise InputError("concat: no input streams")
    if Path(dst).suffix.lower() != ".lvc":
        raise OutputError(f"{dst}: concat writes an .lvc bitstream (give an output ending in .lvc)")
    check_target(dst, overwrite)
    with atomic_output(Path(dst), overwrite) as f:
        joiner = StreamJoiner(f)
        for path in inputs:
            with open_lvc(path) as src:
                try:
                    reader = LvcReader(src)
                except FormatError as e:  # bad magic, another major: say which file
                    raise type(e)(f"{path}: {e}") from None
                joiner.append(reader, str(path))
            extra = trailing_bytes(path)
            if extra:
                raise InputError(f"{path}: {extra} bytes after the end of the stream (another "
                                 f"stream appended?); join whole streams only")
        joiner.close()
        size = f.tell()
    return {"frames": joiner.frames, "bytes": size, "streams": len(inputs)}
