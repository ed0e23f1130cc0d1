"""Entropy layer: exact round trips, pinned words, and bits close to the model's information."""

import math
import subprocess
import sys

import numpy as np
import pytest

from lvcodec.entropy import FactorizedCoder, GaussianCoder, ScaleTable, finish, new_decoder, new_encoder
from lvcodec.entropy.tables import PRECISION, quantize_pmf


@pytest.fixture(scope="module")
def coder():
    return GaussianCoder()


def _gaussian_data(table, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    scales = rng.uniform(0.05, 80.0, n).astype(np.float32)
    idx = table.index(scales)
    return rng.normal(0, scales).round().astype(np.int32), idx


def test_gaussian_round_trip_is_exact(coder):
    sym, idx = _gaussian_data(coder.table)
    sym = coder.clamp(sym, idx)
    enc = new_encoder()
    coder.encode(enc, sym[:5000], idx[:5000])
    coder.encode(enc, sym[5000:], idx[5000:])  # two calls share one stream, as steps do
    dec = new_decoder(finish(enc))
    out = np.concatenate([coder.decode(dec, idx[:5000]), coder.decode(dec, idx[5000:])])
    assert np.array_equal(out, sym)


def test_symbols_beyond_the_support_are_clamped_not_lost(coder):
    idx = np.zeros(4, dtype=np.int64)
    sym = coder.clamp(np.array([-1000, -3, 3, 1000]), idx)
    r = int(coder.table.supports[0])
    assert sym.tolist() == [-r, -3, 3, r]


def test_actual_bits_are_within_one_percent_of_the_information(coder):
    sym, idx = _gaussian_data(coder.table, n=50000, seed=1)
    sym = coder.clamp(sym, idx)
    enc = new_encoder()
    coder.encode(enc, sym, idx)
    bits = len(finish(enc)) * 8
    info = 0.0
    for s, i in zip(sym, idx):
        p = coder.table.pmfs[i][s + coder.table.supports[i]] / (1 << PRECISION)
        info -= math.log2(p)
    assert info <= bits <= info * 1.01 + 64


def test_scale_index_is_the_first_table_entry_not_below_the_scale():
    t = ScaleTable()
    assert t.index(np.array([0.0, 0.11, 1e9], dtype=np.float32)).tolist() == [0, 0, t.levels - 1]
    s = np.float32(t.scales[40] * 1.001)
    assert t.index(np.array([s]))[0] == 41
    assert t.scales[t.index(np.array([3.0], dtype=np.float32))[0]] >= 3.0 * 0.999


def test_quantized_pmf_sums_to_the_precision_and_keeps_every_symbol():
    pmf = quantize_pmf(np.array([0.0, 1e-30, 0.5, 0.5]))
    assert pmf.sum() == 1 << PRECISION and pmf.min() >= 1


def test_pinned_words_do_not_change():
    # A change here changes every bitstream: it needs a format version bump (docs/bitstream.md).
    coder = GaussianCoder()
    enc = new_encoder()
    coder.encode(enc, np.array([0, 1, -2, 5, 0, 0], dtype=np.int32), np.array([0, 10, 20, 30, 40, 127]))
    assert finish(enc).hex() == "875c3eff2866b7ed"


def test_factorized_round_trip_per_channel():
    rng = np.random.default_rng(2)
    c, length = 3, 21
    pmf = np.exp(-0.5 * ((np.arange(length) - 10) / 2.0) ** 2)
    cdf = np.concatenate([[0], np.cumsum(pmf / pmf.sum() * 65535).astype(np.int64), [65536]])
    quantized = np.tile(cdf, (c, 1))
    coder = FactorizedCoder(quantized, np.full(c, length + 2), np.full(c, -10))
    sym = coder.clamp(rng.integers(-14, 14, (c, 50)))
    assert sym.min() >= -10 and sym.max() <= 10
    enc = new_encoder()
    coder.encode(enc, sym)
    assert np.array_equal(coder.decode(new_decoder(finish(enc)), c, 50), sym)


def test_entropy_package_imports_without_torch():
    code = "import sys; sys.modules['torch'] = None; import lvcodec.entropy"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_gaussian_tables_are_the_formats_and_a_machine_with_others_refuses(monkeypatch):
    """The tables come from libm's erfc; the format pins their digest (docs/bitstream.md §9.6)."""
    import pytest

    from lvcodec.entropy import coder
    from lvcodec.entropy.tables import SCALE_TABLE_SHA256, ScaleTable
    from lvcodec.errors import LvcError

    assert ScaleTable().digest() == SCALE_TABLE_SHA256
    monkeypatch.setattr(coder, "SCALE_TABLE_SHA256", "0" * 64)
    with pytest.raises(LvcError, match="other Gaussian probability tables"):
        coder.GaussianCoder()
