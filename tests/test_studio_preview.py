"""The video preview plays whatever was analysed (issue 28, item 4): inputs a browser cannot play
(MPEG-4 part 2 in AVI, H.264 in FLV or MKV) get a browser-playable MP4 made with the bundled
ffmpeg, with the input's timestamps (the timeline's seeking still lands on a window's start)."""

import pytest

from source.media.probe import probe
from source.ui.preview import browser_preview, playable


@pytest.mark.parametrize("name, plays", [("astronaut_talking.mp4", True), ("astronaut_talking.webm", True),
                                         ("astronaut_talking.avi", False), ("astronaut_talking.flv", False),
                                         ("astronaut_talking.mkv", False)])
def test_which_inputs_a_browser_plays(media, name, plays):
    assert playable(probe(media[name])) == plays


@pytest.mark.parametrize("name", ["astronaut_talking.avi", "astronaut_talking.flv"])
def test_unplayable_input_gets_a_playable_preview_of_the_same_length(media, name, tmp_path, monkeypatch):
    monkeypatch.setattr("source.ui.preview.PREVIEW_DIR", tmp_path)
    info = probe(media[name])
    preview = browser_preview(info)
    assert preview.parent == tmp_path and preview.suffix == ".mp4"
    made = probe(preview)
    assert playable(made) and made.video_codec == "h264" and made.audio_codec == "aac"
    assert made.duration_s == pytest.approx(info.duration_s, abs=0.15)
    assert browser_preview(info) == preview and len(list(tmp_path.iterdir())) == 1  # made once
    mp4 = probe(media["astronaut_talking.mp4"])
    assert browser_preview(mp4) == media["astronaut_talking.mp4"]  # a playable file is sent as it is
