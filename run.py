"""Emotion Studio command line: ``python run.py --help``, or no arguments for the menu."""

import sys

from source.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
