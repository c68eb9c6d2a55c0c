"""``run.py analyze`` on long videos: wall time and peak memory should grow no faster than length.

    python bench/analyze_long.py [--minutes 1 20] [--keep DIR]

Each length is a 720p talking-head video built by looping a real clip (see ``common.py``);
each analysis runs in its own process, so its peak RSS is its own.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from common import ROOT, run_measured, talking_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 20])
    parser.add_argument("--keep", type=Path, help="folder to keep the built videos in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-long-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}")
    print(f"{'video':>10} {'wall s':>8} {'x real time':>12} {'peak MB':>8}   seconds per stage")
    for minutes in args.minutes:
        video = talking_clip(minutes * 60, folder)
        wall, peak, _ = run_measured([sys.executable, str(ROOT / "run.py"), "analyze",
                                      str(video), "--out", str(folder / "out")])
        report = json.loads((folder / "out" / f"{video.stem}_analysis.json").read_text())
        stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in report["timings_s"].items())
        print(f"{minutes:>8g} m {wall:8.1f} {wall / (minutes * 60):12.3f} {peak:8d}   {stages}")


if __name__ == "__main__":
    main()
