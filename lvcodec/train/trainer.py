"""`lvc train`: resumable rate-distortion training of the intra net (torchrun-ready)."""

import csv
import json
import os
import signal
import time
from pathlib import Path

import torch

from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import NUM_QUALITIES
from lvcodec.train.checkpoint import load_checkpoint, save_checkpoint
from lvcodec.train.data import IntraPatches, load_frames
from lvcodec.train.loss import rd_loss

__all__ = ["train_intra"]


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises torch.distributed when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    return int(os.environ.get("RANK", "0")), world


def train_intra(data_dirs, run_dir: Path, *, minutes: float | None = None, steps: int | None = None,
                batch: int = 8, patch: int = 128, lr: float = 1e-4, device: str = "cpu",
                init: str | None = None, config: dict | None = None, checkpoint_minutes: float = 5.0,
                log=print) -> dict:
    """Train until `minutes` or `steps` (more) pass; resumes from run_dir when it holds a checkpoint.

    Without a checkpoint, starts from the weights of model `init` (so training accumulates across
    machines that only keep the shipped model) or from scratch. `config` applies to a run from
    scratch only; a resumed run or an init model keeps its own architecture.
    """
    rank, world = _distributed()
    if rank != 0:
        log = lambda *a, **k: None  # noqa: E731  (one voice per run)
    if device == "cuda" and world > 1:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    run_dir = Path(run_dir)
    # The net is built as what it continues: the run's checkpoint, else the init model.
    init_model = None
    if (run_dir / "state.json").exists():
        config = json.loads((run_dir / "state.json").read_text())["config"]
    elif init:
        from lvcodec.weights import load_model

        init_model = load_model(init)
        config = init_model.intra.config
    net = IntraNet(**(config or {}))
    params = [p for n, p in net.named_parameters() if not n.endswith(".quantiles")]
    aux_params = [p for n, p in net.named_parameters() if n.endswith(".quantiles")]
    opt = torch.optim.Adam(params, lr=lr)
    aux_opt = torch.optim.Adam(aux_params, lr=1e-3)
    info = load_checkpoint(run_dir, net, {"opt": opt, "aux": aux_opt})
    if info is None:
        info = {"step": 0, "config": net.config, "seconds": 0.0}
        if init_model is not None:
            from lvcodec.weights import load_net_state, net_state

            load_net_state(net, net_state(init_model.intra))
            training = init_model.card.get("training", {})
            info["step"] = int(training.get("steps", 0))
            info["seconds"] = float(training.get("seconds", 0.0))
            log(f"starting from model {init} ({info['step']} steps)")
    else:
        log(f"resuming {run_dir} at step {info['step']}")
    for g in opt.param_groups:
        g["lr"] = lr
    net.to(device).train()
    model = net
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(net)
    # Each rank draws its own patches; resuming continues with fresh ones rather than replaying.
    frames, sources = load_frames(data_dirs, with_sources=True)
    data = IntraPatches(frames, patch=patch, seed=info["step"] * world + rank, sources=sources)
    log(f"{len(data.frames)} training frames; batch {batch} of {patch}x{patch}; lr {lr}")

    log_path = run_dir / "log.csv"
    new_log = not log_path.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = open(log_path, "a", newline="")
    writer = csv.writer(log_file)
    if new_log:
        writer.writerow(["step", "seconds", "loss", "bpp", "psnr_yuv", "aux"])
    t_start = time.time()
    t_ckpt = t_start
    stop = {"now": False}
    # SIGTERM (kill, a job scheduler) ends the run at the next step, after a final checkpoint.
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    done = 0
    acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "aux": 0.0, "n": 0}
    try:
        while True:
            if stop["now"] or (steps is not None and done >= steps):
                break
            if minutes is not None and time.time() - t_start >= minutes * 60:
                break
            x = data.batch(batch).to(device)
            q = torch.randint(0, NUM_QUALITIES, (batch,), device=device).float()
            out = rd_loss(model(x, q), x, q)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            aux = net.aux_loss()
            aux_opt.zero_grad(set_to_none=True)
            aux.backward()
            aux_opt.step()
            done += 1
            info["step"] += 1
            for k in ("loss", "bpp", "psnr"):
                acc[k] += out[k].item()
            acc["aux"] += aux.item()
            acc["n"] += 1
            if info["step"] % 100 == 0 and rank == 0:
                n = acc.pop("n")
                row = [info["step"], round(info["seconds"] + time.time() - t_start, 1)] + [
                    round(acc[k] / n, 5) for k in ("loss", "bpp", "psnr", "aux")]
                writer.writerow(row)
                log_file.flush()
                log(f"step {row[0]}  loss {row[2]:.4f}  bpp {row[3]:.4f}  psnr-yuv {row[4]:.2f}")
                acc = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "aux": 0.0, "n": 0}
            if rank == 0 and time.time() - t_ckpt >= checkpoint_minutes * 60:
                _save(run_dir, net, opt, aux_opt, info, t_start)
                t_ckpt = time.time()
    finally:
        if rank == 0:
            _save(run_dir, net, opt, aux_opt, info, t_start)
        log_file.close()
    return info


def _save(run_dir, net, opt, aux_opt, info, t_start):
    saved = dict(info, seconds=info["seconds"] + time.time() - t_start)
    save_checkpoint(run_dir, net, {"opt": opt, "aux": aux_opt}, saved)
    (Path(run_dir) / "last_save.json").write_text(json.dumps({"step": saved["step"]}))
