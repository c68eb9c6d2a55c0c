"""The Video tab: drop or pick a video, analyse it, explore its timeline."""

import streamlit as st

from ..media.probe import VIDEO_EXTENSIONS
from .common import (Settings, analyse_with_progress, friendly_errors, pick_input, settings_changed_note,
                     untrained_refusal)
from .results import show_analysis

RESULT = "video_result"


def render(settings: Settings) -> None:
    path = pick_input("a video", VIDEO_EXTENSIONS, "video")
    refusal = untrained_refusal(settings.options)
    if refusal:  # said before anything runs, with what to do in the app
        st.error(refusal)
    if path is not None and st.button(f"Analyse {path.name}", type="primary", key="video_run",
                                      disabled=refusal is not None):
        with friendly_errors(f"Analysing {path.name}"):
            analyse_with_progress(path, settings.options, settings.out_dir, RESULT)
    result = st.session_state.get(RESULT)
    if result is None:
        if path is None:  # with a file loaded (an error above, or not analysed yet) the hint is noise
            st.info("Drop a video or pick one from input_files/, then press Analyse. Faces, voice and "
                    "words are read window by window and fused into one emotion timeline.")
        return
    settings_changed_note(result, settings.options)
    show_analysis(result, "video")
