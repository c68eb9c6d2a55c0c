"""The app's first page (issue 26, item 1): importing app.py's modules and rendering the first page
load no heavy library; torch, spaCy, mediapipe and the rest load when an analysis runs.
bench/app_first_render.py times it."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "torchvision", "mediapipe", "spacy", "cv2", "matplotlib", "whisper", "faster_whisper",
         "ctranslate2", "sklearn", "scipy", "librosa", "transformers", "ray", "textblob", "nltk")

_PROBE = """
import json, sys
HEAVY = {heavy!r}
def heavy():
    return sorted({{name.split(".")[0] for name in sys.modules}} & set(HEAVY))
report = {{}}
from source.ui import audio, common, gradcam, models, photo, video  # what app.py imports
report["import"] = heavy()
from streamlit.testing.v1 import AppTest
app = AppTest.from_file({app!r}, default_timeout=300).run()
report["exception"] = [str(e.value) for e in app.exception]
report["tabs"] = [tab.label for tab in app.tabs]
report["first_render"] = heavy()
print(json.dumps(report))
"""


def test_app_first_page_imports_nothing_heavy():
    probe = _PROBE.format(heavy=HEAVY, app=str(ROOT / "app.py"))
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["import"] == [], f"importing the ui modules loaded {report['import']}"
    assert report["exception"] == [] and report["tabs"][0] == "Video", report
    assert report["first_render"] == [], f"the first page render loaded {report['first_render']}"


def test_whisper_choices_are_the_transcribers_models():
    """The sidebar's list is kept in the ui (the transcriber imports torch and Whisper)."""
    from source.text.transcribe import MODELS
    from source.ui.common import WHISPER_MODELS

    assert list(WHISPER_MODELS) == list(MODELS)


def test_plots_and_app_charts_share_one_palette():
    from source.results import palette, plots
    from source.ui import charts

    assert plots.EMOTION_COLORS is palette.EMOTION_COLORS is charts.EMOTION_COLORS
    assert plots.BRANCHES is palette.BRANCHES is charts.BRANCHES
