"""``python run.py`` with no arguments: a numbered menu that builds and runs a command line.

It reads plain lines from standard input, so it works over SSH and when piped; every choice
prints the equivalent command before running it, so scripts can do the same.
"""

import shlex
import sys

from ..paths import INPUT_DIR

_ACTIONS = [
    ("Analyse a video, audio file or photo", "analyze", [("path", f"file (e.g. {INPUT_DIR}/clip.mp4)")]),
    ("Analyse every media file in a folder", "batch", [("path", "input folder"), ("--out", "output folder")]),
    ("Start the HTTP service (Ctrl-C stops it)", "serve", []),
    ("Show external model files (assets)", "assets", []),
    ("Fetch and verify all external model files", "assets --fetch", []),
    ("Predict with one model", "predict", [("--model", "model name"), ("path", "file")]),
    ("Preprocess a dataset", "preprocess", [("--model", "model name"), ("--data", "dataset folder")]),
    ("Tune hyperparameters", "tune", [("--model", "model name"), ("--data", "dataset folder")]),
    ("Train a model", "train", [("--model", "model name"), ("--data", "dataset folder")]),
    ("Evaluate a model", "evaluate", [("--model", "model name"), ("--data", "dataset folder")]),
]


def _ask(prompt: str) -> str | None:
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    return None if line == "" else line.strip()  # "" only at end of input


def run_menu(run_command) -> int:
    """Loop until the user quits; ``run_command(argv)`` runs one command and returns its code."""
    while True:
        print("\nEmotion Studio")
        for number, (title, _, _) in enumerate(_ACTIONS, start=1):
            print(f"  {number}. {title}")
        print("  q. Quit")
        choice = _ask("Choose: ")
        if choice is None or choice.lower() in ("q", "quit", "exit"):
            return 0
        if not choice.isdigit() or not 1 <= int(choice) <= len(_ACTIONS):
            print(f"Please type a number from 1 to {len(_ACTIONS)}, or q.")
            continue
        _, command, questions = _ACTIONS[int(choice) - 1]
        argv = command.split()
        for flag, question in questions:
            answer = _ask(f"{question}: ")
            if not answer:
                break
            argv += [answer] if flag == "path" else [flag, answer]
        else:
            print("$ python run.py " + shlex.join(argv))
            run_command(argv)
            continue
        print("Cancelled.")
