"""The benchmark suites, declared once: what each measures, how it runs, what it writes.

`lvc bench [SUITE…]` runs them from this table (`lvc bench --all`, as `make bench`: every one, so
every table in benchmarks/ is rebuilt by one command); each suite is its own process (`python -m
MODULE ARGS`, or a script of the checkout's tests/), so one suite's kernels, threads or environment
never leak into the next. `{testset}` and `{out}` in a suite's arguments are filled in at run time.
Dated records (benchmarks/notes/, benchmarks/training_runs/) are not suites: each names the
script or run that wrote it.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lvcodec.errors import ConfigError

__all__ = ["Suite", "SUITES", "RD_SUITES", "run_suite"]

ROOT = Path(__file__).resolve().parents[2]  # a checkout: where script suites live


@dataclass(frozen=True)
class Suite:
    name: str
    module: str  # a module of lvcodec, or a script's path in the checkout (ends in .py)
    args: tuple
    writes: tuple  # files under {out}
    what: str
    testset: bool = True  # needs ../shared/testset
    kind: str = "rd"  # rd (`lvc bench` with no names runs these), verification or training
    env: tuple = ()  # (name, value) pairs set for the suite's process

    def argv(self, testset: str, out: str) -> list[str]:
        return [a.format(testset=testset, out=out) for a in self.args]

    def command(self) -> list[str]:
        if self.module.endswith(".py"):
            return [sys.executable, str(ROOT / self.module)]
        return [sys.executable, "-m", self.module]


SUITES = {s.name: s for s in (
    Suite("intra", "lvcodec.eval.bench_intra", ("{testset}", "--out", "{out}"),
          ("intra.md", "intra.json", "intra.csv", "intra_rd.png"), "all-intra RD and speed against x264/x265/SVT-AV1/JPEG"),
    Suite("anchors", "lvcodec.eval.bench", ("{testset}", "--out", "{out}", "--intra-period", "1"),
          ("bench_ip1/summary.md", "bench_ip1/points.json"),
          "the `lvc eval` harness on the test set, all-intra"),
    Suite("inter", "lvcodec.eval.bench_inter", ("{testset}", "--out", "{out}"),
          ("inter.md", "inter.json", "inter_rd.png", "inter_drift.png"), "low delay (P frames) against all-intra and the anchors"),
    Suite("bframes", "lvcodec.eval.bench_bframes", ("{testset}", "--out", "{out}"),
          ("bframes.md", "bframes.json", "bframes_rd.png", "bframes_frames.png"), "random access (B frames) against low delay"),
    Suite("residual", "lvcodec.eval.bench_residual", ("{testset}", "--out", "{out}"),
          ("residual.md", "residual.json"),
          "the default encoder (residual layer, block motion) against x264/x265, AI and RA"),
    Suite("bshare", "lvcodec.eval.bench_bshare", ("{testset}", "--out", "{out}"),
          ("bframe_share.md", "bframe_share.json"),
          "B-frame bytes against the I frame's at q 32, the CLI default"),
    Suite("history", "lvcodec.eval.bench_history", ("--out", "{out}"), ("learning_history.md",),
          "every shipped model's random-access BD-rate beside its training compute",
          testset=False),
    Suite("downsampling", "lvcodec.eval.bench_downsampling", ("{testset}", "--out", "{out}"),
          ("downsampling.md", "downsampling.json", "downsampling_rd.png"), "half-scale B frames: off, on, auto"),
    Suite("entropy", "lvcodec.eval.bench_entropy", ("--out", "{out}"),
          ("entropy.md", "entropy.json"), "range-coder throughput against CompressAI's rANS",
          testset=False),
    Suite("ratecontrol", "lvcodec.eval.bench_ratecontrol", ("{testset}", "--out", "{out}"),
          ("ratecontrol.md", "ratecontrol.json"), "--bitrate: target against achieved rate"),
    Suite("chunks", "lvcodec.eval.bench_chunks", ("--out", "{out}"), ("chunks.md", "chunks.json"),
          "--jobs 2 against --jobs 1: wall clock, identical streams", testset=False),
    Suite("refinement", "lvcodec.eval.bench_refinement",
          ("{testset}", "--out", "{out}", "--frames", "9", "--gop", "8", "--qualities", "16,32,48"),
          ("refinement.md", "refinement.json"), "--preset slow against medium"),
    Suite("exact", "lvcodec.eval.bench_exact", ("{testset}", "--out", "{out}"),
          ("exact.md", "exact.json"), "the exact decoding process against a float reference"),
    # Verification and training reports: they check behaviour or time training, not RD.
    Suite("parity", "lvcodec.eval.bench_parity", ("--out", "{out}"), ("parity.md", "parity.json"),
          "decoder pictures against the encoder's under threads, kernels, batching, devices",
          testset=False, kind="verification"),
    Suite("memory", "lvcodec.eval.bench_memory", ("--out", "{out}", "--jobs", "2"),
          ("memory.md",), "peak memory against length and picture size", testset=False,
          kind="verification",
          env=(("OMP_NUM_THREADS", "1"),)),
    Suite("fuzz", "tests/fuzz/fuzz_decoder.py",
          ("--iterations", "100000", "--report", "{out}/reliability.md"), ("reliability.md",),
          "100 000 mutated streams through the parser and decoder", testset=False,
          kind="verification"),
    Suite("training", "lvcodec.train.bench", ("--out", "{out}"), ("training.md", "training.json"),
          "training throughput of every stage, fast path against plain fp32",
          testset=False, kind="training", env=(("OMP_WAIT_POLICY", "PASSIVE"),)),
)}
RD_SUITES = tuple(name for name, s in SUITES.items() if s.kind == "rd")


def run_suite(name: str, testset: str, out: str, echo=print) -> None:
    """Run one suite in its own process; raises ConfigError naming it if it fails."""
    if name not in SUITES:
        raise ConfigError(f"no benchmark suite {name!r} (lvc bench --list shows them)")
    suite = SUITES[name]
    if suite.module.endswith(".py") and not (ROOT / suite.module).exists():
        raise ConfigError(f"benchmark suite {name} needs a checkout of lvcodec ({suite.module})")
    echo(f"== {name}: {suite.what}")
    rc = subprocess.call([*suite.command(), *suite.argv(testset, out)],
                         env=dict(os.environ, **dict(suite.env)))
    if rc:
        raise ConfigError(f"benchmark suite {name} failed (exit status {rc})")
    echo(f"== {name}: wrote {', '.join(f'{out}/{w}' for w in suite.writes)}")
