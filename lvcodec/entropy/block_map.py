"""The block-prediction map of a P or B frame: one flag per block, range-coded with integer
adaptive binary contexts (docs/bitstream.md §4.6), so both ends compute every probability
exactly."""

import numpy as np

from lvcodec.entropy.adaptive import AdaptiveModel
from lvcodec.entropy.coder import finish, new_decoder, new_encoder

__all__ = ["encode_block_map", "decode_block_map", "encode_symbol_map", "decode_symbol_map"]


def _scan(rows: int, cols: int, alphabet: int, code_one) -> np.ndarray:
    """Raster order; the context of a symbol is (left symbol) + K * (symbol above), 0 outside,
    each context an AdaptiveModel of the K symbols."""
    symbols = np.zeros((rows, cols), dtype=np.int64)
    models = [AdaptiveModel(alphabet) for _ in range(alphabet * alphabet)]
    for r in range(rows):
        for c in range(cols):
            left = int(symbols[r, c - 1]) if c > 0 else 0
            above = int(symbols[r - 1, c]) if r > 0 else 0
            symbols[r, c] = code_one(r, c, models[left + alphabet * above])
    return symbols


def encode_symbol_map(encoder, symbols: np.ndarray, alphabet: int) -> None:
    """symbols: (rows, cols) integers in 0..alphabet-1, coded into `encoder`."""
    symbols = np.asarray(symbols)

    def code_one(r, c, model):
        s = int(symbols[r, c])
        model.encode(encoder, s)
        return s

    _scan(*symbols.shape, alphabet, code_one)


def decode_symbol_map(decoder, rows: int, cols: int, alphabet: int) -> np.ndarray:
    """Mirror of encode_symbol_map."""
    return _scan(rows, cols, alphabet, lambda r, c, model: model.decode(decoder))


def encode_block_map(flags: np.ndarray) -> bytes:
    """flags: (rows, cols) booleans -> the substream's bytes."""
    enc = new_encoder()
    encode_symbol_map(enc, np.asarray(flags, dtype=bool).astype(np.int64), 2)
    return finish(enc)


def decode_block_map(data: bytes, rows: int, cols: int) -> np.ndarray:
    """Mirror of encode_block_map: (rows, cols) booleans."""
    return decode_symbol_map(new_decoder(data), rows, cols, 2).astype(bool)
