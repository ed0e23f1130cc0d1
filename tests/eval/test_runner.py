import csv
import json

import numpy as np

from lvcodec.eval.base import Codec, CodecResult
from lvcodec.eval.runner import evaluate
from lvcodec.io import Frame


class FakeCodec(Codec):
    """Adds noise that shrinks as the 'rate' grows; counts its encodes."""

    knob = "q"

    def __init__(self, name="fake", offset=0.0, points=(1, 2, 4, 8)):
        self.name, self.offset, self.default_points, self.calls = name, offset, points, 0

    def version(self):
        return "fake-1"

    def encode_decode(self, frames, info, point, intra_period, workdir=None):
        self.calls += 1
        rng = np.random.default_rng(point)
        sigma = 16.0 / point * 2 ** (-self.offset)

        def noisy(p):
            return np.clip(p + rng.normal(0, sigma, p.shape), 0, 255).astype(np.uint8)

        out = [Frame(noisy(f.y), noisy(f.u), noisy(f.v)) for f in frames]
        return CodecResult(200 * point * len(frames), out, 0.01, 0.01)


def test_evaluate_writes_outputs_and_resumes(tiny_y4m, tmp_path):
    out = tmp_path / "out"
    a, b = FakeCodec("fake-a"), FakeCodec("fake-b", offset=0.5)
    res = evaluate([tiny_y4m], [a, b, "jpeg"], {"jpeg": [30, 60, 90]}, frames=3, intra_period=1,
                   out_dir=out, progress=False, anchor_for_bd="fake-a")
    assert a.calls == 4 and b.calls == 4
    assert len(res["points"]) == 11 and res["reused"] == 0
    for name in ("points.jsonl", "points.csv", "points.json", "summary.md", "rd_average.png",
                 "rd_tiny_64x48.png"):
        assert (out / name).stat().st_size > 0, name
    rows = list(csv.DictReader(open(out / "points.csv")))
    assert len(rows) == 11
    jpeg = [r for r in res["points"] if r["codec"] == "jpeg"]
    # Rate is the whole stream over all pixels of all frames.
    assert all(abs(r["bpp"] - r["bytes"] * 8 / (3 * 64 * 48)) < 1e-12 for r in jpeg)
    assert all(0 < r["ms_ssim_y"] <= 1 for r in res["points"])
    # b has less noise at every rate: it needs fewer bits for the same quality.
    bd = {e["codec"]: e for e in res["bd"]["fake-a"]}
    assert bd["fake-b"]["bd_rate"] < 0
    md = (out / "summary.md").read_text()
    assert "Against fake-a" in md and "tiny_64x48" in md
    assert json.loads((out / "points.json").read_text())["points"][0]["clip"] == "tiny_64x48"

    # Second run: everything comes from points.jsonl, one new point is measured.
    a2, b2 = FakeCodec("fake-a"), FakeCodec("fake-b", offset=0.5)
    res2 = evaluate([tiny_y4m], [a2, b2], {"fake-b": [1, 2, 4, 8, 16]}, frames=3, intra_period=1,
                    out_dir=out, progress=False, anchor_for_bd="fake-a")
    assert a2.calls == 0 and b2.calls == 1 and res2["reused"] == 8
    # Another intra period is another setting: measured afresh.
    a3 = FakeCodec("fake-a")
    evaluate([tiny_y4m], [a3], None, frames=3, intra_period=-1, out_dir=out, progress=False)
    assert a3.calls == 4


def test_non_overlapping_curves_say_na(tiny_clip, tmp_path):
    far = FakeCodec("far", points=(1000, 2000, 4000, 8000))
    res = evaluate([tiny_clip], [FakeCodec("near"), far], None, frames=3, intra_period=1,
                   out_dir=tmp_path, progress=False, anchor_for_bd="near")
    assert res["bd"]["near"][0]["bd_rate"] is None
    assert "n/a (curves do not overlap)" in (tmp_path / "summary.md").read_text()


class LabelledCodec(FakeCodec):
    name_is_label = True  # as lvc: the version names the weights, the name is a label


def test_points_are_reused_under_another_label_only_for_the_same_input(tmp_path):
    from eval_synth import synth_frames

    from lvcodec.eval.clips import make_clip

    clip = make_clip("tiny", synth_frames())
    base = LabelledCodec("candidate")
    evaluate([clip], [base], None, frames=3, intra_period=1, out_dir=tmp_path, progress=False,
             anchor_for_bd=[])
    assert base.calls == 4
    # The same weights compared under another name: nothing is measured again.
    again = LabelledCodec("base")
    res = evaluate([clip], [again], None, frames=3, intra_period=1, out_dir=tmp_path,
                   progress=False, anchor_for_bd=[])
    assert again.calls == 0 and res["reused"] == 4
    assert {r["codec"] for r in res["points"]} == {"base"}
    # Another picture under the same clip name is another input.
    other = make_clip("tiny", [f.__class__(255 - f.y, f.u, f.v) for f in synth_frames()])
    fresh = LabelledCodec("base")
    evaluate([other], [fresh], None, frames=3, intra_period=1, out_dir=tmp_path, progress=False,
             anchor_for_bd=[])
    assert fresh.calls == 4
    # A codec whose name is its identity (an anchor's preset) is never relabelled.
    named = FakeCodec("other-fake")
    evaluate([clip], [named], None, frames=3, intra_period=1, out_dir=tmp_path, progress=False,
             anchor_for_bd=[])
    assert named.calls == 4
