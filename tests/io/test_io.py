"""Video I/O: round trips through every format, and every bad input refused clearly."""

import numpy as np
import pytest

from lvcodec.errors import ConfigError, InputError, OutputError
from lvcodec.io import Frame, VideoInfo, open_reader, open_writer, parse_fps, parse_size

W, H = 64, 48


def frames(n=3, seed=1):
    rng = np.random.default_rng(seed)
    return [Frame(rng.integers(0, 256, (H, W), np.uint8), rng.integers(0, 256, (H // 2, W // 2), np.uint8),
                  rng.integers(0, 256, (H // 2, W // 2), np.uint8)) for _ in range(n)]


def same(a: Frame, b: Frame):
    return all(np.array_equal(x, y) for x, y in ((a.y, b.y), (a.u, b.u), (a.v, b.v)))


def write(path, fs, info=VideoInfo(W, H, 30000, 1001, None), **kw):
    with open_writer(path, info, **kw) as w:
        for f in fs:
            w.write(f)
    return path


@pytest.mark.parametrize("ext", [".y4m", ".yuv"])
def test_lossless_round_trip(tmp_path, ext):
    fs = frames()
    p = write(tmp_path / f"a{ext}", fs)
    with open_reader(p, size=(W, H) if ext == ".yuv" else None, fps="30000/1001") as r:
        got = list(r)
        assert (r.info.width, r.info.height) == (W, H)
        assert (r.info.fps_num, r.info.fps_den) == (30000, 1001)
    assert len(got) == 3 and all(same(a, b) for a, b in zip(fs, got))


def test_frame_limit_and_count(tmp_path):
    p = write(tmp_path / "a.yuv", frames(5))
    with open_reader(p, size="64x48", frames=2) as r:
        assert r.info.frame_count == 2
        assert len(list(r)) == 2


def test_mp4_round_trip_is_close(tmp_path):
    yy, xx = np.mgrid[0:H, 0:W]
    smooth = [Frame((xx * 3 + yy + t).astype(np.uint8), np.full((H // 2, W // 2), 100, np.uint8),
                    np.full((H // 2, W // 2), 150, np.uint8)) for t in range(4)]
    p = write(tmp_path / "a.mp4", smooth, VideoInfo(W, H, 25, 1))
    with open_reader(p) as r:
        got = list(r)
        assert r.info.fps == 25
    assert len(got) == 4
    assert np.abs(got[0].y.astype(int) - smooth[0].y).mean() < 2.0


@pytest.mark.parametrize("chroma", ["420", "420paldv", "420mpeg2"])
def test_y4m_420_variants(tmp_path, chroma):
    f = frames(1)[0]
    p = tmp_path / "v.y4m"
    p.write_bytes(f"YUV4MPEG2 W{W} H{H} F25:1 C{chroma}\nFRAME\n".encode() + f.tobytes())
    with open_reader(p) as r:
        assert same(next(iter(r)), f)


def test_y4m_other_chroma_refused(tmp_path):
    p = tmp_path / "v.y4m"
    p.write_bytes(f"YUV4MPEG2 W{W} H{H} F25:1 C444\nFRAME\n".encode() + bytes(W * H * 3))
    with pytest.raises(InputError, match="C444"):
        open_reader(p)


def test_y4m_truncated_frame(tmp_path):
    p = write(tmp_path / "a.y4m", frames(2))
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(InputError, match="truncated"), open_reader(p) as r:
        list(r)


def test_not_y4m(tmp_path):
    p = tmp_path / "x.y4m"
    p.write_bytes(b"hello")
    with pytest.raises(InputError, match="not a Y4M"):
        open_reader(p)


def test_raw_needs_size_and_whole_frames(tmp_path):
    p = write(tmp_path / "a.yuv", frames(2))
    with pytest.raises(InputError, match="-s"):
        open_reader(p)
    with pytest.raises(InputError, match="whole number"):
        open_reader(p, size=(W + 2, H))


def test_odd_size_refused(tmp_path):
    p = tmp_path / "a.yuv"
    p.write_bytes(bytes(100))
    with pytest.raises(InputError, match="odd"):
        open_reader(p, size="63x48")


def test_missing_and_garbage_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        open_reader(tmp_path / "nope.mp4")
    g = tmp_path / "garbage.mp4"
    g.write_bytes(b"\x00" * 1000)
    with pytest.raises(InputError):
        open_reader(g)
    with pytest.raises(InputError, match="directory"):
        open_reader(tmp_path)


def test_writer_never_clobbers_or_leaves_partial_files(tmp_path):
    p = write(tmp_path / "a.y4m", frames(1))
    before = p.read_bytes()
    with pytest.raises(OutputError, match="-y"):
        open_writer(p, VideoInfo(W, H))
    with pytest.raises(RuntimeError), open_writer(p, VideoInfo(W, H), overwrite=True) as w:
        w.write(frames(1)[0])
        raise RuntimeError("boom")
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.y4m"]
    with pytest.raises(OutputError, match="cannot write"):
        open_writer(tmp_path / "a.avi", VideoInfo(W, H))


def test_parse_size_and_fps():
    assert parse_size("1920x1080") == (1920, 1080)
    assert parse_fps("29.97") == (2997, 100)
    assert parse_fps("30000/1001") == (30000, 1001)
    for bad in ("19x", "0x10", "axb"):
        with pytest.raises(ConfigError):
            parse_size(bad)
    for bad in ("0", "-5", "x"):
        with pytest.raises(ConfigError):
            parse_fps(bad)


def test_stdin_is_read_one_frame_at_a_time(monkeypatch):
    """A frame is returned as soon as its bytes arrived: the reader never waits for the end."""
    import io
    import os
    import threading

    fs = frames(3)
    r_fd, w_fd = os.pipe()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(os.fdopen(r_fd, "rb")))
    w = os.fdopen(w_fd, "wb", buffering=0)
    w.write(f"YUV4MPEG2 W{W} H{H} F25:1 C420jpeg\n".encode())
    got = []
    for f in fs:
        w.write(b"FRAME\n" + f.tobytes())
        if not got:
            reader = open_reader("-")
            it = iter(reader)
        t = threading.Thread(target=lambda: got.append(next(it)), daemon=True)
        t.start()
        t.join(timeout=20)
        assert not t.is_alive(), "the reader waited for more than one frame"
    w.close()
    assert list(it) == [] and len(got) == 3 and all(same(a, b) for a, b in zip(fs, got))
    assert reader.info.frame_count is None and str(reader) == "stdin"


def test_writer_to_dash_writes_y4m_to_stdout(monkeypatch, tmp_path):
    import io

    buf = io.BytesIO()
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(buf))
    fs = frames(2)
    write("-", fs, VideoInfo(W, H, 25, 1))
    ref = write(tmp_path / "a.y4m", fs, VideoInfo(W, H, 25, 1))
    assert buf.getvalue() == ref.read_bytes()
    assert list(tmp_path.iterdir()) == [ref]  # no temporary file for stdout
