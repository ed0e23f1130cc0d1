"""Code one frame: nets + entropy coding, one code path for the encoder and the decoder."""

import copy
import weakref
from functools import lru_cache

import numpy as np
import torch

from lvcodec.entropy import FactorizedCoder, GaussianCoder, finish, new_decoder, new_encoder
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import pack_yuv420, pad_to, unpack_yuv420

__all__ = ["frame_to_tensor", "tensor_to_frame", "IntraCoder"]


def frame_to_tensor(frame: Frame, device) -> torch.Tensor:
    """uint8 planes -> packed (1, 6, H/2, W/2) float tensor in [0, 1]."""
    t = lambda p: torch.from_numpy(np.ascontiguousarray(p)).to(device)[None, None].float() / 255.0  # noqa: E731
    return pack_yuv420(t(frame.y), t(frame.u), t(frame.v))


def tensor_to_frame(x_hat: torch.Tensor, width: int, height: int) -> Frame:
    """Packed reconstruction -> cropped uint8 planes (round half up, clamp to [0, 255])."""
    y, u, v = unpack_yuv420(x_hat[:, :, : height // 2, : width // 2])
    to8 = lambda p: (p[0, 0].clamp(0, 1) * 255 + 0.5).floor().to(torch.uint8).cpu().numpy()  # noqa: E731
    return Frame(to8(y), to8(u), to8(v))


@lru_cache(maxsize=1)
def _gaussian_coder() -> GaussianCoder:
    return GaussianCoder()  # 128 tables: built once per process, shared by every session


_Z_CODERS: "weakref.WeakKeyDictionary[IntraNet, FactorizedCoder]" = weakref.WeakKeyDictionary()


def _factorized_coder(net: IntraNet) -> FactorizedCoder:
    if net not in _Z_CODERS:
        eb = net.entropy_bottleneck
        _Z_CODERS[net] = FactorizedCoder(eb._quantized_cdf.cpu().numpy(), eb._cdf_length.cpu().numpy(),
                                         eb._offset.cpu().numpy())
    return _Z_CODERS[net]


class _ParamPath(torch.nn.Module):
    """The entropy-parameter networks (hyper synthesis + context) in float64.

    Their inputs are exact (integers, and means on the 1/16 grid), but float32 convolutions sum in
    an order that depends on the thread count and the CPU, so a mean near a rounding boundary of
    the 1/16 grid could snap differently at the two ends and desynchronise the stream. In float64
    the same differences are ~1e-16 and a flip needs a value within that of a boundary: it does
    not happen in practice. These nets run at 1/16 resolution, so the cost is small.
    """

    def __init__(self, net: IntraNet):
        super().__init__()
        self.h_s = copy.deepcopy(net.h_s).double().eval()
        self.context = copy.deepcopy(net.context).double().eval()


_PARAM_PATHS: "weakref.WeakKeyDictionary[IntraNet, _ParamPath]" = weakref.WeakKeyDictionary()


def _param_path(net: IntraNet) -> _ParamPath:
    if net not in _PARAM_PATHS:
        _PARAM_PATHS[net] = _ParamPath(net)
    return _PARAM_PATHS[net]


class IntraCoder:
    """I frames: substream 0 = hyper-latent z, substream 1 = latent y (docs/bitstream.md §4)."""

    def __init__(self, net: IntraNet):
        self.net = net
        eb = net.entropy_bottleneck
        self.medians = eb._get_medians().detach()  # (C, 1, 1)
        self.z_coder = _factorized_coder(net)
        self.y_coder = _gaussian_coder()
        self.param = _param_path(net)

    def _synthesise(self, y_hat: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        # oneDNN picks kernels by thread count, and their float sums differ in the last bit, which
        # flips a pixel's rounding now and then. PyTorch's own convolution (im2col + GEMM split
        # over outputs only) gives identical results with 1..16 threads, at ~1.5x the time of
        # synthesis: the price of a decoder that reproduces the encoder exactly.
        with torch.backends.mkldnn.flags(enabled=y_hat.device.type != "cpu"):
            return self.net.synthesise(y_hat, q)

    def _q(self, quality: int, device) -> torch.Tensor:
        return torch.tensor([float(quality)], device=device)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, quality: int):
        """x: packed frame (1, 6, h, w). Returns (substreams, x_hat packed, cropped to x)."""
        h, w = x.shape[-2:]
        q = self._q(quality, x.device)
        y, z = self.net.analyse(pad_to(x, self.net.pad_multiple), q)
        z_enc, y_enc = new_encoder(), new_encoder()
        medians = self.medians.to(z.device)
        z_sym = self.z_coder.clamp(torch.round(z - medians)[0].flatten(1).cpu().numpy())
        self.z_coder.encode(z_enc, z_sym)
        z_hat = torch.from_numpy(z_sym).to(z.device).double().view_as(z) + medians.double()
        slices = self.net.context.slices
        y = y.double()

        def code_step(k, sel, mu, idx):
            c0, c1 = slices[k]
            idx = idx.cpu().numpy()
            sym = self.y_coder.clamp(torch.round(y[:, c0:c1, sel] - mu).cpu().numpy(), idx)
            self.y_coder.encode(y_enc, sym, idx)
            return torch.from_numpy(sym).to(mu.device)

        y_hat = self.param.context.code(self.param.h_s(z_hat), code_step)
        # y_hat = integer + multiple of 1/16: exact in float32 too.
        x_hat = self._synthesise(y_hat.float(), q)[..., :h, :w]
        return [finish(z_enc), finish(y_enc)], x_hat

    @torch.no_grad()
    def decode(self, substreams: list[bytes], quality: int, shape: tuple[int, int], device):
        """Mirror of encode: shape is the packed (h, w) of the frame."""
        if len(substreams) != 2:
            raise CorruptStream(f"an I frame has 2 substreams, this one has {len(substreams)}")
        h, w = shape
        m = self.net.pad_multiple
        ph, pw = -(-h // m) * m, -(-w // m) * m
        q = self._q(quality, device)
        z_dec, y_dec = new_decoder(substreams[0]), new_decoder(substreams[1])
        zc, zh, zw = self.medians.shape[0], ph // 32, pw // 32
        z_sym = self.z_coder.decode(z_dec, zc, zh * zw)
        z_hat = (torch.from_numpy(z_sym).to(device).double().view(1, zc, zh, zw)
                 + self.medians.to(device).double())

        def code_step(k, sel, mu, idx):
            sym = self.y_coder.decode(y_dec, idx.cpu().numpy()).reshape(tuple(mu.shape))
            return torch.from_numpy(sym).to(mu.device)

        y_hat = self.param.context.code(self.param.h_s(z_hat), code_step)
        return self._synthesise(y_hat.float(), q)[..., :h, :w]
