"""Each branch alone and each fusion method on real, labelled video (``source/analysis/realvideo.py``).

    python bench/real_video.py [--data ../shared/data/av_samples] [--methods late:voice_whisper combined:audio ...]
                               [--report docs/results]

Every clip is analysed once per method (FUSION:VOICE_MODEL, or FUSION:VOICE_MODEL:WEIGHTS for a
fusion model file that is not the shipped one), in this process. The table gives,
per source, the labelled clips whose answer is right and the windows right; the last column is the
share of the unlabelled clips' windows (the talking heads: calm, ordinary speech) called disgust.
With ``--report`` a dated Markdown table and the full JSON are written there.
"""

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

from common import ROOT

from source.analysis.realvideo import BRANCHES, evaluate_real_video, real_clips
from source.options import AnalysisOptions


def table(report: dict) -> list[str]:
    lines = ["| method | source | clips right | clips right, people the fusion never saw | windows right | "
             "uncertain windows | unlabelled windows called disgust |",
             "|---|---|---|---|---|---|---|"]
    for method, result in report["methods"].items():
        for source in (*BRANCHES, "fused"):
            s, unseen = result["scores"][source], result["held_out"][source]
            if not s["clips"] and not s["unlabelled_calls"]:
                continue
            lines.append(f"| {method} | {source} | {s['clips_right']}/{s['clips']} | "
                         f"{unseen['clips_right']}/{unseen['clips']} | {s['windows_right']}/{s['windows']} | "
                         f"{s['uncertain_windows'] if source == 'fused' else ''} | "
                         f"{s['unlabelled_calls'].get('disgust', 0.0):.0%} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "av_samples")
    parser.add_argument("--methods", nargs="+", metavar="FUSION:VOICE[:WEIGHTS]",
                        default=["late:voice_whisper", "late:audio", "combined:audio", "xattn_fusion:voice_whisper"])
    parser.add_argument("--report", type=Path, help="folder for the dated Markdown and JSON reports")
    args = parser.parse_args()
    clips = real_clips(args.data)
    labelled = sum(c.label is not None for c in clips)
    print(f"{len(clips)} clips ({labelled} labelled) under {args.data}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus")
    methods = {}
    for method in args.methods:
        fusion, voice, weights = (method.split(":", 2) + ["", ""])[:3]
        name = f"{fusion} / voice {voice or 'voice_whisper'}" + (f" / {weights}" if weights else "")
        methods[name] = AnalysisOptions(fusion=fusion, voice_model=voice or "voice_whisper",
                                        fusion_weights=weights or None)
    started = time.monotonic()
    report = evaluate_real_video(clips, methods, progress=lambda name, done, total: print(
        f"\r{name}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True))
    lines = table(report)
    print("\n".join(lines))
    print(f"{time.monotonic() - started:.0f} s")
    if args.report:
        args.report.mkdir(parents=True, exist_ok=True)
        stem = args.report / f"real_video-{date.today().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        header = [f"# Real-video evaluation, {date.today().isoformat()}", "",
                  f"`python bench/real_video.py --report {args.report}` on {len(clips)} clips of {args.data.name} "
                  f"({labelled} labelled by their file names; the rest only counted for disgust calls), "
                  f"{os.cpu_count()} CPU cores. A clip's answer is the emotion with the highest mean probability "
                  "over its windows. No fusion setting was chosen on these clips; the face model's crop `detail` was chosen on the MEAD frames in an earlier round (its card says so).", ""]
        stem.with_suffix(".md").write_text("\n".join(header + lines) + "\n", encoding="utf-8")
        print(f"wrote {stem}.md and .json")


if __name__ == "__main__":
    main()
