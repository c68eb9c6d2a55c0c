"""Face models of independent training lines averaged: accuracy gained per millisecond of added cost per face.

    python bench/face_ensemble.py --members A.pt [B.pt ...] [--data ../shared/data] [--videos av_samples/mead_video_only]

The shipped face model and each member score the same crops, cut as the shipped model cuts them
(its size and ``detail``); a member of another size reads them scaled to its own, as it would
inside an ensemble of the shipped pipeline. Each model averages a crop and its mirror image; the
rows average the calibrated probabilities of the models named, with equal weights (no weight is
fitted). Views as in ``bench/face_tta.py``. PublicTest is the face models' validation split (their
epochs and temperatures were chosen there), so these are not held-out figures. Cost: CPU ms per
face with one torch thread, in batches of 16 (a window's frames).
"""

import argparse
import os
import platform
from datetime import date
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import torch
from common import ROOT
from face_tta import against_shipped, ms_per_face, scored_faces, view_probabilities

from source.face.model import FaceModel


def resized(crops: np.ndarray, size: int) -> np.ndarray:
    """(n, side, side) uint8 crops at ``size`` a side, as the member's own transform would scale them."""
    if crops.shape[-1] == size:
        return crops
    shrink = crops.shape[-1] > size
    return np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
                     for c in crops])


def member_probabilities(model: FaceModel, crops: np.ndarray, views: tuple[str, ...]) -> np.ndarray:
    return view_probabilities(model, resized(crops, model.transform.size), views)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=Path, nargs="+", required=True,
                        help="face model files to average with the shipped one")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--videos", default="av_samples/mead_video_only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    shipped = FaceModel.load()
    models = {"shipped": shipped, **{f"{path.parent.name}/{path.stem}": FaceModel.load(path) for path in args.members}}
    for name, model in models.items():
        if model.labels != shipped.labels:
            raise SystemExit(f"{name} has other labels than the shipped face model")
    fer, fer_labels, frames, video_labels, n_clips = scored_faces(shipped, args.data, args.videos)
    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
          f"{torch.__version__}, 1 torch thread; PublicTest {len(fer)} faces, MEAD frames {len(frames)} "
          f"({n_clips} clips); models: "
          + ", ".join(f"{name} ({m.transform.size} px, sha256 {m.sha256[:8]}…)" for name, m in models.items()))
    print("| models averaged | views (each with its mirror) | PublicTest | gained / lost vs shipped | MEAD frames "
          "| ms per face | added ms | points per added ms |")
    print("|---|---|---|---|---|---|---|---|")
    view_sets = {"flip": ("id",), "flip + 2 zooms": ("id", "zoom_in", "zoom_out")}
    scores = {(name, views): (member_probabilities(m, fer, v), member_probabilities(m, frames, v))
              for name, m in models.items() for views, v in view_sets.items()}
    shipped_row = None
    names = list(models)
    groups = [g for k in range(1, len(names) + 1) for g in combinations(names, k)]
    for views in view_sets:
        for group in groups:
            right = sum(scores[(n, views)][0] for n in group).argmax(axis=1) == fer_labels
            video = float(np.mean(sum(scores[(n, views)][1] for n in group).argmax(axis=1) == video_labels))
            cost = ms_per_face(lambda batch: [member_probabilities(models[n], batch, view_sets[views])
                                              for n in group], fer)
            shipped_row = shipped_row or (right, cost)
            changes, costs = against_shipped(right, cost, *shipped_row)
            print(f"| {' + '.join(group)} | {views} | {right.mean():.4f} | {changes} | {video:.3f} | {costs} |")


if __name__ == "__main__":
    main()
