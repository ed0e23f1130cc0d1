"""Bjøntegaard delta rate / PSNR with monotone piecewise-cubic Hermite (PCHIP) interpolation.

This is the "pchip" variant used by recent CTCs: each curve is interpolated with a shape-preserving
cubic (Fritsch–Carlson slopes, as scipy's PchipInterpolator) instead of the original global cubic
polynomial, which can overshoot between points. The cubics are integrated exactly over the interval
where both curves are defined; outside it nothing is extrapolated.
"""

import math

import numpy as np

__all__ = ["bd_rate", "bd_psnr", "pchip_slopes", "pchip_integral"]


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Node derivatives of the monotone PCHIP through (x, y); x strictly increasing."""
    h = np.diff(x)
    delta = np.diff(y) / h
    n = len(x)
    d = np.zeros(n)
    if n == 2:
        d[:] = delta[0]
        return d
    for k in range(1, n - 1):
        # Flat slope at local extrema keeps the interpolant monotone between nodes.
        if delta[k - 1] * delta[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k])
    d[0] = _end_slope(h[0], h[1], delta[0], delta[1])
    d[-1] = _end_slope(h[-1], h[-2], delta[-1], delta[-2])
    return d


def _end_slope(h0, h1, d0, d1) -> float:
    """Non-centred three-point end slope, limited so the end segment cannot overshoot."""
    s = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if np.sign(s) != np.sign(d0):
        return 0.0
    if np.sign(d0) != np.sign(d1) and abs(s) > abs(3 * d0):
        return 3 * d0
    return float(s)


def pchip_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Exact integral over [lo, hi] (inside [x0, xn]) of the PCHIP through (x, y)."""
    d = pchip_slopes(x, y)
    total = 0.0
    for k in range(len(x) - 1):
        a, b = max(lo, x[k]), min(hi, x[k + 1])
        if b <= a:
            continue
        h = x[k + 1] - x[k]
        delta = (y[k + 1] - y[k]) / h
        c2 = (3 * delta - 2 * d[k] - d[k + 1]) / h
        c3 = (d[k] + d[k + 1] - 2 * delta) / (h * h)

        def prim(t, k=k, c2=c2, c3=c3):  # antiderivative of the segment's cubic in t = x - x_k
            return y[k] * t + d[k] * t ** 2 / 2 + c2 * t ** 3 / 3 + c3 * t ** 4 / 4

        total += prim(b - x[k]) - prim(a - x[k])
    return total


def _curve(rate, dist, x_is_rate: bool):
    """Sorted, de-duplicated (x, y) arrays with x = log(rate) or PSNR; None if unusable."""
    r = np.asarray(rate, dtype=np.float64)
    q = np.asarray(dist, dtype=np.float64)
    if r.shape != q.shape or r.ndim != 1 or len(r) < 2 or np.any(r <= 0):
        return None
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(q))):
        return None
    lr = np.log(r)
    x, y = (lr, q) if x_is_rate else (q, lr)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    # Equal abscissae would make the interpolant undefined: merge them into their mean.
    ux, inv = np.unique(x, return_inverse=True)
    if len(ux) < 2:
        return None
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    return ux, uy


def _mean_gap(c1, c2):
    lo, hi = max(c1[0][0], c2[0][0]), min(c1[0][-1], c2[0][-1])
    if not hi > lo:
        return None
    i1 = pchip_integral(*c1, lo, hi)
    i2 = pchip_integral(*c2, lo, hi)
    return (i2 - i1) / (hi - lo)


def bd_rate(rate1, psnr1, rate2, psnr2) -> float | None:
    """Average bit-rate difference (%) of curve 2 vs curve 1 at equal PSNR (negative = 2 saves bits).

    Rates in any positive unit (bpp, kbit/s), points in any order. None when a curve has fewer than
    two distinct points or the PSNR ranges do not overlap.
    """
    c1, c2 = _curve(rate1, psnr1, False), _curve(rate2, psnr2, False)
    if c1 is None or c2 is None:
        return None
    gap = _mean_gap(c1, c2)
    return None if gap is None else (math.exp(gap) - 1) * 100


def bd_psnr(rate1, psnr1, rate2, psnr2) -> float | None:
    """Average PSNR difference (dB) of curve 2 vs curve 1 at equal rate (positive = 2 is better)."""
    c1, c2 = _curve(rate1, psnr1, True), _curve(rate2, psnr2, True)
    if c1 is None or c2 is None:
        return None
    return _mean_gap(c1, c2)
