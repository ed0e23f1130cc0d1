"""The sequence stages of training, declared once each (DESIGN §7).

`inter` trains the P-frame net on `frames`-long sequences of co-located patches: the first frame
is coded by the (frozen) intra net, the others as P frames, each referencing the previous decoded
frame and its propagated features (frames=2: pairs; 4-7 cascade the P frames, so that the net
learns to resist error propagation). `bi` trains the B-frame net on hierarchical GOPs of
`frames` = 2^k + 1: both ends intra-coded, the frames between coded as the encoder's hierarchy
does (the middle first, from both ends; the quality index drops by layer as in the encoder).
`enhance` trains the enhancement net on the same GOPs with every B frame coded at half scale and
restored to full resolution; the B net stays frozen, or trains with it (`joint`).

Each `Stage` says which net it trains, what it needs from the model it starts from, which nets
it codes with (frozen), how one step codes a sequence (its cascade module) and what the model
card records. The trainer, the step benchmark, `lvc train-all` and the exporter read these
declarations instead of branching on a stage's name.
"""

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn

from lvcodec.codec.frame_coder import prediction_flags, show_prediction
from lvcodec.codec.gop import hierarchy, layer_quality
from lvcodec.nets.bi import BiNet
from lvcodec.nets.enhance import EnhanceNet
from lvcodec.nets.inter import InterNet
from lvcodec.nets.intra import IntraNet
from lvcodec.nets.motion import warp
from lvcodec.nets.resample import downsample2, half_picture, to_8bit
from lvcodec.rd import LAMBDA_RANGE, lambda_for, yuv_mse
from lvcodec.train import BLOCK_MAP_STAGES, STAGE_NAMES
from lvcodec.train.loss import rd_loss
from lvcodec.train.teacher import dis_flow

__all__ = ["CodecNets", "Stage", "STAGES", "STAGE_NAMES", "motion_warp_weight"]


class CodecNets(nn.Module):
    """Intra + inter (+ bi) nets in one module: its state dict has the model file's layout."""

    def __init__(self, intra: IntraNet, inter: InterNet, bi: BiNet | None = None,
                 enhance: EnhanceNet | None = None):
        super().__init__()
        self.intra, self.inter, self.bi, self.enhance = intra, inter, bi, enhance

    @classmethod
    def from_config(cls, config: dict) -> "CodecNets":
        bi = BiNet(**config["bi"]) if "bi" in config else None
        enhance = EnhanceNet(**config["enhance"]) if "enhance" in config else None
        return cls(IntraNet(**config["intra"]), InterNet(**config["inter"]), bi, enhance)

    def config(self) -> dict:
        return {k: n.config for k, n in (("intra", self.intra), ("inter", self.inter),
                                         ("bi", self.bi), ("enhance", self.enhance))
                if n is not None}


def motion_warp_weight(step: int, warmup) -> float:
    """The warp term's weight at `step` of a warm-up (first step, steps): 1 falling to 0."""
    start, steps = warmup
    return max(0.0, 1.0 - (step - start) / steps) if steps and step >= start else 0.0


class _Cascade(nn.Module):
    """A sequence's P frames after its intra-coded first frame; returns the mean RD loss terms.

    A module so that DistributedDataParallel wraps the whole cascade (one all-reduce per step).
    During a motion warm-up the loss also has a warp term, as in DVC: the reference warped by the
    *decoded* motion should match the frame. End to end, motion earns its bits only through the
    contexts, weakly at first; without this term the motion coder can learn to send nothing (the
    shipped model did, at step ~2500: flow estimated, every motion latent rounded to zero). The
    term's weight falls from 1 to 0 over `warmup = (first step, steps)`. With `block_map`, each
    frame is scored (and referenced) as the codec shows it, through the block-prediction map.
    """

    def __init__(self, nets: CodecNets, warmup=(0, 3000), lambda_range=LAMBDA_RANGE,
                 block_map: bool = False):
        super().__init__()
        self.nets, self.warmup, self.lambda_range = nets, tuple(warmup), tuple(lambda_range)
        self.block_map = block_map

    def forward(self, seq: torch.Tensor, q: torch.Tensor, step: int) -> dict:
        intra, inter = self.nets.intra, self.nets.inter
        with torch.no_grad():
            ref_x = intra(seq[:, 0], q)["x_hat"].float().clamp(0, 1)
        ref_feat = inter.ref_features(ref_x)
        warp_weight = motion_warp_weight(step, self.warmup)
        terms = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "mse": 0.0, "bpp_motion": 0.0}
        n = seq.shape[1] - 1
        for t in range(1, seq.shape[1]):
            x = seq[:, t]
            out = _shown(inter(x, ref_x, ref_feat, q), x, self.block_map)
            rd = rd_loss(out, x, q, self.lambda_range)
            loss = rd["loss"]
            if warp_weight > 0:
                lam = lambda_for(q, self.lambda_range)
                loss = loss + warp_weight * (lam * 255 ** 2 * yuv_mse(out["warped"].float(), x)).mean()
            for k in terms:
                terms[k] = terms[k] + (loss if k == "loss" else rd[k]) / n
            ref_x, ref_feat = out["x_hat"].float().clamp(0, 1), out["feat"]
        return terms


class _BiCascade(nn.Module):
    """A hierarchical GOP: both ends intra-coded, then the B frames between them in the encoder's
    coding order, each from its two decoded references (gradients flow through the B frames that
    later ones reference). Returns the mean RD loss terms over the B frames. With `block_map`,
    each B frame is scored (and referenced) as the codec shows it, through the block map."""

    def __init__(self, nets: CodecNets, lambda_range=LAMBDA_RANGE, block_map: bool = False):
        super().__init__()
        self.nets, self.lambda_range, self.block_map = nets, tuple(lambda_range), block_map

    def forward(self, seq: torch.Tensor, q: torch.Tensor, step: int) -> dict:
        intra, bi = self.nets.intra, self.nets.bi
        last = seq.shape[1] - 1
        decoded = {}
        for i in (0, last):
            with torch.no_grad():
                x_hat = intra(seq[:, i], q)["x_hat"].float().clamp(0, 1)
            decoded[i] = (x_hat, bi.ref_features(x_hat))
        frames = list(hierarchy(0, last))
        terms = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "mse": 0.0, "bpp_motion": 0.0}
        for m, a, b, layer in frames:
            x = seq[:, m]
            qm = torch.tensor([float(layer_quality(int(v), layer)) for v in q], device=q.device)
            out = _shown(bi(x, (decoded[a][0], decoded[b][0]), (decoded[a][1], decoded[b][1]), qm),
                         x, self.block_map)
            rd = rd_loss(out, x, qm, self.lambda_range)
            for k in terms:
                terms[k] = terms[k] + rd[k] / len(frames)
            decoded[m] = (out["x_hat"].float().clamp(0, 1), out["feat"])
        return terms


def _estimators(nets: CodecNets) -> list:
    """The motion estimators the motion stage trains: the P net's, and the B net's if any."""
    return [net.estimator for net in (nets.inter, nets.bi) if net is not None]


class _FlowCascade(nn.Module):
    """Frame pairs: each estimator's flow from the frame to its intra-decoded reference against
    DIS's flow between the originals, as the mean end-point error in packed-frame pixels. Logs
    the warp PSNR-YUV of the reference by the estimated flow in place of a coded picture's."""

    def __init__(self, nets: CodecNets):
        super().__init__()
        self.nets = nets

    def forward(self, seq: torch.Tensor, q: torch.Tensor, step: int) -> dict:
        x, ref = seq[:, 1], seq[:, 0]
        with torch.no_grad():
            ref_hat = self.nets.intra(ref, q)["x_hat"].float().clamp(0, 1)
            target = dis_flow(x, ref)
        estimators = _estimators(self.nets)
        loss, mse = 0.0, 0.0
        for est in estimators:
            flow = est(x, ref_hat).float()
            loss = loss + ((flow - target).square().sum(dim=1) + 1e-6).sqrt().mean() / len(estimators)
            with torch.no_grad():
                mse = mse + yuv_mse(warp(ref_hat, flow.detach()), x) / len(estimators)
        zero = x.new_zeros(())
        return {"loss": loss, "bpp": zero, "mse": mse.mean(),
                "psnr": (-10 * torch.log10(mse.clamp_min(1e-10))).mean()}


def _shown(out: dict, x: torch.Tensor, block_map: bool) -> dict:
    """out with x_hat as the codec shows it (block_map: the prediction in the blocks the
    encoder's map would flag). The choice carries no gradient; each block carries the gradient
    of the picture shown there, so the synthesis is not pulled towards blocks the prediction
    wins anyway, and the rate term learns that their latents can go."""
    if not block_map:
        return out
    flags = prediction_flags(x, out["x_hat"], out["warped"], x.shape[-2:])
    return {**out, "x_hat": show_prediction(out["x_hat"], out["warped"], flags)}


def _to_8bit_ste(x: torch.Tensor) -> torch.Tensor:
    """The codec's 8-bit rounding of half-scale pictures, with an identity gradient."""
    return (to_8bit(x) - x).detach() + x


class _EnhanceCascade(nn.Module):
    """A hierarchical GOP as _BiCascade, every B frame at half scale: the B net codes the
    down-sampled frame from the down-sampled references, the enhancement net restores it from the
    full-resolution references and the previous enhanced frame. Returns the mean RD loss terms
    (bits per full-resolution pixel) over the B frames."""

    def __init__(self, nets: CodecNets, lambda_range=LAMBDA_RANGE):
        super().__init__()
        self.nets, self.lambda_range = nets, tuple(lambda_range)

    def forward(self, seq: torch.Tensor, q: torch.Tensor, step: int) -> dict:
        intra, bi, enhance = self.nets.intra, self.nets.bi, self.nets.enhance
        last = seq.shape[1] - 1
        decoded = {}
        for i in (0, last):
            with torch.no_grad():
                decoded[i] = intra(seq[:, i], q)["x_hat"].float().clamp(0, 1)
        frames = list(hierarchy(0, last))
        terms = {"loss": 0.0, "bpp": 0.0, "psnr": 0.0, "mse": 0.0, "bpp_motion": 0.0}
        prev = None
        for m, a, b, layer in frames:
            x = seq[:, m]
            qm = torch.tensor([float(layer_quality(int(v), layer)) for v in q], device=q.device)
            refs = (decoded[a], decoded[b])
            half_refs = [_to_8bit_ste(downsample2(r)) for r in refs]
            half = bi(half_picture(x), half_refs, [bi.ref_features(r) for r in half_refs], qm)
            out = {"x_hat": enhance.restore(half["x_hat"].float().clamp(0, 1), half["flows_hat"],
                                            refs, prev),
                   "likelihoods": half["likelihoods"]}
            rd = rd_loss(out, x, qm, self.lambda_range)  # bits over the full-resolution pixels of x
            for k in terms:
                terms[k] = terms[k] + rd[k] / len(frames)
            decoded[m] = prev = out["x_hat"].float().clamp(0, 1)
        return terms


MOTION_LOSS = ("mean end-point error (packed-frame pixels) of the P and B nets' motion estimators, "
               "frame to intra-decoded reference, against OpenCV DIS (medium) on the original pair; "
               "every other net frozen")
INTER_LOSS = ("mean over the P frames of a sequence of lambda(q)*255^2*MSE-YUV + bpp (motion + "
              "latents); intra net frozen")
BI_LOSS = ("mean over the B frames of a hierarchical GOP of lambda(q_layer)*255^2*MSE-YUV + bpp "
           "(both motions + latents); intra and P nets frozen")
ENHANCE_LOSS = ("mean over the half-scale B frames of a hierarchical GOP of "
                "lambda(q_layer)*255^2*MSE-YUV of the enhanced frame + bpp; intra and P nets frozen, "
                "the B net too unless joint")


@dataclass(frozen=True)
class Stage:
    """One sequence stage (module docstring)."""

    name: str
    net: str  # the CodecNets attribute it trains
    title: str  # in messages: "P-frame training ..."
    needs: str | None  # the net the init model must have trained (besides the intra net)
    below: tuple  # the frozen nets it codes with, reloaded from the init model on resume
    fresh: Callable  # nets -> a new net to train, when the init model has none
    cascade: Callable  # (nets, lambda_range, warmup, block_map) -> the module one step runs
    loss: str  # the model card's description of the loss
    gop: bool = False  # sequences are hierarchical GOPs of 2^k + 1 frames
    patch_multiple: int = 1
    motion_warmup: bool = False  # the run warms its motion up (_Cascade)
    aux_net: str | None = None  # whose entropy bottlenecks the aux optimizer fits (default: net)
    block_map: bool = False  # its frames can train through the block-prediction map
    parts: Callable | None = None  # nets -> the modules it trains, when not the whole net

    @property
    def card_key(self) -> str:
        return f"training_{self.name}"

    def trained(self, nets, joint: bool = False) -> tuple:
        """The nets this stage's optimizer updates (enhance with joint: the B net too)."""
        if self.parts is not None:
            return tuple(self.parts(nets))
        net = getattr(nets, self.net)
        return (net, nets.bi) if joint and self.name == "enhance" else (net,)

    def aux_loss(self, nets):
        return getattr(nets, self.aux_net or self.net).aux_loss

    def check_frames(self, frames: int, patch: int) -> str | None:
        """Why `frames` x `patch` cannot train this stage (None: they can)."""
        if frames < 2:
            return "inter training needs sequences of at least 2 frames"
        if self.name == "motion" and frames != 2:
            return f"motion training takes frame pairs (--frames 2), not {frames}"
        if self.gop and (frames < 3 or (frames - 1) & (frames - 2)):
            return f"B-frame training takes GOPs of 2^k + 1 frames (3, 5, 9, 17), not {frames}"
        if patch % self.patch_multiple:
            return (f"{self.title} training codes {self.patch_multiple}x{self.patch_multiple} "
                    f"blocks at half scale: --patch must be a multiple of {self.patch_multiple}, "
                    f"not {patch}")
        return None


STAGES = {
    "motion": Stage("motion", net="inter", title="motion-estimator", needs=None, below=("intra",),
                    fresh=lambda nets: InterNet.from_intra(nets.intra),
                    cascade=lambda nets, lam, warmup, bmap: _FlowCascade(nets),
                    loss=MOTION_LOSS,
                    parts=_estimators),
    "inter": Stage("inter", net="inter", title="P-frame", needs=None, below=("intra",),
                   fresh=lambda nets: InterNet.from_intra(nets.intra),
                   cascade=lambda nets, lam, warmup, bmap: _Cascade(nets, warmup, lam, bmap),
                   loss=INTER_LOSS, motion_warmup=True, block_map=True),
    # its motion coder starts trained (the P net's): no warm-up
    "bi": Stage("bi", net="bi", title="B-frame", needs="inter", below=("intra", "inter"),
                fresh=lambda nets: BiNet.from_inter(nets.inter),
                cascade=lambda nets, lam, warmup, bmap: _BiCascade(nets, lam, bmap),
                loss=BI_LOSS, gop=True, block_map=True),
    "enhance": Stage("enhance", net="enhance", title="enhancement", needs="bi",
                     below=("intra", "inter", "bi"), fresh=lambda nets: EnhanceNet(),
                     cascade=lambda nets, lam, warmup, bmap: _EnhanceCascade(nets, lam),
                     loss=ENHANCE_LOSS, gop=True, patch_multiple=128, aux_net="bi"),
}
assert STAGE_NAMES == ("intra", *STAGES), "lvcodec.train.STAGE_NAMES lists the stages in order"
assert BLOCK_MAP_STAGES == tuple(n for n, s in STAGES.items() if s.block_map), \
    "lvcodec.train.BLOCK_MAP_STAGES lists the stages that train through the map"
