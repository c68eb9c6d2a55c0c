"""``python run.py`` with no arguments: a menu that builds and runs a command line.

On a terminal (also over SSH) choices are made with the arrow keys (or j/k) and Enter; without
one (piped input, scripts) it shows numbered choices and reads plain lines. Every choice prints
the equivalent command before running it, so scripts can do the same. Models come from the
registry, so a model registered later gets its own menu with no change here.
"""

import os
import select
import shlex
import sys
import termios
import tty

from ..paths import INPUT_DIR
from ..registry import list_models

_ACTIONS = [
    ("Analyse a video, audio file or photo", "analyze", [("path", f"file (e.g. {INPUT_DIR}/clip.mp4)")]),
    ("Analyse every media file in a folder", "batch", [("path", "input folder"), ("--out", "output folder")]),
    ("Start the HTTP service (Ctrl-C stops it)", "serve", []),
    ("Show external model files (assets)", "assets", []),
    ("Fetch and verify all external model files", "assets --fetch", []),
]
# each model's menu: the actions its registry entry supports (the first word is the command)
_MODEL_ACTIONS = [
    ("Preprocess a dataset (cache its features)", "preprocess", [("--data", "dataset folder")]),
    ("Tune hyperparameters", "tune", [("--data", "dataset folder"), ("--max-evals", "number of trials")]),
    ("Train", "train", [("--data", "dataset folder")]),
    ("Evaluate", "evaluate", [("--data", "dataset folder")]),
    ("Predict a file", "predict", [("path", "file")]),
    ("Predict from the webcam", "predict --webcam", []),
    ("Show the model card", "card", []),
]
_ALWAYS = ("card",)  # actions every model has: they need no work from the model family


def _ask(prompt: str) -> str | None:
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    return None if line == "" else line.strip()  # "" only at end of input


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _read_key(fd: int) -> str:
    """One key press: "up", "down", "enter", "escape", "eof" or the character typed."""
    data = os.read(fd, 1)
    if not data:
        return "eof"
    if data == b"\x1b":
        if not select.select([fd], [], [], 0.05)[0]:
            return "escape"  # a lone Escape, not the start of an arrow key's sequence
        return {b"[A": "up", b"[B": "down", b"OA": "up", b"OB": "down"}.get(os.read(fd, 2), "")
    if data in (b"\r", b"\n"):
        return "enter"
    return data.decode(errors="ignore")


def _arrow_choice(title: str, options: list[str]) -> int | None:
    """The index chosen with the arrow keys and Enter; None for q, Escape or end of input."""
    fd, out = sys.stdin.fileno(), sys.stdout
    saved = termios.tcgetattr(fd)
    index, drawn = 0, False
    try:
        # key by key, no echo; Ctrl-C still interrupts. TCSANOW, not setcbreak's default TCSAFLUSH,
        # which discards what is typed ahead: keys pressed while the menu starts (or while a
        # command ran) are read as soon as the menu is drawn
        tty.setcbreak(fd, termios.TCSANOW)
        out.write("\x1b[?25l")  # hide the cursor while the menu is drawn
        while True:
            if drawn:
                out.write(f"\x1b[{len(options)}F")  # back up to the first option and redraw
            else:
                # the line is cleared first: keys typed ahead were echoed there ("^[[B") before
                # the terminal stopped echoing; they are not lost, only their echo is wiped
                out.write(f"\r\x1b[2K\n{title}  (arrows or j/k to move, Enter to choose, q to go back)\n")
            for i, option in enumerate(options):
                out.write("\x1b[2K" + (f"\x1b[7m> {option}\x1b[0m" if i == index else f"  {option}") + "\n")
            out.flush()
            drawn = True
            key = _read_key(fd)
            if key in ("up", "k"):
                index = (index - 1) % len(options)
            elif key in ("down", "j"):
                index = (index + 1) % len(options)
            elif key == "enter":
                return index
            elif key in ("q", "escape", "eof"):
                return None
    finally:
        out.write("\x1b[?25h")
        out.flush()
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _numbered_choice(title: str, options: list[str], leave: str) -> int | None:
    """The index typed as a number; None for q or end of input."""
    while True:
        print(f"\n{title}")
        for number, option in enumerate(options, start=1):
            print(f"  {number}. {option}")
        print(f"  q. {leave}")
        choice = _ask("Choose: ")
        if choice is None or choice.lower() in ("q", "quit", "exit"):
            return None
        if choice.isdigit() and 1 <= int(choice) <= len(options):
            return int(choice) - 1
        print(f"Please type a number from 1 to {len(options)}, or q.")


def _choose(title: str, options: list[str], leave: str) -> int | None:
    if _on_terminal():
        choice = _arrow_choice(title, options + [leave])
        return None if choice == len(options) else choice
    return _numbered_choice(title, options, leave)


def _run_action(run_command, command: str, questions, model: str | None = None) -> None:
    """Ask the action's questions, print the command line and run it."""
    words = command.split()
    argv = words[:1] + (["--model", model] if model else []) + words[1:]
    for flag, question in questions:
        answer = _ask(f"{question}: ")
        if not answer:
            print("Cancelled.")
            return
        argv += [answer] if flag == "path" else [flag, answer]
    print("$ python run.py " + shlex.join(argv))
    run_command(argv)


def model_title(entry) -> str:
    """A model submenu's header: "Model NAME: description", the name said once even where the
    description already starts with it ("face: CNN on ..." for the model face)."""
    description = entry.description
    if description.startswith(f"{entry.name}:"):
        description = description[len(entry.name) + 1:].lstrip()
    return f"Model {entry.name}: {description}"


def _model_menu(run_command, entry) -> None:
    actions = [action for action in _MODEL_ACTIONS
               if action[1].split()[0] in entry.commands or action[1] in _ALWAYS]
    while True:
        choice = _choose(model_title(entry), [title for title, _, _ in actions], "Back")
        if choice is None:
            return
        _, command, questions = actions[choice]
        _run_action(run_command, command, questions, entry.name)


def run_menu(run_command) -> int:
    """Loop until the user quits; ``run_command(argv)`` runs one command and returns its code."""
    models = list_models()
    titles = [title for title, _, _ in _ACTIONS] + [f"Model {e.name}" for e in models]
    while True:
        choice = _choose("Emotion Studio", titles, "Quit")
        if choice is None:
            return 0
        if choice < len(_ACTIONS):
            _, command, questions = _ACTIONS[choice]
            _run_action(run_command, command, questions)
        else:
            _model_menu(run_command, models[choice - len(_ACTIONS)])
