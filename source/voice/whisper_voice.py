"""The Whisper voice model: Whisper encoder states of every layer -> learned layer weights -> small head.

The encoder is frozen (the studio's shipped Whisper weights); only the head is trained, on
pooled states cached once per clip (``encodings``). The network is ``LayerWeightedHead``: a softmax
weighting of the encoder's layers (middle layers carry more of how something is said than the
last, which Whisper tunes for the words), then a small MLP. Inputs are standardised with the
training clips' mean and deviation, kept in the network, so a saved file needs nothing else.
"""

import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..emotion_model import EmotionModel
from ..media.decode import read_audio
from ..media.speech import speech_bounds, speech_segments, speech_span
from ..options import SAMPLE_RATE
from ..training.cache import cached_array, cached_rows, file_identity
from .augment import WaveAugment
from .pieces import speech_pieces, speech_weighted

KIND = "voice_whisper"
SHARED_KIND = "voice_whisper_shared"

# waveform augmentation of the training copies: background noise, room, level, speed and pitch
AUGMENT = WaveAugment(noise_snr_db=(5.0, 30.0), gain_db=(-20.0, 6.0), pitch_semitones=(-2.0, 2.0),
                      tempo=(0.9, 1.1), p=0.5, reverb_rt60_s=(0.2, 0.8))


@lru_cache(maxsize=2)
def whisper_encoder(whisper_model: str):
    from .whisper_encoder import WhisperEncoder

    return WhisperEncoder(whisper_model)


@lru_cache(maxsize=2)
def transcriber_encoder(whisper_model: str):
    from .whisper_encoder import TranscriberEncoder

    return TranscriberEncoder(whisper_model)


# WhisperTransform.encoder: what the head reads
ENCODERS = {
    "layers": "every layer of the Whisper encoder (openai-whisper) over the trimmed, loudness-normalised speech alone",
    "transcriber": "the output of the words branch's Whisper encoder (CTranslate2) over the speech as it transcribes "
                   "it, so that in analyze the voice reads the words branch's pass",
}


@dataclass(frozen=True)
class WhisperTransform:
    """16 kHz audio -> pooled encoder states (layers, 2 * width) of its speech; None without speech."""

    whisper_model: str = "base"
    encoder: str = "layers"  # a key of ENCODERS

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, not {self.encoder!r}")
        if self.encoder == "transcriber" and self.whisper_model not in WHISPER_WIDTH:
            raise ValueError(f"the transcriber's encoder is read for {', '.join(WHISPER_WIDTH)}, "
                             f"not {self.whisper_model!r}")

    def __call__(self, audio: np.ndarray, segments: list[tuple[int, int]] | None = None) -> np.ndarray | None:
        if self.encoder == "transcriber":  # its own voice activity, as the transcriber's
            return transcriber_encoder(self.whisper_model).pooled(audio)
        speech = speech_span(audio, segments)
        return None if speech is None else whisper_encoder(self.whisper_model).pooled(speech, trimmed=True)

    def heard_spans(self, audio: np.ndarray) -> list[tuple[int, int]]:
        """(start, end) samples of ``audio`` the encoder hears: the transcriber's speech spans, or
        one span from just before the first speech to just after the last; [] without speech."""
        if self.encoder == "transcriber":
            return [(span["start"], span["end"]) for span in transcriber_encoder(self.whisper_model).speech_spans(audio)]
        bounds = speech_bounds(audio)
        return [] if bounds is None else [bounds]

    def shape(self) -> tuple[int, int]:
        """(layers, features) of a pooled clip."""
        if self.encoder == "transcriber":
            return 1, 2 * WHISPER_WIDTH[self.whisper_model]
        info = whisper_encoder(self.whisper_model).info
        return info.layers, 2 * info.width

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "WhisperTransform":
        return cls(**values)


WHISPER_WIDTH = {"tiny.en": 384, "base": 512}  # the encoder's width, of each model in text.transcribe.MODELS


def _encoding_row(job: tuple) -> np.ndarray:
    """One clip's pooled states (copy 0: as recorded; others: augmented), NaN without speech."""
    path, copy, transform, shape = job
    audio = read_audio(path)
    if copy:
        audio = AUGMENT.variant(audio, seed=zlib.crc32(f"{Path(path).name}:{copy}".encode()))
    pooled = transform(audio)
    return np.full(shape, np.nan, np.float16) if pooled is None else pooled.astype(np.float16)


def encodings(paths: list[Path], transform: WhisperTransform, copies: int, progress=None,
              workers: int = 1) -> np.ndarray:
    """(clips, copies, layers, 2 * width) float16, cached on disk and resumable."""
    shape = transform.shape()
    jobs = [(path, copy, transform, shape) for path in paths for copy in range(copies)]
    key = {"whisper_model": transform.whisper_model, "augment": AUGMENT.to_dict(),
           "files": [file_identity(p) for p in paths], "copies": copies, "version": 1}
    name = f"voice-whisper-{transform.whisper_model}"
    if transform.encoder != "layers":  # the every-layer caches keep their names
        name = f"voice-whisper-{transform.encoder}-{transform.whisper_model}"
    rows = cached_rows(name, key, jobs, _encoding_row, shape, np.float16,
                       progress=progress, save_every_s=20.0, workers=workers)
    return rows.reshape(len(paths), copies, *shape)


PACK_S = 20.0  # seconds of clips joined into one pack (the transcriber packs up to 24 s of speech)


def _encode_pack(encoder, pack: list[tuple[int, np.ndarray]], rows: np.ndarray, rng: np.random.Generator) -> None:
    """Clips ``pack`` (index, audio) joined with short pauses and encoded as the transcriber encodes
    a pack; each clip's frames pooled into ``rows[index]``."""
    from .whisper_encoder import pooled_frames

    parts, places, at = [], [], 0
    for index, audio in pack:
        pause = np.zeros(round(rng.uniform(0.2, 1.0) * SAMPLE_RATE), np.float32)
        parts += [audio, pause]
        places.append((index, at / SAMPLE_RATE, (at + audio.size) / SAMPLE_RATE))
        at += audio.size + pause.size
    joined = np.concatenate(parts)
    spans = encoder.speech_spans(joined)
    if not spans:
        return
    encoded = encoder.encoded(joined, spans)
    for index, start, end in places:
        pooled = pooled_frames(encoded.frames[(encoded.times_s >= start) & (encoded.times_s < end)])
        if pooled is not None:
            rows[index] = pooled


def packed_encodings(paths: list[Path], speakers: list[str], transform: WhisperTransform, passes: int,
                     progress=None) -> np.ndarray:
    """(clips, passes, 1, 2 * width) float16: each clip heard inside a pack of its speaker's clips
    (a random order per pass, about ``PACK_S`` of them), as the transcriber hands frames to the voice
    in ``analyze``: after other speech, anywhere in Whisper's window; NaN without speech. Cached."""
    shape = transform.shape()

    def compute() -> np.ndarray:
        encoder = transcriber_encoder(transform.whisper_model)
        rows = np.full((len(paths), passes, *shape), np.nan, np.float16)
        done = 0
        for copy in range(passes):
            rng = np.random.default_rng(copy)
            for speaker in sorted(set(speakers)):
                pack, length = [], 0
                for index in rng.permutation([i for i, s in enumerate(speakers) if s == speaker]):
                    audio = read_audio(paths[index])
                    if pack and length + audio.size > PACK_S * SAMPLE_RATE:
                        _encode_pack(encoder, pack, rows[:, copy], rng)
                        pack, length = [], 0
                    pack.append((index, audio))
                    length += audio.size
                    done += 1
                    if progress:
                        progress(done, passes * len(paths))
                if pack:
                    _encode_pack(encoder, pack, rows[:, copy], rng)
        return rows

    key = {"whisper_model": transform.whisper_model, "files": [file_identity(p) for p in paths],
           "speakers": speakers, "passes": passes, "pack_s": PACK_S, "version": 1}
    return cached_array(f"voice-whisper-packed-{transform.whisper_model}", key, compute)


class LayerWeightedHead(nn.Module):
    """(batch, layers, features) -> standardise -> softmax-weighted sum of layers -> MLP."""

    def __init__(self, layers: int, features: int, n_classes: int, hidden: int = 256, dropout: float = 0.3):
        super().__init__()
        self.register_buffer("mean", torch.zeros(layers, features))
        self.register_buffer("std", torch.ones(layers, features))
        self.layer_logits = nn.Parameter(torch.zeros(layers))
        # hidden 0: a linear classifier over the weighted layers
        self.body = (nn.Sequential(nn.Dropout(dropout), nn.Linear(features, hidden), nn.GELU(), nn.Dropout(dropout))
                     if hidden else nn.Dropout(dropout))
        self.classifier = nn.Linear(hidden or features, n_classes)
        self.dims = {"layers": layers, "features": features, "n_classes": n_classes, "hidden": hidden,
                     "dropout": dropout}

    @property
    def embedding_size(self) -> int:
        """The size of ``embed``'s output, which the fusion models read."""
        return self.dims["hidden"] or self.dims["features"]

    def layer_weights(self) -> torch.Tensor:
        return torch.softmax(self.layer_logits, dim=0)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        return self.body((x * self.layer_weights()[:, None]).sum(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embed(x))

    def config(self) -> dict:
        return {"layer_weighted_head": self.dims}

    @classmethod
    def from_config(cls, config: dict) -> "LayerWeightedHead":
        return cls(**config["layer_weighted_head"])


class WhisperVoiceModel(EmotionModel):
    KIND = KIND
    TRANSFORM = WhisperTransform
    NETWORK_FROM_CONFIG = staticmethod(LayerWeightedHead.from_config)

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (clips, labels) of pooled encoder states (clips, layers, features)."""
        return self.encode(torch.from_numpy(np.asarray(features, dtype=np.float32)))[1].numpy()

    def encode_window(self, audio: np.ndarray | None,
                      segments: list[tuple[int, int]] | None = None) -> tuple[np.ndarray | None, dict | None]:
        """One window's embedding and scored probabilities; (None, None) without speech.

        Whisper's encoder hears 30 s at most: a longer window is heard in 30-s pieces, averaged by
        their seconds of speech (see :mod:`.pieces`)."""
        from .whisper_encoder import MAX_SPEECH_S

        if audio is None:
            return None, None
        segments = speech_segments(audio) if segments is None else segments
        pieces = speech_pieces(audio, segments, round(MAX_SPEECH_S * SAMPLE_RATE))
        heard = [(piece, self.transform(piece.audio, piece.segments)) for piece in pieces]
        heard = [(piece, features) for piece, features in heard if features is not None]
        if not heard:
            return None, None
        embedded, probabilities = self.encode(torch.from_numpy(np.stack([features for _, features in heard])))
        if len(heard) == 1:  # the window fits: heard whole
            return embedded[0].numpy(), self.scored(probabilities[0])
        pieces = [piece for piece, _ in heard]
        return (speech_weighted(embedded.numpy(), pieces).astype(np.float32),
                self.scored(speech_weighted(probabilities.numpy(), pieces)))

    def predict_window(self, audio: np.ndarray | None) -> dict | None:
        return self.encode_window(audio)[1]

    def reads_transcriber(self, whisper_model: str) -> bool:
        """Whether this model reads the encoder output of the words branch's ``whisper_model``."""
        return self.transform.encoder == "transcriber" and self.transform.whisper_model == whisper_model

    def encode_frames(self, frames: np.ndarray | None) -> tuple[np.ndarray | None, dict | None]:
        """The embedding and scored probabilities of a window's frames of the words branch's
        encoder output (``text.transcribe.EncodedSpeechTimeline``); (None, None) for too little speech."""
        from .whisper_encoder import pooled_frames

        pooled = pooled_frames(frames)
        if pooled is None:
            return None, None
        embedded, probabilities = self.encode(torch.from_numpy(pooled[None]))
        return embedded[0].numpy(), self.scored(probabilities[0])


class SharedWhisperVoiceModel(WhisperVoiceModel):
    """The Whisper voice model over the words branch's own encoder pass (Whisper tiny.en's output):
    in ``analyze`` it costs no encoder of its own."""

    KIND = SHARED_KIND
