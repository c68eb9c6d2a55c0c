"""Training data: corpora read in their original public layouts."""

from .speech import (
    CORPORA,
    Skipped,
    SpeechDataset,
    SpeechSample,
    detect_speech_corpora,
    scan_speech_dataset,
    speaker_split,
)

__all__ = [
    "CORPORA", "Skipped", "SpeechDataset", "SpeechSample",
    "detect_speech_corpora", "scan_speech_dataset", "speaker_split",
]
