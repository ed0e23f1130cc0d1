import numpy as np
import pytest

from lvcodec.eval.bdrate import bd_psnr, bd_rate, pchip_integral

R = [0.05, 0.11, 0.23, 0.52]
D = [29.1, 32.4, 35.2, 38.9]


def test_same_curve_is_zero():
    assert bd_rate(R, D, R, D) == pytest.approx(0.0, abs=1e-12)
    assert bd_psnr(R, D, R, D) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("scale, expect", [(0.9, -10.0), (1.25, 25.0)])
def test_scaled_rates(scale, expect):
    assert bd_rate(R, D, [r * scale for r in R], D) == pytest.approx(expect, abs=1e-6)


def test_order_does_not_matter():
    a = bd_rate(R, D, [r * 0.8 for r in R], [d + 0.1 for d in D])
    b = bd_rate(R[::-1], D[::-1], [r * 0.8 for r in R][::-1], [d + 0.1 for d in D][::-1])
    assert a == pytest.approx(b)


def test_psnr_shift_gives_bd_psnr():
    assert bd_psnr(R, D, R, [d + 0.5 for d in D]) == pytest.approx(0.5, abs=1e-9)
    # Better quality at the same rate saves bits.
    assert bd_rate(R, D, R, [d + 0.5 for d in D]) < 0


def test_no_overlap_or_too_few_points_is_none():
    assert bd_rate(R, D, R, [d + 20 for d in D]) is None
    assert bd_psnr(R, D, [r * 100 for r in R], D) is None
    assert bd_rate(R[:1], D[:1], R, D) is None
    assert bd_rate([0.1, 0.2], [30, 30], R, D) is None


def test_two_points_is_linear():
    assert bd_rate([0.1, 0.2], [30, 33], [0.09, 0.18], [30, 33]) == pytest.approx(-10)


def test_pchip_integrates_cubic_data_monotonically():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = x.copy()  # a straight line is reproduced exactly
    assert pchip_integral(x, y, 0.5, 2.5) == pytest.approx((2.5 ** 2 - 0.5 ** 2) / 2)
