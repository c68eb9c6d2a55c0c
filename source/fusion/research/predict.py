"""A fusion family's model over a media file: windows slid over it (the family's window and hop),
each window's face crops (the largest face of each sampled frame) and speech read the way the
model was trained, and its probabilities per window, as window records (``results.records``)
written as ``analyze`` writes its own: the windows CSV, the analysis JSON and the plots."""

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ...errors import MediaError
from ...face.landmarker import FaceDetection, FaceLandmarker
from ...face.tracker import FaceTracker
from ...fileio import check_output_folder
from ...media.decode import DecodeReport, Frame, iter_audio, iter_frames
from ...media.probe import probe
from ...media.speech import speech_activity
from ...media.windows import Window, iter_windows
from ...options import AnalysisOptions
from ...results.plots import write_plots
from ...voice.model import MIN_SPEECH_RATIO
from ...results.records import (BLENDSHAPE_COLUMNS, AnalysisResult, FaceInWindow, WindowRecord, faces_seen,
                                 model_facts)
from ...results.summary import summarize
from ...results.writers import WindowsCsv, write_analysis_json
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


def largest_faces(window: Window, landmarker: FaceLandmarker, tracker: FaceTracker,
                  seen: dict[int, list[FaceDetection]]) -> list[tuple[Frame, FaceDetection | None]]:
    """Each frame of the window with its largest face (None: no face). ``seen`` holds the faces
    of the frames seen so far (by frame index): windows overlap, and each frame is looked at once
    and tracked in time order, so the faces keep their ids across windows."""
    picked = []
    for frame in window.frames:
        if frame.index not in seen:
            seen[frame.index] = landmarker.detect(frame.image, frame.time_s)
            tracker.assign(frame.time_s, seen[frame.index])
        faces = seen[frame.index]
        picked.append((frame, max(faces, key=lambda f: f.area) if faces else None))
    for index in [i for i in seen if window.frames and i < window.frames[0].index]:
        del seen[index]  # before this window: no later window holds it
    return picked


def read_face(picked: list[tuple[Frame, FaceDetection | None]], sources: tuple[str, ...],
              scores: dict) -> FaceInWindow | None:
    """The largest faces of a window's frames, which the family read as one face, as the window's
    subject: the id of the track most of them belong to, the share of frames that had one, their
    mean blendshapes and pose, and the family's result (None: no frame had a face)."""
    faces = [face for _, face in picked if face is not None]
    if not faces:
        return None
    pose = np.mean([face.head_pose for face in faces], axis=0)
    return FaceInWindow(
        face_id=Counter(face.track_id for face in faces).most_common(1)[0][0],
        face_found_ratio=round(len(faces) / len(picked), 3),
        blendshapes={k: round(float(np.mean([face.expressions[k] for face in faces])), 4)
                     for k in BLENDSHAPE_COLUMNS},
        head_pose=dict(zip(("yaw", "pitch", "roll"), (round(float(v), 2) for v in pose))),
        emotions=None,  # no face model scored it: the family scores the window
        is_subject=True, sources=sources, fused=scores["probabilities"])


def voice_embedding(model: FamilyModel, audio: np.ndarray | None) -> np.ndarray | None:
    """A window's embedding by the family's own voice model (``inputs.voice``), as the analysis's
    voice branch makes it; None without speech, or for a family that reads MFCCs."""
    return model.inputs.voice.encode_window(audio)[0] if model.inputs.voice is not None else None


def kept_face_embeddings(picked: list[tuple[Frame, FaceDetection | None]],
                         model: FamilyModel) -> tuple[np.ndarray, np.ndarray] | None:
    """(FRAMES, embedding size) embeddings of one face in a window's frames, resampled as
    ``face_crops`` resamples the crops, and which hold a face: the ones the analysis's face branch
    kept (``FaceDetection.embedding``), so that a family over the face model's embeddings does not
    encode the same crops again. None when a face has none kept, or no frame has a face."""
    faces = [face for _, face in picked]
    if model.inputs.voice is None or not any(faces) or any(f is not None and f.embedding is None for f in faces):
        return None
    embeddings = np.zeros((len(faces), model.inputs.face.network.embedding_size), dtype=np.float32)
    for i, face in enumerate(faces):
        if face is not None:
            embeddings[i] = face.embedding
    chosen = np.linspace(0, len(faces) - 1, FRAMES).round().astype(int)
    return embeddings[chosen], np.array([f is not None for f in faces])[chosen]


def window_tensors(model: FamilyModel, crops: np.ndarray | None, found: np.ndarray, audio: np.ndarray | None,
                   embedding: np.ndarray | None, face_embeddings: np.ndarray | None = None) -> tuple[torch.Tensor, ...]:
    """The ``WindowBatch`` tensors (a batch of one) of a window, as the model reads them.
    ``embedding``: the window's ``voice_embedding`` (made once per window, by whoever heard it:
    the analysis's voice branch is this voice model); a family that reads MFCCs makes them from
    ``audio``. ``face_embeddings``: the crops' embeddings when the face branch made them
    (``kept_face_embeddings``; ``crops`` is then not read)."""
    inputs = model.inputs
    if inputs.voice is not None:  # the frozen models' embeddings
        speaks = embedding is not None
        voice = (torch.from_numpy(embedding) if speaks
                 else torch.zeros(inputs.voice.network.embedding_size))
        faces = (torch.from_numpy(face_embeddings) if face_embeddings is not None
                 else inputs.face.encode(torch.from_numpy(inputs.face.transform.normalize(crops)))[0])
    else:
        speaks = audio is not None and speech_activity(audio)["speech_ratio"] >= MIN_SPEECH_RATIO
        transform = inputs.voice_transform
        features = transform(audio) if speaks else np.zeros(transform.output_shape, np.float32)
        voice = torch.from_numpy(features.reshape(-1))
        faces = torch.from_numpy(crops.reshape(FRAMES, -1).astype(np.float32))
    return (voice[None].float(), torch.tensor([speaks]), faces[None].float(), torch.from_numpy(found)[None],
            torch.zeros(1, 9), torch.tensor([False]))


def predict_media(model: FamilyModel, path: str | Path, out_dir: Path, weights: str | None = None,
                  progress: Callable[[float, float | None], None] | None = None) -> AnalysisResult:
    """Per window (the family's window and hop): the face it read, the speech and its
    probabilities, as window records; writes ``<stem>_<model>_windows.csv``,
    ``<stem>_<model>_analysis.json`` and the timeline, distribution and heatmap plots, laid out
    as ``analyze``'s. ``weights``: the model's file (None: the shipped one), named in the settings."""
    info = probe(path)
    if not info.has_video and not info.has_audio:
        raise MediaError(f"{Path(path).name} holds neither pictures nor sound.")
    name = model.family.name
    options = AnalysisOptions(windows=model.family.windows, fusion=name, fusion_weights=weights, words=False)
    stem = f"{Path(path).stem}_{name}"
    check_output_folder(out_dir)
    report = DecodeReport()
    frames = (iter_frames(path, options.windows.fps, options.windows.max_frame_side, report)
              if info.has_video else None)
    audio = iter_audio(path, report) if info.has_audio else None
    tracker = FaceTracker(options.faces.track_iou, options.faces.track_max_gap_s)
    seen: dict[int, list[FaceDetection]] = {}
    records: list[WindowRecord] = []
    window_csv = WindowsCsv(out_dir / f"{stem}_windows.csv", [], [], words=False)
    try:
        with FaceLandmarker(options.faces, video=False) as landmarker:
            for window in iter_windows(frames, audio, options.windows, info.duration_s):
                picked = largest_faces(window, landmarker, tracker, seen)
                crops, found = face_crops(picked, model)
                embedding = voice_embedding(model, window.audio)
                tensors = window_tensors(model, crops, found, window.audio, embedding)
                scores = model.scored(model.predict_inputs(*tensors)[0])
                sources = tuple(branch for branch, read in (("face", found.any()), ("voice", bool(tensors[1][0])))
                                if read)
                face = read_face(picked, sources, scores)
                record = WindowRecord(
                    index=window.index, start_s=window.start_s, end_s=window.end_s, n_frames=len(window.frames),
                    faces=(face,) if face else (),
                    speech=speech_activity(window.audio) if window.audio is not None else None,
                    voice=None, text=None, voice_note=None, speaker_face_id=None, mouth_movement={}, words=(),
                    sources=sources, probabilities={"fused": scores["probabilities"]},
                    top_emotion=scores["top_emotion"], confidence=scores["confidence"])
                records.append(record)
                window_csv.write(record)
                if progress:
                    progress(window.end_s, info.duration_s)
        if not records:
            raise MediaError(f"{Path(path).name} is shorter than one {options.windows.window_s} s window.")
    except BaseException:
        window_csv.abort()
        raise
    shown = [record.to_dict() for record in records]  # the JSON form, which the summary and plots read
    summary = summarize(shown)
    models = {"fusion": {"method": f"{name} model", **model_facts(model), "smoothing_windows": options.smooth_windows}}
    result = AnalysisResult(info, options, records, faces_seen(tracker), report.warnings, models, summary)
    result.outputs = {"windows_csv": window_csv.commit(),
                      **write_plots(shown, summary, out_dir, stem, f"{name} on {Path(path).name}", info.duration_s)}
    result.outputs["analysis_json"] = write_analysis_json(out_dir / f"{stem}_analysis.json", result)
    return result
