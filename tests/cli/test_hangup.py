"""SIGHUP (the terminal closed, an ssh session dropped) ends encode and decode as SIGTERM does:
one line, exit 129, and no hidden .NAME.XXXX.part file left behind."""

import os
import signal
import subprocess
import sys
import time
from cli_helpers import run


# -- signals --------------------------------------------------------------------------------------

def _signalled(cmd, out_dir, sig):
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.time() + 120
    while not list(out_dir.glob(".*.part")) and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert p.poll() is None, "the command ended before it could be signalled"
    time.sleep(0.3)  # frames are being coded and written
    p.send_signal(sig)
    err = p.communicate(timeout=60)[1].decode()
    return p.returncode, err


def test_sighup_ends_an_encode_cleanly(tiny_models, make_clip, tmp_path):
    src = make_clip(tmp_path / "long.y4m", width=96, height=64, frames=400)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, err = _signalled([sys.executable, "-m", "lvcodec", "encode", str(src),
                          str(out_dir / "a.lvc"), "--model", "lvc-tiny", "--quiet",
                          "--structure", "ldp"], out_dir, signal.SIGHUP)
    assert rc == 129 and err.strip().splitlines() == ["lvc: hangup"]
    assert list(out_dir.iterdir()) == []


def test_sighup_ends_a_decode_cleanly(tiny_models, make_clip, tmp_path):
    src = make_clip(tmp_path / "long.y4m", width=96, height=64, frames=300)
    stream = tmp_path / "a.lvc"
    # Only a long stream is wanted: the nets' pictures alone are the quickest to code.
    assert run("encode", src, stream, "--model", "lvc-tiny", "--quiet", "-I", "1",
               "--no-residual").exit_code == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc, err = _signalled([sys.executable, "-m", "lvcodec", "decode", str(stream),
                          str(out_dir / "r.y4m"), "--quiet"], out_dir, signal.SIGHUP)
    assert rc == 129 and err.strip().splitlines() == ["lvc: hangup"]
    assert list(out_dir.iterdir()) == []

