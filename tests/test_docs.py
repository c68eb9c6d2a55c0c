"""The README is a short user guide and the docs hold the rest (issue 29, item 6): the README stays
under 15 KB and keeps the two commands CI runs; every relative link of the README and of docs/
points at a file that exists, and an anchor at a heading of that file."""

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
INSTALL = 'pip install -e . && python run.py assets --fetch && streamlit run app.py'
TEST = 'pip install -e ".[test]" && python -m pytest'
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def documents() -> list[Path]:
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for line in prose(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file: {linked})")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no heading #{anchor} in {linked.name})")
    return broken


def test_the_slug_and_link_checks_catch_what_github_would_not_find(tmp_path):
    assert slug("The Whisper voice model, the text model and the research families") == \
        "the-whisper-voice-model-the-text-model-and-the-research-families"
    assert slug("`late_fusion` and Grad-CAM") == "late_fusion-and-grad-cam"
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## A part\n")
    page.write_text("# Page\n\n[ok](other.md#a-part) [ok](#page) [web](https://example.org)\n"
                    "`[not a link](nowhere.md)`\n\n```\n[nor this](nowhere.md)\n```\n"
                    "[bad](missing.md) [bad anchor](other.md#b-part) [bad local](#nope)\n")
    assert [b.split(" ")[0] for b in broken_links(page)] == ["missing.md", "other.md#b-part", "#nope"]


def test_readme_is_a_guide_of_at_most_15_kb():
    size = README.stat().st_size
    assert size <= 15 * 1024, f"README.md is {size} bytes; move detail into docs/"
    text = README.read_text(encoding="utf-8")
    for section in ("## Quick start", "## The app", "## Command line", "## Outputs", "## Models", "## Limits"):
        assert section in text.splitlines(), section
    # real-video figures come before the synthetic-pair ones, which say what they are
    assert re.search(r"real_video-\d{4}-\d\d-\d\d\.md", text).start() < text.index("synthetic pairs only")


def test_readme_keeps_the_commands_ci_runs():
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert [b.strip() for b in blocks[:2]] == [INSTALL, TEST]
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith(TEST)


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    assert not broken_links(path), broken_links(path)


def test_docs_are_reachable_from_the_readme_and_every_result_is_indexed():
    readme = README.read_text(encoding="utf-8")
    for name in ("app", "cli", "models", "training", "service", "architecture"):
        assert f"(docs/{name}.md" in readme, name
    index = (ROOT / "docs" / "results" / "README.md").read_text(encoding="utf-8")
    for result in (ROOT / "docs" / "results").iterdir():
        if result.name != "README.md":
            assert f"({result.name})" in index, f"docs/results/README.md does not link {result.name}"
