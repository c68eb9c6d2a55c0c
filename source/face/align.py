"""Eye-levelled square face crops, cut in one affine warp from the analysed frame."""

import cv2
import numpy as np

# MediaPipe face-mesh indices of the outer and inner corners of each eye
_EYE_A = (33, 133)
_EYE_B = (362, 263)


def crop_affine(landmarks: np.ndarray, size: int = 64, margin: float = 0.25) -> np.ndarray:
    """The 2x3 map from frame pixels to the aligned crop's pixels (see ``aligned_crop``)."""
    points = landmarks[:, :2].astype(np.float64)
    eye_a = points[list(_EYE_A)].mean(axis=0)
    eye_b = points[list(_EYE_B)].mean(axis=0)
    left, right = (eye_a, eye_b) if eye_a[0] <= eye_b[0] else (eye_b, eye_a)
    angle = np.arctan2(right[1] - left[1], right[0] - left[0])
    cos, sin = np.cos(-angle), np.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]])  # levels the eyes
    levelled = points @ rotation.T
    low, high = levelled.min(axis=0), levelled.max(axis=0)
    side = max(high - low) * (1.0 + margin)
    centre = (low + high) / 2.0
    scale = size / max(side, 1.0)
    # crop pixel = scale * (rotation @ p - centre) + size / 2
    return np.hstack([scale * rotation, (size / 2.0 - scale * centre)[:, None]])


def aligned_crop(image: np.ndarray, landmarks: np.ndarray, size: int = 64,
                 margin: float = 0.25) -> np.ndarray:
    """A ``size`` x ``size`` RGB crop, rotated so the eyes are level, centred on the face.

    The square side is the face's extent along the levelled axes plus ``margin`` of it;
    regions outside the frame are filled by replicating the border.
    """
    return cv2.warpAffine(image, crop_affine(landmarks, size, margin), (size, size),
                          flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
