"""The `deepfm-gluon` command: subcommands, and one clear line per user error."""
import importlib
import sys

from ..errors import DeepFMError
from .parser import build_parser

__all__ = ["build_parser", "main"]


def load_handler(name):
    """The function 'module:function' in cli/. Command modules import MXNet and
    the library; importing them only here keeps `--help` fast."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


def describe_os_error(err):
    """'PATH: reason' for an OSError, e.g. 'out/model.params: No space left on device'."""
    reason = err.strerror or str(err) or type(err).__name__
    where = err.filename if err.filename is not None else None
    return f"{where}: {reason}" if where else reason


def main(argv=None):
    """Run ``deepfm-gluon ARGV`` (a list of strings; None: sys.argv[1:]); returns
    the exit code: 0 done, 2 a user error (printed as one line), 130 interrupted."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # which flags were typed (train --resume)
    try:
        return load_handler(args.handler)(args) or 0
    except DeepFMError as err:
        print(f"deepfm-gluon {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # permission denied, a full disk...: the path and the reason, one line
        print(f"deepfm-gluon {args.command}: error: {describe_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepfm-gluon {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
