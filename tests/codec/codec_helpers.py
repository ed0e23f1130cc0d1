"""In-memory encode/decode through the sessions and the container, for the codec tests."""

import io

import numpy as np
import pytest
import torch

from lvcodec.bitstream import LvcReader, LvcWriter
from lvcodec.codec.session import Decoder, Encoder, EncoderConfig
from lvcodec.io import open_reader


def encode(model, path, quality, threads, frames=None, intra_period=32):
    """(stream bytes, encoder reconstructions, source frames) of the first `frames` of path."""
    torch.set_num_threads(threads)
    buf, recons, sources = io.BytesIO(), [], []
    with open_reader(path, frames=frames) as reader:
        enc = Encoder(model, EncoderConfig(quality=quality, intra_period=intra_period), reader.info,
                      torch.device("cpu"))
        writer = LvcWriter(buf)
        writer.write_sequence_header(enc.sequence_header())
        for frame in reader:
            header, subs, recon = enc.encode(frame)
            writer.write_frame(header, subs)
            recons.append(recon)
            sources.append(frame)
        writer.close()
    return buf.getvalue(), recons, sources


def decode(model, data, threads):
    torch.set_num_threads(threads)
    reader = LvcReader(io.BytesIO(data))
    dec = Decoder(model, reader.sequence_header, torch.device("cpu"))
    return [dec.decode(h, s) for h, s, _ in reader.frames()]


def assert_identical(encoded, decoded):
    assert len(encoded) == len(decoded)
    for i, (a, b) in enumerate(zip(encoded, decoded)):
        for plane in ("y", "u", "v"):
            pa, pb = getattr(a, plane), getattr(b, plane)
            if not np.array_equal(pa, pb):
                row = int(np.argwhere(pa != pb)[0][0])
                pytest.fail(f"frame {i} plane {plane} differs first at row {row}")


def headers_and_sizes(data):
    """[(FrameHeader, unit size)] of a stream, in coding order."""
    return [(h, size) for h, _, size in LvcReader(io.BytesIO(data)).frames()]
