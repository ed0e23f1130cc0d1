"""A short fuzzing budget in every test run (`make fuzz` runs the long one), plus concealment."""

import pytest

from fuzz_decoder import decode_bytes, run, seed_stream, split_units
from lvcodec.errors import CorruptStream
from lvcodec.weights import load_model


@pytest.fixture()
def model_and_stream(tiny_models):
    model = load_model("lvc-tiny")
    return model, seed_stream(model)


def test_seed_stream_decodes_and_splits(model_and_stream):
    model, data = model_and_stream
    assert decode_bytes(data, model, "fail") == 3
    units = split_units(data)
    assert len(units) == 5 and units[-1][2] + 8 == len(data)  # header, 3 frames, index + footer


def test_short_fuzz_run_has_no_crash(model_and_stream):
    model, data = model_and_stream
    stats = run(model, data, iterations=300, seed=7, time_limit=20)
    assert stats["inputs"] > 0 and stats["clean_errors"] > 0 and stats["decoded"] > 0


def test_damaged_frame_is_concealed_and_the_rest_decodes(model_and_stream):
    model, data = model_and_stream
    start, body, end = split_units(data)[2]  # the second frame
    bad = bytearray(data)
    bad[(body + end) // 2] ^= 0x40
    bad = bytes(bad)
    with pytest.raises(CorruptStream, match="CRC"):
        decode_bytes(bad, model, "fail")
    assert decode_bytes(bad, model, "conceal") == 3


def test_short_fuzz_run_on_a_random_access_stream_has_no_crash(tiny_models):
    """I P B B B: swapped, dropped and damaged units reach the reorder buffer and the B coder."""
    model = load_model("lvc-tiny")
    data = seed_stream(model, n_frames=5, gop=4)
    assert decode_bytes(data, model, "fail") == 5
    stats = run(model, data, iterations=200, seed=11, time_limit=20)
    assert stats["inputs"] > 0 and stats["clean_errors"] > 0 and stats["decoded"] > 0


def test_short_fuzz_run_on_half_scale_b_frames_has_no_crash(tmp_path, monkeypatch, make_model):
    """The enhancement path (half-scale references, up-sampled motion, recurrent state) under
    damage: a flipped scale byte, a lost reference, a swapped unit."""
    make_model(tmp_path, name="lvc-ds", enhance=True)
    monkeypatch.setenv("LVC_MODELS", str(tmp_path))
    model = load_model("lvc-ds")
    data = seed_stream(model, n_frames=5, gop=4, downsample="on")
    assert decode_bytes(data, model, "fail") == 5
    stats = run(model, data, iterations=150, seed=13, time_limit=20)
    assert stats["inputs"] > 0 and stats["clean_errors"] > 0 and stats["decoded"] > 0
