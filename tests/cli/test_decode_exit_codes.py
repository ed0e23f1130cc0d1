"""What decode's exit status and messages say about a damaged input: 2 when it wrote an output
from a damaged stream (frames concealed, bytes after the stream's end), errors naming the file."""

import json

from click.testing import CliRunner

from conftest import damage_frame_unit
from lvcodec.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def stream(clip, tmp_path, *args):
    out = tmp_path / "a.lvc"
    r = run("encode", clip, out, "--model", "lvc-tiny", "--quiet", *args)
    assert r.exit_code == 0, r.output
    return out


def damaged(src, tmp_path):
    bad = tmp_path / "bad.lvc"
    bad.write_bytes(damage_frame_unit(src.read_bytes(), 1))  # the middle one of 3 frames
    return bad


def test_concealment_exits_2_with_a_summary_line(tiny_models, clip, tmp_path):
    bad = damaged(stream(clip, tmp_path, "--structure", "ldp"), tmp_path)
    r = run("decode", bad, tmp_path / "r.y4m", "--quiet", "--on-error", "conceal")
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert lines[-1] == (f"lvc: warning: {bad}: damaged: 2 of 3 frames concealed, "
                         "2 problems reported (exit status 2)")
    assert all(ln.startswith(f"lvc: warning: {bad}: ") for ln in lines if "warning" in ln)
    assert (tmp_path / "r.y4m").stat().st_size > 0  # the output is there, whole


def test_an_undamaged_stream_with_conceal_exits_0(tiny_models, clip, tmp_path):
    r = run("decode", stream(clip, tmp_path), tmp_path / "r.y4m", "--quiet", "--on-error", "conceal")
    assert r.exit_code == 0 and "warning" not in r.output


def test_bytes_after_the_end_of_the_stream_are_reported_and_exit_2(tiny_models, clip, tmp_path):
    src = stream(clip, tmp_path)
    twice = tmp_path / "twice.lvc"
    twice.write_bytes(src.read_bytes() * 2)  # `cat a.lvc a.lvc`
    run("decode", src, tmp_path / "ref.y4m", "--quiet")
    for mode in ("fail", "conceal"):
        out = tmp_path / f"r_{mode}.y4m"
        r = run("decode", twice, out, "--quiet", "--on-error", mode)
        assert r.exit_code == 2, r.output
        n = src.stat().st_size
        assert f"lvc: warning: {twice}: {n} bytes after the end of the stream, ignored" in r.stderr
        assert out.read_bytes() == (tmp_path / "ref.y4m").read_bytes()  # the first stream, whole
    d = json.loads(run("info", twice, "--json").stdout)
    assert d["trailing_bytes"] == n and json.loads(run("info", src, "--json").stdout)["trailing_bytes"] == 0
    assert f"{n} bytes after the end of the stream" in run("info", twice).stdout


def test_format_errors_name_the_file(tiny_models, clip, tmp_path):
    bad = damaged(stream(clip, tmp_path), tmp_path)
    for args in (["decode", bad, tmp_path / "r.y4m", "--quiet"], ["info", bad]):
        r = run(*args)
        assert r.exit_code == 1
        line, = r.stderr.strip().splitlines()
        assert line.startswith(f"lvc: error: {bad}: ") and "CRC" in line
    junk = tmp_path / "junk.lvc"
    junk.write_bytes(b"not a stream")
    r = run("info", junk)
    assert r.stderr.strip() == f"lvc: error: {junk}: not an .lvc bitstream (bad magic)"
    assert not (tmp_path / "r.y4m").exists()
