"""Items as the frozen voice and face models see them (``EncodedItems``): each voice clip, still
face and video clip of the paired windows encoded (embedding and calibrated probabilities), cached
per model (by sha256) and file; what the combined model and the fusions over embeddings read."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..datasets.faces import AvClip, FaceSample
from ..datasets.speech import SpeechSample
from ..errors import MediaError
from ..face.model import FaceModel
from ..face.train import face_crops
from ..labels import EMOTIONS
from ..media.decode import read_audio
from ..training.cache import cached_array, file_identity
from ..training.recipes import recipe_to_dict
from ..voice.augment import WaveAugment
from ..voice.model import VoiceModel
from ..voice.train import clip_features
from ..voice.whisper_train import WhisperVoiceRecipe
from ..voice.whisper_voice import WhisperVoiceModel, encodings as whisper_encodings
from .data import FRAMES, Encodings, StillMotion, encode
from .windows import WINDOW_S, clip_emotions, still_keyframes, video_crops


def _cached_encodings(name: str, key: dict, compute: Callable[[], Encodings]) -> Encodings:
    """Encodings from the cache (one float32 array: embeddings | probabilities | present | emotion)."""
    def packed() -> np.ndarray:
        e = compute()
        steps = e.embeddings.shape[1]
        return np.concatenate([e.embeddings.astype(np.float32), e.probabilities,
                               e.present[..., None].astype(np.float32),
                               np.broadcast_to(e.emotions[:, None, None], (len(e), steps, 1)).astype(np.float32)],
                              axis=2)

    array = np.asarray(cached_array(name, key, packed))
    dim = key["dim"]
    return Encodings(array[..., :dim].astype(np.float16), array[..., dim:-2],
                     array[..., -2] > 0.5, array[:, 0, -1].astype(np.int64))


def voice_encodings(voice: "VoiceModel | WhisperVoiceModel", samples: list[SpeechSample], copies: int,
                    progress=None, workers: int | None = None) -> Encodings:
    """Each clip and ``copies`` augmented versions as the voice model embeds them, from its own
    inputs (MFCCs, or pooled Whisper states: as many copies as that model trained with); a
    version in which voice activity detection found no speech (NaN states) is marked absent."""
    if isinstance(voice, WhisperVoiceModel):
        copies = min(copies, WhisperVoiceRecipe.augmented_copies)
        features = whisper_encodings([s.path for s in samples], voice.transform, 1 + copies,
                                     progress and (lambda d, t: progress("voice features", d, t)))
        name = "fusion-voice-whisper"
    else:
        augment = WaveAugment() if copies else None
        features = clip_features(samples, voice.transform, augment, copies,
                                 progress and (lambda d, t: progress("voice features", d, t)), workers)
        name = "fusion-voice"
    key = {"model": voice.sha256, "dim": voice.network.embedding_size, "copies": copies,
           "files": [file_identity(s.path) for s in samples]}

    def compute() -> Encodings:
        flat = np.asarray(features).reshape(-1, *features.shape[2:])
        present = np.array([not np.isnan(row).any() for row in flat], dtype=bool)
        embedded, probabilities = encode(
            voice, lambda rows: torch.from_numpy(np.nan_to_num(flat[rows].astype(np.float32))), len(flat),
            progress=progress and (lambda d, t: progress("voice encodings", d, t)))
        embedded[~present], probabilities[~present] = 0, 0
        shape = features.shape[:2]
        return Encodings(embedded.reshape(*shape, -1), probabilities.reshape(*shape, -1), present.reshape(shape),
                         np.array([EMOTIONS.index(s.emotion) for s in samples]))

    return _cached_encodings(name, key, compute)


def still_encodings(face: FaceModel, samples: list[FaceSample], motion: StillMotion, seed: int,
                    progress=None) -> Encodings:
    """Each still face moved along its own path: ``FRAMES`` frames from ``motion.keyframes`` poses."""
    crops = face_crops(samples, face.transform, progress and (lambda d, t: progress("face crops", d, t)))
    key = {"model": face.sha256, "dim": face.network.embedding_size, "motion": recipe_to_dict(motion),
           "seed": seed, "files": [s.source for s in samples]}

    def compute() -> Encodings:
        k = motion.keyframes

        def inputs(rows: slice) -> torch.Tensor:
            images = [i // k for i in range(rows.start, rows.stop)]
            moved = [still_keyframes(crops, motion, seed, i)[j % k]
                     for i, j in zip(images, range(rows.start, rows.stop))]
            return torch.from_numpy(face.transform.normalize(np.stack(moved)))

        embedded, probabilities = encode(face, inputs, len(samples) * k,
                                         progress=progress and (lambda d, t: progress("face encodings", d, t)))
        hold = FRAMES // k  # each pose is held for this many frames
        return Encodings(np.repeat(embedded.reshape(len(samples), k, -1), hold, axis=1),
                         np.repeat(probabilities.reshape(len(samples), k, -1), hold, axis=1),
                         np.ones((len(samples), FRAMES), dtype=bool),
                         np.array([EMOTIONS.index(s.emotion) for s in samples]))

    return _cached_encodings("fusion-stills", key, compute)


def video_encodings(face: FaceModel, voice: "VoiceModel | WhisperVoiceModel", clips: list[AvClip],
                    progress=None) -> tuple[Encodings, Encodings]:
    """(faces, voice) of each clip's first window: ``FRAMES`` frames over ``WINDOW_S`` seconds and
    its speech (clips without speech: an all-zero voice row that is never read)."""
    key = {"face": face.sha256, "voice": voice.sha256, "dim": face.network.embedding_size,
           "files": [file_identity(c.video.path) + [str(c.audio)] for c in clips]}

    def faces() -> Encodings:
        crops = video_crops(face.transform, clips, progress)
        present = crops.reshape(len(clips), FRAMES, -1).any(axis=2)
        flat = crops.reshape(-1, *crops.shape[2:])
        embedded, probabilities = encode(face, lambda rows: torch.from_numpy(face.transform.normalize(flat[rows])),
                                         len(flat))
        return Encodings(embedded.reshape(len(clips), FRAMES, -1), probabilities.reshape(len(clips), FRAMES, -1),
                         present, clip_emotions(clips))

    def voices() -> Encodings:
        # as the analysis hears a window: its speech found by voice activity detection
        embedded = np.zeros((len(clips), 1, voice.network.embedding_size), dtype=np.float16)
        probabilities = np.zeros((len(clips), 1, len(voice.labels)), dtype=np.float32)
        present = np.zeros((len(clips), 1), dtype=bool)
        for i, clip in enumerate(clips):
            try:
                audio = read_audio(clip.audio, WINDOW_S) if clip.audio is not None else None
            except MediaError:
                audio = None  # no readable speech: a face-only window
            embedding, scores = voice.encode_window(audio)
            if scores is not None:
                embedded[i, 0], present[i, 0] = embedding, True
                probabilities[i, 0] = [scores["probabilities"][label] for label in voice.labels]
        return Encodings(embedded, probabilities, present, clip_emotions(clips))

    return (_cached_encodings("fusion-video-faces", key, faces),
            _cached_encodings("fusion-video-voice", {**key, "dim": voice.network.embedding_size,
                                                     "heard": "speech found by voice activity detection"}, voices))


@dataclass(frozen=True)
class EncodedItems:
    """Items as the frozen voice and face models see them: each clip, still and frame encoded
    (embedding and calibrated probabilities); what the combined model and the fusions over
    embeddings read."""

    voice_model: "VoiceModel | WhisperVoiceModel"
    face_model: FaceModel

    def voice(self, samples: list[SpeechSample], copies: int, progress=None, workers: int | None = None) -> Encodings:
        return voice_encodings(self.voice_model, samples, copies, progress, workers)

    def stills(self, samples: list[FaceSample], motion: StillMotion, seed: int, progress=None) -> Encodings:
        return still_encodings(self.face_model, samples, motion, seed, progress)

    def videos(self, clips: list[AvClip], progress=None) -> tuple[Encodings, Encodings]:
        return video_encodings(self.face_model, self.voice_model, clips, progress)
