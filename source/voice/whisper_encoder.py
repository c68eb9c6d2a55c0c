"""Whisper encoder representations of speech, pooled over the speech's own frames. Two encoders:

- ``WhisperEncoder``: every layer of the studio's shipped Whisper (converted once to an
  openai-whisper checkpoint by ``text/convert.py``, which keeps every layer; CTranslate2 exposes
  only the last), run on the unpadded log-mel of the speech alone (Whisper's 30-s zero padding
  would otherwise make most frames silence, so the positional embeddings are cut to the clip's
  length instead). Before the mel spectrogram the speech is trimmed (``speech_span``) and brought
  to a fixed loudness, so a quiet speaker is scored like a loud one. ``pooled`` gives, per layer
  (the input embedding, then each block), the mean and standard deviation over time:
  (layers + 1, 2 * width).
- ``TranscriberEncoder``: the output of the words branch's own encoder pass (CTranslate2, int8),
  over speech exactly as the transcriber hears it: Silero VAD's spans with the transcriber's
  settings, joined, in Whisper's 30-s window. A voice model trained on it reads, in ``analyze``,
  the frames the words branch has already computed (``text.transcribe.EncodedSpeech``), so the
  voice costs no encoder pass of its own. Whisper's log-mel is scaled to its loudest moment, so
  loudness needs no normalising. ``pooled``: (1, 2 * width).
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..media.speech import speech_span
from ..options import SAMPLE_RATE
from ..text.transcribe import (ENCODER_HOP, EncodedSpeech, TranscribeOptions, encoded_speech, is_silent, joined_speech,
                               load_faster_whisper, load_openai_whisper, speech_frames)

TARGET_DB = -23.0  # speech RMS after loudness normalisation, dBFS
MAX_GAIN_DB = 40.0  # never amplify more than this: near-silence stays near-silent
MIN_SPEECH_S = 0.3  # shorter speech gives too few encoder frames (20 ms each) to pool
MAX_SPEECH_S = 30.0  # Whisper's context: longer speech is cut to its first 30 s
MEL_HOP_S = 0.01  # Whisper's log-mel frames: 160 samples at 16 kHz


def log_mel(audio: np.ndarray, n_mels: int = 80) -> torch.Tensor:
    """(n_mels, frames): Whisper's log-mel spectrogram of 16 kHz ``audio``, unpadded."""
    import whisper

    return whisper.log_mel_spectrogram(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
                                       n_mels=n_mels)


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
        network = load_openai_whisper(whisper_model)
        self.encoder = network.encoder.float().eval()
        self.n_mels = network.dims.n_mels
        self.info = EncoderInfo(whisper_model, len(self.encoder.blocks) + 1, network.dims.n_audio_state)
        self.threads = threads

    @torch.inference_mode()
    def hidden_states(self, speech: np.ndarray) -> torch.Tensor:
        """(layers, frames, width) for trimmed, loudness-normalised 16 kHz speech."""
        mel = log_mel(speech[: round(MAX_SPEECH_S * SAMPLE_RATE)], self.n_mels)
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


def pooled_frames(frames: np.ndarray) -> np.ndarray | None:
    """(1, 2 * width) float32: the mean and standard deviation of encoder frames (frames, width);
    None for fewer frames than ``MIN_SPEECH_S`` of speech gives."""
    if frames is None or len(frames) < MIN_SPEECH_S * SAMPLE_RATE / ENCODER_HOP:
        return None
    frames = np.asarray(frames, dtype=np.float32)
    return np.concatenate([frames.mean(axis=0), frames.std(axis=0)])[None]


class TranscriberEncoder:
    """The encoder of the words branch's CTranslate2 Whisper, on speech as the transcriber hears it."""

    def __init__(self, whisper_model: str = "tiny.en", threads: int = 1):
        from faster_whisper.vad import VadOptions

        options = TranscribeOptions(model=whisper_model)
        self.model = load_faster_whisper(whisper_model, options.compute_type, threads)
        self.vad = VadOptions(max_speech_duration_s=options.pack_s)
        self.silence_db = options.silence_db
        self.whisper_model = whisper_model

    def frames(self, speech: np.ndarray) -> np.ndarray:
        """(frames, width): the encoder output over ``speech`` (at most 30 s) in Whisper's window,
        its padding left out; the log-mel zero-padded as faster-whisper pads it."""
        from faster_whisper.audio import pad_or_trim

        speech = speech[: round(MAX_SPEECH_S * SAMPLE_RATE)]
        # faster-whisper leaves out the last mel frame (its 160 samples of padding) before padding
        output = self.model.encode(pad_or_trim(self.model.feature_extractor(speech)[:, :-1]))
        return speech_frames(np.asarray(output)[0], speech.size)

    def speech_spans(self, audio: np.ndarray) -> list[dict]:
        """Where Silero VAD, with the transcriber's settings, hears speech in ``audio`` (samples)."""
        from faster_whisper.vad import get_speech_timestamps

        return get_speech_timestamps(audio, self.vad, SAMPLE_RATE)

    def encoded(self, audio: np.ndarray, spans: list[dict]) -> EncodedSpeech:
        """The speech ``spans`` of ``audio`` joined and encoded as the transcriber encodes a pack,
        each frame with its time in ``audio``."""
        return encoded_speech(self.frames(joined_speech(audio, spans)), spans, 0.0)

    def pooled(self, audio: np.ndarray) -> np.ndarray | None:
        """(1, 2 * width) float32 over the speech Silero VAD finds in ``audio`` (its spans joined,
        as the transcriber packs them); None for silence or under ``MIN_SPEECH_S`` of speech."""
        if is_silent(audio, self.silence_db):
            return None
        spans = self.speech_spans(audio)
        if sum(span["end"] - span["start"] for span in spans) < MIN_SPEECH_S * SAMPLE_RATE:
            return None
        return pooled_frames(self.encoded(audio, spans).frames)
