"""`lvc info --json` against its documented schema (docs/info-json.md): the doc's tables are
the schema, so the doc and the output cannot drift apart."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lvcodec.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "info-json.md"
SECTIONS = {"Top-level object": "top", "`sequence` object": "sequence",
            "`model` object": "model", "`frames` entries": "frame"}
TYPES = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array of objects": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "array of integers": lambda v: isinstance(v, list) and all(isinstance(x, int) for x in v),
}


def documented_schema() -> dict:
    """{section: {field: (type, optional)}} from the doc's tables."""
    schema, section = {}, None
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            section = SECTIONS.get(line[3:].strip())
            if section:
                schema[section] = {}
        elif section and (m := re.fullmatch(r"\| `(\w+)` \| ([^|]+) \| .+ \|", line)):
            kind, _, flag = m[2].strip().partition(",")
            assert kind in TYPES, f"docs/info-json.md: unknown type '{kind}' for {m[1]}"
            schema[section][m[1]] = (kind, flag.strip() == "optional")
    return schema


def check(obj: dict, fields: dict, where: str) -> None:
    undocumented = set(obj) - set(fields)
    assert not undocumented, f"{where}: fields not in docs/info-json.md: {sorted(undocumented)}"
    for name, (kind, optional) in fields.items():
        if name not in obj:
            assert optional, f"{where}: documented field '{name}' is missing"
            continue
        assert TYPES[kind](obj[name]), f"{where}.{name}: {obj[name]!r} is not {kind}"


def validate(d: dict) -> None:
    schema = documented_schema()
    check(d, schema["top"], "top level")
    check(d["sequence"], schema["sequence"], "sequence")
    check(d["model"], schema["model"], "model")
    for fr in d["frames"]:
        check(fr, schema["frame"], f"frames[{fr.get('coding_index')}]")


def test_the_doc_has_every_section_and_the_version_it_describes():
    from lvcodec.bitstream.info import SCHEMA_VERSION

    schema = documented_schema()
    assert set(schema) == set(SECTIONS.values()) and all(schema.values())
    assert f"Schema version: **{SCHEMA_VERSION}**." in DOC.read_text()


@pytest.mark.parametrize("structure", [["--structure", "ldp"], ["--gop", "8", "--downsample", "on"]])
def test_real_info_json_matches_the_documented_schema(tmp_path, monkeypatch, make_model,
                                                      make_clip, structure):
    make_model(tmp_path / "models", name="lvc-ds", enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path / "models"))
    clip = make_clip(tmp_path / "c.y4m", frames=5)
    out = tmp_path / "a.lvc"
    r = CliRunner().invoke(main, ["encode", str(clip), str(out), "--model", "lvc-ds", "--quiet",
                                  *structure])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["info", str(out), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    validate(d)
    from lvcodec.bitstream.info import SCHEMA_VERSION

    assert d["schema_version"] == SCHEMA_VERSION and d["frame_units"] == 5 == len(d["frames"])
    assert [f["coding_index"] for f in d["frames"]] == list(range(5))
    assert d["model"] == {"name": "lvc-ds", "sha256": d["sequence"]["model_sha256"]}
    assert d["sequence"]["frame_count"] == 5 and d["bytes"] == out.stat().st_size
    if "--downsample" in structure:
        assert [f["scale"] for f in d["frames"]] == ["1", "1", "1/2", "1/2", "1/2"]
        assert d["frames"][2]["refs"] == [0, 4] and d["frames"][2]["temporal_layer"] == 1


def test_the_check_catches_drift():
    """An undocumented field, a missing one and a wrongly typed one each fail validation."""
    fields = documented_schema()["model"]
    check({"name": "x", "sha256": "00"}, fields, "model")
    for bad in ({"name": "x"}, {"name": "x", "sha256": "00", "extra": 1},
                {"name": 3, "sha256": "00"}):
        with pytest.raises(AssertionError):
            check(bad, fields, "model")
