"""Range coding of latents with constriction over the frozen tables (no torch here)."""


import constriction
import numpy as np

from lvcodec.entropy.tables import PRECISION, SCALE_TABLE_SHA256, ScaleTable, quantize_pmf

__all__ = ["GaussianCoder", "FactorizedCoder", "new_encoder", "new_decoder", "finish"]


def new_encoder():
    return constriction.stream.queue.RangeEncoder()


def new_decoder(data: bytes):
    # constriction words are uint32; streams are stored little-endian (docs/bitstream.md §4).
    if len(data) % 4:
        from lvcodec.errors import CorruptStream

        raise CorruptStream(f"entropy-coded substream of {len(data)} bytes is not whole 32-bit words")
    return constriction.stream.queue.RangeDecoder(np.frombuffer(data, dtype="<u4").astype(np.uint32))


def finish(encoder) -> bytes:
    return encoder.get_compressed().astype("<u4").tobytes()


def _decode(decoder, model, count):
    # Damaged data decodes to garbage symbols, or makes constriction raise: report it as such.
    try:
        return decoder.decode(model, count)
    except (ValueError, RuntimeError, AssertionError) as e:
        from lvcodec.errors import CorruptStream

        raise CorruptStream(f"entropy-coded substream is invalid ({e})") from None


def _categorical(pmf_int: np.ndarray):
    # Probabilities are exact multiples of 2**-24, so constriction sees the same numbers everywhere.
    return constriction.stream.model.Categorical(pmf_int / float(1 << PRECISION), perfect=False)


class GaussianCoder:
    """Codes integer symbols round(y - mean) under the Gaussian of their scale-table index.

    Within one call, symbols are coded grouped by table index (ascending), each group in the order
    given; the decoder knows every index before decoding, so it replays the same order.
    """

    def __init__(self, table: ScaleTable | None = None):
        if table is None:
            table = ScaleTable()
            if table.digest() != SCALE_TABLE_SHA256:
                from lvcodec.errors import LvcError

                raise LvcError("this machine computes other Gaussian probability tables than the "
                               "format's (its libm's erfc differs): it cannot code .lvc streams "
                               "exactly; please report it")
        self.table = table
        self._models = [_categorical(p) for p in self.table.pmfs]

    def clamp(self, symbols: np.ndarray, indexes: np.ndarray) -> np.ndarray:
        """Clamp symbols into their table's support; the encoder reconstructs from the result."""
        r = self.table.supports[indexes]
        return np.clip(symbols, -r, r).astype(np.int32)

    def encode(self, encoder, symbols: np.ndarray, indexes: np.ndarray) -> None:
        symbols = symbols.reshape(-1).astype(np.int32)
        indexes = indexes.reshape(-1)
        order = np.argsort(indexes, kind="stable")
        sorted_idx = indexes[order]
        bounds = np.flatnonzero(np.diff(sorted_idx)) + 1
        for chunk in np.split(order, bounds):
            if chunk.size == 0:
                continue
            i = int(indexes[chunk[0]])
            encoder.encode(symbols[chunk] + np.int32(self.table.supports[i]), self._models[i])

    def decode(self, decoder, indexes: np.ndarray) -> np.ndarray:
        indexes = indexes.reshape(-1)
        out = np.empty(indexes.shape, dtype=np.int32)
        order = np.argsort(indexes, kind="stable")
        bounds = np.flatnonzero(np.diff(indexes[order])) + 1
        for chunk in np.split(order, bounds):
            if chunk.size == 0:
                continue
            i = int(indexes[chunk[0]])
            out[chunk] = _decode(decoder, self._models[i], chunk.size) - np.int32(self.table.supports[i])
        return out


class FactorizedCoder:
    """Per-channel categorical tables of a factorized prior (CompressAI EntropyBottleneck.update()).

    Args:
        quantized_cdf: (C, L) int array of CDFs (16-bit precision, CompressAI layout).
        cdf_length: (C,) number of valid CDF entries per channel (pmf length + 2 with the tail bin).
        offset: (C,) symbol value of the first pmf entry, relative to the channel median.
    """

    def __init__(self, quantized_cdf: np.ndarray, cdf_length: np.ndarray, offset: np.ndarray):
        self.offset = np.asarray(offset, dtype=np.int64)
        self.length = np.asarray(cdf_length, dtype=np.int64) - 2  # drop CompressAI's escape bin
        self._models = []
        for c in range(len(self.offset)):
            cdf = np.asarray(quantized_cdf[c, : self.length[c] + 1], dtype=np.int64)
            pmf = np.maximum(np.diff(cdf), 0).astype(np.float64) + 1e-3
            self._models.append(_categorical(quantize_pmf(pmf)))

    def clamp(self, symbols: np.ndarray) -> np.ndarray:
        """symbols: (C, n) values round(z - median); clamp into each channel's range."""
        lo = self.offset[:, None]
        hi = lo + self.length[:, None] - 1
        return np.clip(symbols, lo, hi).astype(np.int32)

    def encode(self, encoder, symbols: np.ndarray) -> None:
        for c, model in enumerate(self._models):
            encoder.encode((symbols[c] - self.offset[c]).astype(np.int32), model)

    def decode(self, decoder, channels: int, count: int) -> np.ndarray:
        if channels != len(self._models):
            from lvcodec.errors import CorruptStream

            raise CorruptStream("hyper-latent channel count does not match the model")
        out = np.empty((channels, count), dtype=np.int32)
        for c, model in enumerate(self._models):
            out[c] = _decode(decoder, model, count) + self.offset[c]
        return out
