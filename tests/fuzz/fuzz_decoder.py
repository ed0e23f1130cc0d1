"""Mutation fuzzing of the .lvc parser and decoder on real bitstreams.

Every mutated input must end in decoded frames or one LvcError — never another exception, a hang
or an unbounded allocation. Mutations: bit flips and byte overwrites (raw, so the CRC catches them,
and with every CRC recomputed, so the parser's range checks and the decoder itself see them),
truncations, units dropped/duplicated/swapped, absurd sizes and counts.

    python tests/fuzz/fuzz_decoder.py --iterations 100000 --report benchmarks/reliability.md

The pytest run (tests/fuzz/test_fuzz.py) uses a short budget of the same harness.
"""

import argparse
import io
import itertools
import random
import struct
import sys
import time
import zlib
from pathlib import Path

import torch

from lvcodec.bitstream import LvcReader
from lvcodec.bitstream.syntax import FILE_HEADER_SIZE, SYNC
from lvcodec.codec.api import decode_frames, encode_stream
from lvcodec.codec.session import Decoder, EncoderConfig
from lvcodec.errors import LvcError
from lvcodec.io import Frame, VideoInfo

# A mutated header may legally ask for up to 8K pictures; the fuzzer caps pictures lower so that
# it spends its time on many inputs rather than on decoding a few huge garbage frames.
FUZZ_MAX_PIXELS = 256 * 256


def seed_stream(model, n_frames=3, width=64, height=48, quality=30, intra_period=32, gop=1,
                downsample="off") -> bytes:
    """A real bitstream of a small moving gradient, coded with `model`."""
    import numpy as np

    yy, xx = np.mgrid[0:height, 0:width]

    def frames():
        for t in range(n_frames):
            y = ((xx * 3 + yy * 2 + 5 * t) % 256).astype(np.uint8)
            u = np.full((height // 2, width // 2), 110 + t, np.uint8)
            v = np.full((height // 2, width // 2), 140, np.uint8)
            yield Frame(y, u, v)

    config = EncoderConfig(quality=quality, intra_period=intra_period, gop=gop,
                           downsample=downsample)
    return encode_stream(model, frames(), VideoInfo(width, height, 25, 1, n_frames), config,
                         torch.device("cpu"))[0]


def split_units(data: bytes):
    """[(start, body_start, end)] of every unit (valid stream only)."""
    units, pos = [], FILE_HEADER_SIZE
    while pos < len(data) and data[pos] == SYNC:
        p, size, shift = pos + 2, 0, 0
        while True:
            b = data[p]
            size |= (b & 0x7F) << shift
            shift += 7
            p += 1
            if not b & 0x80:
                break
        units.append((pos, p, p + size))
        if data[pos + 1] == 3:  # the index unit: the footer follows
            break
        pos = p + size
    return units


def fix_crcs(data: bytearray, units) -> bytearray:
    for start, body, end in units:
        if end <= len(data):
            data[end - 4:end] = struct.pack("<I", zlib.crc32(bytes([data[start + 1]]) + bytes(data[body:end - 4])))
    return data


def mutate(data: bytes, rng: random.Random) -> bytes:
    units = split_units(data)
    d = bytearray(data)
    op = rng.randrange(9)
    if op == 0:  # flip bits anywhere (the CRC should catch them)
        for _ in range(rng.randint(1, 4)):
            d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
    elif op in (1, 2, 3):  # overwrite bytes inside a unit body, then make the CRC valid again
        start, body, end = rng.choice(units)
        for _ in range(rng.randint(1, 3 if op != 3 else 12)):
            if end - 4 > body:
                d[rng.randrange(body, end - 4)] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
        fix_crcs(d, units)
    elif op == 4:  # truncate
        d = d[:rng.randrange(len(d))]
    elif op == 5:  # drop a unit
        start, _, end = rng.choice(units[1:])
        d = d[:start] + d[end:]
    elif op == 6:  # duplicate a unit
        start, _, end = rng.choice(units)
        d = d[:end] + d[start:end] + d[end:]
    elif op == 7:  # swap two units
        a, b = sorted(rng.sample(units, 2))
        d = d[:a[0]] + d[b[0]:b[2]] + d[a[2]:b[0]] + d[a[0]:a[2]] + d[b[2]:]
    else:  # absurd unit size
        start, body, end = rng.choice(units)
        size = rng.choice([0, 3, 1 << 31, (1 << 31) + 5, 10 ** 12])
        enc = bytearray()
        while True:
            b = size & 0x7F
            size >>= 7
            enc.append(b | (0x80 if size else 0))
            if not size:
                break
        d = d[:start + 2] + enc + d[body:]
    return bytes(d)


def decode_bytes(data: bytes, model, on_error: str) -> int:
    """Decode fully in memory; returns the number of frames produced."""
    reader = LvcReader(io.BytesIO(data))
    decoder = Decoder(model, reader.sequence_header, torch.device("cpu"), max_pixels=FUZZ_MAX_PIXELS)
    return sum(1 for _ in decode_frames(reader, decoder, on_error, warn=lambda m: None))


def run(model, seed_data: bytes, iterations: int, seed: int = 0, time_limit: float | None = None,
        budget=None):
    """Fuzz; returns stats. Raises AssertionError with the offending input on a failure.

    budget: a counter shared by the fuzzing processes (multiprocessing.Value): each process takes
    streams from it until `iterations` are taken in all, so a fast seed does more of them."""
    rng = random.Random(seed)
    stats = {"streams": 0, "inputs": 0, "decoded": 0, "clean_errors": 0, "slowest_s": 0.0}
    t_start = time.time()
    for i in itertools.count():
        if not _take(budget, iterations, i):
            break
        data = mutate(seed_data, rng)
        stats["streams"] += 1
        for mode in ("fail", "conceal"):
            t0 = time.time()
            try:
                decode_bytes(data, model, mode)
                stats["decoded"] += 1
                ok = True
            except LvcError as e:
                msg = str(e)
                assert "\n" not in msg and msg, f"error message is not one line: {msg!r}"
                stats["clean_errors"] += 1
                ok = False
            except Exception as e:  # noqa: BLE001 - this is what the fuzzer hunts
                raise AssertionError(f"input {i} ({mode}): {type(e).__name__}: {e}; "
                                     f"hex {data.hex()}") from e
            stats["slowest_s"] = max(stats["slowest_s"], time.time() - t0)
            stats["inputs"] += 1
            if ok:
                break  # what decodes without error decodes the same when concealing
        if time_limit and time.time() - t_start > time_limit:
            break
    stats["seconds"] = time.time() - t_start
    return stats


def _take(budget, iterations: int, i: int) -> bool:
    if budget is None:
        return i < iterations
    with budget.get_lock():
        if budget.value >= iterations:
            return False
        budget.value += 1
        return True


_BUDGET = None  # the shared stream counter, set in each worker process


def _init_worker(budget):
    global _BUDGET
    _BUDGET = budget


def _job(job):
    import os

    from lvcodec.weights import load_model

    models, iterations, seed, time_limit, gop = job
    torch.set_num_threads(1)
    os.environ["LVC_MODELS"] = models
    model = load_model("lvc-tiny")
    # low delay (I P P) or random access (I P B B B: reordering, two references; the B frames at
    # half scale, so the enhancement path is fuzzed too, and a flipped scale byte reaches the
    # full-scale B coder)
    seed_data = (seed_stream(model) if gop == 1
                 else seed_stream(model, n_frames=5, gop=gop, downsample="on"))
    return run(model, seed_data, iterations, seed=seed, time_limit=time_limit,
               budget=_BUDGET), seed_data


def main(argv=None):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from conftest import make_tiny_model  # the tests' deterministic tiny model

    ap = argparse.ArgumentParser(description="Fuzz the .lvc parser and decoder.")
    ap.add_argument("--iterations", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="processes (each fuzzes its own seed)")
    ap.add_argument("--report", type=Path)
    ap.add_argument("--time-limit", type=float, help="stop each process after this many seconds")
    args = ap.parse_args(argv)
    import multiprocessing
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    with tempfile.TemporaryDirectory() as tmp:
        make_tiny_model(Path(tmp), enhance=True)
        budget = multiprocessing.Value("q", 0)
        with ProcessPoolExecutor(args.jobs, initializer=_init_worker, initargs=(budget,)) as pool:
            parts = list(pool.map(_job, [(tmp, args.iterations, args.seed + j, args.time_limit,
                                          (1, 4)[j % 2]) for j in range(args.jobs)]))
    seed_data = parts[0][1]
    stats = {k: sum(p[0][k] for p in parts) for k in ("streams", "inputs", "decoded", "clean_errors")}
    stats["seconds"] = max(p[0]["seconds"] for p in parts)
    stats["slowest_s"] = max(p[0]["slowest_s"] for p in parts)
    import resource

    stats["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line = summary(stats)
    split = ", ".join(f"seed {args.seed + j} ({('I P P', 'I P B B B, half-scale B')[j % 2]}): "
                      f"{p[0]['streams']} streams" for j, p in enumerate(parts))
    print(line)
    print(split)
    print(f"{args.jobs} processes, seeds {args.seed}..{args.seed + args.jobs - 1}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report(line, len(seed_data), args.jobs, args.seed, split))


def summary(stats) -> str:
    return (f"{stats['streams']} mutated streams, {stats['inputs']} decodes (fail mode, then "
            f"conceal mode where fail stopped) in {stats['seconds']:.0f} s: {stats['decoded']} "
            f"decoded, {stats['clean_errors']} one-line errors, 0 crashes; slowest input "
            f"{stats['slowest_s'] * 1000:.0f} ms; peak memory of a fuzzing process "
            f"{stats['peak_mb']:.0f} MiB")


def report(line: str, seed_bytes: int, jobs: int, seed: int, split: str) -> str:
    return (
        "# Reliability: decoder fuzzing\n\n"
        "`make fuzz` (`python tests/fuzz/fuzz_decoder.py --iterations 100000`): mutations of "
        f"real 64x48 streams coded with the tiny test model: I P P ({seed_bytes} bytes) in the "
        "even processes, random access I P B B B with half-scale B frames in the odd ones, so "
        "that P- and B-frame packets, their references, the enhancement net's path, the reorder "
        "buffer and concealment are fuzzed too: bit "
        "flips, byte overwrites "
        "with CRCs recomputed, truncations, dropped/duplicated/swapped units, absurd unit sizes. "
        "Each mutated stream is decoded with `--on-error fail`, and again with `conceal` where "
        "fail stopped. A crash is any exception other than lvcodec's one-line errors; a hang or "
        "an unbounded allocation would show as the slowest input or the peak memory below.\n\n"
        f"{line}.\n\n"
        f"{jobs} processes took streams from one shared budget, so the faster seed did more: "
        f"{split}; {time.strftime('%Y-%m-%d')}, on 2 CPU cores. Every test run (`make test`, CI) fuzzes a short budget of the same harness "
        "(`tests/fuzz/test_fuzz.py`).\n")


if __name__ == "__main__":
    main()
