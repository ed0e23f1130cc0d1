"""Training throughput, before and after the fast path, measured in one run on this machine.

`python -m lvcodec.train.bench --out benchmarks` (`make bench-training`) times one training step
of every stage as the trainer runs it, two ways, interleaved block by block so that a load that
comes and goes hits both alike:

- before: float32, Adam's per-parameter loop, batches made between the steps (the trainer as it
  was before mixed precision);
- after: the trainer's path today: precision chosen from the hardware (bf16 + channels_last on
  AMX), fused Adam, batches made in a background thread.

It then runs the intra stage for the same steps from the same seed both ways and compares the
loss curves (windowed means), and writes benchmarks/training.md + training.json.
"""

import json
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import click
import torch

from lvcodec.rd import NUM_QUALITIES
from lvcodec.train.data import IntraPatches, Prefetcher, SequencePatches, load_frames, load_videos
from lvcodec.train.loss import rd_loss
from lvcodec.train.precision import NATIVE_BF16, Precision, choose_precision, cpu_flags
from lvcodec.train import stages
from lvcodec.train.stages import CodecNets
from lvcodec.train.config import TrainConfig
from lvcodec.train.trainer import LrWarmup, _adam, _split_params

__all__ = ["main"]

# As `make train` trains them: (sequence length, batch) at 128x128.
STAGES = {"intra": (1, 8), "inter": (2, 8), "bi": (5, 4), "enhance": (5, 4)}
FP32 = Precision(None, False, "the trainer before mixed precision")


class _Stage:
    """One stage's nets, data and a step function, set up the way the trainer sets them up."""

    def __init__(self, stage: str, model, data_dirs, fast: bool, patch: int, seed: int,
                 prec: Precision | None = None, lr: float = 1e-4, warmup: int = 0):
        from lvcodec.nets.intra import IntraNet
        from lvcodec.weights import load_net_state, net_state

        length, self.batch = STAGES[stage]
        self.stage, self.length, self.patch = stage, length, patch
        self.prec = prec or (choose_precision("cpu") if fast else FP32)
        lam = model.lambda_range
        if stage == "intra":
            net = IntraNet(**model.intra.config)
            load_net_state(net, net_state(model.intra))
            self.net = net.train()
            frames, sources = load_frames(data_dirs, with_sources=True)
            data = IntraPatches(frames, patch=patch, seed=seed, sources=sources)
            self.forward = lambda x, q: rd_loss(net(x, q), x, q, lam)
            self.aux = net.aux_loss
            trained = net
        else:
            import copy

            nets = CodecNets(*(copy.deepcopy(n) if n is not None else None
                               for n in (model.intra, model.inter, model.bi, model.enhance)))
            spec = stages.STAGES[stage]
            if getattr(nets, spec.net) is None:
                setattr(nets, spec.net, spec.fresh(nets))
            trained = getattr(nets, spec.net)
            for n in (nets.intra, nets.inter, nets.bi, nets.enhance):
                if n is not None and n is not trained:
                    n.requires_grad_(False)
            nets.eval()
            trained.train()
            cascade = spec.cascade(nets, lam, (0, 3000), False)
            self.net = nets
            videos, stills = load_videos(data_dirs)
            data = SequencePatches(videos, stills, patch=patch, length=length, seed=seed)
            self.forward = lambda seq, q: cascade(seq, q, 1000)
            self.aux = spec.aux_loss(nets)
        self.prec.module(self.net)
        params, aux_params = _split_params(self.net)
        self.params = params
        if fast:
            self.opt, self.aux_opt = _adam(params, lr), _adam(aux_params, 1e-3) if aux_params else None
        else:
            self.opt = torch.optim.Adam(params, lr=lr)
            self.aux_opt = torch.optim.Adam(aux_params, lr=1e-3) if aux_params else None
        make = lambda: data.batch(self.batch)  # noqa: E731
        self.prefetch = Prefetcher(make) if fast else None
        self.make = make
        self.trained = trained
        self.schedule = LrWarmup(self.opt, warmup)  # the trainer's warm-up (0: none)

    def step(self) -> dict:
        x = self.prec.tensor(self.prefetch.next() if self.prefetch else self.make())
        q = torch.randint(0, NUM_QUALITIES, (self.batch,)).float()
        with self.prec.autocast("cpu"):
            out = self.forward(x, q)
        self.opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.schedule.step()
        if self.aux_opt is not None:
            aux = self.aux()
            self.aux_opt.zero_grad(set_to_none=True)
            aux.backward()
            self.aux_opt.step()
        return {k: float(out[k].detach()) for k in ("loss", "bpp", "psnr")}

    def close(self):
        if self.prefetch:
            self.prefetch.close()


def time_steps(runners: dict, steps: int, blocks: int, warmup: int = 2) -> dict:
    """Seconds of each runner's steps, in blocks of `steps` whose order alternates, so a load
    that comes and goes hits every runner alike; the runners are closed afterwards."""
    times = {k: [] for k in runners}
    try:
        for r in runners.values():  # warm-up: oneDNN builds its kernels on the first steps
            for _ in range(warmup):
                r.step()
        for b in range(blocks):
            for k in (list(runners) if b % 2 == 0 else list(runners)[::-1]):
                for _ in range(steps):
                    t0 = time.perf_counter()
                    runners[k].step()
                    times[k].append(time.perf_counter() - t0)
    finally:
        for r in runners.values():
            r.close()
    return times


def _time_stage(stage, model, data_dirs, patch, steps, blocks, log) -> dict:
    runners = {fast: _Stage(stage, model, data_dirs, fast, patch, seed=1) for fast in (False, True)}
    times = time_steps(runners, steps, blocks)
    length, batch = STAGES[stage]
    coded = batch * (length if stage == "intra" else length - (2 if stage in ("bi", "enhance") else 1))
    row = {"stage": stage, "batch": batch, "frames": length, "patch": patch,
           "precision_after": runners[True].prec.name}
    for fast, key in ((False, "before"), (True, "after")):
        s = statistics.median(times[fast])
        row[f"{key}_step_s"] = round(s, 4)
        row[f"{key}_patches_per_s"] = round(coded / s, 2)
        row[f"{key}_mpixels_per_s"] = round(coded * patch * patch / s / 1e6, 3)
    row["speedup"] = round(row["before_step_s"] / row["after_step_s"], 2)
    log(f"{stage}: {row['before_step_s']:.3f} s -> {row['after_step_s']:.3f} s per step "
        f"(x{row['speedup']})")
    return row


HELDOUT_QS = (0, 21, 42, 63)


def heldout_crops(data_dirs, crops: int = 16, patch: int = 256) -> torch.Tensor | None:
    """Fixed crops of the prepared sets' held-back photographs (DATA/heldout, never trained on;
    the learning-curve benchmark's crops), or None where there are none."""
    from lvcodec.train.data import HELDOUT

    dirs = [d / HELDOUT for d in map(Path, data_dirs) if (d / HELDOUT).is_dir()]
    return IntraPatches(load_frames(dirs), patch=patch, seed=12345).batch(crops) if dirs else None


def heldout_loss(net, x: torch.Tensor, lambda_range) -> float:
    """The intra net's RD loss (lambda(q)·255²·MSE-YUV + bpp) on the crops `x`, summed over
    HELDOUT_QS: float32, eval mode (rounded latents), whatever the training precision."""
    net.eval()
    total = 0.0
    with torch.no_grad():
        for q in HELDOUT_QS:
            for i in range(0, len(x), 4):
                xb = x[i:i + 4]
                qq = torch.full((len(xb),), float(q))
                total += float(rd_loss(net(xb, qq), xb, qq, lambda_range)["loss"]) * len(xb) / len(x)
    net.train()
    return total


def _loss_ab(model, data_dirs, patch, steps, window, lr, log) -> dict:
    """The intra stage for `steps` steps from the same weights, data and q draws, both ways, with
    the trainer's learning-rate warm-up to `lr`; the training loss per window of steps and the
    held-out loss at each window's end."""
    curves, heldout = {}, {}
    crops = heldout_crops(data_dirs)
    for fast in (False, True):
        key = "after" if fast else "before"
        torch.manual_seed(0)
        runner = _Stage("intra", model, data_dirs, fast, patch, seed=7, lr=lr,
                        warmup=TrainConfig.warmup)
        curves[key], heldout[key] = [], []
        try:
            for s in range(1, steps + 1):
                curves[key].append(runner.step())
                if crops is not None and s % window == 0:
                    heldout[key].append(heldout_loss(runner.trained, crops, model.lambda_range))
        finally:
            runner.close()
    rows = []
    for n, start in enumerate(range(0, steps, window)):
        row = {"steps": f"{start + 1}-{min(start + window, steps)}"}
        for key, curve in curves.items():
            part = curve[start:start + window]
            for k in ("loss", "bpp", "psnr"):
                row[f"{key}_{k}"] = round(statistics.mean(p[k] for p in part), 4)
            if n < len(heldout[key]):
                row[f"{key}_heldout"] = round(heldout[key][n], 4)
        row["loss_diff_pct"] = round(100 * (row["after_loss"] / row["before_loss"] - 1), 2)
        if "after_heldout" in row:
            row["heldout_diff_pct"] = round(100 * (row["after_heldout"] / row["before_heldout"] - 1), 2)
        rows.append(row)
        log(f"loss A/B steps {row['steps']}: fp32 {row['before_loss']:.4f}, "
            f"fast {row['after_loss']:.4f} ({row['loss_diff_pct']:+.2f} %); held-out "
            f"{row.get('heldout_diff_pct', float('nan')):+.2f} %")
    return {"steps": steps, "window": window, "lr": lr, "warmup": TrainConfig.warmup, "rows": rows}


def _markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Training throughput and the fast path",
        "",
        f"- date: {result['date']}; model: {result['model']}; `python -m lvcodec.train.bench`",
        f"- machine: {m['cpu']}; {m['threads']} torch thread(s); native bf16: "
        f"{', '.join(m.get('bf16_units', [])) or 'none'}; "
        f"torch {m['torch']}",
        f"- load: {m['note']}",
        "",
        "One training step of each stage as `lvc train` runs it (median over interleaved blocks; "
        "same process, same data). *Before*: float32, Adam's per-parameter loop, batches made "
        "between steps. *After*: precision chosen from the hardware, fused Adam, batches made in "
        "a background thread. Patches/s counts the frames a step codes (B stages: the B frames).",
        "",
        "| stage | batch × frames × patch | before: s/step | after: s/step | before: patches/s | "
        "after: patches/s | after: Mpixel/s | speed-up | after runs in |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in result["throughput"]:
        lines.append(f"| {r['stage']} | {r['batch']} × {r['frames']} × {r['patch']}² | "
                     f"{r['before_step_s']:.3f} | {r['after_step_s']:.3f} | "
                     f"{r['before_patches_per_s']:.2f} | {r['after_patches_per_s']:.2f} | "
                     f"{r['after_mpixels_per_s']:.3f} | ×{r['speedup']:.2f} | "
                     f"{r['precision_after']} |")
    ab = result["loss_ab"]
    held = any("heldout_diff_pct" in r for r in ab["rows"])
    lines += [
        "",
        f"## Same steps, same seed: the loss curves of both paths (intra, {ab['steps']} steps "
        f"from the shipped weights, learning rate warmed up to {ab.get('lr', 1e-4):g} over "
        f"{ab.get('warmup', 0)} steps as `lvc train` does)",
        "",
        "Training loss: mean over each window's batches (the same batches and q on both paths). "
        + ("Held-out: after the window, both nets scored alike (float32, rounded latents) on 16 "
           f"fixed 256² crops of the held-back photographs at q {', '.join(map(str, HELDOUT_QS))}, "
           "RD loss summed over the q." if held else ""),
        "",
        "| steps | fp32 loss | fast loss | difference | fp32 PSNR-YUV | fast PSNR-YUV |"
        + (" fp32 held-out | fast held-out | difference |" if held else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if held else ""),
    ]
    for r in ab["rows"]:
        lines.append(f"| {r['steps']} | {r['before_loss']:.4f} | {r['after_loss']:.4f} | "
                     f"{r['loss_diff_pct']:+.2f} % | {r['before_psnr']:.2f} | {r['after_psnr']:.2f} |"
                     + (f" {r['before_heldout']:.4f} | {r['after_heldout']:.4f} | "
                        f"{r['heldout_diff_pct']:+.2f} % |" if "heldout_diff_pct" in r else ""))
    lines += ["", "Why the old notes said channels_last *hung*: it does not hang. With more oneDNN "
              "threads than idle cores (another process on the second core), every bf16 kernel "
              "waits for a descheduled thread at its barrier: a 64→64 3×3 convolution step took "
              "150 ms with 2 threads and 1 ms with 1 on this machine. Give training the cores "
              "that are free (`lvc train --threads`).", ""]
    return "\n".join(lines)


@click.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=Path("out/train-data"),
              show_default=True, help="Prepared training data (made by lvc prepare-data if absent).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--model", default="lvc-base", show_default=True)
@click.option("--stages", default="intra,inter,bi,enhance", show_default=True)
@click.option("--patch", type=int, default=128, show_default=True)
@click.option("--steps", type=int, default=3, show_default=True, help="Timed steps per block.")
@click.option("--blocks", type=int, default=2, show_default=True)
@click.option("--ab-steps", type=int, default=600, show_default=True)
@click.option("--ab-lr", type=float, default=1e-5, show_default=True,
              help="Learning rate of the loss A/B. At 1e-4 the shipped intra net's held-out loss "
                   "swings by several per cent between checkpoints on either path, which hides a "
                   "difference of precision (benchmarks/notes/bf16-convergence-2026-12-07.md).")
@click.option("--threads", type=int, help="torch threads [default: torch's].")
@click.option("--note", default="", help="What else the machine ran meanwhile (for the report).")
def main(data_dir, out, model, stages, patch, steps, blocks, ab_steps, ab_lr, threads, note):
    """Measure each stage's training throughput before/after and the loss curves of both."""
    from lvcodec.weights import load_model

    if threads:
        torch.set_num_threads(threads)
    if not data_dir.exists():
        from lvcodec.train.data import prepare_data

        prepare_data(data_dir)
    m = load_model(model)
    log = lambda s: click.echo(s, err=True)  # noqa: E731
    rows = [_time_stage(s, m, [data_dir], patch, steps, blocks, log) for s in stages.split(",")]
    ab = (_loss_ab(m, [data_dir], patch, ab_steps, max(1, ab_steps // 4), ab_lr, log)
          if ab_steps else None)
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "model": f"{m.name}@{m.sha256[:16]}",
        "machine": {"cpu": platform.processor() or platform.machine(),
                    "threads": torch.get_num_threads(),
                    "bf16_units": [f for f, _ in NATIVE_BF16 if f in cpu_flags()],
                    "torch": torch.__version__, "note": note or "none recorded"},
        "throughput": rows, "loss_ab": ab,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "training.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / "training.md").write_text(_markdown(result))
    click.echo(f"wrote {out / 'training.md'}", err=True)


if __name__ == "__main__":
    main()
