"""Constants and enumerations of the .lvc syntax (docs/bitstream.md); the one place numbers live."""

from enum import IntEnum

MAGIC = b"\x89LVC"  # 0x89 first: not ASCII, so text tools and 7-bit channels are caught early
# Readers refuse another major. 2: every frame carries its picture hash; 3: the decoding process
# is exact (docs/bitstream.md §9), so 2.x pictures are not what a 3.x decoder makes; 4: P and B
# frames carry a block-prediction map (§4.6); 5: any frame may carry a residual layer (§4.7), so
# a 4.x decoder cannot read 5.x streams, while a 4.x stream is a 5.x stream without one; 6: the
# residual layer of a P or B frame may follow a block-motion prediction (§4.8), and a 5.x stream
# is a 6.x stream without one; 7: a P or B frame may leave its nets out (motion-only, §4.8),
# and a 6.x stream is a 7.x stream without such frames; 8: block-motion vectors may be in
# quarter samples, interpolated by 8- and 4-tap filters (§4.8), which a 7.x decoder would not
# know, while a 7.x stream's half-sample vectors say so in the same byte; 9: the residual
# layer's tables are range-coded and its levels coded band by band in context (§4.7), a syntax
# an 8.x decoder would misread, while an 8.x stream's layers are read as before; 10: the
# residual layer names deblocking strengths and its picture is filtered in the loop (§4.9),
# which a 9.x decoder would misread, while a 9.x stream's layers are read as before.
VERSION_MAJOR = 10
READABLE_MAJORS = (4, 5, 6, 7, 8, 9, 10)
VERSION_MINOR = 0  # readers accept a higher minor (additions only)
FILE_HEADER_SIZE = len(MAGIC) + 2

SYNC = 0xA7  # first byte of every unit: a cheap resync/sanity marker
CRC_SIZE = 4
FOOTER_MAGIC = b"LVCX"
FOOTER_SIZE = 4 + len(FOOTER_MAGIC)  # index_unit_offset u32 + magic

MAX_DIM = 16384
MAX_PICTURE_PIXELS = 8192 * 4320  # 8K UHD: the largest picture a decoder takes (width x height)
MAX_FPS_TERM = 0xFFFF_FFFF
MAX_QUALITY = 63
MAX_MODEL_NAME = 255  # utf-8 bytes; length is a u8
MODEL_SHA256_SIZE = 32
MAX_SCALE_LOG2 = 1  # 0 = full resolution, 1 = half
MAX_TEMPORAL_LAYER = 7
MAX_REFS = 8
MAX_SUBSTREAMS = 16
MAX_UNIT_SIZE = 1 << 31  # a unit larger than this is corruption, not content
MAX_ULEB_BYTES = 10  # enough for any 64-bit value; longer is corruption
MAX_PICTURE_HASH = 0xFFFF_FFFF  # picture_hash is a u32: CRC-32 of the decoded picture (§4.5)
# Block-motion vector units, named by the substream's first byte (§4.8): log2 of the steps per
# luma sample. A component's magnitude class is its bit length, 0..MAX_VECTOR_CLASS[unit]:
# below 128 luma samples in either unit.
HALF_SAMPLE, QUARTER_SAMPLE = 1, 2
MAX_VECTOR_CLASS = {HALF_SAMPLE: 8, QUARTER_SAMPLE: 9}


class UnitType(IntEnum):
    SEQUENCE_HEADER = 1
    FRAME = 2
    INDEX = 3


class FrameType(IntEnum):
    I = 0  # noqa: E741 - the codec-standard name
    P = 1
    B = 2


# The substreams of each frame type's nets (§4.2); a frame may carry extra layers after them.
NET_SUBSTREAMS = {FrameType.I: 2, FrameType.P: 5, FrameType.B: 7}
# The extra layers, by how many there are (§4.7, §4.8): the residual layer is always the last.
EXTRA_LAYERS = {0: (), 1: ("residual",), 2: ("block_motion", "residual")}
# A P or B frame of this many substreams has none of its nets' (§4.8): a motion-only frame, its
# block-motion prediction and the residual layer on it.
MOTION_ONLY_SUBSTREAMS = 2


class CodingStructure(IntEnum):
    ALL_INTRA = 0
    LOW_DELAY = 1
    RANDOM_ACCESS = 2


class EntropyCoder(IntEnum):
    CONSTRICTION_RANGE_24 = 1  # constriction queue range coder, 24-bit quantized tables


class ChromaFormat(IntEnum):
    YUV420 = 1


SUPPORTED_BIT_DEPTHS = (8,)
