"""Adaptive categorical models with integer counts: both ends compute every probability exactly
(docs/bitstream.md §4.6, §4.8)."""

import constriction
import numpy as np

from lvcodec.entropy.coder import _decode
from lvcodec.entropy.tables import PRECISION

__all__ = ["AdaptiveModel", "encode_uniform", "decode_uniform", "encode_signed", "decode_signed"]

_TOTAL = 1 << PRECISION


class AdaptiveModel:
    """Counts n_k of an alphabet of K symbols, all 1 at the start, each incremented by the symbol
    coded under it. P(k) = max(floor(n_k · 2^24 / Σn), 1) for k ≥ 1, P(0) = 2^24 − the rest."""

    def __init__(self, alphabet: int):
        self.counts = [1] * alphabet

    def model(self):
        total = sum(self.counts)
        p = [max((n << PRECISION) // total, 1) for n in self.counts[1:]]
        pmf = np.array([_TOTAL - sum(p), *p], dtype=np.float64) / _TOTAL
        return constriction.stream.model.Categorical(pmf, perfect=False)

    def encode(self, encoder, symbol: int) -> None:
        encoder.encode(np.array([symbol], dtype=np.int32), self.model())
        self.counts[symbol] += 1

    def decode(self, decoder) -> int:
        symbol = int(_decode(decoder, self.model(), 1)[0])
        self.counts[symbol] += 1
        return symbol


def _uniform(bits: int):
    return constriction.stream.model.Categorical(np.full(1 << bits, 1.0 / (1 << bits)), perfect=False)


def encode_uniform(encoder, value: int, bits: int) -> None:
    """`bits` raw bits (0 ≤ value < 2^bits), equiprobable."""
    if bits:
        encoder.encode(np.array([value], dtype=np.int32), _uniform(bits))


def decode_uniform(decoder, bits: int) -> int:
    return int(_decode(decoder, _uniform(bits), 1)[0]) if bits else 0


def encode_signed(encoder, model: AdaptiveModel, value: int) -> None:
    """A signed integer as its class (bit length of |value|) under `model`, then, if nonzero, the
    sign (1: negative) and |value| − 2^(class−1) as class − 1 raw bits (docs/bitstream.md §4.8)."""
    cls = abs(value).bit_length()
    model.encode(encoder, cls)
    if cls:
        encode_uniform(encoder, int(value < 0), 1)
        encode_uniform(encoder, abs(value) - (1 << (cls - 1)), cls - 1)


def decode_signed(decoder, model: AdaptiveModel) -> int:
    """Mirror of encode_signed."""
    cls = model.decode(decoder)
    if not cls:
        return 0
    sign = decode_uniform(decoder, 1)
    magnitude = (1 << (cls - 1)) + decode_uniform(decoder, cls - 1)
    return -magnitude if sign else magnitude
