"""`lvc train`: resumable rate-distortion training of the nets (torchrun-ready).

Stages (DESIGN §7): `intra` on single patches (train_intra); the sequence stages `inter`, `bi`
and `enhance` (train_inter), each declared once in lvcodec/train/stages.py: what it trains, from
what, with which frozen nets, and how one step codes a sequence.
"""

import csv
import json
import os
import signal
import time
from pathlib import Path

import torch
import torch.nn as nn

from lvcodec.errors import ConfigError
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import remap_qualities
from lvcodec.rd import LAMBDA_RANGE, LEGACY_LAMBDA_RANGE, NUM_QUALITIES
from lvcodec.train.checkpoint import load_checkpoint, save_checkpoint
from lvcodec.train.config import TrainConfig
from lvcodec.train.data import IntraPatches, Prefetcher, SequencePatches, load_frames, load_videos
from lvcodec.train.loss import rd_loss
from lvcodec.train.precision import choose_precision
from lvcodec.train.stages import STAGES, CodecNets

__all__ = ["train", "train_intra", "train_inter", "CodecNets"]

LOG_COLUMNS = ["step", "seconds", "loss", "bpp", "psnr_yuv", "aux"]


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return int(os.environ.get("RANK", "0")), world


def _device(device: str, world: int) -> str:
    if device == "cuda" and world > 1:
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    return device


def _load_init(init: str | None):
    if not init:
        return None
    from lvcodec.weights import load_model

    return load_model(init)


def _split_params(net: nn.Module):
    trainable = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    params = [p for n, p in trainable if not n.endswith(".quantiles")]
    aux_params = [p for n, p in trainable if n.endswith(".quantiles")]
    return params, aux_params


def _adam(params, lr: float, **kw) -> torch.optim.Optimizer:
    """Adam with its fused kernel where torch has one (one pass over all weights, not 600)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, foreach=True, **kw)


def _match_layout(opt: torch.optim.Optimizer) -> None:
    """Optimizer state read from a checkpoint (contiguous) in its parameter's memory format."""
    for p, st in opt.state.items():
        for k, v in st.items():
            if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                st[k] = torch.empty_like(p).copy_(v)


def _migrate_lambda(nets, card: dict, lambda_range, log) -> None:
    """Re-index a model trained on another lambda range: its q gives the gains of the q that had
    the same lambda (rd.equivalent_quality); qualities beyond the old range start extrapolated."""
    old = tuple(card.get("lambda_range", LEGACY_LAMBDA_RANGE))
    if tuple(lambda_range) == old:
        return
    n = sum(remap_qualities(net, old, lambda_range) for net in nets if net is not None)
    log(f"lambda range {old[0]}..{old[1]} -> {lambda_range[0]}..{lambda_range[1]}: "
        f"{n} quality-gain banks re-indexed")


def _runtime(device: str, precision: str, threads: int | None, log):
    """Threads and arithmetic of a run, said in its log."""
    if threads:
        torch.set_num_threads(threads)
    prec = choose_precision(device, precision)
    log(f"precision {prec.name} ({prec.reason}); {torch.get_num_threads()} CPU threads")
    return prec


class BatchSize:
    """The batch a run draws; on running out of GPU memory it halves (down to 1), so a GPU run
    can start at a batch chosen for the largest card and settle at what this one holds."""

    def __init__(self, batch: int, log):
        self.value, self.log = batch, log

    def halve(self) -> bool:
        if self.value <= 1:
            return False
        self.value //= 2
        self.log(f"out of GPU memory: batch now {self.value}")
        return True


class LrWarmup:
    """A new Adam state's first steps are sign(gradient) x lr for every weight: from a trained
    model one such step at lr 1e-4 cost 8 dB at q 63 (benchmarks/notes/lr-warmup-2026-12-02.md),
    and every run started from a shipped model (which holds no optimizer state) began so. The
    learning rate rises linearly from 0 over the optimizer's first `steps` steps; a resumed
    optimizer continues where its state is."""

    def __init__(self, opt: torch.optim.Optimizer, steps: int):
        self.opt, self.steps = opt, steps
        self.base = [g["lr"] for g in opt.param_groups]
        self.done = max((int(st["step"]) for st in opt.state.values() if "step" in st), default=0)

    def step(self) -> None:
        """opt.step() at this step's learning rate."""
        if self.done <= self.steps:
            scale = min(1.0, (self.done + 1) / self.steps) if self.steps else 1.0
            for g, lr in zip(self.opt.param_groups, self.base):
                g["lr"] = lr * scale
        self.opt.step()
        self.done += 1


def _loop(run_dir: Path, net, params, opt, aux_opt, info: dict, step_fn, aux_fn, *, minutes,
          steps, checkpoint_minutes, rank, log, size: BatchSize | None = None,
          warmup: int = 0) -> dict:
    """The loop every stage shares: steps, CSV log, periodic and final checkpoints, SIGTERM,
    a learning-rate warm-up for a new optimizer state, and (with `size`) a batch that halves
    when the GPU runs out of memory."""
    log_path = run_dir / "log.csv"
    new_log = not log_path.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "a", newline="")
    writer = csv.writer(log_file)
    if new_log:
        writer.writerow(LOG_COLUMNS)
    t_start = time.time()
    t_ckpt = t_start
    stop = {"now": False}
    # SIGTERM (kill, a job scheduler) ends the run at the next step, after a final checkpoint.
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    done = 0
    acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "aux": 0.0, "n": 0}
    schedule = LrWarmup(opt, warmup)
    if schedule.done < warmup:
        log(f"learning rate warms up over the optimizer's first {warmup} steps")
    try:
        while True:
            if stop["now"] or (steps is not None and done >= steps):
                break
            if minutes is not None and time.time() - t_start >= minutes * 60:
                break
            try:
                out = step_fn(info["step"])
            except torch.OutOfMemoryError:
                if size is None or not size.halve():
                    raise
                opt.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                continue
            opt.zero_grad(set_to_none=True)
            if not torch.isfinite(out["loss"]):
                # A rare diverging sample must not turn every weight into NaN: skip it.
                info["skipped"] = info.get("skipped", 0) + 1
                terms = ", ".join(f"{k} {float(out[k])}" for k in ("bpp", "mse") if k in out)
                log(f"step {info['step']}: loss {out['loss'].item()} ({terms}), skipped "
                    f"({info['skipped']} so far)")
                continue
            try:
                out["loss"].backward()
            except torch.OutOfMemoryError:
                del out
                if size is None or not size.halve():
                    raise
                opt.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                continue
            if not torch.isfinite(torch.nn.utils.clip_grad_norm_(params, 1.0)):
                info["skipped"] = info.get("skipped", 0) + 1
                log(f"step {info['step']}: non-finite gradient, skipped ({info['skipped']} so far)")
                opt.zero_grad(set_to_none=True)
                continue
            schedule.step()
            aux = torch.zeros(())
            if aux_opt is not None:  # None: no entropy model trains in this stage
                aux = aux_fn()
                aux_opt.zero_grad(set_to_none=True)
                aux.backward()
                aux_opt.step()
            done += 1
            info["step"] += 1
            for k in ("loss", "bpp", "psnr"):
                acc[k] += out[k].item()
            if "bpp_motion" in out:
                acc["bpp_motion"] = acc.get("bpp_motion", 0.0) + float(out["bpp_motion"].detach())
            acc["aux"] += aux.item()
            acc["n"] += 1
            if info["step"] % 100 == 0 and rank == 0:
                n = acc.pop("n")
                row = [info["step"], round(info["seconds"] + time.time() - t_start, 1)] + [
                    round(acc[k] / n, 5) for k in ("loss", "bpp", "psnr", "aux")]
                writer.writerow(row)
                log_file.flush()
                motion = f" (motion {acc['bpp_motion'] / n:.4f})" if "bpp_motion" in acc else ""
                log(f"step {row[0]}  loss {row[2]:.4f}  bpp {row[3]:.4f}{motion}  "
                    f"psnr-yuv {row[4]:.2f}")
                acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "aux": 0.0, "n": 0}
            if rank == 0 and time.time() - t_ckpt >= checkpoint_minutes * 60:
                _save(run_dir, net, opt, aux_opt, info, t_start)
                t_ckpt = time.time()
    finally:
        if rank == 0:
            _save(run_dir, net, opt, aux_opt, info, t_start)
        log_file.close()
    return info


def _resume(run_dir: Path, net, opt, aux_opt, log) -> dict | None:
    """The run's checkpoint loaded into net and optimizers (None if the run is new)."""
    info = load_checkpoint(run_dir, net, _optimizers(opt, aux_opt))
    if info is not None:
        log(f"resuming {run_dir} at step {info['step']}")
        if info.pop("optim_reset"):
            log("optimizer state reset (its parameter groups changed)")
    return info


def _optimizers(opt, aux_opt) -> dict:
    return {"opt": opt} if aux_opt is None else {"opt": opt, "aux": aux_opt}


def _save(run_dir, net, opt, aux_opt, info, t_start):
    saved = dict(info, seconds=info["seconds"] + time.time() - t_start)
    save_checkpoint(run_dir, net, _optimizers(opt, aux_opt), saved)
    (Path(run_dir) / "last_save.json").write_text(json.dumps({"step": saved["step"]}))


_T = TrainConfig()  # the defaults below are TrainConfig's


def train(data_dirs, run_dir: Path, config: TrainConfig, log=print) -> dict:
    """Run `config` (validated) on `data_dirs`, checkpointing in `run_dir`; returns the run's
    state (its step count, seconds, ...). `config.device` must be resolved ('cpu', 'cuda')."""
    config.validate()
    common = dict(minutes=config.minutes, steps=config.steps, batch=config.batch,
                  patch=config.patch, lr=config.lr, warmup=config.warmup, device=config.device,
                  init=config.init,
                  checkpoint_minutes=config.checkpoint_minutes, precision=config.precision,
                  threads=config.threads, log=log)
    if config.stage == "intra":
        return train_intra(data_dirs, run_dir, width=config.width, latent=config.latent, **common)
    return train_inter(data_dirs, run_dir, frames=config.frames, stage=config.stage,
                       joint=config.joint, block_map=config.block_map, max_step=config.max_step,
                       pred_skip=config.pred_skip, affine=config.affine,
                       motion_warmup=config.motion_warmup, **common)


def train_intra(data_dirs, run_dir: Path, *, minutes: float | None = None, steps: int | None = None,
                batch: int = _T.batch, patch: int = _T.patch, lr: float = _T.lr,
                warmup: int = _T.warmup, device: str = "cpu",
                init: str | None = None, config: dict | None = None,
                checkpoint_minutes: float = _T.checkpoint_minutes, precision: str = _T.precision,
                threads: int | None = None, width: int | None = None, latent: int | None = None,
                log=print) -> dict:
    """Train until `minutes` or `steps` (more) pass; resumes from run_dir when it holds a checkpoint.

    Without a checkpoint, starts from the weights of model `init` (so training accumulates across
    machines that only keep the shipped model) or from scratch. `config` applies to a run from
    scratch only; a resumed run or an init model keeps its own architecture, except that a new
    run widens the init model's hidden channels to `width` and its latent to `latent` channels
    (nets/widen.py: it starts as the init model's net).
    """
    rank, world = _distributed()
    if rank != 0:
        log = lambda *a, **k: None  # noqa: E731  (one voice per run)
    device = _device(device, world)
    run_dir = Path(run_dir)
    # The net is built as what it continues: the run's checkpoint, else the init model.
    init_model = None
    widened = None
    if (run_dir / "state.json").exists():
        config = json.loads((run_dir / "state.json").read_text())["config"]
        if (width or config["N"], latent or config["M"]) != (config["N"], config["M"]):
            raise ConfigError(f"{run_dir} holds a run with N={config['N']}, M={config['M']}; "
                              "--width and --latent are for a new run")
    else:
        init_model = _load_init(init)
        if init_model is not None:
            config = init_model.intra.config
            if (width, latent) != (None, None):
                from lvcodec.nets.widen import widen_intra

                widened = widen_intra(init_model.intra, N=width, M=latent)
                config = widened.config
        elif latent is not None:
            raise ConfigError("--latent widens the init model's latent; a run from scratch has none")
        elif width is not None:
            config = {**(config or {}), "N": width}
    prec = _runtime(device, precision, threads, log)
    net = prec.module(IntraNet(**(config or {})).to(device))
    params, aux_params = _split_params(net)
    opt = _adam(params, lr)
    aux_opt = _adam(aux_params, 1e-3)
    info = _resume(run_dir, net, opt, aux_opt, log)
    if info is None:
        info = {"step": 0, "config": net.config, "seconds": 0.0, "lambda_range": list(LAMBDA_RANGE)}
        if init_model is not None:
            from lvcodec.weights import load_net_state, net_state

            training = init_model.card.get("training", {})
            info["init"] = init  # export keeps its other nets when written to a new place
            info["step"] = int(training.get("steps", 0))
            info["seconds"] = float(training.get("seconds", 0.0))
            load_net_state(net, net_state(widened if widened is not None else init_model.intra))
            if widened is not None:
                before = init_model.intra.config
                change = ", ".join(f"{k} {before[k]} -> {config[k]}" for k in ("N", "M")
                                   if before[k] != config[k])
                info["stages"] = [{"from_step": info["step"], "N": config["N"], "M": config["M"],
                                   "note": f"widened ({change}), function-preserving (nets/widen.py)"}]
                log(f"widened the intra net: {change}")
            _migrate_lambda([net], init_model.card, LAMBDA_RANGE, log)
            log(f"starting from model {init} ({info['step']} steps)")
    lambda_range = tuple(info.setdefault("lambda_range", list(LEGACY_LAMBDA_RANGE)))
    _match_layout(opt)
    for g in opt.param_groups:
        g["lr"] = lr
    net.train()
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    # Each rank draws its own patches; resuming continues with fresh ones rather than replaying.
    frames, sources = load_frames(data_dirs, with_sources=True)
    data = IntraPatches(frames, patch=patch, seed=info["step"] * world + rank, sources=sources)
    log(f"{len(data.frames)} training frames; batch {batch} of {patch}x{patch}; lr {lr}; "
        f"lambda {lambda_range[0]}..{lambda_range[1]}")
    size = BatchSize(batch, log)
    batches = Prefetcher(lambda: data.batch(size.value))

    def step(_):
        x = prec.tensor(batches.next()[:size.value].to(device))
        q = torch.randint(0, NUM_QUALITIES, (x.shape[0],), device=device).float()
        with prec.autocast(x.device.type):
            out = model(x, q)
        return rd_loss(out, x, q, lambda_range)

    try:
        return _loop(run_dir, net, params, opt, aux_opt, info, step, net.aux_loss, minutes=minutes,
                     steps=steps, checkpoint_minutes=checkpoint_minutes, rank=rank, log=log,
                     size=size, warmup=warmup)
    finally:
        batches.close()


def train_inter(data_dirs, run_dir: Path, *, frames: int = _T.frames, minutes: float | None = None,
                steps: int | None = None, batch: int = _T.batch, patch: int = _T.patch,
                lr: float = _T.lr, warmup: int = _T.warmup, device: str = "cpu",
                init: str | None = None,
                checkpoint_minutes: float = _T.checkpoint_minutes,
                motion_warmup: int | None = None, stage: str = "inter", joint: bool = False,
                block_map: bool = False, max_step: int = _T.max_step, pred_skip: bool = False,
                affine: float = _T.affine, precision: str = _T.precision,
                threads: int | None = None, log=print) -> dict:
    """Train the net of sequence stage `stage` (lvcodec/train/stages.py) on `frames`-long
    sequences (hierarchical GOPs of 2^k + 1 for bi and enhance); the other nets stay frozen.

    A new run starts from model `init`: from its net of this stage if it has one, otherwise from
    the stage's fresh net (the P net as a copy of the intra codec, the B net as the P net in both
    branches, a new enhancement net). A P run warms the motion up over its first 3000 steps;
    `motion_warmup=N` starts another warm-up of N steps here. `joint` (enhance): the B net trains
    too. `block_map` (inter, bi): every frame is scored and referenced as the codec shows it,
    with the prediction in the blocks where it is better (stages._shown). `max_step` (inter):
    the real clips' frame distances reach this (half of them above 3). `pred_skip` (a new run):
    the P and B nets get the prediction skip (InterNet.with_prediction_skip). `affine`: the
    share of synthesised sequences that zoom and rotate (data.SequencePatches).
    """
    if stage not in STAGES:
        raise ConfigError(f"no training stage {stage!r} (one of {', '.join(STAGES)})")
    spec = STAGES[stage]
    if block_map and not spec.block_map:
        raise ConfigError(f"{spec.title} training has no block-prediction map")
    problem = spec.check_frames(frames, patch)
    if problem:
        raise ConfigError(problem)
    rank, world = _distributed()
    if rank != 0:
        log = lambda *a, **k: None  # noqa: E731
    device = _device(device, world)
    prec = _runtime(device, precision, threads, log)
    run_dir = Path(run_dir)
    init_model = _load_init(init)
    if (run_dir / "state.json").exists():
        nets = CodecNets.from_config(json.loads((run_dir / "state.json").read_text())["config"])
        resumed = getattr(nets, spec.net)
        pred_skip = pred_skip and resumed is not None and "pred_skip" not in resumed.config
        if pred_skip:
            raise ConfigError(f"--pred-skip is for a new run ({run_dir} holds one without it)")
    else:
        if init_model is None:
            raise ConfigError("inter training starts from a model with a trained intra net (--init)")
        if spec.needs and getattr(init_model, spec.needs) is None:
            raise ConfigError(f"{spec.title} training starts from a model with a trained "
                              f"{STAGES[spec.needs].title} net (--init)")
        nets = CodecNets(init_model.intra, init_model.inter, init_model.bi, init_model.enhance)
        if nets.inter is None:
            nets.inter = STAGES["inter"].fresh(nets)
        if getattr(nets, spec.net) is None:
            setattr(nets, spec.net, spec.fresh(nets))
        if pred_skip:
            setattr(nets, spec.net, getattr(nets, spec.net).with_prediction_skip())
            log(f"the {spec.title} net gets the prediction skip (its gate zero at first)")
        _migrate_lambda([nets], init_model.card, LAMBDA_RANGE, log)
    if getattr(nets, spec.net) is None:
        raise ConfigError(f"{run_dir} holds another stage's run: give {spec.title} training its "
                          "own --run-dir")
    trained_nets = spec.trained(nets, joint)
    for net in (nets.intra, nets.inter, nets.bi, nets.enhance):
        if net is not None:
            net.requires_grad_(False)
    for net in trained_nets:  # whole nets, or parts of one (the motion stage's estimators)
        net.requires_grad_(True)
    params, aux_params = _split_params(nets)
    # The factorized priors' densities learn 10x faster: a new motion hyper-latent starts with a
    # broad density that cost ~5 bits a symbol (0.04 bpp, half a P frame at low rates) for
    # hundreds of steps at the nets' rate.
    priors = {id(p) for n, p in nets.named_parameters()
              if ".entropy_bottleneck." in f".{n}" and not n.endswith(".quantiles")}
    groups = [{"params": [p for p in params if id(p) not in priors], "lr": lr},
              {"params": [p for p in params if id(p) in priors], "lr": 10 * lr}]
    nets.to(device)
    prec.module(nets)
    opt = _adam(groups, lr)
    aux_opt = _adam(aux_params, 1e-3) if aux_params else None
    info = _resume(run_dir, nets, opt, aux_opt, log)
    if info is None:
        training = init_model.card.get(spec.card_key, {})
        info = {"step": int(training.get("steps", 0)), "seconds": float(training.get("seconds", 0.0)),
                "config": nets.config(), "intra_card": init_model.card, "stage": stage,
                "joint": joint, "lambda_range": list(LAMBDA_RANGE)}
        log(f"starting from model {init} ({stage}: {info['step']} steps)")
    elif init_model is not None and init_model.intra.config == nets.intra.config:
        # P frames are coded against the I frames of the intra net they ship with: a resumed run
        # takes the init model's (perhaps since retrained) frozen nets below its own.
        from lvcodec.weights import load_net_state, net_state

        frozen = [name for name in spec.below if not (joint and name == "bi")
                  and getattr(init_model, name) is not None]
        for name in frozen:
            load_net_state(getattr(nets, name), net_state(getattr(init_model, name)))
        run_range = info.get("lambda_range", LEGACY_LAMBDA_RANGE)
        _migrate_lambda([getattr(nets, name) for name in frozen], init_model.card, run_range, log)
        info["intra_card"] = init_model.card
    lambda_range = tuple(info.setdefault("lambda_range", list(LEGACY_LAMBDA_RANGE)))
    _match_layout(opt)
    # A B net fine-tuned jointly once is a trained net from then on (export settles its priors).
    info["joint"] = bool(info.get("joint")) or joint
    stages = info.setdefault("stages", [])
    will_train = minutes != 0 and steps != 0  # `--minutes 0 --export` only exports
    # The model card reports every change of sequence length or learning rate (stages recorded
    # before the lr was part of them ran at the default 1e-4).
    if will_train and motion_warmup:
        info["motion_warmup"] = [info["step"], motion_warmup]
    # Settings a stage records only where they differ from the default (older cards lack them).
    recorded = {"block_map": block_map, "max_step": max_step, "affine": affine}
    if will_train and (not stages or stages[-1]["frames"] != frames
                       or stages[-1].get("lr", 1e-4) != lr or motion_warmup
                       or any(stages[-1].get(k, getattr(_T, k)) != v for k, v in recorded.items())):
        stages.append({"frames": frames, "from_step": info["step"], "patch": patch, "batch": batch,
                       "lr": lr, **{k: v for k, v in recorded.items() if v != getattr(_T, k)}})
        if motion_warmup:
            stages[-1]["motion_warmup"] = motion_warmup
        if pred_skip:
            stages[-1]["note"] = "prediction skip added, its gate zero (function-preserving)"
    for g, scale in zip(opt.param_groups, (1, 10)):
        g["lr"] = scale * lr
    nets.eval()
    for net in trained_nets:
        net.train()
    cascade = spec.cascade(nets, lambda_range, info.get("motion_warmup", (0, 3000)), block_map)
    model = torch.nn.parallel.DistributedDataParallel(cascade) if world > 1 else cascade
    videos, stills = load_videos(data_dirs)
    data = SequencePatches(videos, stills, patch=patch, length=frames,
                           seed=info["step"] * world + rank, max_step=max_step, affine=affine)
    log(f"{len(videos)} videos + {len(stills)} stills; batch {batch} of {frames} x {patch}x{patch}; "
        f"lr {lr}; lambda {lambda_range[0]}..{lambda_range[1]}"
        + ("; frames scored as shown through the block-prediction map" if block_map else "")
        + (f"; real clips at frame distances up to {max_step}" if max_step != _T.max_step else "")
        + (f"; {affine:.0%} of the synthesised windows zoom and rotate" if affine else ""))
    if spec.parts is not None:  # a stage that trains parts of a net names what it optimises
        log(f"loss: {spec.loss}")
    size = BatchSize(batch, log)
    batches = Prefetcher(lambda: data.batch(size.value))

    def step(k):
        seq = prec.tensor(batches.next()[:size.value].to(device))
        q = torch.randint(0, NUM_QUALITIES, (seq.shape[0],), device=device).float()
        with prec.autocast(seq.device.type):
            return model(seq, q, k)

    aux_loss = spec.aux_loss(nets)
    try:
        return _loop(run_dir, nets, params, opt, aux_opt, info, step, aux_loss,
                     minutes=minutes, steps=steps, checkpoint_minutes=checkpoint_minutes,
                     rank=rank, log=log, size=size, warmup=warmup)
    finally:
        batches.close()
