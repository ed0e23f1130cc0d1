"""What the CLI tests share: run `lvc` in-process, and check a one-line error."""

from click.testing import CliRunner

from lvcodec.cli import main


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def one_error_line(r, *fragments):
    """exit 1, and exactly one line on stderr, `lvc: error: ...` holding every fragment."""
    assert r.exit_code == 1, (r.exit_code, r.output, r.exception)
    assert isinstance(r.exception, SystemExit), r.exception
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lvc: error: "), r.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]
