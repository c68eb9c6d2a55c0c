"""The Audio tab: a voice recording (dropped or recorded here) through the voice and words branches,
with its waveform and the MFCCs the voice model hears."""

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import streamlit as st

from ..media.decode import audio_between, audio_envelope
from ..media.probe import AUDIO_EXTENSIONS
from .charts import mfcc_figure, waveform_figure
from .common import (Settings, analyse_with_progress, dropped_or_captured, friendly_errors, saved_upload,
                     settings_changed_note, untrained_refusal, voice_model)
from .results import show_analysis

RESULT = "audio_result"


@st.cache_data(show_spinner="Drawing the waveform…", max_entries=8)
def _envelope(path: str, modified: float, duration_s: float):
    return audio_envelope(path, duration_s)


def _recording() -> Path | None:
    recording = st.audio_input("Record your voice", key="audio_record")
    # named by when it was recorded: the outputs of two recordings must not overwrite each other
    return saved_upload(recording, f"recording-{datetime.now():%Y%m%d-%H%M%S}.wav")


def render(settings: Settings) -> None:
    path = dropped_or_captured("a recording", AUDIO_EXTENSIONS, "audio", "Record with the microphone", _recording)
    options = replace(settings.options, face=False)
    refusal = untrained_refusal(options)
    if refusal:
        st.error(refusal)
    if path is not None and st.button(f"Analyse {path.name}", type="primary", key="audio_run",
                                      disabled=refusal is not None):
        with friendly_errors(f"Analysing {path.name}"):
            analyse_with_progress(path, options, settings.out_dir, RESULT)
    result = st.session_state.get(RESULT)
    if result is None:
        if path is None:
            st.info("Drop a recording or record one, then press Analyse: voice and word emotions per window.")
        return
    settings_changed_note(result, options)
    index = show_analysis(result, "audio")
    st.markdown("**Signal**")
    info = result.info
    with friendly_errors("Drawing the signal"):
        times, low, high = _envelope(info.path, Path(info.path).stat().st_mtime, info.duration_s)
        st.plotly_chart(waveform_figure(times, low, high), key="audio_waveform")
        window = result.windows[index]
        model = voice_model(result.options.voice_weights)
        transform = model.transform
        features = transform(audio_between(info.path, window.start_s, window.end_s))
        st.caption(f"What the voice model hears in window {index}: {transform.n_mfcc} MFCCs over "
                   f"{transform.duration_s:.0f} s (silence trimmed, padded or cut, normalised)")
        st.plotly_chart(mfcc_figure(features[0], transform.hop_length / transform.sample_rate,
                                    window.start_s), key="audio_mfcc")
