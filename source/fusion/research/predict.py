"""A fusion family's model over a media file: windows slid over it (the family's window and hop),
each window's face crops (the largest face of each sampled frame) and speech read the way the
model was trained, probabilities per window, a CSV, a JSON and the timeline plots."""

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ...audio.model import MIN_SPEECH_RATIO
from ...errors import MediaError
from ...face.landmarker import FaceDetection, FaceLandmarker
from ...fileio import atomic_path, write_json
from ...media.decode import DecodeReport, Frame, iter_audio, iter_frames
from ...media.probe import probe
from ...media.speech import speech_activity
from ...media.windows import Window, iter_windows
from ...results.plots import write_plots
from ...results.summary import summarize
from ..data import FRAMES
from .family import FamilyModel


def face_crops(picked: list[tuple[Frame, FaceDetection | None]], model: FamilyModel) -> tuple[np.ndarray, np.ndarray]:
    """(FRAMES, size, size) uint8 crops of one face in a window's frames (None: not in that frame),
    evenly resampled to ``FRAMES``, and which hold a face."""
    transform = model.inputs.face_transform or model.inputs.face.transform
    if not picked:
        return np.zeros((FRAMES, transform.size, transform.size), np.uint8), np.zeros(FRAMES, bool)
    crops = np.zeros((len(picked), transform.size, transform.size), dtype=np.uint8)
    found = np.zeros(len(picked), dtype=bool)
    for i, (frame, face) in enumerate(picked):
        if face is not None:
            crops[i] = transform.crop(frame.image, face.landmarks)
            found[i] = True
    chosen = np.linspace(0, len(crops) - 1, FRAMES).round().astype(int)
    return crops[chosen], found[chosen]


def largest_faces(window: Window, landmarker: FaceLandmarker) -> list[tuple[Frame, FaceDetection | None]]:
    """Each frame of the window with its largest face (None: no face)."""
    picked = []
    for frame in window.frames:
        faces = landmarker.detect(frame.image, frame.time_s)
        picked.append((frame, max(faces, key=lambda f: f.area) if faces else None))
    return picked


def voice_embedding(model: FamilyModel, audio: np.ndarray | None) -> np.ndarray | None:
    """A window's embedding by the family's own voice model (``inputs.voice``), as the analysis's
    voice branch makes it; None without speech, or for a family that reads MFCCs."""
    return model.inputs.voice.encode_window(audio)[0] if model.inputs.voice is not None else None


def window_tensors(model: FamilyModel, crops: np.ndarray, found: np.ndarray, audio: np.ndarray | None,
                   embedding: np.ndarray | None) -> tuple[torch.Tensor, ...]:
    """The ``WindowBatch`` tensors (a batch of one) of a window, as the model reads them.
    ``embedding``: the window's ``voice_embedding`` (made once per window, by whoever heard it:
    the analysis's voice branch is this voice model); a family that reads MFCCs makes them from
    ``audio``."""
    inputs = model.inputs
    if inputs.voice is not None:  # the frozen models' embeddings
        speaks = embedding is not None
        voice = (torch.from_numpy(embedding) if speaks
                 else torch.zeros(inputs.voice.network.embedding_size))
        faces = inputs.face.encode(torch.from_numpy(inputs.face.transform.normalize(crops)))[0]
    else:
        speaks = audio is not None and speech_activity(audio)["speech_ratio"] >= MIN_SPEECH_RATIO
        transform = inputs.voice_transform
        features = transform(audio) if speaks else np.zeros(transform.output_shape, np.float32)
        voice = torch.from_numpy(features.reshape(-1))
        faces = torch.from_numpy(crops.reshape(FRAMES, -1).astype(np.float32))
    return (voice[None].float(), torch.tensor([speaks]), faces[None].float(), torch.from_numpy(found)[None],
            torch.zeros(1, 9), torch.tensor([False]))


def predict_media(model: FamilyModel, path: str | Path, out_dir: Path,
                  progress: Callable[[float, float | None], None] | None = None) -> dict:
    """Per window (the family's window and hop): faces found, speech, probabilities; writes
    ``<stem>_<model>.csv``, ``.json`` and the timeline, distribution and heatmap plots."""
    info = probe(path)
    if not info.has_video and not info.has_audio:
        raise MediaError(f"{Path(path).name} holds neither pictures nor sound.")
    windows = model.family.windows
    report = DecodeReport()
    frames = iter_frames(path, windows.fps, windows.max_frame_side, report) if info.has_video else None
    audio = iter_audio(path, report) if info.has_audio else None
    rows = []
    with FaceLandmarker(video=False) as landmarker:
        for window in iter_windows(frames, audio, windows, info.duration_s):
            crops, found = face_crops(largest_faces(window, landmarker), model)
            embedding = voice_embedding(model, window.audio)
            tensors = window_tensors(model, crops, found, window.audio, embedding)
            scores = model.scored(model.predict_inputs(*tensors)[0])
            rows.append({"window": window.index, "start_s": window.start_s, "end_s": window.end_s,
                         "face_frames": int(found.sum()), "speech": bool(tensors[1][0]),
                         "top_emotion": scores["top_emotion"], "confidence": scores["confidence"],
                         "probabilities": {"fused": scores["probabilities"]}})
            if progress:
                progress(window.end_s, info.duration_s)
    if not rows:
        raise MediaError(f"{Path(path).name} is shorter than one {windows.window_s} s window.")
    name = model.family.name
    stem = f"{Path(path).stem}_{name}"
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{stem}.csv"
    with atomic_path(csv_path) as temporary, open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["window", "start_s", "end_s", "face_frames", "speech", "top_emotion", "confidence",
                         *model.labels])
        for row in rows:
            writer.writerow([row["window"], row["start_s"], row["end_s"], row["face_frames"], row["speech"],
                             row["top_emotion"], row["confidence"],
                             *(row["probabilities"]["fused"][label] for label in model.labels)])
    summary = summarize(rows)
    plots = write_plots(rows, summary, out_dir, stem, f"{name} on {Path(path).name}")
    result = {"path": str(path), "model": name, "weights_sha256": model.sha256, "labels": list(model.labels),
              "window_s": windows.window_s, "hop_s": windows.hop, "windows": rows, "summary": summary,
              "files": {"csv": str(csv_path), **{k: str(v) for k, v in plots.items()}},
              "warnings": report.warnings}
    result["files"]["json"] = str(write_json(out_dir / f"{stem}.json", result))
    return result
