"""`lvc encode --jobs` and `lvc concat`: chunks coded apart, streams joined, bad inputs refused."""

import io

import numpy as np
import torch

from cli_helpers import one_error_line, run
from lvcodec.bitstream import LvcReader
from lvcodec.codec.api import decode_frames, encode_stream
from lvcodec.codec.session import Decoder, EncoderConfig
from lvcodec.io import open_reader
from lvcodec.weights import load_model


def _headers(path):
    return [h for h, _, _ in LvcReader(io.BytesIO(path.read_bytes())).frames()]


def _same_pictures(a, b):
    assert len(a) == len(b)
    for i, (fa, fb) in enumerate(zip(a, b)):
        assert all(np.array_equal(getattr(fa, p), getattr(fb, p)) for p in "yuv"), f"frame {i}"


def _decode(model, data):
    """Pictures in display order, as `lvc decode` shows them."""
    reader = LvcReader(io.BytesIO(data))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    shown = list(decode_frames(reader, dec))
    assert not any(concealed for _, concealed in shown)
    return [f for f, _ in shown]


def _frames(path):
    with open_reader(path) as reader:
        return list(reader)


def test_jobs_2_makes_the_closed_gop_stream_of_jobs_1_byte_for_byte(tiny_models, make_clip,
                                                                   tmp_path):
    clip = make_clip(tmp_path / "m.y4m", frames=11)
    one, two = tmp_path / "one.lvc", tmp_path / "two.lvc"
    common = ("--model", "lvc-tiny", "-I", "4", "--gop", "8", "--downsample", "off", "--quiet")
    assert run("encode", clip, one, "--closed-gop", *common).exit_code == 0
    r = run("encode", clip, two, "--jobs", "2", *common)
    assert r.exit_code == 0, r.output
    assert two.read_bytes() == one.read_bytes()
    # and so it decodes to the same pictures, through the CLI as a user would
    for name in ("one", "two"):
        assert run("decode", tmp_path / f"{name}.lvc", tmp_path / f"{name}.y4m", "--quiet").exit_code == 0
    _same_pictures(_frames(tmp_path / "one.y4m"), _frames(tmp_path / "two.y4m"))
    headers = _headers(two)
    assert sorted(h.display_index for h in headers) == list(range(11))


def test_a_worker_error_is_one_line_and_leaves_no_output(tmp_path, monkeypatch, make_model, clip):
    make_model(tmp_path, name="lvc-p-only", bi=False)  # the workers find no B-frame net
    monkeypatch.setenv("LVC_MODELS", str(tmp_path))
    out = tmp_path / "b.lvc"
    r = run("encode", clip, out, "--model", "lvc-p-only", "--jobs", "2", "-I", "2", "--quiet")
    one_error_line(r, "no B-frame net")
    assert not out.exists() and not list(tmp_path.glob(".*.part"))


def _encode_to(tmp_path, name, clip, model="lvc-tiny", **settings):
    config = EncoderConfig(**{"quality": 40, "intra_period": 8, "gop": 4, "downsample": "off",
                              **settings})
    with open_reader(clip) as reader:
        data, _ = encode_stream(load_model(model), reader, reader.info, config,
                                torch.device("cpu"))
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


def test_concat_decodes_to_the_concatenation_of_the_decodes(tiny_models, make_clip, tmp_path):
    # different content, lengths that are no multiple of the GOP or the intra period, open GOPs
    a = _encode_to(tmp_path, "a.lvc", make_clip(tmp_path / "a.y4m", frames=6, seed=1))
    b = _encode_to(tmp_path, "b.lvc", make_clip(tmp_path / "b.y4m", frames=10, seed=2), quality=30)
    out = tmp_path / "ab.lvc"
    r = run("concat", a, b, out)
    assert r.exit_code == 0 and "16 frames" in r.stderr, r.output
    model = load_model("lvc-tiny")
    _same_pictures(_decode(model, a.read_bytes()) + _decode(model, b.read_bytes()),
                     _decode(model, out.read_bytes()))
    reader = LvcReader(io.BytesIO(out.read_bytes()))
    assert reader.sequence_header.frame_count == 16
    entries = reader.read_index()
    assert [d for _, d, _ in entries] == [h.display_index for h in _headers(out)]
    assert sorted(d for _, d, _ in entries) == list(range(16))
    # the picture hashes are the inputs' own
    hashes = lambda p: [h.picture_hash for h in _headers(p)]  # noqa: E731
    assert hashes(out) == hashes(a) + hashes(b)


def test_concat_refuses_mismatched_streams_naming_the_file(tmp_path, monkeypatch, make_model,
                                                           make_clip):
    make_model(tmp_path / "models")
    make_model(tmp_path / "models", name="lvc-other", seed=1)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    clip = make_clip(tmp_path / "c.y4m", frames=3)
    a = _encode_to(tmp_path, "a.lvc", clip)
    cases = {
        "size": (_encode_to(tmp_path, "s.lvc", make_clip(tmp_path / "s.y4m", 64, 48, 3)),
                 "size 64x48, the first stream's is 96x64"),
        "model": (_encode_to(tmp_path, "m.lvc", clip, model="lvc-other"), "model 'lvc-other'"),
        "intra period": (_encode_to(tmp_path, "i.lvc", clip, intra_period=4), "intra period 4"),
    }
    for bad, fragment in cases.values():
        out = tmp_path / "out.lvc"
        line = one_error_line(run("concat", a, bad, out), str(bad), "cannot join", fragment)
        assert not out.exists(), line
    junk = tmp_path / "junk.lvc"
    junk.write_bytes(b"not a stream")
    one_error_line(run("concat", a, junk, tmp_path / "out.lvc"), str(junk), "bad magic")
    cut = tmp_path / "cut.lvc"
    cut.write_bytes(a.read_bytes()[:-20])
    one_error_line(run("concat", a, cut, tmp_path / "out.lvc"), str(cut), "truncated")
    assert not list(tmp_path.glob("*out.lvc*"))


def test_concat_overwrites_only_with_y(tiny_models, clip, tmp_path):
    a = _encode_to(tmp_path, "a.lvc", clip)
    out = tmp_path / "out.lvc"
    out.write_bytes(b"keep")
    one_error_line(run("concat", a, a, out), "exists (use -y to overwrite)")
    assert out.read_bytes() == b"keep"
    assert run("concat", a, a, out, "-y").exit_code == 0
    assert len(_headers(out)) == 6
