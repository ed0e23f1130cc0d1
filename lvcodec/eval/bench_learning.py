"""`python -m lvcodec.eval.bench_learning TESTSET --snapshots DIR --out benchmarks`: what compute
buys — the intra net's learning curve over cumulative training steps.

Each point is a model: the shipped one (`--base`) and every snapshot of an intra run (a folder
per step holding the run's net.safetensors and state.json, e.g. copies of its checkpoints). For
each: PSNR-YUV and bpp (the nets' estimated rate) at fixed q on a held-back crop set (files
`lvc prepare-data` puts in DATA/heldout, never trained on), and BD-rate against x264 all-intra
on the first frames of TESTSET. Writes OUT/training_runs/learning.md and learning.json (with
`--candidate --no-curve`: learning_ra.md and .json), the record of one shipping decision beside
the runs' notes; the points are cached in OUT/bench_learning/ and OUT/bench_learning_ra/ like
every other benchmark's.
"""

import json
import tempfile
import time
from pathlib import Path

import click
import torch

from lvcodec.codec.config import EncoderConfig
from lvcodec.eval._script import run_script, testset_clips

QUALITIES = (0, 21, 42, 63)
# Models are compared as their nets code, without encoder effort or the residual layer: either
# would blur what training bought (and keep every point ever measured cached).
MODEL_PRESET = "fast"
MODEL_CONFIG = dict(preset=MODEL_PRESET, residual=False)


def _snapshot_models(snapshots: Path, base, models: Path) -> list[tuple[int, str, tuple]]:
    """(steps, model path, lambda range) of every snapshot, saved as intra-only models."""
    from safetensors.torch import load_file

    from lvcodec.nets.intra import IntraNet
    from lvcodec.weights import load_net_state, save_model

    out = []
    for d in sorted((p for p in snapshots.iterdir() if (p / "state.json").exists()),
                    key=lambda p: json.loads((p / "state.json").read_text())["step"]):
        state = json.loads((d / "state.json").read_text())
        net = IntraNet(**state["config"])
        load_net_state(net, load_file(str(d / "net.safetensors")))
        lam = tuple(state.get("lambda_range", base.lambda_range))
        stem = models / f"snapshot-{state['step']}"
        save_model(stem, net, {"description": "learning-curve snapshot", "lambda_range": list(lam),
                               "training": {"steps": state["step"]}})
        out.append((int(state["step"]), str(stem), lam))
    return out


def heldout_metrics(model_path: str, data: Path, qualities, patch: int = 256, crops: int = 16):
    """Mean PSNR-YUV and estimated bpp of the model's intra net on fixed crops of DATA/heldout."""
    from lvcodec.train.bench import heldout_crops
    from lvcodec.train.loss import rd_loss
    from lvcodec.weights import load_model

    m = load_model(model_path)
    x = heldout_crops([data], crops, patch)
    out = {}
    with torch.no_grad():
        for q in qualities:
            qq = torch.full((crops,), float(q))
            rows = [rd_loss(m.intra(x[i:i + 4], qq[i:i + 4]), x[i:i + 4], qq[i:i + 4],
                            m.lambda_range) for i in range(0, crops, 4)]
            out[q] = {"psnr_yuv": round(sum(float(r["psnr"]) for r in rows) / len(rows), 3),
                      "bpp": round(sum(float(r["bpp"]) for r in rows) / len(rows), 4)}
    return out


def _md(rows, meta) -> str:
    lines = ["# Learning curve of the intra net: what training steps buy", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    qs = sorted({q for r in rows for q in r["heldout"]}, key=int)
    head = " | ".join(f"q {q}: PSNR-YUV / bpp" for q in qs)
    lines += ["Held-back crops (never trained on): PSNR-YUV and the nets' estimated bpp at fixed "
              "q (the same q means a higher lambda on the wider range, so compare like ranges); "
              "test set: BD-rate against x264-medium all-intra (PSNR-YUV, negative = fewer bits) "
              "and the quality the top q reaches.", "",
              f"| model | steps | lambda range | {head} | BD-rate vs x264 | q 63 PSNR-YUV | "
              "q 63 bpp |",
              "|---|---:|---|" + "---|" * len(qs) + "---:|---:|---:|"]
    for r in rows:
        cells = " | ".join(f"{r['heldout'][q]['psnr_yuv']:.2f} / {r['heldout'][q]['bpp']:.3f}"
                           for q in qs)
        bd = "–" if r["bd_rate"] is None else f"{r['bd_rate']:+.1f} % ({r['bd_clips']} clips)"
        lines.append(f"| {r['label']} | {r['steps']} | {r['lambda_range'][0]}..{r['lambda_range'][1]} "
                     f"| {cells} | {bd} | {r['top_psnr_yuv']:.2f} dB | {r['top_bpp']:.3f} |")
    return "\n".join(lines) + "\n"


def _random_access(testset, base, candidate, frames, out) -> dict:
    """Base vs candidate model in random access (hierarchical B frames, GOP 8)."""
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate

    clips = testset_clips(testset, frames)
    config = EncoderConfig(gop=8, downsample="off", **MODEL_CONFIG)
    codecs = [LvcCodec(model=base, name="base", config=config),
              LvcCodec(model=candidate, name="candidate", config=config)]
    qualities = [16, 32, 48]
    res = evaluate(clips, codecs, {c.name: qualities for c in codecs}, frames=frames,
                   intra_period=32, out_dir=out / "bench_learning_ra", anchor_for_bd="base",
                   meta={"test set": str(testset)})
    return {"frames": frames, "qualities": qualities,
            "points": [{k: r[k] for k in ("clip", "codec", "point", "bpp", "psnr_yuv")}
                       for r in res["points"]],
            "bd": [{k: e[k] for k in ("clip", "bd_rate", "bd_psnr")} for e in res["bd"]["base"]]}


def _ra_md(ra) -> str:
    lines = ["", f"## Candidate vs base in random access (first {ra['frames']} frames, GOP 8, "
             f"q {', '.join(map(str, ra['qualities']))})", "",
             "| clip | BD-rate vs base | BD-PSNR | base: bpp / PSNR-YUV at each q | "
             "candidate: bpp / PSNR-YUV |", "|---|---:|---:|---|---|"]
    for e in ra["bd"]:
        def pts(codec):
            return ", ".join(f"{r['bpp']:.3f} / {r['psnr_yuv']:.2f}" for r in ra["points"]
                             if r["clip"] == e["clip"] and r["codec"] == codec)
        bd = "–" if e["bd_rate"] is None else f"{e['bd_rate']:+.1f} %"
        bp = "–" if e["bd_psnr"] is None else f"{e['bd_psnr']:+.2f} dB"
        lines.append(f"| {e['clip']} | {bd} | {bp} | {pts('base')} | {pts('candidate')} |")
    return "\n".join(lines) + "\n"


@click.command("bench_learning")
@click.argument("testset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--snapshots", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of run snapshots (STEP/net.safetensors + state.json).")
@click.option("--data", type=click.Path(path_type=Path), default=Path("out/train-data"),
              show_default=True, help="Prepared data; its heldout/ folder gives the crops.")
@click.option("--base", default="lvc-base", show_default=True, help="The shipped model (a point).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--frames", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--every", type=int, default=1, show_default=True, help="Use every N-th snapshot.")
@click.option("--candidate", help="A whole model (e.g. the run exported): also compared with "
                                  "--base in random access, the CLI default.")
@click.option("--ra-frames", type=click.IntRange(min=3), default=9, show_default=True)
@click.option("--curve/--no-curve", default=True, show_default=True,
              help="--no-curve: only the random-access comparison (into learning_ra.md).")
def bench_learning(testset, snapshots, data, base, out, frames, every, candidate, ra_frames, curve):
    """The intra net's learning curve over cumulative training steps."""
    from lvcodec.eval.lvc_codec import LvcCodec
    from lvcodec.eval.runner import evaluate
    from lvcodec.errors import InputError
    from lvcodec.weights import load_model, _resolve

    records = out / "training_runs"
    if not curve:
        if not candidate:
            raise click.UsageError("--no-curve needs --candidate")
        ra = _random_access(testset, base, candidate, ra_frames, out)
        records.mkdir(parents=True, exist_ok=True)
        (records / "learning_ra.json").write_text(json.dumps(ra, indent=1) + "\n")
        (records / "learning_ra.md").write_text(_ra_md(ra).lstrip())
        click.echo(f"-> {records / 'learning_ra.md'}")
        return
    heldout = data / "heldout"
    if not heldout.is_dir():
        raise InputError(f"{heldout}: no held-back set (run `lvc prepare-data {data}`)")
    base_model = load_model(base)
    with tempfile.TemporaryDirectory() as tmp:
        points = [(int(base_model.card.get("training", {}).get("steps", 0)),
                   str(_resolve(base)[0].with_suffix("")), base_model.lambda_range, base)]
        if snapshots:
            snaps = _snapshot_models(snapshots, base_model, Path(tmp))
            points += [(s, p, lam, f"run @ {s}") for s, p, lam in snaps[::every]]
            if snaps and snaps[-1] not in snaps[::every]:
                points.append((*snaps[-1], f"run @ {snaps[-1][0]}"))
        clips = testset_clips(testset, frames)
        codecs = [LvcCodec(model=p, name=f"lvc@{s}", config=EncoderConfig(**MODEL_CONFIG)) for s, p, _, _ in points]
        res = evaluate(clips, [*codecs, "x264-medium"], {c.name: list(QUALITIES) for c in codecs},
                       frames=frames, intra_period=1, out_dir=out / "bench_learning",
                       anchor_for_bd="x264-medium", meta={"test set": str(testset)})
        rows = []
        for (steps, path, lam, label), codec in zip(points, codecs):
            bd = [e for e in res["bd"]["x264-medium"] if e["codec"] == codec.name]
            vals = [e["bd_rate"] for e in bd if e.get("bd_rate") is not None]
            top = [r for r in res["points"] if r["codec"] == codec.name and r["point"] == 63]
            rows.append({"label": label, "steps": steps, "lambda_range": list(lam),
                         "heldout": heldout_metrics(path, data, (0, 32, 63)),
                         "bd_rate": sum(vals) / len(vals) if vals else None,
                         "bd_clips": len(vals),
                         "top_psnr_yuv": sum(r["psnr_yuv"] for r in top) / len(top),
                         "top_bpp": sum(r["bpp"] for r in top) / len(top)})
            click.echo(f"{label}: {rows[-1]['heldout']}", err=True)
    ra = _random_access(testset, base, candidate, ra_frames, out) if candidate else None
    meta = {"test set": f"{testset} (first {frames} frames, all-intra)",
            "held-back crops": f"{heldout} (16 crops of 256², fixed seed)",
            "date": time.strftime("%Y-%m-%d %H:%M")}
    records.mkdir(parents=True, exist_ok=True)
    (records / "learning.json").write_text(json.dumps({"meta": meta, "rows": rows,
                                                      "random_access": ra}, indent=1) + "\n")
    (records / "learning.md").write_text(_md(rows, meta) + (_ra_md(ra) if ra else ""))
    click.echo(f"-> {records / 'learning.md'}")


if __name__ == "__main__":
    run_script(bench_learning)
