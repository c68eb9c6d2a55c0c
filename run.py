"""Emotion Studio command line: ``python run.py --help``, or no arguments for the menu."""

import signal
import sys

REPEAT_S = 0.5  # Ctrl-C is raised again this often until it stops the command


def _on_interrupt(signum, frame) -> None:
    # raised again and again until it lands: a library that swallows every exception while it
    # imports (a bare ``except:``) must not turn Ctrl-C into a finished run
    signal.setitimer(signal.ITIMER_REAL, REPEAT_S)
    raise KeyboardInterrupt


def _interrupted() -> int:
    signal.setitimer(signal.ITIMER_REAL, 0)
    print("interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _on_interrupt)
    signal.signal(signal.SIGALRM, _on_interrupt)
    try:  # Ctrl-C while the libraries load is one line too, never a traceback
        from source.cli.main import main

        code = main()
    except KeyboardInterrupt:
        code = _interrupted()
    sys.exit(code)
