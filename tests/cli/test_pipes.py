"""`-` in a pipeline: `lvc encode -` reads Y4M (or raw -s WxH) from stdin, `lvc decode x.lvc -`
writes Y4M to stdout; data only on stdout, every message on stderr. Real processes, real pipes."""

import json
import os
import subprocess
import sys
from pathlib import Path
from cli_helpers import run


LVC = str(Path(sys.executable).parent / "lvc")


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def lvc(*args, input=None, timeout=180):
    """Runs the installed `lvc` with stdin/stdout as pipes; (returncode, stdout, stderr)."""
    p = subprocess.run([LVC, *map(str, args)], input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=dict(os.environ), timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode()


def test_a_stream_encoded_from_stdin_is_byte_identical_to_one_encoded_from_the_file(
        tiny_models, clip, tmp_path):
    _ok(run("encode", clip, tmp_path / "file.lvc", "--model", "lvc-tiny", "--quiet"))
    rc, out, err = lvc("encode", "-", tmp_path / "pipe.lvc", "--model", "lvc-tiny", "--quiet",
                       input=clip.read_bytes())
    assert rc == 0, err
    assert out == b""  # stdout carries no messages
    assert "encoded 3 frames 96x64" in err
    assert (tmp_path / "pipe.lvc").read_bytes() == (tmp_path / "file.lvc").read_bytes()
    # the frame count, unknown while reading a pipe, is in the header all the same
    info = json.loads(_ok(run("info", tmp_path / "pipe.lvc", "--json")))
    assert info["sequence"]["frame_count"] == 3


def test_raw_frames_from_stdin_with_a_size(tiny_models, clip, tmp_path):
    from lvcodec.io import open_reader

    with open_reader(clip) as r:
        raw = b"".join(f.tobytes() for f in r)
    (tmp_path / "c.yuv").write_bytes(raw)
    _ok(run("encode", tmp_path / "c.yuv", tmp_path / "file.lvc", "-s", "96x64", "--fps", "25",
            "--model", "lvc-tiny", "--quiet", "--structure", "ldp"))
    rc, out, err = lvc("encode", "-", tmp_path / "pipe.lvc", "-s", "96x64", "--fps", "25",
                       "--model", "lvc-tiny", "--quiet", "--structure", "ldp", input=raw)
    assert rc == 0 and out == b"", err
    assert (tmp_path / "pipe.lvc").read_bytes() == (tmp_path / "file.lvc").read_bytes()


def test_decode_to_stdout_pipes_the_same_y4m_as_decoding_to_a_file(tiny_models, clip, tmp_path):
    lvc_file = tmp_path / "a.lvc"
    _ok(run("encode", clip, lvc_file, "--model", "lvc-tiny", "--quiet"))
    _ok(run("decode", lvc_file, tmp_path / "r.y4m", "--quiet"))
    # a real pipe into a reading process (not a file standing in for one)
    reader = subprocess.Popen([sys.executable, "-c",
                               "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    dec = subprocess.Popen([LVC, "decode", str(lvc_file), "-", "--model", "lvc-tiny"],
                           stdout=reader.stdin, stderr=subprocess.PIPE, env=dict(os.environ))
    reader.stdin.close()  # the decoder holds the write end now
    piped = reader.stdout.read()
    reader.wait(timeout=180)
    err = dec.communicate(timeout=180)[1].decode()
    assert dec.returncode == 0 and reader.returncode == 0, err
    assert piped == (tmp_path / "r.y4m").read_bytes()
    assert piped.startswith(b"YUV4MPEG2 W96 H64 ")
    assert "decoded 3 frames" in err and "to -" in err
    assert list(tmp_path.glob(".*.part")) == []


def test_decode_into_a_pipe_closed_early_is_one_line_and_exit_1(tiny_models, make_clip, tmp_path):
    clip = make_clip(tmp_path / "big.y4m", width=320, height=240, frames=3)  # > a pipe's buffer
    lvc_file = tmp_path / "a.lvc"
    _ok(run("encode", clip, lvc_file, "--model", "lvc-tiny", "--quiet", "-I", "1"))
    dec = subprocess.Popen([LVC, "decode", str(lvc_file), "-", "--quiet"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=dict(os.environ))
    assert dec.stdout.read(10) == b"YUV4MPEG2 "
    dec.stdout.close()  # like `| head -c 10`
    err = dec.communicate(timeout=180)[1].decode()
    assert dec.returncode == 1
    assert err.strip().splitlines() == ["lvc: error: output pipe closed before the end"]


def test_stdin_that_is_not_y4m_is_one_line(tiny_models, tmp_path):
    r = run("encode", "-", tmp_path / "o.lvc", "--model", "lvc-tiny", input=b"hello\n")
    assert r.exit_code == 1 and r.output.strip() == \
        "lvc: error: stdin: not a Y4M file (no YUV4MPEG2 signature)"
    assert not (tmp_path / "o.lvc").exists()
    r = run("encode", "-", tmp_path / "o.lvc", "--model", "lvc-tiny", "-s", "96x64", "--quiet",
            input=bytes(96 * 64 * 3 // 2 + 5))
    assert r.exit_code == 1 and "stdin: truncated frame at the end" in r.output
    assert not (tmp_path / "o.lvc").exists()
    r = run("encode", "-", tmp_path / "o.lvc", "--model", "lvc-tiny", "-s", "96x64", "--quiet",
            input=b"")
    assert r.exit_code == 1 and "no frames to encode" in r.output
