"""``run.py analyze PATH``: the whole pipeline on one video, audio file or photo."""

from pathlib import Path

from ..errors import StudioError
from ..options import AnalysisOptions, FaceOptions, WindowOptions
from ..paths import OUTPUT_DIR
from ..registry import branch_models, canonical_name, list_models

_DEFAULT_WINDOW = WindowOptions()
_DEFAULT_FACE = FaceOptions()


def _models_help(branch: str, weights_flag: str) -> str:
    """A branch's registered models for --help, those that ship untrained marked."""
    return ", ".join(entry.name + ("" if entry.ships_trained else
                                   f" (ships untrained: give its trained file with {weights_flag})")
                     for entry in list_models() if entry.branch == branch)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "analyze", help="analyse a video, audio file or photo over time",
        description="Analyse PATH window by window and write to the output folder: "
                    "<stem>_windows.csv (a row per window and face), <stem>_frames.csv (a row per "
                    "face per sampled frame), <stem>_analysis.json (everything, with the settings), "
                    "<stem>_transcript.srt (the words, unless --no-words or no audio), and unless "
                    "--no-plots: <stem>_timeline.png, <stem>_distribution.png, <stem>_heatmap.png "
                    "(no timeline or heatmap for a photo) and <stem>_plots.html (interactive). "
                    "Progress goes to stderr: a bar on a terminal, plain lines when piped or logged.",
    )
    parser.add_argument("path", type=Path, help="video, audio file or photo")
    parser.add_argument("--out", type=Path, default=OUTPUT_DIR,
                        help="output folder (default: %(default)s)")
    add_analysis_arguments(parser)
    parser.set_defaults(func=run)


def add_analysis_arguments(parser) -> None:
    """The analysis settings, shared by every command that runs ``analyze``."""
    parser.add_argument("--window", type=float, default=_DEFAULT_WINDOW.window_s,
                        help="window length in seconds (default: %(default)s, what the figures were measured on; "
                             "a longer window is heard whole, the voice model scoring each part it hears at once; "
                             "a learned fusion model, trained on 4-s windows, is warned about)")
    parser.add_argument("--hop", type=float, default=None,
                        help="seconds between window starts (default: the window length)")
    parser.add_argument("--fps", type=float, default=_DEFAULT_WINDOW.fps,
                        help="video frames sampled per second (default: %(default)s)")
    parser.add_argument("--max-faces", type=int, default=_DEFAULT_FACE.max_faces,
                        help="most faces tracked per frame (default: %(default)s)")
    parser.add_argument("--no-face", action="store_true", help="skip the face branch")
    parser.add_argument("--no-audio", action="store_true", help="skip the audio branches (voice and words)")
    parser.add_argument("--no-voice", action="store_true", help="skip the voice branch (the words still run)")
    parser.add_argument("--no-words", action="store_true",
                        help="skip transcription and the text emotions (voice still runs)")
    parser.add_argument("--whisper-model", default="tiny.en",
                        help="Whisper model: tiny.en, base (multilingual) or a path "
                             "(default: %(default)s)")
    parser.add_argument("--smooth", type=int, default=1, metavar="N",
                        help="average the fused probabilities over N windows centred on each "
                             "(default: 1, no smoothing)")
    parser.add_argument("--no-plots", action="store_true",
                        help="skip the timeline, distribution and heatmap plots")
    parser.add_argument("--face-model", choices=branch_models("face"), default=AnalysisOptions.face_model,
                        help=f"the face branch's model: {_models_help('face', '--face-weights')}; "
                             "`card --model NAME` describes each (default: %(default)s)")
    parser.add_argument("--face-weights", help="face model file (default: the shipped model)")
    parser.add_argument("--voice-model", choices=branch_models("voice"), default=AnalysisOptions.voice_model,
                        type=canonical_name,  # a former name (audio) still works
                        help=f"the voice branch's model: {_models_help('voice', '--voice-weights')}; "
                             "`card --model NAME` describes each (default: %(default)s)")
    parser.add_argument("--voice-weights", help="voice model file (default: the shipped model)")
    parser.add_argument("--fusion", default="auto", metavar="METHOD",
                        help="how branches are fused: auto (the method best on real media: late_fusion, "
                             "where it reads what it learned from: a voice to fuse, the default voice and face "
                             "models, 4-s windows; late elsewhere), late "
                             "(the mean of the branches present, weighted by their reliability and the "
                             "words' emotional evidence; unsure windows are marked uncertain), or a fusion "
                             "model by name, guarded the same way: combined, xattn_fusion, late_fusion, "
                             "... (`python run.py card --model NAME`) (default: auto)")
    parser.add_argument("--fusion-weights", help="the fusion model's file (default: the shipped model)")


def options_from_args(args) -> AnalysisOptions:
    if args.no_voice and args.voice_weights:
        raise StudioError("--voice-weights names a voice model, which --no-voice leaves out: give one or the other.")
    try:
        return AnalysisOptions(
            windows=WindowOptions(window_s=args.window, hop_s=args.hop, fps=args.fps),
            faces=FaceOptions(max_faces=args.max_faces),
            face=not args.no_face,
            audio=not args.no_audio,
            words=not args.no_words,
            whisper_model=args.whisper_model,
            smooth_windows=args.smooth,
            plots=not args.no_plots,
            face_model=args.face_model,
            face_weights=args.face_weights,
            voice_model=None if args.no_voice else args.voice_model,
            voice_weights=args.voice_weights,
            fusion=args.fusion,
            fusion_weights=args.fusion_weights,
        )
    except ValueError as error:
        raise StudioError(f"{error}.") from error


def run(args) -> int:
    from ..analysis.pipeline import analyze  # every branch's libraries: only when analysing
    from ..fileio import check_output_folder

    from .progress import progress_bar

    options = options_from_args(args)
    check_output_folder(args.out)
    bar = None  # made at the first progress report, after the input has been checked

    def progress(stage: str, done: float, total: float | None) -> None:
        nonlocal bar
        if bar is None:
            timed = "{desc}{percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}]"
            bar = progress_bar(total=round(total, 1) if total else None, unit="s",
                               bar_format=timed if total else None)
        bar.set_description(stage)
        if bar.total is not None:  # a window may end past the rounded duration: never over 100%
            done = min(done, bar.total)
        bar.update(done - bar.n)

    try:
        result = analyze(args.path, options, args.out, progress)
        if bar is not None:
            bar.set_description("done")
            if bar.total:
                bar.update(bar.total - bar.n)  # the last window may end a frame before the file
    finally:
        if bar is not None:
            bar.close()
    print(f"{result.info.path}: {result.info.describe()}")
    for warning in result.warnings:
        print(f"note: {warning}")
    faces = result.faces
    print(f"{len(result.windows)} windows, {len(faces['tracks'])} face track(s), "
          f"subject face id: {faces['subject_face_id']}")
    summary = result.summary
    if result.info.kind == "image" and summary["dominant_emotion"]:  # one moment: no share of time
        window = result.windows[0]
        print(f"emotion: {window.top_emotion} ({window.confidence:.0%} sure, "
              f"from {', '.join(window.sources or ['the face'])})")
    elif summary["dominant_emotion"]:
        shares = ", ".join(f"{e} {p:.0%}" for e, p in summary["emotion_share"].items())
        print(f"dominant emotion: {summary['dominant_emotion']} ({shares}); "
              f"{len(summary['changes'])} change(s)")
    print("seconds per stage: " + ", ".join(f"{stage} {seconds:.1f}"
                                            for stage, seconds in result.timings.items()))
    for name, path in result.outputs.items():
        print(f"wrote {path}")
    return 0
