"""Options shared by `lvc` commands: raw-video size and frame rate, parsed by lvcodec.io."""

import click

from lvcodec.errors import LvcError

__all__ = ["size_option", "fps_option"]


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
