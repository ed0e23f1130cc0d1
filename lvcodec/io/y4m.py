"""YUV4MPEG2 (.y4m): the field's lingua franca for raw video with a header.

Only 8-bit 4:2:0 is read; the siting variants (420jpeg, 420paldv, 420mpeg2) hold the same
samples and differ only in where chroma sits, which a codec of planes need not know.
"""

from lvcodec.errors import InputError
from lvcodec.io.frame import Frame, VideoInfo

SIGNATURE = b"YUV4MPEG2"
FRAME_TAG = b"FRAME"
CHROMA_420 = {"420", "420jpeg", "420paldv", "420mpeg2"}
MAX_HEADER = 4096


def read_header(f, name) -> VideoInfo:
    line = f.readline(MAX_HEADER)
    if not line.startswith(SIGNATURE):
        raise InputError(f"{name}: not a Y4M file (no YUV4MPEG2 signature)")
    if not line.endswith(b"\n"):
        raise InputError(f"{name}: Y4M header is truncated or too long")
    width = height = None
    fps = (25, 1)
    chroma = "420jpeg"
    for tok in line[len(SIGNATURE):].split():
        key, val = chr(tok[0]), tok[1:].decode("ascii", "replace")
        try:
            if key == "W":
                width = int(val)
            elif key == "H":
                height = int(val)
            elif key == "F":
                num, den = (int(x) for x in val.split(":"))
                if num <= 0 or den <= 0:
                    raise ValueError
                fps = (num, den)
            elif key == "C":
                chroma = val
        except ValueError:
            raise InputError(f"{name}: bad Y4M header field '{key}{val}'") from None
    if not width or not height or width <= 0 or height <= 0:
        raise InputError(f"{name}: Y4M header has no valid W/H")
    if chroma not in CHROMA_420:
        raise InputError(f"{name}: Y4M chroma format C{chroma} is not supported "
                         "(lvcodec reads 8-bit 4:2:0 only; convert with ffmpeg -pix_fmt yuv420p)")
    check_even(width, height, name)
    return VideoInfo(width, height, fps[0], fps[1], None)


def check_even(width, height, name):
    if width % 2 or height % 2:
        raise InputError(f"{name}: {width}x{height} has an odd dimension; 4:2:0 needs even width "
                         "and height (crop or pad by one pixel first)")


def read_frames(f, info: VideoInfo, name):
    size = info.frame_bytes
    index = 0
    while True:
        tag = f.readline(MAX_HEADER)
        if not tag:
            return
        if not tag.startswith(FRAME_TAG):
            raise InputError(f"{name}: frame {index} does not start with FRAME")
        buf = f.read(size)
        if len(buf) != size:
            raise InputError(f"{name}: truncated in frame {index} ({len(buf)} of {size} bytes)")
        yield Frame.frombuffer(buf, info.width, info.height)
        index += 1


def header_bytes(info: VideoInfo) -> bytes:
    return (f"YUV4MPEG2 W{info.width} H{info.height} F{info.fps_num}:{info.fps_den} "
            f"Ip A1:1 C420jpeg\n").encode()


__all__ = ["read_header", "read_frames", "header_bytes", "check_even"]
