"""The voice stage's cost per minute of audio: the MFCC ensemble against the Whisper voice models, on
the same real speech, in one run: ``voice_whisper`` (Silero VAD + Whisper-base encoder + head) and,
with ``--shared`` (a trained ``voice_whisper_shared`` file: it ships untrained), that model heard
alone (Silero VAD + Whisper tiny.en's encoder in its 30-s window + head) and as ``analyze`` runs it
beside the words branch (the head over the frames of the words branch's own encoder pass: the
voice's cost is what it adds to the transcription, shown apart).

    python bench/voice_cost.py [--keep DIR] [--repeats 3] [--shared WEIGHTS]

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
from source.text.transcribe import EncodedSpeechTimeline, TranscribeOptions, load_transcriber

WINDOW_S = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="folder to keep the built clip in")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shared", type=Path, help="a trained voice_whisper_shared weights file")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-voice-"))
    audio = read_audio(talking_clip(60, folder))[: 60 * SAMPLE_RATE]
    minutes = audio.size / SAMPLE_RATE / 60
    windows = [audio[s:s + WINDOW_S * SAMPLE_RATE] for s in range(0, audio.size, WINDOW_S * SAMPLE_RATE)]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus; {minutes:.2f} min of speech, "
          f"{len(windows)} windows of {WINDOW_S} s")
    print(f"{'model':>14} {'load s':>7} {'s per audio minute':>19} {'windows scored':>15}")
    for name in ("voice_mfcc", "voice_whisper") + (("voice_whisper_shared",) if args.shared else ()):
        started = time.perf_counter()
        model = get_model(name).load(args.shared) if name == "voice_whisper_shared" else get_model(name).load()
        model.predict_window(windows[0])  # first call: the encoder's conversion or VAD session
        load = time.perf_counter() - started
        best, scored = float("inf"), 0
        for _ in range(args.repeats):
            started = time.perf_counter()
            results = [model.encode_window(w, speech_segments(w))[1] for w in windows]
            best = min(best, time.perf_counter() - started)
            scored = sum(r is not None for r in results)
        print(f"{name:>14} {load:7.1f} {best / minutes:19.2f} {scored:>10}/{len(windows)}")
    if not args.shared:
        return
    shared = get_model("voice_whisper_shared").load(args.shared)
    transcriber = load_transcriber(TranscribeOptions(model=shared.transform.whisper_model, threads=1))
    words_s, best = float("inf"), float("inf")
    for _ in range(args.repeats):
        timeline = EncodedSpeechTimeline()
        started = time.perf_counter()
        list(transcriber.stream([audio], on_encoded=timeline.add))  # the words branch, as analyze runs it
        words_s = min(words_s, time.perf_counter() - started)
        started = time.perf_counter()
        results = [shared.encode_frames(timeline.take(i * WINDOW_S, (i + 1) * WINDOW_S))[1]
                   for i in range(len(windows))]
        best = min(best, time.perf_counter() - started)
    print(f"{'voice_whisper_shared in analyze':>14}: {best / minutes:.3f} s per audio minute over the words "
          f"branch's frames, {sum(r is not None for r in results)}/{len(windows)} windows scored "
          f"(the words branch itself: {words_s / minutes:.2f} s per audio minute, one thread)")


if __name__ == "__main__":
    main()
