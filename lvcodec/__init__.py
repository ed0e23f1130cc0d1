"""lvcodec: a learned video codec with a real bitstream."""

import os

# Decoder parity (docs/architecture.md, "Parity"): MKL's GEMM splits some sums by thread count
# (a 48->6 convolution at any size, stride-2 convolutions on tiny frames), so an encoder on 2
# threads and a decoder on 1 could differ in the last bit of a reference and, through the
# entropy parameters, desynchronise. Strict conditional numerical reproducibility makes every
# GEMM thread-count invariant. MKL reads this at its first call, so it is set on import.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

from lvcodec import _compressai  # noqa: E402  (before any compressai import)

_compressai.install()

__version__ = "0.1.0"

__all__ = ["__version__"]
