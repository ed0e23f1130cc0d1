"""`lvc`: the command line — parse, validate, call the library; errors become one line + exit 1."""

import json
import os
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import click

from lvcodec import __version__
from lvcodec.cli_options import device_option, fps_option, size_option, threads_option
from lvcodec.codec.config import (DOWNSAMPLE_MODES, MAX_QUALITY, ON_ERROR_MODES, PRESETS, DecoderConfig,
                                  EncoderConfig)
from lvcodec.errors import FormatError, InputError, LvcError, printable
from lvcodec.train import STAGE_NAMES
from lvcodec.train.config import MAX_FRAMES, MAX_STEP, MIN_FRAMES, TrainConfig

TRAIN = TrainConfig()  # `lvc train`'s defaults

__all__ = ["main"]

DEFAULTS = EncoderConfig()  # `lvc encode`'s defaults are the library's
DECODE_DEFAULTS = DecoderConfig()  # and `lvc decode`'s

# Library deprecation chatter (torch.jit.script inside compressai) is not for a codec's users.
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning, module="torch")


class _Terminated(BaseException):
    """SIGTERM or SIGHUP, raised where the program is, so that partial outputs are removed on
    the way out (exit 128 + the signal's number, as a shell reports a killed process)."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


# SIGTERM: a killed job, a CI timeout; SIGHUP: the terminal or the ssh session went away.
_SIGNALS = {signal.SIGTERM: "terminated", getattr(signal, "SIGHUP", None): "hangup"}
_SIGNALS.pop(None, None)  # no SIGHUP on Windows


def _on_signal(signum, frame):
    raise _Terminated(signum)


def _say(line: str) -> None:
    """A last line on stderr; after a hangup the terminal may be gone, and that is no error."""
    try:
        click.echo(line, err=True)
    except OSError:
        pass


# Peak memory per luma pixel above a fixed part (torch, the model, I/O), from the peaks of
# benchmarks/memory.md (1920x1080 against 320x180, one thread): random access with auto
# down-sampling 4509 against 1172 MiB to encode, 3254 against 1232 to decode; low delay 2923
# against 1098 and 2813 against 1098. Rounded up a little: a refusal must be sure.
MEMORY_FIXED = 1.2 * 2**30
MEMORY_PER_PIXEL = {("encode", "ra"): 1750, ("encode", "ldp"): 950,
                    ("decode", "ra"): 1050, ("decode", "ldp"): 900}


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _on_cpu(device: str) -> bool:
    if device != "auto":
        return device == "cpu"
    from lvcodec.device import resolve_device

    return resolve_device(device).type == "cpu"


def check_picture(width: int, height: int, name: str, command: str, structure: str,
                  device: str, copies: int = 1) -> None:
    """Refuses, before anything is loaded, a picture size the format, the decoder or this
    machine's memory cannot take. structure: "ra" (B frames) or "ldp" (I and P frames only);
    copies: coders running at once (encode --jobs)."""
    from lvcodec.bitstream.syntax import MAX_DIM, MAX_PICTURE_PIXELS

    size = f"{width}x{height}"
    if width > MAX_DIM or height > MAX_DIM:
        raise InputError(f"{name}: {size} is larger than an .lvc stream holds "
                         f"({MAX_DIM} pixels a side at most)")
    if width * height > MAX_PICTURE_PIXELS:
        raise InputError(f"{name}: {size} is {width * height} pixels, more than the decoder takes "
                         f"({MAX_PICTURE_PIXELS}, 8192x4320); nothing could decode it")
    need = copies * (MEMORY_FIXED + width * height * MEMORY_PER_PIXEL[command, structure])
    have = available_memory()
    if have is not None and need > have and _on_cpu(device):
        raise InputError(f"{name}: {command == 'encode' and 'encoding' or 'decoding'} {size} "
                         f"needs about {need / 2**30:.1f} GiB of memory, "
                         f"{have / 2**30:.1f} GiB available")


@contextmanager
def _naming(path):
    """Format errors (which speak of units and bytes) get the file's name in front."""
    try:
        yield
    except FormatError as e:
        if str(e).startswith(f"{path}:"):
            raise
        try:
            named = type(e)(f"{path}: {e}")
        except TypeError:  # a subclass with another constructor
            named = FormatError(f"{path}: {e}")
        raise named from None


class _Group(click.Group):
    """Maps library errors to one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        main_thread = threading.current_thread() is threading.main_thread()
        before = {s: signal.signal(s, _on_signal) for s in _SIGNALS} if main_thread else {}
        try:
            return super().invoke(ctx)
        except LvcError as e:
            click.echo(f"lvc: error: {printable(e)}", err=True)  # names from files, escaped
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("lvc: interrupted", err=True)
            sys.exit(130)
        except _Terminated as e:
            _say(f"lvc: {_SIGNALS[e.signum]}")
            sys.exit(128 + e.signum)
        except BrokenPipeError:
            # The reader of our stdout went away (`lvc decode x.lvc - | head -c 100`). Later
            # flushes of stdout would fail again: point it at /dev/null for the way out.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            click.echo("lvc: error: output pipe closed before the end", err=True)
            sys.exit(1)
        finally:
            for s, handler in before.items():
                signal.signal(s, handler)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lvc")
def main():
    """lvcodec: a learned video codec. Encode YUV/Y4M/MP4 to .lvc, decode back, inspect.

    \b
    Exit status:
      0    done
      1    error: one line on stderr, no output written (nothing replaced)
      2    decode wrote its output, but the input was damaged: frames concealed
           (--on-error conceal) or bytes after the end of the stream (ignored)
      129  hangup (SIGHUP), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM):
           the partial output is removed
    """


@main.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@size_option("WxH of raw .yuv input (e.g. 1920x1080).")
@fps_option("Frame rate of raw .yuv input (25, 30000/1001, 29.97).")
@click.option("-q", "--quality", type=click.IntRange(0, MAX_QUALITY), default=DEFAULTS.quality,
              show_default=True, help=f"Quality index: 0 smallest files … {MAX_QUALITY} best quality.")
@click.option("--intra-period", "-I", "intra_period", type=int, default=DEFAULTS.intra_period,
              show_default=True,
              help="Frames between I frames; -1: only the first frame; 1: all-intra.")
@click.option("--structure", type=click.Choice(["ldp", "ra"]),
              default="ra" if DEFAULTS.gop > 1 else "ldp", show_default=True,
              help="ldp: low-delay P (I P P P …, coding order = display order); ra: random access "
                   "(hierarchical B frames between anchors --gop frames apart).")
@click.option("--gop", type=click.Choice(["8", "16", "32"]), default=str(DEFAULTS.gop),
              show_default=True, help="ra: frames from one anchor to the next (the B hierarchy's size).")
@click.option("--downsample", type=click.Choice(DOWNSAMPLE_MODES), default=DEFAULTS.downsample,
              show_default=True,
              help="ra: B frames at half scale, restored by the model's enhancement net. auto: per "
                   "GOP, whichever costs less in rate + lambda x distortion (codes the B frames "
                   "both ways: ~1.4x the encode time); on: always; off: never.")
@click.option("--closed-gop", is_flag=True,
              help="ra: no frame references across an I frame (the B frames before one end on a "
                   "P frame), so the stream can be cut and joined at I frames; costs some rate.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="N",
              help="Code in N worker processes, the input cut at I frames into chunks, joined "
                   "into one stream (closed GOPs: the same stream as --jobs 1 --closed-gop); each "
                   "worker gets 1/N of the threads.")
@click.option("--bitrate", "-b", metavar="RATE",
              help="Target bit rate in bits/s (300k, 1.5M): q is chosen per GOP so that the "
                   "stream lands within 5 % of it (some GOPs coded twice). Instead of -q.")
@click.option("--preset", type=click.Choice(list(PRESETS)), default=DEFAULTS.preset,
              show_default=True,
              help="Encoder effort; the decoder is the same for all. fast: the analysis "
                   "transforms' latents as they are, B frames by block motion alone (no B net). "
                   "medium: in random access, the anchors' (I "
                   "and P frames') latents refined by gradient steps against their own rate-"
                   "distortion cost (elsewhere as fast), and the block-motion prediction tried "
                   "with 32x32 and 8x8 blocks besides 16x16; the B net only in B frames 4 or more "
                   "frames from their references. slow: every frame's latents, the B net in every "
                   "B frame, and each P/B frame also coded without motion, the cheaper kept. Fewer bits at equal quality for "
                   "more encode time (benchmarks/refinement.md).")
@click.option("--residual/--no-residual", default=DEFAULTS.residual, show_default=True,
              help="Add a transform-coded residual layer to the frames where it lowers rate + "
                   "lambda x distortion (at high q: the detail the nets cannot make; "
                   "benchmarks/residual.md).")
@click.option("--block-motion/--no-block-motion", default=DEFAULTS.block_motion,
              show_default=True,
              help="Let the residual layer of P and B frames predict from the reference "
                   "pictures, block by block, where that costs less (benchmarks/residual.md).")
@click.option("-n", "--frames", type=click.IntRange(min=1), help="Encode only the first N frames.")
@click.option("--model", default="lvc-base", show_default=True, help="Model name (models/) or path.")
@device_option()
@threads_option()
@click.option("--psnr", is_flag=True, help="Also measure PSNR of the reconstruction.")
@click.option("-y", "overwrite", is_flag=True, help="Overwrite the output if it exists.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def encode(input, output, size, fps, quality, intra_period, structure, gop, downsample, closed_gop,
           jobs, bitrate, preset, residual, block_motion, frames, model, device, threads, psnr, overwrite, quiet):
    """Encode INPUT (.yuv, .y4m, .mp4, .mkv, …, or - for Y4M or raw -s WxH frames on stdin)
    into OUTPUT.lvc. Messages go to stderr."""
    from lvcodec.codec.config import parse_bitrate
    from lvcodec.errors import ConfigError
    from lvcodec.io import check_target, open_reader

    if bitrate is not None:
        bitrate = parse_bitrate(bitrate)
        if click.get_current_context().get_parameter_source("quality").name != "DEFAULT":
            raise ConfigError("--bitrate and -q/--quality both set the rate: give one")
        if jobs > 1:  # each worker would spend the whole budget on its chunk
            raise ConfigError("--bitrate spreads one budget over the whole input: not with --jobs")
    # Everything about the input and the output is checked before the model loads (seconds).
    with open_reader(input, size=size, fps=fps, frames=frames) as reader:
        uses_b = structure == "ra" and intra_period != 1
        check_picture(reader.info.width, reader.info.height, reader.name, "encode",
                      "ra" if uses_b else "ldp", device, copies=jobs)
        check_target(output, overwrite)
        from lvcodec.codec.api import encode_file

        config = EncoderConfig(quality=quality, intra_period=intra_period,
                               gop=int(gop) if structure == "ra" else 1, downsample=downsample,
                               closed_gop=closed_gop or jobs > 1, bitrate=bitrate, preset=preset,
                               residual=residual, block_motion=block_motion)
        if jobs > 1:
            from lvcodec.codec.chunks import encode_chunks

            s = encode_chunks(reader, output, config, jobs=jobs, model=model, device=device,
                              overwrite=overwrite, measure_psnr=psnr, progress=not quiet)
        else:
            s = encode_file(reader, output, config, model=model, device=device,
                            overwrite=overwrite, measure_psnr=psnr, progress=not quiet)
    line = (f"encoded {s['frames']} frames {s['width']}x{s['height']}: {s['bytes']} bytes, "
            f"{s['kbps']:.1f} kbit/s, {s['bpp']:.4f} bpp")
    if "psnr_yuv" in s:
        line += f", PSNR-Y {s['psnr_y']:.2f} dB, PSNR-YUV {s['psnr_yuv']:.2f} dB"
    click.echo(line + f", {s['fps']:.2f} frames/s", err=True)
    if "target_kbps" in s:
        miss = s["kbps"] / s["target_kbps"] - 1
        click.echo(f"rate control: target {s['target_kbps']:.1f} kbit/s, achieved {s['kbps']:.1f} "
                   f"({miss:+.1%}); q per GOP {' '.join(str(g['quality']) for g in s['gops'])}, "
                   f"{s['trials']} GOPs coded again", err=True)
        if abs(miss) > 0.05:
            _say(f"lvc: warning: the stream misses the target by {miss:+.1%} (the target may lie "
                 "outside what q 0..63 reach on this input)")


@main.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--model", default=None, help="Model to decode with (default: the one the stream names).")
@device_option()
@click.option("-y", "overwrite", is_flag=True, help="Overwrite the output if it exists.")
@click.option("--on-error", type=click.Choice(ON_ERROR_MODES), default=DECODE_DEFAULTS.on_error,
              show_default=True,
              help="fail: stop at the first damaged unit (no output). conceal: report it, repeat the "
                   "last good picture for its frames, and decode the rest.")
@threads_option()
@click.option("--quiet", is_flag=True, help="No progress bar.")
def decode(input, output, model, device, overwrite, on_error, threads, quiet):
    """Decode INPUT.lvc into OUTPUT (.y4m, .yuv or .mp4, or - for Y4M on stdout). Messages go
    to stderr."""
    from lvcodec.bitstream.stream import LvcReader, open_lvc
    from lvcodec.codec.api import decode_file
    from lvcodec.io import check_writable

    # The input's header and the output are checked before the model loads (seconds).
    with open_lvc(input) as f:
        with _naming(input):
            seq = LvcReader(f).sequence_header
    check_picture(seq.width, seq.height, str(input), "decode",
                  "ra" if seq.gop_size > 1 else "ldp", device)
    check_writable(output, overwrite)
    problems = []

    def warn(message):
        problems.append(message)
        _say(f"lvc: warning: {printable(input)}: {printable(message)}")

    with _naming(input):
        s = decode_file(input, output, DecoderConfig(on_error=on_error, model=model), device=device,
                        overwrite=overwrite, progress=not quiet, warn=warn)
    from lvcodec.bitstream.info import trailing_bytes

    extra = trailing_bytes(input)
    if extra:
        warn(f"{extra} bytes after the end of the stream, ignored (another stream appended?)")
    concealed = f" ({s['concealed']} concealed)" if s["concealed"] else ""
    click.echo(f"decoded {s['frames']} frames{concealed} {s['width']}x{s['height']} to {output}, "
               f"{s['fps']:.2f} frames/s", err=True)
    if s["concealed"] or problems:
        n = len(problems)
        _say(f"lvc: warning: {printable(input)}: damaged: {s['concealed']} of {s['frames']} frames "
             f"concealed, {n} problem{'s' if n != 1 else ''} reported (exit status 2)")
        sys.exit(2)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("-y", "overwrite", is_flag=True, help="Overwrite the output if it exists.")
def concat(inputs, output, overwrite):
    """Join INPUT.lvc streams, in order, into OUTPUT.lvc: one stream that decodes to their
    decodes one after another. They must share model, size, frame rate, format and structure
    (intra period, GOP), and each starts with its I frame; nothing is re-coded."""
    from lvcodec.codec.concat import concat_files

    s = concat_files(inputs, output, overwrite=overwrite)
    click.echo(f"joined {s['streams']} streams, {s['frames']} frames: {s['bytes']} bytes to "
               f"{printable(output)}", err=True)


@main.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Machine-readable output (schema: docs/info-json.md).")
def info(input, as_json):
    """Show the sequence header and one row per frame of INPUT.lvc."""
    from lvcodec.bitstream.info import describe, format_table

    with _naming(input):
        d = describe(input)
    click.echo(json.dumps(d, indent=2) if as_json else format_table(d))


@main.command()
def models():
    """List the installed models."""
    from lvcodec.weights import list_models

    cards = list_models()
    if not cards:
        click.echo("no models installed")
    for c in cards:
        t = c.get("training", {})
        click.echo(f"{c.get('name')}  sha256 {str(c.get('sha256'))[:16]}…  "
                   f"{t.get('steps', '?')} training steps  {c.get('description', '')}")


@main.command("prepare-data")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--packages-root", "packages_roots", multiple=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Also look for the Debian packages' files under DIR (where `make "
                   "data-packages` extracts the video packages: out/debian). Repeatable.")
def prepare_data_cmd(out_dir, packages_roots):
    """Build the training set from package-shipped clips and stills into OUT_DIR."""
    from lvcodec.train.data import PHOTO_SOURCES, VIDEO_PACKAGES, prepare_data

    written = prepare_data(out_dir, packages_roots=packages_roots)
    for source, files in written.items():
        click.echo(f"{source}: {len(files)} files")
    missing = [label for label in (*(p[0] for p in PHOTO_SOURCES), *VIDEO_PACKAGES)
               if label not in written]
    if missing:
        click.echo(f"not found on this machine: {', '.join(missing)} (`make data-packages` "
                   "installs them)", err=True)
    click.echo(f"wrote {sum(map(len, written.values()))} files to {out_dir} (manifest.json)")


@main.command()
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--run-dir", "--run", "run_dir", type=click.Path(path_type=Path),
              help="Checkpoint directory; an existing one is resumed. "
                   "[default: ~/.cache/lvcodec/runs/STAGE]")
@click.option("--stage", type=click.Choice(list(STAGE_NAMES)), default=TRAIN.stage,
              show_default=True,
              help="intra: I-frame net on patches; motion: the P and B nets' motion estimators "
                   "against OpenCV's DIS flow (encoder side only; needs opencv-python-headless); "
                   "inter: P-frame net on sequences (intra frozen); "
                   "bi: B-frame net on hierarchical GOPs (intra and P nets frozen); enhance: the "
                   "enhancement net on GOPs of half-scale B frames (B net frozen unless --joint).")
@click.option("--frames", type=click.IntRange(MIN_FRAMES, MAX_FRAMES), default=TRAIN.frames,
              show_default=True,
              help="inter: sequence length (2 = frame pairs; 4-7 = cascaded P frames); "
                   "bi, enhance: GOP length + 1 (3, 5, 9, 17).")
@click.option("--joint", is_flag=True,
              help="enhance: fine-tune the B net with the enhancement net (rate + distortion).")
@click.option("--block-map", is_flag=True,
              help="inter, bi: score and reference each frame as the codec shows it, with the "
                   "prediction in the blocks where it is closer (the block-prediction map).")
@click.option("--max-step", type=click.IntRange(1, MAX_STEP), default=TRAIN.max_step,
              show_default=True, metavar="N",
              help="inter, motion: frame distances of the real clips up to N (above 3: half at "
                   "4..N, as random access's anchors, 8 frames apart at GOP 8).")
@click.option("--pred-skip", is_flag=True,
              help="inter, bi: a new run gives the stage's net (P or B) the prediction skip (the "
                   "prediction added to the synthesis through a gate that starts at zero: the same "
                   "pictures at step one).")
@click.option("--affine", type=click.FloatRange(0, 1), default=TRAIN.affine, show_default=True,
              metavar="SHARE",
              help="inter, bi, enhance, motion: this share of the synthesised sequences zoom, "
                   "rotate and move by fractions of a pixel (the rest pan by whole pixels).")
@click.option("--minutes", type=float, help="Stop after this many minutes.")
@click.option("--steps", type=int, help="Stop after this many more steps.")
@click.option("--batch", type=int, default=TRAIN.batch, show_default=True)
@click.option("--patch", type=int, default=TRAIN.patch, show_default=True)
@click.option("--lr", type=float, default=TRAIN.lr, show_default=True)
@click.option("--warmup", type=click.IntRange(0), metavar="STEPS", default=TRAIN.warmup,
              show_default=True, help="Learning-rate warm-up of a new optimizer state (a run "
              "started from a model): from 0 to --lr over STEPS steps.")
@click.option("--motion-warmup", type=click.IntRange(1), metavar="STEPS",
              help="inter: warm the motion up again from here, fading a warp loss on the decoded "
                   "motion over STEPS steps (every run does so over its first 3000).")
@click.option("--width", type=click.IntRange(1), metavar="N", default=TRAIN.width,
              help="intra: hidden channels of a new run; the init model's net is widened to N "
                   "and starts computing what it did (benchmarks/notes/intra-ceiling-2026-12-02.md).")
@click.option("--latent", type=click.IntRange(1), metavar="M", default=TRAIN.latent,
              help="intra: latent channels of a new run; the init model's latent is widened to M, "
                   "the new channels a context group of their own, silent at first.")
@click.option("--init", default=TRAIN.init, show_default=True,
              help="Model to start from when the run directory is empty ('' for scratch).")
@device_option(TRAIN.device)
@threads_option("CPU threads [default: all cores].")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default=TRAIN.precision,
              show_default=True,
              help="auto: bf16 autocast where the device multiplies bf16 natively (AMX, "
                   "AVX-512 BF16, CUDA), "
                   "else float32 (the log says which).")
@click.option("--export", type=click.Path(path_type=Path), help="Afterwards, write models/NAME here.")
def train(data, run_dir, stage, frames, joint, block_map, max_step, pred_skip, affine, minutes, steps,
          batch, patch,
          lr, warmup, motion_warmup, width, latent, init, device, threads, precision, export):
    """Train the intra, P- or B-frame net on DATA folders (prepared data, videos or Vimeo-90k)."""
    from dataclasses import replace

    from lvcodec.device import resolve_device
    from lvcodec.train.trainer import train

    config = TrainConfig(stage=stage, frames=frames, joint=joint, block_map=block_map,
                         max_step=max_step, pred_skip=pred_skip, affine=affine,
                         minutes=minutes, steps=steps,
                         batch=batch, patch=patch, lr=lr, warmup=warmup,
                         motion_warmup=motion_warmup,
                         width=width, latent=latent, init=init or None, device=device, threads=threads,
                         precision=precision).validate()
    run_dir = run_dir or config.run_dir()
    info = train(list(data), run_dir, replace(config, device=str(resolve_device(device))),
                 log=click.echo)
    if os.environ.get("RANK", "0") != "0":
        return
    click.echo(f"stopped at step {info['step']}; checkpoint in {run_dir}")
    if export:
        from lvcodec.train.export import export_model

        click.echo(f"exported {export_model(run_dir, export)}")


@main.command("train-all")
@click.argument("data", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--minutes", type=float, required=True, help="The whole budget, shared by the stages.")
@click.option("--export", type=click.Path(path_type=Path), required=True,
              help="The model each stage is exported into (and the next one starts from).")
@click.option("--run-root", type=click.Path(path_type=Path), default=Path("out/runs"),
              show_default=True, help="One run directory per stage below this.")
@click.option("--init", default="lvc-base", show_default=True)
@device_option()
@click.option("--patch", type=int, help="[default: 256 on CUDA, 128 on CPU]")
@click.option("--stages", help="A subset, comma-separated (intra,inter,bi,enhance).")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto",
              show_default=True)
def train_all_cmd(data, minutes, export, run_root, init, device, patch, stages, precision):
    """Train every stage in turn within MINUTES (a GPU's quarter of an hour) and export the model."""
    from lvcodec.device import resolve_device
    from lvcodec.train.schedule import train_all

    train_all(list(data), run_root, export, minutes=minutes, device=str(resolve_device(device)),
              init=init, patch=patch, precision=precision,
              stages=stages.split(",") if stages else None, log=click.echo)


if __name__ == "__main__":
    main()


from lvcodec.eval.cli import bench_command, eval_command  # noqa: E402  (light: click only until run)

main.add_command(eval_command)
main.add_command(bench_command)
