"""Emotion Studio in the browser: ``streamlit run app.py``.

Drop a video, a voice recording or a photo, or use the webcam; the same ``analyze`` the command
line runs fills the timeline, and writes the same files to the output folder. Each tab lives in
``source/ui``; results stay in the session, so switching tabs loses nothing.
"""

import streamlit as st

from source.ui import audio, gradcam, models, photo, video
from source.ui.common import friendly_errors, sidebar_settings

st.set_page_config(page_title="Emotion Studio", page_icon="🎭", layout="wide")
st.title("Emotion Studio")
st.caption("Emotions over time from faces, voice and words — on your own machine, offline.")

settings = sidebar_settings()
tabs = st.tabs(["Video", "Audio", "Image / webcam", "Grad-CAM", "Models"])
with tabs[0], friendly_errors("The video tab"):
    video.render(settings)
with tabs[1], friendly_errors("The audio tab"):
    audio.render(settings)
with tabs[2], friendly_errors("The image tab"):
    photo.render(settings)
with tabs[3], friendly_errors("The Grad-CAM inspector"):
    gradcam.render(settings)
with tabs[4], friendly_errors("The models tab"):
    models.render()
