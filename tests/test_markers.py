"""The test markers (issue 29, item 7): ``pytest.ini`` declares ``slow`` and ``shared_data`` with
``--strict-markers``; a test of ``../shared/data`` is marked ``shared_data`` and skips with the
reason when the folder (or the part it names) is absent. Checked by running pytest on a copy of
this suite's configuration in a temporary checkout that has no ``../shared/data`` beside it."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

PROBE = '''
import pytest

def test_uses_the_fixture(shared_data):
    assert False, "must have skipped"

@pytest.mark.shared_data("av_samples")
def test_marked_with_a_part():
    assert False, "must have skipped"

@pytest.mark.slow
def test_slow():
    pass

def test_plain():
    pass
'''


def run_probe(tmp_path: Path, *args: str, body: str = PROBE) -> subprocess.CompletedProcess:
    checkout = tmp_path / "checkout"
    (checkout / "tests").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pytest.ini", checkout / "pytest.ini")
    for name in ("conftest.py", "media_fixtures.py"):
        shutil.copy(TESTS / name, checkout / "tests" / name)
    (checkout / "tests" / "test_probe.py").write_text(body)
    assert not (tmp_path / "shared" / "data").exists()
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=checkout, capture_output=True, text=True, timeout=120)


def test_pytest_ini_declares_the_markers_and_makes_them_strict():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    markers = {line.split(":")[0].split("(")[0].strip() for line in config["pytest"]["markers"].splitlines() if line.strip()}
    assert {"slow", "shared_data", "needs_espeak"} <= markers
    assert "--strict-markers" in config["pytest"]["addopts"].split()


def test_shared_data_tests_skip_with_the_reason_when_the_folder_is_absent(tmp_path):
    result = run_probe(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 2 skipped" in result.stdout
    assert "../shared/data is absent" in result.stdout
    assert "../shared/data/av_samples is absent" in result.stdout


def test_markers_select_and_an_unknown_marker_is_an_error(tmp_path):
    # a test using the shared_data fixture is marked shared_data without saying so
    result = run_probe(tmp_path, "-m", "not shared_data and not slow")
    assert "1 passed, 3 deselected" in result.stdout, result.stdout
    result = run_probe(tmp_path, "-m", "slow")
    assert "1 passed, 3 deselected" in result.stdout, result.stdout
    result = run_probe(tmp_path, body="import pytest\n\n@pytest.mark.slwo\ndef test_typo():\n    pass\n")
    assert result.returncode != 0 and "'slwo' not found in `markers`" in result.stdout + result.stderr
