"""The `lvc` command line end to end: encode -> info -> decode, and every bad input."""

import json

import pytest
from click.testing import CliRunner

from conftest import damage_frame_unit
from lvcodec.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def test_encode_info_decode_round_trip(tiny_models, clip, tmp_path):
    out = tmp_path / "a.lvc"
    text = _ok(run("encode", clip, out, "--model", "lvc-tiny", "-q", "30", "--psnr", "--quiet",
                   "--structure", "ldp"))
    assert "encoded 3 frames 96x64" in text and "bpp" in text and "PSNR-YUV" in text
    info = json.loads(_ok(run("info", out, "--json")))
    assert info["sequence"]["model_name"] == "lvc-tiny"
    assert [f["display_index"] for f in info["frames"]] == [0, 1, 2]
    assert [f["frame_type"] for f in info["frames"]] == ["I", "P", "P"]
    assert [f["refs"] for f in info["frames"]] == [[], [0], [1]]
    assert info["sequence"]["coding_structure"] == "LOW_DELAY"
    assert "display" in _ok(run("info", out))
    for ext in ("y4m", "yuv", "mp4"):
        _ok(run("decode", out, tmp_path / f"r.{ext}", "--quiet"))
        assert (tmp_path / f"r.{ext}").stat().st_size > 0


def test_intra_period_option(tiny_models, clip, tmp_path):
    out = tmp_path / "a.lvc"
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "--intra-period", "2", "--quiet",
            "--structure", "ldp"))
    info = json.loads(_ok(run("info", out, "--json")))
    assert [f["frame_type"] for f in info["frames"]] == ["I", "P", "I"]
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "-I", "1", "-y", "--quiet"))
    assert {f["frame_type"] for f in json.loads(_ok(run("info", out, "--json")))["frames"]} == {"I"}
    bad = run("encode", clip, tmp_path / "b.lvc", "--model", "lvc-tiny", "--intra-period", "0")
    assert bad.exit_code == 1 and "intra period 0" in bad.output
    assert not (tmp_path / "b.lvc").exists()


def test_random_access_info_shows_the_hierarchy_and_decode_restores_display_order(
        tiny_models, make_clip, tmp_path):
    from lvcodec.io import open_reader

    clip = make_clip(tmp_path / "m.y4m", frames=9)
    out = tmp_path / "ra.lvc"
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "--structure", "ra", "--gop", "8", "--quiet"))
    info = json.loads(_ok(run("info", out, "--json")))
    assert info["sequence"]["coding_structure"] == "RANDOM_ACCESS" and info["sequence"]["gop_size"] == 8
    frames = info["frames"]  # coding order
    assert [f["display_index"] for f in frames] == [0, 8, 4, 2, 1, 3, 6, 5, 7]
    assert [f["temporal_layer"] for f in frames] == [0, 0, 1, 2, 3, 3, 2, 3, 3]
    assert frames[2]["refs"] == [0, 8] and frames[2]["frame_type"] == "B"
    assert frames[4]["quality"] < frames[2]["quality"] < frames[1]["quality"]  # q falls by layer
    table = _ok(run("info", out))
    assert "RANDOM_ACCESS" in table and "0,8" in table
    _ok(run("decode", out, tmp_path / "r.y4m", "--quiet"))
    with open_reader(tmp_path / "r.y4m") as r:
        assert len(list(r)) == 9  # (display order: tests/codec/test_random_access.py)


def test_random_access_is_the_default_structure(tiny_models, clip, tmp_path):
    out = tmp_path / "a.lvc"
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "--quiet"))
    info = json.loads(_ok(run("info", out, "--json")))
    assert info["sequence"]["coding_structure"] == "RANDOM_ACCESS"
    assert [f["frame_type"] for f in info["frames"]] == ["I", "P", "B"]  # 3 frames: a short GOP


def test_random_access_needs_a_model_with_a_b_frame_net(tmp_path, monkeypatch, make_model, clip):
    make_model(tmp_path, name="lvc-p-only", bi=False)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path))
    bad = run("encode", clip, tmp_path / "b.lvc", "--model", "lvc-p-only", "--structure", "ra")
    assert bad.exit_code == 1 and "no B-frame net" in bad.output and len(bad.output.splitlines()) == 1
    assert not (tmp_path / "b.lvc").exists()


def test_downsample_on_codes_half_scale_b_frames_that_info_shows_and_decode_restores(
        tmp_path, monkeypatch, make_model, make_clip):
    from lvcodec.io import open_reader

    make_model(tmp_path / "models", name="lvc-ds", enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    clip = make_clip(tmp_path / "m.y4m", frames=5)
    out = tmp_path / "ds.lvc"
    _ok(run("encode", clip, out, "--model", "lvc-ds", "--gop", "8", "--downsample", "on", "--quiet"))
    frames = json.loads(_ok(run("info", out, "--json")))["frames"]
    assert [(f["frame_type"], f["scale"]) for f in frames] == [
        ("I", "1"), ("P", "1"), ("B", "1/2"), ("B", "1/2"), ("B", "1/2")]
    assert "1/2" in _ok(run("info", out))
    _ok(run("decode", out, tmp_path / "r.y4m", "--quiet"))
    with open_reader(tmp_path / "r.y4m") as r:
        assert [f.y.shape for f in r] == [(64, 96)] * 5  # every frame at full resolution
    bad = run("encode", clip, tmp_path / "b.lvc", "--model", "lvc-ds", "--structure", "ldp",
              "--downsample", "on")
    assert bad.exit_code == 1 and "random access" in bad.output and len(bad.output.splitlines()) == 1
    assert not (tmp_path / "b.lvc").exists()
    # auto with low delay has nothing to down-sample: it codes every frame at full scale.
    _ok(run("encode", clip, out, "-y", "--model", "lvc-ds", "--structure", "ldp",
            "--downsample", "auto", "--quiet"))


def test_raw_yuv_needs_a_size(tiny_models, tmp_path):
    raw = tmp_path / "in.yuv"
    raw.write_bytes(bytes(96 * 64 * 3 // 2 * 2))
    r = run("encode", raw, tmp_path / "o.lvc", "--model", "lvc-tiny", "--quiet")
    assert r.exit_code != 0 and "-s" in r.output
    _ok(run("encode", raw, tmp_path / "o.lvc", "--model", "lvc-tiny", "-s", "96x64", "--quiet"))


@pytest.mark.parametrize("args, message", [
    (["encode", "missing.y4m", "o.lvc"], "missing.y4m"),
    (["encode", "CLIP", "o.lvc", "-q", "99"], "99"),
    (["encode", "CLIP", "o.mp4"], ".lvc"),
    (["decode", "missing.lvc", "o.y4m"], "missing.lvc"),
    (["info", "CLIP"], "lvc"),
    (["encode", "CLIP", "o.lvc", "--model", "nope"], "nope"),
    (["train", "CLIP", "--steps", "1", "--motion-warmup", "10"], "--stage inter"),
])
def test_bad_input_gives_one_line_and_non_zero_exit(tiny_models, clip, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    args = [str(clip) if a == "CLIP" else a for a in args]
    if args[0] == "encode" and "--model" not in args:
        args += ["--model", "lvc-tiny"]
    r = run(*args)
    assert r.exit_code != 0
    assert message in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "o.lvc").exists() and not (tmp_path / "o.y4m").exists()


def test_existing_output_is_kept_without_y(tiny_models, clip, tmp_path):
    out = tmp_path / "a.lvc"
    out.write_bytes(b"precious")
    r = run("encode", clip, out, "--model", "lvc-tiny", "--quiet")
    assert r.exit_code != 0 and "-y" in r.output
    assert out.read_bytes() == b"precious"
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "--quiet", "-y"))
    assert out.read_bytes()[:4] == b"\x89LVC"


def test_corrupted_stream_is_refused_without_partial_output(tiny_models, clip, tmp_path):
    out = tmp_path / "a.lvc"
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "--quiet"))
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x40
    bad = tmp_path / "bad.lvc"
    bad.write_bytes(bytes(data))
    r = run("decode", bad, tmp_path / "r.y4m", "--quiet")
    assert r.exit_code != 0 and "CRC" in r.output.upper()
    assert not (tmp_path / "r.y4m").exists()
    trunc = tmp_path / "trunc.lvc"
    trunc.write_bytes(bytes(data[: len(data) * 2 // 3]))
    r = run("decode", trunc, tmp_path / "r.y4m", "--quiet")
    assert r.exit_code != 0 and not (tmp_path / "r.y4m").exists()


def test_models_lists_the_installed_model(tiny_models):
    assert "lvc-tiny" in _ok(run("models"))


def test_weights_that_do_not_match_their_card_are_refused(tiny_models, clip, tmp_path):
    w = tiny_models / "lvc-tiny.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 1
    w.write_bytes(bytes(data))
    r = run("encode", clip, tmp_path / "o.lvc", "--model", "lvc-tiny", "--quiet")
    assert r.exit_code != 0 and "sha256" in r.output


def test_conceal_reports_damage_and_keeps_every_frame(tiny_models, clip, tmp_path):
    from lvcodec.io import open_reader

    out = tmp_path / "a.lvc"
    _ok(run("encode", clip, out, "--model", "lvc-tiny", "--quiet", "--structure", "ldp"))
    bad = tmp_path / "bad.lvc"
    bad.write_bytes(damage_frame_unit(out.read_bytes(), 1))  # the middle one of 3 frames
    r = run("decode", bad, tmp_path / "r.y4m", "--quiet", "--on-error", "conceal")
    assert r.exit_code == 2, r.output  # written, from a damaged stream
    # Frame 1 is lost; frame 2, a P frame referencing it, is concealed too.
    assert "warning" in r.output and "CRC" in r.output and "2 concealed" in r.output
    assert "its reference, frame 1" in r.output
    with open_reader(tmp_path / "r.y4m") as reader:
        frames = list(reader)
    assert len(frames) == 3
    assert (frames[1].y == frames[0].y).all()  # the lost frame repeats the last good picture
    assert (frames[2].y == frames[0].y).all()


def test_a_terminated_encode_leaves_no_output_and_no_temporary_file(tiny_models, make_clip,
                                                                     tmp_path):
    """SIGTERM (a killed job, a CI timeout) mid-encode: one line, exit 143, nothing left behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    src = make_clip(tmp_path / "long.y4m", width=96, height=64, frames=400)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p = subprocess.Popen([sys.executable, "-m", "lvcodec", "encode", str(src),
                          str(out_dir / "a.lvc"), "--model", "lvc-tiny", "--quiet",
                          "--structure", "ldp"],
                         stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.time() + 120
    while not list(out_dir.glob(".*.part")) and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert p.poll() is None, "the encode ended before it could be terminated"
    time.sleep(0.3)  # frames are being coded and written
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=60)[1].decode()
    assert p.returncode == 143 and err.strip().splitlines() == ["lvc: terminated"]
    assert list(out_dir.iterdir()) == []


def test_the_library_and_the_command_line_make_one_stream_by_default(tiny_models, make_clip,
                                                                      tmp_path):
    from lvcodec.codec.api import encode_file
    from lvcodec.codec.config import EncoderConfig

    clip = make_clip(tmp_path / "m.y4m", frames=5)
    _ok(run("encode", clip, tmp_path / "cli.lvc", "--model", "lvc-tiny", "--quiet"))
    encode_file(clip, tmp_path / "lib.lvc", model="lvc-tiny", progress=False)
    assert (tmp_path / "cli.lvc").read_bytes() == (tmp_path / "lib.lvc").read_bytes()
    info = json.loads(_ok(run("info", tmp_path / "lib.lvc", "--json")))["sequence"]
    assert info["coding_structure"] == "RANDOM_ACCESS"
    assert (info["gop_size"], info["intra_period"]) == (EncoderConfig().gop, EncoderConfig().intra_period)


def test_the_library_and_the_command_line_decode_alike(tiny_models, make_clip, tmp_path):
    from lvcodec.codec.api import decode_file
    from lvcodec.codec.config import DecoderConfig
    from lvcodec.errors import ConfigError

    clip = make_clip(tmp_path / "m.y4m", frames=3)
    lvc = tmp_path / "m.lvc"
    _ok(run("encode", clip, lvc, "--model", "lvc-tiny", "--quiet"))
    _ok(run("decode", lvc, tmp_path / "cli.y4m", "--quiet"))
    decode_file(lvc, tmp_path / "lib.y4m", device="cpu", progress=False)
    assert (tmp_path / "cli.y4m").read_bytes() == (tmp_path / "lib.y4m").read_bytes()
    assert DecoderConfig().on_error == "fail" and DecoderConfig().model is None
    with pytest.raises(ConfigError, match="--on-error skip"):
        decode_file(lvc, tmp_path / "bad.y4m", on_error="skip", progress=False)
    assert not (tmp_path / "bad.y4m").exists()
