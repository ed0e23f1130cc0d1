"""The in-memory picture: 8-bit YUV 4:2:0 planes, and the facts about a sequence."""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["Frame", "VideoInfo"]


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps_num: int = 25
    fps_den: int = 1
    frame_count: int | None = None  # None when the container does not say

    @property
    def fps(self) -> float:
        return self.fps_num / self.fps_den

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 3 // 2


@dataclass
class Frame:
    """One picture: y is H×W, u and v are H/2×W/2, all uint8."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        return self.y.shape[1]

    @property
    def height(self) -> int:
        return self.y.shape[0]

    def tobytes(self) -> bytes:
        return self.y.tobytes() + self.u.tobytes() + self.v.tobytes()

    def to_planar(self) -> np.ndarray:
        """The (H*3/2, W) planar array FFmpeg/PyAV use for yuv420p (Y rows, then U, then V)."""
        return np.concatenate([self.y.ravel(), self.u.ravel(), self.v.ravel()]).reshape(
            self.height * 3 // 2, self.width)

    @classmethod
    def from_planar(cls, a: np.ndarray, width: int, height: int) -> "Frame":
        return cls.frombuffer(np.ascontiguousarray(a).tobytes(), width, height)

    @classmethod
    def frombuffer(cls, buf: bytes, width: int, height: int) -> "Frame":
        n, c = width * height, (width // 2) * (height // 2)
        a = np.frombuffer(buf, np.uint8)
        return cls(a[:n].reshape(height, width), a[n:n + c].reshape(height // 2, width // 2),
                   a[n + c:n + 2 * c].reshape(height // 2, width // 2))


def fps_fraction(fps) -> tuple[int, int]:
    """A frame rate (float, str like '30000/1001', Fraction) as a reduced (num, den)."""
    f = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
    return f.numerator, f.denominator
