"""`lvc bench`: the declared benchmark suites and their one entry point."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lvcodec.cli import main
from lvcodec.errors import ConfigError
from lvcodec.eval import suites

ROOT = Path(__file__).resolve().parents[2]


def test_every_suite_is_listed_and_names_a_module_that_exists():
    r = CliRunner().invoke(main, ["bench", "--list"])
    assert r.exit_code == 0
    for name, s in suites.SUITES.items():
        assert re.search(rf"^{name}\s", r.output, re.M)
        assert (ROOT / (s.module.replace(".", "/") + ".py")).exists(), s.module


def test_make_bench_runs_the_rd_suites_through_lvc_bench():
    make = (ROOT / "Makefile").read_text()
    assert "$(LVC) bench --testset $(TESTSET) --out benchmarks" in make
    assert set(suites.RD_SUITES) == {n for n, s in suites.SUITES.items() if s.rd}
    assert "parity" not in suites.RD_SUITES and "memory" not in suites.RD_SUITES


def test_an_unknown_suite_or_a_missing_test_set_is_one_line(tmp_path):
    r = CliRunner().invoke(main, ["bench", "nosuch"])
    assert r.exit_code == 1 and "no benchmark suite 'nosuch'" in r.output
    r = CliRunner().invoke(main, ["bench", "intra", "--testset", str(tmp_path / "none")])
    assert r.exit_code == 1 and "no test set there" in r.output


def test_a_failing_suite_stops_the_run_naming_it(monkeypatch, tmp_path):
    broken = suites.Suite("broken", "lvcodec.eval.no_such_module", ("--out", "{out}"), (), "x",
                          testset=False)
    monkeypatch.setitem(suites.SUITES, "broken", broken)
    with pytest.raises(ConfigError, match="benchmark suite broken failed"):
        suites.run_suite("broken", "", str(tmp_path), echo=lambda *_: None)
