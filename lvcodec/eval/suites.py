"""The benchmark suites, declared once: what each measures, how it runs, what it writes.

`lvc bench [SUITE…]` (and `make bench`) runs them from this table; each suite is its own
process (`python -m MODULE ARGS`), so one suite's kernels, threads or environment never leak into
the next. `{testset}` and `{out}` in a suite's arguments are filled in at run time.
"""

import os
import subprocess
import sys
from dataclasses import dataclass

from lvcodec.errors import ConfigError

__all__ = ["Suite", "SUITES", "RD_SUITES", "run_suite"]


@dataclass(frozen=True)
class Suite:
    name: str
    module: str
    args: tuple
    writes: tuple  # files under {out}
    what: str
    testset: bool = True  # needs ../shared/testset
    rd: bool = True  # a rate-distortion/speed benchmark (`lvc bench` with no names runs these)
    env: tuple = ()  # (name, value) pairs set for the suite's process

    def argv(self, testset: str, out: str) -> list[str]:
        return [a.format(testset=testset, out=out) for a in self.args]


SUITES = {s.name: s for s in (
    Suite("intra", "lvcodec.eval.bench_intra", ("{testset}", "--out", "{out}"),
          ("intra.md", "intra.json"), "all-intra RD and speed against x264/x265/SVT-AV1/JPEG"),
    Suite("anchors", "lvcodec.eval.bench", ("{testset}", "--out", "{out}", "--intra-period", "1"),
          ("bench_ip1/summary.md", "bench_ip1/points.json"),
          "the `lvc eval` harness on the test set, all-intra"),
    Suite("inter", "lvcodec.eval.bench_inter", ("{testset}", "--out", "{out}"),
          ("inter.md", "inter.json"), "low delay (P frames) against all-intra and the anchors"),
    Suite("bframes", "lvcodec.eval.bench_bframes", ("{testset}", "--out", "{out}"),
          ("bframes.md", "bframes.json"), "random access (B frames) against low delay"),
    Suite("downsampling", "lvcodec.eval.bench_downsampling", ("{testset}", "--out", "{out}"),
          ("downsampling.md", "downsampling.json"), "half-scale B frames: off, on, auto"),
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
    # Verification reports (make parity / memory): they check behaviour rather than measure RD.
    Suite("parity", "lvcodec.eval.bench_parity", ("--out", "{out}"), ("parity.md", "parity.json"),
          "decoder pictures against the encoder's under threads, kernels, batching, devices",
          testset=False, rd=False),
    Suite("memory", "lvcodec.eval.bench_memory", ("--out", "{out}", "--jobs", "2"),
          ("memory.md",), "peak memory against length and picture size", testset=False, rd=False,
          env=(("OMP_NUM_THREADS", "1"),)),
)}
RD_SUITES = tuple(name for name, s in SUITES.items() if s.rd)


def run_suite(name: str, testset: str, out: str, echo=print) -> None:
    """Run one suite in its own process; raises ConfigError naming it if it fails."""
    if name not in SUITES:
        raise ConfigError(f"no benchmark suite {name!r} (lvc bench --list shows them)")
    suite = SUITES[name]
    echo(f"== {name}: {suite.what}")
    rc = subprocess.call([sys.executable, "-m", suite.module, *suite.argv(testset, out)],
                         env=dict(os.environ, **dict(suite.env)))
    if rc:
        raise ConfigError(f"benchmark suite {name} failed (exit status {rc})")
    echo(f"== {name}: wrote {', '.join(f'{out}/{w}' for w in suite.writes)}")
