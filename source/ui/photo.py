"""The Image / webcam tab: every face of a photo or a webcam snapshot, boxed with its emotion."""

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from ..results.palette import EMOTION_COLORS
from ..fileio import atomic_path
from ..media.decode import read_image
from ..media.probe import IMAGE_EXTENSIONS
from .charts import probability_figure
from .common import (Settings, analyze, branch_model, downloads, dropped_or_captured, friendly_errors, saved_upload,
                     untrained_refusal)

# cv2 and the face code (mediapipe, torch) are imported when a photo is read, not with the page

PHOTO = "photo_path"  # the last photo or snapshot, which the Grad-CAM tab also offers


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def annotate(image: np.ndarray, faces: list, entries: list[dict], landmarks: bool) -> np.ndarray:
    """The photo with each face's box and top emotion, and its 478 landmarks when asked."""
    import cv2

    out = image.copy()
    thickness = max(2, round(max(image.shape[:2]) / 300))
    for face, entry in zip(faces, entries):
        colour = _rgb(EMOTION_COLORS.get(entry["top_emotion"], "#ffffff"))
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, thickness)
        label = f"{entry['face_id']}: {entry['top_emotion']} {entry['confidence']:.0%}"
        scale = 0.35 * thickness
        (width, height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(height + 2 * thickness, y0)
        cv2.rectangle(out, (x0, top - height - 2 * thickness), (x0 + width, top), colour, -1)
        cv2.putText(out, label, (x0, top - thickness), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                    thickness, cv2.LINE_AA)
        if landmarks:
            for x, y, _ in face.landmarks:
                cv2.circle(out, (int(x), int(y)), max(1, thickness // 2), (0, 255, 0), -1)
    return out


def _snapshot() -> Path | None:
    snapshot = st.camera_input("Take a snapshot", key="photo_camera")
    return saved_upload(snapshot, f"snapshot-{datetime.now():%Y%m%d-%H%M%S}.jpg")


def _write_outputs(path: Path, settings: Settings, annotated: np.ndarray) -> dict:
    """The command line's files for this photo (``analyze``), and the boxed picture, once per photo
    and settings (another face model writes them again)."""
    written = st.session_state.setdefault("photo_outputs", {})
    options = replace(settings.options, face=True, audio=False)
    key = (str(path), str(settings.out_dir), options)
    if key not in written:
        outputs = dict(analyze(path, options, settings.out_dir).outputs)
        target = settings.out_dir / f"{path.stem}_faces.png"
        with atomic_path(target) as temporary:
            Image.fromarray(annotated).save(temporary, format="PNG")
        outputs["faces_png"] = target
        written[key] = outputs
    return written[key]


def render(settings: Settings) -> None:
    path = dropped_or_captured("a photo", IMAGE_EXTENSIONS, "photo", "Webcam snapshot", _snapshot)
    if path is None:
        st.info("Drop a photo or take a webcam snapshot: every face is found, boxed and scored.")
        return
    refusal = untrained_refusal(replace(settings.options, face=True, audio=False))
    if refusal:
        st.error(refusal)
        return
    st.session_state[PHOTO] = path
    with friendly_errors(f"Reading {path.name}"):
        from ..face.landmarker import no_face_hint
        from ..face.predict import photo_faces

        model = branch_model(settings.options.face_model, settings.options.face_weights)
        frame = read_image(path, settings.options.windows.max_frame_side)
        faces, entries = photo_faces(model, frame, settings.options.faces)
        show_landmarks = st.toggle("Show landmarks", key="photo_landmarks")
        annotated = annotate(frame.image, faces, entries, show_landmarks)
        picture, scores = st.columns([3, 2])
        with picture:
            st.image(annotated, caption=f"{path.name}: {len(faces)} face(s)", width="stretch")
        with scores:
            if not faces:
                st.warning(f"No face was found in this picture. {no_face_hint()}")
            for entry in entries:
                st.metric(f"Face {entry['face_id']}", entry["top_emotion"], f"{entry['confidence']:.0%} sure",
                          delta_color="off", delta_arrow="off")  # a confidence, not a change: no arrow
                st.plotly_chart(probability_figure(entry["probabilities"], f"Face {entry['face_id']}"),
                                key=f"photo_face_{entry['face_id']}")
        if faces:
            outputs = _write_outputs(path, settings, annotate(frame.image, faces, entries, False))
            st.markdown(f"**Files** (written to `{settings.out_dir}`)")
            downloads(outputs, "photo")
