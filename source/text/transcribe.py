"""Speech to text with segment and word timestamps: one ``Transcriber`` interface, two Whisper backends.

- ``faster-whisper`` (default): CTranslate2 models, int8 on CPU, from the studio's assets.
- ``openai-whisper``: the reference library. An official checkpoint is used when the user has it
  (a path, or a name whose file openai-whisper has already downloaded); otherwise the shipped
  CTranslate2 weights are converted once (``convert.py``) and the result is cached. Nothing is
  ever downloaded from a model hub.

Audio arrives as a stream of 16 kHz mono float32 chunks (``source.media.decode.iter_audio``) and is
transcribed a piece (``chunk_s``) at a time, each cut at its quietest moment near the end so words
are rarely split, so hours of audio never sit in memory. Silence yields nothing: a piece whose
loudest 20 ms stays under ``silence_db`` never reaches the model, a segment Whisper itself marks as
probably not speech (``no_speech_prob``) over such quiet audio is dropped (Whisper writes " You"
over pure silence), and with ``vad`` only what Silero VAD (shipped inside the faster-whisper wheel)
calls speech is decoded: the speech parts are joined, as faster-whisper's own ``vad_filter`` does,
and the times mapped back.
"""

import os
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import whisper
from faster_whisper import WhisperModel
from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps
from whisper.model import ModelDimensions, Whisper

from ..assets import asset_path, file_sha256, get_asset
from ..errors import MediaError, NoAudioTrack, StudioError
from ..media.decode import DecodeReport, iter_audio
from ..media.probe import probe
from ..options import SAMPLE_RATE
from ..paths import cache_dir
from .convert import convert

# model name -> the asset holding its CTranslate2 weights
MODELS = {"tiny.en": "whisper-tiny.en", "base": "whisper-base"}
BACKENDS = ("faster-whisper", "openai-whisper")
_FRAME = SAMPLE_RATE // 50  # 20 ms, the unit of the silence checks

# progress(stage, done, total): seconds of audio transcribed, and the length when known
Progress = Callable[[str, float, float | None], None]


@dataclass(frozen=True)
class TranscribeOptions:
    model: str = "tiny.en"  # a name in MODELS, or a path (see load_transcriber)
    backend: str = "faster-whisper"
    language: str | None = None  # None: English for ".en" models, detected by multilingual ones
    beam_size: int = 5
    word_timestamps: bool = True
    vad: bool = False  # decode only what Silero VAD calls speech
    no_speech_threshold: float = 0.6
    silence_db: float = -50.0  # audio whose loudest 20 ms is quieter than this (dBFS) is silence
    chunk_s: float = 120.0  # long audio is transcribed a piece of about this length at a time
    compute_type: str = "int8"  # faster-whisper weights on CPU
    threads: int = 0  # CPU threads while decoding; 0: the library's default (all cores)

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.beam_size < 1:
            raise ValueError("beam_size must be at least 1")
        if self.chunk_s < 10:
            raise ValueError("chunk_s must be at least 10 seconds")
        if self.threads < 0:
            raise ValueError("threads must be 0 (the default) or more")


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str  # as Whisper writes it, punctuation attached, without the leading space
    probability: float

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    language: str | None
    no_speech_prob: float
    avg_logprob: float


@dataclass
class Transcript:
    segments: list[Segment]
    duration_s: float
    model: str
    backend: str
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]

    @property
    def language(self) -> str | None:
        return self.segments[0].language if self.segments else None

    def to_dict(self) -> dict:
        return {"model": self.model, "backend": self.backend, "language": self.language,
                "duration_s": self.duration_s, "text": self.text, "warnings": self.warnings,
                "segments": [asdict(segment) for segment in self.segments]}


class Transcriber(ABC):
    """16 kHz mono float32 audio -> Segments; a subclass wraps one Whisper library."""

    backend = ""

    def __init__(self, options: TranscribeOptions, multilingual: bool):
        self.options = options
        self.multilingual = multilingual
        if options.language is not None and options.language not in whisper.tokenizer.LANGUAGES:
            raise StudioError(f"Unknown language code {options.language!r}; Whisper's codes are "
                              f"two letters, such as en, de, fr.")
        if not multilingual and options.language not in (None, "en"):
            raise StudioError(f"Whisper {options.model} is English-only; it cannot transcribe "
                              f"language {options.language!r}. Choose a multilingual model: base.")
        self._vad = VadOptions() if options.vad else None

    @abstractmethod
    def _decode(self, audio: np.ndarray, language: str | None) -> Iterator[Segment]:
        """Whisper on one piece of audio; times from the piece's start."""

    def stream(self, chunks: Iterable[np.ndarray], progress: Progress | None = None,
               total_s: float | None = None) -> Iterator[Segment]:
        """Segments of an audio stream, in order, each yielded as soon as its piece is decoded."""
        language = self.options.language or (None if self.multilingual else "en")
        for offset, audio in iter_pieces(chunks, self.options.chunk_s):
            start_s = offset / SAMPLE_RATE
            spans = [] if is_silent(audio, self.options.silence_db) else self._speech_spans(audio)
            if spans:  # decode the speech alone, then put its times back where they were
                timeline = SpeechTimestampsMap(spans, SAMPLE_RATE, time_precision=3)
                speech = np.concatenate([audio[span["start"]:span["end"]] for span in spans])
                for segment in self._decode(speech, language):
                    segment = _placed(segment, timeline, start_s)
                    if not self._hallucinated(segment, audio, start_s):
                        yield segment
            if progress:
                progress("transcribing", start_s + audio.size / SAMPLE_RATE, total_s)

    def transcribe(self, path: str | Path, progress: Progress | None = None) -> Transcript:
        """The transcript of an audio or video file, decoded and transcribed as a stream."""
        info = probe(path)
        if not info.has_audio:
            kind = "a photo" if info.kind == "image" else "a video without an audio track"
            raise NoAudioTrack(f"{Path(path).name} is {kind}: there is no speech to transcribe.")
        report = DecodeReport()
        segments = list(self.stream(iter_audio(path, report), progress, info.duration_s))
        if report.audio_end_s == 0:
            raise MediaError(f"{Path(path).name}: no sound could be decoded from the file.")
        return Transcript(segments, round(report.audio_end_s, 3), self.options.model, self.backend,
                          report.warnings)

    def _speech_spans(self, audio: np.ndarray) -> list[dict]:
        """The speech in a piece ({"start", "end"} in samples): all of it without VAD."""
        if self._vad is None:
            return [{"start": 0, "end": audio.size}]
        return get_speech_timestamps(audio, self._vad, SAMPLE_RATE)

    def _hallucinated(self, segment: Segment, audio: np.ndarray, start_s: float) -> bool:
        """Whisper doubts there is speech and the audio under the segment is silent."""
        first, last = segment.start - start_s, segment.end - start_s
        under = audio[int(first * SAMPLE_RATE):int(np.ceil(last * SAMPLE_RATE))]
        return (segment.no_speech_prob > self.options.no_speech_threshold
                and is_silent(under, self.options.silence_db))


class FasterWhisperTranscriber(Transcriber):
    backend = "faster-whisper"

    def __init__(self, options: TranscribeOptions):
        folder = ctranslate2_folder(options.model)
        try:
            self.model = WhisperModel(str(folder), device="cpu", compute_type=options.compute_type,
                                      cpu_threads=options.threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as error:
            raise StudioError(
                f"{folder} could not be loaded as a faster-whisper model: {error}") from error
        super().__init__(options, self.model.model.is_multilingual)

    def _decode(self, audio, language):
        segments, info = self.model.transcribe(
            audio, language=language, beam_size=self.options.beam_size,
            word_timestamps=self.options.word_timestamps,
            no_speech_threshold=self.options.no_speech_threshold,
        )
        for segment in segments:
            words = tuple(Word(w.start, w.end, w.word.strip(), w.probability)
                          for w in segment.words or ())
            yield Segment(segment.start, segment.end, segment.text.strip(), words, info.language,
                          segment.no_speech_prob, segment.avg_logprob)


class OpenAIWhisperTranscriber(Transcriber):
    backend = "openai-whisper"

    def __init__(self, options: TranscribeOptions):
        self.model = load_openai_whisper(options.model)
        super().__init__(options, self.model.is_multilingual)

    def _decode(self, audio, language):
        with _torch_for_decoding(self.options.threads):
            result = whisper.transcribe(
                self.model, audio, language=language, fp16=False, verbose=None,
                beam_size=self.options.beam_size if self.options.beam_size > 1 else None,
                word_timestamps=self.options.word_timestamps,
                no_speech_threshold=self.options.no_speech_threshold,
            )
        for segment in result["segments"]:
            words = tuple(Word(float(w["start"]), float(w["end"]), w["word"].strip(),
                               float(w["probability"])) for w in segment.get("words", ()))
            yield Segment(float(segment["start"]), float(segment["end"]), segment["text"].strip(),
                          words, result["language"], segment["no_speech_prob"],
                          segment["avg_logprob"])


@contextmanager
def _torch_for_decoding(threads: int):
    """PyTorch's process-wide CPU settings for openai-whisper, put back afterwards: the thread
    count, and denormal numbers flushed to zero (Whisper's attention makes them, over silence
    especially, and unflushed they made decoding 3-4x slower here)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads or previous)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)  # PyTorch's default; the studio sets it nowhere else
        torch.set_num_threads(previous)


def load_transcriber(options: TranscribeOptions = TranscribeOptions()) -> Transcriber:
    """A ready transcriber. ``options.model`` is a name in MODELS, or a path: a CTranslate2 folder
    (faster-whisper), an openai-whisper ``.pt`` checkpoint, or the name of an official checkpoint
    openai-whisper has already downloaded (openai-whisper)."""
    if options.backend == "openai-whisper":
        return OpenAIWhisperTranscriber(options)
    return FasterWhisperTranscriber(options)


def ctranslate2_folder(model: str) -> Path:
    if model in MODELS:
        return asset_path(MODELS[model])
    path = Path(model).expanduser()
    if (path / "model.bin").is_file():
        return path
    raise StudioError(f"faster-whisper has no model {model!r}: use one of {', '.join(MODELS)} "
                      f"or the path of a CTranslate2 Whisper folder (with model.bin).")


def openai_whisper_root() -> Path:
    """Where openai-whisper keeps the checkpoints it downloads."""
    default = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.getenv("XDG_CACHE_HOME", default)) / "whisper"


def openai_checkpoint(model: str) -> Path:
    """The openai-whisper checkpoint file for ``model``: the user's own file or official download
    when there is one, else the conversion of the shipped weights (made once, then cached)."""
    path = Path(model).expanduser()
    if path.is_file():
        return path
    if model in whisper._MODELS:
        url = whisper._MODELS[model]
        official = openai_whisper_root() / os.path.basename(url)
        if official.is_file() and file_sha256(official) == url.split("/")[-2]:
            return official
    if model in MODELS:
        asset = get_asset(MODELS[model])
        converted = cache_dir() / "converted" / f"openai-{asset.name}-{asset.files['model.bin'][:12]}.pt"
        if not converted.is_file():
            convert(asset_path(asset.name), converted)
        return converted
    official_names = ", ".join(name for name in whisper._MODELS if name not in MODELS)
    raise StudioError(
        f"openai-whisper has no checkpoint {model!r} on this machine, and the studio never downloads "
        f"one. Use {' or '.join(MODELS)} (converted from the shipped weights), the path of a .pt "
        f"checkpoint, or an official name ({official_names}) whose file is already in "
        f"{openai_whisper_root()}."
    )


def load_openai_whisper(model: str) -> Whisper:
    path = openai_checkpoint(model)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        network = Whisper(ModelDimensions(**checkpoint["dims"]))
        network.load_state_dict(checkpoint["model_state_dict"])
    except Exception as error:  # unpickling and shape errors come in many types
        raise StudioError(f"{path} is not a usable openai-whisper checkpoint: {error}") from error
    heads = checkpoint.get("alignment_heads")
    if heads:
        mask = torch.zeros(network.dims.n_text_layer, network.dims.n_text_head, dtype=torch.bool)
        mask[tuple(zip(*heads))] = True
        network.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    elif model in whisper._ALIGNMENT_HEADS:
        network.set_alignment_heads(whisper._ALIGNMENT_HEADS[model])
    return network.eval()


def loudest_db(audio: np.ndarray) -> float:
    """The level of the loudest 20 ms of ``audio``, in dB relative to full scale."""
    if audio.size == 0:
        return -np.inf
    frames = np.pad(audio, (0, -audio.size % _FRAME)).reshape(-1, _FRAME)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)).max()
    return float(20 * np.log10(rms)) if rms > 0 else -np.inf


def is_silent(audio: np.ndarray, silence_db: float) -> bool:
    return loudest_db(audio) < silence_db


def iter_pieces(chunks: Iterable[np.ndarray], piece_s: float, search_s: float = 5.0
                ) -> Iterator[tuple[int, np.ndarray]]:
    """Regroup a chunk stream into (first sample, piece) of about ``piece_s`` seconds each.

    A piece ends at the quietest moment of its last ``search_s`` seconds, so a cut rarely falls
    inside a word; what follows the cut opens the next piece.
    """
    size, search = round(piece_s * SAMPLE_RATE), round(search_s * SAMPLE_RATE)
    parts, held, offset = [], 0, 0
    for chunk in chunks:
        parts.append(chunk)
        held += chunk.size
        while held >= size:
            audio = np.concatenate(parts)
            tail = audio[size - search:size]
            levels = np.square(tail[: tail.size // _FRAME * _FRAME]).reshape(-1, _FRAME).mean(axis=1)
            # energy over 0.5 s finds pauses, not the gaps between words; of equally quiet
            # moments the last, so the next piece starts close to where speech resumes (Whisper
            # expects speech within the first second of what it is given)
            smooth = np.convolve(levels, np.ones(25) / 25, mode="same")
            quietest = smooth.size - 1 - int(np.argmin(smooth[::-1]))
            cut = size - search + quietest * _FRAME + _FRAME // 2
            yield offset, audio[:cut]
            offset += cut
            parts, held = [audio[cut:]], audio.size - cut
    if held:
        yield offset, np.concatenate(parts)


def _placed(segment: Segment, timeline: SpeechTimestampsMap, start_s: float) -> Segment:
    """``segment`` with its times moved from the decoded speech to the input's time; both ends
    of a word move with the speech part holding its middle, as in faster-whisper's VAD filter."""
    def place(t: float, part: int | None = None, is_end: bool = False) -> float:
        return round(timeline.get_original_time(float(t), part, is_end) + start_s, 3)

    words = []
    for w in segment.words:
        part = timeline.get_chunk_index((w.start + w.end) / 2)
        words.append(Word(place(w.start, part), place(w.end, part), w.text,
                          round(float(w.probability), 4)))
    return Segment(place(segment.start), place(segment.end, is_end=True), segment.text,
                   tuple(words), segment.language, round(float(segment.no_speech_prob), 4),
                   round(float(segment.avg_logprob), 4))


class WordTimeline:
    """Words of a transcript handed out window by window: a word belongs to the window holding its
    middle. Words are pulled from ``words`` only as far as the windows asked for, so a lazy word
    stream (``words_of(transcriber.stream(...))``) is transcribed no further ahead than needed.
    Windows must come in order of start time (they may overlap)."""

    def __init__(self, words: Iterable[Word]):
        self._words = iter(words)
        self._held: deque[Word] = deque()
        self._done = False

    def take(self, start_s: float, end_s: float) -> list[Word]:
        while self._held and self._held[0].middle < start_s:
            self._held.popleft()
        while not self._done and (not self._held or self._held[-1].middle < end_s):
            word = next(self._words, None)
            if word is None:
                self._done = True
            elif word.middle >= start_s:
                self._held.append(word)
        return [word for word in self._held if start_s <= word.middle < end_s]

    def finish(self) -> None:
        """Transcribe what no window asked for (speech in a dropped tail), so the transcript is whole."""
        for _ in self._words:
            pass
        self._done = True


def words_of(segments: Iterable[Segment]) -> Iterator[Word]:
    for segment in segments:
        yield from segment.words
