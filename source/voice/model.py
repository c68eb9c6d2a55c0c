"""The voice model: MFCC transform -> CNN -> calibrated probabilities over its label set.

``VoiceModel.load()`` gives the shipped model (``models/voice_mfcc/``, sha256-checked); any file
written by ``VoiceModel.save`` loads the same way and brings its own transform and labels.
"""

from collections.abc import Iterable

import numpy as np
import torch

from ..emotion_model import EmotionModel
from ..media.speech import speech_segments
from .features import MfccTransform
from .pieces import speech_pieces, speech_weighted

KIND = "voice_mfcc"
MIN_SPEECH_RATIO = 0.05  # a window with less active speech than this gets no voice prediction


class VoiceModel(EmotionModel):
    KIND = KIND
    TRANSFORM = MfccTransform

    def features(self, clips: Iterable[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack([self.transform(clip) for clip in clips]))

    def predict(self, clips: Iterable[np.ndarray]) -> np.ndarray:
        """Calibrated probabilities (clips, labels) for 16 kHz mono clips."""
        return self.encode(self.features(clips).float())[1].numpy()

    def embed(self, clips: Iterable[np.ndarray]) -> np.ndarray:
        """The head's last hidden layer (no softmax), for the combined model."""
        return self.encode(self.features(clips).float())[0].numpy()

    def encode_window(self, audio: np.ndarray | None,
                      segments: list[tuple[int, int]] | None = None) -> tuple[np.ndarray | None, dict | None]:
        """One window's embedding and its probabilities by label, top emotion and confidence;
        (None, None) without speech. ``segments``: the window's speech, when already found.

        A window longer than the clips the model was trained on (``transform.duration_s``; it would
        hear only their first seconds) is heard in pieces of that length, each piece with speech
        scored, and their embeddings and probabilities averaged by seconds of speech (see
        :mod:`.pieces`)."""
        if audio is None:
            return None, None
        segments = speech_segments(audio) if segments is None else segments
        pieces = speech_pieces(audio, segments, self.transform.n_samples, MIN_SPEECH_RATIO)
        if not pieces:
            return None, None
        embedded, probabilities = self.encode(self.features([piece.audio for piece in pieces]).float())
        if len(pieces) == 1:  # the window fits: heard whole
            return embedded[0].numpy(), self.scored(probabilities[0])
        return (speech_weighted(embedded.numpy(), pieces).astype(np.float32),
                self.scored(speech_weighted(probabilities.numpy(), pieces)))

    def predict_window(self, audio: np.ndarray | None) -> dict | None:
        """One window's probabilities by label, top emotion and confidence; None without speech."""
        return self.encode_window(audio)[1]

