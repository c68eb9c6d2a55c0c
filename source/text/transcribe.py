"""Speech to text with segment and word timestamps: one ``Transcriber`` interface, two Whisper backends.

- ``faster-whisper`` (default): CTranslate2 models, int8 on CPU, from the studio's assets.
- ``openai-whisper``: the reference library. An official checkpoint is used when the user has it
  (a path, or a name whose file openai-whisper has already downloaded); otherwise the shipped
  CTranslate2 weights are converted once (``convert.py``) and the result is cached. Nothing is
  ever downloaded from a model hub.

Audio arrives as a stream of 16 kHz mono float32 chunks (``source.media.decode.iter_audio``) and is
transcribed a piece (``chunk_s``) at a time, so hours of audio never sit in memory. With ``vad`` (the
default) only what Silero VAD (shipped inside the faster-whisper wheel) calls speech is decoded, in
packs of whole utterances of at most ``pack_s`` seconds, each decoded alone (never conditioned on
earlier text); a piece ends where no speech is going on, so no sentence is cut or doubled at a join.
Hallucination guards: text Whisper doubts (compression ratio, log-probability, or seconds of speech
left without words: what a long 30-s window of repetitive speech gave, up to 30 s dropped) is decoded
again in halves before Whisper's temperature fallback; segments of punctuation alone, ones Whisper
calls probably not speech (``no_speech_prob``) over silent audio, and stock phrases ("Thank you for
watching") over audio VAD does not mostly call speech are dropped.
"""

import os
import re
import threading
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

from ..assets import asset_path, get_asset
from ..errors import MediaError, NoAudioTrack, StudioError
from ..fileio import file_sha256
from ..media.decode import DecodeReport, iter_audio
from ..media.probe import probe
from ..media.speech import speech_activity
from ..options import SAMPLE_RATE
from ..paths import cache_dir
from .convert import convert

# model name -> the asset holding its CTranslate2 weights
MODELS = {"tiny.en": "whisper-tiny.en", "base": "whisper-base"}
BACKENDS = ("faster-whisper", "openai-whisper")
_FRAME = SAMPLE_RATE // 50  # 20 ms, the unit of the silence checks
GAP_S = 4.0  # seconds of speech left without words that make a decoding doubted
MIN_PACK_S = 3.0  # speech that Whisper struggles with is split in halves down to about this length
HOLD_S = 2.5  # speech ending this close to the end of what has arrived may not be over yet
FALLBACK = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # Whisper's temperatures, tried in turn while the text is doubted
# what Whisper writes at the end of a video or over music, learnt from subtitled videos: kept only
# over audio that Silero VAD, strictly, calls speech
STOCK_PHRASES = re.compile(
    r"(thank you|thanks)( (so|very) much)?( (for|for all) (watching|listening|viewing))?( everyone)?|"
    r"(please )?(like and )?subscribe( to (my|our|the) channel)?|see you (in the )?next (time|video)|"
    r"(subtitles|captions|transcription) by .*|you|bye( bye)?")

# progress(stage, done, total): seconds of audio transcribed, and the length when known
Progress = Callable[[str, float, float | None], None]
ENCODER_HOP = 2 * 160  # samples per frame of Whisper's encoder output (20 ms)


@dataclass(frozen=True)
class EncodedSpeech:
    """Whisper's encoder output over one pack of speech as the words branch decoded it: a frame
    per 20 ms of the speech (silence between utterances is not in a pack), each with its time."""

    times_s: np.ndarray  # (frames,) the middle of each frame, on the input's timeline
    frames: np.ndarray  # (frames, width) float32, the encoder's last layer


def speech_frames(encoder_output: np.ndarray, samples: int) -> np.ndarray:
    """The frames of ``encoder_output`` (Whisper's 30-s window, 1500 frames) that hold the first
    ``samples`` of audio; the rest is Whisper's padding."""
    return encoder_output[: max(1, -(-samples // ENCODER_HOP))]


def joined_speech(audio: np.ndarray, spans: list[dict]) -> np.ndarray:
    """The speech ``spans`` (in samples) of ``audio`` joined end to end, as a pack is decoded."""
    return np.concatenate([audio[span["start"]:span["end"]] for span in spans])


def encoded_speech(frames: np.ndarray, spans: list[dict], start_s: float) -> EncodedSpeech:
    """``frames`` of the speech ``spans`` joined end to end, each put back at its time in the input
    (``spans`` in samples of a piece beginning at ``start_s``)."""
    lengths = np.array([span["end"] - span["start"] for span in spans])
    ends = np.cumsum(lengths)
    # the last frame may hold less than 20 ms of speech: its middle is kept inside the speech
    middles = np.minimum(np.arange(len(frames)) * ENCODER_HOP + ENCODER_HOP // 2, ends[-1] - 1)
    part = np.minimum(np.searchsorted(ends, middles, side="right"), len(spans) - 1)
    starts = np.array([span["start"] for span in spans])
    times = start_s + (starts[part] + middles - (ends[part] - lengths[part])) / SAMPLE_RATE
    return EncodedSpeech(times.astype(np.float64), np.asarray(frames, dtype=np.float32))


@dataclass(frozen=True)
class TranscribeOptions:
    model: str = "tiny.en"  # a name in MODELS, or a path (see load_transcriber)
    backend: str | None = None  # None: the library that reads ``model`` (``whisper_backend``)
    language: str | None = None  # None: English for ".en" models, detected by multilingual ones
    beam_size: int = 5
    word_timestamps: bool = True
    vad: bool = True  # decode only what Silero VAD calls speech, a few sentences at a time
    no_speech_threshold: float = 0.6
    compression_ratio_threshold: float = 2.4  # text this repetitive (gzip ratio) is doubted
    log_prob_threshold: float = -1.0  # text decoded this unsurely (mean token log-probability) is doubted
    pack_s: float = 24.0  # with vad: at most this much speech is decoded at once
    silence_db: float = -50.0  # audio whose loudest 20 ms is quieter than this (dBFS) is silence
    chunk_s: float = 120.0  # long audio is transcribed a piece of about this length at a time
    compute_type: str = "int8"  # faster-whisper weights on CPU
    threads: int = 0  # CPU threads while decoding; 0: the library's default (all cores)

    def __post_init__(self):
        if self.backend is None:
            object.__setattr__(self, "backend", whisper_backend(self.model))
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.beam_size < 1:
            raise ValueError("beam_size must be at least 1")
        if self.chunk_s < 10:
            raise ValueError("chunk_s must be at least 10 seconds")
        if not 2 * MIN_PACK_S <= self.pack_s <= 30:
            raise ValueError(f"pack_s must be from {2 * MIN_PACK_S:g} to 30 seconds (one Whisper window)")
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
    compression_ratio: float = 0.0  # gzip ratio of the text: high when it repeats itself


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
        # faster-whisper's VAD settings for Whisper (2 s of silence ends speech, 0.4 s kept either
        # side), with long speech split at its pauses so a pack never exceeds one Whisper window
        self._vad = VadOptions(max_speech_duration_s=self.pack_s) if options.vad else None

    @property
    def pack_s(self) -> float:
        """The most speech decoded at once: at most half a piece, so a piece always has speech that
        is over to decode, however small ``chunk_s`` is."""
        return min(self.options.pack_s, self.options.chunk_s / 2)

    @abstractmethod
    def _decode(self, audio: np.ndarray, language: str | None,
                temperatures: tuple[float, ...]) -> Iterator[Segment]:
        """Whisper on one piece of audio, never conditioned on earlier text; times from its start."""

    def stream(self, chunks: Iterable[np.ndarray], progress: Progress | None = None,
               total_s: float | None = None,
               on_encoded: Callable[[EncodedSpeech], None] | None = None) -> Iterator[Segment]:
        """Segments of an audio stream, in order, each yielded as soon as its piece is decoded.

        With ``vad`` (the default) a piece is decoded only where Silero VAD hears speech, in packs
        of whole utterances (at most ``pack_s`` seconds of speech each); speech still running at the
        end of a piece is not cut but carried into the next, so no sentence is split, lost or
        transcribed twice at a join. Without it, each piece is decoded whole (cut in a pause).

        ``on_encoded`` receives the encoder output of each decoded pack before its segments are
        yielded (a backend that cannot share it sends nothing): the voice branch reads it instead
        of running an encoder of its own.
        """
        language = self.options.language or (None if self.multilingual else "en")
        pieces = (self._vad_pieces(chunks) if self._vad is not None
                  else ((offset, audio, [{"start": 0, "end": audio.size}])
                        for offset, audio in iter_pieces(chunks, self.options.chunk_s)))
        for offset, audio, spans in pieces:
            start_s = offset / SAMPLE_RATE
            if not is_silent(audio, self.options.silence_db):
                for pack in self._packs(spans):
                    yield from self._decode_pack(audio, pack, start_s, language, on_encoded)
            if progress:
                progress("transcribing", start_s + audio.size / SAMPLE_RATE, total_s)

    def _vad_pieces(self, chunks: Iterable[np.ndarray]) -> Iterator[tuple[int, np.ndarray, list[dict]]]:
        """(first sample, piece, its speech spans): pieces of about ``chunk_s`` that end where no
        speech is going on; what follows the cut, speech not yet over included, opens the next."""
        size, hold = round(self.options.chunk_s * SAMPLE_RATE), round(HOLD_S * SAMPLE_RATE)
        parts, held, offset = [], 0, 0
        for chunk in chunks:
            parts.append(chunk)
            held += chunk.size
            if held < size:
                continue
            audio = np.concatenate(parts)
            spans = self._speech_spans(audio)
            # speech reaching the last HOLD_S seconds may go on: cut before it, else HOLD_S from the end
            cut = min([span["start"] for span in spans if span["end"] > audio.size - hold]
                      + [audio.size - hold])
            if cut <= 0:  # cannot happen with pack_s <= chunk_s / 2; kept as a guard
                cut = audio.size
            yield offset, audio[:cut], [span for span in spans if span["end"] <= cut]
            offset += cut
            parts, held = [audio[cut:]], audio.size - cut
        if held:
            audio = np.concatenate(parts)
            yield offset, audio, self._speech_spans(audio)

    def _packs(self, spans: list[dict]) -> Iterator[list[dict]]:
        """Consecutive speech spans joined while their speech lasts at most ``pack_s``."""
        limit = round(self.pack_s * SAMPLE_RATE)
        pack, length = [], 0
        for span in spans:
            if pack and length + span["end"] - span["start"] > limit:
                yield pack
                pack, length = [], 0
            pack.append(span)
            length += span["end"] - span["start"]
        if pack:
            yield pack

    def _decode_pack(self, audio: np.ndarray, spans: list[dict], start_s: float,
                     language: str | None,
                     on_encoded: Callable[[EncodedSpeech], None] | None = None) -> Iterator[Segment]:
        """The speech ``spans`` of ``audio`` decoded together, their times put back where they were.

        Greedy first; text Whisper doubts (too repetitive, too unsure, or leaving seconds of the
        speech without words: a looped sentence does all three, and Whisper's own fallback then
        drops or garbles up to 30 s) is decoded again in halves, down to MIN_PACK_S, and only then
        with Whisper's temperature fallback."""
        speech = joined_speech(audio, spans)
        segments = list(self._decode(speech, language, (0.0,)))
        if on_encoded is not None:  # the whole pack's encoder output, before any halves
            frames = self._last_encoding(speech.size)
            if frames is not None:
                on_encoded(encoded_speech(frames, spans, start_s))
        if self._doubted(segments, speech.size / SAMPLE_RATE):
            halves = _halves(audio, spans)
            if halves is not None:
                for half in halves:
                    yield from self._decode_pack(audio, half, start_s, language)
                return
            segments = list(self._decode(speech, language, FALLBACK))
        timeline = SpeechTimestampsMap(spans, SAMPLE_RATE, time_precision=3)
        for segment in segments:
            segment = _placed(segment, timeline, start_s)
            if not self._hallucinated(segment, audio, start_s):
                yield segment

    def _last_encoding(self, samples: int) -> np.ndarray | None:
        """The encoder output of the last ``_decode`` over its ``samples`` of speech, (frames,
        width); None where the backend does not keep it."""
        return None

    def _doubted(self, segments: list[Segment], length_s: float) -> bool:
        options = self.options
        if any(s.compression_ratio > options.compression_ratio_threshold
               or s.avg_logprob < options.log_prob_threshold for s in segments):
            return True
        if not self.options.word_timestamps:
            return False
        edges = [0.0] + [t for w in (w for s in segments for w in s.words) for t in (w.start, w.end)]
        edges.append(length_s)
        return max(b - a for a, b in zip(edges[::2], edges[1::2])) > GAP_S

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
        if is_silent(audio, self.options.silence_db):
            return []
        return get_speech_timestamps(audio, self._vad, SAMPLE_RATE)

    def _hallucinated(self, segment: Segment, audio: np.ndarray, start_s: float) -> bool:
        """Text Whisper makes up: a segment without words but punctuation; one Whisper doubts is
        speech over silent audio (Whisper writes " You" over silence); and a stock phrase ("Thank
        you for watching", "Please subscribe"...) over audio that Silero VAD, strictly, does not
        mostly call speech."""
        if not re.search(r"\w", segment.text):
            return True
        first, last = segment.start - start_s, segment.end - start_s
        under = audio[max(0, int(first * SAMPLE_RATE)):int(np.ceil(last * SAMPLE_RATE))]
        if segment.no_speech_prob > self.options.no_speech_threshold and is_silent(
                under, self.options.silence_db):
            return True
        if STOCK_PHRASES.fullmatch(" ".join(re.findall(r"[a-z']+", segment.text.lower()))):
            return speech_activity(under)["speech_ratio"] < 0.5
        return False


class EncodingKeptWhisperModel(WhisperModel):
    """faster-whisper's model, keeping the encoder output of the first window it decodes after
    ``forget_encoding`` (a pack of at most 30 s is one window), so the voice branch can read it."""

    first_encoding = None

    def forget_encoding(self) -> None:
        self.first_encoding = None

    def encode(self, features: np.ndarray):
        output = super().encode(features)
        if self.first_encoding is None:
            self.first_encoding = output
        return output


def load_faster_whisper(model: str, compute_type: str = "int8", threads: int = 0) -> EncodingKeptWhisperModel:
    """A CTranslate2 Whisper model (a name in MODELS or a folder) on the CPU, from local files only."""
    folder = ctranslate2_folder(model)
    try:
        return EncodingKeptWhisperModel(str(folder), device="cpu", compute_type=compute_type,
                                        cpu_threads=threads, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as error:
        raise StudioError(f"{folder} could not be loaded as a faster-whisper model: {error}") from error


class FasterWhisperTranscriber(Transcriber):
    backend = "faster-whisper"

    def __init__(self, options: TranscribeOptions):
        self.model = load_faster_whisper(options.model, options.compute_type, options.threads)
        super().__init__(options, self.model.model.is_multilingual)

    def _decode(self, audio, language, temperatures):
        options = self.options
        self.model.forget_encoding()
        segments, info = self.model.transcribe(
            audio, language=language, beam_size=options.beam_size, temperature=list(temperatures),
            word_timestamps=options.word_timestamps, condition_on_previous_text=False,
            no_speech_threshold=options.no_speech_threshold, log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
        )
        for segment in segments:
            words = tuple(Word(w.start, w.end, w.word.strip(), w.probability)
                          for w in segment.words or ())
            yield Segment(segment.start, segment.end, segment.text.strip(), words, info.language,
                          segment.no_speech_prob, segment.avg_logprob, segment.compression_ratio)

    def _last_encoding(self, samples: int) -> np.ndarray | None:
        encoding = self.model.first_encoding
        return None if encoding is None else speech_frames(np.asarray(encoding)[0], samples)


class OpenAIWhisperTranscriber(Transcriber):
    backend = "openai-whisper"

    def __init__(self, options: TranscribeOptions):
        self.model = load_openai_whisper(options.model)
        super().__init__(options, self.model.is_multilingual)

    def _decode(self, audio, language, temperatures):
        options = self.options
        with _torch_for_decoding(options.threads):
            result = whisper.transcribe(
                self.model, audio, language=language, fp16=False, verbose=None,
                temperature=tuple(temperatures),
                beam_size=options.beam_size if options.beam_size > 1 else None,
                word_timestamps=options.word_timestamps, condition_on_previous_text=False,
                no_speech_threshold=options.no_speech_threshold,
                logprob_threshold=options.log_prob_threshold,
                compression_ratio_threshold=options.compression_ratio_threshold,
            )
        for segment in result["segments"]:
            words = tuple(Word(float(w["start"]), float(w["end"]), w["word"].strip(),
                               float(w["probability"])) for w in segment.get("words", ()))
            yield Segment(float(segment["start"]), float(segment["end"]), segment["text"].strip(),
                          words, result["language"], segment["no_speech_prob"],
                          segment["avg_logprob"], segment["compression_ratio"])


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


def whisper_backend(model: str) -> str:
    """The library that reads a Whisper model: openai-whisper for a ``.pt`` checkpoint,
    faster-whisper for a name in MODELS or a CTranslate2 folder."""
    return "openai-whisper" if Path(model).suffix == ".pt" else "faster-whisper"


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
                   round(float(segment.avg_logprob), 4), round(float(segment.compression_ratio), 3))


def _halves(audio: np.ndarray, spans: list[dict]) -> tuple[list[dict], list[dict]] | None:
    """``spans`` split in two of about equal speech: between spans, or one span at its quietest
    half-second in its middle third; None when the speech is under 2 * MIN_PACK_S seconds."""
    total = sum(span["end"] - span["start"] for span in spans)
    if total < 2 * MIN_PACK_S * SAMPLE_RATE:
        return None
    if len(spans) > 1:
        done, best, split = 0, None, 1
        for index, span in enumerate(spans[:-1], 1):
            done += span["end"] - span["start"]
            if best is None or abs(done - total / 2) < best:
                best, split = abs(done - total / 2), index
        return spans[:split], spans[split:]
    start, end = spans[0]["start"], spans[0]["end"]
    third = (end - start) // 3
    middle = audio[start + third:end - third]
    levels = np.square(middle[: middle.size // _FRAME * _FRAME]).reshape(-1, _FRAME).mean(axis=1)
    smooth = np.convolve(levels, np.ones(25) / 25, mode="same")
    cut = start + third + int(np.argmin(smooth)) * _FRAME + _FRAME // 2
    return [{"start": start, "end": cut}], [{"start": cut, "end": end}]


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


class EncodedSpeechTimeline:
    """The words branch's encoder output handed out window by window (frames whose middle is in
    the window), for the voice branch. Packs arrive from the transcribing thread (``add``) before
    their words, so once a window's words have been taken, its frames are here. Windows must
    come in order of start time; frames before a window's start are let go."""

    def __init__(self):
        self._packs: deque[EncodedSpeech] = deque()
        self._lock = threading.Lock()

    def add(self, encoded: EncodedSpeech) -> None:
        with self._lock:
            self._packs.append(encoded)

    def take(self, start_s: float, end_s: float) -> np.ndarray | None:
        """(frames, width) of the speech heard in [start_s, end_s); None when there is none."""
        with self._lock:
            while self._packs and self._packs[0].times_s[-1] < start_s:
                self._packs.popleft()
            packs = list(self._packs)
        parts = [pack.frames[(pack.times_s >= start_s) & (pack.times_s < end_s)] for pack in packs]
        parts = [part for part in parts if len(part)]
        return np.concatenate(parts) if parts else None


def words_of(segments: Iterable[Segment]) -> Iterator[Word]:
    for segment in segments:
        yield from segment.words
