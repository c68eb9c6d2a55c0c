"""Transcription backends compared: faster-whisper (int8) vs openai-whisper on the same weights.

Prints, for each backend, the real-time factor (transcription time / audio length; lower is
faster) on one clip, and the word error rate on a few espeak-ng sentences, side by side. The
openai-whisper backend runs the shipped CTranslate2 weights converted by ``source.text.convert``.

    python bench/transcribe_backends.py [CLIP] [--model tiny.en]

Without CLIP, the clip is the six 8-second talking-head samples of ../shared/data (six speakers,
real speech) one after another, or the espeak-ng sentences when that folder is absent. (Not a
looped clip: Whisper takes repeated text for a decoding failure and decodes it again and again.)
Both backends use the studio's default options (word timestamps; beam size 5 unless
``--beam-size`` says otherwise). On a machine
whose cores are busy with other work, ``--threads 1`` can be much faster for openai-whisper
(PyTorch's OpenMP threads wait on each other).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

import ffmpeg
from whisper.normalizers import EnglishTextNormalizer

from source.media.ffmpeg import ffmpeg_binary
from source.options import SAMPLE_RATE
from source.text.transcribe import BACKENDS, TranscribeOptions, load_transcriber

sys.path.insert(0, str(ROOT / "tests"))
from media_fixtures import speak  # noqa: E402

SENTENCES = (
    "Please open the window.",
    "The weather is nice today.",
    "The red house is on the hill.",
    "We will meet again tomorrow morning.",
    "The cat is sleeping on the sofa.",
    "Seven green apples fell down.",
    "My brother likes to play football.",
    "I am afraid of the dark.",
)


TALKING_HEADS = ROOT.parent / "shared" / "data" / "av_samples" / "talking_heads"


def joined_speech(clips: list[Path], dst: Path) -> Path:
    """The sound of ``clips``, one after another, as a 16 kHz mono WAV."""
    (
        ffmpeg.concat(*(ffmpeg.input(str(clip)).audio for clip in clips), v=0, a=1)
        .output(str(dst), ac=1, ar=SAMPLE_RATE)
        .global_args("-loglevel", "error").overwrite_output()
        .run(cmd=ffmpeg_binary())
    )
    return dst


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + deletions + insertions (Levenshtein distance over words)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", type=Path)
    parser.add_argument("--model", default="tiny.en", help="tiny.en or base (default: tiny.en)")
    parser.add_argument("--beam-size", type=int, default=TranscribeOptions.beam_size,
                        help="beam size for both backends (default: the studio's, "
                             f"{TranscribeOptions.beam_size}; 1 is greedy decoding)")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for both backends (default: each library's own)")
    args = parser.parse_args()
    normalize = EnglishTextNormalizer()
    with tempfile.TemporaryDirectory() as folder:
        spoken = []
        for i, sentence in enumerate(SENTENCES):
            speak(sentence, Path(folder) / f"sentence{i}.wav")
            spoken.append(Path(folder) / f"sentence{i}.wav")
        clip = args.clip or joined_speech(
            sorted(TALKING_HEADS.glob("*_000.mp4")) or spoken, Path(folder) / "clip.wav")
        print(f"model: {args.model}  clip: {clip.name}  cpus: {os.cpu_count()}  "
              f"threads: {args.threads or 'default'}  beam size: {args.beam_size}")
        rows = {}
        for backend in BACKENDS:
            start = time.perf_counter()
            options = TranscribeOptions(model=args.model, backend=backend, threads=args.threads,
                                        beam_size=args.beam_size)
            transcriber = load_transcriber(options)
            load_s = time.perf_counter() - start
            errors = words = 0
            heard = []
            for sentence, path in zip(SENTENCES, spoken):  # also warms up (first-call JIT)
                text = transcriber.transcribe(path).text
                reference, hypothesis = normalize(sentence).split(), normalize(text).split()
                errors += word_errors(reference, hypothesis)
                words += len(reference)
                heard.append(text)
            start = time.perf_counter()
            transcript = transcriber.transcribe(clip)
            rtf = (time.perf_counter() - start) / transcript.duration_s
            rows[backend] = (load_s, rtf, transcript.duration_s, errors / words, heard)
        print(f"{'':24} " + " ".join(f"{b:>16}" for b in BACKENDS))
        print(f"{'load s':24} " + " ".join(f"{rows[b][0]:16.2f}" for b in BACKENDS))
        print(f"{'real-time factor':24} " + " ".join(f"{rows[b][1]:16.3f}" for b in BACKENDS)
              + f"   (on {rows[BACKENDS[0]][2]:.0f} s of audio)")
        print(f"{'word error rate':24} " + " ".join(f"{rows[b][3]:16.1%}" for b in BACKENDS)
              + f"   ({len(SENTENCES)} espeak-ng sentences)")
        print()
        for i, sentence in enumerate(SENTENCES):
            print(f"{sentence}")
            for backend in BACKENDS:
                print(f"    {backend:15} {rows[backend][4][i]}")


if __name__ == "__main__":
    main()
