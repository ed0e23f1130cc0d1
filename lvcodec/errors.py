"""Exceptions raised by lvcodec; the CLI maps each to one line and a non-zero exit."""

__all__ = [
    "LvcError",
    "InputError",
    "OutputError",
    "ConfigError",
    "ModelError",
    "ModelMismatch",
    "FormatError",
    "UnsupportedVersion",
    "TruncatedStream",
    "CorruptStream",
    "printable",
]


class LvcError(Exception):
    """Base class of every error lvcodec reports to a user."""


class InputError(LvcError):
    """An input file is missing, unreadable or not what it claims to be."""


class OutputError(LvcError):
    """An output cannot be written (exists without overwrite, bad extension, ...)."""


class ConfigError(LvcError):
    """An option is out of range or options contradict each other."""


class ModelError(LvcError):
    """A model file is missing, unsafe or does not match its model card."""


class ModelMismatch(ModelError):
    """A bitstream names a model other than the one that would decode it."""


class FormatError(LvcError):
    """A .lvc bitstream violates the syntax of docs/bitstream.md."""


class UnsupportedVersion(FormatError):
    """The bitstream's major format version is not one this decoder reads."""


class TruncatedStream(FormatError):
    """The bitstream ends inside a unit."""


class CorruptStream(FormatError):
    """A unit fails its CRC or a field is outside its valid range."""


def printable(text) -> str:
    """`text` with every non-printable character escaped as Python writes it (\\n, \\x1b,
    \\u200b): for strings from a file on their way to a terminal, where a forged ESC, BEL or
    newline would otherwise act on it."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(text))
