import math

import numpy as np
import pytest

from lvcodec.eval.metrics import frame_psnr, plane_mse, psnr_from_mse
from lvcodec.eval.msssim import ms_ssim
from lvcodec.io import Frame


def _frame(y, u, v, h=16, w=16):
    return Frame(np.full((h, w), y, np.uint8), np.full((h // 2, w // 2), u, np.uint8),
                 np.full((h // 2, w // 2), v, np.uint8))


def test_psnr_constant_error_of_one():
    assert plane_mse(np.zeros((4, 4), np.uint8), np.ones((4, 4), np.uint8)) == 1.0
    assert psnr_from_mse(1.0) == pytest.approx(20 * math.log10(255), abs=1e-9)
    assert psnr_from_mse(1.0) == pytest.approx(48.1308, abs=1e-4)
    assert psnr_from_mse(0.0) == 100.0


def test_psnr_yuv_is_6_1_1_weighted():
    ref, rec = _frame(100, 100, 100), _frame(101, 102, 104)  # mse 1, 4, 16
    p = frame_psnr(ref, rec)
    y, u, v = (10 * math.log10(255 ** 2 / m) for m in (1, 4, 16))
    assert (p["y"], p["u"], p["v"]) == pytest.approx((y, u, v))
    assert p["yuv"] == pytest.approx((6 * y + u + v) / 8)


def test_ms_ssim_identical_is_one_and_falls_with_noise():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:96, 0:128]
    img = np.clip(100 + 60 * np.sin(xx / 7) * np.cos(yy / 5), 0, 255).astype(np.uint8)
    assert ms_ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    scores = []
    for sigma in (2, 8, 25):
        noisy = np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)
        scores.append(ms_ssim(img, noisy))
    assert 1.0 > scores[0] > scores[1] > scores[2] > 0


def test_ms_ssim_small_and_bad_shapes():
    img = np.zeros((12, 12), np.uint8)
    assert ms_ssim(img, img) == pytest.approx(1.0)  # one scale only
    with pytest.raises(ValueError):
        ms_ssim(np.zeros((8, 8)), np.zeros((8, 8)))
    with pytest.raises(ValueError):
        ms_ssim(np.zeros((16, 16)), np.zeros((16, 18)))
