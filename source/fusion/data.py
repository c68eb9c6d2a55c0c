"""Windows for training the combined model, built from cached encodings of the branch models.

The branch encoders are frozen, so each voice clip, face image and video frame is encoded once
(embedding plus the branch's own calibrated probabilities, cached on disk) and an epoch only
gathers rows. A window is a voice item, a face item (16 frames) and the words said:

- an audio-visual clip gives one fixed window: its speech, its frames, its sentence;
- a voice clip of a speech corpus is paired, afresh each training epoch, with face items of the
  same emotion: still faces (FER2013) moved along a random head-motion path, or the frames of a
  silent labelled video (MEAD);
- a silent labelled video alone gives a face-only window.
"""

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..emotion_model import EmotionModel
from ..labels import EMOTIONS, LabelSet

FRAMES = 16  # face frames per window: 4 s at the analysis's 4 frames per second
MIN_FRAMES = 6  # the shortest window analysed, 1.5 s, holds 6 of them


@dataclass(frozen=True)
class StillMotion:
    """How a still face becomes a moving one: a smooth random walk of pose and light over
    ``keyframes`` poses, each held for an equal share of the window's frames."""

    keyframes: int = 4
    rotation_deg: float = 3.0  # step sizes of the walk (standard deviations)
    shift: float = 0.02  # share of the crop side
    scale: float = 0.03
    brightness: float = 0.06  # share of full range
    mirror: float = 0.5  # chance that the whole sequence is mirrored

    def __post_init__(self):
        if not 1 <= self.keyframes <= FRAMES or FRAMES % self.keyframes:
            raise ValueError(f"keyframes must divide the {FRAMES} frames of a window, not {self.keyframes}")

    def keyframe_crops(self, crop: np.ndarray, seed: int) -> np.ndarray:
        """(keyframes, side, side) uint8: ``crop`` along one random path (the same for a seed)."""
        rng = np.random.default_rng(seed)
        side = crop.shape[0]
        if rng.random() < self.mirror:
            crop = crop[:, ::-1]
        angle, dx, dy, log_scale, light = 0.0, 0.0, 0.0, 0.0, 0.0
        out = np.empty((self.keyframes, side, side), dtype=np.uint8)
        for k in range(self.keyframes):
            angle += rng.normal(0, self.rotation_deg)
            dx, dy = dx + rng.normal(0, self.shift) * side, dy + rng.normal(0, self.shift) * side
            log_scale += rng.normal(0, self.scale)
            light += rng.normal(0, self.brightness)
            matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, float(np.exp(log_scale)))
            matrix[:, 2] += (dx, dy)
            moved = cv2.warpAffine(np.ascontiguousarray(crop), matrix, (side, side),
                                   flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            out[k] = np.clip(moved.astype(np.float32) + light * 255, 0, 255).astype(np.uint8)
        return out


@dataclass
class Encodings:
    """A branch's encodings of some items: per item ``steps`` rows (voice: augmented versions,
    version 0 the clip itself; face: the 16 frames of a window)."""

    embeddings: np.ndarray  # (items, steps, dim) float16
    probabilities: np.ndarray  # (items, steps, labels) float32, calibrated
    present: np.ndarray  # (items, steps) bool: voice always; face: a face was found
    emotions: np.ndarray  # (items,) int64 canonical emotion index

    def __len__(self) -> int:
        return len(self.emotions)


def encode(model: EmotionModel, inputs: Callable[[slice], torch.Tensor], n: int,
           batch: int = 256, progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings float16, calibrated probabilities) of ``n`` network inputs, ``inputs(rows)``."""
    embeddings, probabilities = [], []
    for start in range(0, n, batch):
        embedded, scores = model.encode(inputs(slice(start, min(n, start + batch))))
        embeddings.append(embedded.half().numpy())
        probabilities.append(scores.numpy())
        if progress:
            progress(min(n, start + batch), n)
    return np.concatenate(embeddings), np.concatenate(probabilities)


class FusionWindows(Dataset):
    """Windows over the encodings of one part of the data; yields ``(WindowBatch tensors, target)``.

    ``pairs``: fixed (voice item or -1, face item or -1) windows. ``partners``: also pair each
    voice item with that many face items of the same emotion, drawn again each epoch when
    ``train`` (else once, with ``seed``). In training, a random version of each voice clip is
    used (its absence, where voice activity detection found no speech in it, is kept),
    ``frame_dropout`` of the frames are marked as having no face, and ``short_windows`` of the
    windows keep only their first 6-15 frames, as a window of 1.5-3.75 s would have.
    """

    def __init__(self, voice: Encodings | None, faces: Encodings | None, text: np.ndarray,
                 text_present: np.ndarray, label_set: LabelSet, pairs: np.ndarray, partners: int = 0,
                 train: bool = False, frame_dropout: float = 0.0, short_windows: float = 0.0, seed: int = 0):
        self.voice, self.faces = voice, faces
        self.text, self.text_present = text.astype(np.float32), text_present
        self.pairs_fixed = pairs.reshape(-1, 2).astype(np.int64)
        self.partners = partners if voice is not None and faces is not None else 0
        self.train, self.frame_dropout, self.short_windows, self.seed = train, frame_dropout, short_windows, seed
        self.groups = label_set.groups
        self.label_index = {label: i for i, label in enumerate(label_set.labels)}
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        rng = np.random.default_rng([self.seed, epoch if self.train else 0])
        drawn = []
        if self.partners:
            by_emotion = {e: np.flatnonzero(self.faces.emotions == e) for e in np.unique(self.faces.emotions)}
            for v, emotion in enumerate(self.voice.emotions):
                choices = by_emotion.get(emotion)
                if choices is not None:
                    drawn += [(v, f) for f in rng.choice(choices, self.partners)]
        self.pairs = np.concatenate([self.pairs_fixed, np.array(drawn, dtype=np.int64).reshape(-1, 2)])
        # windows whose emotion the label set drops are left out
        keep = [i for i, (v, f) in enumerate(self.pairs) if self._target_or_none(v, f) is not None]
        self.pairs = self.pairs[keep]
        self.targets = np.array([self._target_or_none(v, f) for v, f in self.pairs], dtype=np.int64)
        n = len(self.pairs)
        steps = self.voice.embeddings.shape[1] if self.voice is not None else 1
        self.versions = rng.integers(0, steps, n) if self.train else np.zeros(n, dtype=np.int64)
        self.dropped = (rng.random((n, FRAMES)) < self.frame_dropout) if self.train else np.zeros((n, FRAMES), bool)
        if self.train and self.short_windows:
            kept = np.where(rng.random(n) < self.short_windows, rng.integers(MIN_FRAMES, FRAMES, n), FRAMES)
            self.dropped |= np.arange(FRAMES)[None] >= kept[:, None]

    def _target_or_none(self, voice: int, face: int) -> int | None:
        index = self.voice.emotions[voice] if voice >= 0 else self.faces.emotions[face]
        label = self.groups[EMOTIONS[index]]
        return None if label is None else self.label_index[label]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        v, f = self.pairs[index]
        voice_dim = self.voice.embeddings.shape[2] if self.voice is not None else 0
        face_dim = self.faces.embeddings.shape[2] if self.faces is not None else 0
        speaks = v >= 0 and bool(self.voice.present[v, self.versions[index]])
        if v >= 0:
            voice = torch.from_numpy(self.voice.embeddings[v, self.versions[index]].astype(np.float32))
            text, text_present = torch.from_numpy(self.text[v]), bool(self.text_present[v])
        else:
            voice = torch.zeros(voice_dim)
            text, text_present = torch.zeros(self.text.shape[1]), False
        if f >= 0:
            faces = torch.from_numpy(self.faces.embeddings[f].astype(np.float32))
            mask = torch.from_numpy(self.faces.present[f] & ~self.dropped[index])
        else:
            faces, mask = torch.zeros(FRAMES, face_dim), torch.zeros(FRAMES, dtype=torch.bool)
        inputs = (voice, torch.tensor(speaks), faces, mask, text, torch.tensor(text_present))
        return inputs, int(self.targets[index])

    def branch_probabilities(self) -> dict[str, np.ndarray | None]:
        """Per window, each branch's own probabilities (NaN rows where it has nothing): the
        baselines the fused model is measured against."""
        n_labels = (self.voice if self.voice is not None else self.faces).probabilities.shape[2]
        voice = np.full((len(self), n_labels), np.nan, dtype=np.float32)
        face = np.full((len(self), n_labels), np.nan, dtype=np.float32)
        for i, (v, f) in enumerate(self.pairs):
            if v >= 0 and self.voice.present[v, 0]:
                voice[i] = self.voice.probabilities[v, 0]
            if f >= 0 and self.faces.present[f].any():
                face[i] = self.faces.probabilities[f][self.faces.present[f]].mean(axis=0)
        return {"voice": voice, "face": face}
