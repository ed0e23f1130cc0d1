"""Payload syntax of every unit, as mirrored write_*/read_* pairs (docs/bitstream.md §3-§5).

Each header has one `_problems` check used by both sides: the writer raises ValueError (a
programmer error), the reader raises CorruptStream (a damaged or hostile file).
"""

import zlib
from dataclasses import dataclass, field

from lvcodec.bitstream.bits import ByteReader, ByteWriter
from lvcodec.bitstream.syntax import (
    MAX_DIM, MAX_MODEL_NAME, MAX_PICTURE_HASH, MAX_QUALITY, MAX_REFS, MAX_SCALE_LOG2, MAX_SUBSTREAMS,
    MAX_TEMPORAL_LAYER, MODEL_SHA256_SIZE, SUPPORTED_BIT_DEPTHS, VERSION_MAJOR, ChromaFormat,
    CodingStructure, EntropyCoder, FrameType,
)
from lvcodec.errors import CorruptStream

__all__ = [
    "SequenceHeader", "FrameHeader", "picture_hash",
    "write_sequence_header", "read_sequence_header",
    "write_frame_header", "read_frame_header",
    "write_index", "read_index",
]


@dataclass
class SequenceHeader:
    width: int
    height: int
    fps_num: int = 25
    fps_den: int = 1
    frame_count: int = 0  # 0 = unknown
    chroma_format: int = ChromaFormat.YUV420
    bit_depth: int = 8
    coding_structure: CodingStructure = CodingStructure.ALL_INTRA
    intra_period: int = 1
    gop_size: int = 1
    quality: int = 32
    model_name: str = ""
    model_sha256: bytes = bytes(MODEL_SHA256_SIZE)
    entropy_coder: int = EntropyCoder.CONSTRICTION_RANGE_24
    flags: int = 0
    # Not a field of the unit: the major of the file it was read from (the reader sets it), which
    # says how some substreams are to be read (§4.7); a writer writes its own.
    format_major: int = field(default=VERSION_MAJOR, compare=False, metadata={"stored": False})

    @property
    def fps(self) -> float:
        return self.fps_num / self.fps_den


@dataclass
class FrameHeader:
    frame_type: FrameType = FrameType.I
    display_index: int = 0
    temporal_layer: int = 0
    scale_log2: int = 0
    quality: int = 32
    refs: tuple = ()  # display indices of reference frames
    picture_hash: int = 0  # CRC-32 of the picture the decoder must output (picture_hash())


def picture_hash(planes) -> int:
    """The picture hash of docs/bitstream.md §4.5: CRC-32 (zlib.crc32, as the unit CRC) of the
    decoded picture's 8-bit samples, the Y plane row by row, then U, then V, at the picture's
    output size. `planes`: the three planes as C-contiguous buffers of one byte per sample."""
    crc = 0
    for plane in planes:
        crc = zlib.crc32(plane, crc)
    return crc


def _in(value, valid) -> bool:
    return isinstance(value, int) and value in valid


def _seq_problems(h: SequenceHeader) -> str | None:
    if not (_in(h.width, range(1, MAX_DIM + 1)) and _in(h.height, range(1, MAX_DIM + 1))):
        return f"frame size {h.width}x{h.height} out of range (1..{MAX_DIM})"
    if not (_in(h.fps_num, range(1, 1 << 32)) and _in(h.fps_den, range(1, 1 << 32))):
        return f"frame rate {h.fps_num}/{h.fps_den} invalid"
    if not _in(h.chroma_format, list(ChromaFormat)):
        return f"chroma format {h.chroma_format} unknown"
    if not _in(h.bit_depth, SUPPORTED_BIT_DEPTHS):
        return f"bit depth {h.bit_depth} unsupported"
    if not _in(h.coding_structure, list(CodingStructure)):
        return f"coding structure {h.coding_structure} unknown"
    if not _in(h.gop_size, range(1, 256)):
        return f"gop size {h.gop_size} out of range (1..255)"
    if not _in(h.quality, range(MAX_QUALITY + 1)):
        return f"quality {h.quality} out of range (0..{MAX_QUALITY})"
    if not _in(h.entropy_coder, list(EntropyCoder)):
        return f"entropy coder {h.entropy_coder} unknown"
    if not (isinstance(h.model_sha256, bytes) and len(h.model_sha256) == MODEL_SHA256_SIZE):
        return "model sha256 must be 32 bytes"
    return None


def _frame_problems(h: FrameHeader) -> str | None:
    if not _in(h.frame_type, list(FrameType)):
        return f"frame type {h.frame_type} unknown"
    if not _in(h.temporal_layer, range(MAX_TEMPORAL_LAYER + 1)):
        return f"temporal layer {h.temporal_layer} out of range (0..{MAX_TEMPORAL_LAYER})"
    if not _in(h.scale_log2, range(MAX_SCALE_LOG2 + 1)):
        return f"scale_log2 {h.scale_log2} out of range (0..{MAX_SCALE_LOG2})"
    if not _in(h.quality, range(MAX_QUALITY + 1)):
        return f"quality {h.quality} out of range (0..{MAX_QUALITY})"
    if not _in(h.picture_hash, range(MAX_PICTURE_HASH + 1)):
        return f"picture hash {h.picture_hash} is not a u32"
    if len(h.refs) > MAX_REFS:
        return f"{len(h.refs)} references (at most {MAX_REFS})"
    # Intra frames reference nothing; inter frames need something to predict from.
    if (h.frame_type == FrameType.I) != (len(h.refs) == 0):
        return f"{FrameType(h.frame_type).name} frame with {len(h.refs)} references"
    return None


def _fail(r: ByteReader, problem: str):
    raise CorruptStream(f"{r.where}: {problem} (file corrupted)")


# -- SEQUENCE_HEADER ---------------------------------------------------------------------------

def write_sequence_header(w: ByteWriter, h: SequenceHeader) -> int:
    """Writes the payload; returns the payload offset of frame_count (patched at close)."""
    if problem := _seq_problems(h):
        raise ValueError(f"sequence header: {problem}")
    name = h.model_name.encode("utf-8")
    if len(name) > MAX_MODEL_NAME:
        raise ValueError(f"model name longer than {MAX_MODEL_NAME} utf-8 bytes")
    w.uleb(h.width)
    w.uleb(h.height)
    w.uleb(h.fps_num)
    w.uleb(h.fps_den)
    frame_count_at = len(w)
    w.u32(h.frame_count)  # fixed width so it can be patched in place
    w.u8(h.chroma_format)
    w.u8(h.bit_depth)
    w.u8(h.coding_structure)
    w.u16(h.intra_period)
    w.u8(h.gop_size)
    w.u8(h.quality)
    w.u8(len(name))
    w.bytes(name)
    w.bytes(h.model_sha256)
    w.u8(h.entropy_coder)
    w.u8(h.flags)
    return frame_count_at


def read_sequence_header(r: ByteReader) -> SequenceHeader:
    width, height, fps_num, fps_den = r.uleb(), r.uleb(), r.uleb(), r.uleb()
    frame_count = r.u32()
    chroma_format, bit_depth, coding_structure = r.u8(), r.u8(), r.u8()
    intra_period = r.u16()
    gop_size, quality = r.u8(), r.u8()
    name = r.bytes(r.u8())
    model_sha256 = r.bytes(MODEL_SHA256_SIZE)
    entropy_coder, flags = r.u8(), r.u8()  # flags: reserved; unknown bits are ignored
    try:
        model_name = name.decode("utf-8")
    except UnicodeDecodeError:
        _fail(r, "model name is not utf-8")
    h = SequenceHeader(width, height, fps_num, fps_den, frame_count, chroma_format, bit_depth,
                       coding_structure, intra_period, gop_size, quality, model_name,
                       model_sha256, entropy_coder, flags)
    if problem := _seq_problems(h):
        _fail(r, problem)
    h.chroma_format = ChromaFormat(chroma_format)
    h.coding_structure = CodingStructure(coding_structure)
    h.entropy_coder = EntropyCoder(entropy_coder)
    return h


# -- FRAME -------------------------------------------------------------------------------------

def write_frame_header(w: ByteWriter, h: FrameHeader, substream_sizes) -> None:
    """Writes everything before the substream bytes."""
    if problem := _frame_problems(h):
        raise ValueError(f"frame {h.display_index}: {problem}")
    if not 1 <= len(substream_sizes) <= MAX_SUBSTREAMS:
        raise ValueError(f"frame {h.display_index}: {len(substream_sizes)} substreams "
                         f"(expected 1..{MAX_SUBSTREAMS})")
    w.u8(h.frame_type)
    w.uleb(h.display_index)
    w.u8(h.temporal_layer)
    w.u8(h.scale_log2)
    w.u8(h.quality)
    w.u8(len(h.refs))
    for ref in h.refs:
        w.uleb(ref)
    w.u32(h.picture_hash)
    w.u8(len(substream_sizes))
    for size in substream_sizes:
        w.uleb(size)


def read_frame_header(r: ByteReader) -> tuple[FrameHeader, list[int]]:
    frame_type, display_index = r.u8(), r.uleb()
    temporal_layer, scale_log2, quality = r.u8(), r.u8(), r.u8()
    refs = tuple(r.uleb() for _ in range(r.u8()))
    picture_hash = r.u32()
    sizes = [r.uleb() for _ in range(r.u8())]
    h = FrameHeader(frame_type, display_index, temporal_layer, scale_log2, quality, refs,
                    picture_hash)
    if problem := _frame_problems(h):
        _fail(r, problem)
    if not 1 <= len(sizes) <= MAX_SUBSTREAMS:
        _fail(r, f"{len(sizes)} substreams (expected 1..{MAX_SUBSTREAMS})")
    if sum(sizes) > r.remaining:
        _fail(r, "substreams overrun the unit")
    h.frame_type = FrameType(frame_type)
    return h, sizes


# -- INDEX -------------------------------------------------------------------------------------

def write_index(w: ByteWriter, entries) -> None:
    w.uleb(len(entries))
    for offset, display_index, frame_type in entries:
        w.uleb(offset)
        w.uleb(display_index)
        w.u8(frame_type)


def read_index(r: ByteReader) -> list[tuple[int, int, FrameType]]:
    """[(unit_offset, display_index, frame_type), ...]"""
    entries = []
    for _ in range(r.uleb()):
        offset, display_index, frame_type = r.uleb(), r.uleb(), r.u8()
        if frame_type not in list(FrameType):
            _fail(r, f"frame type {frame_type} unknown")
        entries.append((offset, display_index, FrameType(frame_type)))
    return entries
