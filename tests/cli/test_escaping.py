"""Strings from a file (the model name) never reach the terminal raw: control characters are
escaped, as the decoder's own messages do."""

from cli_helpers import run, one_error_line


# -- strings from the file ------------------------------------------------------------------------

EVIL = "\x1b[31mevil\nname\x07"


def forged_stream(path, model_name=EVIL):
    from lvcodec.bitstream import FrameHeader, LvcWriter, SequenceHeader

    with open(path, "wb") as f:
        w = LvcWriter(f)
        w.write_sequence_header(SequenceHeader(64, 48, model_name=model_name,
                                               model_sha256=bytes(32)))
        w.write_frame(FrameHeader(), [b"\x01\x02"])
        w.close()
    return path


def test_info_escapes_control_characters_from_the_file(tmp_path):
    src = forged_stream(tmp_path / "evil.lvc")
    r = run("info", src)
    assert r.exit_code == 0, r.output
    for c in ("\x1b", "\x07"):
        assert c not in r.output
    model_lines = [ln for ln in r.output.splitlines() if ln.startswith("model")]
    assert model_lines == ["model           \\x1b[31mevil\\nname\\x07 (sha256 " + "00" * 32 + ")"]
    clean = forged_stream(tmp_path / "clean.lvc", "lvc-tiny")
    assert len(run("info", src).output.splitlines()) == len(run("info", clean).output.splitlines())
    j = run("info", src, "--json")  # JSON escapes them itself, and keeps the real name
    assert j.exit_code == 0 and "\x1b" not in j.output and '"\\u001b[31mevil\\nname\\u0007"' in j.output


def test_decode_error_naming_a_forged_model_is_escaped(tmp_path, tiny_models):
    src = forged_stream(tmp_path / "evil.lvc")
    line = one_error_line(run("decode", src, tmp_path / "o.y4m"))
    assert "\x1b" not in line and "\x07" not in line and "\\x1b[31mevil\\nname\\x07" in line
    assert not (tmp_path / "o.y4m").exists()

