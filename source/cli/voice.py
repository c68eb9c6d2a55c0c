"""The voice models' ``predict`` (``--model voice_mfcc``, and the Whisper voice models through
``cli.voice_whisper``; their dataset commands are ``cli.training``'s): a view over ``analyze``
with the voice branch alone."""

from pathlib import Path

from ..errors import NoAudioTrack
from ..paths import OUTPUT_DIR
from .predict import analyze_with_bar, print_warnings, report_outputs


def predict(args) -> int:
    return predict_voice(args, "voice_mfcc")


def predict_voice(args, model: str, out_dir: Path = OUTPUT_DIR) -> int:
    """``predict --model <voice model> PATH``: ``analyze`` of ``PATH`` with the voice branch alone
    (no faces, no words, no plots), each window's voice probabilities printed and the mean over the
    windows with speech; the analysis files are written to ``out_dir`` as ``analyze`` writes them,
    and ``--json`` gets a copy of the analysis JSON."""
    from ..labels import mean_probabilities, top_emotion
    from ..media.probe import probe
    from ..options import AnalysisOptions

    if not probe(args.path).has_audio:
        raise NoAudioTrack(f"{Path(args.path).name} has no audio track: the voice model needs sound.")
    options = AnalysisOptions(face=False, words=False, plots=False, voice_model=model,
                              voice_weights=None if args.weights is None else str(args.weights))
    result = analyze_with_bar(args.path, options, out_dir, "voice")
    labels = result.models["voice"]["labels"]
    print(f"{'window':>15}  " + "  ".join(f"{label:>8}" for label in labels))
    for window in result.windows:
        span = f"{window.start_s:6.1f}-{window.end_s:6.1f} s"
        cells = ("  ".join(f"{window.voice['probabilities'][label]:8.3f}" for label in labels)
                 if window.voice else f"  ({window.voice_note or 'no speech'})")
        print(f"{span:>15}  {cells}")
    print_warnings(result)
    overall = mean_probabilities([window.voice and window.voice["probabilities"] for window in result.windows])
    top, share = top_emotion(overall)
    print(f"overall: {top} ({share:.0%} over the windows with speech)" if overall else "no speech was found")
    report_outputs(result, args.json)
    return 0
