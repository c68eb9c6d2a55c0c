"""``run.py analyze`` of this working tree against a previous commit, on the same clips in one run.

    python bench/analyze_speed.py [--base 614fbc2] [--minutes 1.0667 10] [--repeat 2]
                                  [--flat 1 10 60] [--json FILE]

The previous code is a ``git worktree`` of ``--base`` under /tmp (removed at the end), run with this
virtual environment and the same cache (``EMOTION_STUDIO_CACHE``: assets, converted Whisper), so
only the code and the committed models differ. Runs are interleaved, each pair in the opposite order
of the one before (new, old, old, new, ...), so load that drifts over the run falls on both sides.
Each analysis is its own process: wall time includes Python start-up; peak memory is the child's
maximum resident set (``wait4``); the stage seconds are the analysis JSON's ``timings_s``.

The clips are one 8-s 512x512 HDTF talking head of ``av_samples`` looped: 8 times is the issue's
64-s clip, and longer ones loop that by stream copy. They are built with the bundled ffmpeg and kept
in ``data/bench_media`` (git-ignored). Whisper hears the same 8 s again and again, as in the issue's
measurement; ``bench/analyze_long.py`` has a minute of speech that never repeats.

``--flat`` runs only the new code on more lengths (one run each) to see whether peak memory stays
flat as the video grows.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from source.media.ffmpeg import ffmpeg_binary  # noqa: E402
from source.paths import cache_dir  # noqa: E402

TALKING_HEADS = ROOT.parent / "shared" / "data" / "av_samples" / "talking_heads"
MEDIA = ROOT / "data" / "bench_media"
DEFAULT_SOURCE = "WDA_BobMenendez_000.mp4"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-y", "-loglevel", "error", *args], check=True)


def looped_clip(seconds: float, source: Path, folder: Path = MEDIA) -> Path:
    """``source`` looped to ``seconds``: the 64-s clip is re-encoded from 8 loops, longer ones copy it."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"{source.stem}_x8.mp4"
    if not base.exists():
        part = base.with_suffix(".part.mp4")
        ffmpeg("-stream_loop", "7", "-i", str(source), "-c:v", "libx264", "-preset", "veryfast",
               "-c:a", "aac", str(part))
        part.rename(base)
    if round(seconds) <= 64:
        return base
    clip = folder / f"{source.stem}_{int(seconds)}s.mp4"
    if not clip.exists():
        part = clip.with_suffix(".part.mp4")
        ffmpeg("-stream_loop", "-1", "-i", str(base), "-t", f"{seconds:g}", "-c", "copy", str(part))
        part.rename(clip)
    return clip


def duration(video: Path) -> float:
    import av

    with av.open(str(video)) as container:
        return container.duration / 1_000_000


def measured(checkout: Path, video: Path) -> dict:
    """``analyze`` in a fresh child whose peak resident memory is read with ``wait4``."""
    env = dict(os.environ, EMOTION_STUDIO_CACHE=str(cache_dir()))
    with tempfile.TemporaryDirectory(prefix="analyze-speed-") as out:
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        with tempfile.TemporaryFile() as log:
            child = subprocess.Popen([sys.executable, "run.py", "analyze", str(video), "--out", out],
                                     cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=log)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                log.seek(0)
                raise RuntimeError(f"{checkout}: analyze of {video.name} failed ({child.returncode}):\n"
                                   f"{log.read().decode(errors='replace')[-2000:]}")
        report = json.loads((Path(out) / f"{video.stem}_analysis.json").read_text())
    return {"wall_s": round(wall, 2), "peak_mb": round(usage.ru_maxrss / 1024),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "load": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "stages_s": {stage: round(seconds, 2) for stage, seconds in report["timings_s"].items()}}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in ("torch", "ctranslate2", "faster_whisper", "mediapipe", "av"):
        try:
            from importlib.metadata import version

            found[name] = version(name.replace("_", "-"))
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            found[name] = "not installed"
    return found


def cpu() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores"


def base_worktree(base: str) -> tuple[Path, str]:
    sha = subprocess.run(["git", "rev-parse", "--short", base], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix=f"analyze-speed-{sha}-"))
    folder.rmdir()
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(folder), sha], cwd=ROOT, check=True)
    return folder, sha


def summary_rows(label: str, seconds: float, runs: list[dict], stages: list[str]) -> str:
    walls = [run["wall_s"] for run in runs]
    peaks = [run["peak_mb"] for run in runs]
    median = {stage: statistics.median(run["stages_s"].get(stage, 0.0) for run in runs) for stage in stages}
    return (f"| {label} | {len(runs)} | {' / '.join(f'{w:.1f}' for w in walls)} | "
            f"{statistics.median(walls) / seconds:.3f} | {max(peaks)} | "
            + " | ".join(f"{median[stage]:.1f}" for stage in stages) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="614fbc2", help="the previous code: a commit or tag (default: 614fbc2)")
    parser.add_argument("--minutes", type=float, nargs="+", default=[64 / 60, 10],
                        help="clip lengths compared (default: the 64-s clip and 10 minutes)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side per clip (default: 2)")
    parser.add_argument("--flat", type=float, nargs="*", default=[],
                        help="more lengths (minutes) run once with the new code only, for peak memory")
    parser.add_argument("--source", default=DEFAULT_SOURCE, help="the talking head looped (in av_samples)")
    parser.add_argument("--json", type=Path, help="write every run's figures here")
    args = parser.parse_args()

    source = TALKING_HEADS / args.source
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu(),
               "versions": versions(), "base": args.base, "source": source.name, "runs": []}
    print(f"{results['date']}; {results['cpu']}; "
          + ", ".join(f"{name} {version}" for name, version in results["versions"].items()))
    print(f"load average at start: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    worktree, sha = base_worktree(args.base)
    results["base"] = sha
    sides = {"new": ROOT, f"old ({sha})": worktree}
    try:
        for minutes in args.minutes:
            video = looped_clip(minutes * 60, source)
            seconds = duration(video)
            order = list(sides)
            for repeat in range(args.repeat):
                for side in order:
                    run = measured(sides[side], video)
                    run.update(side=side, clip=video.name, seconds=round(seconds, 2))
                    results["runs"].append(run)
                    print(f"{video.name} {side:>14}: wall {run['wall_s']:.1f} s "
                          f"({run['wall_s'] / seconds:.3f}x), peak {run['peak_mb']} MB, cpu {run['cpu_s']} s, "
                          f"load {run['load'][0]}->{run['load'][1]}; "
                          + ", ".join(f"{k} {v:.1f}" for k, v in run["stages_s"].items()), flush=True)
                order.reverse()
        for minutes in args.flat:
            video = looped_clip(minutes * 60, source)
            run = measured(ROOT, video)
            run.update(side="new", clip=video.name, seconds=round(duration(video), 2), flat=True)
            results["runs"].append(run)
            print(f"{video.name} {'new':>14}: wall {run['wall_s']:.1f} s, peak {run['peak_mb']} MB, "
                  f"load {run['load'][0]}->{run['load'][1]}", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
    print(f"load average at end: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")

    stages = sorted({stage for run in results["runs"] for stage in run["stages_s"]},
                    key=lambda stage: [s for run in results["runs"] for s in run["stages_s"]].index(stage))
    print("\n| clip | code | runs | wall s | x real time (median) | peak MB | "
          + " | ".join(stages) + " |")
    print("|---" * (6 + len(stages)) + "|")
    for clip in dict.fromkeys(run["clip"] for run in results["runs"]):
        for side in dict.fromkeys(run["side"] for run in results["runs"]):
            runs = [run for run in results["runs"] if run["clip"] == clip and run["side"] == side]
            if runs:
                print(summary_rows(f"{clip} | {side}", runs[0]["seconds"], runs, stages))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
