"""Encoder/decoder parity: the decoder reproduces the encoder's reconstruction bit-exactly."""

import io

import numpy as np
import pytest
import torch

from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig
from lvcodec.io import open_reader
from lvcodec.weights import load_model


def _compare(encoded, decoded):
    for i, (a, b) in enumerate(zip(encoded, decoded)):
        for plane in ("y", "u", "v"):
            pa, pb = getattr(a, plane), getattr(b, plane)
            if not np.array_equal(pa, pb):
                row = int(np.argwhere(pa != pb)[0][0])
                pytest.fail(f"frame {i} plane {plane} differs first at row {row}")


def _encode(model, path, quality, threads):
    torch.set_num_threads(threads)
    buf, recons = io.BytesIO(), []
    with open_reader(path) as reader:
        enc = Encoder(model, EncoderConfig(quality=quality), reader.info, torch.device("cpu"))
        writer = LvcWriter(buf)
        writer.write_sequence_header(enc.sequence_header())
        for frame in reader:
            header, subs, recon = enc.encode(frame)
            writer.write_frame(header, subs)
            recons.append(recon)
        writer.close()
    return buf.getvalue(), recons


def _decode(model, data, threads):
    torch.set_num_threads(threads)
    reader = LvcReader(io.BytesIO(data))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    return [dec.decode(h, s) for h, s, _ in reader.frames()]


@pytest.mark.parametrize("quality", [0, 40, 63])
def test_decoder_matches_encoder_reconstruction_across_thread_counts(tiny_models, clip, quality):
    model = load_model("lvc-tiny")
    data, recons = _encode(model, clip, quality, threads=2)
    for threads in (1, 2, 3):
        _compare(recons, _decode(model, data, threads=threads))


def test_higher_quality_spends_more_bits(tiny_models, clip):
    model = load_model("lvc-tiny")
    low, _ = _encode(model, clip, 0, threads=2)
    high, _ = _encode(model, clip, 63, threads=2)
    assert len(high) > len(low)


def test_decoder_refuses_a_stream_of_another_model(tiny_models, clip, make_model):
    from lvcodec.errors import ModelMismatch

    data, _ = _encode(load_model("lvc-tiny"), clip, 20, threads=2)
    make_model(tiny_models, name="lvc-other", seed=7)
    other = load_model("lvc-other")
    with pytest.raises(ModelMismatch, match="lvc-tiny"):
        Decoder(other, LvcReader(io.BytesIO(data)).sequence_header, torch.device("cpu"))


def test_real_clip_round_trip_when_the_testset_is_present(tiny_models, testset):
    path = testset / "foreman_176x144.y4m"
    model = load_model("lvc-tiny")
    torch.set_num_threads(2)
    buf = io.BytesIO()
    with open_reader(path, frames=2) as reader:
        enc = Encoder(model, EncoderConfig(quality=30), reader.info, torch.device("cpu"))
        w = LvcWriter(buf)
        w.write_sequence_header(enc.sequence_header())
        recons = []
        for f in reader:
            h, s, r = enc.encode(f)
            w.write_frame(h, s)
            recons.append(r)
        w.close()
    _compare(recons, _decode(model, buf.getvalue(), threads=1))
