"""Frozen integer probability tables shared bit-for-bit by encoder and decoder (DESIGN §5)."""

import hashlib
import math

import numpy as np

__all__ = ["PRECISION", "ScaleTable", "quantize_pmf", "quantize_mean", "MEAN_STEP",
           "SCALE_TABLE_SHA256"]

PRECISION = 24  # constriction's Python coders work at 24-bit probability precision.
TOTAL = 1 << PRECISION

# Means are snapped to multiples of 1/16 so that y_hat = symbol + mean is exact in float32 and does
# not depend on the last bits of a convolution (thread count, device).
MEAN_STEP = 1.0 / 16.0


def quantize_mean(mu):
    """Snap predicted means to the MEAN_STEP grid (works on numpy arrays and torch tensors)."""
    return (mu * 16.0).round() / 16.0


def quantize_pmf(pmf: np.ndarray) -> np.ndarray:
    """Integer pmf summing to 2**PRECISION with every entry >= 1 (so any symbol stays codable).

    Float probabilities from erfc may differ in the last ulp between libms; rounding them to integers
    here makes the tables that reach the coder identical in practice everywhere.
    """
    pmf = np.asarray(pmf, dtype=np.float64)
    pmf = pmf / pmf.sum()
    n = len(pmf)
    ints = np.floor(pmf * (TOTAL - n)).astype(np.int64) + 1
    # Hand the rounding remainder to the most probable symbol: deterministic and near-optimal.
    ints[int(np.argmax(ints))] += TOTAL - int(ints.sum())
    return ints


# The default table's integer pmfs (ScaleTable().digest()). They come from libm's erfc, which may
# differ between machines in the last bit; the coder checks the digest so that a machine whose
# tables differ refuses to code instead of writing or reading other probabilities.
SCALE_TABLE_SHA256 = "c104a7f6dd5b69d5c73b812f2392f1e9e2f77733df057b1d15a3c89d847327c8"


class ScaleTable:
    """Zero-mean quantized Gaussians at log-spaced scales; a latent's scale is snapped to an index.

    Entry i has std s_i = exp(log(s_min) + i * step) and support {-R_i..R_i}, R_i wide enough that
    the tails beyond hold under 2**-24 of the mass. Only the index must agree between the two ends.
    """

    def __init__(self, scale_min: float = 0.11, scale_max: float = 64.0, levels: int = 128,
                 tail_sigmas: float = 8.0, min_support: int = 15):
        self.scale_min, self.scale_max, self.levels = scale_min, scale_max, levels
        self.log_min = math.log(scale_min)
        self.log_step = (math.log(scale_max) - math.log(scale_min)) / (levels - 1)
        self.scales = np.exp(self.log_min + self.log_step * np.arange(levels))
        self.supports = np.array(
            [max(min_support, int(math.ceil(s * tail_sigmas))) for s in self.scales], dtype=np.int64)
        self.pmfs = [self._pmf(s, int(r)) for s, r in zip(self.scales, self.supports)]

    def digest(self) -> str:
        """sha256 of the integer pmfs (int64 little-endian, table order)."""
        h = hashlib.sha256()
        for p in self.pmfs:
            h.update(np.asarray(p, dtype="<i8").tobytes())
        return h.hexdigest()

    @staticmethod
    def _pmf(scale: float, support: int) -> np.ndarray:
        # P(k) = Phi((k + .5)/s) - Phi((k - .5)/s), through erfc for accurate tails.
        def upper_tail(t):
            return 0.5 * math.erfc(t / (scale * math.sqrt(2.0)))

        ks = range(-support, support + 1)
        pmf = np.array([upper_tail(k - 0.5) - upper_tail(k + 0.5) for k in ks])
        return quantize_pmf(np.maximum(pmf, 0.0))

    def index(self, scales: np.ndarray) -> np.ndarray:
        """Index of the first table scale >= each predicted scale.

        The torch twin used by the nets is ``lvcodec.nets.context.scale_index``; both apply
        the same float32 formula, so either side of a stream may compute it.
        """
        s = np.clip(np.asarray(scales, dtype=np.float32), self.scale_min, self.scale_max)
        idx = np.ceil((np.log(s) - np.float32(self.log_min)) / np.float32(self.log_step) - 1e-6)
        return np.clip(idx, 0, self.levels - 1).astype(np.int64)
