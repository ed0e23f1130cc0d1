"""Entropy-coder throughput: our constriction range coder vs CompressAI's rANS, same symbols.

    python -m lvcodec.eval.bench_entropy [--symbols 1000000] [--out benchmarks]

Both coders get the same quantized Gaussian latents and the same scale indexes; CompressAI's
coder gets tables built by its own GaussianConditional over our scale table. Rate is reported
next to the ideal (the symbols' information content under the true Gaussians).
"""

import json
import math
import time
from pathlib import Path

import click
import numpy as np

from lvcodec.entropy import GaussianCoder
from lvcodec.entropy.coder import finish, new_decoder, new_encoder


def _symbols(n: int, seed: int = 0):
    """Latents shaped like a trained model's: log-uniform scales, a third near-deterministic."""
    rng = np.random.default_rng(seed)
    scales = np.exp(rng.uniform(np.log(0.12), np.log(20.0), n)).astype(np.float32)
    return np.round(rng.normal(0, scales)).astype(np.int32), scales


def _ideal_bits(sym, scales) -> float:
    from math import erf, sqrt
    cdf = np.vectorize(lambda t: 0.5 * (1 + erf(t / sqrt(2))))
    p = cdf((sym + 0.5) / scales) - cdf((sym - 0.5) / scales)
    return float(-np.log2(np.maximum(p, 1e-12)).sum())


def bench_constriction(sym, scales, repeat=3):
    coder = GaussianCoder()
    idx = coder.table.index(scales)
    sym = coder.clamp(sym, idx)
    t_enc = t_dec = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        enc = new_encoder()
        coder.encode(enc, sym, idx)
        data = finish(enc)
        t_enc = min(t_enc, time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = coder.decode(new_decoder(data), idx)
        t_dec = min(t_dec, time.perf_counter() - t0)
    assert np.array_equal(out, sym), "constriction round trip failed"
    return {"bits": len(data) * 8, "encode_s": t_enc, "decode_s": t_dec}


def bench_compressai(sym, scales, repeat=3):
    import torch
    from compressai.ans import RansDecoder, RansEncoder
    from compressai.entropy_models import GaussianConditional

    table = GaussianCoder().table
    gc = GaussianConditional(table.scales.tolist())
    gc.update()
    idx = gc.build_indexes(torch.from_numpy(scales)).int()
    # CompressAI codes the symbol minus its mean; here means are zero, so symbols are values.
    y = torch.from_numpy(sym.astype(np.float32))
    q = gc.quantize(y, "symbols").int().reshape(-1).tolist()
    idx_l = idx.reshape(-1).tolist()
    cdfs, lengths, offsets = gc.quantized_cdf.tolist(), gc.cdf_length.tolist(), gc.offset.tolist()
    t_enc = t_dec = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        data = RansEncoder().encode_with_indexes(q, idx_l, cdfs, lengths, offsets)
        t_enc = min(t_enc, time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = RansDecoder().decode_with_indexes(data, idx_l, cdfs, lengths, offsets)
        t_dec = min(t_dec, time.perf_counter() - t0)
    assert out == q, "compressai round trip failed"
    return {"bits": len(data) * 8, "encode_s": t_enc, "decode_s": t_dec}


def run(n: int) -> dict:
    sym, scales = _symbols(n)
    ideal = _ideal_bits(sym, scales)
    rows = {"constriction (lvcodec)": bench_constriction(sym, scales),
            "compressai rANS": bench_compressai(sym, scales)}
    for r in rows.values():
        r["msym_per_s_encode"] = n / r["encode_s"] / 1e6
        r["msym_per_s_decode"] = n / r["decode_s"] / 1e6
        r["rate_vs_ideal"] = r["bits"] / ideal
    return {"symbols": n, "ideal_bits": ideal, "coders": rows}


def markdown(res: dict) -> str:
    lines = [f"# Entropy coding throughput ({res['symbols']:,} Gaussian symbols, one CPU thread)", "",
             "Same quantized symbols and scale indexes for both coders; rate relative to the ideal "
             "information content under the true Gaussians. Measured by "
             "`python -m lvcodec.eval.bench_entropy`.", "",
             "| coder | encode Msym/s | decode Msym/s | rate / ideal |", "|---|---:|---:|---:|"]
    for name, r in res["coders"].items():
        lines.append(f"| {name} | {r['msym_per_s_encode']:.2f} | {r['msym_per_s_decode']:.2f} | "
                     f"{r['rate_vs_ideal']:.4f} |")
    a, b = res["coders"].values()
    lines += ["", f"Speed ratio constriction / compressai: encode "
              f"{a['msym_per_s_encode'] / b['msym_per_s_encode']:.2f}×, decode "
              f"{a['msym_per_s_decode'] / b['msym_per_s_decode']:.2f}×."]
    return "\n".join(lines) + "\n"


@click.command(help=__doc__.splitlines()[0])
@click.option("--symbols", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
def main(symbols, out):
    res = run(symbols)
    out.mkdir(parents=True, exist_ok=True)
    (out / "entropy.json").write_text(json.dumps(res, indent=1))
    (out / "entropy.md").write_text(markdown(res))
    click.echo(markdown(res))


if __name__ == "__main__":
    main()
