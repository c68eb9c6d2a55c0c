"""Build ``input_files/astronaut_interview.mp4``, the example clip the README and the app use.

A 640x480 25 fps H.264 + AAC clip of about 14 s, made with the test fixtures' own tools
(:mod:`tests.media_fixtures`): scikit-image's ``astronaut`` photo (Eileen Collins, public domain,
NASA) filmed by the fixtures' slow zooming "talking" camera, with espeak-ng reading
:data:`EXAMPLE_SENTENCES` (a happy part, a pause, then a sad and angry part, so the timeline has
something to show). Nothing is downloaded.

    python tests/example_clip.py            # writes input_files/astronaut_interview.mp4
    python tests/example_clip.py OUT.mp4    # somewhere else

The output is the same for the same espeak-ng and ffmpeg builds (single-threaded, bit-exact
muxing); other builds make a clip that differs in bytes, not in content.
"""

from __future__ import annotations

import sys
import tempfile
import wave
from pathlib import Path

import ffmpeg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import media_fixtures as mf  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PATH = REPO_ROOT / "input_files" / "astronaut_interview.mp4"
"""Where the example clip lives (committed; input_files/ is otherwise git-ignored)."""

EXAMPLE_SENTENCES = (
    "I am so happy today. This is wonderful news, and I love my job.",
    "But I am not happy about the delays. This is the worst week of my life.",
)
PAUSE_SECONDS = 1.0
TAIL_SECONDS = 0.5
CRF = 28
AUDIO_BITRATE = "64k"


def example_speech(dst: Path) -> None:
    """The sentences, each spoken by espeak-ng, with ``PAUSE_SECONDS`` of silence between."""
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, sentence in enumerate(EXAMPLE_SENTENCES):
            part = Path(tmp) / f"part{i}.wav"
            mf.speak(sentence, part)
            parts.append(mf._wav_samples(part))
    pause = np.zeros(round(PAUSE_SECONDS * mf.SPEECH_RATE), dtype="<i2")
    tail = np.zeros(round(TAIL_SECONDS * mf.SPEECH_RATE), dtype="<i2")
    pieces = [parts[0]]
    for part in parts[1:]:
        pieces += [pause, part]
    samples = np.concatenate([*pieces, tail])
    with wave.open(str(dst), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(mf.SPEECH_RATE)
        out.writeframes(samples.tobytes())


def make_example(dst: Path = EXAMPLE_PATH) -> Path:
    """Write the example clip to ``dst`` (through a temporary name) and return ``dst``."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        speech = Path(tmp) / "speech.wav"
        example_speech(speech)
        n = round(mf.wav_seconds(speech) * mf.FPS)
        video = mf._raw_video(mf.TALKING_SIZE, mf.FPS)
        audio = ffmpeg.input(str(speech))
        partial = dst.with_name(f".{dst.stem}.partial.mp4")
        mf._run(
            ffmpeg.output(
                video,
                audio,
                str(partial),
                **{**mf._h264(), "crf": CRF, "threads": 1},
                **{**mf._aac(rate=48_000, channels=1), "b:a": AUDIO_BITRATE},
                **mf.MP4_FLAGS,
                map_metadata=-1,
                fflags="+bitexact",
                **{"flags:v": "+bitexact", "flags:a": "+bitexact"},
            ),
            mf._talking_frames(n),
        )
        partial.replace(dst)
    return dst


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    dst = make_example(Path(argv[0]) if argv else EXAMPLE_PATH)
    print(f"{dst} ({dst.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
