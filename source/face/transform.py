"""The face model's input: one transform object, saved with the weights it was trained for.

It cuts the aligned crop from a frame (framing and size), turns it grayscale, scales it and
normalises it, and optionally builds the landmark features; the same object runs on dataset
images in training and on detected faces in inference, so the two cannot drift apart.
"""

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .align import aligned_crop

N_LANDMARKS = 478
N_BLENDSHAPES = 52
N_LANDMARK_FEATURES = N_LANDMARKS * 3 + N_BLENDSHAPES  # what landmark_features gives a face
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class FaceTransform:
    """Face image -> (3, size, size) float32: grayscale replicated to three channels, normalised.

    ``crop_margin`` frames the aligned crop cut from a full frame (extra context around the
    landmark box, as a share of its side); dataset images are already face crops and are only
    scaled. With ``landmarks`` the model also takes the 478 MediaPipe landmarks (normalised to
    the face box) and the 52 blendshape scores. ``detail`` cuts crops from frames at that many
    pixels a side before scaling them to ``size``, so that faces from photos and video carry no
    more detail than the training images had (FER2013's are 48 px): a model trained on upscaled
    48 px faces read sharp 80 px video crops 10 points worse on MEAD frames.
    """

    size: int = 64
    crop_margin: float = 0.0  # FER2013-like framing: brows to chin, cheek to cheek
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    landmarks: bool = False
    detail: int | None = None  # None: crops are cut at ``size``

    def __post_init__(self):
        if self.size < 16:
            raise ValueError(f"face size must be at least 16 pixels, not {self.size}")
        if self.detail is not None and not 16 <= self.detail <= self.size:
            raise ValueError(f"face detail must be 16 to {self.size} pixels (the size), not {self.detail}")

    @property
    def extra_features(self) -> int:
        return N_LANDMARKS * 3 + N_BLENDSHAPES if self.landmarks else 0

    def crop(self, frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The eye-levelled face crop of an RGB frame, as the model's grayscale uint8 square."""
        return self.prepare(aligned_crop(frame, landmarks, self.detail or self.size, self.crop_margin))

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """A face image (gray or RGB, any size) as a (size, size) grayscale uint8 array."""
        image = np.asarray(image)
        if image.ndim == 3:
            image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
        if image.shape != (self.size, self.size):
            shrink = max(image.shape) > self.size
            image = cv2.resize(image, (self.size, self.size),
                               interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return np.ascontiguousarray(image, dtype=np.uint8)

    def normalize(self, gray: np.ndarray) -> np.ndarray:
        """(..., size, size) uint8 -> (..., 3, size, size) float32."""
        scaled = np.asarray(gray, dtype=np.float32)[..., None, :, :] / 255.0
        mean = np.array(self.mean, dtype=np.float32)[:, None, None]
        std = np.array(self.std, dtype=np.float32)[:, None, None]
        return (scaled - mean) / std

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.normalize(self.prepare(image))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "FaceTransform":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def landmark_features(landmarks: np.ndarray, box, blendshapes: np.ndarray) -> np.ndarray:
    """1486 float32: landmarks x, y, z relative to the face box (0..1 inside it), then blendshapes."""
    x0, y0, x1, y1 = box
    width, height = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    points = np.asarray(landmarks, dtype=np.float32).copy()
    points[:, 0] = (points[:, 0] - x0) / width
    points[:, 1] = (points[:, 1] - y0) / height
    points[:, 2] = points[:, 2] / width
    return np.concatenate([points.ravel(), np.asarray(blendshapes, dtype=np.float32)])
