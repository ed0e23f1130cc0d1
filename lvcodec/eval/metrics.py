"""Distortion metrics on 8-bit YUV 4:2:0 frames (DESIGN §8): per-plane PSNR and PSNR-YUV 6:1:1."""

import math

import numpy as np

__all__ = ["plane_mse", "psnr_from_mse", "frame_psnr"]


def plane_mse(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    """PSNR in dB; identical planes are capped at 100 dB so averages stay finite."""
    if mse <= 0:
        return 100.0
    return min(100.0, 10 * math.log10(peak * peak / mse))


def frame_psnr(ref, test) -> dict:
    """PSNR-Y, -U, -V and PSNR-YUV = (6 Y + U + V) / 8 of one frame (the DCVC convention)."""
    p = {k: psnr_from_mse(plane_mse(getattr(ref, k), getattr(test, k))) for k in ("y", "u", "v")}
    p["yuv"] = (6 * p["y"] + p["u"] + p["v"]) / 8
    return p
