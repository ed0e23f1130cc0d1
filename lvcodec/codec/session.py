"""Encoder and decoder sessions: frames in, packets out, and back (one code path per frame type).

Both ends keep the same decoded-picture buffer (DPB): the encoder stores the reconstruction the
decoder will make, never the source, so P and B frames predict from identical references. Each
frame carries the hash of the picture the encoder made (docs/bitstream.md §4.5); the decoder
checks its own picture against it, so a decoder that computes differently never goes unnoticed.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from lvcodec.bitstream import CodingStructure, FrameHeader, FrameType, SequenceHeader
from lvcodec.bitstream.headers import picture_hash
from lvcodec.bitstream.syntax import MAX_PICTURE_PIXELS, MAX_QUALITY, MOTION_ONLY_SUBSTREAMS
from lvcodec.codec import deblock
from lvcodec.codec.block_motion import decode_block_motion, motion_compensated_layer, predict
from lvcodec.codec.config import DEFAULT_INTRA_PERIOD, DOWNSAMPLE_MODES, MAX_GOP, EncoderConfig
from lvcodec.codec.frame_coder import (
    BiCoder, HalfScaleCoder, InterCoder, IntraCoder, Reference, frame_to_tensor, picture_reference,
    tensor_to_frame,
)
from lvcodec.codec.gop import PlannedFrame, layer_quality, next_anchor, plan_gop
from lvcodec.codec.ratecontrol import RateController
from lvcodec.codec.refine import Refinement
from lvcodec.codec.residual import (
    ResidualEncoder, candidate_steps, lambda_scale, decode_residual, rd_cost, with_deblocking,
)
from lvcodec.errors import ConfigError, CorruptStream, ModelMismatch
from lvcodec.io import Frame, VideoInfo
from lvcodec.rd import lambda_for
from lvcodec.weights import Model

__all__ = ["EncoderConfig", "Encoder", "CodedFrame", "Decoder", "MissingReference",
           "PictureMismatch", "frame_hash", "MAX_QUALITY",
           "MAX_DECODE_PIXELS", "DEFAULT_INTRA_PERIOD", "MAX_GOP", "DOWNSAMPLE_MODES"]

# Decoding allocates activations in proportion to the picture: refuse what would exhaust memory
# before allocating anything (8K UHD, 8192x4320, is the largest picture this decoder takes).
MAX_DECODE_PIXELS = MAX_PICTURE_PIXELS
# The encoder codes each P anchor as an I frame too and keeps the cheaper in bits + λ·MSE-YUV
# (the λ its residual layer is chosen at): where the previous anchor predicts it poorly (much
# motion, a cut, a long GOP), intra costs less. Any anchor may be an I frame (docs/bitstream.md
# §4.3); the decoder is the same. False: P anchors as planned (for ablation).
INTRA_ANCHORS = True


class MissingReference(CorruptStream):
    """A P frame whose reference is not in the decoded-picture buffer (lost to damage)."""


class PictureMismatch(CorruptStream):
    """A decoded picture whose hash is not the one the encoder wrote for it: this decoder's
    arithmetic differs from the encoder's (other float kernels), or the frame is damaged."""


def frame_hash(frame: Frame) -> int:
    """The picture hash (docs/bitstream.md §4.5) of an output picture: CRC-32 of its Y, U, V
    planes, row by row, 8-bit samples."""
    planes = (frame.y, frame.u, frame.v)
    if any(p.dtype != np.uint8 for p in planes):
        raise TypeError("the picture hash is defined on 8-bit samples")
    return picture_hash(np.ascontiguousarray(p) for p in planes)


class _DecodedPictures:
    """The decoded-picture buffer, by display index, bounded by one rule both ends apply.

    Storing a picture of temporal layer L > 0 drops the pictures of layers >= L (in the coding
    order of gop.hierarchy, no later frame references them); storing an anchor (layer 0) drops all
    but the previous anchor, which the B frames before the new anchor reference. So the buffer
    holds at most 2 + the number of B layers: 7 pictures for a GOP of 32, 2 in low delay.
    """

    def __init__(self):
        self.pictures = {}  # display index -> (layer, Reference, 8-bit picture)
        # The enhancement net's recurrent state: the last enhanced (half-scale) picture of the GOP.
        self.enhanced = None

    def put(self, index: int, layer: int, ref: Reference, picture: Frame,
            enhanced: bool = False) -> None:
        if enhanced:
            self.enhanced = ref
        if layer == 0:
            self.enhanced = None
            anchors = [i for i, (lay, *_) in self.pictures.items() if lay == 0]
            keep = {max(anchors)} if anchors else set()
        else:
            keep = {i for i, (lay, *_) in self.pictures.items() if lay < layer}
        self.pictures = {i: p for i, p in self.pictures.items() if i in keep}
        self.pictures[index] = (layer, ref, picture)

    def copy(self) -> "_DecodedPictures":
        """A buffer that evolves apart (the pictures are shared: a Reference never changes)."""
        other = _DecodedPictures()
        other.pictures, other.enhanced = dict(self.pictures), self.enhanced
        return other

    def get(self, index: int) -> Reference | None:
        entry = self.pictures.get(index)
        return None if entry is None else entry[1]

    def picture(self, index: int) -> Frame:
        return self.pictures[index][2]


@dataclass
class CodedFrame:
    """One frame as the encoder emits it, in coding order."""

    header: FrameHeader
    substreams: list
    recon: Frame  # the decoder's picture, bit for bit
    source: Frame
    seconds: float = 0.0  # time the encoder spent on it


class Encoder:
    """Frames in display order -> CodedFrames in coding order (push each frame, then flush).

    Low delay codes each frame as it arrives; random access holds the frames up to the next
    anchor (at most `gop`), then codes the anchor and the B frames between."""

    def __init__(self, model: Model, config: EncoderConfig, info: VideoInfo, device: torch.device):
        config.validate()
        if config.intra_period != 1 and model.inter is None:
            raise ConfigError(f"model '{model.name}' has no P-frame net: use --intra-period 1")
        if config.structure == CodingStructure.RANDOM_ACCESS and model.bi is None:
            raise ConfigError(f"model '{model.name}' has no B-frame net: use --structure ldp")
        if config.downsample == "on" and model.enhance is None:
            raise ConfigError(f"model '{model.name}' has no enhancement net: use --downsample off")
        self.model, self.config, self.info, self.device = model, config, info, device
        self.coders = _coders(model, config)
        self.half_coder = _half_coder(model, self.coders)
        self.dpb = _DecodedPictures()
        self.pending = {}  # display index -> source frame not coded yet
        self.received = 0
        self.anchor = None  # display index of the last coded anchor
        self.held = []  # planned GOPs not coded yet (rate control's first intra frame)
        # auto down-sampling: called with (full-scale, half-scale) codings of each GOP's B frames
        # before one is kept (the benchmark measures all three modes from one encode with it).
        self.on_alternatives: Callable[[list, list], None] | None = None
        # All-intra is low delay with an I frame every frame, whatever the GOP.
        self.gop = 1 if config.intra_period == 1 else config.gop
        self.rate = None if config.bitrate is None else RateController(
            config.bitrate, info.fps, info.frame_count, self.gop, config.header_intra_period)

    def sequence_header(self) -> SequenceHeader:
        return SequenceHeader(
            width=self.info.width, height=self.info.height, fps_num=self.info.fps_num,
            fps_den=self.info.fps_den, frame_count=0, coding_structure=self.config.structure,
            intra_period=self.config.header_intra_period, gop_size=self.gop,
            quality=self.config.quality, model_name=self.model.name,
            model_sha256=bytes.fromhex(self.model.sha256))

    def push(self, frame: Frame) -> list[CodedFrame]:
        self.pending[self.received] = frame
        self.received += 1
        target = 0 if self.anchor is None else next_anchor(self.anchor, self.gop,
                                                           self.config.header_intra_period,
                                                           self.config.closed_gop)
        return self._code_gop(target) if self.received - 1 == target else []

    def flush(self) -> list[CodedFrame]:
        """At the end of the input: the last frame anchors a shorter final GOP."""
        if self.held and self.received == 1:  # a one-frame input: its intra frame alone
            return self._code_gop(None)
        return self._code_gop(self.received - 1) if self.pending else []

    def code(self, frames) -> Iterator[CodedFrame]:
        """Every frame of `frames` (display order), coded, in coding order."""
        for frame in frames:
            yield from self.push(frame)
        yield from self.flush()

    def _code_gop(self, anchor: int | None) -> list[CodedFrame]:
        gops = self.held + ([plan_gop(self.anchor, anchor, self.config.header_intra_period)]
                            if anchor is not None else [])
        self.held = []
        if self.rate is None:
            out = self._code_plans(gops[0], self.config.quality)
        elif anchor == 0 and self.info.frame_count != 1:
            # The first intra frame, alone, tells the rate model nothing of P and B frames: it is
            # coded with the GOP after it, at one q.
            self.held, self.anchor = gops, anchor
            return []
        else:
            # Every attempt at a q starts from the same decoded pictures; the kept one's stay.
            start = self.dpb

            def attempt(quality):
                self.dpb = start.copy()
                return [c for g in gops for c in self._code_plans(g, quality)], self.dpb

            def probe(quality):  # the first intra frame alone (fits the rate model)
                self.dpb = start.copy()
                return self._code_plans(gops[0][:1], quality)

            out, self.dpb = self.rate.code_gop([p for g in gops for p in g], attempt, probe)
        for plan in (p for g in gops for p in g):
            self.pending.pop(plan.display_index)
        if anchor is not None:
            self.anchor = anchor
        return out

    def _code_plans(self, gop: list, quality: int) -> list[CodedFrame]:
        """The anchor and the B frames of one GOP (plan_gop's list) at the GOP's quality index."""
        anchor_plan, *b_plans = gop
        out = [self._code_anchor(anchor_plan, quality)]
        mode = self.config.downsample if b_plans and self.half_coder is not None else "off"
        if mode == "auto":
            # Code the B frames both ways from the same decoded state; keep the cheaper.
            start = self.dpb.copy()
            full = [self._code(p, quality) for p in b_plans]
            full_dpb, self.dpb = self.dpb, start
            half = [self._code(p, quality, half=True) for p in b_plans]
            if self.on_alternatives is not None:
                self.on_alternatives(full, half)
            lam = self.model.lambda_range
            if _rd_cost(full, lam) <= _rd_cost(half, lam):
                out += full
                self.dpb = full_dpb
            else:
                out += half
        else:
            out += [self._code(p, quality, half=mode == "on") for p in b_plans]
        return out

    def _code_anchor(self, plan: PlannedFrame, quality: int) -> CodedFrame:
        """The anchor as planned, or, for a P anchor (INTRA_ANCHORS), as an I frame where that
        costs less: both coded from the same decoded pictures, the cheaper's kept."""
        lam = self._lambda(layer_quality(quality, plan.temporal_layer), plan.temporal_layer)
        if plan.frame_type != FrameType.P or not INTRA_ANCHORS or lam is None:
            return self._code(plan, quality)
        start = self.dpb.copy()
        inter = self._code(plan, quality)
        inter_dpb, self.dpb = self.dpb, start
        intra = self._code(PlannedFrame(plan.display_index, FrameType.I, plan.temporal_layer),
                           quality)
        if _frame_cost(inter, lam) <= _frame_cost(intra, lam):
            self.dpb = inter_dpb
            return inter
        return intra

    def _lambda(self, quality: int, temporal_layer: int) -> float | None:
        """The λ a frame's residual layer is chosen at (None: the model has no λ range)."""
        if self.model.lambda_range is None:
            return None
        return (lambda_for(quality, self.model.lambda_range)
                * lambda_scale(self.config.structure, temporal_layer))

    def _code(self, plan, gop_quality: int, half: bool = False) -> CodedFrame:
        t0 = time.perf_counter()
        source = self.pending[plan.display_index]
        quality = layer_quality(gop_quality, plan.temporal_layer)
        pictures = [self.dpb.picture(i) for i in plan.refs]
        layer = None
        if plan.frame_type == FrameType.B and not half and not self._tries_b_net(plan):
            # The B net is not run (EncoderConfig.b_net_distance): a motion-only frame if it can be.
            layer = self._residual(source, None, quality, plan.temporal_layer, pictures, 0)
        if layer is None:
            x = frame_to_tensor(source, self.device)
            refs = tuple(self.dpb.get(i) for i in plan.refs)
            if half:
                substreams, x_hat, ref = self.half_coder.encode(x, refs, quality, self.dpb.enhanced)
            else:
                substreams, x_hat, ref = self.coders[plan.frame_type].encode(x, *_ref_args(refs),
                                                                             quality)
            recon = tensor_to_frame(x_hat, self.info.width, self.info.height)  # the decoder's
            layer = self._residual(source, recon, quality, plan.temporal_layer, pictures,
                                   None if half else sum(len(s) for s in substreams))
        if layer is not None:
            layers, recon, motion_only = layer
            if deblock.ENCODE:  # the residual layer's strengths, for the final picture (§4.9)
                last, recon = with_deblocking(layers[-1], source, recon)
                layers = [*layers[:-1], last]
            # A motion-only frame leaves the nets' substreams, and their features, out (§4.8).
            substreams = layers if motion_only else [*substreams, *layers]
            ref = picture_reference(recon, None if motion_only else ref, self.device)
        self.dpb.put(plan.display_index, plan.temporal_layer, ref, recon, enhanced=half)
        header = FrameHeader(frame_type=plan.frame_type, display_index=plan.display_index,
                             temporal_layer=plan.temporal_layer, scale_log2=int(half),
                             quality=quality, refs=plan.refs, picture_hash=frame_hash(recon))
        return CodedFrame(header, substreams, recon, source, time.perf_counter() - t0)

    def _tries_b_net(self, plan) -> bool:
        """Whether a full-scale B frame's references are far enough for the B net to be tried."""
        distance = self.config.b_net_distance
        return distance is not None and min(abs(plan.display_index - r)
                                            for r in plan.refs) >= distance

    def _residual(self, source: Frame, recon: Frame | None, quality: int, temporal_layer: int,
                  refs: list, nets_bytes: int | None) -> tuple | None:
        """(substreams, picture, motion_only) of the frame's residual layer where it pays, else
        None (or where the config or the model has no λ to weigh by): on the nets' picture
        (ResidualEncoder.best) or, for P and B frames, on a block-motion prediction from the
        reference pictures (§4.8), with the nets' picture or (given `nets_bytes`, their size)
        without the nets at all, whichever costs least, at the frame's λ (_lambda). recon None:
        the nets did not run, so only a motion-only frame can be made."""
        lam = self._lambda(quality, temporal_layer)
        if not self.config.residual or lam is None:
            return None
        plain = None if recon is None else ResidualEncoder(source, recon).cheapest(
            lam, [None, *candidate_steps(lam)])
        if not refs or not self.config.block_motion:
            return None if plain is None or plain[0] is None else ([plain[0]], plain[1], False)
        return motion_compensated_layer(source, recon, refs, lam, plain, self.config.block_sizes,
                                        nets_bytes, self.config.vector_units)


def _frame_cost(frame: CodedFrame, lam: float) -> float:
    """Bits per pixel + λ · MSE-YUV (6:1:1, 8-bit scale) of one coded frame."""
    return rd_cost(frame.source, frame.recon, sum(len(s) for s in frame.substreams), lam)


def _rd_cost(frames: list[CodedFrame], lambda_range) -> float:
    """Sum over frames of bpp + lambda(q) * MSE-YUV (6:1:1, 8-bit scale): the training loss."""
    return sum(_frame_cost(f, lambda_for(f.header.quality, lambda_range)) for f in frames)


def _coders(model: Model, config: EncoderConfig | None = None) -> dict:
    """The frame coder of each frame type the model can code; an encoder's (given its config)
    refine latents and search motions as its preset says, a decoder's (None) do neither."""
    steps = config.refinement_steps if config else {}
    motion = config.motions if config else Refinement.motion

    def kw(t: FrameType) -> dict:
        return {"refinement": Refinement(steps=steps.get(t.name, 0), motion=motion),
                "lambda_range": model.lambda_range}

    coders = {FrameType.I: IntraCoder(model.intra, **kw(FrameType.I))}
    if model.inter is not None:
        coders[FrameType.P] = InterCoder(model.inter, **kw(FrameType.P))
    if model.bi is not None:
        coders[FrameType.B] = BiCoder(model.bi, **kw(FrameType.B))
    return coders


def _half_coder(model: Model, coders: dict) -> HalfScaleCoder | None:
    if model.enhance is None or FrameType.B not in coders:
        return None
    return HalfScaleCoder(coders[FrameType.B], model.enhance)


def _ref_args(refs: tuple) -> tuple:
    """The reference argument of a coder's encode/decode: none (I), one (P) or a pair (B)."""
    return () if not refs else (refs[0],) if len(refs) == 1 else (refs,)


class Decoder:
    """Mirror of Encoder: (FrameHeader, substreams) -> frames in display order.

    Every decoded picture is checked against the hash its frame carries: a mismatch raises
    PictureMismatch naming the frame, before the picture enters the decoded-picture buffer (so
    the frames that reference it are refused too). verify=False (measurements of how far a
    difference reaches) records the mismatches in `mismatches` and carries on instead.
    """

    def __init__(self, model: Model, seq: SequenceHeader, device: torch.device,
                 max_pixels: int = MAX_DECODE_PIXELS, verify: bool = True):
        if seq.width * seq.height > max_pixels:
            raise CorruptStream(f"{seq.width}x{seq.height} is larger than this decoder takes "
                                f"({max_pixels} pixels at most)")
        if seq.width % 2 or seq.height % 2 or seq.chroma_format != 1 or seq.bit_depth != 8:
            raise CorruptStream(f"{seq.width}x{seq.height}, chroma format {seq.chroma_format}, "
                                f"{seq.bit_depth}-bit: this decoder reads 8-bit 4:2:0 of even size")
        if seq.model_name != model.name or seq.model_sha256 != bytes.fromhex(model.sha256):
            # The name comes from the file: escaped, so a forged one cannot break the line.
            wanted = seq.model_name.encode("unicode_escape").decode("ascii")
            raise ModelMismatch(
                f"the bitstream needs model '{wanted}' (sha256 {seq.model_sha256.hex()[:16]}…), "
                f"not '{model.name}' (sha256 {model.sha256[:16]}…)")
        if seq.gop_size > MAX_GOP:
            raise CorruptStream(f"GOP size {seq.gop_size} is larger than this decoder takes ({MAX_GOP})")
        self.model, self.seq, self.device = model, seq, device
        self.coders = _coders(model)
        self.half_coder = _half_coder(model, self.coders)
        self.dpb = _DecodedPictures()
        self.verify = verify
        self.frames_given = 0  # frame units given to decode(): the next one's coding index
        self.mismatches = []  # (coding index, display index) of pictures that failed the hash

    def decode(self, header: FrameHeader, substreams: list[bytes]) -> Frame:
        coding = self.frames_given
        self.frames_given += 1
        idx, kind = header.display_index, header.frame_type
        half = header.scale_log2 == 1
        if header.scale_log2 > 1 or (half and kind != FrameType.B):
            raise CorruptStream(f"frame {idx}: a {kind.name} frame at scale 1/{1 << header.scale_log2}"
                                f" (only B frames may be coded at half scale)")
        if half and self.half_coder is None:
            raise CorruptStream(f"frame {idx}: a half-scale frame, and model '{self.model.name}' "
                                f"has no enhancement net")
        if header.quality > MAX_QUALITY:
            raise CorruptStream(f"frame {idx}: quality {header.quality} > {MAX_QUALITY}")
        if kind not in self.coders:
            net = "P" if kind == FrameType.P else "B"
            raise CorruptStream(f"frame {idx}: a {kind.name} frame, and model '{self.model.name}' "
                                f"has no {net}-frame net")
        wanted = {FrameType.I: 0, FrameType.P: 1, FrameType.B: 2}[kind]
        if len(header.refs) != wanted:
            raise CorruptStream(f"frame {idx}: a {kind.name} frame has {wanted} reference(s), "
                                f"not {len(header.refs)}")
        refs = tuple(self.dpb.get(i) for i in header.refs)
        for i, ref in zip(header.refs, refs):
            if ref is None:
                raise MissingReference(f"frame {idx}: its reference, frame {i}, is not decoded")
        # A P or B frame of two substreams is motion-only (§4.8): fewer than its nets' own.
        if refs and len(substreams) == MOTION_ONLY_SUBSTREAMS:
            frame, ref = self._motion_only(header, substreams, half)
        else:
            frame, ref = self._with_nets(header, substreams, refs, half)
        got = frame_hash(frame)
        if got != header.picture_hash:
            if self.verify:
                raise PictureMismatch(
                    f"frame {coding} (display {idx}): decoded picture does not match the "
                    f"encoder's (hash {got:08x}, the stream says {header.picture_hash:08x}; this "
                    f"machine's arithmetic differs from the encoder's, or the frame is damaged)")
            self.mismatches.append((coding, idx))
        self.dpb.put(idx, header.temporal_layer, ref, frame, enhanced=half)
        return frame

    def _with_nets(self, header: FrameHeader, substreams: list, refs: tuple, half: bool) -> tuple:
        """(picture, Reference) of a frame coded by its nets, then any layers after them."""
        idx, kind = header.display_index, header.frame_type
        shape = (self.seq.height // 2, self.seq.width // 2)
        coder = self.half_coder if half else self.coders[kind]
        # One substream beyond the frame type's is its residual layer (§4.7); two, a block-motion
        # prediction (§4.8, P and B frames) and the residual layer on it.
        substreams, residual = substreams[:coder.SUBSTREAMS], substreams[coder.SUBSTREAMS:]
        if len(residual) > (2 if refs else 1):
            raise CorruptStream(f"frame {idx}: {coder.WHAT} has {coder.SUBSTREAMS} substreams "
                                f"(+{2 if refs else 1} with a residual layer), this one has "
                                f"{coder.SUBSTREAMS + len(residual)}")
        if half:
            x_hat, ref = coder.decode(substreams, refs, header.quality, self.dpb.enhanced, shape,
                                      self.device)
        else:
            x_hat, ref = coder.decode(substreams, *_ref_args(refs), header.quality, shape,
                                      self.device)
        frame = tensor_to_frame(x_hat, self.seq.width, self.seq.height)
        if len(residual) == 2:
            motion = decode_block_motion(residual[0], self.seq.height, self.seq.width, len(refs))
            frame = predict(motion, frame, [self.dpb.picture(i) for i in header.refs])
        if residual:
            frame = decode_residual(residual[-1], frame, predicted=len(residual) == 2,
                                    version=self.seq.format_major)
            ref = picture_reference(frame, ref, self.device)
        return frame, ref

    def _motion_only(self, header: FrameHeader, substreams: list, half: bool) -> tuple:
        """(picture, Reference) of a motion-only P or B frame (§4.8): a block-motion prediction
        from the reference pictures and the residual layer on it; no net runs."""
        if half:
            raise CorruptStream(f"frame {header.display_index}: a half-scale frame without its "
                                f"nets' substreams")
        pictures = [self.dpb.picture(i) for i in header.refs]
        motion = decode_block_motion(substreams[0], self.seq.height, self.seq.width, len(pictures))
        frame = decode_residual(substreams[1], predict(motion, None, pictures), predicted=True,
                                version=self.seq.format_major)
        return frame, picture_reference(frame, None, self.device)
