"""Training-time augmentation for the voice model.

Waveform changes (noise, gain, pitch, tempo) are costly, so each training clip gets a fixed
number of augmented copies whose MFCCs are cached once (``WaveAugment.variant``, seeded per clip
and copy). SpecAugment-style masks are cheap and drawn afresh for every batch (``spec_augment``).
"""

from dataclasses import asdict, dataclass

import librosa
import numpy as np
import torch

from ..options import SAMPLE_RATE


@dataclass(frozen=True)
class WaveAugment:
    """Random waveform changes; each applies with probability ``p``. Ranges are (low, high)."""

    noise_snr_db: tuple[float, float] = (15.0, 40.0)  # white noise at this signal-to-noise ratio
    gain_db: tuple[float, float] = (-6.0, 6.0)
    pitch_semitones: tuple[float, float] = (-2.0, 2.0)
    tempo: tuple[float, float] = (0.85, 1.15)  # time stretch, pitch kept
    p: float = 0.5
    reverb_rt60_s: tuple[float, float] | None = None  # room reverberation time; None: no reverb

    def variant(self, audio: np.ndarray, seed: int) -> np.ndarray:
        """One augmented copy of ``audio``; the same seed always gives the same copy."""
        rng = np.random.default_rng(seed)
        out = np.asarray(audio, dtype=np.float32)
        if rng.random() < self.p:
            out = librosa.effects.time_stretch(out, rate=rng.uniform(*self.tempo))
        if rng.random() < self.p:
            out = librosa.effects.pitch_shift(out, sr=SAMPLE_RATE,
                                              n_steps=rng.uniform(*self.pitch_semitones))
        if rng.random() < self.p:
            out = out * 10 ** (rng.uniform(*self.gain_db) / 20)
        if self.reverb_rt60_s is not None and rng.random() < self.p:
            out = reverberant(out, rng.uniform(*self.reverb_rt60_s), rng)
        if rng.random() < self.p:
            power = float(np.mean(out ** 2))
            if power > 0:
                snr = 10 ** (rng.uniform(*self.noise_snr_db) / 10)
                out = out + rng.normal(0, np.sqrt(power / snr), out.size)
        return np.clip(out, -1.0, 1.0).astype(np.float32)

    def to_dict(self) -> dict:
        return asdict(self)


def reverberant(audio: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """``audio`` in a synthetic room: convolved with exponentially decaying noise that falls
    60 dB in ``rt60_s``, half direct sound and half reverberation, at the original loudness."""
    from scipy.signal import fftconvolve

    t = np.arange(round(rt60_s * SAMPLE_RATE)) / SAMPLE_RATE
    tail = rng.normal(0, 1, t.size) * 10 ** (-3 * t / rt60_s)
    tail *= np.sqrt(np.sum(audio ** 2) / max(np.sum(fftconvolve(audio, tail)[:audio.size] ** 2), 1e-12))
    return (0.5 * audio + 0.5 * fftconvolve(audio, tail)[:audio.size]).astype(np.float32)


@dataclass(frozen=True)
class SpecAugment:
    """Masks on MFCC stacks (batch, channels, time, coefficients): zeroed time and coefficient bands."""

    time_masks: int = 2
    time_width: int = 12  # at most this many frames per mask
    freq_masks: int = 1
    freq_width: int = 2  # at most this many coefficients per mask

    def __call__(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        batch = batch.clone()
        n, _, frames, coefficients = batch.shape
        for axis, count, width, size in ((2, self.time_masks, self.time_width, frames),
                                         (3, self.freq_masks, self.freq_width, coefficients)):
            for _ in range(count):
                widths = torch.randint(0, width + 1, (n,), generator=generator)
                starts = (torch.rand(n, generator=generator) * (size - widths + 1)).long()
                positions = torch.arange(size)
                masked = (positions >= starts[:, None]) & (positions < (starts + widths)[:, None])
                shape = (n, 1, size, 1) if axis == 2 else (n, 1, 1, size)
                batch = batch.masked_fill(masked.view(shape), 0.0)
        return batch
