"""lvc through the evaluation (tiny random model) and the two benchmark scripts on a tiny test set."""

import json

import pytest
from click.testing import CliRunner

from eval_synth import synth_frames
from lvcodec.eval.clips import find_clips, make_clip
from lvcodec.io import open_writer


@pytest.fixture()
def testset(tmp_path):
    d = tmp_path / "testset"
    d.mkdir()
    frames = synth_frames(64, 48, 3)
    with open_writer(d / "a_64x48.y4m", make_clip("a", frames).info) as w:
        for f in frames:
            w.write(f)
    raw = b"".join(f.tobytes() for f in synth_frames(64, 48, 2, seed=3))
    (d / "b.yuv").write_bytes(raw)
    (d / "README.md").write_text(
        "| file | size | fps |\n|---|---|---|\n| `b.yuv` | 64×48 | 30:1 |\n")
    return d


def test_find_clips_reads_raw_sizes_from_readme(testset):
    found = {p.name: (s, f) for p, s, f in find_clips(testset)}
    assert found == {"a_64x48.y4m": (None, None), "b.yuv": ((64, 48), "30/1")}


def test_lvc_codec_round_trip(tiny_models, tiny_clip):
    from lvcodec.eval.lvc_codec import LvcCodec

    codec = LvcCodec(model="lvc-tiny")
    assert codec.version().startswith("lvc-tiny@")
    res = codec.encode_decode(tiny_clip.frames, tiny_clip.info, 32, 1)
    assert len(res.frames) == 3 and res.bytes > 0
    assert res.frames[0].y.shape == (48, 64)


def test_bench_anchors_only(testset, tmp_path):
    from lvcodec.eval.bench import bench

    r = CliRunner().invoke(bench, [str(testset), "--out", str(tmp_path / "b"), "--frames", "2",
                                   "--no-lvc", "--intra-period", "1"])
    assert r.exit_code == 0, r.output
    md = (tmp_path / "b" / "bench_ip1" / "summary.md").read_text()
    assert "svtav1" in md and "jpeg" in md and "b " in md.replace("###", "")


def test_bench_intra(tiny_models, testset, tmp_path):
    from lvcodec.eval.bench_intra import bench_intra

    out = tmp_path / "b"
    r = CliRunner().invoke(bench_intra, [str(testset), "--out", str(out), "--frames", "2",
                                         "--model", "lvc-tiny", "--qualities", "8,40,63"])
    assert r.exit_code == 0, (r.output, r.exception)
    md = (out / "intra.md").read_text()
    assert "Against x264-medium" in md and "Against jpeg" in md and "640×360" in md
    speed = json.loads((out / "intra.json").read_text())["speed"]
    assert speed["width"] == 640 and speed["encode_fps"] > 0
    assert (out / "intra.csv").exists() and (out / "intra_rd.png").exists()
    card = json.loads((tiny_models / "lvc-tiny.json").read_text())
    avg = card["measured"]["average over clips"]
    assert [p["quality"] for p in avg] == [8, 40, 63] and all(p["bpp"] > 0 for p in avg)
    assert set(card["measured"]["bd_rate_percent_vs"]) == {"x264-medium", "jpeg"}


def test_bench_inter(tiny_models, testset, tmp_path):
    from lvcodec.eval.bench_inter import bench_inter

    out = tmp_path / "b"
    r = CliRunner().invoke(bench_inter, [str(testset), "--out", str(out), "--frames", "3",
                                         "--intra-period", "2", "--model", "lvc-tiny",
                                         "--qualities", "8,40,63"])
    assert r.exit_code == 0, (r.output, r.exception)
    md = (out / "inter.md").read_text()
    assert "Against lvc-intra" in md and "Against x264-medium-ldp" in md and "Drift" in md
    result = json.loads((out / "inter.json").read_text())
    drift = result["drift"]["lvc"]
    assert sorted(map(int, drift)) == [8, 40, 63] and all(len(v) == 3 for v in drift.values())
    points = json.loads((out / "bench_ip2" / "points.json").read_text())["points"]
    lvc = {r["point"]: r for r in points if r["codec"] == "lvc" and r["clip"].startswith("a")}
    intra = {r["point"]: r for r in points if r["codec"] == "lvc-intra" and r["clip"].startswith("a")}
    assert lvc[40]["settings"]["intra_period"] == 2 and intra[40]["settings"]["intra_period"] == 1
    assert lvc[40]["bytes"] != intra[40]["bytes"]  # frame 1 is a P frame in one, an I in the other
    assert (out / "inter_rd.png").exists() and (out / "inter_drift.png").exists()
    card = json.loads((tiny_models / "lvc-tiny.json").read_text())
    assert set(card["measured_inter"]["average over clips"]) == {"lvc", "lvc-intra"}
    assert "lvc-intra" in card["measured_inter"]["bd_rate_percent_of_lvc_vs"]


def test_bench_parity_decodes_identically_on_cpu_and_reports_the_matrix(make_model, make_clip,
                                                                         tmp_path, monkeypatch):
    from lvcodec.eval.bench_parity import main

    make_model(tmp_path / "models", name="lvc-ds", enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    clip = make_clip(tmp_path / "p.y4m", frames=3)  # played back and forth to 5 frames
    out = tmp_path / "b"
    r = CliRunner().invoke(main, ["--out", str(out), "--model", "lvc-ds", "--clip", str(clip),
                                  "--frames", "5", "--intra-period", "2", "--qualities", "0,63",
                                  "--no-foreign"])  # child processes: tests/codec/test_parity.py
    assert r.exit_code == 0, (r.output, r.exception)
    results = json.loads((out / "parity.json").read_text())["results"]
    assert list(results) == [f"{s}, q{q}" for s in ("low delay", "random access, half-scale B")
                             for q in (0, 63)]
    for q in results.values():
        conds = q["conditions"]
        for name in ("CPU, 1 thread", "CPU, 2 threads", "CPU, 3 threads"):
            assert conds[name]["identical"] == conds[name]["frames"] == 5
        # frames 2, 3, 4 (random access skips B frame 1: it references frame 0)
        assert conds["CPU, from the second I frame"]["identical"] == 3
        onednn = conds["CPU, oneDNN allowed"]
        assert onednn["identical"] == onednn["frames"] == 5  # the exact process never takes it
    batched = json.loads((out / "parity.json").read_text())["batched"]
    assert list(batched) == ["CPU, q0", "CPU, q63", "oneDNN allowed, q0"]
    for col in batched:
        assert "half-scale B: enhancement net" in batched[col]
        assert all(same == total > 0 for same, total in batched[col].values())
    md = (out / "parity.md").read_text()
    assert "| CPU, 1 thread | 5/5 | 5/5 | 5/5 | 5/5 |" in md and "forwards and backwards), 5 frames" in md
    assert "## Frames batched (4) vs one at a time" in md
