"""The voice models' input: one MFCC transform object, saved with the weights it was trained for.

The same object runs in training (on dataset clips) and in inference (on analysis windows),
so the two cannot drift apart.
"""

from dataclasses import asdict, dataclass

import librosa
import numpy as np

from ..options import SAMPLE_RATE


@dataclass(frozen=True)
class MfccTransform:
    """16 kHz mono audio -> (3, frames, n_mfcc) float32.

    Silence at both ends is trimmed (``top_db``), the rest padded or cut to ``duration_s``.
    The three channels are the MFCCs and their first and second time derivatives
    (``channels="deltas"``) or the MFCCs repeated (``"repeat"``, the reference design).
    """

    sample_rate: int = SAMPLE_RATE
    duration_s: float = 4.0
    n_mfcc: int = 13
    n_fft: int = 2048
    hop_length: int = 512
    top_db: float | None = 20.0  # None: keep leading and trailing silence
    channels: str = "deltas"
    normalize: bool = True  # per-clip mean/variance per coefficient: less speaker and mic bias
    denoise: bool = False  # light spectral gating before the MFCCs

    def __post_init__(self):
        if self.channels not in ("deltas", "repeat"):
            raise ValueError(f"channels must be 'deltas' or 'repeat', not {self.channels!r}")

    @property
    def n_samples(self) -> int:
        return round(self.sample_rate * self.duration_s)

    @property
    def n_frames(self) -> int:
        return 1 + self.n_samples // self.hop_length

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return (3, self.n_frames, self.n_mfcc)

    def fit_length(self, audio: np.ndarray) -> np.ndarray:
        """Trim silence, then cut or zero-pad to exactly ``n_samples``."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if self.top_db is not None and np.any(audio):
            audio, _ = librosa.effects.trim(audio, top_db=self.top_db)
        if audio.size >= self.n_samples:
            return audio[: self.n_samples]
        return np.pad(audio, (0, self.n_samples - audio.size))

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        audio = self.fit_length(audio)
        if self.denoise:
            audio = spectral_gate(audio, self.n_fft, self.hop_length)
        mfcc = librosa.feature.mfcc(y=audio, sr=self.sample_rate, n_mfcc=self.n_mfcc,
                                    n_fft=self.n_fft, hop_length=self.hop_length)
        if self.normalize:
            mfcc = (mfcc - mfcc.mean(axis=1, keepdims=True)) / (mfcc.std(axis=1, keepdims=True) + 1e-5)
        if self.channels == "deltas":
            stack = [mfcc, librosa.feature.delta(mfcc, order=1), librosa.feature.delta(mfcc, order=2)]
        else:
            stack = [mfcc] * 3
        return np.stack(stack).transpose(0, 2, 1).astype(np.float32)  # (3, frames, n_mfcc)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "MfccTransform":
        return cls(**values)


def spectral_gate(audio: np.ndarray, n_fft: int, hop_length: int, strength: float = 1.5) -> np.ndarray:
    """Attenuate time-frequency cells below ``strength`` x the clip's own noise floor.

    The floor per frequency is the 10th percentile over time, so steady hum and hiss are
    damped while speech, which comes and goes, is kept.
    """
    if not np.any(audio):
        return audio
    spectrum = librosa.stft(audio, n_fft=n_fft, hop_length=hop_length)
    magnitude = np.abs(spectrum)
    floor = np.percentile(magnitude, 10, axis=1, keepdims=True)
    gain = np.clip((magnitude - strength * floor) / (magnitude + 1e-8), 0.0, 1.0)
    return librosa.istft(spectrum * gain, hop_length=hop_length, length=audio.size).astype(np.float32)
