"""Mixed precision chosen from the hardware, float32 loss, batch prefetching, lambda ranges."""

import json
import math

import pytest
import torch

from lvcodec.rd import LAMBDA_RANGE, LEGACY_LAMBDA_RANGE, equivalent_quality, lambda_for

TINY = {"N": 16, "M": 32, "Nz": 16, "groups": [4, 4, 8, 16]}


def test_legacy_lambda_is_the_float32_formula_models_were_trained_with():
    q = torch.arange(64).float()
    lo, hi = math.log(0.0018), math.log(0.0483)
    expected = torch.exp(lo + q / 63 * (hi - lo))
    assert torch.equal(lambda_for(q, LEGACY_LAMBDA_RANGE), expected)
    assert lambda_for(17, LEGACY_LAMBDA_RANGE) == float(expected[17])  # scalars: same float32


def test_the_quality_range_reaches_far_higher_lambda_and_stays_monotone():
    lam = lambda_for(torch.arange(64).float())
    assert lam[0] == pytest.approx(LAMBDA_RANGE[0]) and lam[-1] == pytest.approx(LAMBDA_RANGE[1])
    assert bool((lam[1:] > lam[:-1]).all()) and LAMBDA_RANGE[1] > 5 * LEGACY_LAMBDA_RANGE[1]


def test_reindexed_gains_give_each_lambda_the_gains_it_had():
    from lvcodec.nets.layers import QualityGain

    torch.manual_seed(0)
    old = QualityGain(8)
    with torch.no_grad():
        old.log_gain.add_(0.1 * torch.randn_like(old.log_gain))
    new = QualityGain(8)
    new.load_state_dict(old.state_dict())
    new.remap(lambda q: equivalent_quality(q, LEGACY_LAMBDA_RANGE, LAMBDA_RANGE))
    # Anchor qualities of the new table: exactly the old gains at the quality of equal lambda.
    for i in range(8):
        q_new = i / 7 * 63
        q_old = equivalent_quality(q_new, LEGACY_LAMBDA_RANGE, LAMBDA_RANGE)
        lam_new = lambda_for(q_new, LAMBDA_RANGE)
        if q_old <= 63:
            assert lambda_for(q_old, LEGACY_LAMBDA_RANGE) == pytest.approx(lam_new, rel=1e-5)
            assert torch.allclose(new(torch.tensor([q_new])), old(torch.tensor([q_old])), rtol=1e-5)
    # Beyond the old range the log-gains go on with the old mean slope, not flat.
    top = old.log_gain[-1] + (old.log_gain[-1] - old.log_gain[0]) / 7 * (
        equivalent_quality(63, LEGACY_LAMBDA_RANGE, LAMBDA_RANGE) / 63 * 7 - 7)
    assert torch.allclose(new.log_gain[-1], top, atol=1e-6)


def test_precision_follows_the_cpu_features(monkeypatch):
    from lvcodec.train import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "amx_bf16", "amx_tile"})
    p = precision.choose_precision("cpu")
    assert p.dtype == torch.bfloat16 and p.channels_last and "AMX" in p.reason
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})
    p = precision.choose_precision("cpu")  # Zen 4: AVX-512 BF16 dot products, no AMX
    assert p.dtype == torch.bfloat16 and p.channels_last and "AVX-512 BF16" in p.reason
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "avx512f"})
    p = precision.choose_precision("cpu")
    assert p.dtype is None and not p.channels_last and "no native bf16" in p.reason
    assert precision.choose_precision("cpu", "bf16").dtype == torch.bfloat16  # asked for
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"amx_bf16"})
    assert precision.choose_precision("cpu", "fp32").dtype is None


def test_strided_pointwise_convolutions_are_rerouted_to_the_same_function():
    from compressai.layers import ResidualBlockWithStride

    from lvcodec.train.precision import Precision, SubsampledPointwise

    torch.manual_seed(0)
    block = ResidualBlockWithStride(6, 16, stride=2)
    keys = list(block.state_dict())
    x = torch.rand(3, 6, 17, 18)
    ref = block(x)
    Precision(None, False, "test").module(block)
    assert type(block.skip) is not SubsampledPointwise  # float32: nothing rerouted
    Precision(torch.bfloat16, True, "test").module(block)
    assert type(block.skip) is SubsampledPointwise and type(block.conv1) is torch.nn.Conv2d
    assert list(block.state_dict()) == keys  # the same parameters: checkpoints load either way
    out = block(x.contiguous(memory_format=torch.channels_last))
    assert out.shape == ref.shape and torch.allclose(out, ref, atol=1e-5)


def test_bf16_backward_of_strided_pointwise_convolutions_survives_odd_batches_on_two_threads():
    """oneDNN's AVX-512 BF16 kernel for this weight gradient corrupted the heap (batch 1, 3, 5,
    < 16 input channels, 2 threads): the rerouted layer must never reach it. A crash kills the
    process, so it runs in a child."""
    import subprocess
    import sys

    code = """
import torch
from compressai.layers import ResidualBlockWithStride
from lvcodec.train.precision import Precision
torch.set_num_threads(2)
prec = Precision(torch.bfloat16, True, "test")
for ic in (3, 6, 14):
    block = prec.module(ResidualBlockWithStride(ic, 16, stride=2))
    for batch in (1, 3, 5):
        for _ in range(5):
            x = prec.tensor(torch.randn(batch, ic, 32, 32)).requires_grad_()
            with prec.autocast("cpu"):
                y = block(x)
            y.float().square().mean().backward()
print("survived")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "survived" in run.stdout, run.stderr[-2000:]


def test_bf16_step_matches_fp32_and_keeps_likelihoods_and_loss_in_float32():
    from lvcodec.nets.intra import IntraNet
    from lvcodec.train.loss import rd_loss
    from lvcodec.train.precision import Precision

    torch.manual_seed(0)
    net = IntraNet(**TINY).train()
    x = torch.rand(2, 6, 32, 32)
    q = torch.tensor([10.0, 50.0])
    ref = rd_loss(net(x, q), x, q)
    bf16 = Precision(torch.bfloat16, True, "test")
    bf16.module(net)
    with bf16.autocast("cpu"):
        out = net(bf16.tensor(x), q)
    assert all(v.dtype == torch.float32 for v in out["likelihoods"].values())
    terms = rd_loss(out, x, q)
    assert terms["loss"].dtype == torch.float32
    assert float(terms["loss"]) == pytest.approx(float(ref["loss"]), rel=0.03)
    terms["loss"].backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in net.parameters())


def test_prefetched_batches_are_the_ones_the_loop_would_draw():
    from lvcodec.train.data import Prefetcher

    counter = iter(range(1000))
    batches = Prefetcher(lambda: next(counter))
    try:
        assert [batches.next() for _ in range(20)] == list(range(20))
    finally:
        batches.close()

    def broken():
        raise ValueError("bad frame")

    failing = Prefetcher(broken)
    with pytest.raises(ValueError, match="bad frame"):
        failing.next()
    failing.close()


def test_an_intra_run_on_a_legacy_model_reindexes_it_and_the_kept_nets(
        tmp_path, monkeypatch, make_model):
    from lvcodec.io import Frame, VideoInfo, open_writer
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_intra
    from lvcodec.weights import load_model
    import numpy as np

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    with open_writer(data / "a.y4m", VideoInfo(96, 96, 25, 1)) as w:
        w.write(Frame(rng.integers(0, 255, (96, 96), np.uint8), np.full((48, 48), 120, np.uint8),
                      np.full((48, 48), 130, np.uint8)))
    models = tmp_path / "models"
    make_model(models, name="lvc-old")  # its card names no range: legacy
    monkeypatch.setenv("LVC_MODELS", str(models))
    before = load_model("lvc-old")
    assert before.lambda_range == LEGACY_LAMBDA_RANGE
    run = tmp_path / "run"
    info = train_intra([data], run, steps=1, batch=1, patch=64, init="lvc-old", log=lambda *a: None)
    assert tuple(info["lambda_range"]) == LAMBDA_RANGE
    export_model(run, models / "lvc-old")
    after = load_model("lvc-old")
    assert after.lambda_range == LAMBDA_RANGE
    card = json.loads((models / "lvc-old.json").read_text())
    assert "0.5" in card["training"]["loss"]
    # The kept P net was re-indexed like the intra net: q 0 keeps its gains (same lambda), the
    # top q moves on to the gains of a higher lambda than it had.
    g0, g1 = before.inter.gain_a.log_gain, after.inter.gain_a.log_gain
    assert torch.allclose(g0[0], g1[0], atol=2e-3) and not torch.allclose(g0[-1], g1[-1], atol=1e-2)


def test_photo_sources_keep_one_size_per_wallpaper_and_never_big_buck_bunny(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from lvcodec.train import data

    root = tmp_path / "wallpapers"
    for name, sizes in (("Lake", ((160, 128), (320, 256))), ("Hills", ((200, 144),))):
        images = root / name / "contents" / "images"
        images.mkdir(parents=True)
        for w, h in sizes:
            rgb = np.random.default_rng(w).integers(0, 255, (h, w, 3), np.uint8)
            Image.fromarray(rgb).save(images / f"{w}x{h}.png")
    Image.fromarray(np.zeros((200, 200, 3), np.uint8)).save(root / "bbb_frame.png")
    source = ("test-wallpapers", root, ("*/contents/images/*.png", "*.png"))
    files = data._photo_files(source)
    assert [(f.parents[2].name, f.name) for f in files] == [("Hills", "200x144.png"),
                                                             ("Lake", "320x256.png")]
    assert data._photo_files(("absent", tmp_path / "nowhere", ("*.jpg",))) == []


def test_training_never_loads_the_held_back_folder(tmp_path):
    import numpy as np

    from lvcodec.io import Frame, VideoInfo, open_writer
    from lvcodec.train.data import HELDOUT, load_frames

    for folder, value in ((tmp_path, 10), (tmp_path / HELDOUT, 200)):
        folder.mkdir(exist_ok=True)
        with open_writer(folder / "a.y4m", VideoInfo(64, 64, 1, 1)) as w:
            w.write(Frame(np.full((64, 64), value, np.uint8), np.full((32, 32), 128, np.uint8),
                          np.full((32, 32), 128, np.uint8)))
    assert [int(f[0][0, 0]) for f in load_frames([tmp_path])] == [10]
    assert [int(f[0][0, 0]) for f in load_frames([tmp_path / HELDOUT])] == [200]  # evaluation


def test_sequences_go_channels_last_frame_by_frame():
    from lvcodec.train.precision import Precision

    seq = torch.rand(2, 3, 6, 8, 8)
    out = Precision(torch.bfloat16, True, "test").tensor(seq)
    assert torch.equal(out, seq)
    # channels innermost in every frame (the batch stride spans the sequence)
    assert all(out[:, t].stride()[1] == 1 and out[:, t].stride()[3] == 6 for t in range(3))
    assert Precision(None, False, "test").tensor(seq) is seq


def test_package_videos_are_found_under_an_extracted_root_halved_and_cut(tmp_path, monkeypatch):
    import numpy as np

    from lvcodec.io import Frame, VideoInfo, open_reader, open_writer
    from lvcodec.train import data

    root = tmp_path / "debian"
    clip, test_source = root / "usr/share/clip.y4m", root / "usr/share/vtest.y4m"
    monkeypatch.setattr(data, "VIDEO_SOURCES", (("pkg-a", "usr/share/clip.y4m"),
                                                ("pkg-b", "usr/share/vtest.y4m"),
                                                ("pkg-c", "usr/share/absent.y4m")))
    monkeypatch.setattr(data, "MAX_VIDEO_FRAMES", 3)
    rng = np.random.default_rng(0)
    for path in (clip, test_source):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_writer(path, VideoInfo(width=1936, height=520, fps_num=25, fps_den=1)) as w:
            for _ in range(4):
                w.write(Frame(rng.integers(0, 255, (520, 1936), np.uint8),
                              *rng.integers(0, 255, (2, 260, 968), np.uint8)))
    # The test set's pedestrians clip is OpenCV's vtest: never a training source.
    assert data._video_files([tmp_path / "nowhere", root]) == [("pkg-a", clip)]
    dst = tmp_path / "out.y4m"
    assert data._write_video(clip, dst) == 3
    with open_reader(dst) as r:
        frames = list(r)
    # 1936x520 -> halved twice to 484x130 (at most MAX_VIDEO_WIDTH), cut to 128 rows (4:2:0, even).
    assert (r.info.width, r.info.height, len(frames)) == (484, 128, 3)
    with open_reader(clip) as r:
        first = next(iter(r))
    halved = data._half_frame(data._half_frame((first.y, first.u, first.v)))
    assert np.array_equal(frames[0].y, halved[0][:128, :484])
    assert np.array_equal(frames[0].u, halved[1][:64, :242])
