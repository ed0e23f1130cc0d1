"""Outputs that are not regular files (a FIFO, a device such as /dev/null) are written
through, never replaced by a renamed temporary file."""

import os
import stat
import threading
from cli_helpers import run


# -- targets that are not regular files -----------------------------------------------------------


def read_fifo_in_background(fifo):
    """Make `fifo` and read it to its end in a thread: (thread, [bytes once it has ended])."""
    os.mkfifo(fifo)
    got = []

    def read():
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t, got


def test_decode_into_a_fifo_writes_through_it_and_keeps_it(tiny_models, clip, tmp_path):
    stream = tmp_path / "a.lvc"
    assert run("encode", clip, stream, "--model", "lvc-tiny", "--quiet").exit_code == 0
    assert run("decode", stream, tmp_path / "ref.y4m", "--quiet").exit_code == 0
    fifo = tmp_path / "out.y4m"
    t, got = read_fifo_in_background(fifo)
    r = run("decode", stream, fifo, "--quiet", "-y")
    assert r.exit_code == 0, r.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced by a regular file"
    t.join(timeout=30)
    assert got == [(tmp_path / "ref.y4m").read_bytes()]
    assert not list(tmp_path.glob(".*.part"))


def test_decode_into_dev_null_keeps_it_a_device(tiny_models, clip, tmp_path):
    stream = tmp_path / "a.lvc"
    assert run("encode", clip, stream, "--model", "lvc-tiny", "--quiet").exit_code == 0
    for args in (["decode", stream, os.devnull], ["decode", stream, os.devnull, "-y"]):
        r = run(*args, "--quiet")
        assert r.exit_code == 0, r.output
        assert "decoded 3 frames" in r.output
        assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    r = run("decode", stream, tmp_path / "x.mp4", "--quiet")  # a regular .mp4 still works
    assert r.exit_code == 0, r.output


def test_mp4_into_a_fifo_is_refused_and_the_fifo_kept(tiny_models, clip, tmp_path):
    stream = tmp_path / "a.lvc"
    assert run("encode", clip, stream, "--model", "lvc-tiny", "--quiet").exit_code == 0
    fifo = tmp_path / "out.mp4"
    os.mkfifo(fifo)  # (no reader: opening it for writing would wait)
    r = run("decode", stream, fifo, "--quiet")
    assert r.exit_code == 1 and r.stderr.strip().splitlines() == [
        f"lvc: error: {fifo}: .mp4 needs a seekable file; write .y4m or .yuv into a pipe or device"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_encode_into_a_fifo_streams_the_lvc_through_it(tiny_models, clip, tmp_path):
    """Written into a pipe, the header's frame count stays 0 (unknown); the stream decodes."""
    fifo = tmp_path / "out.lvc"
    t, got = read_fifo_in_background(fifo)
    r = run("encode", clip, fifo, "--model", "lvc-tiny", "--quiet", "-I", "1")
    assert r.exit_code == 0, r.output
    t.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    (tmp_path / "copy.lvc").write_bytes(got[0])
    r = run("decode", tmp_path / "copy.lvc", tmp_path / "r.y4m", "--quiet")
    assert r.exit_code == 0 and "decoded 3 frames" in r.output
