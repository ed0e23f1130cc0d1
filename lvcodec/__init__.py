"""lvcodec: a learned video codec with a real bitstream."""

__version__ = "0.1.0"

__all__ = ["__version__"]
