"""A new model family is one spec module and no edit elsewhere (issue 29): the smallest example in
docs/architecture.md, built as written in a copy of ``source/``, is offered by the CLI, the
registry's branch lists and the analysis options, and refuses to run untrained."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def example_files() -> dict[str, str]:
    """The doc's code blocks that start with a ``# source/...`` line: {path: text}."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n# (source/\S+)\n(.*?)```", text, flags=re.S)
    return {path: body for path, body in blocks}


def test_the_documented_smallest_family_needs_no_other_edit(tmp_path):
    files = example_files()
    assert set(files) == {"source/face_small/register.py"}  # one module: its registry entry
    shutil.copytree(ROOT / "source", tmp_path / "source", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "run.py", tmp_path / "run.py")
    (tmp_path / "source" / "face_small").mkdir()
    (tmp_path / "source" / "face_small" / "__init__.py").write_text("")
    for path, body in files.items():
        (tmp_path / path).write_text(body)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    listed = run("run.py", "train", "--help")
    assert listed.returncode == 0, listed.stderr
    assert "face_small" in " ".join(listed.stdout.split())
    checked = run("-c", "\n".join([
        "from source.registry import branch_models, get_model",
        "from source.options import AnalysisOptions",
        "from source.errors import UntrainedModel",
        "assert 'face_small' in branch_models('face'), branch_models('face')",
        "AnalysisOptions(face_model='face_small')",
        "entry = get_model('face_small')",
        "assert not entry.ships_trained and set(entry.commands) == {'train', 'evaluate'}",
        "try:",
        "    entry.load()",
        "except UntrainedModel as error:",
        "    print(error)",
        "else:",
        "    raise AssertionError('an untrained model loaded')",
    ]))
    assert checked.returncode == 0, checked.stderr
    assert "face_small ships untrained" in checked.stdout
    # its train command reads the face family's recipe: a wrong setting is refused by name
    trained = run("run.py", "train", "--model", "face_small", "--data", str(tmp_path / "none"),
                  "--set", "transform.no_such_setting=1")
    assert trained.returncode != 0
    said = trained.stderr + trained.stdout
    assert "no setting 'no_such_setting'" in said and "crop_margin" in said, said
