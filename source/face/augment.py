"""Training-time augmentation of face crops (Albumentations), drawn afresh for every image.

Each image's changes are seeded by (seed, epoch, index), so a resumed run sees exactly the
images an uninterrupted one would. Crops are grayscale, so colour changes reduce to
brightness, contrast and gamma.

The video-frame changes (a mild pose change, motion blur, down-then-up scaling and JPEG
artefacts) imitate faces cut from video frames; they are off by default, and a change whose
probability is 0 is left out of the pipeline altogether, so recipes written before them draw
exactly the same images as before.
"""

from dataclasses import asdict, dataclass

import albumentations as A
import cv2
import numpy as np

# each video-frame change's probability and its setting; a change that is off is no part of a
# run's identity (``FaceAugment.identity``), so face runs started before these existed still resume
VIDEO_CHANGES = {"perspective_p": "perspective_scale", "motion_blur_p": "motion_blur_kernel",
                 "downscale_p": "downscale_range", "compression_p": "compression_quality"}


@dataclass(frozen=True)
class FaceAugment:
    """Each change applies with its probability; 0 turns it off."""

    flip_p: float = 0.5
    affine_p: float = 0.7  # rotation, scale and shift together
    rotate_deg: float = 15.0
    scale: tuple[float, float] = (0.9, 1.1)
    shift: float = 0.08  # share of the side
    brightness_contrast_p: float = 0.5
    gamma_p: float = 0.2
    clahe_p: float = 0.1
    blur_p: float = 0.1
    sharpen_p: float = 0.1
    noise_p: float = 0.1
    erase_p: float = 0.3  # blank a patch: the model cannot lean on one region
    # video-frame changes, each left out of the pipeline at probability 0 (the default)
    perspective_p: float = 0.0  # a mild pose change: the crop seen from slightly aside
    perspective_scale: tuple[float, float] = (0.02, 0.06)  # corner jitter, share of the side
    motion_blur_p: float = 0.0
    motion_blur_kernel: tuple[int, int] = (3, 7)  # odd kernel sizes in pixels
    downscale_p: float = 0.0  # shrink, then scale back up: a small face in a video frame
    downscale_range: tuple[float, float] = (0.35, 0.7)  # share of the side kept
    compression_p: float = 0.0  # JPEG artefacts
    compression_quality: tuple[int, int] = (30, 90)

    def pipeline(self) -> A.Compose:
        video_pose = [A.Perspective(scale=self.perspective_scale, keep_size=True,
                                    border_mode=cv2.BORDER_REFLECT_101, p=self.perspective_p)]
        video_quality = [
            A.MotionBlur(blur_limit=self.motion_blur_kernel, p=self.motion_blur_p),
            A.Downscale(scale_range=self.downscale_range,
                        interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_LINEAR},
                        p=self.downscale_p),
            A.ImageCompression(compression_type="jpeg", quality_range=self.compression_quality,
                               p=self.compression_p),
        ]
        return A.Compose([
            A.HorizontalFlip(p=self.flip_p),
            A.Affine(rotate=(-self.rotate_deg, self.rotate_deg), scale=self.scale,
                     translate_percent=(-self.shift, self.shift), border_mode=cv2.BORDER_REFLECT_101,
                     p=self.affine_p),
            *[t for t in video_pose if t.p > 0],
            A.RandomBrightnessContrast(0.25, 0.25, p=self.brightness_contrast_p),
            A.RandomGamma((80, 120), p=self.gamma_p),
            A.CLAHE(clip_limit=(1, 3), p=self.clahe_p),
            A.GaussianBlur(blur_limit=(3, 3), p=self.blur_p),
            A.Sharpen(p=self.sharpen_p),
            A.GaussNoise(std_range=(0.02, 0.06), p=self.noise_p),
            *[t for t in video_quality if t.p > 0],
            A.CoarseDropout(num_holes_range=(1, 1), hole_height_range=(0.15, 0.3),
                            hole_width_range=(0.15, 0.3), fill=0, p=self.erase_p),
        ], seed=0)

    def to_dict(self) -> dict:
        return asdict(self)

    def identity(self) -> dict:
        """``to_dict`` without the video-frame changes that are off (see ``VIDEO_CHANGES``)."""
        values = self.to_dict()
        for probability, setting in VIDEO_CHANGES.items():
            if values[probability] == 0:
                del values[probability], values[setting]
        return values


class SeededAugment:
    """``FaceAugment`` as a callable on uint8 crops, deterministic per (seed, epoch, index)."""

    def __init__(self, augment: FaceAugment, seed: int = 0):
        self.pipeline = augment.pipeline()
        self.seed = seed

    def __call__(self, crop: np.ndarray, epoch: int, index: int) -> np.ndarray:
        self.pipeline.set_random_seed(int(np.random.SeedSequence([self.seed, epoch, index]).generate_state(1)[0]))
        return self.pipeline(image=crop)["image"]
