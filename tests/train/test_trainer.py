"""Training: resumable runs, accumulated step counts, export to a loadable model, data loading."""

import json

import numpy as np
import pytest
import torch


TINY = {"N": 16, "M": 32, "Nz": 16, "groups": [4, 4, 8, 16]}


def _on_current_lambda_range(stem):
    """Mark a test model as trained on today's lambda range (its runs then re-index nothing)."""
    from lvcodec.rd import LAMBDA_RANGE

    card_path = stem.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps(dict(card, lambda_range=list(LAMBDA_RANGE))))
    return stem


@pytest.fixture()
def data_dir(tmp_path, training_clip):
    return training_clip(tmp_path / "data", frames=3)


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


def test_inter_run_starts_from_the_intra_net_resumes_and_exports_a_p_frame_model(
        data_dir, tmp_path, monkeypatch, make_model):
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-intra-only", inter=False))
    monkeypatch.setenv("LVC_MODELS", str(models))
    torch.manual_seed(0)
    run = tmp_path / "run"
    kw = dict(batch=2, patch=64, init="lvc-intra-only", log=lambda *a: None)
    info = train_inter([data_dir], run, frames=2, steps=2, **kw)
    assert info["step"] == 2
    info = train_inter([data_dir], run, frames=3, steps=1, **kw)  # resumes, cascades
    assert info["step"] == 3 and [s["frames"] for s in info["stages"]] == [2, 3]
    info = train_inter([data_dir], run, frames=3, steps=1, lr=2e-5, motion_warmup=50, **kw)
    assert [(s["frames"], s["lr"]) for s in info["stages"]] == [(2, 1e-4), (3, 1e-4), (3, 2e-5)]
    assert info["stages"][-1]["motion_warmup"] == 50 and info["motion_warmup"] == [3, 50]
    intra_before = load_model("lvc-intra-only").intra.state_dict()
    export_model(run, models / "lvc-p")
    model = load_model("lvc-p")
    assert model.inter is not None and model.card["training_inter"]["steps"] == 4
    for k, v in model.intra.state_dict().items():  # the intra net stayed frozen
        assert torch.equal(v, intra_before[k]), k
    # A new run from the exported model keeps the model's stage history when exported over it.
    train_inter([data_dir], tmp_path / "run2", frames=2, steps=1, **dict(kw, init="lvc-p"))
    export_model(tmp_path / "run2", models / "lvc-p")
    card = load_model("lvc-p").card["training_inter"]
    assert card["steps"] == 5
    assert [(s["frames"], s["from_step"]) for s in card["stages"]] == [(2, 0), (3, 2), (3, 3), (2, 4)]


def test_sequence_patches_are_co_located_crops_of_consecutive_frames(data_dir):
    from lvcodec.train.data import SequencePatches, load_videos

    videos, stills = load_videos([data_dir])
    assert len(videos) == 1 and len(videos[0]) == 3 and stills == []
    seq = SequencePatches(videos, stills, patch=64, length=3, seed=1).batch(4)
    assert seq.shape == (4, 3, 6, 32, 32)
    assert 0 < (seq[:, 1] - seq[:, 0]).abs().mean() < 0.2  # moving, but the same place


def test_sequence_patches_reach_the_frame_distances_of_random_access_anchors():
    from lvcodec.errors import ConfigError
    from lvcodec.train.config import TrainConfig
    from lvcodec.train.data import SequencePatches

    # Frame i is flat at value 4 i: a patch's value names its frame, its neighbour's the step.
    video = [tuple(np.full(s, 4 * i, np.uint8) for s in ((64, 64), (32, 32), (32, 32)))
             for i in range(40)]

    def steps(max_step):
        data = SequencePatches([video], patch=32, length=2, seed=3, max_step=max_step)
        seen = set()
        for _ in range(100):
            a, b = data._real()
            seen.add(abs(int(b[0][0, 0]) - int(a[0][0, 0])) // 4)
        return seen

    assert steps(3) == {1, 2, 3}  # the default: today's short steps only
    assert steps(8) == set(range(1, 9))
    with pytest.raises(ConfigError, match="--max-step is for --stage motion or inter"):
        TrainConfig(stage="bi", steps=1, max_step=8).validate()
    with pytest.raises(ConfigError, match="out of range"):
        TrainConfig(stage="inter", steps=1, max_step=0).validate()


def test_motion_stage_teaches_only_the_estimators_and_exports_the_rest_unchanged(
        data_dir, tmp_path, monkeypatch, make_model):
    pytest.importorskip("cv2")
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-pb", bi=True))
    monkeypatch.setenv("LVC_MODELS", str(models))
    before = load_model("lvc-pb")
    run = tmp_path / "run"
    lines = []
    info = train_inter([data_dir], run, stage="motion", frames=2, steps=2, batch=2, patch=64,
                       init="lvc-pb", log=lines.append)
    assert info["step"] == 2 and any("DIS" in line for line in lines)
    export_model(run, models / "lvc-pb")
    after = load_model("lvc-pb")
    assert after.card["training_motion"]["steps"] == 2
    assert after.card.get("training_inter") == before.card.get("training_inter")
    for name in ("intra", "inter", "bi"):
        old, new = getattr(before, name).state_dict(), getattr(after, name).state_dict()
        moved = {k for k in old if not torch.equal(old[k], new[k])}
        if name == "intra":
            assert not moved
        else:  # the estimator learnt; the frame coder (decoder side) is bit for bit the same
            assert moved and all(k.startswith("estimator.") for k in moved), moved


def test_dis_teacher_finds_a_known_shift():
    pytest.importorskip("cv2")
    from lvcodec.nets.layers import pack_yuv420
    from lvcodec.nets.motion import warp
    from lvcodec.train.teacher import dis_flow

    rng = np.random.default_rng(0)
    big = torch.from_numpy(rng.random((1, 1, 96, 104)).astype(np.float32))
    big = torch.nn.functional.avg_pool2d(big, 5, 1, 2)  # smooth texture DIS can track
    big = (big - big.min()) / (big.max() - big.min())
    ref_y, cur_y = big[..., 8:72, 8:72], big[..., 8:72, 12:76]  # cur(p) = ref(p + 4 luma px in x)
    chroma = torch.full((1, 1, 32, 32), 0.5)
    ref, cur = pack_yuv420(ref_y, chroma, chroma), pack_yuv420(cur_y, chroma, chroma)
    flow = dis_flow(cur, ref)
    assert flow.shape == (1, 2, 32, 32)
    inner = flow[..., 4:-4, 4:-8]  # away from the borders the shift leaves unseen
    assert abs(float(inner[:, 0].median()) - 2.0) < 0.25  # 4 luma px = 2 packed px
    assert abs(float(inner[:, 1].median())) < 0.25
    assert float((warp(ref, flow) - cur)[..., 4:-4, 4:-8].abs().mean()) < \
        float((ref - cur)[..., 4:-4, 4:-8].abs().mean()) / 3


def test_exporting_an_intra_run_keeps_the_models_p_frame_net(data_dir, tmp_path, monkeypatch,
                                                             make_model):
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_intra
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-both"))  # intra + inter
    monkeypatch.setenv("LVC_MODELS", str(models))
    inter_before = load_model("lvc-both").inter.state_dict()
    run = tmp_path / "run"
    train_intra([data_dir], run, steps=1, batch=2, patch=64, init="lvc-both", log=lambda *a: None)
    export_model(run, models / "lvc-both")
    model = load_model("lvc-both")
    assert model.inter is not None
    for k, v in model.inter.state_dict().items():
        assert torch.equal(v, inter_before[k]), k
    # Written somewhere new, the export takes the other nets and their records from the model
    # the run started from, not a model with an intra net alone.
    fresh = export_model(run, tmp_path / "elsewhere" / "lvc-cand")
    model = load_model(str(fresh.with_suffix("")))
    assert model.inter is not None
    assert model.card.get("description") == load_model("lvc-both").card.get("description")
    for k, v in model.inter.state_dict().items():
        assert torch.equal(v, inter_before[k]), k


def test_saving_the_same_weights_twice_gives_the_same_file(tmp_path):
    """The card pins the weights by sha256, so an export must be reproducible byte for byte."""
    from lvcodec.nets.intra import IntraNet
    from lvcodec.weights import file_sha256, save_model

    torch.manual_seed(0)
    net = IntraNet(**TINY)
    hashes = set()
    for _ in range(8):
        save_model(tmp_path / "m", net, {})
        hashes.add(file_sha256(tmp_path / "m.safetensors"))
    assert len(hashes) == 1


def test_the_motion_warmup_fades_the_warp_loss_from_its_first_step():
    from lvcodec.train.stages import motion_warp_weight as w

    assert w(0, (0, 3000)) == 1.0 and w(1500, (0, 3000)) == 0.5 and w(3000, (0, 3000)) == 0.0
    assert w(9000, (0, 3000)) == 0.0
    assert w(2000, (2549, 1000)) == 0.0 and w(2549, (2549, 1000)) == 1.0
    assert w(3049, (2549, 1000)) == 0.5 and w(3549, (2549, 1000)) == 0.0


def test_bi_run_starts_from_the_p_net_resumes_and_exports_a_b_frame_model(
        data_dir, tmp_path, monkeypatch, make_model):
    from lvcodec.errors import ConfigError
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-p", bi=False))
    monkeypatch.setenv("LVC_MODELS", str(models))
    torch.manual_seed(0)
    run = tmp_path / "run"
    kw = dict(batch=2, patch=64, init="lvc-p", stage="bi", log=lambda *a: None)
    with pytest.raises(ConfigError, match="2\\^k \\+ 1"):
        train_inter([data_dir], run, frames=4, steps=1, **kw)
    assert train_inter([data_dir], run, frames=3, steps=2, **kw)["step"] == 2
    assert train_inter([data_dir], run, frames=3, steps=1, **kw)["step"] == 3  # resumes
    before = load_model("lvc-p")
    export_model(run, models / "lvc-b")
    model = load_model("lvc-b")
    assert model.bi is not None and model.card["training_bi"]["steps"] == 3
    assert "B-frame codec" in model.card["description"]
    for old, new in ((before.intra, model.intra), (before.inter, model.inter)):  # both frozen
        for k, v in new.state_dict().items():
            assert torch.equal(v, old.state_dict()[k]), k


def test_a_new_b_net_is_the_p_net_when_both_references_are_the_same(tmp_path, monkeypatch,
                                                                    make_model):
    """BiNet.from_inter starts every B-only path at zero: two equal references give the P net's
    picture (what B training starts from)."""
    from lvcodec.nets.bi import BiNet
    from lvcodec.weights import load_model

    make_model(tmp_path, name="lvc-p", bi=False)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path))
    inter = load_model("lvc-p").inter
    bi = BiNet.from_inter(inter).eval()
    torch.manual_seed(1)
    x, ref = torch.rand(1, 6, 64, 64), torch.rand(1, 6, 64, 64)
    q = torch.tensor([30.0])
    with torch.no_grad():
        p = inter(x, ref, inter.ref_features(ref), q)
        b = bi(x, (ref, ref), (bi.ref_features(ref),) * 2, q)
    assert torch.allclose(p["x_hat"], b["x_hat"], atol=1e-5)
    assert torch.allclose(p["likelihoods"]["y"], b["likelihoods"]["y"], atol=1e-5)


def test_a_step_with_a_non_finite_loss_is_skipped_not_applied(tmp_path):
    """One diverging sample must not turn every weight into NaN (it happened in B training)."""
    from lvcodec.train.trainer import _loop

    net = torch.nn.Linear(2, 1)
    params = list(net.parameters())
    opt, aux_opt = torch.optim.Adam(params, 1e-2), torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    losses = iter([1.0, float("inf"), float("nan"), 1.0])

    def step(_):
        loss = net(torch.ones(1, 2)).sum() * next(losses)
        return {"loss": loss, "bpp": loss.detach(), "psnr": loss.detach()}

    messages = []
    info = _loop(tmp_path / "run", net, params, opt, aux_opt, {"step": 0, "seconds": 0.0, "config": {}},
                 step, lambda: torch.zeros(1, requires_grad=True).sum(), minutes=None, steps=2,
                 checkpoint_minutes=60, rank=0, log=messages.append)
    assert info["step"] == 2 and info["skipped"] == 2 and len(messages) == 2
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_enhance_run_trains_only_the_enhancement_net_and_exports_it(data_dir, tmp_path, monkeypatch,
                                                                     make_model):
    from lvcodec.errors import ConfigError
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-b"))
    monkeypatch.setenv("LVC_MODELS", str(models))
    torch.manual_seed(0)
    run = tmp_path / "run"
    kw = dict(batch=1, init="lvc-b", stage="enhance", frames=3, log=lambda *a: None)
    with pytest.raises(ConfigError, match="multiple of 128"):
        train_inter([data_dir], run, patch=64, steps=1, **kw)
    assert train_inter([data_dir], run, patch=128, steps=2, **kw)["step"] == 2
    export_model(run, models / "lvc-ds")
    before, model = load_model("lvc-b"), load_model("lvc-ds")
    assert model.enhance is not None and model.card["training_enhance"]["steps"] == 2
    assert "enhancement" in model.card["description"]
    assert any(v.abs().sum() > 0 for v in model.enhance.out.parameters())  # it learned something
    for old, new in ((before.intra, model.intra), (before.bi, model.bi)):  # frozen
        for k, v in new.state_dict().items():
            assert torch.equal(v, old.state_dict()[k]), k


def test_joint_enhance_run_also_trains_the_b_net(data_dir, tmp_path, monkeypatch, make_model):
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-b"))
    monkeypatch.setenv("LVC_MODELS", str(models))
    torch.manual_seed(0)
    run = tmp_path / "run"
    info = train_inter([data_dir], run, batch=1, patch=128, steps=1, init="lvc-b", stage="enhance",
                       frames=3, joint=True, log=lambda *a: None)
    assert info["joint"] is True
    export_model(run, models / "lvc-joint")
    before, model = load_model("lvc-b"), load_model("lvc-joint")
    changed = [k for k, v in model.bi.state_dict().items() if not torch.equal(v, before.bi.state_dict()[k])]
    assert changed and model.enhance is not None


def test_a_weights_only_fp16_checkpoint_resumes_with_a_fresh_optimizer(data_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    from lvcodec.train.trainer import train_intra

    run = tmp_path / "run"
    kw = dict(batch=2, patch=64, config=TINY)
    train_intra([data_dir], run, steps=1, log=lambda *a: None, **kw)
    # As committed under models/checkpoints/: fp16 weights, no optimizer state.
    state = {k: (v.half() if v.is_floating_point() else v)
             for k, v in load_file(str(run / "net.safetensors")).items()}
    save_file(state, str(run / "net.safetensors"))
    (run / "optim.safetensors").unlink()
    lines = []
    info = train_intra([data_dir], run, steps=1, log=lines.append, **kw)
    assert info["step"] == 2 and any("optimizer state reset" in line for line in lines)


def test_a_widened_intra_run_starts_from_its_init_model_and_exports_the_wider_net(
        data_dir, tmp_path, tiny_models, monkeypatch, make_clip):
    from lvcodec.codec.api import decode_file, encode_file
    from lvcodec.errors import ConfigError
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_intra
    from lvcodec.weights import load_model

    narrow = load_model("lvc-tiny")
    n = narrow.intra.config["N"]
    run = tmp_path / "run"
    kw = dict(batch=2, patch=64, init="lvc-tiny", log=lambda *a: None)
    info = train_intra([data_dir], run, steps=1, width=n + 8, **kw)
    assert info["config"]["N"] == n + 8
    assert info["stages"][0]["from_step"] == narrow.card["training"]["steps"]
    with pytest.raises(ConfigError, match="new run"):
        train_intra([data_dir], run, steps=1, width=n + 16, **kw)
    models = tmp_path / "models"
    export_model(run, models / "lvc-wide")
    monkeypatch.setenv("LVC_MODELS", str(models))
    wide = load_model("lvc-wide")
    assert wide.intra.config["N"] == n + 8 and "widened" in wide.card["training"]["stages"][0]["note"]

    info = train_intra([data_dir], tmp_path / "run2", steps=1, latent=narrow.intra.config["M"] + 8, **kw)
    assert info["config"]["groups"][-1] == 8 and info["stages"][0]["M"] == narrow.intra.config["M"] + 8
    # A stream of the wider latent decodes to the encoder's pictures (the decoder checks hashes).
    export_model(tmp_path / "run2", models / "lvc-wide-latent")
    clip = make_clip(tmp_path / "c.y4m", frames=2)
    encode_file(clip, tmp_path / "a.lvc", model="lvc-wide-latent", intra_period=1, progress=False)
    stats = decode_file(tmp_path / "a.lvc", tmp_path / "a.y4m", progress=False)
    assert stats["frames"] == 2


def test_a_new_optimizer_warms_its_learning_rate_up_and_a_resumed_one_does_not():
    from lvcodec.train.trainer import LrWarmup

    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([w], lr=1e-3)
    schedule = LrWarmup(opt, 4)
    seen = []
    for _ in range(6):
        w.grad = torch.ones(3)
        schedule.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])
    assert LrWarmup(opt, 4).done == 6  # the state's own step count: no second warm-up
    # The first step of a new Adam moves every weight by lr whatever its gradient: warmed, by lr/4.
    assert float((1 - w.detach())[0]) == pytest.approx(2.5e-4 + 5e-4 + 7.5e-4 + 3e-3, rel=1e-3)


def test_training_shows_the_prediction_in_the_blocks_where_the_codec_would():
    from lvcodec.codec.frame_coder import BLOCK, EncodeChannel, show_prediction
    from lvcodec.train.stages import _shown

    torch.manual_seed(0)
    x = torch.rand(2, 6, 32, 48, dtype=torch.float64)
    bad = (torch.rand(2, 1, 4, 6) < 0.5).repeat_interleave(BLOCK, 2).repeat_interleave(BLOCK, 3)
    pred = (x + 0.2 * torch.randn_like(x) * bad).clamp(0, 1)  # exact in some blocks
    x_hat = (x + 0.05 * torch.randn_like(x)).requires_grad_()
    shown = _shown({"x_hat": x_hat, "warped": pred}, x, True)["x_hat"]
    shown.sum().backward()  # the synthesis learns only where it is shown
    for i in range(2):  # each picture of the batch as the encoder flags and shows it alone
        flags = EncodeChannel("cpu").block_map(x[i:i + 1], x_hat[i:i + 1].detach(), pred[i:i + 1],
                                               (32, 48))
        assert 0 < flags.sum() < flags.numel()  # both kinds of block occur
        assert torch.equal(shown[i:i + 1].detach(),
                           show_prediction(x_hat[i:i + 1].detach(), pred[i:i + 1], flags))
        full = flags.repeat_interleave(BLOCK, 0).repeat_interleave(BLOCK, 1)
        assert torch.equal(x_hat.grad[i, 0] == 0, full)
    assert _shown({"x_hat": x_hat}, x, False)["x_hat"] is x_hat


def test_an_affine_window_is_a_crop_when_it_does_not_move_and_shifts_by_fractions_of_a_pixel():
    from lvcodec.train.data import _crop, _warp_window

    rng = np.random.default_rng(1)
    frame = tuple(rng.integers(0, 256, s, dtype=np.uint8) for s in ((200, 240), (100, 120), (100, 120)))
    p, top, left = 64, 20, 34
    centre = np.array([left + (p - 1) / 2, top + (p - 1) / 2])
    # The identity at an even position: the co-located crop, chroma siting included.
    for got, want in zip(_warp_window(frame, p, np.eye(2), centre), _crop(frame, top, left, p)):
        assert np.array_equal(got, want)
    # Two windows 2 luma pixels apart at the same fractional phase: the same samples, moved by 2
    # luma and 1 chroma columns.
    a = _warp_window(frame, p, np.eye(2), centre + [2.3, 0])
    b = _warp_window(frame, p, np.eye(2), centre + [0.3, 0])
    for x, y, k in zip(a, b, (2, 1, 1)):
        assert np.array_equal(x[:, :-k], y[:, k:])
    assert not np.array_equal(b[0], _crop(frame, top, left, p)[0])  # a fraction of a pixel: resampled


def test_affine_sequences_are_drawn_only_when_asked_for_and_zoom_turn_or_move():
    from lvcodec.errors import ConfigError
    from lvcodec.train.config import TrainConfig
    from lvcodec.train.data import SequencePatches

    rng = np.random.default_rng(2)
    still = tuple(rng.integers(0, 256, s, dtype=np.uint8) for s in ((240, 260), (120, 130), (120, 130)))
    plain = SequencePatches([], [still], patch=64, length=4, seed=5)
    again = SequencePatches([], [still], patch=64, length=4, seed=5, affine=0.0)
    assert torch.equal(plain.batch(6), again.batch(6))  # share 0: the draws of a run without it
    moving = SequencePatches([], [still], patch=64, length=4, seed=5, affine=1.0)
    seq = moving._affine_window(still)
    assert seq is not None and len(seq) == 4
    assert [tuple(c.shape) for c in seq[0]] == [(64, 64), (32, 32), (32, 32)]
    assert all(not np.array_equal(seq[t][0], seq[t + 1][0]) for t in range(3))
    assert moving._affine_window(tuple(c[:70, :70] for c in still)) is None  # no room: a pan instead
    assert moving.batch(3).shape == (3, 4, 6, 32, 32)
    with pytest.raises(ConfigError, match="--affine is for the sequence stages"):
        TrainConfig(steps=1, affine=0.5).validate()
    with pytest.raises(ConfigError, match="share of the synthesised"):
        TrainConfig(stage="inter", steps=1, affine=1.5).validate()


def test_a_block_map_run_records_its_stage(data_dir, tmp_path, monkeypatch, make_model):
    from lvcodec.errors import ConfigError
    from lvcodec.train.trainer import train_inter

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-p", bi=False))
    monkeypatch.setenv("LVC_MODELS", str(models))
    run = tmp_path / "run"
    kw = dict(batch=2, patch=64, init="lvc-p", frames=3, log=lambda *a: None)
    with pytest.raises(ConfigError, match="no block-prediction map"):
        train_inter([data_dir], tmp_path / "enh", steps=1, stage="enhance", block_map=True, **kw)
    train_inter([data_dir], run, steps=1, stage="bi", **kw)
    state = train_inter([data_dir], run, steps=1, stage="bi", block_map=True, **kw)
    assert [s.get("block_map", False) for s in state["stages"]] == [False, True]
    state = train_inter([data_dir], run, steps=1, stage="bi", block_map=True, affine=0.5, **kw)
    assert [s.get("affine", 0.0) for s in state["stages"]] == [0.0, 0.0, 0.5]


def test_a_pred_skip_run_exports_a_model_whose_streams_decode_to_the_encoders_pictures(
        data_dir, tmp_path, monkeypatch, make_model, make_clip):
    """--pred-skip: the stage's net gains the gate on a new run (recorded in its stage history),
    only there; the exported model's P and B frames, gate no longer zero, decode hash-checked."""
    from lvcodec.codec.api import decode_file, encode_file
    from lvcodec.errors import ConfigError
    from lvcodec.train.config import TrainConfig
    from lvcodec.train.export import export_model
    from lvcodec.train.trainer import train_inter
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    _on_current_lambda_range(make_model(models, name="lvc-pb", bi=True))
    monkeypatch.setenv("LVC_MODELS", str(models))
    kw = dict(batch=2, patch=64, init="lvc-pb", log=lambda *a: None)
    with pytest.raises(ConfigError, match="--pred-skip is for --stage"):
        TrainConfig(stage="intra", pred_skip=True, steps=1).validate()
    train_inter([data_dir], tmp_path / "plain", steps=1, frames=2, **kw)
    with pytest.raises(ConfigError, match="new run"):
        train_inter([data_dir], tmp_path / "plain", steps=1, frames=2, pred_skip=True, **kw)

    for stage, frames in (("inter", 2), ("bi", 3)):
        run = tmp_path / stage
        info = train_inter([data_dir], run, steps=2, frames=frames, stage=stage, pred_skip=True,
                           lr=1e-2, **kw)
        assert "prediction skip" in info["stages"][0]["note"]
        export_model(run, models / "lvc-pb")
    model = load_model("lvc-pb")
    for net in (model.inter, model.bi):
        assert net.config.get("pred_skip") and net.pred_gate.weight.abs().max() > 0
    clip = make_clip(tmp_path / "c.y4m", frames=5)
    for structure in ({"gop": 1}, {"gop": 4}):
        encode_file(clip, tmp_path / "a.lvc", model="lvc-pb", intra_period=4, progress=False,
                    overwrite=True, **structure)
        stats = decode_file(tmp_path / "a.lvc", tmp_path / "a.y4m", progress=False, overwrite=True)
        assert stats["frames"] == 5


def test_graft_takes_the_named_nets_and_their_records_from_the_donor(tmp_path, monkeypatch, make_model):
    from lvcodec.train.export import graft_nets
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    make_model(models, name="lvc-a", seed=0)
    make_model(models, name="lvc-b", seed=1)
    monkeypatch.setenv("LVC_MODELS", str(models))
    a, b = load_model("lvc-a"), load_model("lvc-b")
    b.card["training_inter"] = {"steps": 7}
    (models / "lvc-b.json").write_text(json.dumps(b.card))
    graft_nets("lvc-a", "lvc-b", ("inter",), models / "lvc-ab")
    ab = load_model("lvc-ab")  # loads: the card's hash is the new file's
    assert ab.sha256 not in (a.sha256, b.sha256)
    for mine, want in ((ab.intra, a.intra), (ab.inter, b.inter)):
        for (k, v), w in zip(mine.state_dict().items(), want.state_dict().values()):
            assert torch.equal(v, w), k
    assert ab.card["training_inter"] == {"steps": 7} and ab.card["training"] == a.card["training"]
