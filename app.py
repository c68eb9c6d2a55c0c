"""Emotion Studio in the browser: ``streamlit run app.py``.

Drop a video, a voice recording or a photo; the same ``analyze`` the CLI runs fills a
per-window table, and the files it writes are offered for download.
"""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from source.analysis.pipeline import analyze
from source.errors import StudioError
from source.labels import EMOTIONS
from source.media.probe import SUPPORTED_EXTENSIONS
from source.options import AnalysisOptions, WindowOptions
from source.paths import INPUT_DIR, OUTPUT_DIR

MAX_UPLOAD_MB = 1024

st.set_page_config(page_title="Emotion Studio", layout="wide")
st.title("Emotion Studio")
st.caption("Emotions over time from faces, voice and words.")


def pick_input() -> Path | None:
    upload = st.file_uploader("Drop a video, audio file or photo",
                              type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS])
    if upload is not None:
        if upload.size > MAX_UPLOAD_MB * 2**20:
            st.error(f"{upload.name} is larger than the {MAX_UPLOAD_MB} MB upload limit.")
            return None
        folder = Path(tempfile.mkdtemp(prefix="studio-upload-"))
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        return path
    examples = sorted(p for p in INPUT_DIR.glob("*") if p.suffix.lower() in SUPPORTED_EXTENSIONS)
    if examples:
        choice = st.selectbox("…or pick a file from input_files/", ["—"] + [p.name for p in examples])
        if choice != "—":
            return INPUT_DIR / choice
    return None


with st.sidebar:
    st.header("Settings")
    window_s = st.slider("Window length (s)", 2.0, 10.0, 4.0, 0.5)
    fps = st.slider("Frames per second", 1.0, 10.0, 4.0, 1.0)
    use_face = st.checkbox("Faces", value=True)
    use_audio = st.checkbox("Voice", value=True)
    out_dir = Path(st.text_input("Output folder", str(OUTPUT_DIR)))

path = pick_input()
if path is not None and st.button("Analyse", type="primary"):
    options = AnalysisOptions(windows=WindowOptions(window_s=window_s, fps=fps),
                              face=use_face, audio=use_audio)
    bar = st.progress(0.0, text="Reading the file…")

    def progress(stage: str, done: float, total: float | None) -> None:
        fraction = min(1.0, done / total) if total else 0.0
        bar.progress(fraction, text=f"{stage}: {done:.0f} of {total or 0:.0f} s")

    try:
        st.session_state["result"] = analyze(path, options, out_dir, progress)
        bar.progress(1.0, text="Done")
    except StudioError as error:
        bar.empty()
        st.error(str(error))

result = st.session_state.get("result")
if result is not None:
    st.subheader(Path(result.info.path).name)
    st.write(result.info.describe())
    for warning in result.warnings:
        st.warning(warning)
    table = pd.read_csv(result.outputs["windows_csv"])
    summary = result.summary
    if summary["dominant_emotion"]:
        shares = ", ".join(f"{e} {p:.0%}" for e, p in summary["emotion_share"].items())
        st.metric("Dominant emotion", summary["dominant_emotion"], help=f"Share of time on top: {shares}")
        fused = [f"fused_{e}" for e in EMOTIONS]
        st.area_chart(table.groupby("start_s")[fused].mean().rename(columns=lambda c: c[6:]))
    st.dataframe(table, hide_index=True)
    columns = [c for c in ("smile", "frown", "brow_down", "jaw_open", "speech_ratio") if table[c].notna().any()]
    if columns:
        st.line_chart(table.groupby("start_s")[columns].mean())
    for key, file in result.outputs.items():
        file = Path(file)
        st.download_button(f"Download {file.name}", file.read_bytes(), file_name=file.name, key=key)
