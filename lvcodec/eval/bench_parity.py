"""`python -m lvcodec.eval.bench_parity [--out benchmarks]`: the decoder parity matrix.

Encodes real video with the shipped model (two intra periods) at three qualities, then
decodes the stream under each condition a decoder meets and compares every picture with the
encoder's reconstruction:

- both coding structures: low-delay P, and random access (GOP 16) with the B frames at half
  scale (the B net, the fixed resamplers and the enhancement net on the decoder's path);
- thread counts 1, 2 and 3 (the encoder runs on 2);
- seeking: a fresh decoder that starts at the second I frame (in random access the B frames
  coded after it that reference the GOP before it are skipped, as HEVC skips its RASL pictures);
- CUDA, when a GPU is present: a CPU-encoded stream decoded on the GPU, and the reverse;
- frames batched vs one at a time: every decoder-side net (entropy parameters included) on a
  batch of 4 frames that share their references, against each frame alone, element by element
  (`lvcodec.eval.batch_parity`);
- other machines' kernels: the decoder in a child process with MKL restricted to AVX2 or SSE4.2
  (what MKL picks on CPUs without AVX-512), with ATen's scalar or AVX2 kernels, and with oneDNN
  allowed; and an encoder under MKL AVX2 whose stream this process decodes.

Writes OUT/parity.md and OUT/parity.json.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np
import torch

from lvcodec.bitstream import LvcReader
from lvcodec.codec import frame_coder
from lvcodec.nets import numerics
from lvcodec.codec.api import encode_stream
from lvcodec.codec.session import Decoder, EncoderConfig, MissingReference
from lvcodec.errors import LvcError
from lvcodec.eval._script import run_script
from lvcodec.eval.batch_parity import batch_invariance
from lvcodec.eval.cli import parse_points
from lvcodec.eval.metrics import frame_psnr
from lvcodec.io import open_reader
from lvcodec.weights import load_model

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo_bbb_320x180.mp4"
QUALITIES = (0, 32, 63)


STRUCTURES = {"low delay": {"gop": 1, "downsample": "off"},
              "random access, half-scale B": {"gop": 16, "downsample": "on"}}


def encode(model, frames, info, quality, intra_period, device, gop=1, downsample="off"):
    """(stream bytes, the encoder's reconstructions and sources in coding order)."""
    config = EncoderConfig(quality=quality, intra_period=intra_period, gop=gop,
                           downsample=downsample)
    data, coded = encode_stream(model, frames, info, config, device)
    return data, [c.recon for c in coded], [c.source for c in coded]


def decode(model, data, device, start=0, skip_missing=False):
    """(decoded pictures from unit `start` on, the error that stopped decoding or None);
    skip_missing: a frame whose reference precedes `start` is skipped (None in its place)."""
    reader = LvcReader(io.BytesIO(data))
    # verify=False: decode past a picture-hash mismatch, to measure how far a difference reaches
    # (a decoder refuses the first such picture; compare() finds it as the first mismatch).
    dec = Decoder(model, reader.sequence_header, device, verify=False)
    out = []
    try:
        for header, subs, _ in list(reader.frames())[start:]:
            try:
                out.append(dec.decode(header, subs))
            except MissingReference:
                if not skip_missing:
                    raise
                out.append(None)
    except LvcError as e:
        return out, str(e)
    return out, None


def ping_pong(frames: list, n: int):
    """`n` frames of a shorter clip played forwards, backwards, forwards… (real motion, no cut)."""
    if len(frames) >= n:
        return frames[:n], ""
    cycle = frames + frames[-2:0:-1]
    return [cycle[i % len(cycle)] for i in range(n)], " (played forwards and backwards)"


@contextmanager
def threads(n):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# Environments of other machines' kernels (read by MKL and ATen at start-up: a child process).
FOREIGN = {
    "MKL AVX2 (CPUs without AVX-512)": {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "MKL SSE4.2": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "ATen scalar kernels": {"ATEN_CPU_CAPABILITY": "default"},
    "ATen AVX2 kernels": {"ATEN_CPU_CAPABILITY": "avx2"},
}


def _child(env: dict, args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "lvcodec.eval.bench_parity", *args],
                   env=dict(os.environ, OMP_NUM_THREADS="2", **env), check=True,
                   stdout=subprocess.DEVNULL)


def decode_foreign(model, data, env: dict):
    """decode() in a child process whose MKL/ATen run other kernels: (frames, error)."""
    with tempfile.TemporaryDirectory() as tmp:
        stream, out = Path(tmp) / "s.lvc", Path(tmp) / "out.npz"
        stream.write_bytes(data)
        _child(env, ["--child-decode", str(stream), str(out), "--model", model.name])
        return _load_frames(out)


def encode_foreign(model, src_path: Path, frames: int, quality, period, structure, env: dict):
    """An encode in a child process with other kernels: (stream bytes, its reconstructions)."""
    with tempfile.TemporaryDirectory() as tmp:
        stream, out = Path(tmp) / "s.lvc", Path(tmp) / "out.npz"
        _child(env, ["--child-encode", str(src_path), str(stream), str(out), "--model", model.name,
                     "--frames", str(frames), "--intra-period", str(period), "--qualities",
                     str(quality), "--gop", str(structure["gop"]), "--downsample",
                     structure["downsample"]])
        return stream.read_bytes(), _load_frames(out)[0]


def _save_frames(path: Path, frames: list, error) -> None:
    np.savez(path, **{f"{p}{i}": getattr(f, p) for i, f in enumerate(frames) for p in "yuv"},
             error=np.array(error or ""), n=np.array(len(frames)))


def _load_frames(path: Path):
    from lvcodec.io import Frame
    z = np.load(path)
    frames = [Frame(z[f"y{i}"], z[f"u{i}"], z[f"v{i}"]) for i in range(int(z["n"]))]
    return frames, (str(z["error"]) or None)


@contextmanager
def onednn_allowed():
    """The exact path with oneDNN left on (it never takes binary64 convolutions)."""
    original = numerics.exact

    @contextmanager
    def with_onednn():
        with original(), torch.backends.mkldnn.flags(enabled=True):
            yield

    frame_coder.exact = numerics.exact = with_onednn
    try:
        yield
    finally:
        frame_coder.exact = numerics.exact = original


def compare(expected, sources, got, error) -> dict:
    """Frames identical to the encoder's, the first that is not, how far off, and the quality."""
    same = [all(np.array_equal(getattr(a, p), getattr(b, p)) for p in "yuv")
            for a, b in zip(expected, got)]
    diff = [max(int(np.abs(getattr(a, p).astype(int) - getattr(b, p)).max()) for p in "yuv")
            for a, b in zip(expected, got)]
    return {
        "frames": len(expected), "decoded": len(got), "identical": int(sum(same)),
        "first_mismatch": next((i for i, s in enumerate(same) if not s), None),
        "max_abs_diff": max(diff, default=0),
        "psnr_encoder": float(np.mean([frame_psnr(s, e)["yuv"] for s, e in zip(sources, expected)])),
        "psnr_decoded": float(np.mean([frame_psnr(s, g)["yuv"] for s, g in zip(sources, got)]))
        if got else None,
        "error": error,
    }


def conditions(model, frames, info, quality, period, structure, foreign=tuple(FOREIGN)):
    """({condition: comparison}, stream) for one stream with intra period `period`; `foreign`:
    the FOREIGN kernels to decode it with too."""
    cpu = torch.device("cpu")
    with threads(2):
        data, recons, sources = encode(model, frames, info, quality, period, cpu, **structure)
    out = {}
    for n in (1, 2, 3):
        with threads(n):
            out[f"CPU, {n} thread{'s' * (n > 1)}"] = compare(recons, sources,
                                                             *decode(model, data, cpu))
    # Seek: the unit of the second I frame, then every frame it and later anchors make decodable.
    start = next(i for i, h in enumerate(LvcReader(io.BytesIO(data)).frames())
                 if h[0].display_index == period)
    with threads(1):
        got, err = decode(model, data, cpu, start=start, skip_missing=True)
    kept = [i for i, g in enumerate(got) if g is not None]
    out["CPU, from the second I frame"] = compare([recons[start + i] for i in kept],
                                                  [sources[start + i] for i in kept],
                                                  [got[i] for i in kept], err)
    with threads(2), onednn_allowed():
        out["CPU, oneDNN allowed"] = compare(recons, sources, *decode(model, data, cpu))
    for name in foreign:
        out[f"decoder: {name}"] = compare(recons, sources, *decode_foreign(model, data,
                                                                          FOREIGN[name]))
    if torch.cuda.is_available():
        gpu = torch.device("cuda")
        gpu_model = load_model(model.name, gpu)
        out["CPU encode → CUDA decode"] = compare(recons, sources, *decode(gpu_model, data, gpu))
        data_gpu, recons_gpu, _ = encode(gpu_model, frames, info, quality, period, gpu, **structure)
        out["CUDA encode → CUDA decode"] = compare(recons_gpu, sources,
                                                   *decode(gpu_model, data_gpu, gpu))
        with threads(2):
            out["CUDA encode → CPU decode"] = compare(recons_gpu, sources,
                                                      *decode(model, data_gpu, cpu))
    return out, data


BATCH = 4  # frames per batch (between two references: BATCH + 2 frames of the clip)


def batching(model, frames, qualities) -> dict:
    """{column: {path: [identical, elements]}}: the stream's first BATCH + 2 frames (frame 0 and
    BATCH + 1 the references) through batch_invariance, per quality, and once with oneDNN
    allowed."""
    cpu, out = torch.device("cpu"), {}
    sample = frames[: BATCH + 2]
    with threads(2):
        for q in qualities:
            out[f"CPU, q{q}"] = batch_invariance(model, sample, q, cpu)
        with onednn_allowed():
            out[f"oneDNN allowed, q{qualities[0]}"] = batch_invariance(model, sample,
                                                                      qualities[0], cpu)
    if torch.cuda.is_available():
        gpu = torch.device("cuda")
        out[f"CUDA, q{qualities[0]}"] = batch_invariance(load_model(model.name, gpu), sample,
                                                         qualities[0], gpu)
    return {k: {p: list(v) for p, v in r.items()} for k, r in out.items()}


def _batch_md(batch) -> list[str]:
    cols = list(batch)
    lines = ["", f"## Frames batched ({BATCH}) vs one at a time", "",
             f"Every decoder-side net run on {BATCH} frames at once (they share their references, "
             "as the B frames of one hierarchy layer do) against each frame alone, on the encoder's "
             "own latents. Each cell: identical output elements / elements. A decoder that batches "
             "independent frames stays in parity only where every cell is whole (the exact "
             "decoding process, docs/bitstream.md §9, makes it so; before it, oneDNN's "
             "convolutions failed this check).", "",
             "| decoder path | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for path in batch[cols[0]]:
        cells = []
        for c in cols:
            same, total = batch[c].get(path, (0, 0))
            cells.append(f"{same}/{total}" + ("" if same == total else
                                              f" ({100 * (total - same) / total:.0f} % differ)"))
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    return lines


def _md(results, meta, batch=None) -> str:
    lines = ["# Parity: the decoder against the encoder's reconstruction", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()] + [""]
    lines += ["Each cell: pictures identical to the encoder's reconstruction / pictures. Where they "
              "differ: the first differing picture, the largest pixel difference, and PSNR-YUV of "
              "the decoded video against the source next to the encoder's own.", ""]
    conds = list(next(iter(results.values()))["conditions"])
    lines += ["| condition | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
    for c in conds:
        cells = []
        for q, r in results.items():
            m = r["conditions"][c]
            cell = f"{m['identical']}/{m['frames']}"
            if m["identical"] < m["frames"]:
                cell += (f" (from #{m['first_mismatch']}, max diff {m['max_abs_diff']}, "
                         f"{m['psnr_decoded']:.2f} vs {m['psnr_encoder']:.2f} dB")
                cell += f", stopped: {m['error']})" if m["error"] else ")"
            cells.append(cell)
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    if not any("CUDA" in c for c in conds):
        lines += ["", "No GPU was present in this run, so the CPU↔CUDA rows are missing; run the "
                  "same command on a machine with CUDA to add them."]
    if batch:
        lines += _batch_md(batch)
    return "\n".join(lines) + "\n"


@click.command("bench_parity")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
@click.option("--model", "model_name", default="lvc-base", show_default=True)
@click.option("--clip", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=DEMO,
              show_default=True, help="Video to code (the bundled clip by default).")
@click.option("--frames", type=click.IntRange(2), default=36, show_default=True,
              help="Frames to code (a shorter clip is played back and forth).")
@click.option("--intra-period", type=click.IntRange(1), default=32, show_default=True,
              help="I frames at 0 and here (less than --frames).")
@click.option("--qualities", default=",".join(map(str, QUALITIES)), show_default=True)
@click.option("--foreign/--no-foreign", default=True, show_default=True,
              help="Also decode (and encode) in child processes with other machines' kernels.")
def main(out, model_name, clip, frames, intra_period, qualities, foreign):
    """Decode under every condition and compare with the encoder's reconstruction."""
    if intra_period >= frames:
        raise click.BadParameter("must be less than --frames", param_hint="--intra-period")
    model = load_model(model_name)
    with open_reader(clip, frames=frames) as reader:
        info, src = reader.info, list(reader)
    src, note = ping_pong(src, frames)
    results = {}
    t0 = time.time()
    for name, structure in STRUCTURES.items():
        if structure["downsample"] != "off" and model.enhance is None:
            continue
        for q in parse_points(qualities, "--qualities"):
            conds, data = conditions(model, src, info, q, intra_period, structure,
                                     tuple(FOREIGN) if foreign else ())
            if foreign:
                env = FOREIGN["MKL AVX2 (CPUs without AVX-512)"]
                other, recons = encode_foreign(model, clip, frames, q, intra_period, structure, env)
                conds["encoder: MKL AVX2, decoder: this process"] = compare(
                    recons, _coding_order(other, src), *decode(model, other, torch.device("cpu")))
            key = f"{name}, q{q}"
            results[key] = {"bytes": len(data), "conditions": conds}
            print(f"{key}: " + "; ".join(f"{c} {m['identical']}/{m['frames']}"
                                         for c, m in conds.items()), flush=True)
    batch = batching(model, src, parse_points(qualities, "--qualities"))
    for col, r in batch.items():
        print(f"batched, {col}: " + "; ".join(f"{p} {a}/{b}" for p, (a, b) in r.items()), flush=True)
    meta = {"model": f"{model.name}@{model.sha256[:16]}", "clip": f"{clip.name}{note}, {len(src)} frames "
            f"{info.width}x{info.height}, intra period {intra_period} (I at 0 and {intra_period})",
            "torch": torch.__version__, "CUDA": torch.cuda.get_device_name(0)
            if torch.cuda.is_available() else "none",
            "date": time.strftime("%Y-%m-%d %H:%M"), "seconds": f"{time.time() - t0:.0f}"}
    out.mkdir(parents=True, exist_ok=True)
    (out / "parity.json").write_text(json.dumps({"meta": meta, "results": results,
                                                          "batched": batch}, indent=1) + "\n")
    (out / "parity.md").write_text(_md(results, meta, batch))
    print((out / "parity.md").read_text())


def _coding_order(data: bytes, src: list) -> list:
    """The source frames in the stream's coding order."""
    return [src[h.display_index] for h, _, _ in LvcReader(io.BytesIO(data)).frames()]


def _child_main(argv: list[str]) -> None:
    """The child processes of decode_foreign / encode_foreign (their kernels set by env)."""
    if argv[0] == "--child-decode":
        stream, out, _, name = argv[1:5]
        frames, err = decode(load_model(name), Path(stream).read_bytes(), torch.device("cpu"))
        _save_frames(Path(out), frames, err)
        return
    src_path, stream, out = argv[1:4]
    opts = dict(zip(argv[4::2], argv[5::2]))
    model = load_model(opts["--model"])
    n = int(opts["--frames"])
    with open_reader(Path(src_path), frames=n) as reader:
        info, src = reader.info, list(reader)
    src, _ = ping_pong(src, n)
    with threads(2):
        data, recons, _ = encode(model, src, info, int(opts["--qualities"]),
                                 int(opts["--intra-period"]), torch.device("cpu"),
                                 gop=int(opts["--gop"]), downsample=opts["--downsample"])
    Path(stream).write_bytes(data)
    _save_frames(Path(out), recons, None)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("--child-"):
        _child_main(sys.argv[1:])
    else:
        run_script(main)
