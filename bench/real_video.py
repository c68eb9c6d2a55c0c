"""Each branch alone and each fusion method on real, labelled video (``source/analysis/realvideo.py``).

    python bench/real_video.py [--data ../shared/data/av_samples] [--methods late:voice_whisper combined ...]
                               [--report docs/results]
    python bench/real_video.py --pairs ../shared/data/ravdess_speech [--pair-actors 19 20]
                               [--faces ../shared/data/av_samples/mead_video_only] [--report docs/results]

Every clip is analysed once per method (FUSION:VOICE_MODEL, or FUSION:VOICE_MODEL:WEIGHTS for a
fusion model file that is not the shipped one), in this process. The table gives,
per source, the labelled clips whose answer is right and the windows right; the last column is the
share of the unlabelled clips' windows (the talking heads: calm, ordinary speech) called disgust.
With ``--report`` a dated Markdown table and the full JSON are written there.

With ``--pairs`` the clips are real media paired (``pair_real_media``): each labelled face-only video
under ``--faces`` with the speech of RAVDESS actors ``--pair-actors`` acting its emotion (by default
19 and 20, whom neither the voice model nor the fusion models trained or validated on). Its report
(``real_media_pairs-<date>``) adds, per method, the clips where face and voice agree and where they
do not.
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

from source.analysis.realvideo import BRANCHES, RealClip, evaluate_real_video, pair_real_media, real_clips, scores
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


def agreement_table(report: dict) -> list[str]:
    lines = ["| method | face and voice | clips | face right | voice right | fused right | fused marked uncertain (right) |",
             "|---|---|---|---|---|---|---|"]
    for method, result in report["methods"].items():
        for part, counts in result["agreement"].items():
            lines.append(f"| {method} | {part} | {counts['clips']} | {counts['face_right']} | "
                         f"{counts['voice_right']} | {counts['fused_right']} | "
                         f"{counts['uncertain']} ({counts['uncertain_right']}) |")
    return lines


def person_table(report: dict) -> list[str]:
    """Per method and per filmed person (the face of a pair): labelled clips right, by source."""
    lines = ["| method | filmed person | clips | face right | voice right | fused right |", "|---|---|---|---|---|---|"]
    clips = [RealClip(Path(path), label) for path, label in zip(report["clips"], report["labels"])]
    people = [(clip.people or ("unnamed",))[0] for clip in clips]
    for method, result in report["methods"].items():
        for person in sorted(set(people)):
            chosen = [i for i, who in enumerate(people) if who == person]
            s = scores([clips[i] for i in chosen], [result["per_clip"][i] for i in chosen])
            if s["fused"]["clips"]:
                lines.append(f"| {method} | {person} | {s['fused']['clips']} | {s['face']['clips_right']} | "
                             f"{s['voice']['clips_right']} | {s['fused']['clips_right']} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "av_samples")
    parser.add_argument("--methods", nargs="+", metavar="FUSION:VOICE[:WEIGHTS]",
                        default=["late:voice_whisper", "combined:voice_whisper", "xattn_fusion:voice_whisper",
                                 "late_fusion:voice_whisper"])
    parser.add_argument("--pairs", type=Path, metavar="RAVDESS_SPEECH",
                        help="score real media pairs: --faces videos with these RAVDESS voices")
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "data" / "av_samples" / "mead_video_only")
    parser.add_argument("--pair-actors", nargs="+", default=["19", "20"], metavar="NN")
    parser.add_argument("--report", type=Path, help="folder for the dated Markdown and JSON reports")
    args = parser.parse_args()
    if args.pairs:
        pairs_folder = ROOT / "data" / "cache" / "real_media_pairs"
        clips = pair_real_media(args.faces, args.pairs, args.pair_actors, pairs_folder)
        source = (f"{args.faces.name} x RAVDESS actors {', '.join(args.pair_actors)} "
                  f"(joined in {pairs_folder.relative_to(ROOT)})")
    else:
        clips, source = real_clips(args.data), args.data.name
    labelled = sum(c.label is not None for c in clips)
    print(f"{len(clips)} clips ({labelled} labelled) from {source}; "
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
    lines = table(report) + ["", *agreement_table(report)] + (["", *person_table(report)] if args.pairs else [])
    print("\n".join(lines))
    print(f"{time.monotonic() - started:.0f} s")
    if args.report:
        args.report.mkdir(parents=True, exist_ok=True)
        stem = args.report / f"{'real_media_pairs' if args.pairs else 'real_video'}-{date.today().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        title = "Real media pairs" if args.pairs else "Real-video evaluation"
        command = " ".join(sys.argv[1:])
        header = [f"# {title}, {date.today().isoformat()}", "",
                  f"`python bench/real_video.py {command}` on {len(clips)} clips of {source} "
                  f"({labelled} labelled by their file names; the rest only counted for disgust calls), "
                  f"{os.cpu_count()} CPU cores. A clip's answer is the emotion with the highest mean probability "
                  "over its windows. No model was trained or tuned on these clips; which fusion `auto` stands for "
                  "was chosen on the real-video set and the real media pairs together (README, Models); the face "
                  "model's crop `detail` was chosen on the MEAD frames in an earlier round (its card says so).", ""]
        stem.with_suffix(".md").write_text("\n".join(header + lines) + "\n", encoding="utf-8")
        print(f"wrote {stem}.md and .json")


if __name__ == "__main__":
    main()
