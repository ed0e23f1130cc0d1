"""The shipped model: loads by name through its card, codes a real clip, decodes bit-exactly."""

import io
from pathlib import Path

import numpy as np
import torch

from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig
from lvcodec.eval.metrics import frame_psnr
from lvcodec.io import open_reader
from lvcodec.weights import DEFAULT_MODEL, load_model, models_dir

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo_bbb_320x180.mp4"


def _code(model, quality, frames=2):
    torch.set_num_threads(2)
    buf, recons, psnr = io.BytesIO(), [], []
    with open_reader(DEMO, frames=frames) as reader:
        enc = Encoder(model, EncoderConfig(quality=quality), reader.info, torch.device("cpu"))
        w = LvcWriter(buf)
        w.write_sequence_header(enc.sequence_header())
        for f in reader:
            h, s, r = enc.encode(f)
            w.write_frame(h, s)
            recons.append(r)
            psnr.append(frame_psnr(f, r)["yuv"])
        w.close()
        pixels = reader.info.width * reader.info.height * len(recons)
    torch.set_num_threads(1)
    reader = LvcReader(io.BytesIO(buf.getvalue()))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    for r, (h, s, _) in zip(recons, reader.frames()):
        d = dec.decode(h, s)
        assert all(np.array_equal(getattr(r, p), getattr(d, p)) for p in "yuv")
    return len(buf.getvalue()) * 8 / pixels, float(np.mean(psnr))


def test_shipped_model_is_trained_and_pinned(monkeypatch):
    monkeypatch.delenv("LVC_MODELS", raising=False)
    card = (models_dir() / f"{DEFAULT_MODEL}.json")
    assert card.exists(), "models/lvc-base.json is missing"
    model = load_model(DEFAULT_MODEL)  # raises if the weights' sha256 differs from the card
    assert model.card["training"]["steps"] > 0


def test_shipped_model_codes_a_real_clip_with_rate_control_by_quality(monkeypatch):
    monkeypatch.delenv("LVC_MODELS", raising=False)
    model = load_model(DEFAULT_MODEL)
    points = [_code(model, q) for q in (8, 32, 56)]
    bpps, psnrs = zip(*points)
    assert bpps[0] < bpps[1] < bpps[2]
    assert psnrs[0] < psnrs[1] < psnrs[2]
    # Far from exact figures (those live in benchmarks/): a floor that only a working codec clears.
    assert psnrs[1] > 27.0 and bpps[1] < 1.0
