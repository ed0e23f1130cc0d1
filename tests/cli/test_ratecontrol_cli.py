"""lvc encode --bitrate: bad values and -q with it refused in one line; the summary reports the
target and what was achieved."""

import json

import pytest

from cli_helpers import one_error_line, run


@pytest.mark.parametrize("args, fragment", [(["--bitrate", "fast"], "--bitrate 'fast'"),
                                            (["--bitrate", "300k", "-q", "20"], "give one"),
                                            (["-b", "300k", "--jobs", "2"], "not with --jobs")])
def test_encode_refuses_a_bad_bitrate_in_one_line(tiny_models, clip, tmp_path, args, fragment):
    out = tmp_path / "a.lvc"
    one_error_line(run("encode", clip, out, "--model", "lvc-tiny", "--quiet", *args), fragment)
    assert not out.exists()


def test_encode_reports_target_and_achieved_rate(tiny_models, make_clip, tmp_path):
    clip, out = make_clip(tmp_path / "m.y4m", frames=9), tmp_path / "a.lvc"
    r = run("encode", clip, out, "--model", "lvc-tiny", "--quiet", "--gop", "8", "-b", "70k")
    assert r.exit_code == 0, r.output
    assert "rate control: target 70.0 kbit/s, achieved" in r.stderr
    frames = json.loads(run("info", out, "--json").stdout)["frames"]
    assert len(frames) == 9 and all(0 <= f["quality"] <= 63 for f in frames)
