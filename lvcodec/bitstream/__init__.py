"""The .lvc container (docs/bitstream.md): pure standard library, no torch or numpy."""

from lvcodec.bitstream.headers import FrameHeader, SequenceHeader
from lvcodec.bitstream.info import describe, format_table
from lvcodec.bitstream.stream import LvcReader, LvcWriter, probe
from lvcodec.bitstream.syntax import CodingStructure, FrameType, UnitType

__all__ = [
    "LvcWriter", "LvcReader", "SequenceHeader", "FrameHeader", "FrameType", "CodingStructure",
    "UnitType", "probe", "describe", "format_table",
]
