"""Encoder and decoder sessions: frames in, packets out, and back (one code path per frame type).

Both ends keep the same decoded-picture buffer (DPB): the encoder stores the reconstruction the
decoder will make, never the source, so P frames predict from identical references.
"""

from dataclasses import dataclass

import torch

from lvcodec.bitstream import CodingStructure, FrameHeader, FrameType, SequenceHeader
from lvcodec.codec.frame_coder import InterCoder, IntraCoder, Reference, frame_to_tensor, tensor_to_frame
from lvcodec.codec.gop import plan_low_delay
from lvcodec.errors import ConfigError, CorruptStream, ModelMismatch
from lvcodec.io import Frame, VideoInfo
from lvcodec.weights import Model

__all__ = ["EncoderConfig", "Encoder", "Decoder", "MissingReference", "MAX_QUALITY",
           "MAX_DECODE_PIXELS", "DEFAULT_INTRA_PERIOD"]

MAX_QUALITY = 63
DEFAULT_INTRA_PERIOD = 32
MAX_INTRA_PERIOD = 0xFFFF
# Decoding allocates activations in proportion to the picture: refuse what would exhaust memory
# before allocating anything (8K UHD, 8192x4320, is the largest picture this decoder takes).
MAX_DECODE_PIXELS = 8192 * 4320


class MissingReference(CorruptStream):
    """A P frame whose reference is not in the decoded-picture buffer (lost to damage)."""


@dataclass
class EncoderConfig:
    quality: int = 32
    intra_period: int = DEFAULT_INTRA_PERIOD  # -1: only the first frame is intra

    def validate(self) -> None:
        if not 0 <= self.quality <= MAX_QUALITY:
            raise ConfigError(f"quality {self.quality} out of range (expected 0..{MAX_QUALITY})")
        if not (self.intra_period == -1 or 1 <= self.intra_period <= MAX_INTRA_PERIOD):
            raise ConfigError(f"intra period {self.intra_period} out of range "
                              f"(expected -1 or 1..{MAX_INTRA_PERIOD})")

    @property
    def header_intra_period(self) -> int:
        return 0 if self.intra_period == -1 else self.intra_period


class _DecodedPictures:
    """The decoded-picture buffer of low-delay P: the last decoded picture, by display index."""

    def __init__(self):
        self.index, self.ref = None, None

    def put(self, index: int, ref: Reference) -> None:
        self.index, self.ref = index, ref

    def get(self, index: int) -> Reference | None:
        return self.ref if index == self.index else None


class Encoder:
    """Turns frames (display order) into (FrameHeader, substreams, reconstruction)."""

    def __init__(self, model: Model, config: EncoderConfig, info: VideoInfo, device: torch.device):
        config.validate()
        if config.intra_period != 1 and model.inter is None:
            raise ConfigError(f"model '{model.name}' has no P-frame net: use --intra-period 1")
        self.model, self.config, self.info, self.device = model, config, info, device
        self.intra = IntraCoder(model.intra)
        self.inter = InterCoder(model.inter) if model.inter is not None else None
        self.dpb = _DecodedPictures()
        self.next_index = 0

    def sequence_header(self) -> SequenceHeader:
        all_intra = self.config.intra_period == 1
        return SequenceHeader(
            width=self.info.width, height=self.info.height, fps_num=self.info.fps_num,
            fps_den=self.info.fps_den, frame_count=0,
            coding_structure=CodingStructure.ALL_INTRA if all_intra else CodingStructure.LOW_DELAY,
            intra_period=self.config.header_intra_period, gop_size=1,
            quality=self.config.quality, model_name=self.model.name,
            model_sha256=bytes.fromhex(self.model.sha256))

    def encode(self, frame: Frame):
        plan = plan_low_delay(self.next_index, self.config.header_intra_period)
        self.next_index += 1
        x = frame_to_tensor(frame, self.device)
        if plan.frame_type == FrameType.I:
            substreams, x_hat, ref = self.intra.encode(x, self.config.quality)
        else:
            substreams, x_hat, ref = self.inter.encode(x, self.dpb.get(plan.refs[0]),
                                                       self.config.quality)
        self.dpb.put(plan.display_index, ref)
        header = FrameHeader(frame_type=plan.frame_type, display_index=plan.display_index,
                             temporal_layer=plan.temporal_layer, scale_log2=0,
                             quality=self.config.quality, refs=plan.refs)
        return header, substreams, tensor_to_frame(x_hat, self.info.width, self.info.height)


class Decoder:
    """Mirror of Encoder: (FrameHeader, substreams) -> frames in display order."""

    def __init__(self, model: Model, seq: SequenceHeader, device: torch.device,
                 max_pixels: int = MAX_DECODE_PIXELS):
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
        self.model, self.seq, self.device = model, seq, device
        self.intra = IntraCoder(model.intra)
        self.inter = InterCoder(model.inter) if model.inter is not None else None
        self.dpb = _DecodedPictures()

    def decode(self, header: FrameHeader, substreams: list[bytes]) -> Frame:
        idx = header.display_index
        if header.frame_type == FrameType.B:
            raise CorruptStream(f"frame {idx}: B frames need a newer lvcodec")
        if header.scale_log2 != 0:
            raise CorruptStream(f"frame {idx}: scaled frames are not supported yet")
        if header.quality > MAX_QUALITY:
            raise CorruptStream(f"frame {idx}: quality {header.quality} > {MAX_QUALITY}")
        shape = (self.seq.height // 2, self.seq.width // 2)
        if header.frame_type == FrameType.I:
            x_hat, ref = self.intra.decode(substreams, header.quality, shape, self.device)
        else:
            if self.inter is None:
                raise CorruptStream(f"frame {idx}: a P frame, and model '{self.model.name}' has "
                                    "no P-frame net")
            if len(header.refs) != 1:
                raise CorruptStream(f"frame {idx}: a P frame has one reference, not {len(header.refs)}")
            reference = self.dpb.get(header.refs[0])
            if reference is None:
                raise MissingReference(f"frame {idx}: its reference, frame {header.refs[0]}, "
                                       "is not decoded")
            x_hat, ref = self.inter.decode(substreams, reference, header.quality, shape, self.device)
        self.dpb.put(idx, ref)
        return tensor_to_frame(x_hat, self.seq.width, self.seq.height)
