"""The Audio tab: a voice recording (dropped or recorded here) through the voice and words branches,
with its waveform and the MFCCs the voice model hears."""

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import streamlit as st

from ..media.decode import audio_between, audio_envelope
from ..media.probe import AUDIO_EXTENSIONS
from ..options import SAMPLE_RATE
from .charts import heard_figure, waveform_figure
from .common import (Settings, analyse_with_progress, branch_model, dropped_or_captured, friendly_errors,
                     saved_upload, settings_changed_note, untrained_refusal)
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
        _what_the_voice_hears(result, index)


def _what_the_voice_hears(result, index: int) -> None:
    """The window as the analysis's voice model reads it: MFCCs, or Whisper's log-mel spectrogram
    with the part its encoder hears (the speech Silero VAD found) left undimmed."""
    from ..voice.whisper_encoder import MEL_HOP_S, log_mel
    from ..voice.whisper_voice import WhisperTransform

    options, window = result.options, result.windows[index]
    if options.voice_model is None:
        return
    if window.voice is None:
        st.caption(f"What the voice model hears in window {index}: nothing it could score "
                   f"({window.voice_note or 'no sound'}).")
        return
    model = branch_model(options.voice_model, options.voice_weights)
    audio = audio_between(result.info.path, window.start_s, window.end_s)
    transform = model.transform
    if not isinstance(transform, WhisperTransform):
        st.caption(f"What the voice model hears in window {index}: {transform.n_mfcc} MFCCs over "
                   f"{transform.duration_s:.0f} s (silence trimmed, padded or cut, normalised)")
        st.plotly_chart(heard_figure(transform(audio)[0], transform.hop_length / transform.sample_rate,
                                     window.start_s, "MFCC"), key="audio_heard")
        return
    heard = [(window.start_s + start / SAMPLE_RATE, window.start_s + end / SAMPLE_RATE)
             for start, end in transform.heard_spans(audio)]
    st.caption(f"What the voice model hears in window {index}: Whisper's log-mel spectrogram; the model reads "
               f"the encoder's states over the speech Silero VAD found ({sum(e - s for s, e in heard):.1f} s; "
               "the rest is dimmed)")
    st.plotly_chart(heard_figure(log_mel(audio).numpy().T, MEL_HOP_S, window.start_s, "mel band", heard),
                    key="audio_heard")
