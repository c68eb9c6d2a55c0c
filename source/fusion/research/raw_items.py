"""Items as pixels and MFCCs, for the families that learn their own face and voice encoders:
the same voice clips, moving stills and video clips as ``EncodedItems``, in the same order (so
the windows, drawn from the emotions, are the same ones), not encoded."""

from dataclasses import dataclass

import numpy as np

from ...datasets.faces import AvClip, FaceSample
from ...datasets.speech import SpeechSample
from ...face.train import face_crops
from ...face.transform import FaceTransform
from ...labels import EMOTIONS
from ...voice.augment import WaveAugment
from ...voice.features import MfccTransform
from ...voice.train import clip_features
from ..data import FRAMES, Encodings, StillMotion
from ..windows import clip_emotions, still_keyframes, video_crops, video_speech


def _raw(rows: np.ndarray, present: np.ndarray, emotions: np.ndarray) -> Encodings:
    """Encodings whose rows are the inputs themselves (no branch probabilities)."""
    items, steps = rows.shape[:2]
    return Encodings(rows.reshape(items, steps, -1), np.zeros((items, steps, 0), np.float32), present, emotions)


@dataclass(frozen=True)
class RawItems:
    face_transform: FaceTransform
    voice_transform: MfccTransform

    def voice(self, samples: list[SpeechSample], copies: int, progress=None, workers: int | None = None) -> Encodings:
        features = clip_features(samples, self.voice_transform, WaveAugment() if copies else None, copies,
                                 progress and (lambda d, t: progress("voice features", d, t)), workers)
        return _raw(np.asarray(features), np.ones(features.shape[:2], dtype=bool),
                    np.array([EMOTIONS.index(s.emotion) for s in samples]))

    def stills(self, samples: list[FaceSample], motion: StillMotion, seed: int, progress=None) -> Encodings:
        crops = face_crops(samples, self.face_transform, progress and (lambda d, t: progress("face crops", d, t)))
        keyframes = np.stack([still_keyframes(crops, motion, seed, i) for i in range(len(samples))])
        frames = np.repeat(keyframes, FRAMES // motion.keyframes, axis=1)  # each pose held equally long
        return _raw(frames, np.ones(frames.shape[:2], dtype=bool), np.array([EMOTIONS.index(s.emotion) for s in samples]))

    def videos(self, clips: list[AvClip], progress=None) -> tuple[Encodings, Encodings]:
        crops = np.asarray(video_crops(self.face_transform, clips, progress))
        features, speaks = video_speech(self.voice_transform, clips)
        emotions = clip_emotions(clips)
        return (_raw(crops, crops.reshape(len(clips), FRAMES, -1).any(axis=2), emotions),
                _raw(features[:, None], speaks[:, None], emotions))
