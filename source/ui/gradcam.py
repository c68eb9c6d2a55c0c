"""The Grad-CAM inspector: where the face model looked, for a photo, a snapshot or any frame of
the analysed video; pick the face, the CAM method and the emotion to explain."""

from pathlib import Path

import numpy as np
import streamlit as st

from ..media.decode import read_image
from ..media.probe import IMAGE_EXTENSIONS
from ..options import CAM_METHODS, CamOptions
from .common import Settings, branch_model, friendly_errors, pick_input
from .photo import PHOTO
from .video import RESULT as VIDEO_RESULT

TOP = "its top emotion"
IDENTITY = np.eye(2, 3, dtype=np.float32)  # the crop's own heat map needs no warping


@st.cache_data(show_spinner="Finding the frame…", max_entries=16)
def _video_frame(path: str, time_s: float, max_side: int):
    from ..face.predict import frame_at

    return frame_at(path, time_s, max_side)


def _source_frame(settings: Settings):
    """(the picture to explain, its name), from the chosen source; None when there is none yet."""
    max_side = settings.options.windows.max_frame_side
    photo = st.session_state.get(PHOTO)
    video = st.session_state.get(VIDEO_RESULT)
    sources = ([f"Photo: {photo.name}"] if photo else []) + (
        [f"Video frame: {Path(video.info.path).name}"] if video and video.info.kind == "video" else []
    ) + ["Drop another photo"]
    if st.session_state.get("cam_sources") != sources:  # a new photo or video: show it first
        st.session_state["cam_sources"] = sources
        st.session_state["cam_source"] = sources[0]
    source = st.radio("Picture", sources, horizontal=True, key="cam_source")
    if source.startswith("Photo"):
        return read_image(photo, max_side), photo.name
    if source.startswith("Video"):
        time_s = st.slider("Time (s)", 0.0, float(video.info.duration_s), 0.0, 0.1, key="cam_time")
        return _video_frame(video.info.path, time_s, max_side), f"{Path(video.info.path).name} at {time_s:.1f} s"
    path = pick_input("a photo", IMAGE_EXTENSIONS, "cam")
    return (read_image(path, max_side), path.name) if path else None


def render(settings: Settings) -> None:
    with friendly_errors("Grad-CAM"):
        chosen = _source_frame(settings)
        if chosen is None:
            st.info("Drop a photo here, or analyse a photo, snapshot or video in the other tabs first.")
            return
        frame, name = chosen
        # the face code (cv2, mediapipe, torch) loads once there is a picture, not with the page
        import cv2

        from ..face.cam import default_layer, draw_explanations, explain_faces, overlay_heat
        from ..face.landmarker import no_face_hint
        from ..face.predict import photo_faces

        model = branch_model(settings.options.face_model, settings.options.face_weights)
        faces, entries = photo_faces(model, frame, settings.options.faces)
        if not faces:
            st.warning(f"No face was found in {name}: there is nothing to explain. Pick another picture or "
                       f"time. {no_face_hint()}")
            st.image(frame.image, caption=name, width="stretch")
            return
        labels = [f"{e['face_id']}: {e['top_emotion']} {e['confidence']:.0%}" for e in entries]
        if st.session_state.get("cam_face_labels") != labels:
            # another picture (or time, or model): the browser still shows the former picture's
            # label for an unchanged index, so the choice is set again, which makes Streamlit
            # send the new label (the same face number where this picture has it)
            st.session_state["cam_face_labels"] = labels
            st.session_state["cam_face"] = min(st.session_state.get("cam_face") or 0, len(faces) - 1)
        left, middle, right = st.columns(3)
        with left:
            face_index = st.selectbox("Face", range(len(faces)), key="cam_face",
                                      format_func=lambda i: labels[i])
        with middle:
            method = st.selectbox("CAM method", list(CAM_METHODS), key="cam_method",
                                  help="scorecam is the slowest; eigencam ignores the target emotion.")
        with right:
            target = st.selectbox("Explain", [TOP, *model.labels], key="cam_target")
        options = CamOptions(method, None if target == TOP else target, default_layer(model))
        face = faces[face_index]
        with st.spinner(f"Computing {method}…"):
            explanations = explain_faces(model, frame.image, [face], options)
        crop, heat, explained = explanations[0]
        overlay = draw_explanations(model, frame.image, [face], explanations, options)
        crop_view = overlay_heat(cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB), heat, IDENTITY, options.alpha)
        picture, zoom = st.columns([3, 1])
        with picture:
            st.image(overlay, caption=f"{name}: {method} for {explained}", width="stretch")
        with zoom:
            st.image(crop_view, caption=f"The model's {crop.shape[0]}×{crop.shape[1]} crop, layer "
                                        f"{options.layer}", width="stretch")
            probabilities = entries[face_index]["probabilities"]
            st.caption(f"P({explained}) = {probabilities.get(explained, 0):.0%}")
