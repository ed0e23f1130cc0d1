"""Any container PyAV (FFmpeg) opens, decoded to 8-bit 4:2:0; MP4/MKV written for viewing."""

from lvcodec.errors import InputError, OutputError
from lvcodec.io.frame import Frame, VideoInfo, fps_fraction
from lvcodec.io.y4m import check_even


def _av():
    import av  # imported lazily: raw/Y4M work without touching FFmpeg
    return av


class AvSource:
    def __init__(self, path, name):
        av = _av()
        try:
            self.container = av.open(str(path))
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
            raise InputError(f"{name}: cannot open as video ({e.__class__.__name__})") from None
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{name}: has no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        cc = self.stream.codec_context
        rate = self.stream.average_rate or self.stream.guessed_rate or 25
        num, den = fps_fraction(rate)
        check_even(cc.width, cc.height, name)
        self.info = VideoInfo(cc.width, cc.height, num, den, self.stream.frames or None)
        self.name = name

    def frames(self):
        av = _av()
        w, h = self.info.width, self.info.height
        try:
            for frame in self.container.decode(self.stream):
                a = frame.to_ndarray(width=w, height=h, format="yuv420p")
                yield Frame.from_planar(a, w, h)
        except av.error.FFmpegError as e:
            raise InputError(f"{self.name}: decoding failed ({e})") from None

    def close(self):
        self.container.close()


class AvSink:
    """H.264 at CRF 18 in MP4/MKV: visually lossless, for looking at results, not for measuring."""

    def __init__(self, fileobj, info: VideoInfo, fmt: str):
        av = _av()
        from fractions import Fraction
        try:
            self.container = av.open(fileobj, mode="w", format=fmt)
            self.stream = self.container.add_stream("libx264", rate=Fraction(info.fps_num, info.fps_den))
        except av.error.FFmpegError as e:
            raise OutputError(f"cannot start {fmt} writer: {e}") from None
        self.stream.width, self.stream.height = info.width, info.height
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": "18", "preset": "medium"}
        self.av = av

    def write(self, frame: Frame):
        vf = self.av.VideoFrame.from_ndarray(frame.to_planar(), format="yuv420p")
        for packet in self.stream.encode(vf):
            self.container.mux(packet)

    def close(self):
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
