"""The .lvc container: round trips, index/footer, versioning, damage handling and a golden file."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lvcodec.bitstream import (
    CodingStructure, FrameHeader, FrameType, LvcReader, LvcWriter, SequenceHeader, UnitType,
    describe, format_table, probe,
)
from lvcodec.bitstream.bits import ByteReader, ByteWriter
from lvcodec.bitstream.headers import (
    picture_hash, read_frame_header, read_sequence_header, write_frame_header,
    write_sequence_header,
)
from lvcodec.bitstream.stream import _unit
from lvcodec.bitstream.syntax import READABLE_MAJORS
from lvcodec.errors import CorruptStream, FormatError, InputError, TruncatedStream, UnsupportedVersion

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN = DATA / "golden_v10.lvc"
GOLDEN_V1 = DATA / "golden_v1.lvc"  # the version-1 golden file, kept: a real old stream to refuse

SEQ = SequenceHeader(64, 48, fps_num=30000, fps_den=1001, coding_structure=CodingStructure.RANDOM_ACCESS,
                     intra_period=8, gop_size=4, quality=40, model_name="lvc-tiny",
                     model_sha256=bytes(range(32)))
FRAMES = [  # coding order of a small random-access GOP, one half-scale B frame
    (FrameHeader(FrameType.I, 0, 0, 0, 40, (), 0x81F67724), [bytes(range(12)), bytes(range(100, 140))]),
    (FrameHeader(FrameType.P, 4, 0, 0, 38, (0,), 0), [bytes(range(8)), bytes(range(200, 220))]),
    (FrameHeader(FrameType.B, 2, 1, 1, 36, (0, 4), 0xFFFFFFFF), [bytes(range(4)), bytes(range(16)), b"\xff" * 3]),
    (FrameHeader(FrameType.B, 1, 2, 0, 34, (0, 2), 0x01020304), [b"", bytes(range(30, 37))]),
]
V10 = b"\x89LVC\x0a\x00"  # magic and file version


def build(frames=FRAMES, seq=SEQ, fileobj=None):
    f = fileobj or io.BytesIO()
    with LvcWriter(f) as w:
        w.write_sequence_header(seq)
        sizes = [w.write_frame(h, s) for h, s in frames]
    return (f.getvalue() if fileobj is None else None), sizes


def read_all(data: bytes):
    r = LvcReader(io.BytesIO(data))
    return r.sequence_header, list(r.frames()), r.read_index()


# -- headers -----------------------------------------------------------------------------------

seq_headers = st.builds(
    SequenceHeader,
    width=st.integers(1, 16384), height=st.integers(1, 16384),
    fps_num=st.integers(1, 2**32 - 1), fps_den=st.integers(1, 2**32 - 1),
    frame_count=st.integers(0, 2**32 - 1), coding_structure=st.sampled_from(CodingStructure),
    intra_period=st.integers(0, 0xFFFF), gop_size=st.integers(1, 255), quality=st.integers(0, 63),
    model_name=st.text(max_size=60), model_sha256=st.binary(min_size=32, max_size=32),
    flags=st.integers(0, 255),
)


@st.composite
def frame_headers(draw):
    kind = draw(st.sampled_from(FrameType))
    refs = () if kind == FrameType.I else tuple(draw(st.lists(st.integers(0, 2**40), min_size=1, max_size=8)))
    return FrameHeader(kind, draw(st.integers(0, 2**40)), draw(st.integers(0, 7)),
                       draw(st.integers(0, 1)), draw(st.integers(0, 63)), refs,
                       draw(st.integers(0, 2**32 - 1)))


@settings(max_examples=200, deadline=None)
@given(seq_headers)
def test_sequence_header_round_trip(h):
    w = ByteWriter()
    write_sequence_header(w, h)
    r = ByteReader(w.getvalue())
    assert read_sequence_header(r) == h and r.remaining == 0


@settings(max_examples=200, deadline=None)
@given(frame_headers(), st.lists(st.integers(0, 2**20), min_size=1, max_size=16))
def test_frame_header_round_trip(h, sizes):
    w = ByteWriter()
    write_frame_header(w, h, sizes)
    r = ByteReader(w.getvalue() + bytes(sum(sizes)))
    assert read_frame_header(r) == (h, sizes)
    assert r.remaining == sum(sizes)


@pytest.mark.parametrize("bad", [
    dict(width=0), dict(height=16385), dict(quality=64), dict(fps_den=0), dict(gop_size=0),
    dict(model_sha256=b"short"), dict(model_name="x" * 256), dict(bit_depth=10), dict(intra_period=1 << 16),
])
def test_writer_rejects_bad_sequence_header(bad):
    w = LvcWriter(io.BytesIO())
    with pytest.raises(ValueError):
        w.write_sequence_header(SequenceHeader(**{"width": 64, "height": 48, **bad}))


@pytest.mark.parametrize("hdr, subs", [
    (FrameHeader(quality=64), [b"x"]), (FrameHeader(scale_log2=2), [b"x"]),
    (FrameHeader(refs=(1,)), [b"x"]), (FrameHeader(FrameType.P), [b"x"]), (FrameHeader(), []),
    (FrameHeader(temporal_layer=8), [b"x"]), (FrameHeader(), [b"x"] * 17),
    (FrameHeader(picture_hash=-1), [b"x"]), (FrameHeader(picture_hash=1 << 32), [b"x"]),
])
def test_writer_rejects_bad_frame(hdr, subs):
    w = LvcWriter(io.BytesIO())
    w.write_sequence_header(SEQ)
    with pytest.raises(ValueError):
        w.write_frame(hdr, subs)


def test_writer_order_is_enforced():
    w = LvcWriter(io.BytesIO())
    with pytest.raises(ValueError):
        w.write_frame(FrameHeader(), [b"x"])
    w.write_sequence_header(SEQ)
    with pytest.raises(ValueError):
        w.write_sequence_header(SEQ)


# -- streams -----------------------------------------------------------------------------------

def test_multi_frame_round_trip_with_index():
    data, sizes = build()
    seq, frames, index = read_all(data)
    assert seq == SequenceHeader(**{**vars(SEQ), "frame_count": len(FRAMES)})  # patched at close
    assert [(h, s) for h, s, _ in frames] == FRAMES
    assert [n for _, _, n in frames] == sizes
    assert [(d, t) for _, d, t in index] == [(h.display_index, h.frame_type) for h, _ in FRAMES]
    offsets = [o for o, _, _ in index]
    for o, size, nxt in zip(offsets, sizes, offsets[1:] + [None]):
        assert data[o] == 0xA7 and data[o + 1] == UnitType.FRAME
        assert nxt is None or nxt == o + size
    assert data[-4:] == b"LVCX"


def test_close_is_idempotent_and_keeps_file_open():
    f = io.BytesIO()
    w = LvcWriter(f)
    w.write_sequence_header(SEQ)
    w.write_frame(*FRAMES[0])
    w.close()
    end = f.tell()
    w.close()
    assert f.tell() == end == len(f.getvalue())
    with pytest.raises(ValueError):
        w.write_frame(*FRAMES[0])


class Pipe:
    """A write-only, non-seekable sink like stdout."""

    def __init__(self):
        self.buf = bytearray()

    def write(self, b):
        self.buf += b

    def flush(self):
        pass

    def seekable(self):
        return False


def test_non_seekable_writer_leaves_frame_count_unknown():
    pipe = Pipe()
    build(fileobj=pipe)
    seq, frames, index = read_all(bytes(pipe.buf))
    assert seq.frame_count == 0 and len(frames) == len(FRAMES) and len(index) == len(FRAMES)


def test_unknown_unit_types_are_skipped():
    f = io.BytesIO()
    with LvcWriter(f) as w:
        w._emit(_unit(9, b"from the future")[0])  # before the sequence header, too
        w.write_sequence_header(SEQ)
        w.write_frame(*FRAMES[0])
        w._emit(_unit(200, b"")[0])
        w.write_frame(*FRAMES[1])
    seq, frames, index = read_all(f.getvalue())
    assert [(h, s) for h, s, _ in frames] == FRAMES[:2] and len(index) == 2
    types = [t for _, t, _ in LvcReader(io.BytesIO(f.getvalue())).units()]
    assert types == [9, UnitType.SEQUENCE_HEADER, UnitType.FRAME, 200, UnitType.FRAME, UnitType.INDEX]


def test_bad_magic():
    with pytest.raises(FormatError, match="bad magic"):
        LvcReader(io.BytesIO(b"RIFF....WAVE"))


def test_versions():
    data, _ = build()
    assert data[:6] == V10
    with pytest.raises(UnsupportedVersion, match=r"^format version 11\.0, this decoder reads "
                                                 r"4\.x, 5\.x, 6\.x, 7\.x, 8\.x, 9\.x and 10\.x; "
                                                 r"decode it with a newer lvcodec$"):
        LvcReader(io.BytesIO(data[:4] + b"\x0b" + data[5:]))
    with pytest.raises(UnsupportedVersion, match=r"^format version 3\.0, this decoder reads 4\.x, "
                                                 r"5\.x, 6\.x, 7\.x, 8\.x, 9\.x and 10\.x; re-encode "
                                                 r"the source with this lvcodec"):
        LvcReader(io.BytesIO(data[:4] + b"\x03" + data[5:]))
    # 4.x … 9.x are read too (their residual layers in their syntax, §4.7), and the reader says
    # which major a stream has, so the decoder reads its substreams as that major's.
    for major in (4, 5, 6, 7, 8, 9):
        r = LvcReader(io.BytesIO(data[:4] + bytes([major]) + data[5:]))
        assert r.format_version == (major, 0) and r.sequence_header.format_major == major
    newer = data[:5] + b"\x07" + data[6:]  # a higher minor only adds things: still readable
    assert LvcReader(io.BytesIO(newer)).format_version == (10, 7)
    assert len(read_all(newer)[1]) == len(FRAMES)


def test_a_version_1_stream_is_refused_in_one_line():
    """Version 1 frames carry no picture hash: a 4.x-6.x decoder cannot check them, so it refuses."""
    assert GOLDEN_V1.read_bytes()[:6] == b"\x89LVC\x01\x00"
    with open(GOLDEN_V1, "rb") as f, pytest.raises(UnsupportedVersion) as e:
        LvcReader(f)
    assert str(e.value) == ("format version 1.0, this decoder reads 4.x, 5.x, 6.x, 7.x, 8.x, 9.x and 10.x; "
                            "re-encode the source with this lvcodec, or decode with a release that reads 1.x")
    with pytest.raises(UnsupportedVersion, match="format version 1.0"):
        probe(GOLDEN_V1)


def test_picture_hash_is_crc32_of_the_planes_in_order():
    """docs/bitstream.md §4.5: Y rows, then U, then V, 8-bit samples, zlib's CRC-32."""
    assert picture_hash([bytes([1, 2, 3, 4]), bytes([5]), bytes([6])]) == 0x81F67724
    assert picture_hash([bytes([1, 2, 3, 4, 5, 6]), b"", b""]) == 0x81F67724  # one CRC over all
    assert picture_hash([bytes([1, 2, 3, 4]), bytes([6]), bytes([5])]) != 0x81F67724  # U before V
    assert picture_hash([bytes([16] * 4), bytes([128]), bytes([128])]) == 0x48F0DB3E


def test_crc_mismatch_is_reported():
    data, sizes = build()
    i = len(data) - 8 - 12  # inside the index unit's CRC-protected body
    with pytest.raises(CorruptStream, match="CRC"):
        read_all(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:])


def test_out_of_range_fields_with_valid_crc():
    seq = ByteWriter()
    write_sequence_header(seq, SEQ)
    head = V10 + _unit(UnitType.SEQUENCE_HEADER, seq.getvalue())[0]
    h = bytes(4)  # picture_hash
    bad_frames = [
        bytes([3, 0, 0, 0, 32, 0]) + h + bytes([1, 1, 0]),  # frame_type 3
        bytes([0, 0, 0, 0, 64, 0]) + h + bytes([1, 1, 0]),  # quality 64
        bytes([0, 0, 0, 0, 32, 0]) + h + bytes([0]),  # no substreams
        bytes([0, 0, 0, 0, 32, 0]) + h + bytes([1, 9, 0]),  # substream larger than the unit
        bytes([0, 0, 0, 0, 32, 0, 0, 0]),  # fields overrun the unit (inside picture_hash)
        bytes([0, 0, 0]),  # fields overrun the unit
    ]
    for body in bad_frames:
        with pytest.raises(CorruptStream):
            list(LvcReader(io.BytesIO(head + _unit(UnitType.FRAME, body)[0])).frames())
    w = ByteWriter()
    write_sequence_header(w, SequenceHeader(64, 48))
    body = bytearray(w.getvalue())
    body[0] = 0  # width 0
    with pytest.raises(CorruptStream, match="64|0x48"):
        LvcReader(io.BytesIO(V10 + _unit(1, bytes(body))[0])).sequence_header


def test_truncation_at_every_byte():
    data, _ = build()
    index_end = len(data) - 8
    for n in range(len(data)):
        try:
            _, _, index = read_all(data[:n])
        except FormatError as e:  # TruncatedStream mostly; a cut magic is "bad magic"
            assert str(e) and "\n" not in str(e)
            continue
        assert n >= index_end and index is None, f"cut at {n} went unnoticed"


def test_truncation_message_names_the_unit():
    data, _ = build()
    with pytest.raises(TruncatedStream, match=r"truncated at byte 150 \(inside frame unit"):
        read_all(data[:150])


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_byte_flip_is_caught_or_checked(mask):
    data, _ = build()
    for i in range(len(data)):
        bad = data[:i] + bytes([data[i] ^ mask]) + data[i + 1:]
        try:
            seq, frames, index = read_all(bad)
        except FormatError:
            continue
        # Only bytes outside CRC coverage may change without an error: the version minor, the
        # footer, and the major where it becomes another readable one (this test's frames carry
        # no residual layer, so 10.x reads as 9.x; 9.x as 8.x; 8.x without quarter-sample vectors is 7.x, …).
        assert i == 5 or (i == 4 and bad[4] in READABLE_MAJORS) or i >= len(data) - 8, \
            f"flip at byte {i} went unnoticed"
        assert [(h, s) for h, s, _ in frames] == FRAMES


def test_probe(tmp_path):
    path = tmp_path / "a.lvc"
    path.write_bytes(build()[0])
    seq, frames = probe(path)
    assert seq.frame_count == 4 and [h for h, _ in frames] == [h for h, _ in FRAMES]
    with pytest.raises(InputError, match="no such file"):
        probe(tmp_path / "missing.lvc")
    with pytest.raises(InputError):
        probe(tmp_path)


def test_no_torch_or_numpy_import():
    code = "import sys, lvcodec.bitstream; assert 'torch' not in sys.modules and 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- golden file -------------------------------------------------------------------------------

def test_golden_file():
    data, _ = build()
    if os.environ.get("GENERATE_EXPECTED") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_bytes(data)
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run GENERATE_EXPECTED=1 pytest tests/bitstream"
    assert data == GOLDEN.read_bytes(), "the writer's bytes changed: that needs a format version bump"


def test_describe_and_table():
    d = describe(GOLDEN)
    size = GOLDEN.stat().st_size
    assert d["bytes"] == size and d["format_version"] == "10.0"
    s = d["sequence"]
    assert (s["width"], s["height"], s["frame_count"], s["coding_structure"]) == (64, 48, 4, "RANDOM_ACCESS")
    assert s["fps"] == pytest.approx(30000 / 1001) and s["model"] == "lvc-tiny"
    assert s["model_sha256"] == bytes(range(32)).hex()
    assert [f["type"] for f in d["frames"]] == ["I", "P", "B", "B"]
    assert [f["scale"] for f in d["frames"]] == ["1", "1", "1/2", "1"]
    assert d["frames"][2]["refs"] == [0, 4]
    assert [f["picture_hash"] for f in d["frames"]] == ["81f67724", "00000000", "ffffffff", "01020304"]
    _, sizes = build()
    assert [f["bytes"] for f in d["frames"]] == sizes
    assert d["frames"][0]["bpp"] == pytest.approx(sizes[0] * 8 / (64 * 48))
    assert d["total_bpp"] == pytest.approx(size * 8 / (4 * 64 * 48))
    assert d["kbps"] == pytest.approx(size * 8 * 30000 / 1001 / 4 / 1000)
    table = format_table(d)
    assert "64x48" in table and "RANDOM_ACCESS" in table and "1/2" in table
    # Two substreams make a P or B frame motion-only (§4.8): its block motion, its residual layer.
    assert [f["motion_only"] for f in d["frames"]] == [False, True, False, True]
    assert [x["layer"] for x in d["frames"][1]["layers"]] == ["block_motion", "residual"]
    lines = table.splitlines()
    assert lines[-5].split()[-1] == "81f67724"  # the hash column, frame 0
    assert lines[-4].split()[-2] == "*M+R" and "motion-only" in lines[-1]
    assert len(lines) == 9 + 4 + 1


def test_the_spec_example_is_what_the_writer_writes(tmp_path):
    """docs/bitstream.md §7, byte for byte, and its `lvc info` table."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "bitstream.md").read_text()
    example = doc[doc.index("## 7. Example"):]
    dump = example[example.index("```\n") + 4:]
    dump = dump[:dump.index("```")]
    expected = bytes.fromhex("".join(line.split(":", 1)[1] for line in dump.splitlines()))
    grey = picture_hash([bytes([128]) * (64 * 48), bytes([128]) * (32 * 24), bytes([128]) * (32 * 24)])
    assert grey == 0x41B1739E
    seq = SequenceHeader(64, 48, 25, 1, coding_structure=CodingStructure.ALL_INTRA, intra_period=1,
                         gop_size=1, quality=32, model_name="lvc-tiny", model_sha256=bytes(range(32)))
    path = tmp_path / "tiny.lvc"
    with open(path, "wb") as f, LvcWriter(f) as w:
        w.write_sequence_header(seq)
        w.write_frame(FrameHeader(FrameType.I, 0, 0, 0, 32, (), grey),
                      [bytes.fromhex("0123456789abcdef"), bytes.fromhex("fedcba9876543210aa55aa55")])
    assert path.read_bytes() == expected
    d = describe(path)
    d["file"] = "tiny.lvc"
    table = example[example.index("```\nfile") + 4:]
    assert format_table(d) == table[:table.index("\n```")]
