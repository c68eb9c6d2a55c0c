"""Shared pytest fixtures.

Test media: ``media["speech.wav"]`` gives the path of a generated file (see ``media_fixtures.py``;
made on first use, cached in tests/.media/). Files with speech skip the test when espeak-ng is not
installed; so do tests marked ``@pytest.mark.needs_espeak`` or using the ``needs_espeak`` fixture.
``shared_data`` is the shared data folder beside the checkout (``../shared/data``), else a skip;
tests using it are marked ``shared_data`` here, and ``@pytest.mark.shared_data("av_samples")``
skips a test (with the reason) when that part of the folder is absent. The markers are declared
in ``pytest.ini`` (``slow``, ``shared_data``, ``needs_espeak``; ``--strict-markers``).
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


SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_data_missing(part: str = "") -> str | None:
    """Why a test of ``../shared/data/<part>`` cannot run, or None when the folder is there."""
    path = SHARED_DATA / part if part else SHARED_DATA
    return None if path.is_dir() else f"../shared/data{'/' + part if part else ''} is absent"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder beside the checkout (``../shared/data``), or a skip."""
    reason = shared_data_missing()
    if reason:
        pytest.skip(reason)
    return SHARED_DATA


@pytest.fixture
def needs_espeak() -> None:
    if media_fixtures.espeak_binary() is None:
        pytest.skip(media_fixtures.ESPEAK_MISSING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the ``shared_data`` fixture (directly or through another fixture) is a
    ``shared_data`` test, so ``-m "not shared_data"`` leaves it out."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("shared_data"):
            item.add_marker(pytest.mark.shared_data)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_espeak") and media_fixtures.espeak_binary() is None:
        pytest.skip(media_fixtures.ESPEAK_MISSING)
    for marker in item.iter_markers("shared_data"):
        reason = shared_data_missing(*marker.args)
        if reason:
            pytest.skip(reason)
