"""What every model's ``predict`` that is a view over ``analyze`` shares (the face, voice and
text models'): the output folder checked before any work, the analysis with a bar over the
media's seconds, its warnings, the lines naming the files it wrote, and ``--json``, a copy of the
analysis JSON."""

import json
from pathlib import Path

from ..fileio import check_output_folder
from .progress import media_bar, write_json_arg


def analyze_with_bar(path: Path, options, out_dir: Path, desc: str):
    """``analysis.pipeline.analyze(path, options, out_dir)`` (an ``AnalysisResult``), with a bar
    named ``desc``; ``out_dir`` is checked first (one clear line, before any work, when it
    cannot be written)."""
    from ..analysis.pipeline import analyze  # the branches' libraries: only when predicting

    check_output_folder(out_dir)
    with media_bar(desc) as progress:
        return analyze(path, options, out_dir, lambda stage, done, total: progress(done, total))


def print_warnings(result) -> None:
    for warning in result.warnings:
        print(f"note: {warning}")


def report_outputs(result, json_path: Path | None, extra: dict | None = None) -> None:
    """A ``wrote PATH`` line per file the analysis wrote, and ``--json`` (``json_path``): a copy
    of the analysis JSON, with ``extra``'s keys added (the face predict's ``cam``)."""
    for path in result.outputs.values():
        print(f"wrote {path}")
    if json_path is not None:
        analysis = json.loads(result.outputs["analysis_json"].read_text(encoding="utf-8"))
        write_json_arg(json_path, {**analysis, **(extra or {})})
