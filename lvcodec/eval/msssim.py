"""MS-SSIM (Wang, Simoncelli & Bovik 2003) of 8-bit luma planes, in numpy.

Five scales with the paper's weights, an 11×11 Gaussian window (σ = 1.5) applied without padding
("valid"), and 2×2 average pooling between scales — the same recipe as the reference MATLAB code and
pytorch_msssim. Negative contrast-structure terms are clamped to 0 (as pytorch_msssim does) so the
fractional powers stay real.

Small images: a scale is only used while the plane is at least 11×11 there. The scales that do not
fit are dropped and the remaining weights renormalised to sum to 1, so e.g. a 64×48 plane is scored
on 3 scales. Values are therefore comparable across codecs on one clip, not across clip sizes.
"""

import numpy as np

__all__ = ["ms_ssim", "WEIGHTS"]

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_WIN = 11
_SIGMA = 1.5


def _kernel() -> np.ndarray:
    t = np.arange(_WIN) - _WIN // 2
    g = np.exp(-(t * t) / (2 * _SIGMA * _SIGMA))
    return g / g.sum()


_G = _kernel()


def _blur(a: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter, 'valid' region only (no border assumptions)."""
    h, w = a.shape
    rows = sum(_G[i] * a[i:h - _WIN + 1 + i, :] for i in range(_WIN))
    return sum(_G[j] * rows[:, j:w - _WIN + 1 + j] for j in range(_WIN))


def _ssim_terms(x: np.ndarray, y: np.ndarray, peak: float) -> tuple[float, float]:
    """Mean luminance term and mean contrast-structure term of SSIM at one scale."""
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx * mx
    syy = _blur(y * y) - my * my
    sxy = _blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return float(np.mean(lum * cs)), float(np.mean(cs))


def _pool(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    a = a[:h, :w]
    return (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) / 4


def ms_ssim(ref: np.ndarray, test: np.ndarray, peak: float = 255.0) -> float:
    """MS-SSIM in [0, 1] of two equally sized 2-D planes (1.0 when identical)."""
    x = np.asarray(ref, dtype=np.float64)
    y = np.asarray(test, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"ms_ssim needs two equal 2-D planes, got {x.shape} and {y.shape}")
    if min(x.shape) < _WIN:
        raise ValueError(f"ms_ssim needs planes of at least {_WIN}x{_WIN}, got {x.shape}")
    # Scales that fit: each halves the plane; stop before a plane smaller than the window.
    scales = 1
    while scales < len(WEIGHTS) and min(x.shape) // (2 ** scales) >= _WIN:
        scales += 1
    w = np.array(WEIGHTS[:scales])
    w = w / w.sum()
    result = 1.0
    for s in range(scales):
        ssim, cs = _ssim_terms(x, y, peak)
        term = ssim if s == scales - 1 else cs  # luminance only at the coarsest scale
        result *= max(term, 0.0) ** w[s]
        if s < scales - 1:
            x, y = _pool(x), _pool(y)
    return float(result)
