"""--threads N: torch's thread count for encode and decode; every N gives the same bytes and
the same pictures (the codec's thread-count parity, benchmarks/parity.md)."""

import pytest
import torch
from click.testing import CliRunner

from lvcodec.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def thread_calls(monkeypatch):
    """The thread counts lvc set, in order; torch's own count is restored afterwards."""
    before, calls = torch.get_num_threads(), []
    real = torch.set_num_threads

    def spy(n):
        calls.append(n)
        real(n)

    monkeypatch.setattr(torch, "set_num_threads", spy)
    yield calls
    real(before)


def test_one_and_two_threads_give_identical_streams_and_pictures(tiny_models, clip, tmp_path,
                                                                 thread_calls):
    for n in (1, 2):  # random access by default: I, P and B frames
        r = run("encode", clip, tmp_path / f"t{n}.lvc", "--model", "lvc-tiny", "--quiet",
                "--threads", n)
        assert r.exit_code == 0, r.output
        assert torch.get_num_threads() == n
    assert (tmp_path / "t1.lvc").read_bytes() == (tmp_path / "t2.lvc").read_bytes()
    for n in (1, 2):  # the stream encoded with 2 threads, decoded with 1 and with 2
        r = run("decode", tmp_path / "t2.lvc", tmp_path / f"r{n}.y4m", "--quiet", "--threads", n)
        assert r.exit_code == 0, r.output
        assert torch.get_num_threads() == n
    assert (tmp_path / "r1.y4m").read_bytes() == (tmp_path / "r2.y4m").read_bytes()
    # Each command sets its count first; the 2-thread encode's refinement (preset medium) drops
    # to one thread and back to 2 in between.
    assert thread_calls[:2] == [1, 2] and thread_calls[-2:] == [1, 2] and set(thread_calls) == {1, 2}


@pytest.mark.parametrize("command", ["encode", "decode"])
def test_threads_must_be_positive(command, tmp_path, thread_calls):
    r = run(command, tmp_path / "a", tmp_path / "b", "--threads", "0")
    assert r.exit_code == 2 and "--threads" in r.output and "0" in r.output
    assert thread_calls == []


def test_without_threads_torch_keeps_its_default(tiny_models, clip, tmp_path, thread_calls):
    r = run("encode", clip, tmp_path / "a.lvc", "--model", "lvc-tiny", "--quiet", "-I", "1")
    assert r.exit_code == 0, r.output
    assert thread_calls == []
