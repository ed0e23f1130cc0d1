"""bin/device-train, the one call a lent GPU machine gets: run here on the CPU with a tiny budget."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_device_train_turns_the_packs_clips_into_a_model_returned_in_parts(tmp_path, make_model,
                                                                         training_clip):
    from lvcodec.weights import load_model

    models = tmp_path / "models"
    make_model(models, name="lvc-base")
    pack = tmp_path / "pack"
    clip = training_clip(pack / "clips", frames=5)  # bin/device-pack puts the clips' files here
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, OUT=str(out), PYTHON=sys.executable, LVC_DEVICE="cpu",
               LVC_MODELS=str(models), WORK=str(tmp_path / "work"))
    # The parity stream, as bin/device-pack makes it (there with the shipped model and demo clip).
    lvc = [sys.executable, "-m", "lvcodec"]
    shutil.copy(next(clip.glob("*.y4m")), pack / "demo.y4m")
    subprocess.run(lvc + ["encode", str(pack / "demo.y4m"), str(pack / "parity.lvc"), "-n", "3",
                          "--quiet"], env=env, check=True, capture_output=True)
    subprocess.run(lvc + ["decode", str(pack / "parity.lvc"), str(tmp_path / "p.yuv"), "--quiet"],
                   env=env, check=True, capture_output=True)
    digest = hashlib.sha256((tmp_path / "p.yuv").read_bytes()).hexdigest()
    (pack / "parity.sha256").write_text(f"{digest}  parity.yuv\n")
    subprocess.run([str(ROOT / "bin" / "device-train"), str(pack), "0.05", "enhance"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    parts = sorted(out.glob("lvc-base.safetensors.part*"))
    assert parts and all(p.stat().st_size <= 15_000_000 for p in parts)
    joined = tmp_path / "back"
    joined.mkdir()
    (joined / "lvc-base.safetensors").write_bytes(b"".join(p.read_bytes() for p in parts))
    (joined / "lvc-base.json").write_bytes((out / "lvc-base.json").read_bytes())
    model = load_model(str(joined / "lvc-base"))  # the card's hash checks the joined weights
    assert model.card["training_enhance"]["steps"] >= 1
    assert (out / "runs.csv").read_text().startswith("# enhance\nstep,")
    log = (out / "train.log").read_text()
    assert "== enhance" in log and "identical pictures" in log
    # The stream the device encoded decodes here (the decoder checks every picture's hash).
    subprocess.run(lvc + ["decode", str(out / "cuda.lvc"), str(tmp_path / "c.yuv"), "--quiet"],
                   env=env, check=True, capture_output=True)
    assert len(list(out.iterdir())) <= 8  # what the device tool returns
