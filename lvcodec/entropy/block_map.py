"""The block-prediction map of a P or B frame: one flag per block, range-coded with integer
adaptive binary contexts (docs/bitstream.md §4.6), so both ends compute every probability
exactly."""

import constriction
import numpy as np

from lvcodec.entropy.coder import _decode, finish, new_decoder, new_encoder
from lvcodec.entropy.tables import PRECISION

__all__ = ["encode_block_map", "decode_block_map"]

_TOTAL = 1 << PRECISION


def _model(counts) -> "constriction.stream.model.Categorical":
    """P(flag = 1) = floor(n1 * 2^24 / (n0 + n1)), kept inside [1, 2^24 - 1]."""
    n0, n1 = counts
    p1 = min(max((n1 << PRECISION) // (n0 + n1), 1), _TOTAL - 1)
    pmf = np.array([_TOTAL - p1, p1], dtype=np.float64) / _TOTAL
    return constriction.stream.model.Categorical(pmf, perfect=False)


def _scan(rows: int, cols: int, code_one):
    """Raster order; the context of a flag is (left flag) + 2 * (flag above), 0 outside; every
    context's counts start at (1, 1) and count the flags coded in it."""
    flags = np.zeros((rows, cols), dtype=bool)
    counts = [[1, 1] for _ in range(4)]
    for r in range(rows):
        for c in range(cols):
            ctx = int(c > 0 and flags[r, c - 1]) + 2 * int(r > 0 and flags[r - 1, c])
            bit = code_one(r, c, _model(counts[ctx]))
            flags[r, c] = bit
            counts[ctx][bit] += 1
    return flags


def encode_block_map(flags: np.ndarray) -> bytes:
    """flags: (rows, cols) booleans -> the substream's bytes."""
    flags = np.asarray(flags, dtype=bool)
    enc = new_encoder()

    def code_one(r, c, model):
        bit = int(flags[r, c])
        enc.encode(np.array([bit], dtype=np.int32), model)
        return bit

    _scan(*flags.shape, code_one)
    return finish(enc)


def decode_block_map(data: bytes, rows: int, cols: int) -> np.ndarray:
    """Mirror of encode_block_map: (rows, cols) booleans."""
    dec = new_decoder(data)
    return _scan(rows, cols, lambda r, c, model: int(_decode(dec, model, 1)[0]))
