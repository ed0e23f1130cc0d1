"""The block-prediction map (docs/bitstream.md §4.6): its coding, the encoder's choice, the
decoder's selection, and what a real P frame does with it."""

import io

import numpy as np
import pytest
import torch

from lvcodec.bitstream import LvcReader
from lvcodec.codec.frame_coder import BLOCK, DecodeChannel, EncodeChannel, _blocks, show_prediction
from lvcodec.entropy import decode_block_map, encode_block_map
from lvcodec.errors import CorruptStream


@pytest.mark.parametrize("shape,p", [((23, 40), 0.0), ((23, 40), 1.0), ((23, 40), 0.3),
                                     ((1, 1), 0.5), ((5, 1), 0.5), ((12, 20), 0.05)])
def test_map_round_trip(shape, p):
    flags = np.random.default_rng(7).random(shape) < p
    data = encode_block_map(flags)
    assert len(data) % 4 == 0
    assert (decode_block_map(data, *shape) == flags).all()


def test_uniform_maps_cost_one_word_and_structure_is_cheap():
    assert len(encode_block_map(np.zeros((23, 40), bool))) == 4
    assert len(encode_block_map(np.ones((23, 40), bool))) == 4
    noise = np.random.default_rng(0).random((23, 40)) < 0.5
    region = np.zeros((23, 40), bool)
    region[:, :15] = True  # a static left part: the contexts learn it
    assert len(encode_block_map(region)) < len(encode_block_map(noise)) / 4


def test_map_is_pinned():
    """The adaptive model's integer probabilities fix the bytes (a change is a format change)."""
    flags = np.zeros((4, 6), bool)
    flags[1:3, 2:5] = True
    flags[3, 0] = True
    assert encode_block_map(flags).hex() == PINNED


PINNED = "67dca31b"


def test_damaged_map_is_an_error_not_a_crash():
    with pytest.raises(CorruptStream):
        decode_block_map(b"\x01\x02\x03", 3, 3)  # not whole 32-bit words


def _pictures(h=20, w=28):
    """Source, a synthesis that is exact on the right and a prediction exact on the left."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 6, h, w, generator=g)
    noise = 0.2 * torch.rand(1, 6, h, w, generator=g)
    left = torch.zeros(1, 1, h, w, dtype=torch.bool)
    left[..., :, :12] = True
    pred = torch.where(left, x, (x + noise).clamp(0, 1))
    x_hat = torch.where(left, (x - noise).clamp(0, 1), x)
    return x, x_hat, pred


def test_the_encoder_flags_where_the_prediction_is_closer_and_the_decoder_reads_it():
    x, x_hat, pred = _pictures()
    shape = tuple(x.shape[-2:])
    enc = EncodeChannel("cpu")
    flags = enc.block_map(x, x_hat, pred, shape)
    assert flags.shape == (3, 4)  # ceil(20/8) x ceil(28/8): partial blocks included
    # Blocks entirely left of column 12 (block column 0) show the prediction; the right ones not.
    assert flags[:, 0].all() and not flags[:, 2:].any()
    dec = DecodeChannel(enc.substreams, 1, "a test frame", "cpu")
    assert torch.equal(dec.block_map(None, None, None, shape), flags)


def test_selection_takes_the_prediction_samples_exactly_in_flagged_blocks():
    x, x_hat, pred = _pictures()
    # Pictures padded beyond the frame (as the nets' outputs are): padding never shows the map.
    x_hat_p = torch.nn.functional.pad(x_hat, (0, 4, 0, 12))
    pred_p = torch.nn.functional.pad(pred, (0, 4, 0, 12), value=0.5)
    flags = torch.zeros(3, 4, dtype=torch.bool)
    flags[0, 0] = flags[2, 3] = True
    out = show_prediction(x_hat_p, pred_p, flags)
    assert out.shape == x_hat_p.shape
    assert torch.equal(out[..., :BLOCK, :BLOCK], pred_p[..., :BLOCK, :BLOCK])
    assert torch.equal(out[..., 16:20, 24:28], pred_p[..., 16:20, 24:28])  # the partial corner
    keep = torch.ones_like(out, dtype=torch.bool)
    keep[..., :BLOCK, :BLOCK] = False
    keep[..., 16:24, 24:32] = False
    assert torch.equal(out[keep], x_hat_p[keep])


@pytest.mark.parametrize("gop", [1, 2])
def test_the_map_lowers_the_rd_cost_and_decodes_exactly(tiny_models, make_clip, tmp_path,
                                                         monkeypatch, gop):
    """Against the same encoder with every flag forced off (so also no second coding of the
    latents): the first inter frame, whose references are the same in both, costs no more in
    bits + λ·MSE, the stream costs less, and the decoder makes the encoder's pictures.
    (3 frames: I, P, P in low delay; I, P, B in random access.)"""
    from codec_helpers import assert_identical, decode, encode_frames

    from lvcodec.codec.session import _rd_cost
    from lvcodec.weights import load_model

    model = load_model("lvc-tiny")
    clip = make_clip(tmp_path / "c.y4m", frames=3)
    # The nets' pictures alone: a residual layer after the map would hide what it does.
    data, coded = encode_frames(model, clip, 32, 1, gop=gop, residual=False)
    assert_identical([c.recon for c in coded], decode(model, data, threads=1))
    maps = [c.substreams[-1] for c in coded[1:]]

    def nothing_flagged(self, x, x_hat, pred, shape):
        blocks = _blocks(shape)
        self.substreams.append(encode_block_map(np.zeros(blocks, bool)))
        return torch.zeros(blocks, dtype=torch.bool)

    monkeypatch.setattr(EncodeChannel, "block_map", nothing_flagged)
    _, plain = encode_frames(model, clip, 32, 1, gop=gop, residual=False)
    assert any(m != p.substreams[-1] for m, p in zip(maps, plain[1:])), "nothing was flagged"
    lam = model.lambda_range
    assert _rd_cost(coded[1:2], lam) <= _rd_cost(plain[1:2], lam) * (1 + 1e-4)
    assert _rd_cost(coded, lam) < _rd_cost(plain, lam)
