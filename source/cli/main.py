"""``run.py``: the subcommands, and the menu when there are none."""

import argparse
import signal
import sys
import threading

from ..errors import StudioError
from . import analyze, assets, batch, models, serve
from .menu import run_menu


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Emotion Studio: emotions over time from faces, voice and words. "
                    "Run without arguments for an interactive menu.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    analyze.register(subparsers)
    batch.register(subparsers)
    serve.register(subparsers)
    models.register(subparsers)
    assets.register(subparsers)
    return parser


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every cleanup (partial files) runs."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def run_command(argv: list[str]) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error or help
        return int(exit_.code or 0)
    try:
        return args.func(args)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return run_menu(run_command)
    return run_command(argv)
