"""Closed GOPs and joining streams: no reference across an I frame, and the joiner's checks."""

import io

import numpy as np
import pytest
import torch

from codec_helpers import assert_identical, headers_and_sizes
from lvcodec.bitstream import FrameHeader, FrameType, LvcReader, LvcWriter, SequenceHeader
from lvcodec.bitstream.concat import StreamJoiner
from lvcodec.codec.api import decode_frames, encode_stream
from lvcodec.codec.gop import next_anchor, plan_gop
from lvcodec.codec.session import Decoder, EncoderConfig
from lvcodec.errors import InputError
from lvcodec.io import open_reader
from lvcodec.weights import load_model


def _crossing(headers):
    """(frame, reference) pairs where a frame references across an I frame: a reference in
    another intra segment (from one I frame, in display order, to the next) than its own."""
    intra = sorted(h.display_index for h in headers if h.frame_type == FrameType.I)
    segment = lambda d: max(i for i in intra if i <= d)  # noqa: E731
    return [(h.display_index, r) for h in headers for r in h.refs
            if segment(r) != segment(h.display_index)]


@pytest.mark.parametrize("gop,intra_period,n", [(8, 8, 20), (16, 32, 70), (8, 12, 40), (4, 6, 16)])
def test_closed_gop_plans_reference_nothing_across_an_intra_frame(gop, intra_period, n):
    def plan(closed):
        out, anchor = [], None
        while anchor is None or anchor < n - 1:
            nxt = 0 if anchor is None else min(next_anchor(anchor, gop, intra_period, closed), n - 1)
            out += plan_gop(anchor, nxt, intra_period)
            anchor = nxt
        return out

    closed, open_ = plan(True), plan(False)
    assert sorted(p.display_index for p in closed) == list(range(n))
    assert not _crossing(closed)
    assert _crossing(open_)  # what closing removes: B frames before an I frame reference it
    # the frame before each I frame is the P anchor the interval ends on
    kinds = {p.display_index: p.frame_type for p in closed}
    assert all(kinds[i - 1] == FrameType.P for i in range(intra_period, n, intra_period))


def test_closed_gop_streams_have_no_reference_across_an_intra_frame(tiny_models, make_clip,
                                                                    tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=11)
    model = load_model("lvc-tiny")
    config = EncoderConfig(quality=40, intra_period=4, gop=4, downsample="off", closed_gop=True)
    with open_reader(clip) as reader:
        data, coded = encode_stream(model, reader, reader.info, config, torch.device("cpu"))
    headers = [h for h, _ in headers_and_sizes(data)]
    assert [h.display_index for h in headers if h.frame_type == FrameType.I] == [0, 4, 8]
    assert FrameType.B in {h.frame_type for h in headers} and not _crossing(headers)
    by_display = sorted(coded, key=lambda c: c.header.display_index)
    assert_identical([c.recon for c in by_display], _decode(model, data))


def _decode(model, data):
    """Pictures in display order, as `lvc decode` shows them."""
    reader = LvcReader(io.BytesIO(data))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    shown = list(decode_frames(reader, dec))
    assert not any(concealed for _, concealed in shown)
    return [f for f, _ in shown]


def _stream(frames) -> bytes:
    """A container-only stream of hand-made frame headers (no model: one byte substreams)."""
    buf = io.BytesIO()
    w = LvcWriter(buf)
    w.write_sequence_header(SequenceHeader(width=64, height=48, model_name="m"))
    for kind, display, refs in frames:
        w.write_frame(FrameHeader(frame_type=kind, display_index=display, refs=refs), [b"x"])
    w.close()
    return buf.getvalue()


@pytest.mark.parametrize("frames,fragment", [
    ([(FrameType.P, 0, (1,))], "first frame is a P frame"),
    ([(FrameType.I, 1, ())], "first frame is a I frame at display 1"),
    ([(FrameType.I, 0, ()), (FrameType.P, 2, (0,))], "display 1 is missing"),
    ([(FrameType.I, 0, ()), (FrameType.B, 1, (0, 2)), (FrameType.P, 2, (0,))],
     "references frames not coded before it"),
])
def test_the_joiner_refuses_a_stream_that_is_not_whole_and_closed(frames, fragment):
    joiner = StreamJoiner(io.BytesIO())
    joiner.append(LvcReader(io.BytesIO(_stream([(FrameType.I, 0, ())]))), "a.lvc")
    with pytest.raises(InputError, match="b.lvc: .*" + fragment):
        joiner.append(LvcReader(io.BytesIO(_stream(frames))), "b.lvc")


def test_the_joiner_moves_display_indices_and_references_past_the_streams_before():
    joiner, out = StreamJoiner(buf := io.BytesIO()), None
    for _ in range(3):
        joiner.append(LvcReader(io.BytesIO(_stream([(FrameType.I, 0, ()), (FrameType.P, 2, (0,)),
                                                     (FrameType.B, 1, (0, 2))]))), "s.lvc")
    joiner.close()
    out = [(h.display_index, h.refs) for h, _, _ in LvcReader(io.BytesIO(buf.getvalue())).frames()]
    assert out == [(0, ()), (2, (0,)), (1, (0, 2)), (3, ()), (5, (3,)), (4, (3, 5)),
                   (6, ()), (8, (6,)), (7, (6, 8))]
    assert np.array_equal(sorted(d for d, _ in out), range(9))


def test_the_joiner_keeps_the_streams_format_version_and_refuses_another_major():
    """Frames are copied as coded: a joined 8.0 stream stays 8.0 (its residual layers read in
    8.x's syntax); an 8.0 stream after a 10.0 one is refused."""
    old = _stream([(FrameType.I, 0, ())])
    old = old[:4] + bytes([8]) + old[5:]  # the file header is outside every CRC
    joiner = StreamJoiner(buf := io.BytesIO())
    joiner.append(LvcReader(io.BytesIO(old)), "old.lvc")
    joiner.append(LvcReader(io.BytesIO(old)), "old.lvc")
    joiner.close()
    reader = LvcReader(io.BytesIO(buf.getvalue()))
    assert reader.format_version == (8, 0) and reader.sequence_header.format_major == 8
    joiner = StreamJoiner(io.BytesIO())
    joiner.append(LvcReader(io.BytesIO(_stream([(FrameType.I, 0, ())]))), "new.lvc")
    with pytest.raises(InputError, match="old.lvc: cannot join: format version 8.x, the first "
                                         "stream's is 10.x"):
        joiner.append(LvcReader(io.BytesIO(old)), "old.lvc")


def test_chunks_refuse_rate_control_before_starting_workers(clip, tmp_path):
    from lvcodec.codec.chunks import encode_chunks
    from lvcodec.errors import ConfigError

    with pytest.raises(ConfigError, match="not with --jobs"):
        encode_chunks(clip, tmp_path / "o.lvc", EncoderConfig(bitrate=300e3), jobs=2)
    assert not list(tmp_path.glob("*.lvc*"))
