"""Emotion Studio command line: ``python run.py --help``, or no arguments for the menu."""

import sys


def _interrupted() -> int:
    print("interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
    try:  # Ctrl-C while the libraries load is one line too, never a traceback
        from source.cli.main import main

        code = main()
    except KeyboardInterrupt:
        code = _interrupted()
    sys.exit(code)
