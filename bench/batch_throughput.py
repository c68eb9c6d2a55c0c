"""``run.py batch`` throughput: files per minute with 1 and 2 workers, locally and on Ray.

    python bench/batch_throughput.py [--files 8] [--workers 1 2] [--engines local ray] [--no-words]

The folder holds copies of the project's real talking clip (6 s, 640x480, speech; see
``tests/media_fixtures.py``). Each run starts its workers afresh: ``files/min`` is over the
whole run, worker start (imports, first model reads) included; ``after 1st`` is the rate once
the first file is done, what a long batch runs at. ``load models`` is what every file still pays.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT / "tests"))

from media_fixtures import media_path  # noqa: E402

from source.batch import plan_batch, run_batch  # noqa: E402
from source.options import AnalysisOptions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engines", nargs="+", choices=("local", "ray"), default=["local", "ray"])
    parser.add_argument("--no-words", action="store_true", help="skip transcription")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    clip = media_path("astronaut_talking.mp4")
    (folder / "in").mkdir()
    for number in range(args.files):
        shutil.copyfile(clip, folder / "in" / f"clip{number:02d}.mp4")
    options = AnalysisOptions(words=not args.no_words, plots=False)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, ray {metadata.version('ray')}, "
          f"torch {metadata.version('torch')}")
    print(f"{args.files} copies of {clip.name} (6 s), words {'off' if args.no_words else 'on'}, "
          "plots off")
    print(f"{'engine':>6} {'workers':>7} {'wall s':>7} {'files/min':>9} {'after 1st':>9} "
          f"{'load models s/file':>19}")
    for engine in args.engines:
        for workers in args.workers:
            out = folder / f"out-{engine}-{workers}"
            start, finished = time.perf_counter(), []
            rows = run_batch(plan_batch(folder / "in", out), out, options, engine, workers,
                             report=lambda row: finished.append(time.perf_counter()))
            wall = time.perf_counter() - start
            steady = (len(finished) - 1) / (finished[-1] - finished[0]) * 60
            failed = [row for row in rows if row["status"] == "failed"]
            if failed:
                raise SystemExit(f"{len(failed)} file(s) failed: {failed[0]['error']}")
            loads = [json.loads(path.read_text())["timings_s"]["load models"]
                     for path in out.rglob("*_analysis.json")]
            print(f"{engine:>6} {workers:>7} {wall:7.1f} {len(rows) / wall * 60:9.1f} "
                  f"{steady:9.1f} {sum(loads) / len(loads):19.2f}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
