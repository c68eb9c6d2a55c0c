"""Who is speaking, on two-person composites of the talking heads: windows attributed right, and
what the attribution costs per window and per minute of video beside the whole analysis.

    python bench/speaker.py [--listeners frozen nodding slowed muted beside] [--pairs 3] [--unseen] [--keep DIR]

Each composite is two ``av_samples`` talking heads side by side taking four 4-s turns (see
``tests/two_people.py`` for the listener kinds); ``beside`` is a talking head beside the RAVDESS
actress's silent stretches (8 s, both sides). Each is analysed with the default options without
the words (Whisper is not part of the attribution); a spoken window is one where the voice
activity detector hears at least ``speaker.MIN_SPEECH_RATIO`` of it; it is right when its
``speaker_face_id`` is the face on the side that speaks. The attribution's cost is the time spent
in ``speaker.mouth_movement`` and ``speaker.speaker_of`` (timed around each call), per window and
per minute of video; the analysis's wall time per minute is shown beside it.
"""

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from common import ROOT, TALKING_HEADS

sys.path.insert(0, str(ROOT / "tests"))

import source.analysis.pipeline as pipeline  # noqa: E402
from source.analysis import speaker  # noqa: E402
from source.options import AnalysisOptions  # noqa: E402
from two_people import ACTRESS, LISTENERS, beside_listener, composite, expected_speakers  # noqa: E402

HDTF = ("WDA_KatieHill_000.mp4", "RD_Radio2_000.mp4", "WDA_AlexandriaOcasioCortez_000.mp4",
        "WDA_BobMenendez_000.mp4", "WDA_EdMarkey0_000.mp4", "RD_Radio34_000.mp4")
PAIRS = tuple(zip(HDTF[::2], HDTF[1::2]))
# pairs the detector's measure and thresholds were not chosen on (--unseen): new pairings, and the
# RAVDESS actress talking (about 1.4 s of speech in each of her 4-s turns)
UNSEEN_PAIRS = (("ravdess_actress_22s.mp4", "RD_Radio2_000.mp4"),
                ("WDA_BobMenendez_000.mp4", "ravdess_actress_22s.mp4"),
                ("WDA_KatieHill_000.mp4", "WDA_EdMarkey0_000.mp4"),
                ("RD_Radio34_000.mp4", "WDA_AlexandriaOcasioCortez_000.mp4"))


class Timed:
    """A function wrapped to add its run time to ``seconds``."""

    def __init__(self, function):
        self.function, self.seconds, self.calls = function, 0.0, 0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1


def sides(frames_csv: Path) -> dict[str, int]:
    """The face id on each side ("left", "right"): the track whose boxes lie further left is left."""
    xs: dict[int, list[float]] = {}
    with open(frames_csv, newline="") as file:
        for row in csv.DictReader(file):
            if row["face_id"]:
                xs.setdefault(int(row["face_id"]), []).append((float(row["x0"]) + float(row["x1"])) / 2)
    centres = {face: sum(v) / len(v) for face, v in xs.items() if len(v) >= 4}
    left = min(centres, key=centres.get)
    right = max(centres, key=centres.get)
    return {"left": left, "right": right}


def run(video: Path, expected: list[str], out: Path) -> dict:
    movement, naming = Timed(speaker.mouth_movement), Timed(speaker.speaker_of)
    pipeline.mouth_movement, pipeline.speaker_of = movement, naming
    try:
        started = time.perf_counter()
        result = pipeline.analyze(video, AnalysisOptions(plots=False, words=False), out)
        wall = time.perf_counter() - started
    finally:
        pipeline.mouth_movement, pipeline.speaker_of = speaker.mouth_movement, speaker.speaker_of
    faces = sides(result.outputs["frames_csv"])
    spoken = [(w, side) for w, side in zip(result.windows, expected)
              if w.speech["speech_ratio"] >= speaker.MIN_SPEECH_RATIO]
    named = [w.speaker_face_id for w, _ in spoken]
    right = sum(face == faces[side] for face, (_, side) in zip(named, spoken))
    wrong = sum(face is not None and face != faces[side] for face, (_, side) in zip(named, spoken))
    minutes = result.info.duration_s / 60
    return {"windows": len(result.windows), "spoken": len(spoken), "right": right, "wrong": wrong,
            "nobody": len(spoken) - right - wrong, "cost_s": movement.seconds + naming.seconds,
            "calls": naming.calls, "minutes": minutes, "wall_s": wall, "face_s": result.timings.get("face", 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", nargs="+", default=[*LISTENERS, "beside"], choices=[*LISTENERS, "beside"])
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many pairs of talking heads")
    parser.add_argument("--unseen", action="store_true",
                        help="the pairs the measure was not chosen on (UNSEEN_PAIRS) instead of PAIRS")
    parser.add_argument("--keep", type=Path, help="folder to keep the composites and outputs in")
    args = parser.parse_args()
    if not TALKING_HEADS.is_dir():
        sys.exit(f"{TALKING_HEADS} is absent: the composites are built from its talking heads")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-speaker-"))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus; analyze with the default "
          "options, words off; attribution = speaker.mouth_movement + speaker.speaker_of")
    print(f"{'composite':<52} {'listener':<8} {'right/spoken':>12} {'wrong':>5} {'nobody':>6} "
          f"{'ms/window':>9} {'ms/video min':>12} {'analyze s/video min':>19}")
    totals: dict[str, list[int]] = {}
    cost = calls = minutes = 0.0
    jobs = []
    for listener in args.listeners:
        for left, right in islice(UNSEEN_PAIRS if args.unseen else PAIRS, args.pairs):
            if listener == "beside":
                for talker, listener_left in ((left, True), (right, False)):
                    jobs.append((listener, f"{Path(talker).stem} + actress", lambda t=talker, l=listener_left, f=folder:
                                 beside_listener(f / "beside", TALKING_HEADS / t, TALKING_HEADS / ACTRESS, l),
                                 ["left" if not listener_left else "right"] * 2))
            else:
                jobs.append((listener, f"{Path(left).stem} | {Path(right).stem}",
                             lambda a=left, b=right, m=listener, f=folder: composite(
                                 f / m, TALKING_HEADS / a, TALKING_HEADS / b, m,
                                 name=f"{Path(a).stem}_{Path(b).stem}_{m}"), expected_speakers()))
    for listener, label, build, expected in jobs:
        video = build()
        row = run(video, expected, folder / "out" / video.stem)
        total = totals.setdefault(listener, [0, 0, 0])
        total[0] += row["right"]
        total[1] += row["spoken"]
        total[2] += row["wrong"]
        cost += row["cost_s"]
        calls += row["calls"]
        minutes += row["minutes"]
        print(f"{label:<52} {listener:<8} {row['right']:>5}/{row['spoken']:<6} {row['wrong']:>5} {row['nobody']:>6} "
              f"{1000 * row['cost_s'] / row['calls']:9.3f} {1000 * row['cost_s'] / row['minutes']:12.2f} "
              f"{row['wall_s'] / row['minutes']:19.1f}", flush=True)
    print()
    for listener, (right, spoken, wrong) in totals.items():
        print(f"{listener:<8} {right}/{spoken} spoken windows right ({right / spoken:.0%}), {wrong} wrong")
    print(f"attribution: {1000 * cost / calls:.3f} ms per window, {1000 * cost / minutes:.2f} ms per minute of video")


if __name__ == "__main__":
    main()
