"""Little-endian byte writer/reader; the reader turns every short read into TruncatedStream."""

import struct

from lvcodec.errors import CorruptStream, TruncatedStream
from lvcodec.bitstream.syntax import MAX_ULEB_BYTES

__all__ = ["ByteWriter", "ByteReader"]

_U16, _U32 = struct.Struct("<H"), struct.Struct("<I")


class ByteWriter:
    def __init__(self):
        self._buf = bytearray()

    def __len__(self):
        return len(self._buf)

    def u8(self, v: int):
        self._buf.append(_check(v, 0xFF, "u8"))

    def u16(self, v: int):
        self._buf += _U16.pack(_check(v, 0xFFFF, "u16"))

    def u32(self, v: int):
        self._buf += _U32.pack(_check(v, 0xFFFF_FFFF, "u32"))

    def uleb(self, v: int):
        v = _check(v, (1 << (7 * MAX_ULEB_BYTES)) - 1, "uleb128")
        while True:
            b, v = v & 0x7F, v >> 7
            self._buf.append(b | (0x80 if v else 0))
            if not v:
                return

    def bytes(self, data: bytes):
        self._buf += data

    def getvalue(self) -> bytes:
        return bytes(self._buf)


def _check(v, hi, what):
    if not isinstance(v, int) or not 0 <= v <= hi:
        raise ValueError(f"{v!r} does not fit a {what}")
    return v


class ByteReader:
    """Reads from `data`; `base` is the file offset of data[0], so errors name file positions.

    `where` (e.g. "frame unit at byte 1234") prefixes or ends error messages.
    """

    def __init__(self, data: bytes, base: int = 0, where: str = "the stream"):
        self._data, self.pos, self.base, self.where = memoryview(data), 0, base, where

    @property
    def remaining(self) -> int:
        return len(self._data) - self.pos

    def _take(self, n: int) -> memoryview:
        if n > self.remaining:
            raise TruncatedStream(f"truncated at byte {self.base + len(self._data)} (inside {self.where})")
        out = self._data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return _U16.unpack(self._take(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def uleb(self) -> int:
        start, value = self.base + self.pos, 0
        for i in range(MAX_ULEB_BYTES):
            b = self.u8()
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                return value
        raise CorruptStream(f"{self.where}: integer at byte {start} longer than {MAX_ULEB_BYTES} bytes "
                            "(file corrupted)")

    def bytes(self, n: int) -> bytes:
        return bytes(self._take(n))
