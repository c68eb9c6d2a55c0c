"""The Streamlit app's logic through streamlit.testing.v1.AppTest."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from source.paths import INPUT_DIR

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def photo_in_input_files(media):
    target = INPUT_DIR / "apptest astronaut.png"
    shutil.copy(media["astronaut.png"], target)
    yield target
    target.unlink(missing_ok=True)


def test_app_starts_without_errors():
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "Emotion Studio"


def test_app_analyses_a_picked_file(photo_in_input_files, tmp_path):
    app = AppTest.from_file(APP, default_timeout=120).run()
    app.text_input[0].set_value(str(tmp_path)).run()
    app.selectbox[0].select(photo_in_input_files.name).run()
    app.button[0].click().run()
    assert not app.exception and not app.error
    assert (tmp_path / "apptest astronaut_windows.csv").exists()
    table = app.dataframe[0].value
    assert len(table) == 1 and table["face_id"].iloc[0] == 0
    assert app.metric[0].value == "happy"  # the smiling astronaut, on the shipped face model


def test_app_shows_a_friendly_error_for_a_bad_file(media, tmp_path):
    target = INPUT_DIR / "apptest corrupt.mp4"
    shutil.copy(media["corrupt.mp4"], target)
    try:
        app = AppTest.from_file(APP, default_timeout=60).run()
        app.text_input[0].set_value(str(tmp_path)).run()
        app.selectbox[0].select(target.name).run()
        app.button[0].click().run()
    finally:
        target.unlink()
    assert not app.exception
    assert "could not be read" in app.error[0].value
    assert list(tmp_path.iterdir()) == []
