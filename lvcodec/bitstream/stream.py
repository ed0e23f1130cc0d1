"""Unit framing (sync, type, size, CRC) and the file-level LvcWriter / LvcReader / probe."""

import os
import struct
import zlib
from dataclasses import replace

from lvcodec.bitstream.bits import ByteReader, ByteWriter
from lvcodec.bitstream.headers import (
    FrameHeader, SequenceHeader, read_frame_header, read_index, read_sequence_header,
    write_frame_header, write_index, write_sequence_header,
)
from lvcodec.bitstream.syntax import (
    CRC_SIZE, FILE_HEADER_SIZE, FOOTER_MAGIC, FOOTER_SIZE, MAGIC, MAX_ULEB_BYTES, MAX_UNIT_SIZE,
    READABLE_MAJORS, SYNC, VERSION_MAJOR, VERSION_MINOR, UnitType,
)
from lvcodec.errors import CorruptStream, FormatError, InputError, TruncatedStream, UnsupportedVersion

__all__ = ["LvcWriter", "LvcReader", "probe", "open_lvc"]

_NAMES = {UnitType.SEQUENCE_HEADER: "sequence header", UnitType.FRAME: "frame unit",
          UnitType.INDEX: "index unit"}


_CHUNK = 1 << 20


def _unit_name(unit_type: int) -> str:
    return _NAMES.get(unit_type, f"unit of type {unit_type}")


def _crc(unit_type: int, body: bytes) -> bytes:
    # The type byte is covered so that a flipped type cannot pass as another unit.
    return struct.pack("<I", zlib.crc32(bytes([unit_type]) + body))


def _unit(unit_type: int, body: bytes) -> tuple[bytes, int]:
    """Serialized unit and the offset of its body within it."""
    head = ByteWriter()
    head.u8(SYNC)
    head.u8(unit_type)
    head.uleb(len(body) + CRC_SIZE)
    return head.getvalue() + body + _crc(unit_type, body), len(head)


def _version_problem(major: int, minor: int) -> str:
    """One line naming both versions and what to do (the CLI puts the file's name before it, as
    before every reader error)."""
    if major < VERSION_MAJOR:
        advice = (f"re-encode the source with this lvcodec, or decode with a release that reads "
                  f"{major}.x")
    else:
        advice = "decode it with a newer lvcodec"
    names = [f"{m}.x" for m in READABLE_MAJORS]
    reads = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return f"format version {major}.{minor}, this decoder reads {reads}; {advice}"


def _seekable(f) -> bool:
    try:
        return f.seekable()
    except (AttributeError, OSError, ValueError):
        return False


class LvcWriter:
    """Writes one .lvc stream: write_sequence_header, then write_frame per frame, then close.

    close() appends the index and footer and, if the file is seekable, patches frame_count. It does
    not close the file object.
    """

    def __init__(self, fileobj, version: tuple = (VERSION_MAJOR, VERSION_MINOR)):
        """version: the file header's (major, minor): another only to copy frames coded in it."""
        self._f, self._pos, self._closed = fileobj, 0, False
        self._base = fileobj.tell() if _seekable(fileobj) else 0
        self._seq = None  # (unit offset, body offset, body bytes, frame_count offset in body)
        self._index = []
        self._emit(MAGIC + bytes(version))

    def _emit(self, data: bytes) -> int:
        offset = self._pos
        self._f.write(data)
        self._pos += len(data)
        return offset

    def write_sequence_header(self, hdr: SequenceHeader) -> None:
        if self._seq is not None or self._closed:
            raise ValueError("the sequence header is written once, first")
        w = ByteWriter()
        count_at = write_sequence_header(w, hdr)
        unit, body_at = _unit(UnitType.SEQUENCE_HEADER, w.getvalue())
        self._seq = (self._emit(unit), body_at, w.getvalue(), count_at)

    def write_frame(self, hdr: FrameHeader, substreams) -> int:
        """Writes one frame unit; returns its size in bytes (sync, type and size included)."""
        if self._seq is None or self._closed:
            raise ValueError("write_frame needs an open writer with a sequence header")
        substreams = [bytes(s) for s in substreams]
        w = ByteWriter()
        write_frame_header(w, hdr, [len(s) for s in substreams])
        for s in substreams:
            w.bytes(s)
        unit, _ = _unit(UnitType.FRAME, w.getvalue())
        self._index.append((self._emit(unit), hdr.display_index, int(hdr.frame_type)))
        return len(unit)

    def close(self) -> None:
        if self._closed:
            return
        if self._seq is None:
            raise ValueError("cannot close an .lvc stream without a sequence header")
        self._closed = True
        w = ByteWriter()
        write_index(w, self._index)
        index_at = self._emit(_unit(UnitType.INDEX, w.getvalue())[0])
        if index_at <= 0xFFFF_FFFF:  # the footer's u32 cannot point further; readers then see no index
            self._emit(struct.pack("<I", index_at) + FOOTER_MAGIC)
        if _seekable(self._f):
            self._patch_frame_count(len(self._index))
        self._f.flush()

    def _patch_frame_count(self, count: int) -> None:
        unit_at, body_at, body, count_at = self._seq
        body = body[:count_at] + struct.pack("<I", count) + body[count_at + 4:]
        end = self._f.tell()
        self._f.seek(self._base + unit_at + body_at + count_at)
        self._f.write(body[count_at:] + _crc(UnitType.SEQUENCE_HEADER, body))
        self._f.seek(end)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:  # a failed encode leaves no index, so readers see it as truncated
            self.close()


class LvcReader:
    """Reads an .lvc stream front to back; read_index() also seeks (seekable files only)."""

    def __init__(self, fileobj):
        self._f, self._pos, self._seq = fileobj, 0, None
        self.skipped_bytes = 0  # bytes passed over while resynchronising after damage
        self._base = fileobj.tell() if _seekable(fileobj) else 0
        head = self._f.read(FILE_HEADER_SIZE)
        if head[:len(MAGIC)] != MAGIC[:len(head)]:
            raise FormatError("not an .lvc bitstream (bad magic)")
        if len(head) < FILE_HEADER_SIZE:
            raise TruncatedStream(f"truncated at byte {len(head)} (inside the file header)")
        self._pos = FILE_HEADER_SIZE
        self.format_version = (head[4], head[5])
        if head[4] not in READABLE_MAJORS:
            raise UnsupportedVersion(_version_problem(head[4], head[5]))

    def _read(self, n: int, where: str) -> bytes:
        # A corrupt size field must not make us allocate it: read big units in bounded chunks,
        # so memory follows the bytes actually present in the file.
        if n <= _CHUNK:
            data = self._f.read(n)
        else:
            parts, left = [], n
            while left > 0:
                part = self._f.read(min(left, _CHUNK))
                if not part:
                    break
                parts.append(part)
                left -= len(part)
            data = b"".join(parts)
        self._pos += len(data)
        if len(data) < n:
            raise TruncatedStream(f"truncated at byte {self._pos} (inside {where})")
        return data

    def _next_unit(self):
        """(offset, unit_type, body) of the next unit, CRC-checked; None at a clean end of file."""
        offset = self._pos
        first = self._f.read(1)
        if not first:
            return None
        self._pos += 1
        where = f"unit at byte {offset}"
        if first[0] != SYNC:
            raise CorruptStream(f"{where}: missing sync byte (file corrupted)")
        unit_type = self._read(1, where)[0]
        where = f"{_unit_name(unit_type)} at byte {offset}"
        size = 0
        for i in range(MAX_ULEB_BYTES):
            b = self._read(1, where)[0]
            size |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                break
        if not CRC_SIZE <= size <= MAX_UNIT_SIZE:
            raise CorruptStream(f"{where}: size {size} out of range (file corrupted)")
        payload = self._read(size, where)
        body = payload[:-CRC_SIZE]
        if payload[-CRC_SIZE:] != _crc(unit_type, body):
            raise CorruptStream(f"{where}: CRC mismatch (file corrupted)")
        return offset, unit_type, body

    def units(self, on_error=None):
        """Yields (offset, unit_type, body) of every unit from here on, the INDEX unit last.

        `body` is the payload without its CRC, already checked. A stream must end with its
        INDEX unit: ending before it means the file was cut short.

        With `on_error` (a callable taking the FormatError), a damaged unit is reported and
        skipped: the reader resynchronises on the next sync byte that starts a unit with a valid
        CRC (seekable files only). A cut file then simply ends.
        """
        while True:
            start = self._pos
            try:
                unit = self._next_unit()
            except TruncatedStream as e:
                if on_error is None:
                    raise
                on_error(e)
                return
            except CorruptStream as e:
                if on_error is None or not _seekable(self._f):
                    raise
                on_error(e)
                if not self._resync(start + 1):
                    return
                self.skipped_bytes += self._pos - start
                continue
            if unit is None:
                break
            yield unit
            if unit[1] == UnitType.INDEX:
                return  # what follows is the footer, not a unit
        e = TruncatedStream(f"truncated at byte {self._pos} (the stream ends before its index unit)")
        if on_error is None:
            raise e
        on_error(e)

    def _resync(self, start: int) -> bool:
        """Move to the first offset >= start where a whole unit with a valid CRC begins."""
        pos = start
        while True:
            self._f.seek(self._base + pos)
            block = self._f.read(_CHUNK)
            if not block:
                return False
            hit = block.find(bytes([SYNC]))
            if hit < 0:
                pos += len(block)
                continue
            candidate = pos + hit
            self._f.seek(self._base + candidate)
            self._pos = candidate
            try:
                if self._next_unit() is not None:
                    self._f.seek(self._base + candidate)
                    self._pos = candidate
                    return True
            except FormatError:
                pass
            pos = candidate + 1

    @staticmethod
    def _parse(parse, offset: int, unit_type: int, body: bytes):
        r = ByteReader(body, base=offset, where=f"{_unit_name(unit_type)} at byte {offset}")
        try:
            return parse(r), r
        except TruncatedStream:  # the CRC matched, so this is a malformed unit, not a cut file
            raise CorruptStream(f"{r.where}: fields overrun the unit (file corrupted)") from None

    @property
    def sequence_header(self) -> SequenceHeader:
        """The first known unit, which must be the sequence header (unknown types are skipped)."""
        if self._seq is None:
            for offset, unit_type, body in self.units():
                if unit_type in list(UnitType):
                    if unit_type != UnitType.SEQUENCE_HEADER:
                        raise CorruptStream(f"{_unit_name(unit_type)} at byte {offset}: expected "
                                            "the sequence header first (file corrupted)")
                    seq = self._parse(read_sequence_header, offset, unit_type, body)[0]
                    self._seq = replace(seq, format_major=self.format_version[0])
                    break
            else:
                raise CorruptStream("no sequence header before the index unit (file corrupted)")
        return self._seq

    def frames(self, on_error=None):
        """Yields (FrameHeader, [substream bytes], unit_size) in coding order; stops at the index.

        `on_error`: see units(); frame units whose fields are invalid are reported and skipped too.
        """
        _ = self.sequence_header  # frames start after it
        for offset, unit_type, body in self.units(on_error):
            if unit_type == UnitType.FRAME:
                try:
                    (hdr, sizes), r = self._parse(read_frame_header, offset, unit_type, body)
                except FormatError as e:
                    if on_error is None:
                        raise
                    on_error(e)
                    continue
                substreams = [r.bytes(n) for n in sizes]  # in range: checked by read_frame_header
                yield hdr, substreams, self._pos - offset
            elif unit_type == UnitType.SEQUENCE_HEADER:
                if on_error is not None:
                    on_error(CorruptStream(f"sequence header at byte {offset}: a second sequence "
                                           "header (ignored)"))
                    continue
                raise CorruptStream(f"sequence header at byte {offset}: a second sequence header "
                                    "(file corrupted)")
            # INDEX ends units(); unknown types are skipped for forward compatibility.

    def read_index(self):
        """[(unit_offset, display_index, FrameType), ...] from the footer, or None if the stream
        is not seekable or has no footer. Leaves the read position where it was."""
        if not _seekable(self._f):
            return None
        here = self._f.tell()
        try:
            end = self._f.seek(0, os.SEEK_END) - self._base
            if end < FILE_HEADER_SIZE + FOOTER_SIZE:
                return None
            self._f.seek(self._base + end - FOOTER_SIZE)
            footer = self._f.read(FOOTER_SIZE)
            if footer[4:] != FOOTER_MAGIC:
                return None
            index_at = struct.unpack("<I", footer[:4])[0]
            if not FILE_HEADER_SIZE <= index_at < end - FOOTER_SIZE:
                raise CorruptStream(f"footer: index offset {index_at} out of range (file corrupted)")
            self._f.seek(self._base + index_at)
            saved, self._pos = self._pos, index_at
            try:
                unit = self._next_unit()
                stop = self._pos
            finally:
                self._pos = saved
            if unit is None or unit[1] != UnitType.INDEX or stop != end - FOOTER_SIZE:
                raise CorruptStream(f"footer: no index unit at byte {index_at} (file corrupted)")
            entries = self._parse(read_index, *unit)[0]
            if any(o < FILE_HEADER_SIZE or o >= index_at for o, _, _ in entries):
                raise CorruptStream(f"index unit at byte {index_at}: frame offset out of range "
                                    "(file corrupted)")
            return entries
        finally:
            self._f.seek(here)


def open_lvc(path):
    """Opens `path` for reading, turning OS errors into one-line InputErrors."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an .lvc file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def probe(path) -> tuple[SequenceHeader, list[tuple[FrameHeader, int]]]:
    """The sequence header and (FrameHeader, unit_size) of every frame of the file at `path`."""
    with open_lvc(path) as f:
        reader = LvcReader(f)
        return reader.sequence_header, [(hdr, size) for hdr, _, size in reader.frames()]
