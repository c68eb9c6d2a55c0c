"""What every tab of the app shares: settings, inputs, models loaded once, analysis with a
progress bar, friendly errors and downloads."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import RerunException

from ..errors import StudioError
from ..options import AnalysisOptions, WindowOptions, window_length_note
from ..paths import INPUT_DIR, OUTPUT_DIR
from ..registry import branch_models, get_model

if TYPE_CHECKING:  # the pipeline and the models (torch, spaCy, mediapipe) load when an analysis runs
    from ..results.records import AnalysisResult
    from ..voice.model import VoiceModel
    from ..face.model import FaceModel

WHISPER_MODELS = ("tiny.en", "base")  # text.transcribe.MODELS' names (kept equal by tests/test_app_startup.py)

log = logging.getLogger("emotion_studio.app")
UPLOAD_PREFIX = "studio-upload-"  # each upload's folder, in the temporary folder


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices, shared by every tab."""

    options: AnalysisOptions
    out_dir: Path


def sidebar_settings() -> Settings:
    with st.sidebar:
        st.header("Settings")
        window_s = st.slider("Window length (s)", 2.0, 10.0, 4.0, 0.5,
                             help="Emotions are reported once per window.")
        window_note = st.empty()  # filled once the fusion method is picked
        fps = st.slider("Video frames per second", 1.0, 10.0, 4.0, 1.0,
                        help="Frames sampled for the face branch; fewer is faster.")
        st.caption("Branches")
        use_face = st.checkbox("Face", value=True)
        face_name = st.selectbox("Face model", branch_models("face"), key="face_model", disabled=not use_face,
                                 format_func=lambda name: name + ("" if _trained(name) else " (untrained: give its file)"),
                                 help="face: the shipped CNN. image_vit: the ResNet-50 + ViT hybrid, which "
                                      "ships untrained; train it and give the file it writes below.")
        face_file = st.text_input("Face model file (optional)", key="face_weights", disabled=not use_face,
                                  help="A weights file written by `python run.py train --model face` or "
                                       "`--model image_vit`; empty: the shipped model.").strip()
        use_voice = st.checkbox("Voice", value=True)
        voices = branch_models("voice")
        voice_name = st.selectbox("Voice model", voices, index=voices.index(AnalysisOptions.voice_model),
                                  key="voice_model", disabled=not use_voice,
                                  format_func=lambda name: name + ("" if _trained(name) else " (untrained: give its file)"),
                                  help="voice_whisper: the default, Whisper-base's encoder states and a small "
                                       "head (RAVDESS and Turkish TurEV-DB voices). voice_whisper_shared: the "
                                       "same over the words branch's own Whisper pass, so faster, a little "
                                       "less accurate. voice_mfcc: the design card's CNN on MFCCs, RAVDESS "
                                       "only; it holds up worse on other voices. The Models tab compares them.")
        voice_file = st.text_input("Voice model file (optional)", key="voice_weights", disabled=not use_voice,
                                   help="A weights file written by `python run.py train --model NAME` for the "
                                        "voice model picked above; empty: the shipped one.").strip()
        use_words = st.checkbox("Words (Whisper transcript)", value=True)
        whisper = st.selectbox("Whisper model", list(WHISPER_MODELS), disabled=not use_words,
                               help="tiny.en: English, fastest. base: multilingual, slower.")
        smooth = st.select_slider("Smoothing (windows)", [1, 3, 5, 7, 9], value=1,
                                  help="Centred moving average of the fused probabilities; 1: none.")
        fusers = fusion_models()
        fusion = st.selectbox("Fusion", [AnalysisOptions.fusion, *fusers], key="fusion",
                              format_func=lambda name: fusers.get(name, name),
                              help="auto: the method best on real media (late_fusion) where it reads what it "
                                   "learned from (a voice to fuse, the default voice and face models, 4-s "
                                   "windows); late elsewhere. late: the mean of the "
                                   "branches, weighted by their reliability and the words' emotional "
                                   "evidence; unsure windows are marked uncertain. Or one fusion model, "
                                   "guarded the same way (the Models tab compares them).")
        fusion_file = st.text_input("Fusion model file (optional)", key="fusion_weights",
                                    disabled=_rule(fusion),
                                    help="A weights file written by `python run.py train --model NAME` for "
                                         "the fusion model picked above; empty: the shipped one.").strip()
        # auto falls back to late fusion in windows of another length (pipeline.auto_uses_its_model)
        learned_fusion = None if fusion == "auto" or _rule(fusion) else fusion
        if note := window_length_note(window_s, learned_fusion):
            # a learned fusion model in windows it never learned from: a warning; otherwise what the length does
            (window_note.warning if learned_fusion else window_note.caption)(note)
        out_dir = Path(st.text_input("Output folder", str(OUTPUT_DIR), key="out_dir",
                                     help="Every analysis writes the same files as the command line."))
        st.caption(f"Uploads up to {upload_limit_mb()} MB.")
    options = AnalysisOptions(windows=WindowOptions(window_s=window_s, fps=fps), face=use_face,
                              face_model=face_name, face_weights=face_file or None, audio=use_voice or use_words,
                              voice_model=voice_name if use_voice else None,
                              voice_weights=(voice_file or None) if use_voice else None, words=use_words,
                              whisper_model=whisper,
                              smooth_windows=smooth, fusion=fusion,
                              fusion_weights=None if _rule(fusion) else fusion_file or None)
    return Settings(options, out_dir)


def _rule(name: str) -> bool:
    """Whether the registry's fusion ``name`` (or ``auto``) is a fixed rule, which takes no file."""
    return get_model(name).rule


def _trained(name: str) -> bool:
    """Whether the studio ships weights for the registry's model ``name``."""
    return get_model(name).ships_trained


def untrained_refusal(options: AnalysisOptions) -> str | None:
    """What to say, before anything runs, when a model picked in the sidebar ships untrained and
    no file of it was given; None when every model picked can run."""
    picked = []
    if options.face and not options.face_weights and not _trained(options.face_model):
        picked.append((options.face_model, "Face model file", "face model"))
    if options.audio and options.voice_model and not options.voice_weights and not _trained(options.voice_model):
        picked.append((options.voice_model, "Voice model file", "voice model"))
    if not options.fusion_weights and not _trained(options.fusion):
        picked.append((options.fusion, "Fusion model file", "fusion"))
    return " ".join(f"{name} ships untrained: train it with `python run.py train --model {name} --data DIR`, "
                    f"then give the file it writes in the sidebar's “{field}”, or pick another {what}."
                    for name, field, what in picked) or None


@st.cache_resource
def fusion_models() -> dict[str, str]:
    """name -> how the picker shows it: the registry's fusions, the rules (late) first, untrained
    models marked (they refuse to run and name their train command)."""
    return {name: name + ("" if get_model(name).ships_trained else " (untrained)") for name in branch_models("fusion")}


def upload_limit_mb() -> int:
    return int(st.get_option("server.maxUploadSize"))


def saved_upload(upload, name: str | None = None) -> Path | None:
    """An uploaded file written once to this session's upload folder (as ``name``, default its
    own); None (and an error shown) when it is over the upload limit."""
    if upload is None:
        return None
    limit = upload_limit_mb()
    if upload.size == 0:
        st.error(f"{upload.name} is empty (0 bytes).")
        return None
    if upload.size > limit * 2**20:
        st.error(f"{upload.name} is {upload.size / 2**20:.0f} MB, over the {limit} MB upload limit. "
                 f"Analyse it with the command line instead: python run.py analyze PATH")
        return None
    saved = st.session_state.setdefault("uploads", {})
    if upload.file_id not in saved:
        folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
        path = folder / Path(name or upload.name).name
        path.write_bytes(upload.getbuffer())
        saved[upload.file_id] = path
    return saved[upload.file_id]


def pick_input(what: str, extensions: tuple[str, ...], key: str) -> Path | None:
    """A dropped ``what`` (a video, a photo...), else a file picked from ``input_files/``."""
    upload = st.file_uploader(f"Drop {what} (" + ", ".join(e.lstrip(".") for e in extensions) + ")",
                              type=[e.lstrip(".") for e in extensions], key=f"{key}_upload")
    if upload is not None:
        return saved_upload(upload)
    examples = sorted(p.name for p in INPUT_DIR.glob("*") if p.suffix.lower() in extensions)
    if examples:
        choice = st.selectbox("…or pick a file from input_files/", ["—", *examples], key=f"{key}_pick")
        if choice != "—":
            return INPUT_DIR / choice
    return None


def dropped_or_captured(what: str, extensions: tuple[str, ...], key: str, capture_label: str,
                        capture: Callable[[], Path | None]) -> Path | None:
    """A choice between dropping ``what`` (or picking it from ``input_files/``) and ``capture``."""
    sources = (f"Drop {what}", capture_label)
    source = st.radio("Source", sources, horizontal=True, key=f"{key}_source", label_visibility="collapsed")
    return pick_input(what, extensions, key) if source == sources[0] else capture()


@contextmanager
def friendly_errors(what: str) -> Iterator[None]:
    """Show what went wrong in the page, never a traceback: the studio's own errors say what to
    do; anything else is named and logged in full on the server."""
    try:
        yield
    except StudioError as error:
        st.error(without_upload_folders(str(error)))
    except ValueError as error:
        st.error(without_upload_folders(f"{what}: {error}"))
    except Exception as error:  # the page must survive whatever a file or model does
        log.exception("%s failed", what)
        st.error(without_upload_folders(f"{what} failed unexpectedly ({type(error).__name__}: {error}). "
                                        f"The full report is in the server's log."))


_UPLOAD_FOLDER = re.compile(re.escape(str(Path(tempfile.gettempdir()) / UPLOAD_PREFIX)) + r"[^/\\'\"]*[/\\]")


def without_upload_folders(message: str) -> str:
    """``message`` with the server's temporary upload folders taken out of every path: a dropped
    file is named as the user knows it."""
    return _UPLOAD_FOLDER.sub("", message)


def analyze(path: str | Path, options: AnalysisOptions, out_dir: str | Path | None = None, progress=None
            ) -> AnalysisResult:
    """The pipeline's ``analyze``, imported when the first analysis runs: the page itself never
    waits for torch, spaCy or mediapipe."""
    from ..analysis.pipeline import analyze as run_analysis

    return run_analysis(path, options, out_dir, progress)


@st.cache_resource(show_spinner="Loading the model…")
def branch_model(name: str, weights: str | None) -> FaceModel | VoiceModel:
    """The model ``name`` (a registry name: ``AnalysisOptions.face_model``, ``voice_model``) from
    ``weights`` (None: its shipped file), loaded once per process."""
    from ..analysis.pipeline import loaded

    return loaded(get_model(name).load, weights)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


STAGE_WORDS = {"decode": "decoding", "face": "faces", "faces": "faces", "voice": "voice", "words": "words",
               "fusion": "fusion", "writing": "writing the files", "plots": "drawing the plots"}


def progress_text(stage: str, done: float, total: float | None, elapsed_s: float) -> tuple[float, str]:
    """(fraction done, what the bar says) for one progress report of ``analyze``: the stage when
    the pipeline names it (decode, faces, voice, words, fusion...), the media seconds done and
    the time left, estimated from the seconds since the first window began."""
    if stage == "loading models":  # reported once the models are in memory
        return 0.0, "Models loaded; reading the first window (decoding, faces, voice, words)…"
    fraction = min(1.0, done / total) if total else 0.0
    text = f"Analysing{': ' + STAGE_WORDS.get(stage, stage) if stage != 'analysing' else ''} · " \
           f"{done:.0f} of {total or 0:.0f} s"
    if 0 < fraction < 1 and elapsed_s > 1:
        text += f" · about {_clock(elapsed_s / fraction * (1 - fraction))} left"
    return fraction, text


class _Rerun:
    """Streamlit calls that survive a rerun request: a widget changed during an analysis makes
    the next ``st`` call raise ``RerunException``, which would throw the analysis away. The
    request is kept instead (the latest one), the call made again, and :meth:`resume` reruns the
    script once the analysis is finished and kept: its result stands, and the new settings
    apply from the next run."""

    def __init__(self):
        self.pending: RerunException | None = None

    def __call__(self, call: Callable, *args, **kwargs):
        for _ in range(100):  # each retry consumes one request: a fresh one only if the user changes more
            try:
                return call(*args, **kwargs)
            except RerunException as request:
                self.pending = request
        return None

    def resume(self) -> None:
        if self.pending is not None:
            raise self.pending


def analyse_with_progress(path: Path, options: AnalysisOptions, out_dir: Path, result_key: str) -> AnalysisResult:
    """``analyze`` with a bar naming the stage, the media time done and the time left; the result
    is kept in ``st.session_state[result_key]``. A setting changed meanwhile does not stop the
    run: it finishes with the settings it started with, then the page reruns with the new ones."""
    rerun = _Rerun()
    bar = rerun(st.progress, 0.0, text=f"Reading {path.name}…")
    started = time.monotonic()
    first_window: list[float] = []  # when the windows began: the rate excludes model loading

    def show(fraction: float, text: str) -> None:
        if rerun.pending is not None:
            text += " · settings changed: they apply to the next analysis"
        rerun(bar.progress, fraction, text=text)

    def progress(stage: str, done: float, total: float | None) -> None:
        now = time.monotonic()
        if stage != "loading models" and not first_window:
            first_window.append(now)
        show(*progress_text(stage, done, total, now - first_window[0] if first_window else 0.0))

    try:
        result = analyze(path, options, out_dir, progress)
    finally:
        rerun(bar.empty)
    st.session_state[result_key] = result
    rerun(st.toast, f"{path.name} analysed in {_clock(time.monotonic() - started)}.")
    rerun.resume()
    return result


def settings_changed_note(result: AnalysisResult, options: AnalysisOptions) -> None:
    """Say so when the result on show was made with other settings than the sidebar's now."""
    if result.options != options:
        st.info("The settings changed since this analysis (it used the ones it started with): press "
                "Analyse again to apply them.")


DOWNLOAD_LABELS = {  # what each output is, in the order the buttons show them
    "windows_csv": "Per-window CSV", "frames_csv": "Per-frame CSV", "transcript_srt": "Transcript (SRT)",
    "analysis_json": "Full analysis (JSON)", "plots_html": "Interactive plots (HTML)",
    "timeline_png": "Timeline (PNG)", "distribution_png": "Share of time (PNG)", "heatmap_png": "Heat map (PNG)",
    "faces_png": "Boxed faces (PNG)",
}


def _has_rows(path: Path) -> bool:
    """False for a CSV that holds only its header (the frames of an audio file)."""
    with open(path, encoding="utf-8") as handle:
        return sum(1 for _ in zip(range(2), handle)) > 1


def downloads(outputs: dict[str, Path], key: str) -> None:
    """One download button per file written, labelled by what it is (the file's name is its
    help), in columns; a CSV with no rows is left out."""
    order = list(DOWNLOAD_LABELS)
    files = sorted(((kind, Path(file)) for kind, file in outputs.items() if Path(file).exists()),
                   key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    files = [(kind, file) for kind, file in files if file.suffix != ".csv" or _has_rows(file)]
    for column, (kind, file) in zip(st.columns(min(4, len(files)) or 1) * len(files), files):
        label = DOWNLOAD_LABELS.get(kind, f"{file.suffix[1:].upper()} file")
        with column:
            st.download_button(f"⬇ {label}", file.read_bytes(), file_name=file.name, help=file.name,
                               key=f"{key}_{kind}", width="stretch", on_click="ignore")
