"""The "text" model: words and what they say about emotion -- the scorer and a text file's words
(``run.py predict --model text`` is ``source.cli.text.predict``; a Whisper file's backend is
``transcribe.whisper_backend``'s, which ``TranscribeOptions`` applies).

``register.py`` puts it in the model registry; the libraries behind it load only when it is used.
"""

from pathlib import Path

from ..errors import MediaError


def load(path: Path | None = None, expected_sha256: str | None = None):
    """The text scorer (``features.TextAnalyzer``): the text-emotion model (the one in ``path``, default:
    the shipped one), TextBlob and the lexicon."""
    from .emotion import TextEmotionModel
    from .features import TextAnalyzer

    return TextAnalyzer(TextEmotionModel.load(path, expected_sha256))


def read_text(path: Path) -> str:
    if not path.is_file():
        raise MediaError(f"{path} does not exist." if not path.exists() else f"{path} is not a file.")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise MediaError(f"{path.name} is not UTF-8 text "
                         f"({error.reason} at byte {error.start}).") from error
