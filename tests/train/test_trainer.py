"""Training: resumable runs, accumulated step counts, export to a loadable model, data loading."""

import json

import numpy as np
import pytest
import torch

from lvcodec.io import Frame, VideoInfo, open_writer

TINY = {"N": 16, "M": 32, "Nz": 16, "groups": [4, 4, 8, 16]}


@pytest.fixture()
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:160, 0:192]
    with open_writer(d / "a.y4m", VideoInfo(192, 160, 25, 1)) as w:
        for t in range(3):
            y = (80 + 60 * np.sin((xx + 4 * t) / 9.0) + rng.normal(0, 4, xx.shape)).clip(0, 255)
            w.write(Frame(y.astype(np.uint8), np.full((80, 96), 120, np.uint8),
                          np.full((80, 96), 136, np.uint8)))
    return d


def test_run_resumes_and_exports_a_loadable_model(data_dir, tmp_path, monkeypatch):
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_intra
    from lvcodec.weights import load_model

    torch.manual_seed(0)
    run = tmp_path / "run"
    kw = dict(batch=2, patch=64, config=TINY, log=lambda *a: None)
    info = train_intra([data_dir], run, steps=3, **kw)
    assert info["step"] == 3
    assert {"net.safetensors", "optim.safetensors", "state.json", "log.csv"} <= {p.name for p in run.iterdir()}
    info = train_intra([data_dir], run, steps=2, **kw)  # resumes, does not restart
    assert info["step"] == 5 and json.loads((run / "state.json").read_text())["step"] == 5
    assert (run / "log.csv").read_text().startswith("step,seconds,loss,bpp,psnr_yuv,aux")

    models = tmp_path / "models"
    export_model(run, models / "lvc-mine")
    monkeypatch.setenv("LVC_MODELS", str(models))
    model = load_model("lvc-mine")
    assert model.card["training"]["steps"] == 5 and model.card["dtype"] == "float16"
    assert not any(p.suffix in (".pt", ".pth", ".pkl") for p in models.iterdir())


def test_new_run_continues_the_step_count_of_its_init_model(data_dir, tmp_path, tiny_models):
    from lvcodec.train.trainer import train_intra
    from lvcodec.weights import load_model

    before = load_model("lvc-tiny").card["training"]["steps"]
    info = train_intra([data_dir], tmp_path / "run", steps=1, batch=2, patch=64, config=TINY,
                       init="lvc-tiny", log=lambda *a: None)
    assert info["step"] == before + 1


def test_patches_are_even_aligned_crops_of_the_frames(data_dir):
    from lvcodec.train.data import IntraPatches, load_frames

    frames = load_frames([data_dir])
    assert len(frames) == 3
    x = IntraPatches(frames, patch=64, seed=1).batch(4)
    assert x.shape == (4, 6, 32, 32) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_sources_are_sampled_by_the_square_root_of_their_length():
    from lvcodec.train.data import IntraPatches

    long = [(np.zeros((64, 64), np.uint8), np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8))] * 100
    still = [(np.full((64, 64), 255, np.uint8), np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8))]
    data = IntraPatches(long + still, patch=64, seed=0, sources=[0] * 100 + [1])
    picks = [data._pick()[0][0, 0] for _ in range(4400)]
    share = sum(p == 255 for p in picks) / len(picks)
    assert 0.06 < share < 0.12  # sqrt(1) / (sqrt(100) + sqrt(1)) = 0.09; uniform over frames: 0.01
