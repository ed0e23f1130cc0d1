"""Shared fixtures: a tiny deterministic model and small real-looking clips."""

from pathlib import Path

import numpy as np
import pytest
import torch

DATA = Path(__file__).parent / "data"
TESTSET = Path(__file__).resolve().parents[2] / "shared" / "testset"
TINY = {"N": 16, "M": 32, "Nz": 16, "groups": [4, 4, 8, 16]}
TINY_INTER = dict(TINY, ctx=[8, 8, 16], temporal_prior=8, motion=[16, 16, 8])


def make_tiny_model(models_dir: Path, name: str = "lvc-tiny", seed: int = 0, inter: bool = True,
                    bi: bool = True, enhance: bool = False) -> Path:
    """Random-init intra (and P and B) nets small enough for fast tests, saved like a shipped model."""
    from lvcodec.nets.bi import BiNet
    from lvcodec.nets.inter import InterNet
    from lvcodec.nets.intra import IntraNet
    from lvcodec.weights import save_model

    torch.manual_seed(seed)
    net = IntraNet(**TINY)
    inter_net = None
    if inter:
        inter_net = InterNet(**TINY_INTER)
        # Random motion: the zero-initialised estimator would leave the motion path untested.
        torch.nn.init.normal_(inter_net.estimator.refine[0][-1].weight, std=0.05)
    bi_net = None
    if inter and bi:
        bi_net = BiNet(**TINY_INTER)
        # Every B-only path live: motion, branch exchange, selective fusion, prior alignment.
        for layer in (bi_net.estimator.refine[0][-1], *bi_net.motion.exchange_a,
                      *bi_net.motion.exchange_s, *(w[-1] for w in bi_net.fusion.weights),
                      bi_net.align.net[-1]):
            torch.nn.init.normal_(layer.weight, std=0.05)
    enhance_net = None
    if bi_net is not None and enhance:
        from lvcodec.nets.enhance import EnhanceNet

        enhance_net = EnhanceNet(channels=8, blocks=1)
        torch.nn.init.normal_(enhance_net.out.weight, std=0.05)  # live: not the bicubic alone
    models_dir.mkdir(parents=True, exist_ok=True)
    save_model(models_dir / name, net, {"description": "test model", "training": {"steps": 0}},
               inter=inter_net, bi=bi_net, enhance=enhance_net)
    return models_dir / name


@pytest.fixture()
def tiny_models(tmp_path, monkeypatch):
    """LVC_MODELS pointing at a folder holding the tiny model 'lvc-tiny'."""
    d = tmp_path / "models"
    make_tiny_model(d)
    monkeypatch.setenv("LVC_MODELS", str(d))
    return d


def synthetic_clip(path: Path, width=96, height=64, frames=3, seed=0):
    """A Y4M clip with smooth gradients, edges and moving texture (not noise alone)."""
    from lvcodec.io import Frame, VideoInfo, open_writer

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    info = VideoInfo(width, height, 25, 1, frames)
    with open_writer(path, info, overwrite=True) as w:
        for t in range(frames):
            y = 60 + 0.8 * xx + 40 * np.sin((yy + 3 * t) / 7.0) + rng.normal(0, 3, (height, width))
            y[height // 3: height // 2, width // 4: width // 2] = 220
            u = 128 + 20 * np.cos(xx[::2, ::2] / 9.0)
            v = 128 - 0.3 * yy[::2, ::2]
            to8 = lambda a: np.clip(np.round(a), 0, 255).astype(np.uint8)  # noqa: E731
            w.write(Frame(to8(y), to8(u), to8(v)))
    return path


@pytest.fixture()
def clip(tmp_path):
    return synthetic_clip(tmp_path / "clip.y4m")


@pytest.fixture()
def make_model():
    """make_tiny_model, for tests that need a second model (fixtures avoid 'import conftest')."""
    return make_tiny_model


@pytest.fixture()
def testset():
    """The shared evaluation clips folder (tests using it skip when it is absent)."""
    if not TESTSET.is_dir():
        pytest.skip("shared test set not present")
    return TESTSET


@pytest.fixture()
def make_clip():
    """synthetic_clip(path, width, height, frames, seed), for tests that need another clip."""
    return synthetic_clip


def write_training_clip(folder: Path, frames: int) -> Path:
    """`folder`/a.y4m: a 192x160 clip of a sine texture moving 4 pixels a frame, with noise."""
    from lvcodec.io import Frame, VideoInfo, open_writer

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:160, 0:192]
    with open_writer(folder / "a.y4m", VideoInfo(192, 160, 25, 1)) as w:
        for t in range(frames):
            y = (80 + 60 * np.sin((xx + 4 * t) / 9.0) + rng.normal(0, 4, xx.shape)).clip(0, 255)
            w.write(Frame(y.astype(np.uint8), np.full((80, 96), 120, np.uint8),
                          np.full((80, 96), 136, np.uint8)))
    return folder


@pytest.fixture()
def training_clip():
    """write_training_clip, for the training tests (fixtures avoid 'import conftest')."""
    return write_training_clip


def damage_frame_unit(data: bytes, n: int) -> bytes:
    """data with one bit flipped in the middle of its n-th frame unit (coding order, from 0): the
    unit's CRC no longer matches, whatever size each frame's substreams have."""
    import io

    from lvcodec.bitstream import LvcReader
    from lvcodec.bitstream.syntax import UnitType

    units = [(offset, kind) for offset, kind, _ in LvcReader(io.BytesIO(data)).units()]
    i = [j for j, (_, kind) in enumerate(units) if kind == UnitType.FRAME][n]
    start, end = units[i][0], units[i + 1][0]
    out = bytearray(data)
    out[(start + end) // 2] ^= 0x40
    return bytes(out)
