"""The voice stage's cost per minute of audio: the MFCC ensemble (the previous default) against the
Whisper voice model (Silero VAD + Whisper-base encoder + head), on the same real speech, in one run.

    python bench/voice_cost.py [--keep DIR] [--repeats 3]

The audio is the first minute of the talking-head clip ``common.talking_clip`` builds (real speech
of seven speakers), cut into the analysis's 4-s windows. Each model is loaded once (load time shown
apart); the per-minute figure is the best of ``--repeats`` passes over all windows.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from common import talking_clip

from source.media.speech import speech_segments
from source.media.decode import read_audio
from source.options import SAMPLE_RATE
from source.registry import get_model

WINDOW_S = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="folder to keep the built clip in")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-voice-"))
    audio = read_audio(talking_clip(60, folder))[: 60 * SAMPLE_RATE]
    minutes = audio.size / SAMPLE_RATE / 60
    windows = [audio[s:s + WINDOW_S * SAMPLE_RATE] for s in range(0, audio.size, WINDOW_S * SAMPLE_RATE)]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus; {minutes:.2f} min of speech, "
          f"{len(windows)} windows of {WINDOW_S} s")
    print(f"{'model':>14} {'load s':>7} {'s per audio minute':>19} {'windows scored':>15}")
    for name in ("audio", "voice_whisper"):
        started = time.perf_counter()
        model = get_model(name).load()
        model.predict_window(windows[0])  # first call: the encoder's conversion or VAD session
        load = time.perf_counter() - started
        best, scored = float("inf"), 0
        for _ in range(args.repeats):
            started = time.perf_counter()
            results = [model.encode_window(w, speech_segments(w))[1] for w in windows]
            best = min(best, time.perf_counter() - started)
            scored = sum(r is not None for r in results)
        print(f"{name:>14} {load:7.1f} {best / minutes:19.2f} {scored:>10}/{len(windows)}")


if __name__ == "__main__":
    main()
