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
