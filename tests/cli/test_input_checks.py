"""Bad inputs are refused before the model loads (3-7 s, 1.3 GB on the shipped one), with one
line `lvc: error: ...`, exit 1, and no output: sizes beyond the format, the decoder or the memory
left, missing files, directories, bad headers, an existing output."""

import time

import pytest
from cli_helpers import run, one_error_line


def y4m_header(path, w, h):
    path.write_bytes(f"YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\n".encode())
    return path


@pytest.fixture()
def no_model(monkeypatch):
    """Fails the test if a command loads a model (what it must not do for a bad input)."""
    import lvcodec.codec.api

    def load_model(*a, **k):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr(lvcodec.codec.api, "load_model", load_model)


# -- picture sizes --------------------------------------------------------------------------------

@pytest.mark.parametrize("w, h", [(100000, 100000), (16386, 2), (2, 16386)])
def test_y4m_larger_than_the_format_takes_is_refused_before_the_model(w, h, tmp_path, no_model):
    src = y4m_header(tmp_path / "big.y4m", w, h)
    one_error_line(run("encode", src, tmp_path / "o.lvc"), "big.y4m", f"{w}x{h}", "16384")
    assert not (tmp_path / "o.lvc").exists()


def test_a_picture_the_decoder_would_refuse_is_refused_by_the_encoder(tmp_path, no_model):
    from lvcodec.bitstream.syntax import MAX_PICTURE_PIXELS

    src = y4m_header(tmp_path / "big.y4m", 8192, 8192)  # each side legal, the area not
    line = one_error_line(run("encode", src, tmp_path / "o.lvc"), "8192x8192",
                          str(MAX_PICTURE_PIXELS))
    assert "decoder" in line
    raw = tmp_path / "big.yuv"
    raw.write_bytes(b"")
    one_error_line(run("encode", raw, tmp_path / "o.lvc", "-s", "8192x8192"), "8192x8192")
    assert not (tmp_path / "o.lvc").exists()


def test_a_legal_picture_too_big_for_the_memory_left_is_refused_saying_what_it_needs(
        tmp_path, no_model, monkeypatch):
    import lvcodec.cli

    monkeypatch.setattr(lvcodec.cli, "available_memory", lambda: 1 << 30)
    src = y4m_header(tmp_path / "hd.y4m", 1920, 1080)
    line = one_error_line(run("encode", src, tmp_path / "o.lvc", "--device", "cpu"),
                          "1920x1080", "GiB", "1.0 GiB available")
    need = float(line.split("needs about ")[1].split(" GiB")[0])
    assert 3 < need < 8  # benchmarks/memory.md: 4.4 GiB measured for 1080p random access
    low = one_error_line(run("encode", src, tmp_path / "o.lvc", "--device", "cpu",
                             "--structure", "ldp"), "GiB")
    assert float(low.split("needs about ")[1].split(" GiB")[0]) < need
    assert not (tmp_path / "o.lvc").exists()


def test_the_memory_estimate_lets_small_pictures_through(tiny_models, clip, tmp_path,
                                                         monkeypatch):
    import lvcodec.cli

    monkeypatch.setattr(lvcodec.cli, "available_memory", lambda: 4 << 30)
    r = run("encode", clip, tmp_path / "o.lvc", "--model", "lvc-tiny", "--quiet", "--device", "cpu")
    assert r.exit_code == 0, r.output  # 1.2 GiB + 96x64 pixels: under the 4 GiB available


def test_available_memory_reads_the_system():
    from lvcodec.cli import available_memory

    got = available_memory()
    assert got is None or 1 << 20 < got < 1 << 50


# -- inputs checked before the model --------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing", "directory", "not y4m", "odd size", "output exists"])
def test_encode_checks_its_input_and_output_before_loading_the_model(case, tmp_path, no_model,
                                                                     clip):
    src, out = clip, tmp_path / "o.lvc"
    if case == "missing":
        src = tmp_path / "nope.y4m"
    elif case == "directory":
        src = tmp_path
    elif case == "not y4m":
        src = tmp_path / "x.y4m"
        src.write_bytes(b"hello")
    elif case == "odd size":
        src = y4m_header(tmp_path / "odd.y4m", 97, 64)
    else:
        out.write_bytes(b"precious")
    t0 = time.time()
    one_error_line(run("encode", src, out))
    assert time.time() - t0 < 5
    if case == "output exists":
        assert out.read_bytes() == b"precious"
    else:
        assert not out.exists()


@pytest.mark.parametrize("case", ["missing", "directory", "not lvc", "output exists"])
def test_decode_checks_its_input_and_output_before_loading_the_model(case, tmp_path, no_model):
    src, out = tmp_path / "a.lvc", tmp_path / "o.y4m"
    src.write_bytes(b"\x89LVC")  # cut inside the file header
    if case == "missing":
        src = tmp_path / "nope.lvc"
    elif case == "directory":
        src = tmp_path / "d.lvc"
        src.mkdir()
    elif case == "not lvc":
        src.write_bytes(b"hello world")
    else:
        out.write_bytes(b"precious")
    line = one_error_line(run("decode", src, out))
    if case == "directory":
        assert "is a directory" in line
    if case == "output exists":
        assert out.read_bytes() == b"precious"
    else:
        assert not out.exists()


def test_decode_of_a_directory_says_so(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    one_error_line(run("decode", d, tmp_path / "o.y4m"), "is a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_eval_that_fails_on_its_input_leaves_no_output_folder(tmp_path):
    out = tmp_path / "results"
    one_error_line(run("eval", tmp_path / "missing.y4m", "--no-lvc", "--anchors", "jpeg",
                       "--out", out, "--quiet"), "missing.y4m")
    assert not out.exists()
    bad = tmp_path / "bad.y4m"
    bad.write_bytes(b"hello")
    one_error_line(run("eval", bad, "--no-lvc", "--anchors", "jpeg", "--out", out, "--quiet"),
                   "bad.y4m")
    assert not out.exists()
    out.mkdir()  # a folder the user had stays
    (out / "keep.txt").write_text("x")
    one_error_line(run("eval", bad, "--no-lvc", "--anchors", "jpeg", "--out", out, "--quiet"))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]

