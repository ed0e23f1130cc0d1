"""Encoder and decoder sessions: frames in, packets out, and back (one code path per frame type)."""

from dataclasses import dataclass

import torch

from lvcodec.bitstream import CodingStructure, FrameHeader, FrameType, SequenceHeader
from lvcodec.codec.frame_coder import IntraCoder, frame_to_tensor, tensor_to_frame
from lvcodec.codec.gop import plan_all_intra
from lvcodec.errors import ConfigError, CorruptStream, ModelMismatch
from lvcodec.io import Frame, VideoInfo
from lvcodec.weights import Model

__all__ = ["EncoderConfig", "Encoder", "Decoder", "MAX_QUALITY", "MAX_DECODE_PIXELS"]

MAX_QUALITY = 63
# Decoding allocates activations in proportion to the picture: refuse what would exhaust memory
# before allocating anything (8K UHD, 8192x4320, is the largest picture this decoder takes).
MAX_DECODE_PIXELS = 8192 * 4320


@dataclass
class EncoderConfig:
    quality: int = 32

    def validate(self) -> None:
        if not 0 <= self.quality <= MAX_QUALITY:
            raise ConfigError(f"quality {self.quality} out of range (expected 0..{MAX_QUALITY})")


class Encoder:
    """Turns frames (display order) into (FrameHeader, substreams, reconstruction)."""

    def __init__(self, model: Model, config: EncoderConfig, info: VideoInfo, device: torch.device):
        config.validate()
        self.model, self.config, self.info, self.device = model, config, info, device
        self.intra = IntraCoder(model.intra)
        self.next_index = 0

    def sequence_header(self) -> SequenceHeader:
        return SequenceHeader(
            width=self.info.width, height=self.info.height, fps_num=self.info.fps_num,
            fps_den=self.info.fps_den, frame_count=0, coding_structure=CodingStructure.ALL_INTRA,
            intra_period=1, gop_size=1, quality=self.config.quality, model_name=self.model.name,
            model_sha256=bytes.fromhex(self.model.sha256))

    def encode(self, frame: Frame):
        plan = plan_all_intra(self.next_index)
        self.next_index += 1
        x = frame_to_tensor(frame, self.device)
        substreams, x_hat = self.intra.encode(x, self.config.quality)
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
            raise ModelMismatch(
                f"the bitstream needs model '{seq.model_name}' (sha256 {seq.model_sha256.hex()[:16]}…), "
                f"not '{model.name}' (sha256 {model.sha256[:16]}…)")
        self.model, self.seq, self.device = model, seq, device
        self.intra = IntraCoder(model.intra)

    def decode(self, header: FrameHeader, substreams: list[bytes]) -> Frame:
        if header.frame_type != FrameType.I:
            raise CorruptStream(f"frame {header.display_index}: {header.frame_type.name} frames need "
                                "a newer lvcodec (this one decodes I frames)")
        if header.scale_log2 != 0:
            raise CorruptStream(f"frame {header.display_index}: scaled frames are not supported yet")
        if header.quality > MAX_QUALITY:
            raise CorruptStream(f"frame {header.display_index}: quality {header.quality} > {MAX_QUALITY}")
        shape = (self.seq.height // 2, self.seq.width // 2)
        x_hat = self.intra.decode(substreams, header.quality, shape, self.device)
        return tensor_to_frame(x_hat, self.seq.width, self.seq.height)
