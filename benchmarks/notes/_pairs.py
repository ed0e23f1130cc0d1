"""What the frame-pair studies beside it share: each pair of consecutive frames among the first 9
of every test clip is measured, the measures averaged per clip, one JSON row per clip printed
and written to NAME_MODEL.jsonl here.

    python benchmarks/notes/NAME.py TESTSET [MODEL]
"""

import json
from pathlib import Path

import numpy as np
import torch

from lvcodec.codec.frame_coder import PAD, frame_to_tensor
from lvcodec.eval._script import testset_clips
from lvcodec.nets.layers import pad_to
from lvcodec.rd import psnr_from_mse, yuv_mse
from lvcodec.weights import load_model

FRAMES = 9


def packed(frame) -> torch.Tensor:
    """A frame as the codec's padded packed picture."""
    return pad_to(frame_to_tensor(frame, "cpu"), PAD)


def picture_psnr(x_hat: torch.Tensor, x: torch.Tensor, h: int, w: int) -> float:
    """PSNR-YUV of a packed reconstruction, cropped to the h x w picture (padding excluded)."""
    crop = (slice(None), slice(None), slice(0, h // 2), slice(0, w // 2))
    return psnr_from_mse(float(yuv_mse(x_hat.clamp(0, 1)[crop], x[crop])), 1.0)


def rate_psnr(out: dict, x: torch.Tensor, h: int, w: int) -> tuple:
    """(bpp of the frame's own latents, motion excluded; PSNR-YUV) of a net's training pass."""
    bits = sum(float(-torch.log2(v).sum()) for k, v in out["likelihoods"].items()
               if not k.startswith("motion"))
    return bits / (h * w), picture_psnr(out["x_hat"], x, h, w)


def pair_study(name: str, make_measure, argv) -> list:
    """make_measure(model) -> measure(prev, cur, info) -> {key: number}."""
    torch.set_grad_enabled(False)
    testset, model = argv[1], argv[2] if len(argv) > 2 else "lvc-base"
    measure = make_measure(load_model(model, torch.device("cpu")))
    rows = []
    for clip in testset_clips(Path(testset), FRAMES):
        acc = {}
        for prev, cur in zip(clip.frames, clip.frames[1:]):
            for k, v in measure(prev, cur, clip.info).items():
                acc.setdefault(k, []).append(v)
        rows.append({"clip": clip.name, **{k: float(np.mean(v)) for k, v in acc.items()}})
        print(json.dumps(rows[-1]), flush=True)
    return write_rows(name, model, rows)


def write_rows(name: str, model: str, rows: list) -> list:
    """The study's rows as NAME_MODEL.jsonl beside these scripts (the model's path made a label)."""
    label = model.strip("/").replace("/", "_")
    Path(__file__).with_name(f"{name}_{label}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows
