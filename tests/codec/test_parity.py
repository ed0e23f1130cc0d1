"""Encoder/decoder parity: the decoder reproduces the encoder's reconstruction bit-exactly."""

import io

import pytest
import torch

from codec_helpers import FOREIGN_KERNELS, assert_identical, decode, encode, run_lvc
from lvcodec.bitstream import LvcReader
from lvcodec.codec.session import Decoder
from lvcodec.weights import load_model


@pytest.mark.parametrize("quality", [0, 40, 63])
def test_decoder_matches_encoder_reconstruction_across_thread_counts(tiny_models, clip, quality):
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, clip, quality, threads=2)
    for threads in (1, 2, 3):
        assert_identical(recons, decode(model, data, threads=threads))


def test_higher_quality_spends_more_bits(tiny_models, clip):
    model = load_model("lvc-tiny")
    low = encode(model, clip, 0, threads=2)[0]
    high = encode(model, clip, 63, threads=2)[0]
    assert len(high) > len(low)


def test_decoder_refuses_a_stream_of_another_model(tiny_models, clip, make_model):
    from lvcodec.errors import ModelMismatch

    data = encode(load_model("lvc-tiny"), clip, 20, threads=2)[0]
    make_model(tiny_models, name="lvc-other", seed=7)
    other = load_model("lvc-other")
    with pytest.raises(ModelMismatch, match="lvc-tiny"):
        Decoder(other, LvcReader(io.BytesIO(data)).sequence_header, torch.device("cpu"))


def test_real_clip_round_trip_when_the_testset_is_present(tiny_models, testset):
    model = load_model("lvc-tiny")
    data, recons, _ = encode(model, testset / "foreman_176x144.y4m", 30, threads=2, frames=2)
    assert_identical(recons, decode(model, data, threads=1))


def test_a_forged_model_name_cannot_break_the_one_line_error(tiny_models):
    """Found by `make fuzz`: a mutated name with a newline made a two-line error."""
    from lvcodec.bitstream import SequenceHeader
    from lvcodec.errors import ModelMismatch

    model = load_model("lvc-tiny")
    seq = SequenceHeader(width=64, height=48, model_name="lv\nc-tiny",
                         model_sha256=bytes.fromhex(model.sha256))
    with pytest.raises(ModelMismatch) as e:
        Decoder(model, seq, torch.device("cpu"))
    assert "\n" not in str(e.value) and "lv\\nc-tiny" in str(e.value)


@pytest.mark.parametrize("threads", [1, 2])
def test_decoder_side_nets_give_each_frame_the_same_bits_in_a_batch(tmp_path, make_model,
                                                                    make_clip, threads):
    """Frames batched vs one at a time (the parity matrix's batch row): every decoder-side net,
    the float64 entropy-parameter nets and the enhancement net included."""
    from lvcodec.eval.batch_parity import batch_invariance
    from lvcodec.io import open_reader

    make_model(tmp_path / "m", enhance=True)
    model = load_model(tmp_path / "m" / "lvc-tiny")
    with open_reader(make_clip(tmp_path / "c.y4m", width=96, height=62, frames=5)) as r:
        frames = list(r)
    torch.set_num_threads(threads)
    result = batch_invariance(model, frames, quality=30)
    assert {"I: frame synthesis", "I: hyper synthesis", "P: frame synthesis",
            "P: contexts, prior, prediction, latent prediction", "B: frame synthesis",
            "B: fused contexts, priors, prediction, latent prediction",
            "half-scale B: enhancement net"} <= set(result)
    for path, (same, total) in result.items():
        assert total > 0 and same == total, f"{path}: {total - same} of {total} elements differ"


def test_a_decoder_with_other_kernels_makes_the_same_pictures(tiny_models, make_model, make_clip,
                                                             tmp_path):
    """What other machines run (MKL without AVX-512: most AMD and many Intel CPUs; ATen without
    SIMD) decodes a random-access stream, half-scale B frames included, to the encoder's
    pictures: the decoder's arithmetic is exact (docs/bitstream.md §9), and each decoder's own
    picture-hash check passes."""
    make_model(tiny_models, name="lvc-ds", enhance=True)
    src = make_clip(tmp_path / "c.y4m", width=64, height=48, frames=9)
    stream, here, there = tmp_path / "a.lvc", tmp_path / "here.y4m", tmp_path / "there.y4m"
    run_lvc("encode", src, stream, "--model", "lvc-ds", "--gop", "8", "--downsample", "on",
            "-q", "40", "--quiet")
    run_lvc("decode", stream, here, "--quiet")
    for env in FOREIGN_KERNELS:
        run_lvc("decode", stream, there, "--quiet", "-y", env=env)
        assert here.read_bytes() == there.read_bytes(), env


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cpu_and_cuda_decode_each_others_streams_to_the_same_pictures(tiny_models, make_model,
                                                                     make_clip, tmp_path):
    """The parity matrix's CPU<->CUDA row (`make test-all` on a GPU machine): a random-access
    stream with half-scale B frames, encoded on either device, decodes to the same bytes on
    both, and each decoder's picture-hash check passes."""
    make_model(tiny_models, name="lvc-ds", enhance=True)
    src = make_clip(tmp_path / "c.y4m", width=64, height=48, frames=9)
    for made_on in ("cpu", "cuda"):
        stream = tmp_path / f"{made_on}.lvc"
        run_lvc("encode", src, stream, "--model", "lvc-ds", "--gop", "8", "--downsample", "on",
                "-q", "40", "--device", made_on, "--quiet")
        pictures = {}
        for device in ("cpu", "cuda"):
            out = tmp_path / f"{made_on}-on-{device}.y4m"
            run_lvc("decode", stream, out, "--device", device, "--quiet")
            pictures[device] = out.read_bytes()
        assert pictures["cpu"] == pictures["cuda"], f"a stream made on {made_on}"
