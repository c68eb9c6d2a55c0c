"""The text model's ``run.py`` work (``--model text``): predict, train and evaluate.

``predict`` of an audio or video file is a view over ``analyze`` with the words branch alone (no
faces, no voice model, no plots; ``--weights``: the Whisper model, a name such as ``base``, a
CTranslate2 folder or an openai-whisper ``.pt`` checkpoint, as ``AnalysisOptions.whisper_model``):
the transcript's sentences are printed with their emotion, then the whole transcript's text emotion.
It writes what ``analyze`` writes (``<stem>_windows.csv``, ``<stem>_transcript.srt``,
``<stem>_analysis.json``, whose copy ``--json`` gets) and, as the text model's own files,
``<stem>_text.json`` (the transcript with segments and words, and the text emotion),
``<stem>_words.csv`` (word frequencies) and ``<stem>_transcript.txt``, to ``output_files/``.

A ``.txt`` file has no time and no media: it is scored directly, not analysed; it writes
``<stem>_text.json`` (its ``transcript`` null) and ``<stem>_words.csv``, and ``--json`` gets
a copy of that ``<stem>_text.json``.
"""

from pathlib import Path

from ..paths import OUTPUT_DIR
from ..text.train import TextRecipe, evaluate_text, train_text
from .predict import analyze_with_bar, print_warnings, report_outputs
from .progress import command_line, promote_if_asked, write_json_arg
from .training import family_recipe


def train(args) -> int:
    recipe = family_recipe(TextRecipe, args)
    out = args.out or OUTPUT_DIR / "models" / "text" / "text_emotion.npz"
    metrics = train_text(args.data, recipe, out, command_line())
    m = metrics["validation"]
    print(f"validation (GoEmotions dev, single-label rows): accuracy {m['accuracy']:.3f}, macro-F1 "
          f"{m['macro_f1']:.3f}, ECE {m['ece_uncalibrated']:.3f} -> {m['ece']:.3f} (temperature "
          f"{metrics['temperature']:.2f}), {m['n']} sentences")
    print(f"wrote {out} (sha256 {metrics['weights_sha256'][:12]}…), metrics.json, model card and confusion plot")
    promote_if_asked(args, out, metrics)
    return 0


def evaluate(args) -> int:
    report = evaluate_text(args.data, args.weights)
    print(f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, ECE {report['ece']:.3f}, "
          f"{report['n']} sentences with one label")
    write_json_arg(args.json, report)
    return 0


def predict(args, out_dir: Path = OUTPUT_DIR) -> int:
    path = Path(args.path)
    if path.suffix.lower() == ".txt":
        return predict_text_file(args, path, out_dir)
    from ..errors import NoAudioTrack
    from ..media.probe import probe
    from ..options import AnalysisOptions
    from ..text import writers
    from ..text.model import load

    info = probe(path)
    if not info.has_audio:
        kind = "a photo" if info.kind == "image" else "a video without an audio track"
        raise NoAudioTrack(f"{path.name} is {kind}: there is no speech to transcribe.")
    options = AnalysisOptions(face=False, voice_model=None, words=True, plots=False,
                              whisper_model=AnalysisOptions.whisper_model if args.weights is None
                              else str(args.weights))
    result = analyze_with_bar(path, options, out_dir, "words")
    transcript = result.transcript
    duration = transcript.duration_s or result.windows[-1].end_s
    print(f"{path}: {duration:.1f} s, language {transcript.language or 'none'} "
          f"({transcript.backend} {transcript.model})")
    print_warnings(result)  # the text scorer's warning among them
    if transcript.language not in (None, "en"):
        print(f"note: the text-emotion scores are for English; this speech is "
              f"{transcript.language!r}, so they say little.")
    for sentence in result.sentences:
        print(f"[{sentence['start_s']:7.2f} -> {sentence['end_s']:7.2f}] {sentence['emotion']:>9} "
              f"({sentence['confidence']:.0%})  {sentence['text']}")
    if not result.sentences:
        print("no speech found")
    analyzer = load()
    parts = [segment.text for segment in transcript.segments]
    emotion = analyzer.analyze(parts)
    print_text_emotion(emotion)
    stem = out_dir / f"{path.stem}_transcript"
    for output in (writers.write_txt(stem.with_suffix(".txt"), transcript),
                   writers.write_transcript_json(out_dir / f"{path.stem}_text.json", str(path), transcript, emotion),
                   writers.write_word_frequencies(out_dir / f"{path.stem}_words.csv",
                                                  analyzer.word_frequencies(parts))):
        print(f"wrote {output}")
    report_outputs(result, args.json)
    return 0


def predict_text_file(args, path: Path, out_dir: Path) -> int:
    """``predict --model text FILE.txt``: the text scored as it is (no time, no media: nothing to
    analyse), its ``<stem>_text.json`` and ``<stem>_words.csv`` written to ``out_dir``; ``--json``
    gets another copy of the text JSON."""
    from ..text import writers
    from ..text.model import load, read_text

    analyzer = load()
    if analyzer.warning:
        print(f"note: {analyzer.warning}")
    parts = read_text(path).splitlines()
    print(f"{path}: text, {sum(len(p.split()) for p in parts)} words")
    emotion = analyzer.analyze(parts)
    print_text_emotion(emotion)
    json_paths = [out_dir / f"{path.stem}_text.json", *([args.json] if args.json else [])]
    outputs = [
        *(writers.write_transcript_json(p, str(path), None, emotion) for p in json_paths),
        writers.write_word_frequencies(out_dir / f"{path.stem}_words.csv",
                                       analyzer.word_frequencies(parts)),
    ]
    for output in outputs:
        print(f"wrote {output}")
    return 0


def print_text_emotion(emotion) -> None:
    """The text emotion of a whole text (``features.TextEmotion``): the model's top emotion and
    probabilities, polarity and subjectivity, the lexicon's scores and the words they come from."""
    if emotion.model:
        print(f"text emotion: {emotion.model['top_emotion']} ({emotion.model['confidence']:.0%} of the model's "
              f"probability; emotional evidence {emotion.model['evidence']:.2f})")
        print("probabilities: " + "  ".join(f"{name} {p:.2f}" for name, p in sorted(
            emotion.model["probabilities"].items(), key=lambda kv: -kv[1])))
    print(f"polarity {emotion.polarity:+.2f}  subjectivity {emotion.subjectivity:.2f}  "
          f"({emotion.n_words} content words)")
    print("lexicon: " + "  ".join(f"{name} {score:+.2f}" for name, score in
                                   sorted(emotion.emotions.items(), key=lambda kv: -abs(kv[1]))))
    if emotion.matches:
        print("from: " + ", ".join(
            f"{m.text} ({' '.join(f'{e} {w:+.2f}' for e, w in m.weights.items())})"
            for m in emotion.matches[:12]) + (" ..." if len(emotion.matches) > 12 else ""))
