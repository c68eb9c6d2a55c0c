"""Face-crop augmentation: the video-frame changes are off by default and leave old recipes' images alone."""

import dataclasses

import numpy as np
import pytest

from source.face.augment import FaceAugment, SeededAugment

VIDEO = ("perspective_p", "motion_blur_p", "downscale_p", "compression_p")
BEFORE = ["HorizontalFlip", "Affine", "RandomBrightnessContrast", "RandomGamma", "CLAHE", "GaussianBlur",
          "Sharpen", "GaussNoise", "CoarseDropout"]


def face_like(size: int = 96) -> np.ndarray:
    """A grayscale crop with edges and texture, so blur, scaling and JPEG all show."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:size, :size]
    image = 128 + 60 * np.sin(x / 3.0) * np.cos(y / 5.0) + rng.normal(0, 12, (size, size))
    image[size // 3:size // 2, size // 4:3 * size // 4] = 20  # a dark bar: eyes and brows
    return np.clip(image, 0, 255).astype(np.uint8)


def names(augment: FaceAugment) -> list[str]:
    return [type(t).__name__ for t in augment.pipeline().transforms]


def test_video_changes_are_off_by_default_and_leave_the_pipeline_as_it_was():
    default = FaceAugment()
    assert all(getattr(default, name) == 0.0 for name in VIDEO)
    assert names(default) == BEFORE
    # the shipped recipes' values, written out by hand: the same transforms, the same draws
    recipe = FaceAugment(**{f.name: getattr(default, f.name) for f in dataclasses.fields(FaceAugment)
                            if not f.name.startswith(("perspective", "motion_blur", "downscale", "compression"))})
    assert names(recipe) == BEFORE
    crop = face_like()
    for epoch, index in [(0, 0), (1, 7), (5, 123)]:
        a = SeededAugment(default, seed=0)(crop, epoch, index)
        b = SeededAugment(recipe, seed=0)(crop, epoch, index)
        np.testing.assert_array_equal(a, b)
    # other settings of the video changes alone (probability still 0) change nothing either
    tuned = dataclasses.replace(default, perspective_scale=(0.1, 0.2), compression_quality=(5, 10))
    assert names(tuned) == BEFORE
    np.testing.assert_array_equal(SeededAugment(tuned)(crop, 3, 4), SeededAugment(default)(crop, 3, 4))


@pytest.mark.parametrize("field, name", [("perspective_p", "Perspective"), ("motion_blur_p", "MotionBlur"),
                                         ("downscale_p", "Downscale"), ("compression_p", "ImageCompression")])
def test_each_video_change_at_probability_one_changes_the_crop(field, name):
    off = {f.name: 0.0 for f in dataclasses.fields(FaceAugment) if f.name.endswith("_p")}
    augment = FaceAugment(**{**off, field: 1.0})
    assert names(augment) == ["HorizontalFlip", "Affine", *([name] if field == "perspective_p" else []),
                              "RandomBrightnessContrast", "RandomGamma", "CLAHE", "GaussianBlur", "Sharpen",
                              "GaussNoise", *([] if field == "perspective_p" else [name]), "CoarseDropout"]
    crop = face_like()
    out = SeededAugment(augment, seed=0)(crop, 0, 0)
    assert out.shape == crop.shape and out.dtype == crop.dtype
    assert np.abs(out.astype(int) - crop.astype(int)).mean() > 1.0
    # seeded: the same (seed, epoch, index) draws the same image
    np.testing.assert_array_equal(out, SeededAugment(augment, seed=0)(crop, 0, 0))


def test_a_run_fingerprint_leaves_out_video_changes_that_are_off():
    """Face runs started before the video changes existed still resume: their fingerprint is unchanged."""
    import json
    import zlib

    from source.face.augment import VIDEO_CHANGES
    from source.face.train import FaceRecipe, FaceSplit, fingerprint
    from source.training.recipes import recipe_to_dict

    recipe, split = FaceRecipe(), FaceSplit([], [])
    before = {k: v for k, v in recipe_to_dict(recipe).items() if k not in ("train", "test_time_flip")}
    before["augment"] = {k: v for k, v in before["augment"].items()
                         if k not in VIDEO_CHANGES and k not in VIDEO_CHANGES.values()}
    assert fingerprint(recipe, split) == str(zlib.crc32(json.dumps({"recipe": before, "data": []},
                                                                   sort_keys=True, default=str).encode()))
    on = dataclasses.replace(recipe, augment=dataclasses.replace(recipe.augment, compression_p=0.3))
    assert fingerprint(on, split) != fingerprint(recipe, split)
