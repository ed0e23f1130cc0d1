import pytest
from click.testing import CliRunner

from lvcodec.errors import ConfigError
from lvcodec.eval.cli import eval_command


def test_eval_anchors_only(tiny_y4m, tmp_path):
    out = tmp_path / "ev"
    r = CliRunner().invoke(eval_command, [str(tiny_y4m), "--no-lvc", "--anchors", "x264-medium,jpeg",
                                          "--anchor-points", "x264-medium=22,32,42", "-n", "2",
                                          "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "jpeg vs x264-medium" in r.output
    assert (out / "summary.md").exists() and (out / "rd_average.png").exists()
    assert "x264-medium" in (out / "points.csv").read_text()


@pytest.mark.parametrize("args", [["--anchors", "x266"], ["--anchors", "none", "--no-lvc"],
                                  ["--no-lvc", "--anchor-points", "jpeg=1"],
                                  ["--qualities", "8,99", "--anchors", "none"]])
def test_eval_config_errors(tiny_y4m, tmp_path, args):
    r = CliRunner().invoke(eval_command, [str(tiny_y4m), "--out", str(tmp_path), *args])
    assert isinstance(r.exception, ConfigError), r.output


def test_eval_bad_intra_period(tiny_y4m):
    r = CliRunner().invoke(eval_command, [str(tiny_y4m), "--intra-period", "0"])
    assert r.exit_code == 2 and "intra-period" in r.output


def test_eval_missing_model_is_clear(tiny_y4m, tmp_path, monkeypatch):
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "nomodels"))
    r = CliRunner().invoke(eval_command, [str(tiny_y4m), "--anchors", "jpeg", "--out", str(tmp_path)])
    assert "not found" in str(r.exception) and "--no-lvc" in str(r.exception)
