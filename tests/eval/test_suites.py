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
        path = s.module if s.module.endswith(".py") else s.module.replace(".", "/") + ".py"
        assert (ROOT / path).exists(), s.module


def test_make_bench_runs_every_suite_through_lvc_bench():
    make = (ROOT / "Makefile").read_text()
    assert "$(LVC) bench --all --testset $(TESTSET) --out benchmarks" in make
    assert set(suites.RD_SUITES) == {n for n, s in suites.SUITES.items() if s.kind == "rd"}
    assert "parity" not in suites.RD_SUITES and "memory" not in suites.RD_SUITES


def test_every_table_in_benchmarks_is_written_by_a_suite():
    """Top-level reports of benchmarks/ are rebuilt by `make bench`; dated records live in
    notes/ and training_runs/, caches in the suites' own folders."""
    written = {w for s in suites.SUITES.values() for w in s.writes}
    tables = {p.name for p in (ROOT / "benchmarks").iterdir() if p.is_file()}
    assert tables <= written, sorted(tables - written)


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
