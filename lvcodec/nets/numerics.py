"""Exact decoder-side arithmetic: the same pictures from the same stream on every machine.

Training runs the nets in ordinary float32. The codec runs everything the decoder computes on an
*exact twin* of each net (`exact_twin`), inside `exact()`, under three rules (docs/bitstream.md §9
specifies the process operation by operation):

1. **Sums are exact.** A convolution rounds its input to a block floating-point grid: per picture,
   ACT_BITS below the picture's largest magnitude (`block_round`); its weights were rounded the
   same way per output channel, to as many bits as the exact sum leaves. Integer products summed in binary64
   stay below 2^52, so every order of summation -- any BLAS, any instruction set, any thread count,
   CPU or GPU -- gives the same exact integer. Pooling, channel means and the 2x bilinear
   up-sampling go through the same rounding, so they are exact too.
2. **Everything else is one IEEE-754 binary64 operation at a time** (+, -, *, /, sqrt, compare),
   elementwise, in the order the code writes them: correctly rounded, hence identical everywhere.
   (No fused multiply-add: torch evaluates `a * b + c` as two kernels.)
3. **No library transcendentals.** exp/log/sigmoid differ between libms in the last bits; where the
   nets need them (sigmoid, the quality gains, the scale index), they come from tables computed
   with Python's `decimal` (correctly rounded, platform-independent) once per process.

oneDNN and cuDNN are off inside `exact()`; the convolutions run PyTorch's own im2col + GEMM, or
on a CPU, for large pictures, one GEMM per kernel tap over shifted views (the same integers).
"""

import contextvars
import copy
import math
import weakref
from contextlib import contextmanager
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import lru_cache

import torch
import torch.nn as nn
import torch.nn.functional as F
from compressai.layers import GDN, AttentionBlock

__all__ = ["exact", "active", "exact_twin", "block_round", "block_scale", "sigmoid", "avg_pool2d",
           "channel_mean", "upsample2x_bilinear", "exp_exact", "ACT_BITS"]

ACT_BITS = 24  # |activation integer| <= 2^24 (per picture and convolution input)
SUM_BITS = 52  # every exact sum stays below 2^52 < 2^53
MAX_WEIGHT_BITS = 24  # |weight integer| <= 2^bits per output channel, bits from what the sum
MIN_WEIGHT_BITS = 12  # leaves: 52 - 24 - ceil(log2(products + 1)), 16..20 in these nets
SHIFTED_MIN_PIXELS = 2048  # from here on shifted GEMMs beat PyTorch's convolution (any channels)
TAP_TILE = 2048  # output columns summed per tile in _shifted_gemms
SIGMOID_STEP = 256  # sigmoid table: inputs on a 1/256 grid over [-16, 16], linear in between
SIGMOID_RANGE = 16
DECIMAL_DIGITS = 40

_EXACT = contextvars.ContextVar("lvcodec_exact", default=False)
_REFERENCE = contextvars.ContextVar("lvcodec_float_reference", default=False)


def active() -> bool:
    """Whether the calling code runs under exact()."""
    return _EXACT.get()


@contextmanager
def exact():
    """Decoder-side computation: exact twins only, no oneDNN/cuDNN, no gradients."""
    token = _EXACT.set(not _REFERENCE.get())
    try:
        with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False), \
                torch.backends.cudnn.flags(enabled=False):
            yield
    finally:
        _EXACT.reset(token)


@contextmanager
def float_reference():
    """For measuring what exactness costs (eval/bench_exact): codec sessions created inside use
    plain binary64 copies of the nets with the float ops -- the same codec without the rounding
    to exact grids, and without the guarantee. Never for streams anyone keeps."""
    token = _REFERENCE.set(True)
    try:
        yield
    finally:
        _REFERENCE.reset(token)


# -- exact building blocks -----------------------------------------------------------------------

def pow2(e: torch.Tensor) -> torch.Tensor:
    """2.0**e for an integer tensor e in [-1022, 1023], built from the bits (exact everywhere)."""
    return ((e.to(torch.int64) + 1023) << 52).view(torch.float64)


def block_scale(x: torch.Tensor, bits: int, dims=(1, 2, 3)) -> torch.Tensor:
    """The grid 2^(e - bits) of `block_round`, 2^e the smallest power of two above each sample's
    largest magnitude (max(max x, -min x): two reductions without an |x| copy)."""
    m = torch.maximum(x.amax(dim=dims, keepdim=True), -x.amin(dim=dims, keepdim=True))
    _, e = torch.frexp(m)  # m < 2^e (e = 0 for m = 0)
    return pow2(e - bits)


def to_grid(x: torch.Tensor, scale: torch.Tensor, out=None) -> torch.Tensor:
    """round(x / scale), scale a power of two: on a CPU as a product with 1/scale where that is a
    normal number (the same correctly rounded quotient, and a faster kernel), else the division
    (on a GPU the test would stop the stream at every convolution; its division is as fast)."""
    if x.device.type == "cpu":
        _, e = torch.frexp(scale)
        if bool((e > -1021).all()):
            return torch.mul(x, pow2(1 - e), out=out).round_()  # frexp: scale = 0.5 * 2^e
    return torch.div(x, scale, out=out).round_()


def block_round(x: torch.Tensor, bits: int, dims=(1, 2, 3)):
    """(integers, scale) with x ~= integers * scale, |integers| <= 2^bits: each sample's values on
    the grid 2^(e - bits), where 2^e is the smallest power of two above its largest magnitude.
    Exact operations only (max, frexp, division by a power of two, round half to even)."""
    x = x.double()
    scale = block_scale(x, bits, dims)
    return to_grid(x, scale), scale


class ExactConv2d(nn.Conv2d):
    """A Conv2d whose output is the exact sum of rounded inputs times rounded weights, then scaled
    (exact: powers of two) and biased (one binary64 addition). Made by `convert`, never built."""

    @classmethod
    def convert(cls, conv: nn.Conv2d) -> "ExactConv2d":
        w = conv.weight.detach().double()
        n = w.shape[1] * w.shape[2] * w.shape[3]  # products per output
        # The weights take what the exact sum leaves beside the activations' ACT_BITS.
        bits = min(MAX_WEIGHT_BITS, SUM_BITS - ACT_BITS - math.ceil(math.log2(n + 1)))
        if bits < MIN_WEIGHT_BITS:
            raise ValueError(f"a {tuple(w.shape)} convolution leaves too few exact weight bits")
        w_int, w_scale = block_round(w, bits)  # per output channel
        bias = None if conv.bias is None else conv.bias.detach().double().view(1, -1, 1, 1)
        del conv.weight
        if conv.bias is not None:
            del conv.bias
        conv.__class__ = cls
        conv.register_buffer("w_int", w_int)
        conv.register_buffer("w_scale", w_scale.view(1, -1, 1, 1))
        conv.register_buffer("b", bias)
        conv.bias = None
        conv.act_bits, conv.weight_bits = ACT_BITS, bits
        k = conv.kernel_size[0]
        # A stride-1 'same' convolution can sum its products as one GEMM per tap (_integer_sums).
        same = (conv.stride == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
                and conv.kernel_size == (k, k) and k % 2 and conv.padding == (k // 2, k // 2))
        conv.tap_padding = k // 2 if same else None
        return conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.double()
        x_scale = block_scale(x, self.act_bits)
        out = self._integer_sums(x, x_scale) * (x_scale * self.w_scale)
        return out if self.b is None else out.add_(self.b)

    def _integer_sums(self, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """The convolution's exact integer sums of round(x / scale)."""
        if self._shifted(x):
            return _shifted_gemms(x, scale, self._taps(), self.tap_padding, self.padding_mode)
        return self._conv_forward(to_grid(x, scale), self.w_int, None)

    def _shifted(self, x: torch.Tensor) -> bool:
        """Any algorithm that sums the products gives the same integers (they stay below 2^52), so
        the fastest one is used: on a CPU, a stride-1 'same' convolution of a large picture is k*k
        GEMMs over shifted views of the padded picture (no im2col copy: 2.5-7x faster than
        PyTorch's binary64 convolution at the packed frame's size); else PyTorch's own."""
        return (self.tap_padding is not None and x.device.type == "cpu"
                and x.shape[2] * x.shape[3] >= SHIFTED_MIN_PIXELS)

    def _taps(self) -> torch.Tensor:
        """The weights as (k*k, out, in), one contiguous matrix per tap: made on first use (CPU
        only, so only for the convolutions that take this path)."""
        if "_w_taps" not in self.__dict__:
            o, c, kh, kw = self.w_int.shape
            self.__dict__["_w_taps"] = self.w_int.permute(2, 3, 0, 1).reshape(kh * kw, o, c).contiguous()
        return self.__dict__["_w_taps"]


def _shifted_gemms(x: torch.Tensor, scale, taps: torch.Tensor, p: int,
                   padding_mode: str) -> torch.Tensor:
    """sum over taps (dy, dx) of W[dy, dx] @ round(x / scale) shifted by (dy, dx): a stride-1
    convolution with padding p. The rounded integers are written straight into the padded
    picture; flattened per channel, each shift is a contiguous slice of it, so every product is
    one GEMM on a view; outputs are made on the padded width and cropped."""
    b, c, h, w = x.shape
    if p == 0:  # 1x1: no padding, one GEMM per picture
        return torch.matmul(taps[0], to_grid(x, scale).reshape(b, c, h * w)).view(b, -1, h, w)
    k = 2 * p + 1
    wp = w + 2 * p
    # One more row at the bottom, read only for the cropped columns: the last windows fit.
    padded = x.new_zeros(b, c, h + 2 * p + 1, wp)
    inner = padded[:, :, p:p + h, p:p + w]
    to_grid(x, scale, out=inner)
    if padding_mode != "zeros":
        padded[:, :, :h + 2 * p] = F.pad(inner, (p, p, p, p), mode=padding_mode)
    flat = padded.view(b, c, -1)
    n = h * wp
    out = x.new_empty(b, taps.shape[1], n)
    for i in range(b):
        # Column tiles: a tile's sums stay in cache over the k*k taps (1.1-3x faster than whole
        # rows, most where the outputs are few); the integers are the same for any tiling.
        for s in range(0, n, TAP_TILE):
            e = min(n, s + TAP_TILE)
            tile = out[i, :, s:e]
            torch.mm(taps[0], flat[i, :, s:e], out=tile)
            for t in range(1, k * k):
                off = (t // k) * wp + t % k
                tile.addmm_(taps[t], flat[i, :, s + off:e + off])
    return out.view(b, -1, h, wp)[..., :w]


class ExactGDN(GDN):
    """(I)GDN with the normalisation as an exact 1x1 convolution of x², then sqrt (and a division
    for the forward GDN): correctly rounded operations only."""

    @classmethod
    def convert(cls, gdn: GDN) -> "ExactGDN":
        c = gdn.beta.shape[0]
        norm = nn.Conv2d(c, c, 1).double()
        with torch.no_grad():
            norm.weight.copy_(gdn.gamma_reparam(gdn.gamma).double().reshape(c, c, 1, 1))
            norm.bias.copy_(gdn.beta_reparam(gdn.beta).double())
        gdn.__class__ = cls
        gdn.norm = ExactConv2d.convert(norm)
        return gdn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.double()
        norm = torch.sqrt(self.norm(x * x))
        return x * norm if self.inverse else x / norm


class ExactAttentionBlock(AttentionBlock):
    """CompressAI's attention block with the table sigmoid."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_a(x) * sigmoid(self.conv_b(x)) + x


def _double_copy(net: nn.Module) -> nn.Module:
    """A deep copy of the net in binary64, each float tensor converted once (not cloned, then
    converted: the twins of a model's nets are ~24 M values)."""
    memo = {}
    for t in [*net.parameters(), *net.buffers()]:
        d = t.detach().to(torch.float64, copy=True) if t.is_floating_point() else t.detach().clone()
        memo[id(t)] = nn.Parameter(d, requires_grad=False) if isinstance(t, nn.Parameter) else d
    return copy.deepcopy(net, memo).double().eval().requires_grad_(False)


def _twin(net: nn.Module) -> nn.Module:
    twin = _double_copy(net)
    for m in list(twin.modules()):
        if type(m) is nn.Conv2d:
            ExactConv2d.convert(m)
        elif isinstance(m, GDN):
            ExactGDN.convert(m)
        elif type(m) is AttentionBlock:
            m.__class__ = ExactAttentionBlock
    return twin


def _reference_twin(net: nn.Module) -> nn.Module:
    twin = _double_copy(net)
    for m in twin.modules():  # binary32 references and contexts in, binary64 from here on
        if isinstance(m, nn.Conv2d):
            m.register_forward_pre_hook(lambda _, args: tuple(
                a.double() if torch.is_tensor(a) else a for a in args))
    return twin


_TWINS: "weakref.WeakKeyDictionary[nn.Module, tuple]" = weakref.WeakKeyDictionary()


def _fingerprint(net: nn.Module) -> tuple:
    # In-place updates (an optimizer step) bump a tensor's version: a stale twin is rebuilt.
    return tuple((p.data_ptr(), p._version) for p in net.state_dict(keep_vars=True).values())


def exact_twin(net: nn.Module) -> nn.Module:
    """The net as the decoder computes it (module docstring); made once per net and weights."""
    fp = (_fingerprint(net), _REFERENCE.get())
    hit = _TWINS.get(net)
    if hit is None or hit[0] != fp:
        twin = _reference_twin(net) if _REFERENCE.get() else _twin(net)
        hit = (fp, twin)
        _TWINS[net] = hit
    return hit[1]


# -- functions the nets call: the float op in training, its exact form under exact() -------------

def exp_exact(values) -> list[float]:
    """exp of each value (floats or Fractions), correctly rounded from 40 significant digits."""
    with localcontext() as ctx:
        ctx.prec = DECIMAL_DIGITS
        out = []
        for v in values:
            # Decimal(float) is exact: every binary64 value is a finite decimal.
            d = (Decimal(v.numerator) / Decimal(v.denominator)) if isinstance(v, Fraction) \
                else Decimal(float(v))
            out.append(float(d.exp()))
        return out


@lru_cache(maxsize=None)
def _sigmoid_table(device_type: str, device_index) -> torch.Tensor:
    n = SIGMOID_RANGE * SIGMOID_STEP
    with localcontext() as ctx:
        ctx.prec = DECIMAL_DIGITS
        vals = [float(1 / (1 + (Decimal(-i) / SIGMOID_STEP).exp())) for i in range(-n, n + 1)]
    return torch.tensor(vals, dtype=torch.float64, device=torch.device(device_type, device_index))


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Logistic sigmoid. Exact form: the table at the 1/256 grid, linear between its entries."""
    if not active():
        return torch.sigmoid(x)
    table = _sigmoid_table(x.device.type, x.device.index)
    n = SIGMOID_RANGE * SIGMOID_STEP
    u = (x.double() * SIGMOID_STEP).nan_to_num(0.0).clamp(-n, n)  # exact scaling
    i0 = torch.floor(u)
    frac = u - i0  # exact
    i0 = i0.to(torch.int64) + n
    t0 = table[i0]
    t1 = table[(i0 + 1).clamp(max=2 * n)]
    return t0 + frac * (t1 - t0)


def avg_pool2d(x: torch.Tensor, k: int) -> torch.Tensor:
    """Mean over k x k blocks (k a power of two: the division is exact)."""
    if not active():
        return F.avg_pool2d(x, k)
    if k & (k - 1):
        raise ValueError("exact pooling needs a power-of-two window")
    x_int, scale = block_round(x, ACT_BITS)
    return F.avg_pool2d(x_int, k) * scale


def channel_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean over the channel dimension, kept as (B, 1, H, W)."""
    if not active():
        return x.mean(dim=1, keepdim=True)
    x_int, scale = block_round(x, ACT_BITS)
    return (x_int.sum(dim=1, keepdim=True) * scale) / x.shape[1]


def upsample2x_bilinear(x: torch.Tensor) -> torch.Tensor:
    """2x bilinear up-sampling (align_corners=False): weights 1/4 and 3/4, exact on grid inputs."""
    if not active():
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    x_int, scale = block_round(x, ACT_BITS)
    return F.interpolate(x_int, scale_factor=2, mode="bilinear", align_corners=False) * scale
