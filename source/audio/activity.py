"""How much speech a window holds, from frame energies (no model needed)."""

import numpy as np

from ..options import SAMPLE_RATE

FRAME_S = 0.03
ACTIVE_DB = -40.0  # a 30 ms frame louder than this (dBFS) counts as sound
SILENCE_DB = -120.0  # what digital silence reports instead of minus infinity


def _db(power: np.ndarray | float) -> np.ndarray | float:
    return 10.0 * np.log10(np.maximum(power, 10 ** (SILENCE_DB / 10)))


def speech_activity(audio: np.ndarray) -> dict[str, float]:
    """``rms_db``: the window's loudness in dBFS; ``speech_ratio``: share of 30 ms frames that
    are well above the window's noise floor and louder than -40 dBFS."""
    if audio.size == 0:
        return {"rms_db": SILENCE_DB, "speech_ratio": 0.0}
    frame = round(FRAME_S * SAMPLE_RATE)
    count = audio.size // frame
    frames = audio[: count * frame].reshape(count, frame) if count else audio[None, :]
    frame_db = _db(np.mean(frames.astype(np.float64) ** 2, axis=1))
    floor = np.percentile(frame_db, 10)
    active = (frame_db > ACTIVE_DB) & (frame_db > floor + 10.0)
    return {
        "rms_db": round(float(_db(np.mean(audio.astype(np.float64) ** 2))), 2),
        "speech_ratio": round(float(active.mean()), 3),
    }
