"""A window longer than a voice model hears at once, heard piece by piece.

The MFCC voice model hears 4 s (its transform's ``duration_s``, the clips it was trained on: it
keeps the first 4 s of anything longer) and Whisper's encoder 30 s. A longer analysis window
(``--window 10``, or the app's 10-s windows) is cut from its start into pieces of that length;
each piece with enough speech is scored, and the window gets the mean of the pieces' embeddings
and probabilities, each piece weighted by its seconds of speech. A window that fits is one
piece, scored whole as before.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Piece:
    audio: np.ndarray
    segments: list[tuple[int, int]]  # its speech, in samples from the piece's start
    speech: int  # samples of speech in it


def speech_pieces(audio: np.ndarray, segments: list[tuple[int, int]], size: int,
                  min_ratio: float = 0.0) -> list[Piece]:
    """``audio`` cut from its start into pieces of ``size`` samples (the last one shorter), each
    with its share of the speech ``segments`` (samples); the pieces that hold speech, at least
    ``min_ratio`` of their length (the share rounded as ``speech_activity`` rounds it)."""
    pieces = []
    for start in range(0, audio.size, size):
        stop = min(start + size, audio.size)
        inside = [(max(s, start) - start, min(e, stop) - start) for s, e in segments if s < stop and e > start]
        speech = sum(e - s for s, e in inside)
        if speech and round(min(1.0, speech / (stop - start)), 3) >= min_ratio:
            pieces.append(Piece(audio[start:stop], inside, speech))
    return pieces


def speech_weighted(rows: np.ndarray, pieces: list[Piece]) -> np.ndarray:
    """The mean of ``rows`` (one per piece), each weighted by its piece's seconds of speech."""
    weights = np.array([piece.speech for piece in pieces], dtype=np.float64)
    return (weights / weights.sum()) @ np.asarray(rows, dtype=np.float64)
