"""Face samples from labelled photos: a dataset image large enough to be a photo rather than a
face crop is read as ``analyze`` reads a photo (EXIF rotation, scaled to the analysis frame size,
faces found by the landmarker with its small-face pass) and its largest face is cut with the
model's transform, its landmark features kept with it (the geometry trees read those, as in
``analyze``); both are cached, so a folder of photos is read once per setting.

Without this a posed-face set of whole frames (CK+'s 640x490 originals, KDEF, JAFFE) would be
squeezed whole into the network's square, face and background together, and score the resize,
not the model.
"""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from ..datasets.faces import CK_PLUS, FER2013, FaceSample
from ..errors import MediaError
from ..media.decode import read_image
from ..options import WindowOptions
from ..training.cache import cached_arrays, file_identity
from .landmarker import FaceLandmarker
from .transform import N_LANDMARK_FEATURES, FaceTransform, landmark_features

# a dataset image at least this many pixels on its short side is a photo; FER2013 (48 px), CK+48
# and RAF-DB's aligned faces (100 px) are face crops already
PHOTO_MIN_SIDE = 160


def is_photo(sample: FaceSample) -> bool:
    if sample.pixels is not None or sample.corpus in (FER2013, CK_PLUS):  # face crops by their layout
        return False
    try:
        with Image.open(sample.source) as image:  # reads the header only
            return min(image.size) >= PHOTO_MIN_SIDE
    except OSError:
        return False  # the dataset scan read it; if it cannot now, the crop path says why


def photo_face_samples(samples: list[FaceSample], transform: FaceTransform,
                       progress: Callable[[int, int], None] | None = None) -> tuple[list[FaceSample], str]:
    """``samples`` with every photo replaced by its largest face's crop (``pixels``) and landmark
    features (``landmarks``); photos in which no face is found are left out. Returns the samples
    and a line saying what was done (empty when there were no photos)."""
    photos = [i for i, sample in enumerate(samples) if is_photo(sample)]
    if not photos:
        return samples, ""
    key = {"size": transform.size, "margin": transform.crop_margin, "detail": transform.detail,
           "max_side": WindowOptions().max_frame_side, "landmark_features": N_LANDMARK_FEATURES,
           "files": [file_identity(Path(samples[i].source)) for i in photos]}

    def compute() -> tuple[np.ndarray, np.ndarray]:  # each photo's crop and its face's landmark features
        crops = np.zeros((len(photos), transform.size, transform.size), dtype=np.uint8)
        landmarks = np.zeros((len(photos), N_LANDMARK_FEATURES), dtype=np.float32)
        if progress:
            progress(0, len(photos))  # nothing was cached: every photo is read
        with FaceLandmarker(video=False) as landmarker:
            for row, i in enumerate(photos):
                try:
                    frame = read_image(samples[i].source, WindowOptions().max_frame_side)
                    faces = landmarker.detect(frame.image)
                except MediaError:
                    faces = []  # counted below with the photos without a face
                if faces:
                    face = max(faces, key=lambda f: f.area)
                    crops[row] = transform.crop(frame.image, face.landmarks)
                    landmarks[row] = landmark_features(face.landmarks, face.box, face.blendshapes)
                if progress:
                    progress(row + 1, len(photos))
        return crops, landmarks

    crops, landmarks = cached_arrays(("photo-face-crops", "photo-face-landmarks"), key, compute)
    found = landmarks.any(axis=1)  # a face always has landmark features; a crop may be all black
    out = list(samples)
    for row, i in enumerate(photos):
        # "#face": the crop is another sample than the whole image (caches key on the source)
        out[i] = (replace(samples[i], source=f"{samples[i].source}#face", pixels=np.array(crops[row]),
                          landmarks=np.array(landmarks[row])) if found[row] else None)
    missed = [samples[i].source for row, i in enumerate(photos) if not found[row]]
    note = (f"{len(photos)} photos (images {PHOTO_MIN_SIDE} px or more on their short side): each one's largest "
            f"face cut as analyze cuts it; no face found in {len(missed)}, left out"
            + (f" ({', '.join(missed[:3])}{', ...' if len(missed) > 3 else ''})" if missed else ""))
    return [sample for sample in out if sample is not None], note
