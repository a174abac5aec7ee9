"""The `deepfm-gluon` command: subcommands, and one clear line per user error."""
import argparse
import sys

from .. import __version__
from . import bench_cmd, compare_cmd, experiment_cmds, launch_cmd, serve_cmd, train_cmd
from . import export_cmd, http_cmd

SUBCOMMANDS = [
    train_cmd.add_parser,
    serve_cmd.add_parsers,
    compare_cmd.add_parser,
    experiment_cmds.add_parsers,
    launch_cmd.add_parser,
    bench_cmd.add_parser,
    export_cmd.add_parser,
    http_cmd.add_parser,
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="deepfm-gluon",
        description="DeepFM and FM from d2l.ai, in MXNet/Gluon: train, evaluate, predict, compare.")
    parser.add_argument("--version", action="version", version=f"deepfm-gluon {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv=None):
    from ..errors import DeepFMError
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except DeepFMError as err:
        print(f"deepfm-gluon {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepfm-gluon {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
