"""Joining whole .lvc streams into one (docs/bitstream.md §8): frames re-indexed, index rebuilt.

A complete stream is closed at both ends: its frames reference only its own frames, and its
first frame is an I frame. So streams coded apart, one after the other in display order, form
one valid stream once each one's display indices (and references) are moved past the frames
before it. Nothing is re-coded: every frame's substreams and picture hash are copied as they
are, and the unit CRCs and the index are recomputed by the writer.
"""

from dataclasses import replace

from lvcodec.bitstream.headers import SequenceHeader
from lvcodec.bitstream.stream import LvcReader, LvcWriter
from lvcodec.bitstream.syntax import VERSION_MAJOR, VERSION_MINOR, FrameType
from lvcodec.errors import FormatError, InputError

__all__ = ["StreamJoiner", "join_problem"]

# What must agree for the frames of one stream to decode in another's sequence: the decoder
# (model), the pictures (size, sampling, rate), the entropy coder, and the structure the header
# announces. `quality` may differ: frames carry their own and the header keeps the first's.
_MUST_MATCH = (
    ("model_name", "model"), ("model_sha256", "model sha256"), ("width", "size"),
    ("height", "size"), ("fps_num", "frame rate"), ("fps_den", "frame rate"),
    ("chroma_format", "chroma format"), ("bit_depth", "bit depth"),
    ("entropy_coder", "entropy coder"), ("coding_structure", "coding structure"),
    ("intra_period", "intra period"), ("gop_size", "GOP size"),
    ("format_major", "format version"),  # the frames' syntax (§2)
)


def _shown(seq: SequenceHeader, field: str) -> str:
    if field in ("fps_num", "fps_den"):
        return f"{seq.fps_num}/{seq.fps_den} fps"
    if field == "model_sha256":
        return seq.model_sha256.hex()[:16] + "…"
    if field in ("width", "height"):
        return f"{seq.width}x{seq.height}"
    if field == "format_major":
        return f"{seq.format_major}.x"
    if field == "model_name":
        return f"'{seq.model_name}'"
    value = getattr(seq, field)
    return getattr(value, "name", str(value))


def join_problem(first: SequenceHeader, other: SequenceHeader) -> str | None:
    """Why a stream with header `other` cannot follow one with header `first`; None if it can."""
    for field, what in _MUST_MATCH:
        if getattr(first, field) != getattr(other, field):
            return f"{what} {_shown(other, field)}, the first stream's is {_shown(first, field)}"
    return None


class StreamJoiner:
    """Writes streams one after another as one stream: append(reader, name) per input, then
    close(). Raises InputError (naming the input) for a stream that cannot be joined; the output
    is then incomplete (no index), so callers write into an atomic target."""

    def __init__(self, fileobj):
        self._f, self._writer = fileobj, None  # written in the first stream's format version
        self._first = None  # the first stream's sequence header
        self.frames = 0  # frames written so far: the next stream's display offset

    def append(self, reader: LvcReader, name: str, on_frame=None) -> int:
        """Copies every frame of `reader`'s stream, re-indexed; returns how many. `on_frame()` is
        called after each frame (progress)."""
        try:
            return self._append(reader, name, on_frame)
        except FormatError as e:  # the reader's errors speak of bytes: say which file
            try:
                named = type(e)(f"{name}: {e}")
            except TypeError:
                named = FormatError(f"{name}: {e}")
            raise named from None

    def _append(self, reader: LvcReader, name: str, on_frame) -> int:
        major, minor = reader.format_version
        if (major, minor) > (VERSION_MAJOR, VERSION_MINOR):
            # Fields and units of a newer minor would be dropped by re-writing the frames.
            raise InputError(f"{name}: format version {major}.{minor} is newer than this "
                             f"lvcodec writes ({VERSION_MAJOR}.{VERSION_MINOR}); join it with "
                             f"a newer lvcodec")
        seq = reader.sequence_header
        if self._first is None:
            self._first = seq
            # The frames are copied as they are coded, so the file keeps their format version.
            self._writer = LvcWriter(self._f, (major, minor))
            # frame_count: 0 (unknown) unless the writer can patch it at close, as an encoder.
            self._writer.write_sequence_header(replace(seq, frame_count=0))
        elif problem := join_problem(self._first, seq):
            raise InputError(f"{name}: cannot join: {problem}")
        offset, seen = self.frames, set()
        for hdr, substreams, _ in reader.frames():
            coding = len(seen)
            if coding == 0 and (hdr.frame_type != FrameType.I or hdr.display_index != 0):
                raise InputError(f"{name}: cannot join: its first frame is a "
                                 f"{FrameType(hdr.frame_type).name} frame at display "
                                 f"{hdr.display_index} (a joined stream starts with an I frame "
                                 f"at display 0)")
            if hdr.display_index in seen:
                raise InputError(f"{name}: frame {coding}: display index {hdr.display_index} "
                                 f"repeated (file corrupted)")
            if not set(hdr.refs) <= seen:  # no decoder could decode it either
                raise InputError(f"{name}: frame {coding} (display {hdr.display_index}) "
                                 f"references frames not coded before it ({list(hdr.refs)})")
            seen.add(hdr.display_index)
            self._writer.write_frame(
                replace(hdr, display_index=hdr.display_index + offset,
                        refs=tuple(r + offset for r in hdr.refs)), substreams)
            if on_frame is not None:
                on_frame()
        if not seen:
            raise InputError(f"{name}: the stream holds no frame")
        if seq.frame_count and seq.frame_count != len(seen):
            raise InputError(f"{name}: the stream holds {len(seen)} of its {seq.frame_count} "
                             f"frames (file corrupted)")
        if max(seen) != len(seen) - 1:  # a gap would collide with the next stream's frames
            missing = min(set(range(max(seen))) - seen)
            raise InputError(f"{name}: the frame at display {missing} is missing (file corrupted)")
        self.frames += len(seen)
        return len(seen)

    def close(self) -> None:
        """Writes the index and footer (and patches frame_count on a seekable output)."""
        if self._first is None:
            raise InputError("nothing to join")
        self._writer.close()
