"""The menu on a real terminal (a pseudo-terminal): arrow keys, Enter, the printed command."""

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOWN, UP, ENTER = "\x1b[B", "\x1b[A", "\r"


class Terminal:
    """``run.py`` with a pseudo-terminal as its stdin and stdout."""

    def __init__(self):
        master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "run.py")], stdin=slave,
                                        stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
        os.close(slave)
        self.master, self.seen = master, ""

    def expect(self, text: str, timeout: float = 60) -> str:
        """Read until ``text`` has appeared since the last expect; return what was read."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            assert time.monotonic() < deadline, f"{text!r} never appeared; the screen:\n{self.seen}"
            if select.select([self.master], [], [], 0.5)[0]:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    break
        assert text in self.seen, f"{text!r} never appeared; the screen:\n{self.seen}"
        before, _, after = self.seen.partition(text)
        self.seen = after
        return before + text

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def move_to(self, option: str, key: str = DOWN, limit: int = 20) -> None:
        """Press ``key`` until ``option`` is the highlighted one."""
        for _ in range(limit):
            self.send(key)
            self.expect("\x1b[7m> ")
            if self.expect("\x1b[0m").startswith(option):
                return
        raise AssertionError(f"{option!r} was never highlighted")

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


def highlighted(option: str) -> str:
    return f"\x1b[7m> {option}"


def test_arrow_keys_choose_a_model_action_and_print_its_command():
    terminal = Terminal()
    terminal.expect(highlighted("Analyse a video, audio file or photo"))
    terminal.send(DOWN)
    terminal.expect(highlighted("Analyse every media file in a folder"))
    terminal.send(UP + UP)  # wraps round to the last option
    terminal.expect(highlighted("Quit"))
    terminal.send(DOWN)
    terminal.expect(highlighted("Analyse a video, audio file or photo"))
    terminal.move_to("Model voice_mfcc")  # models follow the general actions, in name order
    terminal.send(ENTER)
    terminal.expect("voice_mfcc: voice")
    terminal.expect(highlighted("Preprocess a dataset (cache its features)"))
    terminal.send(UP + UP)  # Back, then Show the model card
    terminal.expect(highlighted("Show the model card"))
    terminal.send(ENTER)
    terminal.expect("$ python run.py card --model voice_mfcc")
    terminal.expect("# Voice emotion model")
    terminal.expect(highlighted("Preprocess a dataset (cache its features)"))
    terminal.send("q")
    terminal.expect(highlighted("Analyse a video, audio file or photo"))
    terminal.send("q")
    assert terminal.close() == 0


def test_model_submenu_header_says_the_name_once(monkeypatch, capsys):
    """Numbered menus (piped input): the header of the model face's submenu is "Model face: CNN ...",
    not "face: face: CNN ..." (descriptions already start with the branch)."""
    import io

    from source.cli import menu
    from source.registry import list_models

    names = [entry.name for entry in list_models()]
    number = len(menu._ACTIONS) + names.index("face") + 1
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{number}\nq\nq\n"))
    ran = []
    assert menu.run_menu(ran.append) == 0
    out = capsys.readouterr().out
    assert "\nModel face: CNN on aligned grayscale face crops" in out, out
    assert "face: face:" not in out and not ran
    for entry in list_models():  # no header repeats its model's name
        title = menu.model_title(entry)
        assert not title.startswith(f"Model {entry.name}: {entry.name}:"), title


def test_keys_typed_while_the_menu_starts_are_kept():
    """Type-ahead: arrow keys pressed before the menu is drawn (while Python and the registry load)
    move the highlight once it is; switching the terminal to key-by-key mode must not flush them."""
    terminal = Terminal()
    try:
        terminal.send(DOWN + DOWN)  # at once: the process is still starting, the terminal line-buffered
        terminal.expect(highlighted("Analyse a video, audio file or photo"))  # the first drawing
        terminal.expect(highlighted("Start the HTTP service (Ctrl-C stops it)"), timeout=20)
        terminal.send("q")
        assert terminal.close() == 0
    finally:
        if terminal.process.poll() is None:  # it failed: the menu still waits for keys
            terminal.process.kill()
