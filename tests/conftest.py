"""Shared pytest fixtures.

Test media: ``media["speech.wav"]`` gives the path of a generated file (see ``media_fixtures.py``;
made on first use, cached in tests/.media/). Files with speech skip the test when espeak-ng is not
installed; so do tests marked ``@pytest.mark.needs_espeak`` or using the ``needs_espeak`` fixture.
``shared_data`` is the shared data folder beside the checkout (``../shared/data``), else a skip.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
if str(TESTS_DIR) not in sys.path:  # pytest's importlib mode does not add it
    sys.path.insert(0, str(TESTS_DIR))

import media_fixtures  # noqa: E402


class Media:
    """The generated test media: ``media[name]`` -> Path, made on first use."""

    names = media_fixtures.MEDIA_NAMES
    speech_text = media_fixtures.SPEECH_TEXT
    speech_sentences = media_fixtures.SPEECH_SENTENCES

    def __init__(self, folder: Path):
        self.dir = folder

    def __getitem__(self, name: str) -> Path:
        try:
            return media_fixtures.media_path(name, self.dir)
        except media_fixtures.EspeakMissing as exc:
            pytest.skip(str(exc))

    def __repr__(self) -> str:
        return f"Media({str(self.dir)!r})"


@pytest.fixture(scope="session")
def media() -> Media:
    return Media(media_fixtures.MEDIA_DIR)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder beside the checkout (``../shared/data``), or a skip."""
    path = REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is absent")
    return path


@pytest.fixture
def needs_espeak() -> None:
    if media_fixtures.espeak_binary() is None:
        pytest.skip(media_fixtures.ESPEAK_MISSING)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_espeak: skip the test when espeak-ng is not installed"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_espeak") and media_fixtures.espeak_binary() is None:
        pytest.skip(media_fixtures.ESPEAK_MISSING)
