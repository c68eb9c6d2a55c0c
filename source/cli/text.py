"""The text model's ``run.py`` work (``--model text``): predict, train and evaluate.

``predict``: an audio or video file is transcribed and scored, a ``.txt`` file is scored as it is.
Writes ``<stem>_text.json`` (transcript with segments and words, and the text emotion) and
``<stem>_words.csv`` (word frequencies), and for speech also ``<stem>_transcript.txt`` and
``<stem>_transcript.srt``, to ``output_files/``. ``--weights`` picks the Whisper model (a
CTranslate2 folder, or an openai-whisper ``.pt`` checkpoint); ``--json`` writes the JSON result
there too.
"""

from pathlib import Path

from ..paths import OUTPUT_DIR
from ..text.train import TextRecipe, evaluate_text, train_text
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
    from tqdm import tqdm

    from ..text import writers
    from ..text.model import load, read_text, transcribe_options
    from ..text.transcribe import load_transcriber

    path = Path(args.path)
    analyzer = load()
    if analyzer.warning:
        print(f"note: {analyzer.warning}")
    outputs = []
    transcript = None
    if path.suffix.lower() == ".txt":
        parts = read_text(path).splitlines()
        print(f"{path}: text, {sum(len(p.split()) for p in parts)} words")
    else:
        transcriber = load_transcriber(transcribe_options(args.weights))
        bar = None  # made at the first progress report, once the input has been checked

        def progress(stage: str, done: float, total: float | None) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=round(total, 1) if total else None, unit="s", desc=stage)
            bar.update(round(done, 1) - bar.n)

        try:
            transcript = transcriber.transcribe(path, progress)
        finally:
            if bar is not None:
                bar.close()
        parts = [segment.text for segment in transcript.segments]
        print(f"{path}: {transcript.duration_s:.1f} s, language {transcript.language or 'none'} "
              f"({transcript.backend} {transcript.model})")
        for warning in transcript.warnings:
            print(f"note: {warning}")
        if transcript.language not in (None, "en"):
            print(f"note: the text-emotion scores are for English; this speech is "
                  f"{transcript.language!r}, so they say little.")
        for segment in transcript.segments:
            print(f"[{segment.start:7.2f} -> {segment.end:7.2f}] {segment.text}")
        if not transcript.segments:
            print("no speech found")
        stem = out_dir / f"{path.stem}_transcript"
        outputs += [writers.write_txt(stem.with_suffix(".txt"), transcript),
                    writers.write_srt(stem.with_suffix(".srt"), transcript)]
    emotion = analyzer.analyze(parts)
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
    json_paths = [out_dir / f"{path.stem}_text.json", *([args.json] if args.json else [])]
    outputs += [
        *(writers.write_transcript_json(p, str(path), transcript, emotion) for p in json_paths),
        writers.write_word_frequencies(out_dir / f"{path.stem}_words.csv",
                                       analyzer.word_frequencies(parts)),
    ]
    for output in outputs:
        print(f"wrote {output}")
    return 0
