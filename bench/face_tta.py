"""Test-time augmentation of the face model: accuracy gained per millisecond of added cost per face.

    python bench/face_tta.py [--weights FILE] [--data ../shared/data] [--videos av_samples/mead_video_only]

Each face crop is scored in views (as it is, shifted by about 4% of its side left/right/up/down,
zoomed in and out by 10%), each view with its mirror image; a configuration averages the
calibrated probabilities of its views. Accuracy on FER2013's PublicTest (the face model's
validation split: its settings were chosen there, so this is not a held-out figure) and on frames
cut from the labelled MEAD videos as ``run.py evaluate --model face`` cuts them (8 frames from
30-90% of each clip, the largest face); with McNemar's counts against the shipped flip average.
Cost: CPU ms per face with one torch thread, in batches of 16 (a window's frames).
"""

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import torch
from common import ROOT

from source.datasets.faces import scan_face_dataset, scan_face_videos
from source.face.landmarker import FaceLandmarker
from source.face.model import FaceModel
from source.face.video import clip_crops

CONFIGS = {  # name -> views; every view is scored with its mirror image, as the shipped model is
    "flip (shipped)": ("id",),
    "flip + 2 zooms": ("id", "zoom_in", "zoom_out"),
    "flip + 4 shifts": ("id", "left", "right", "up", "down"),
    "flip + 4 shifts + 2 zooms": ("id", "left", "right", "up", "down", "zoom_in", "zoom_out"),
}


def view(crops: np.ndarray, name: str) -> np.ndarray:
    """(n, side, side) uint8 crops seen as ``name``: shifted or zoomed about the centre, borders
    replicated (as the aligned crop is filled outside the frame)."""
    if name == "id":
        return crops
    side = crops.shape[-1]
    step = round(side * 0.04)
    dx, dy = {"left": (-step, 0), "right": (step, 0), "up": (0, -step), "down": (0, step)}.get(name, (0, 0))
    scale = {"zoom_in": 1.1, "zoom_out": 0.9}.get(name, 1.0)
    centre = (side - 1) / 2
    matrix = np.array([[scale, 0, centre - scale * centre + dx], [0, scale, centre - scale * centre + dy]],
                      dtype=np.float32)
    return np.stack([cv2.warpAffine(c, matrix, (side, side), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE) for c in crops])


@torch.inference_mode()
def view_probabilities(model: FaceModel, crops: np.ndarray, views: tuple[str, ...], batch: int = 128) -> np.ndarray:
    """(n, classes): calibrated probabilities averaged over ``views`` and their mirror images."""
    total = np.zeros((len(crops), len(model.labels)))
    for name in views:
        seen = view(crops, name)
        for start in range(0, len(seen), batch):
            x = torch.from_numpy(model.transform.normalize(seen[start:start + batch]))
            embedded = model.network.embed_as_is(torch.cat([x, x.flip(-1)]))
            logits = model.network.classifier(embedded) / model.temperature
            probabilities = torch.softmax(logits, dim=1).numpy()
            total[start:start + len(x)] += probabilities[: len(x)] + probabilities[len(x):]
    return total / (2 * len(views))


def scored_faces(model: FaceModel, data: Path, videos: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """PublicTest's faces and labels, and the MEAD frames with a face and their labels, as
    ``model`` cuts them; and how many clips the frames came from."""
    samples = [s for s in scan_face_dataset(data / "fer2013").samples if s.split == "test"]
    kept, fer_labels = model.label_set.keep(samples)
    fer = np.stack([model.transform.prepare(s.image()) for s in kept])
    clips = [c for c in scan_face_videos(data / videos)[0] if model.label_set.map(c.emotion) is not None]
    with FaceLandmarker(video=False) as landmarker:
        frames = np.stack([clip_crops(c, model.transform, 8, (0.3, 0.9), landmarker)[0] for c in clips])
    video_labels = np.repeat([model.label_set.index(c.emotion) for c in clips], 8)
    frames = frames.reshape(-1, model.transform.size, model.transform.size)
    found = frames.reshape(len(frames), -1).any(axis=1)
    return fer, fer_labels, frames[found], video_labels[found], len(clips)


def ms_per_face(score: Callable[[np.ndarray], object], crops: np.ndarray, repeats: int = 5) -> float:
    """Best of ``repeats``: CPU ms per face of ``score`` on a batch of 16 crops (a window's frames),
    views made included."""
    batch = crops[:16]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        score(batch)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(batch)


def against_shipped(right: np.ndarray, cost: float, shipped_right: np.ndarray, shipped_ms: float) -> tuple[str, str]:
    """A row's cells beside the shipped model's: "gained / lost" faces, and "ms per face | added ms |
    points per added ms"."""
    gained, lost = int(np.sum(right & ~shipped_right)), int(np.sum(~right & shipped_right))
    added = cost - shipped_ms
    per_ms = f"{100 * (right.mean() - shipped_right.mean()) / added:.3f}" if added > 0.05 else ""
    return f"{gained} / {lost}", f"{cost:.1f} | {added:+.1f} | {per_ms}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="a face model file (default: the shipped one)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--videos", default="av_samples/mead_video_only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = FaceModel.load(args.weights)
    fer, fer_labels, frames, video_labels, n_clips = scored_faces(model, args.data, args.videos)
    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
          f"{torch.__version__}, 1 torch thread; {model.transform.size} px face model; PublicTest {len(fer)} "
          f"faces, MEAD frames {len(frames)} ({n_clips} clips)")
    print("| views (each with its mirror) | passes | PublicTest | gained / lost vs shipped | MEAD frames "
          "| ms per face | added ms | points per added ms |")
    print("|---|---|---|---|---|---|---|---|")
    shipped = None
    for name, views in CONFIGS.items():
        right = view_probabilities(model, fer, views).argmax(axis=1) == fer_labels
        video = float(np.mean(view_probabilities(model, frames, views).argmax(axis=1) == video_labels))
        cost = ms_per_face(lambda batch: view_probabilities(model, batch, views), fer)
        shipped = shipped or (right, cost)
        changes, costs = against_shipped(right, cost, *shipped)
        print(f"| {name} | {2 * len(views)} | {right.mean():.4f} | {changes} | {video:.3f} | {costs} |")


if __name__ == "__main__":
    main()
