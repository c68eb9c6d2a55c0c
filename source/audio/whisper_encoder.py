"""Whisper encoder representations of speech, every layer, pooled over the clip's own frames.

The encoder is the studio's shipped Whisper (converted once to an openai-whisper checkpoint by
``text/convert.py``, which keeps every layer; CTranslate2 exposes only the last). It is run on the
unpadded log-mel of the speech alone: Whisper's 30-s zero padding would otherwise make most frames
silence, so the positional embeddings are cut to the clip's length instead.

Before the mel spectrogram the speech is trimmed (``activity.speech_span``) and brought to a fixed
loudness, so a quiet speaker is scored like a loud one. ``pooled`` gives, per layer (the input
embedding, then each block), the mean and standard deviation over time: (layers + 1, 2 * width).
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..media.speech import speech_span
from ..options import SAMPLE_RATE

TARGET_DB = -23.0  # speech RMS after loudness normalisation, dBFS
MAX_GAIN_DB = 40.0  # never amplify more than this: near-silence stays near-silent
MIN_SPEECH_S = 0.3  # shorter speech gives too few encoder frames (20 ms each) to pool
MAX_SPEECH_S = 30.0  # Whisper's context: longer speech is cut to its first 30 s


def normalised_loudness(audio: np.ndarray) -> np.ndarray:
    """``audio`` scaled so its RMS is ``TARGET_DB`` dBFS (gain at most ``MAX_GAIN_DB``), peaks clipped."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if rms <= 0:
        return audio.astype(np.float32)
    gain = min(10 ** ((TARGET_DB - 20 * np.log10(rms)) / 20), 10 ** (MAX_GAIN_DB / 20))
    return np.clip(audio * gain, -1.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class EncoderInfo:
    whisper_model: str  # a name in text.transcribe.MODELS
    layers: int  # hidden states per clip: the input embedding and one per block
    width: int


class WhisperEncoder:
    """The encoder half of a Whisper model, run on speech of any length up to 30 s."""

    def __init__(self, whisper_model: str = "base", threads: int | None = None):
        from ..text.transcribe import load_openai_whisper

        network = load_openai_whisper(whisper_model)
        self.encoder = network.encoder.float().eval()
        self.n_mels = network.dims.n_mels
        self.info = EncoderInfo(whisper_model, len(self.encoder.blocks) + 1, network.dims.n_audio_state)
        self.threads = threads

    @torch.inference_mode()
    def hidden_states(self, speech: np.ndarray) -> torch.Tensor:
        """(layers, frames, width) for trimmed, loudness-normalised 16 kHz speech."""
        import whisper

        speech = speech[: round(MAX_SPEECH_S * SAMPLE_RATE)]
        mel = whisper.log_mel_spectrogram(torch.from_numpy(speech), n_mels=self.n_mels)
        mel = mel[:, : mel.shape[1] // 2 * 2]  # conv2's stride 2: an even number of frames
        encoder = self.encoder
        x = F.gelu(encoder.conv1(mel[None]))
        x = F.gelu(encoder.conv2(x)).permute(0, 2, 1)
        x = x + encoder.positional_embedding[: x.shape[1]]
        states = [x]
        for block in encoder.blocks:
            x = block(x)
            states.append(x)
        states[-1] = encoder.ln_post(x)
        return torch.cat(states)

    def pooled(self, audio: np.ndarray, trimmed: bool = False) -> np.ndarray | None:
        """(layers, 2 * width) float32: per layer the mean and standard deviation over the speech's
        frames; None when ``audio`` holds less than ``MIN_SPEECH_S`` of speech."""
        speech = audio if trimmed else speech_span(audio)
        if speech is None or speech.size < MIN_SPEECH_S * SAMPLE_RATE:
            return None
        states = self.hidden_states(normalised_loudness(speech))
        return torch.cat([states.mean(dim=1), states.std(dim=1)], dim=1).numpy().astype(np.float32)
