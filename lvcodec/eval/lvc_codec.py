"""lvc itself as an evaluated codec: the frames go through a temporary Y4M and the real file API,
so the measured rate is the size of the .lvc file a user would get."""

import time
from dataclasses import replace

from lvcodec.bitstream import CodingStructure
from lvcodec.bitstream.syntax import QUARTER_SAMPLE, VERSION_MAJOR
from lvcodec.codec import residual, session
from lvcodec.codec.block_motion import ENCODER_REVISION
from lvcodec.codec.config import EncoderConfig
from lvcodec.eval.base import Codec, CodecResult, stream_dir

__all__ = ["LvcCodec"]


class LvcCodec(Codec):
    name = "lvc"
    knob = "quality"
    name_is_label = True
    default_points = (0, 16, 32, 48, 63)

    def __init__(self, model: str | None = None, device: str = "cpu", name: str = "lvc",
                 intra_period: int | None = None, config: EncoderConfig | None = None):
        """config: the encoder's settings (default: `lvc encode`'s), of which the rate point
        replaces the quality; intra_period: fixed for this codec whatever the run's (e.g. an
        all-intra 'lvc-intra' beside a low-delay 'lvc' in one run); None follows the run."""
        from lvcodec.weights import DEFAULT_MODEL

        self.model = model or DEFAULT_MODEL
        self.device = device
        self.name = name
        self.fixed_intra_period = intra_period
        self.config = config or EncoderConfig()
        self._version = None

    def version(self) -> str:
        # Loading validates the weights against the card, so a missing model fails here, early,
        # with the ModelError's message — before any anchor has been run.
        if self._version is None:
            from lvcodec.errors import ModelError
            from lvcodec.weights import load_model

            try:
                m = load_model(self.model, "cpu")
            except ModelError as e:
                raise ModelError(f"lvc codec: {e} (leave lvc out with --no-lvc)") from None
            self._version = f"{m.name}@{m.sha256}"
        return self._version

    def settings(self, point, intra_period, frames) -> dict:
        s = super().settings(point, self._intra_period(intra_period), frames)
        s["model"] = self.version()
        config = self._config(point, intra_period)
        # Another major codes other streams from the same weights; a stream without what a major
        # added is the older major's (but its version byte), so those points keep their keys.
        # Since 9.0 every residual layer is coded anew (§4.7).
        s["format"] = 4 if not config.residual else VERSION_MAJOR
        # Always False now that lvc codes P frames; kept so points measured before stay cached.
        s["intra_only"] = False
        # Only what changes the stream (low delay and all-intra have no B frames to arrange).
        if config.structure == CodingStructure.RANDOM_ACCESS:
            s["gop"] = config.gop
            if config.downsample != "off":
                s["downsample"] = config.downsample
        # What the preset does, not its name (a name's meaning can change); a point of preset
        # fast keeps the key it had before presets existed, so it stays cached.
        if config.refinement_steps:
            s["refine"] = dict(sorted(config.refinement_steps.items()))
        if tuple(config.motions) != ("net",):
            s["motion"] = list(config.motions)
        if config.residual and config.structure == CodingStructure.RANDOM_ACCESS:
            scales = [residual.lambda_scale(config.structure, layer) for layer in (0, 1)]
            if scales != [2.0, 1.0]:  # the residual layers' λ scales (the first ones: no key)
                s["residual_lambda_scales"] = scales
        elif config.residual and residual.lambda_scale(config.structure, 0) != 1.0:
            s["residual_lambda_scale"] = residual.lambda_scale(config.structure, 0)
        if config.residual and residual.RDOQ_ROUNDS:
            # The residual levels' rate-distortion optimised quantization (points of the
            # dead-zone quantizer keep their keys).
            s["rdoq"] = residual.RDOQ_ROUNDS
        if session.INTRA_ANCHORS and config.structure != CodingStructure.ALL_INTRA:
            # P anchors may be coded as I frames (points from before keep their keys).
            s["intra_anchors"] = True
        if (s["format"] == VERSION_MAJOR and config.block_motion
                and config.structure != CodingStructure.ALL_INTRA):
            # The block-motion encoder's choices (points of its first revision keep their keys).
            if ENCODER_REVISION > 1:
                s["block_motion_encoder"] = ENCODER_REVISION
            if tuple(config.block_sizes) != (4,):
                s["block_sizes"] = list(config.block_sizes)
            if tuple(config.vector_units) != (QUARTER_SAMPLE,):
                s["vector_units"] = list(config.vector_units)
            if (config.structure == CodingStructure.RANDOM_ACCESS and config.residual
                    and config.block_motion and config.b_net_distance != 1):
                # B frames nearer than the distance coded motion-only, the B net not run (points
                # where every B frame tried it, and fast's, "b_nets": False, keep their keys).
                s.update({"b_nets": False} if config.b_net_distance is None
                         else {"b_net_distance": config.b_net_distance})
        return s

    def _config(self, point, run_intra_period: int) -> EncoderConfig:
        return replace(self.config, quality=int(point),
                       intra_period=self._intra_period(run_intra_period))

    def _intra_period(self, run_intra_period: int) -> int:
        return self.fixed_intra_period or run_intra_period

    def encode_decode(self, frames, info, point, intra_period, workdir=None) -> CodecResult:
        from lvcodec.codec.api import decode_file, encode_file
        from lvcodec.io import open_reader, open_writer

        with stream_dir(workdir) as d:
            src, stream, rec = d / "src.y4m", d / f"lvc_{point}.lvc", d / f"lvc_{point}_rec.y4m"
            with open_writer(src, info, overwrite=True) as w:
                for f in frames:
                    w.write(f)
            t0 = time.perf_counter()
            encode_file(src, stream, self._config(point, intra_period), frames=len(frames),
                        model=self.model, device=self.device, overwrite=True, progress=False)
            t1 = time.perf_counter()
            decode_file(stream, rec, model=self.model, device=self.device, overwrite=True,
                        progress=False)
            t2 = time.perf_counter()
            with open_reader(rec) as r:
                decoded = list(r)
            size = stream.stat().st_size
        return CodecResult(size, decoded, t1 - t0, t2 - t1, stream if workdir else None,
                           {"intra_only": False})
