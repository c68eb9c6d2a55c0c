"""``analyze``: the analysis pipeline behind ``run.py analyze``, the app, the service, batch runs and
every branch model's ``predict`` (``cli.predict``): the face model's with the face branch alone, the
voice models' with the voice branch alone, the text model's with the words branch alone (no voice
model: ``AnalysisOptions.voice_model`` None; a ``.txt`` file, with no time and no media, is scored
directly). The research fusion families' ``predict`` slides their own windows but builds the same
records and writes them with the same writers.

probe -> stream frames and audio -> faces per frame (landmarks, track ids, aligned crops)
-> windows -> one record per window (``results.records.WindowRecord``), fused and smoothed
(``timeline``), its rows written to the windows CSV as it is made (``results.writers``). Nothing in
here is kept for the whole input except the windows' records, for the JSON file and the plots.
"""

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import TYPE_CHECKING
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MediaError, StudioError
from ..face.landmarker import FaceLandmarker
from ..face.model import FaceModel
from ..face.tracker import FaceTracker
from ..fusion.late import LateFusion
from ..fusion.model import CombinedModel
from ..labels import mean_probabilities, scored
from ..media.decode import DecodeReport, Frame, iter_audio, iter_frames, read_image
from ..media.probe import MediaInfo, probe
from ..media.speech import speech_activity, speech_segments
from ..media.windows import Window, iter_windows
from ..options import TRAINED_WINDOW_S, AnalysisOptions, window_length_note
from ..registry import ModelEntry, branch_models, get_model, load as registry_load
from ..text.features import LEXICON_LICENSE, TEXT_FEATURE_COLUMNS, TextAnalyzer, sentence_rows, text_columns
from ..voice.model import VoiceModel
from ..weights import read_field
from ..text.transcribe import (EncodedSpeechTimeline, Segment, TranscribeOptions, Transcript, WordTimeline,
                               load_transcriber, words_of)
from ..text.writers import write_srt
from ..paths import OUTPUT_DIR
from ..results.plots import write_plots
from ..results.records import BLENDSHAPE_COLUMNS, AnalysisResult, FaceInWindow, WindowRecord, faces_seen, model_facts
from ..results.summary import summarize
from ..results.writers import FramesCsv, WindowsCsv, write_analysis_json
from .prefetch import Prefetched
from .speaker import mouth_movement, speaker_of
from .timing import StageTimes
from .timeline import fuse_window, smoothed

if TYPE_CHECKING:  # the research families load only when one is asked for: analyze starts faster
    from ..voice.whisper_voice import WhisperVoiceModel
    from ..fusion.research.family import FamilyModel

WORDS_AHEAD = 256  # words Whisper may transcribe ahead of the windows (a minute or two of speech)
WHISPER_THREADS = 1  # Whisper's thread count: the face stage and the voice model use the other core
# PyTorch's threads while analysing: the face model (this thread) and the voice model (its own
# thread) each get half the cores, so with Whisper's thread they do not fight over two cores
TORCH_THREADS = max(1, (os.cpu_count() or 1) // 2)

# progress(stage, done, total): done/total in seconds of media (total None when unknown). The stages:
# "loading models" (once, when they are in memory), then, as the work goes on, "decode" (a batch of
# frames), "faces" (landmarks, tracks and the face model over that batch), "words" (waiting for
# Whisper and scoring a window's words), "voice", "fusion" (per window), and at the end "words"
# (the transcript's tail) and "plots"
Progress = Callable[[str, float, float | None], None]


class StageReport:
    """``report(stage, done_s)``: one stage beginning, passed on as ``progress(stage, done, total)``.

    ``done`` never goes back and never passes the total: the face stage works a batch of frames
    ahead of the windows whose voice, words and fusion follow."""

    def __init__(self, progress: Progress | None, total: float | None):
        self.progress, self.total, self.done = progress, total, 0.0

    def __call__(self, stage: str, done_s: float) -> None:
        if self.progress is None:
            return
        self.done = max(self.done, done_s if self.total is None else min(done_s, self.total))
        self.progress(stage, self.done, self.total)


def _kept(items: Iterator, into: list) -> Iterator:
    """``items`` passed through, each also appended to ``into``."""
    for item in items:
        into.append(item)
        yield item


def check_input(info: MediaInfo, options: AnalysisOptions) -> list[str]:
    """Refuse what cannot be analysed; return warnings for what can only partly be."""
    minimum = options.windows.min_duration_s
    if info.kind != "image" and info.duration_s is not None and info.duration_s < minimum:
        raise MediaError(
            f"{Path(info.path).name} is {info.duration_s:.2f} s long; the shortest input the "
            f"studio analyses is {minimum} s (one window needs enough frames and speech). "
            "For a single picture, use a photo file."
        )
    warnings = []
    if info.name_mismatch:
        warnings.append(f"{Path(info.path).name} is {info.name_mismatch}.")
    if info.kind == "video" and not info.has_audio:
        warnings.append("The video has no audio track: voice and words are not analysed.")
    if info.kind == "audio":
        warnings.append("The input is audio only: faces are not analysed.")
    if not options.face and not (options.audio and (options.voice_model is not None or options.words)):
        raise MediaError("Every branch is switched off: enable faces or audio.")
    return warnings


def face_stage(frames: Iterator[Frame], landmarker: FaceLandmarker, tracker: FaceTracker,
               frame_rows: FramesCsv, face_model: FaceModel | None = None,
               times: StageTimes | None = None, keep_embeddings: bool = False,
               batch_frames: int = 16, report: Callable[[str, float], None] | None = None) -> Iterator[Frame]:
    """Find, track and score the faces of each frame, and write its rows to the frames CSV.

    Frames are taken ``batch_frames`` at a time: decoded, then their faces found, and the face
    model, which cuts its own crops (its transform's framing and size) from each frame, scores the
    crops of the batch in one pass (one pass per frame cost 20x more here). ``report(stage,
    done_s)`` is told when each batch's decoding and face work begin ("decode", "faces"), with the
    media seconds whose faces are done; ``keep_embeddings`` keeps each face's embedding for the
    combined model."""
    times = times or StageTimes()
    report = report or (lambda stage, done_s: None)
    pending: list[tuple[Frame, tuple]] = []

    def scored() -> Iterator[Frame]:
        if face_model is not None:
            with times("face"):
                results = face_model.encode_frames([inputs for _, inputs in pending])
            for (frame, _), (embeddings, probabilities) in zip(pending, results):
                for face, embedding, scores in zip(frame.faces, embeddings, probabilities):
                    face.emotions = dict(zip(face_model.labels, scores.tolist()))
                    face.embedding = embedding if keep_embeddings else None
        for frame, _ in pending:
            frame_rows.write(frame)
            yield frame
        pending.clear()

    frames = iter(frames)
    done_s = 0.0  # media seconds whose faces are found
    while True:
        report("decode", done_s)
        batch = list(islice(frames, batch_frames))
        if not batch:
            return
        report("faces", done_s)
        for frame in batch:
            with times("face"):
                faces = landmarker.detect(frame.image, frame.time_s)
                tracker.assign(frame.time_s, faces)
                frame.faces = sorted(faces, key=lambda f: f.track_id)
                # crops are cut now, while the frame is at hand
                inputs = face_model.detection_inputs(frame.image, frame.faces) if face_model is not None else None
            pending.append((frame, inputs))
        yield from scored()
        done_s = batch[-1].time_s


def window_faces(window: Window) -> list[FaceInWindow]:
    """Per face id in the window: share of frames it is in, mean blendshapes, pose and emotion
    probabilities (when a face model scored the faces); the largest face is the subject."""
    by_id: dict[int, list] = {}
    for frame in window.frames:
        for face in frame.faces:
            by_id.setdefault(face.track_id, []).append(face)
    subject = max(sorted(by_id), key=lambda track_id: float(np.mean([f.area for f in by_id[track_id]])),
                  default=None)
    summaries = []
    for track_id, faces in sorted(by_id.items()):
        shapes = [f.expressions for f in faces]
        pose = np.mean([f.head_pose for f in faces], axis=0)
        summaries.append(FaceInWindow(
            face_id=track_id,
            face_found_ratio=round(len(faces) / len(window.frames), 3),
            blendshapes={k: round(float(np.mean([s[k] for s in shapes])), 4) for k in BLENDSHAPE_COLUMNS},
            head_pose=dict(zip(("yaw", "pitch", "roll"), (round(float(v), 2) for v in pose))),
            emotions=_mean_emotions([f.emotions for f in faces]),
            is_subject=track_id == subject,
        ))
    return summaries


def _mean_emotions(emotions: list[dict | None]) -> dict | None:
    """The mean of the frames' face-model probabilities, scored; None when none was scored."""
    mean = mean_probabilities(emotions)
    return scored(mean) if mean else None


@lru_cache(maxsize=16)
def _load_once(load: Callable, path: str | None, file_state: tuple | None, *encoders):
    return load(path, *encoders)


def loaded(load: Callable, path: str | None, *encoders):
    """``load(path, *encoders)`` (a model's ``load``), once per process: the service and batch
    workers analyse many files with the same models. A file changed on disk since is loaded again."""
    try:
        stat = None if path is None else os.stat(path)
    except OSError:
        return load(path, *encoders)  # missing or unreadable: load's own clear error
    state = None if stat is None else (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
    return _load_once(load, path, state, *encoders)


def load_fusion(options: AnalysisOptions, voice: "VoiceModel | WhisperVoiceModel | None",
                face: FaceModel | None) -> "tuple[LateFusion | CombinedModel | FamilyModel, str | None]":
    """The fusion the options ask for, and a warning when ``auto`` falls back to late fusion for a
    reason the user should know. ``auto`` is the fusion its alias names (the best on real media)
    where that model reads what it learned from (``auto_uses_its_model``), late fusion elsewhere;
    with a fusion model's file, the model that file holds."""
    entry = get_model(options.fusion)
    if entry.branch != "fusion":
        fusers = ", ".join(["auto", *branch_models("fusion")])
        raise StudioError(f"{entry.name} is a {entry.branch} model, not a fusion method; choose one of {fusers}.")
    auto = options.fusion == "auto"
    if auto and not options.fusion_weights and not auto_uses_its_model(entry, options, voice, face):
        return LateFusion(), None
    try:
        if auto and options.fusion_weights:
            return loaded(_fusion_file, options.fusion_weights, voice, face), None
        return loaded(entry.load, options.fusion_weights, voice, face), None
    except StudioError as error:  # WeightsError among them
        if not auto:
            raise
        return LateFusion(), f"Late fusion is used instead of the fusion model file: {error}"


def auto_uses_its_model(entry: ModelEntry, options: AnalysisOptions,
                        voice: "VoiceModel | WhisperVoiceModel | None", face: FaceModel | None) -> bool:
    """Whether ``auto`` is the fusion its alias names (``entry``) here. A learned one only where it
    reads what it learned from: a voice to fuse (without one its answer is the face's, made more
    confident), 4-s windows, and the voice and face models whose embeddings it was trained over
    (their sha256 are in its file): with another voice or face model it would weigh branches it
    never weighed. Elsewhere ``auto`` is late fusion, which takes any branches."""
    if entry.rule:
        return True
    if voice is None or options.windows.window_s != TRAINED_WINDOW_S:
        return False
    try:
        encoders = read_field(entry.shipped().path, "encoders") or {}
    except StudioError:  # a damaged or missing file: loading it says why, and auto falls back
        return True
    return encoders.get("voice") == voice.sha256 and (face is None or encoders.get("face") == face.sha256)


def _fusion_file(path: str, voice: "VoiceModel | WhisperVoiceModel | None", face: FaceModel | None):
    """The fusion model a weights file holds, over these encoders."""
    return registry_load(path, voice=voice, face=face)


def combined_for_window(combined: CombinedModel, window: Window, voice_embedding: np.ndarray | None,
                        text: dict | None) -> Callable[[int | None], dict | None]:
    """face id (None: no face) -> the combined model's fused probabilities for this window."""
    text_vector = (np.array([text[column] for column in TEXT_FEATURE_COLUMNS], dtype=np.float32)
                   if text and text["transcript"].strip() else None)

    def fused(face_id: int | None) -> dict | None:
        faces = [f.embedding for frame in window.frames for f in frame.faces
                 if face_id is not None and f.track_id == face_id and f.embedding is not None]
        scores = combined.predict_window(voice_embedding, np.stack(faces) if faces else None, text_vector)
        return scores and scores["probabilities"]

    return fused


def keeps_face_embeddings(fusion: "CombinedModel | FamilyModel | None", face_model: FaceModel | None) -> bool:
    """Whether the face branch keeps each face's embedding for the fusion: the combined model reads
    them, and so does a family over the embeddings of this very face model (instead of encoding
    the same crops again)."""
    if isinstance(fusion, CombinedModel):
        return True
    inputs = getattr(fusion, "inputs", None)
    return (inputs is not None and inputs.voice is not None and face_model is not None
            and inputs.face.sha256 == face_model.sha256)


def family_for_window(model: "FamilyModel", window: Window,
                      voice_embedding: np.ndarray | None) -> Callable[[int | None], dict | None]:
    """face id (None: no face) -> a research fusion family's probabilities for this window, from
    that face's crops in the window's frames (their embeddings, where the face branch kept them for
    it) and the window's speech (``voice_embedding``: the voice branch's, made by the family's own
    voice model); None with neither."""
    from ..fusion.research.predict import face_crops, kept_face_embeddings, window_tensors

    def fused(face_id: int | None) -> dict | None:
        picked = [(frame, next((f for f in frame.faces if f.track_id == face_id), None)) for frame in window.frames]
        kept = kept_face_embeddings(picked, model)
        crops, found = face_crops(picked, model) if kept is None else (None, kept[1])
        tensors = window_tensors(model, crops, found, window.audio, voice_embedding,
                                 None if kept is None else kept[0])
        if not found.any() and not tensors[1][0]:
            return None
        return model.scored(model.predict_inputs(*tensors)[0])["probabilities"]

    return fused


def fusion_for_window(fusion: "CombinedModel | FamilyModel", window: Window, voice_embedding: np.ndarray | None,
                      text: dict | None) -> Callable[[int | None], dict | None]:
    if isinstance(fusion, CombinedModel):
        return combined_for_window(fusion, window, voice_embedding, text)
    return family_for_window(fusion, window, voice_embedding)


def analyze(path: str | Path, options: AnalysisOptions = AnalysisOptions(),
            out_dir: str | Path | None = None, progress: Progress | None = None) -> AnalysisResult:
    """Analyse one video, audio file or photo and write its CSV and JSON files to ``out_dir``."""
    with torch_threads(TORCH_THREADS):
        return _analyze(path, options, out_dir, progress)


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """PyTorch's process-wide thread count at most ``threads`` (a caller's lower setting, a batch
    worker's one thread, is kept), put back afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _analyze(path: str | Path, options: AnalysisOptions, out_dir: str | Path | None,
             progress: Progress | None) -> AnalysisResult:
    path = Path(path)
    info = probe(path)
    warnings = check_input(info, options)
    out_dir = Path(out_dir) if out_dir is not None else OUTPUT_DIR
    stem = path.stem
    report = DecodeReport()
    use_faces = options.face and info.has_video
    use_audio = options.audio and info.has_audio
    total = info.duration_s
    stage_report = StageReport(progress, total)  # (report: the decoders' DecodeReport)

    times = StageTimes()
    with times("load models"):
        face_model = loaded(get_model(options.face_model).load, options.face_weights) if use_faces else None
        voice = (loaded(get_model(options.voice_model).load, options.voice_weights)
                 if use_audio and options.voice_model is not None else None)
        # a fusion model reads the embeddings of the voice model it was trained over (loaded here
        # when it is not the voice model asked for)
        chosen, fusion_warning = load_fusion(options, voice, face_model)
        fusion = None if isinstance(chosen, LateFusion) else chosen  # the learned model; None: late fusion
        if isinstance(fusion, CombinedModel) and (fusion.tuned_encoders or voice is not fusion.voice):
            # its own encoders serve the branches
            face_model = fusion.face if use_faces and fusion.tuned_encoders else face_model
            voice = fusion.voice if voice is not None else None
        elif fusion is not None and not isinstance(fusion, CombinedModel) and fusion.inputs.voice is not None:
            # a family over the embeddings: its voice encoder serves the voice branch, as the combined's
            voice = fusion.inputs.voice if voice is not None else None
    if fusion_warning:
        warnings.append(fusion_warning)
    if fusion is not None and (note := window_length_note(
            options.windows.window_s, "combined" if isinstance(fusion, CombinedModel) else fusion.family.name)):
        warnings.append(note)  # a learned fusion model in windows of another length than it learned from
    use_words = use_audio and options.words
    with times("load models"):
        text_analyzer = TextAnalyzer() if use_words else None
    if text_analyzer is not None and text_analyzer.warning:
        warnings.append(text_analyzer.warning)
    with times("load models"):  # opened before the CSV streams: a failure here leaves no .part file
        landmarker = FaceLandmarker(options.faces, video=info.kind == "video") if use_faces else None
    tracker = FaceTracker(options.faces.track_iou, options.faces.track_max_gap_s)
    records: list[WindowRecord] = []
    segments: list[Segment] = []
    window_csv = frame_csv = word_stream = None
    try:  # the streams open inside: a signal arriving between the two still removes the first
        window_csv = WindowsCsv(out_dir / f"{stem}_windows.csv", list(face_model.labels) if face_model else [],
                                list(voice.labels) if voice else [], use_words)
        # no faces to look for (audio, or faces switched off): no frames CSV of headers only
        frame_csv = FramesCsv(out_dir / f"{stem}_frames.csv") if use_faces else None
        stage_report("loading models", 0.0)
        if info.kind == "image":
            frames = iter([read_image(path, options.windows.max_frame_side)])
        elif use_faces:
            frames = times.timed(iter_frames(path, options.windows.fps, options.windows.max_frame_side,
                                             report), "decode")
        else:
            frames = None
        if frames is not None and landmarker is not None:
            frames = face_stage(frames, landmarker, tracker, frame_csv, face_model, times,
                                keep_embeddings=keeps_face_embeddings(fusion, face_model), report=stage_report)
        audio = times.timed(iter_audio(path, report), "decode") if use_audio else None
        words = encoded = None
        if use_words:  # a second audio stream feeds Whisper, a piece ahead of the windows
            with times("load models"):
                transcriber = load_transcriber(TranscribeOptions(model=options.whisper_model,
                                                                 threads=WHISPER_THREADS))
            if voice is not None and shares_encoder(voice, options.whisper_model):
                encoded = EncodedSpeechTimeline()  # the voice reads Whisper's encoder pass
            # Whisper runs in its own thread, ahead of the windows, while the face stage runs here
            word_stream = Prefetched(words_of(_kept(transcriber.stream(
                iter_audio(path, DecodeReport()), on_encoded=encoded.add if encoded else None), segments)),
                ahead=WORDS_AHEAD, name="whisper")
            words = WordTimeline(times.timed(word_stream, "words"))
        if info.kind == "image":
            windows = iter([Window(0, 0.0, 0.0, list(frames), None)])
        else:
            windows = iter_windows(frames, audio, options.windows, info.duration_s)

        def heard(window: Window) -> tuple:
            """The window's speech segments, speech activity, voice embedding and scores."""
            speech_parts = speech_segments(window.audio) if window.audio is not None else None
            speech = speech_activity(window.audio, speech_parts) if window.audio is not None else None
            return speech_parts, speech, *(voice.encode_window(window.audio, speech_parts)
                                           if voice is not None and encoded is None else (None, None))

        def window_records() -> Iterator[WindowRecord]:
            speaker = None  # the last speaker named, kept through close calls
            # each window's voice is worked out in its own thread while the face stage (in this
            # thread) finds the next window's faces; "voice" counts only the wait for it
            for window, voice_work in voice_ahead(windows, heard):
                if words is not None:  # waits for Whisper to have heard the window
                    stage_report("words", window.start_s)
                    window.words = words.take(window.start_s, window.end_s)
                stage_report("voice", window.start_s)
                with times("voice"):
                    speech_parts, speech, voice_embedding, voice_scores = voice_work.result()
                    if encoded is not None and window.audio is not None:  # Whisper has heard the window
                        voice_embedding, voice_scores = voice.encode_frames(
                            encoded.take(window.start_s, window.end_s))
                with times("words"):
                    text = text_columns(window.words, text_analyzer) if words is not None else None
                stage_report("fusion", window.start_s)
                with times("fusion"):
                    movement = (mouth_movement(window.frames, window.start_s, speech_parts)
                                if window.frames and speech else {})
                    named = speaker_of(movement, speech["speech_ratio"] if speech else 0.0, speaker)
                    speaker = named if named is not None else speaker
                    record = fuse_window(WindowRecord(
                        index=window.index, start_s=window.start_s, end_s=window.end_s,
                        n_frames=len(window.frames),
                        faces=tuple(window_faces(window)) if window.frames else (),
                        speech=speech, voice=voice_scores, text=text,
                        voice_note=_voice_note(voice, speech, voice_scores),
                        speaker_face_id=named,
                        mouth_movement={track_id: round(m, 4) for track_id, m in movement.items()},
                        words=tuple(window.words),
                    ), fusion and fusion_for_window(fusion, window, voice_embedding, text))
                yield record

        for record in smoothed(window_records(), options.smooth_windows):
            records.append(record)
            with times("writing"):
                window_csv.write(record)
        if not records:
            raise MediaError(f"{path.name}: no picture or sound could be decoded from the file.")
        if words is not None:  # Whisper's last piece, past the last window
            stage_report("words", records[-1].end_s)
            with times("words"):
                words.finish()
    except BaseException:
        for stream in (window_csv, frame_csv):
            if stream is not None:
                stream.abort()
        raise
    finally:
        if landmarker is not None:
            landmarker.close()
        if word_stream is not None:
            word_stream.close()
    warnings += report.warnings
    warnings += _coverage_warnings(info, records, use_faces, use_audio)
    models = {name: {"model": model.KIND, **model_facts(model)}
              for name, model in (("face", face_model), ("voice", voice)) if model is not None}
    if face_model is not None and face_model.geometry is not None:  # trees mixed into its probabilities
        models["face"]["geometry"] = {"model": "face_geometry", "weights_sha256": face_model.geometry.sha256,
                                      "share": face_model.geometry.share}
    if use_words:
        models["words"] = {"whisper": options.whisper_model, "lexicon": LEXICON_LICENSE}
    models["fusion"] = ({"method": "combined model" if isinstance(fusion, CombinedModel) else f"{fusion.family.name} model",
                         **model_facts(fusion)} if fusion else chosen.facts())
    models["fusion"]["smoothing_windows"] = options.smooth_windows
    shown = [record.to_dict() for record in records]  # the JSON form, which the summary and plots read
    summary = summarize(shown)
    result = AnalysisResult(info, options, records, faces_seen(tracker), warnings, models, summary)
    result.outputs = {
        "windows_csv": window_csv.commit(),
        **({"frames_csv": frame_csv.commit()} if frame_csv is not None else {}),
    }
    if use_words:
        transcript = Transcript(segments, info.duration_s, options.whisper_model, transcriber.backend)
        result.transcript = transcript
        with times("words"):
            result.sentences = with_speakers(sentence_rows(transcript.words, text_analyzer), records)
        result.outputs["transcript_srt"] = write_srt(out_dir / f"{stem}_transcript.srt", transcript)
    if options.plots and summary["dominant_emotion"]:
        stage_report("plots", records[-1].end_s)
        with times("plots"):
            result.outputs.update(write_plots(shown, summary, out_dir, stem, path.name, info.duration_s))
    result.timings = times.rounded()
    result.outputs["analysis_json"] = write_analysis_json(out_dir / f"{stem}_analysis.json", result)
    return result


def shares_encoder(voice: "VoiceModel | WhisperVoiceModel", whisper_model: str) -> bool:
    """Whether ``voice`` reads the encoder output of the words branch's Whisper (then the words
    branch hands it over and the voice runs no encoder of its own)."""
    from ..voice.whisper_voice import WhisperVoiceModel

    return isinstance(voice, WhisperVoiceModel) and voice.reads_transcriber(whisper_model)


def voice_ahead(windows: Iterator[Window], work: Callable[[Window], tuple]) -> Iterator[tuple[Window, Future]]:
    """Each window with ``work(window)`` running in a thread of its own, started as soon as the
    window is cut, one window ahead of the caller: the caller's next window (its frames decoded and
    faces found in the caller's thread) is made while this one's work runs. PyTorch, ONNX Runtime
    and the decoders release the GIL, so the two run on two cores. The work of at most two windows
    is held at once, so memory stays flat."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice") as pool:
        previous = None
        for window in windows:
            future = pool.submit(work, window)
            if previous is not None:
                yield previous
            previous = window, future
        if previous is not None:
            yield previous


def with_speakers(sentences: list[dict], windows: list[WindowRecord]) -> list[dict]:
    """Each transcript sentence with the ``face_id`` of the face speaking at its middle (None:
    nobody on screen could be named)."""
    for sentence in sentences:
        middle = (sentence["start_s"] + sentence["end_s"]) / 2
        window = next((w for w in windows if w.start_s <= middle < w.end_s), None)
        sentence["face_id"] = window.speaker_face_id if window else None
    return sentences


def _voice_note(voice, speech: dict | None, scores: dict | None) -> str | None:
    """Why a window with sound has no voice result (None when it has one or has no sound)."""
    if voice is None or speech is None or scores is not None:
        return None
    if speech["speech_ratio"] == 0:
        return "no speech: voice activity detection found none in this window"
    return f"too little speech ({speech['speech_ratio']:.0%} of the window) for the voice model"


def _coverage_warnings(info: MediaInfo, windows: list[WindowRecord], use_faces: bool,
                       use_audio: bool) -> list[str]:
    warnings = []
    if use_faces and not any(window.faces for window in windows):
        warnings.append("No face was found in any frame: the face branch has nothing to report.")
    if use_audio and all(window.speech["speech_ratio"] == 0 for window in windows):
        warnings.append("The audio is silent: no speech was detected.")
    if info.duration_s and info.kind != "image":
        covered = windows[-1].end_s
        if info.duration_s - covered > 1.0 and covered < info.duration_s:
            warnings.append(f"Windows cover 0-{covered:.1f} s of {info.duration_s:.1f} s "
                            "(the rest was undecodable or shorter than a window).")
    return warnings
