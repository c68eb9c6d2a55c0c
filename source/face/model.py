"""The face model: face crop (and optional landmarks) -> CNN -> calibrated emotion probabilities.

``FaceModel.load()`` gives the shipped model (``models/face/``, sha256-checked); any file written
by ``FaceModel.save`` loads the same way and brings its own transform and labels. A face model
for which geometry trees were trained (``face.geometry``: the shipped one) gets them on load, and
its probabilities of a detected face mix them in; its embeddings are the network's alone.
"""

from collections.abc import Sequence

import numpy as np
import torch

from ..emotion_model import EmotionModel
from .landmarker import FaceDetection
from .transform import FaceTransform, landmark_features

KIND = "face"


class FaceModel(EmotionModel):
    KIND = KIND
    TRANSFORM = FaceTransform
    geometry = None  # the FaceGeometry mixed into this model's probabilities of detected faces

    @classmethod
    def load(cls, path=None, expected_sha256: str | None = None) -> "FaceModel":
        """As ``EmotionModel.load``, with the shipped geometry trees when they were mixed with
        this very network (by sha256)."""
        from .geometry import shipped_geometry_for

        model = super().load(path, expected_sha256)
        model.geometry = shipped_geometry_for(model.sha256)
        return model

    def inputs(self, faces: Sequence[np.ndarray],
               extras: Sequence[np.ndarray] | None = None) -> tuple[torch.Tensor, ...]:
        """The network's inputs for face images (gray or RGB crops of any size)."""
        images = torch.from_numpy(np.stack([self.transform(face) for face in faces]))
        if not self.transform.landmarks:
            return (images,)
        if extras is None:
            raise ValueError("this face model also needs landmark features (FaceTransform.landmarks)")
        return images, torch.from_numpy(np.stack(extras).astype(np.float32))

    def logits(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        with torch.no_grad():
            return self.network(*inputs)

    def predict(self, faces: Sequence[np.ndarray], extras: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """Calibrated probabilities (faces, labels)."""
        return self.encode(*self.inputs(faces, extras))[1].numpy()

    def embed(self, faces: Sequence[np.ndarray], extras: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """The head's last hidden layer (no softmax), for the combined model."""
        return self.encode(*self.inputs(faces, extras))[0].numpy()

    def detection_inputs(self, frame: np.ndarray, faces: Sequence[FaceDetection]):
        """(crops, extras) for faces detected in an RGB frame, cut with this model's transform."""
        crops = [self.transform.crop(frame, face.landmarks) for face in faces]
        extras = ([landmark_features(f.landmarks, f.box, f.blendshapes) for f in faces]
                  if self.transform.landmarks or self.geometry is not None else None)
        return crops, extras

    def encode_detections(self, frame: np.ndarray, faces: Sequence[FaceDetection]) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings, probabilities), one row per face detected in an RGB frame."""
        return self.encode_frames([self.detection_inputs(frame, faces)])[0]

    def encode_frames(self, frames: Sequence[tuple[list, list | None]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(embeddings, probabilities) per frame, from the ``detection_inputs`` of several frames,
        in one network pass: per-call overhead dominates a small network on a few 64 px crops."""
        crops = [crop for frame_crops, _ in frames for crop in frame_crops]
        extras = ([extra for _, frame_extras in frames for extra in frame_extras]
                  if self.transform.landmarks or self.geometry is not None else None)
        if crops:
            embedded, probabilities = (t.numpy() for t in self.encode(*self.inputs(crops, extras)))
            if self.geometry is not None:
                probabilities = self.geometry.mixed(probabilities, np.stack(extras))
        else:
            embedded = np.zeros((0, self.network.embedding_size), dtype=np.float32)
            probabilities = np.zeros((0, len(self.labels)), dtype=np.float32)
        bounds = np.cumsum([0] + [len(frame_crops) for frame_crops, _ in frames])
        return [(embedded[a:b], probabilities[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def predict_detections(self, frame: np.ndarray, faces: Sequence[FaceDetection]) -> np.ndarray:
        """Probabilities (faces, labels) for faces detected in an RGB frame."""
        return self.encode_detections(frame, faces)[1]
