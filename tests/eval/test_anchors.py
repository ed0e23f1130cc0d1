import pytest

from lvcodec.eval.anchors import ANCHORS
from lvcodec.eval.metrics import frame_psnr


@pytest.mark.parametrize("name", sorted(ANCHORS))
@pytest.mark.parametrize("intra_period", [1, -1])
def test_anchor_round_trip(name, intra_period, tiny_clip, tmp_path):
    codec = ANCHORS[name]
    point = codec.default_points[len(codec.default_points) // 2]
    res = codec.encode_decode(tiny_clip.frames, tiny_clip.info, point, intra_period,
                              workdir=tmp_path)
    assert res.stream_path is not None and res.bytes == res.stream_path.stat().st_size > 0
    assert len(res.frames) == len(tiny_clip.frames)
    for a, b in zip(tiny_clip.frames, res.frames):
        assert b.y.shape == a.y.shape and b.u.shape == a.u.shape
        assert frame_psnr(a, b)["yuv"] > 25  # decoded, and decoded in order


def test_rate_knob_moves_rate(tiny_clip):
    codec = ANCHORS["x264-medium"]
    lo = codec.encode_decode(tiny_clip.frames, tiny_clip.info, 42, 1)
    hi = codec.encode_decode(tiny_clip.frames, tiny_clip.info, 22, 1)
    assert hi.bytes > lo.bytes


def test_jpeg_keeps_chroma_of_flat_frame(tiny_clip):
    from lvcodec.io import Frame
    import numpy as np

    f = Frame(np.full((48, 64), 90, np.uint8), np.full((24, 32), 70, np.uint8),
              np.full((24, 32), 200, np.uint8))
    res = ANCHORS["jpeg"].encode_decode([f], tiny_clip.info, 90, 1)
    out = res.frames[0]
    assert abs(int(out.u.mean()) - 70) <= 1 and abs(int(out.v.mean()) - 200) <= 1


@pytest.mark.parametrize("name", ["x264-medium", "x265-medium", "svtav1"])
@pytest.mark.parametrize("intra_period, keys", [(1, [1, 1, 1, 1]), (-1, [1, 0, 0, 0]),
                                                (2, [1, 0, 1, 0])])
def test_intra_period_sets_key_frames(name, intra_period, keys, tmp_path):
    import av

    from eval_synth import synth_frames
    from lvcodec.eval.clips import make_clip

    clip = make_clip("t", synth_frames(64, 64, 4))
    res = ANCHORS[name].encode_decode(clip.frames, clip.info, ANCHORS[name].default_points[0],
                                      intra_period, workdir=tmp_path)
    with av.open(str(res.stream_path)) as c:
        got = [int(f.key_frame) for f in c.decode(video=0)]
    assert got == keys


def test_x264_info_sei_is_not_counted(tiny_clip, tmp_path):
    res = ANCHORS["x264-medium"].encode_decode(tiny_clip.frames, tiny_clip.info, 32, 1,
                                               workdir=tmp_path)
    assert b"x264 - core" not in res.stream_path.read_bytes()
    assert len(res.frames) == 3


def test_strip_x264_info_leaves_other_streams_alone():
    from lvcodec.eval.anchors import strip_x264_info

    s = b"\x00\x00\x00\x01\x67abc\x00\x00\x00\x01\x06\x05xx x264 - core 164\x00\x00\x00\x01\x65zz"
    assert strip_x264_info(s) == b"\x00\x00\x00\x01\x67abc\x00\x00\x00\x01\x65zz"
    assert strip_x264_info(b"\x00\x00\x01\x65data") == b"\x00\x00\x01\x65data"
