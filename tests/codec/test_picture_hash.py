"""Decoded-picture hashes (docs/bitstream.md §4.5): the encoder writes the CRC-32 of the picture
the decoder must output, the decoder checks its own against it, and a mismatch is never silent.

Also the golden decode: a committed stream of the tiny model and the committed SHA-256 of its full
reconstruction. On a machine whose float kernels differ from the one that made it, that test fails
(with the decoder's own hash error): that is issue 20's bug showing, not a flaky test.
"""

import hashlib
import io
import os
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from codec_helpers import encode
from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.codec import frame_coder
from lvcodec.codec.api import decode_file, decode_frames
from lvcodec.codec.config import PRESETS
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig, PictureMismatch, frame_hash
from lvcodec.io import Frame, open_reader
from lvcodec.weights import load_model

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN_STREAM = DATA / "golden_decode_v10.lvc"
GOLDEN_SHA256 = DATA / "golden_decode_v10.sha256"  # sha256sum format, of the decoded .yuv
# The 9.x (no deblocking), 8.x (residual tables as bytes, levels without contexts), 7.x (half-sample vectors either),
# 6.x (no motion-only frames either), 5.x (no block-motion predictions either) and 4.x (no
# residual layers either) golden streams, kept: 10.x decoders read them to the same pictures.
OLDER_GOLDENS = {v: (DATA / f"golden_decode_{v}.lvc", DATA / f"golden_decode_{v}.sha256")
                 for v in ("v9", "v8", "v7", "v6", "v5", "v4")}
GOLDEN_MODEL = "lvc-ds"  # conftest.make_tiny_model(name="lvc-ds", enhance=True): I, P, B, half B
V1_STREAM = DATA / "golden_v1.lvc"
CPU = torch.device("cpu")
MISMATCH = r"decoded picture does not match the encoder's \(hash [0-9a-f]{8}, the stream says [0-9a-f]{8}"


def _decoder(model, data, **kw):
    reader = LvcReader(io.BytesIO(data))
    return reader, Decoder(model, reader.sequence_header, CPU, **kw)


def _one_sample_off(x_hat: torch.Tensor) -> torch.Tensor:
    """x_hat with its first luma sample one 8-bit level off (up, or down from 255); x_hat is not
    clamped yet, so the sample is set on the level next to the one it rounds to."""
    x_hat = x_hat.clone()
    level = int(torch.floor(x_hat[0, 0, 0, 0].clamp(0, 1) * 255 + 0.5))
    x_hat[0, 0, 0, 0] = (level + 1 if level < 255 else level - 1) / 255
    return x_hat


def _tamper(monkeypatch, coder_class, method: str, call: int):
    """Make the `call`-th call (from 0) of coder_class.method return a decoded picture one sample
    off; its Reference (what later frames predict from) stays as it was. The streams tampered
    with are coded without block-motion predictions (§4.8), which may replace a P or B frame's
    nets' picture everywhere: a synthesis no block shows is not the picture, nor in its hash."""
    original = getattr(coder_class, method)
    calls = []

    def tampered(self, *args, **kwargs):
        x_hat, *rest = original(self, *args, **kwargs)
        calls.append(1)
        return (_one_sample_off(x_hat) if len(calls) == call + 1 else x_hat, *rest)

    monkeypatch.setattr(coder_class, method, tampered)
    return calls


# -- the hash the encoder writes ---------------------------------------------------------------

def test_every_frame_carries_the_hash_of_the_picture_the_decoder_outputs(tiny_models, clip):
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 32, 1, gop=2)  # I P B: every frame type
    headers = [h for h, _, _ in LvcReader(io.BytesIO(data)).frames()]
    assert [h.frame_type.name for h in headers] == ["I", "P", "B"]
    for h, recon in zip(headers, recons):
        planes = b"".join(p.tobytes() for p in (recon.y, recon.u, recon.v))
        assert h.picture_hash == frame_hash(recon) == zlib.crc32(planes)
    assert len({h.picture_hash for h in headers}) == 3
    reader, dec = _decoder(model, data)
    for h, subs, _ in reader.frames():
        assert frame_hash(dec.decode(h, subs)) == h.picture_hash
    assert dec.mismatches == []


def test_frame_hash_is_defined_on_8_bit_planes_only():
    y = np.arange(4, dtype=np.uint8).reshape(2, 2) + 1
    frame = Frame(y, np.array([[5]], np.uint8), np.array([[6]], np.uint8))
    assert frame_hash(frame) == 0x81F67724  # docs/bitstream.md §4.5's example
    assert frame_hash(Frame(y.T.copy().T, frame.u, frame.v)) == 0x81F67724  # layout-independent
    with pytest.raises(TypeError, match="8-bit"):
        frame_hash(Frame(y.astype(np.uint16), frame.u, frame.v))


# -- tampering with the decoder's reconstruction -----------------------------------------------

def test_a_perturbed_synthesis_is_refused_at_the_first_frame(tiny_models, clip, monkeypatch):
    """Another machine's kernels in miniature: the decoder's intra synthesis off by 1e-4 (a
    fortieth of an 8-bit level) flips the rounding of a few samples, and the hash sees it."""
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, 32, 1, frames=2)
    synthesise = type(model.intra).synthesise
    monkeypatch.setattr(type(model.intra), "synthesise",
                        lambda self, *a: synthesise(self, *a) + 1e-4)
    reader, dec = _decoder(model, data, verify=False)
    got = [dec.decode(h, s) for h, s, _ in reader.frames()]
    assert not np.array_equal(got[0].y, recons[0].y)  # the perturbation did change the picture
    assert dec.mismatches[0] == (0, 0)
    reader, dec = _decoder(model, data)
    header, subs, _ = next(reader.frames())
    with pytest.raises(PictureMismatch, match=r"^frame 0 \(display 0\): " + MISMATCH):
        dec.decode(header, subs)


@pytest.mark.parametrize("downsample, coder, method", [
    ("off", frame_coder.BiCoder, "decode"),
    ("on", frame_coder.HalfScaleCoder, "enhance"),  # after the enhancement net
])
def test_one_sample_off_in_a_b_frame_is_refused_naming_coding_and_display_index(
        make_model, make_clip, tmp_path, monkeypatch, downsample, coder, method):
    make_model(tmp_path / "models", name="lvc-ds", enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    model = load_model("lvc-ds")
    clip = make_clip(tmp_path / "c.y4m", frames=5)
    data, recons, _ = encode(model, clip, 32, 1, gop=4, downsample=downsample,  # 0 4 2 1 3
                             block_motion=False)
    calls = _tamper(monkeypatch, coder, method, call=1)  # the second B frame: display 1
    reader, dec = _decoder(model, data, verify=False)
    got = [dec.decode(h, s) for h, s, _ in reader.frames()]
    assert len(calls) == 3 and dec.mismatches == [(3, 1)]
    diff = [np.abs(a.y.astype(int) - b.y).sum() for a, b in zip(recons, got)]
    assert diff == [0, 0, 0, 1, 0]  # one sample one level off, nothing else (the DPB untouched)
    calls.clear()
    reader, dec = _decoder(model, data)
    frames = list(reader.frames())
    for h, s, _ in frames[:3]:
        dec.decode(h, s)
    with pytest.raises(PictureMismatch, match=r"^frame 3 \(display 1\): " + MISMATCH):
        dec.decode(*frames[3][:2])


def test_with_conceal_a_mismatch_is_reported_concealed_and_decoding_goes_on(
        tiny_models, make_clip, tmp_path, monkeypatch):
    model = load_model("lvc-tiny")
    clip = make_clip(tmp_path / "c.y4m", frames=4)
    data, recons, _ = encode(model, clip, 32, 1, intra_period=2, block_motion=False)  # I P I P
    calls = _tamper(monkeypatch, frame_coder.InterCoder, "decode", call=0)  # frame 1
    reader, dec = _decoder(model, data)
    with pytest.raises(PictureMismatch, match=r"^frame 1 \(display 1\): " + MISMATCH):
        list(decode_frames(reader, dec, "fail"))
    calls.clear()
    warnings = []
    reader, dec = _decoder(model, data)
    out = list(decode_frames(reader, dec, "conceal", warn=warnings.append))
    assert [c for _, c in out] == [False, True, False, False]
    assert len(warnings) == 1
    assert warnings[0].startswith("frame 1 (display 1): decoded picture does not match")
    assert warnings[0].endswith("(concealed)")
    # frame 1 shows the last good picture; frame 2, an I frame, and frame 3 decode exactly
    for shown, expected in zip([f for f, _ in out], [recons[0], recons[0], recons[2], recons[3]]):
        assert all(np.array_equal(getattr(shown, p), getattr(expected, p)) for p in "yuv")


def test_the_frames_that_reference_a_mismatched_picture_are_concealed_too(
        tiny_models, clip, monkeypatch):
    model = load_model("lvc-tiny")
    data, _, _ = encode(model, clip, 32, 1, block_motion=False)  # I P P
    _tamper(monkeypatch, frame_coder.InterCoder, "decode", call=0)
    warnings = []
    reader, dec = _decoder(model, data)
    out = list(decode_frames(reader, dec, "conceal", warn=warnings.append))
    assert [c for _, c in out] == [False, True, True]
    assert "frame 1 (display 1): decoded picture does not match" in warnings[0]
    assert warnings[1] == "frame 2: its reference, frame 1, is not decoded (concealed)"


def test_cli_decode_reports_a_mismatch_in_one_line(tiny_models, clip, tmp_path, monkeypatch):
    from lvcodec.cli import main

    model = load_model("lvc-tiny")
    stream = tmp_path / "a.lvc"
    stream.write_bytes(encode(model, clip, 32, 1, block_motion=False)[0])
    calls = _tamper(monkeypatch, frame_coder.InterCoder, "decode", call=0)
    r = CliRunner().invoke(main, ["decode", str(stream), str(tmp_path / "r.y4m"), "--quiet"])
    assert r.exit_code == 1 and not (tmp_path / "r.y4m").exists()
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
    assert r.output.startswith(f"lvc: error: {stream}: frame 1 (display 1): decoded picture does "
                               "not match the encoder's (hash ")
    calls.clear()
    r = CliRunner().invoke(main, ["decode", str(stream), str(tmp_path / "r.y4m"), "--quiet",
                                  "--on-error", "conceal"])
    assert r.exit_code == 2, r.output  # output written, from a stream that did not decode whole
    assert "Traceback" not in r.output
    assert f"lvc: warning: {stream}: frame 1 (display 1): decoded picture does not match" in r.output
    assert "2 of 3 frames concealed" in r.output


# -- version 1 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["decode", "info"])
def test_cli_refuses_a_version_1_stream_in_one_line(command, tmp_path):
    from lvcodec.cli import main

    args = [command, str(V1_STREAM)] + ([str(tmp_path / "r.y4m")] if command == "decode" else [])
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1 and r.output.count("\n") == 1, r.output
    assert r.output.startswith("lvc: error: ") and r.output.endswith(
        "format version 1.0, this decoder reads 4.x, 5.x, 6.x, 7.x, 8.x, 9.x and 10.x; re-encode the source with this "
        "lvcodec, or decode with a release that reads 1.x\n")
    assert r.output.startswith(f"lvc: error: {V1_STREAM}: format version 1.0")  # named once
    assert r.output.count(str(V1_STREAM)) == 1


# -- golden decode -----------------------------------------------------------------------------

def _golden_encode(model, clip) -> bytes:
    """9 frames, random access (GOP 4, I frames at 0 and 8): I0 P4 B2 B1 B3 at full scale, then
    I8 and B6 B5 B7 at half scale (down-sampling switched on for the second GOP); q 63, where
    frames carry residual layers."""
    torch.set_num_threads(2)
    # Preset fast: refinement's gradient steps are float arithmetic the decoder never repeats,
    # free to differ between machines, so the encoder's bytes are pinned without them. Its B
    # frames try the B net too (as preset slow's do), so that the stream exercises every coder.
    config = EncoderConfig(quality=63, intra_period=8, gop=4, downsample="off", preset="fast")
    PRESETS["fast"]["b_net_distance"], distance = 1, PRESETS["fast"]["b_net_distance"]
    try:
        buf = io.BytesIO()
        with open_reader(clip) as reader:
            enc = Encoder(model, config, reader.info, CPU)
            writer = LvcWriter(buf)
            writer.write_sequence_header(enc.sequence_header())
            for i, frame in enumerate(reader):
                for coded in enc.push(frame):
                    writer.write_frame(coded.header, coded.substreams)
                if i == 4:
                    enc.config = replace(enc.config, downsample="on")  # the config is frozen
            for coded in enc.flush():
                writer.write_frame(coded.header, coded.substreams)
            writer.close()
    finally:
        PRESETS["fast"]["b_net_distance"] = distance
    return buf.getvalue()


@pytest.fixture()
def golden_model(make_model, tmp_path, monkeypatch):
    make_model(tmp_path / "models", name=GOLDEN_MODEL, enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    return load_model(GOLDEN_MODEL)


def test_golden_stream_is_what_the_encoder_writes(golden_model, make_clip, tmp_path):
    data = _golden_encode(golden_model, make_clip(tmp_path / "g.y4m", width=64, height=48,
                                                  frames=9, seed=20))
    headers = [h for h, _, _ in LvcReader(io.BytesIO(data)).frames()]
    assert [(h.display_index, h.frame_type.name, h.scale_log2) for h in headers] == [
        (0, "I", 0), (4, "P", 0), (2, "B", 0), (1, "B", 0), (3, "B", 0),
        (8, "I", 0), (6, "B", 1), (5, "B", 1), (7, "B", 1)]
    units = [(h, s) for h, s, _ in LvcReader(io.BytesIO(data)).frames()]
    expected = {"I": 2, "P": 5, "B": 7}
    extra = [len(s) - expected[h.frame_type.name] for h, s in units]
    assert 1 in extra, "the golden stream should exercise the residual layer"
    assert 2 in extra, "the golden stream should exercise the block-motion prediction"
    if os.environ.get("GENERATE_EXPECTED") == "1":
        GOLDEN_STREAM.write_bytes(data)
    assert GOLDEN_STREAM.exists(), f"{GOLDEN_STREAM} is missing: run make golden"
    committed = GOLDEN_STREAM.read_bytes()
    seq = LvcReader(io.BytesIO(committed)).sequence_header
    assert seq.model_sha256 == bytes.fromhex(golden_model.sha256), (
        "the tiny test model changed (tests/conftest.py make_tiny_model): run make golden")
    assert data == committed, ("the encoder's bytes changed: if its decisions were meant to "
                               "change, run make golden; a decoding change needs a format bump")


@pytest.mark.parametrize("version", ["v10", "v9", "v8", "v7", "v6", "v5", "v4"])
def test_golden_decode_gives_the_committed_pictures(golden_model, tmp_path, version):
    stream, sha = (GOLDEN_STREAM, GOLDEN_SHA256) if version == "v10" else OLDER_GOLDENS[version]
    out = tmp_path / "golden.yuv"
    s = decode_file(stream, out, device="cpu", progress=False)
    assert s["frames"] == 9 and s["concealed"] == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    if os.environ.get("GENERATE_EXPECTED") == "1" and version == "v10":
        sha.write_text(f"{digest}  {stream.stem}.yuv\n")
    assert digest == sha.read_text().split()[0], (
        "the decoded pictures differ from the committed ones although every frame's hash matched")
