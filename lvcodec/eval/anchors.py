"""Conventional anchors: x264, x265, SVT-AV1 through PyAV, and baseline JPEG through Pillow.

All of them code the same yuv420p frames as lvc with the same frame count and intra period (the
GOP length: 1 = all-intra; -1 = only the first frame intra, i.e. a GOP longer than the clip). Rate is
the size of the whole output file:

* x264 / x265 write raw Annex-B elementary streams (.h264 / .hevc), no container at all.
  Neither encoder's version/options SEI message is counted: x265 runs with info=0, and x264 (which
  has no such switch) has that one NAL unit (~700 bytes) cut from the file before it is measured
  and decoded.
* SVT-AV1 writes IVF (.ivf): 32 bytes of file header + 12 bytes per frame of container overhead,
  which is counted (12 bytes are 0.8 % of a 640×360 frame at 0.05 bpp).
* JPEG writes the frames' JFIF images back to back (.mjpeg, a valid Motion-JPEG stream).

Encoders run with their defaults otherwise (no tune=psnr), B-frames included when the GOP allows.
"""

import io
import os
import time
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from lvcodec.eval.base import Codec, CodecResult, check_even, keyint_for, stream_dir
from lvcodec.io import Frame

__all__ = ["Anchor", "PyAVAnchor", "JpegAnchor", "ANCHORS", "DEFAULT_ANCHORS"]

Anchor = Codec


class PyAVAnchor(Codec):
    """An FFmpeg encoder driven through PyAV, decoded back with FFmpeg's own decoder."""

    knob = "crf"

    def __init__(self, name, encoder, fmt, ext, points, options, postprocess=None):
        self.name, self.encoder, self.fmt, self.ext = name, encoder, fmt, ext
        self.default_points = tuple(points)
        self._options = options  # (point, keyint) -> dict of encoder options
        self._postprocess = postprocess  # bytes -> bytes, applied to the written stream

    def version(self) -> str:
        libs = av.library_versions
        return (f"{self.encoder} pyav-{av.__version__} "
                f"libavcodec-{'.'.join(map(str, libs.get('libavcodec', ())))}")

    def encode_decode(self, frames, info, point, intra_period, workdir=None) -> CodecResult:
        check_even(info)
        keyint = keyint_for(intra_period, len(frames))
        with stream_dir(workdir) as d:
            path = d / f"{self.name}_{point}.{self.ext}"
            t0 = time.perf_counter()
            self._encode(path, frames, info, point, keyint)
            if self._postprocess:
                path.write_bytes(self._postprocess(path.read_bytes()))
            t1 = time.perf_counter()
            decoded = self._decode(path, info)
            t2 = time.perf_counter()
            size = path.stat().st_size
        return CodecResult(size, decoded, t1 - t0, t2 - t1, path if workdir is not None else None,
                           {"keyint": keyint})

    def _encode(self, path, frames, info, point, keyint):
        out = av.open(str(path), "w", format=self.fmt)
        try:
            stream = out.add_stream(self.encoder, rate=Fraction(info.fps_num, info.fps_den))
            stream.width, stream.height, stream.pix_fmt = info.width, info.height, "yuv420p"
            stream.codec_context.gop_size = keyint
            stream.options = {k: str(v) for k, v in self._options(point, keyint).items()}
            for i, f in enumerate(frames):
                vf = av.VideoFrame.from_ndarray(f.to_planar(), format="yuv420p")
                vf.pts = i
                out.mux(stream.encode(vf))
            out.mux(stream.encode(None))  # flush delayed (lookahead / B) frames
        finally:
            out.close()

    @staticmethod
    def _decode(path, info) -> list:
        with av.open(str(path)) as c:
            return [Frame.from_planar(f.to_ndarray(format="yuv420p"), info.width, info.height)
                    for f in c.decode(video=0)]


def _x264(point, keyint, bframes=None):
    extra = "" if bframes is None else f":bframes={bframes}"
    return {"preset": "medium", "crf": point, "x264-params": f"keyint={keyint}:scenecut=0{extra}"}


def strip_x264_info(stream: bytes) -> bytes:
    """Remove x264's user-data SEI NAL unit (its version and full option string) from Annex B.

    Start codes cannot occur inside a NAL unit (emulation prevention), so the unit runs from the
    start code before the marker to the next start code."""
    at = stream.find(b"x264 - core")
    if at < 0:
        return stream
    start = stream.rfind(b"\x00\x00\x01", 0, at)
    if start < 0 or stream[start + 3] & 0x1F != 6:  # 6 = SEI
        return stream
    if start > 0 and stream[start - 1] == 0:  # 4-byte start code: its zero_byte goes too
        start -= 1
    end = stream.find(b"\x00\x00\x01", at)
    if end < 0:
        return stream[:start]
    if stream[end - 1] == 0:  # the next unit's zero_byte stays with it
        end -= 1
    return stream[:start] + stream[end:]


def _x265(preset, bframes=None):
    def options(point, keyint):
        params = f"keyint={keyint}:min-keyint={keyint}:scenecut=0:info=0:log-level=error"
        if bframes is not None:
            params += f":bframes={bframes}"
        return {"preset": preset, "crf": point, "x265-params": params}
    return options


def _svtav1(point, keyint):
    # SVT-AV1 prints its banner at info level unless told otherwise; it reads SVT_LOG at init.
    os.environ.setdefault("SVT_LOG", "1")
    return {"preset": 8, "crf": point, "svtav1-params": f"keyint={keyint}"}


class JpegAnchor(Codec):
    """Baseline JPEG (libjpeg via Pillow) coding our Y, Cb, Cr planes directly, 4:2:0, no colour
    conversion: chroma is upsampled by pixel repetition (which libjpeg's 2×2 box downsampler undoes
    exactly), decoded straight to YCbCr, and brought back to 4:2:0 by 2×2 averaging — so the only
    loss not due to JPEG itself is libjpeg's smooth chroma upsampling at decode."""

    name = "jpeg"
    knob = "q"
    default_points = (5, 10, 20, 35, 50, 75, 90)

    def version(self) -> str:
        import PIL

        return f"pillow-{PIL.__version__}"

    def encode_decode(self, frames, info, point, intra_period, workdir=None) -> CodecResult:
        check_even(info)
        with stream_dir(workdir) as d:
            path = d / f"jpeg_{point}.mjpeg"
            t0 = time.perf_counter()
            sizes = []
            with open(path, "wb") as out:
                for f in frames:
                    buf = io.BytesIO()
                    up = [Image.fromarray(p.repeat(2, 0).repeat(2, 1)) for p in (f.u, f.v)]
                    Image.merge("YCbCr", [Image.fromarray(f.y), *up]).save(
                        buf, "JPEG", quality=int(point), subsampling=2)
                    sizes.append(out.write(buf.getvalue()))
            t1 = time.perf_counter()
            decoded = []
            with open(path, "rb") as src:
                for n in sizes:  # every frame is intra: JPEG has no other kind
                    im = Image.open(io.BytesIO(src.read(n)))
                    im.draft("YCbCr", im.size)  # ask libjpeg for YCbCr, skipping RGB conversion
                    decoded.append(_ycbcr_to_frame(np.asarray(im)))
            t2 = time.perf_counter()
            size = path.stat().st_size
        return CodecResult(size, decoded, t1 - t0, t2 - t1, path if workdir is not None else None,
                           {"keyint": 1})


def _ycbcr_to_frame(a: np.ndarray) -> Frame:
    def down(p):
        p = p.astype(np.uint16)
        s = p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]
        return ((s + 2) // 4).astype(np.uint8)

    return Frame(np.ascontiguousarray(a[..., 0]), down(a[..., 1]), down(a[..., 2]))


_CRF = (22, 27, 32, 37, 42, 47)
ANCHORS: dict[str, Codec] = {
    "x264-medium": PyAVAnchor("x264-medium", "libx264", "h264", "h264", _CRF, _x264,
                              strip_x264_info),
    "x265-medium": PyAVAnchor("x265-medium", "libx265", "hevc", "hevc", _CRF, _x265("medium")),
    # Low-delay P anchors (no B frames), for comparing with lvc's I P P P structure.
    "x264-medium-ldp": PyAVAnchor("x264-medium-ldp", "libx264", "h264", "h264", _CRF,
                                  lambda point, keyint: _x264(point, keyint, bframes=0),
                                  strip_x264_info),
    "x265-medium-ldp": PyAVAnchor("x265-medium-ldp", "libx265", "hevc", "hevc", _CRF,
                                  _x265("medium", bframes=0)),
    "x265-veryslow": PyAVAnchor("x265-veryslow", "libx265", "hevc", "hevc", _CRF,
                                _x265("veryslow")),
    # SVT-AV1's crf runs 0..63; these points span about the same rates as x264's crf 22..42.
    "svtav1": PyAVAnchor("svtav1", "libsvtav1", "ivf", "ivf", (27, 35, 43, 51, 59, 63), _svtav1),
    "jpeg": JpegAnchor(),
}
DEFAULT_ANCHORS = ("x264-medium", "x265-medium", "x265-veryslow", "svtav1")
