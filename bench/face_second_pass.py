"""What the small-face second pass of ``FaceLandmarker`` adds to face finding.

    python bench/face_second_pass.py [--seconds 64] [--repeats 10] [--keep DIR]

Stills (IMAGE mode, as the photo tab sees a 1920x1080 picture: scaled to 1280x720): one large
face (the first pass finds it; no second pass), the astronaut photo pasted on the canvas (a 63 px
face after scaling: tiles are scanned) and a picture without a face (tiles scanned, nothing found).
Median milliseconds per picture, second pass off and on.

Video (VIDEO mode, frames sampled at 4 fps and scaled to 1280x720 as ``analyze`` does): the
``--seconds`` long talking-head benchmark clip of ``common.py`` (one large face per frame), and the
same frames shrunk to a quarter and set in a corner of a grey frame (faces of about 50-75 px,
which only the second pass finds). Only the ``detect`` calls are timed; the runs alternate off,
on, off, on so that a busy machine weighs on both alike.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from common import ROOT, talking_clip  # noqa: F401  (common puts the project on sys.path)
from source.face.landmarker import FaceLandmarker
from source.media.decode import DecodeReport, iter_frames

SIZE = (1280, 720)  # a 1080p frame as the studio analyses it (longer side 1280)


def _stills(clip: Path) -> dict[str, np.ndarray]:
    from skimage import data

    frame = next(iter(iter_frames(clip, 1.0, 1280, DecodeReport()))).image
    canvas = Image.new("RGB", (1920, 1080), (110, 110, 110))
    canvas.paste(Image.fromarray(data.astronaut()), (1100, 300))
    coffee = Image.fromarray(data.coffee()).resize((1920, 1080), Image.Resampling.BICUBIC)
    return {"one large face": np.asarray(Image.fromarray(frame).resize(SIZE, Image.Resampling.BICUBIC)),
            "astronaut on 1080p canvas": np.asarray(canvas.resize(SIZE, Image.Resampling.BICUBIC)),
            "no face (coffee)": np.asarray(coffee.resize(SIZE, Image.Resampling.BICUBIC))}


def _shrunk(image: np.ndarray) -> np.ndarray:
    out = np.full((SIZE[1], SIZE[0], 3), 110, dtype=np.uint8)
    small = np.asarray(Image.fromarray(image).resize((SIZE[0] // 4, SIZE[1] // 4), Image.Resampling.BILINEAR))
    out[40:40 + small.shape[0], 60:60 + small.shape[1]] = small
    return out


def _video(clip: Path, small_faces: bool, shrink: bool) -> tuple[float, int, float, int, int]:
    """(detect ms per frame, frames, mean faces per frame, tile scans, regions searched)."""
    spent, frames, faces = 0.0, 0, 0
    with FaceLandmarker(small_faces=small_faces) as landmarker:
        for frame in iter_frames(clip, 4.0, 1280, DecodeReport()):
            image = _shrunk(frame.image) if shrink else frame.image
            start = time.perf_counter()
            found = landmarker.detect(image, frame.time_s)
            spent += time.perf_counter() - start
            frames += 1
            faces += len(found)
        return 1000 * spent / frames, frames, faces / frames, landmarker.scans, landmarker.regions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="folder to keep the built clip in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-faces-"))
    clip = talking_clip(args.seconds, folder)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    print(f"\nstills {SIZE[0]}x{SIZE[1]}, median of {args.repeats}: ms off / ms on, faces off / on")
    for name, image in _stills(clip).items():
        row = {}
        for small_faces in (False, True):
            with FaceLandmarker(video=False, small_faces=small_faces) as landmarker:
                found = landmarker.detect(image)  # the first call sets up (not timed)
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    landmarker.detect(image)
                    times.append(1000 * (time.perf_counter() - start))
            row[small_faces] = (statistics.median(times), len(found))
        print(f"  {name:28} {row[False][0]:7.1f} / {row[True][0]:7.1f} ms   {row[False][1]} / {row[True][1]} faces")
    print(f"\nvideo {clip.name}, 4 fps: detect ms per frame, faces per frame, tile scans, regions")
    for shrink in (False, True):
        label = "faces shrunk to 1/4" if shrink else "as is (one large face)"
        for small_faces in (False, True, False, True):
            ms, frames, faces, scans, regions = _video(clip, small_faces, shrink)
            print(f"  {label:24} second pass {'on ' if small_faces else 'off'}: {ms:6.1f} ms/frame over "
                  f"{frames} frames ({ms * frames / 1000:5.1f} s), {faces:.2f} faces/frame, "
                  f"{scans} scans, {regions} regions")


if __name__ == "__main__":
    main()
