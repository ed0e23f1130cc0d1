"""Options shared by `lvc` commands: raw-video size and frame rate, parsed by lvcodec.io, and
the CPU thread count and the device."""

import click

from lvcodec.device import DEVICES
from lvcodec.errors import LvcError

__all__ = ["size_option", "fps_option", "threads_option", "device_option"]


def _parsed(parser_name: str):
    """A click callback running lvcodec.io's parser; its error becomes click's usage error."""

    def callback(ctx, param, value):
        if value is None:
            return None
        import lvcodec.io

        try:
            return getattr(lvcodec.io, parser_name)(value)
        except LvcError as e:
            raise click.BadParameter(str(e)) from None

    return callback


def size_option(help: str):
    return click.option("-s", "--size", callback=_parsed("parse_size"), help=help)


def fps_option(help: str):
    return click.option("--fps", callback=_parsed("parse_fps"), help=help)


def _set_threads(ctx, param, value):
    if value is not None:
        import torch

        torch.set_num_threads(value)
    return value


def threads_option(help: str = "CPU threads [default: all cores]. The output is bit-identical "
                               "for every N (benchmarks/parity.md); 1 keeps to one core."):
    """--threads N: torch's intra-op thread count, set as soon as the option is parsed."""
    return click.option("--threads", type=click.IntRange(min=1), metavar="N", callback=_set_threads,
                        help=help)


def device_option(default: str = "auto", help: str | None = None):
    """--device auto|cpu|cuda (lvcodec.device)."""
    return click.option("--device", type=click.Choice(DEVICES), default=default, show_default=True,
                        help=help)
