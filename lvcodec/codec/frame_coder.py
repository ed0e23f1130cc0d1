"""Code one frame: nets + entropy coding, one code path for the encoder and the decoder.

Every latent (intra y, motion, inter y) is a `LatentCoder`: a hyper-latent z under the factorized
prior and a latent y under Gaussians whose parameters come from the hyperprior, an optional
further prior (the temporal prior of P frames) and the group-checkerboard context.

Everything the decoder computes (entropy parameters, synthesis, motion compensation, reference
features, enhancement) runs on the nets' exact twins under `numerics.exact()`, at both ends: the
encoder's reconstruction is the decoder's, bit for bit, on any machine (docs/bitstream.md §9).
The encoder's own analysis (motion estimation, analysis transforms, refinement) uses the float
nets: it only chooses which integers to send.
"""

from dataclasses import dataclass, field
from functools import cache, lru_cache

import torch

from lvcodec.codec.refine import Refinement, refine_latents
from lvcodec.entropy import (
    FactorizedCoder, GaussianCoder, decode_block_map, encode_block_map, finish, new_decoder,
    new_encoder,
)
from lvcodec.errors import CorruptStream
from lvcodec.io import Frame
from lvcodec.nets.bi import BiNet
from lvcodec.nets.enhance import ENHANCE_MULTIPLE, EnhanceNet
from lvcodec.nets.inter import InterNet
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.layers import pack_yuv420, pad_to, unpack_yuv420
from lvcodec.nets.numerics import exact, exact_twin
from lvcodec.nets.resample import half_picture, half_size
from lvcodec.rd import PACKED_YUV_WEIGHTS, lambda_for, yuv_mse

__all__ = ["frame_to_tensor", "tensor_to_frame", "Reference", "picture_reference", "LatentCoder", "EncodeChannel",
           "DecodeChannel", "IntraCoder", "InterCoder", "BiCoder", "HalfScaleCoder",
           "prediction_flags", "show_prediction"]

PAD = 32  # packed-frame sides are padded to this (hyper-latents at 1/32 of the packed frame)
BLOCK = 8  # block-prediction map: one flag per 8x8 of the packed frame (16x16 luma, §4.6)


def frame_to_tensor(frame: Frame, device) -> torch.Tensor:
    """uint8 planes -> packed (1, 6, H/2, W/2) float tensor in [0, 1]."""
    t = lambda p: torch.tensor(p, device=device)[None, None].float() / 255.0  # noqa: E731  (copies)
    return pack_yuv420(t(frame.y), t(frame.u), t(frame.v))


def tensor_to_frame(x_hat: torch.Tensor, width: int, height: int) -> Frame:
    """Packed reconstruction -> cropped uint8 planes (round half up, clamp to [0, 255])."""
    y, u, v = unpack_yuv420(x_hat[:, :, : height // 2, : width // 2])
    to8 = lambda p: (p[0, 0].clamp(0, 1) * 255 + 0.5).floor().to(torch.uint8).cpu().numpy()  # noqa: E731
    return Frame(to8(y), to8(u), to8(v))


@dataclass
class Reference:
    """A decoded picture as later frames use it: the padded packed picture and its features."""

    x: torch.Tensor  # (1, 6, ph, pw), clamped to [0, 1], binary32
    feat: torch.Tensor | None = None  # propagated decoder features (None for intra pictures)
    # Features of an intra picture, made by each inter net that references it (P and B nets have
    # their own feature extractors), once.
    own_feats: dict = field(default_factory=dict)
    half: "Reference | None" = None  # the picture at half scale, once a half-scale frame needs it


@lru_cache(maxsize=1)
def _gaussian_coder() -> GaussianCoder:
    return GaussianCoder()  # 128 tables: built once per process, shared by every session


def _z_coder(eb) -> FactorizedCoder:
    """The hyper-latent's tables (integer CDFs stored with the model), once per net."""
    if "_lvc_z_coder" not in eb.__dict__:
        eb._lvc_z_coder = FactorizedCoder(eb._quantized_cdf.cpu().numpy(),
                                          eb._cdf_length.cpu().numpy(), eb._offset.cpu().numpy())
    return eb._lvc_z_coder


class LatentCoder:
    """y and z of one hyperprior autoencoder. `part`: an exact twin (or a part of one) with
    h_s, context and entropy_bottleneck (and, for B frames, the prior alignment `align`).

    Two substreams: z, then y. Latents sit at 1/8 of the padded packed frame, z at 1/32.
    """

    def __init__(self, part):
        self.part = part
        self.z_coder = _z_coder(part.entropy_bottleneck)
        self.medians = part.entropy_bottleneck._get_medians().detach().double()
        self.y_coder = _gaussian_coder()

    def _prior(self, z_hat, extra):
        prior = self.part.h_s(z_hat)
        if extra is None:
            return prior
        extra = extra.double()
        align = getattr(self.part, "align", None)
        if align is not None:
            extra = align(prior, extra)
        return torch.cat([prior, extra], dim=1)

    def encode(self, y: torch.Tensor, z: torch.Tensor, extra: torch.Tensor | None = None,
               y_ref: torch.Tensor | None = None, zero: torch.Tensor | None = None):
        """Returns ([z bytes, y bytes], y_hat: integers + multiples of 1/16, binary64).

        extra: a further prior concatenated to the hyperprior's features; y_ref: a prediction of
        y (the context model's latent prior). Both are decoder-side values. zero: an (h, w)
        mask of latent positions whose symbols are sent as 0 (y_hat at its mean) whatever y is."""
        z_enc, y_enc = new_encoder(), new_encoder()
        medians = self.medians.to(z.device)
        z_sym = self.z_coder.clamp(torch.round(z.double() - medians)[0].flatten(1).cpu().numpy())
        self.z_coder.encode(z_enc, z_sym)
        z_hat = torch.from_numpy(z_sym).to(z.device).double().view_as(z) + medians
        slices = self.part.context.slices
        y = y.double()

        def code_step(k, sel, mu, idx):
            c0, c1 = slices[k]
            idx = idx.cpu().numpy()
            sym = self.y_coder.clamp(torch.round(y[:, c0:c1, sel] - mu).cpu().numpy(), idx)
            if zero is not None:
                sym[..., zero[sel].cpu().numpy()] = 0
            self.y_coder.encode(y_enc, sym, idx)
            return torch.from_numpy(sym).to(mu.device)

        with exact():
            y_hat = self.part.context.code(self._prior(z_hat, extra), code_step, _double(y_ref))
        return [finish(z_enc), finish(y_enc)], y_hat

    def decode(self, substreams: list[bytes], padded: tuple[int, int], device,
               extra: torch.Tensor | None = None, y_ref: torch.Tensor | None = None) -> torch.Tensor:
        """Mirror of encode; `padded` is the padded packed (h, w)."""
        z_dec, y_dec = new_decoder(substreams[0]), new_decoder(substreams[1])
        medians = self.medians.to(device)
        zc, zh, zw = medians.shape[0], padded[0] // 32, padded[1] // 32
        z_sym = self.z_coder.decode(z_dec, zc, zh * zw)
        z_hat = torch.from_numpy(z_sym).to(device).double().view(1, zc, zh, zw) + medians

        def code_step(k, sel, mu, idx):
            sym = self.y_coder.decode(y_dec, idx.cpu().numpy()).reshape(tuple(mu.shape))
            return torch.from_numpy(sym).to(mu.device)

        with exact():
            return self.part.context.code(self._prior(z_hat, extra), code_step, _double(y_ref))


def _double(t):
    return None if t is None else t.double()


def _q(quality: int, device) -> torch.Tensor:
    return torch.tensor([float(quality)], device=device)


def _padded(shape) -> tuple[int, int]:
    h, w = shape
    return -(-h // PAD) * PAD, -(-w // PAD) * PAD


def _f32(t):
    """A decoder-side value as the encoder's float nets take it."""
    if t is None:
        return None
    if isinstance(t, (list, tuple)):
        return [_f32(v) for v in t]
    return t.float()


def _reference(x_hat: torch.Tensor, shape) -> Reference:
    """The cropped reconstruction, clamped, rounded to binary32 and re-padded, at both ends."""
    h, w = shape
    return Reference(pad_to(x_hat[..., :h, :w].clamp(0, 1).float(), PAD))


def picture_reference(frame: Frame, ref: Reference | None, device) -> Reference:
    """The Reference of a frame whose picture is not the nets' (a residual layer was added): the
    8-bit picture, packed and padded, with the nets' recurrent features (a motion-only frame, `ref`
    None, has none: later frames take features of its picture, as of an intra picture). Both
    ends."""
    return Reference(pad_to(frame_to_tensor(frame, device), PAD),
                     feat=None if ref is None else ref.feat)


def _output(x_hat: torch.Tensor, shape) -> tuple[torch.Tensor, Reference]:
    """(the cropped picture, its Reference) from a decoder-side reconstruction."""
    return x_hat[..., : shape[0], : shape[1]].float(), _reference(x_hat, shape)


class EncodeChannel:
    """The encoder's end of a frame: each latent is analysed (and refined), then written."""

    def __init__(self, device):
        self.device, self.substreams = device, []

    def latent(self, coder: LatentCoder, analyse, shape, extra=None, y_ref=None,
               zero=None) -> torch.Tensor:
        """analyse() -> (y, z), called here only; returns y_hat as the decoder will have it.
        shape: the packed (h, w) of the frame coded (the decoder sizes the latents from it);
        zero: latent positions sent at their means (LatentCoder.encode)."""
        streams, y_hat = coder.encode(*analyse(), extra=extra, y_ref=y_ref, zero=zero)
        self.substreams += streams
        return y_hat

    def block_map(self, x, x_hat, pred, shape) -> torch.Tensor:
        """Flags the blocks where the prediction is closer to the source than the synthesis
        (the latents are coded already, so this only lowers distortion), writes them."""
        flags = prediction_flags(x, x_hat, pred, shape)[0].cpu().numpy()
        self.substreams.append(encode_block_map(flags))
        return torch.from_numpy(flags)

    def _trial(self, run):
        """run() codes something into this channel; returns (its result, the substreams it
        wrote), the channel as it was before."""
        start = len(self.substreams)
        out = run()
        streams = self.substreams[start:]
        del self.substreams[start:]
        return out, streams

    def picture(self, coder: LatentCoder, analyse, synthesis, pred, shape, *, x, cost,
                extra=None, y_ref=None):
        """The frame latent, its synthesis and the block-prediction map -> (x_hat, features).

        The latent is coded twice: as analysed, and with the symbols of the blocks that coding
        flagged at zero (y_hat at its mean, which the latent of the prediction informs: the
        fewest bits, for blocks that will show the prediction anyway). Of these two, each with
        its map, and the first with no block flagged, the lowest cost(picture, substreams) is
        kept (cost None: no λ to weigh them by, the first is kept)."""
        analysed = analyse()  # both codings send the same analysis

        def attempt(zero=None):
            def run():
                x_hat, feat = synthesis(self.latent(coder, lambda: analysed, shape, extra=extra,
                                                    y_ref=y_ref, zero=zero))
                return x_hat, feat, self.block_map(x, x_hat, pred, shape)
            (x_hat, feat, flags), streams = self._trial(run)
            return (show_prediction(x_hat, pred, flags), feat, streams), x_hat, flags

        first, x_hat, flags = attempt()
        chosen, best = first, cost(first[0], first[2])
        if best is not None and flags.any():
            unflagged = (x_hat, first[1], first[2][:-1] + [_empty_map(shape)])
            for option in (unflagged, attempt(_latent_mask(flags, shape))[0]):
                c = cost(option[0], option[2])
                if c < best:
                    chosen, best = option, c
        shown, feat, streams = chosen
        self.substreams += streams
        return shown, feat

    def choose(self, options: list, run, cost):
        """Codes the frame once per option, run(option) -> (x_hat, …), and keeps the coding of
        the lowest cost(x_hat, substreams) (cost None: the first)."""
        if len(options) == 1:
            return run(options[0])
        best = None
        for option in options:
            out, streams = self._trial(lambda: run(option))
            c = cost(out[0], streams)
            if best is None or (c is not None and c < best[0]):
                best = (c, out, streams)
        self.substreams += best[2]
        return best[1]


class DecodeChannel:
    """The decoder's end: each latent is read from the frame's next two substreams, the
    block-prediction map from the next one."""

    def __init__(self, substreams: list[bytes], expected: int, what: str, device):
        if len(substreams) != expected:
            raise CorruptStream(f"{what} has {expected} substreams, this one has {len(substreams)}")
        self.device, self.pending = device, list(substreams)

    def latent(self, coder: LatentCoder, analyse, shape, extra=None, y_ref=None) -> torch.Tensor:
        streams, self.pending = self.pending[:2], self.pending[2:]
        return coder.decode(streams, _padded(shape), self.device, extra=extra, y_ref=y_ref)

    def block_map(self, x, x_hat, pred, shape) -> torch.Tensor:
        data, self.pending = self.pending[0], self.pending[1:]
        return torch.from_numpy(decode_block_map(data, *_blocks(shape)))

    def picture(self, coder: LatentCoder, analyse, synthesis, pred, shape, *, x, cost,
                extra=None, y_ref=None):
        """Mirror of EncodeChannel.picture: the latent, its synthesis, the map read and shown."""
        x_hat, feat = synthesis(self.latent(coder, analyse, shape, extra=extra, y_ref=y_ref))
        return show_prediction(x_hat, pred, self.block_map(x, x_hat, pred, shape)), feat

    def choose(self, options: list, run, cost):
        """The stream holds the coding the encoder chose; the option only analyses."""
        return run(options[0])


def _blocks(shape) -> tuple[int, int]:
    return -(-shape[0] // BLOCK), -(-shape[1] // BLOCK)


def prediction_flags(x: torch.Tensor, x_hat: torch.Tensor, pred: torch.Tensor,
                     shape) -> torch.Tensor:
    """(B, rows, cols): whether each block's prediction is closer to the source x than the
    synthesis x_hat (6:1:1-weighted squared error of the clamped pictures, summed in binary64
    over the block). shape: the packed (h, w) of x; x_hat and pred may be padded beyond it."""
    h, w = shape
    with torch.no_grad():
        weights = torch.tensor(PACKED_YUV_WEIGHTS, dtype=torch.float64,
                               device=x.device).view(1, -1, 1, 1)

        def block_error(picture):
            err = ((picture[..., :h, :w].clamp(0, 1).double() - x.double()) ** 2 * weights).sum(1)
            err = torch.nn.functional.pad(err, (0, -w % BLOCK, 0, -h % BLOCK))
            return err.view(-1, err.shape[-2] // BLOCK, BLOCK, err.shape[-1] // BLOCK, BLOCK).sum((2, 4))

        return block_error(pred) < block_error(x_hat)


def show_prediction(x_hat: torch.Tensor, pred: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
    """x_hat with the flagged blocks replaced by the prediction's samples (a selection: exact).
    flags: (rows, cols), or (B, rows, cols) per picture."""
    full = flags.repeat_interleave(BLOCK, -2).repeat_interleave(BLOCK, -1).to(x_hat.device)
    ph, pw = x_hat.shape[-2:]
    full = torch.nn.functional.pad(full[..., :ph, :pw], (0, max(0, pw - full.shape[-1]),
                                                         0, max(0, ph - full.shape[-2])))
    return torch.where(full.unsqueeze(-3), pred.to(x_hat.dtype), x_hat)


class _Effort:
    """The encoder's latent refinement (codec/refine.py); the decoder never refines."""

    def __init__(self, refinement: Refinement | None, lambda_range):
        self.refinement, self.lambda_range = refinement or Refinement(), lambda_range
        if self.refinement.steps > 0 and lambda_range is None:
            raise ValueError("latent refinement needs the model's lambda range")

    def motions(self, **flows) -> list:
        """Of flows (each motion's name -> a function making it), the ones each P/B frame is
        coded with (Refinement.motion)."""
        return [flows[m] for m in self.refinement.motion]

    def cost(self, x_hat, x, substreams, quality: int, shape) -> float | None:
        """Bits per pixel of `substreams` + λ(q) · MSE-YUV (6:1:1, 8-bit scale) of the packed
        picture x_hat against x, as the session weighs frames; None without a λ range."""
        if self.lambda_range is None:
            return None
        h, w = shape
        mse = float(yuv_mse(x_hat[..., :h, :w].clamp(0, 1).double(), x.double())) * 255 ** 2
        bits = 8 * sum(len(s) for s in substreams)
        return bits / (4 * h * w) + lambda_for(quality, self.lambda_range) * mse

    def refine(self, part, y, z, xp, shape, quality: int, prior_fn, synth, y_ref=None):
        """part, prior_fn, synth: the float nets (decoder-side inputs passed through _f32)."""
        if self.refinement.steps <= 0:
            return y, z
        return refine_latents(y, z, x=xp, part=part, prior_fn=prior_fn, synth=synth,
                              lam=lambda_for(quality, self.lambda_range), shape=shape,
                              refinement=self.refinement, y_ref=_f32(y_ref))


class _FrameCoder:
    """Each frame type is written once, as `code(channel, x, …)`: the encoder runs it with an
    EncodeChannel and the source x, the decoder with a DecodeChannel and x = None. Whatever runs
    after a latent is decoded runs at both ends on the exact twin `dec` under exact(), so the
    encoder's picture is the decoder's, bit for bit; `net` (float) only analyses. encode() ->
    (substreams, x_hat, Reference); decode() -> (x_hat, Reference); x_hat cropped to the packed
    frame, binary32."""

    SUBSTREAMS = 0
    WHAT = ""

    def __init__(self, net, refinement: Refinement | None = None, lambda_range=None):
        self.net = net
        self.dec = exact_twin(net)
        self.effort = _Effort(refinement, lambda_range)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, *args):
        """x: packed frame (1, 6, h, w); args: the references (if any), then the quality."""
        ch = EncodeChannel(x.device)
        out = self.code(ch, x, *args, shape=tuple(x.shape[-2:]))
        return (ch.substreams, *out[:2])

    @torch.no_grad()
    def decode(self, substreams: list[bytes], *args):
        """args: the references (if any), the quality, the packed (h, w), the device."""
        *args, shape, device = args
        ch = DecodeChannel(substreams, self.SUBSTREAMS, self.WHAT, device)
        return self.code(ch, None, *args, shape=tuple(shape))[:2]


class IntraCoder(_FrameCoder):
    """I frames: substream 0 = hyper-latent z, substream 1 = latent y (docs/bitstream.md §4)."""

    SUBSTREAMS, WHAT = 2, "an I frame"

    def __init__(self, net: IntraNet, refinement: Refinement | None = None, lambda_range=None):
        super().__init__(net, refinement, lambda_range)
        self.latent = LatentCoder(self.dec)

    def code(self, ch, x, quality: int, shape):
        q = _q(quality, ch.device)

        def analyse():
            xp = pad_to(x, PAD)
            y, z = self.net.analyse(xp, q)
            return self.effort.refine(self.net, y, z, xp, shape, quality, self.net.h_s,
                                      lambda y_hat: self.net.synthesise(y_hat, q))

        y_hat = ch.latent(self.latent, analyse, shape)
        with exact():
            return _output(self.dec.synthesise(y_hat, q), shape)


class _ContextualCoder(_FrameCoder):
    """What P and B frames share: reference features and the reconstruction they pass on."""

    def _features(self, ref: Reference) -> torch.Tensor:
        if ref.feat is not None:
            return ref.feat
        if id(self.dec) not in ref.own_feats:  # an intra picture: features of its picture
            ref.own_feats[id(self.dec)] = self.dec.ref_features(ref.x)
        return ref.own_feats[id(self.dec)]

    def _picture(self, ch, x, xp, contexts, q, quality, shape, prior_fn, extra, y_ref, pred):
        """The frame latent (after its motion), the synthesis and the block-prediction map ->
        (x_hat, Reference), through the channel (EncodeChannel.picture chooses, the decoder's
        reads). prior_fn works on the float nets (refinement); contexts, extra, y_ref and pred
        are decoder-side."""
        def analyse():
            ctx, pred32 = _f32(contexts), _f32(pred)
            y, z = self.net.analyse(xp, ctx, q)
            return self.effort.refine(self.net, y, z, xp, shape, quality, prior_fn,
                                      lambda y_hat: self.net.synthesise(y_hat, ctx, q, pred32)[0],
                                      y_ref=y_ref)

        def synthesis(y_hat):
            with exact():
                return self.dec.synthesise(y_hat, contexts, q, pred)

        x_hat, feat = ch.picture(self.latent, analyse, synthesis, pred, shape, x=x,
                                 cost=self._cost(x, quality, shape), extra=extra, y_ref=y_ref)
        return self._reference(x_hat, feat, shape)

    def _cost(self, x, quality, shape):
        """cost(x_hat, substreams) of a coding of x, for the channel's choices."""
        return lambda x_hat, streams: self.effort.cost(x_hat, x, streams, quality, shape)

    @staticmethod
    def _reference(x_hat, feat, shape):
        x_hat, ref = _output(x_hat, shape)
        ref.feat = feat  # frame-recurrent: the next frame's reference feature
        return x_hat, ref


def _empty_map(shape) -> bytes:
    return encode_block_map(torch.zeros(_blocks(shape), dtype=torch.bool).numpy())


def _latent_mask(flags: torch.Tensor, shape) -> torch.Tensor:
    """Block flags (one per 8x8 of the packed frame) on the latent grid: 1/8 of the padded packed
    frame, the same positions (the padding's unflagged)."""
    lh, lw = (side // BLOCK for side in _padded(shape))
    return torch.nn.functional.pad(flags, (0, lw - flags.shape[1], 0, lh - flags.shape[0]))


class InterCoder(_ContextualCoder):
    """P frames: substreams motion z, motion y, z, y, block-prediction map (docs/bitstream.md §4).

    The motion is estimated and analysed in the encoder only; everything after the motion
    latents are decoded (motion synthesis, temporal contexts and prior, frame synthesis) is
    computed by both ends from the same decoded values, under exact().
    """

    SUBSTREAMS, WHAT = 5, "a P frame"

    def __init__(self, net: InterNet, refinement: Refinement | None = None, lambda_range=None):
        super().__init__(net, refinement, lambda_range)
        self.motion = LatentCoder(self.dec.motion)
        self.latent = LatentCoder(self.dec)

    def _contexts(self, motion_hat, ref: Reference, q):
        """Temporal contexts, temporal prior, the prediction and its latent from the decoded
        motion."""
        flow_hat = self.dec.motion.synthesise(motion_hat, q)
        contexts = self.dec.contexts(self._features(ref), flow_hat)
        pred = self.dec.prediction(ref.x, flow_hat)
        y_ref = self.dec.latent_of(pred, contexts, q)
        return contexts, self.dec.temporal_prior(contexts), pred, y_ref

    def code(self, ch, x, ref: Reference, quality: int, shape):
        q = _q(quality, ch.device)
        xp = None if x is None else pad_to(x, PAD)

        def with_motion(flow):
            motion_hat = ch.latent(self.motion, lambda: self.net.motion.analyse(flow(), q), shape)
            with exact():
                contexts, prior, pred, y_ref = self._contexts(motion_hat, ref, q)
            return self._picture(ch, x, xp, contexts, q, quality, shape,
                                 lambda z_hat: torch.cat([self.net.h_s(z_hat), _f32(prior)], 1),
                                 prior, y_ref, pred)

        flows = self.effort.motions(net=lambda: self.net.estimator(xp, ref.x),
                                    zero=lambda: xp.new_zeros(1, 2, *xp.shape[-2:]))
        return ch.choose(flows, with_motion, self._cost(x, quality, shape))


class BiCoder(_ContextualCoder):
    """B frames: substreams motion-0 z, y; motion-1 z, y; z, y; block-prediction map
    (docs/bitstream.md §4).

    Motion branch 0 (to the past reference) is coded first; branch 1 (to the future one) is coded
    with branch 0's decoded latent as a further prior. As for P frames, everything after the
    motion latents is computed by both ends from decoded values, under exact().
    `code()` also returns the decoded motion (flows to both references), which the half-scale
    coder's enhancement uses.
    """

    SUBSTREAMS, WHAT = 7, "a B frame"

    def __init__(self, net: BiNet, refinement: Refinement | None = None, lambda_range=None):
        super().__init__(net, refinement, lambda_range)
        self.motion = [LatentCoder(b) for b in self.dec.motion.branches]
        self.latent = LatentCoder(self.dec)

    def _prediction(self, motion_hats, refs, q):
        """Fused contexts, the two temporal priors, the fused prediction and its latent."""
        flows_hat = self.dec.motion.synthesise(motion_hats, q)
        contexts, priors, w0 = self.dec.bi_contexts([self._features(r) for r in refs], flows_hat)
        pred = self.dec.bi_prediction([r.x for r in refs], flows_hat, w0)
        y_ref = self.dec.latent_of(pred, contexts, q)
        return contexts, priors, pred, y_ref, flows_hat

    def _prior(self, z_hat, priors):
        """The entropy model's prior on the float nets (the encoder's refinement)."""
        hyper = self.net.h_s(z_hat)
        return torch.cat([hyper, self.net.align(hyper, _f32(priors))], dim=1)

    def code(self, ch, x, refs: tuple, quality: int, shape):
        q = _q(quality, ch.device)
        xp = None if x is None else pad_to(x, PAD)

        def with_motion(flows):
            analysed = cache(lambda: self.net.motion.analyse(flows(), q))  # both branches, once
            m0 = ch.latent(self.motion[0], lambda: (analysed()[0][0], analysed()[1][0]), shape)
            m1 = ch.latent(self.motion[1], lambda: (analysed()[0][1], analysed()[1][1]), shape,
                           extra=m0)
            with exact():
                contexts, priors, pred, y_ref, flows_hat = self._prediction([m0, m1], refs, q)
            return (*self._picture(ch, x, xp, contexts, q, quality, shape,
                                   lambda z_hat: self._prior(z_hat, priors), priors, y_ref, pred),
                    flows_hat)

        flows = self.effort.motions(net=lambda: [self.net.estimator(xp, r.x) for r in refs],
                                    zero=lambda: [xp.new_zeros(1, 2, *xp.shape[-2:])] * len(refs))
        return ch.choose(flows, with_motion, self._cost(x, quality, shape))


def half_reference(ref: Reference, shape: tuple[int, int]) -> Reference:
    """A full-resolution decoded picture at half scale, as half-scale B frames reference it: the
    anti-aliased down-sample on the 8-bit grid (what a down-sampled source looks like), made once
    per picture by both ends. shape: the picture's packed (h, w)."""
    if ref.half is None:
        hh, hw = half_size(*shape)
        ref.half = Reference(pad_to(half_picture(ref.x[..., : 2 * hh, : 2 * hw]), PAD))
    return ref.half


class HalfScaleCoder(_FrameCoder):
    """B frames at half scale (scale_log2 = 1, docs/bitstream.md §4.4): the B-frame coder on the
    down-sampled frame and references, then the enhancement net back to full resolution.

    The enhanced picture is what later frames reference and what the decoder outputs, so both
    ends run the net's exact twin. `prev` is the recurrent state: the last enhanced
    picture of the GOP (None after an anchor).
    """

    SUBSTREAMS, WHAT = BiCoder.SUBSTREAMS, BiCoder.WHAT

    def __init__(self, bi: BiCoder, net: EnhanceNet):
        super().__init__(net)
        self.bi = bi

    @staticmethod
    def half_source(x: torch.Tensor) -> torch.Tensor:
        """The encoder's half-scale frame: the source down-sampled, on the 8-bit grid."""
        return half_picture(pad_to(x, 2))

    def enhance(self, half_hat, flows_hat, refs: tuple, prev, shape) -> tuple:
        """Decoded half-scale frame -> (full-resolution picture, its Reference). The net works on
        the frame padded to its grid: half-scale inputs to a multiple of ENHANCE_MULTIPLE / 2,
        full-resolution ones (padded to PAD already) cropped to twice that."""
        half = pad_to(half_hat, ENHANCE_MULTIPLE // 2)
        gh, gw = 2 * half.shape[-2], 2 * half.shape[-1]
        flows = [f[..., : half.shape[-2], : half.shape[-1]] for f in flows_hat]
        x_hat = self.dec.restore(half, flows, [r.x[..., :gh, :gw] for r in refs],
                                 None if prev is None else prev.x[..., :gh, :gw])
        return _output(x_hat, shape)

    def code(self, ch, x, refs: tuple, quality: int, prev: Reference | None, shape):
        half_refs = tuple(half_reference(r, shape) for r in refs)
        half_hat, _, flows = self.bi.code(ch, None if x is None else self.half_source(x),
                                          half_refs, quality, half_size(*shape))
        with exact():
            return self.enhance(half_hat, flows, refs, prev, shape)
