"""The face geometry trees beside the face CNN: accuracy gained per millisecond of added cost per face.

    python bench/face_geometry.py [--trees FILE] [--views VIEWS] [--data ../shared/data] [--videos av_samples/mead_video_only]

The face branch averages the shipped face CNN's calibrated probabilities (each face with its mirror
image) with those of gradient-boosted trees on the landmarker's 478 landmarks and 52 blendshapes
(``source/face/geometry.py``; ``run.py train --model face_geometry`` makes them) at the trees'
share, where the landmarker found the face; elsewhere the CNN answers alone. This bench scores the
CNN alone and the mix on FER2013's PublicTest (the faces read as training reads them) and on the
labelled MEAD video frames (8 a clip from 30-90% of its length, cut as ``run.py evaluate --model
face`` cuts them; per person and per clip, a clip's answer its frames' mean), and times both.

PublicTest chose the trees' settings and share (and the CNN's epoch and temperature), so its
figure here is not held out; the row below it has the share cross-fitted (chosen on one seeded half
of PublicTest, scored on the other, and the reverse), as the trees' card has it. ``--views`` scores
the CNN in ``bench/face_tta.py``'s test-time views instead of the shipped flip average. The MEAD
frames chose nothing, and no model trained on a MEAD person. Cost: CPU ms per face with one thread,
in batches of 16 (a window's frames); the landmarks cost nothing more in ``analyze``, which finds
every face with them.
"""

import argparse
import os
import platform
from datetime import date
from pathlib import Path

import numpy as np
import torch
from common import ROOT
from face_tta import CONFIGS, ms_per_face, view_probabilities
from threadpoolctl import threadpool_limits

from source.datasets.faces import scan_face_dataset, scan_face_videos
from source.face.geometry import FaceGeometry, found_faces
from source.face.geometry_train import GeometryRecipe, cross_fitted
from source.face.model import FaceModel
from source.face.train import landmark_array
from source.face.video import video_face_samples


def right_counts(cnn_right: np.ndarray, mixed_right: np.ndarray) -> str:
    return f"{np.sum(mixed_right & ~cnn_right)} / {np.sum(cnn_right & ~mixed_right)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=Path, help="a face geometry file (default: the shipped one)")
    parser.add_argument("--views", choices=list(CONFIGS), default="flip (shipped)",
                        help="the CNN's test-time views (bench/face_tta.py)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--videos", default="av_samples/mead_video_only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = FaceModel.load()
    trees = FaceGeometry.load(args.trees)
    if trees.face_sha256 != model.sha256:
        raise SystemExit(f"{args.trees or 'the shipped trees'} were mixed with another face model "
                         f"({trees.face_sha256[:12]}…), not the shipped one")

    samples = [s for s in scan_face_dataset(args.data / "fer2013").samples if s.split == "test"]
    test, labels = model.label_set.keep(samples)
    labels = np.asarray(labels)
    features = np.asarray(landmark_array(test))
    crops = np.stack([model.transform.prepare(s.image()) for s in test])
    views = CONFIGS[args.views]
    cnn = view_probabilities(model, crops, views)
    cnn_right = cnn.argmax(axis=1) == labels
    mixed_right = trees.mixed(cnn, features).argmax(axis=1) == labels
    found = found_faces(features)
    tree_probabilities = np.zeros_like(cnn)
    tree_probabilities[found] = trees.predict(features[found])
    trees_right = tree_probabilities[found].argmax(axis=1) == labels[found]
    crossed_right, crossed_shares = cross_fitted(cnn, tree_probabilities, found, labels, GeometryRecipe())

    clips = [c for c in scan_face_videos(args.data / args.videos)[0] if model.label_set.map(c.emotion) is not None]
    frames = video_face_samples(clips, model.transform)  # as evaluate --model face cuts them, with their landmarks
    frame_crops, frame_features = np.stack([f.image() for f in frames]), np.stack([f.landmarks for f in frames])
    frame_labels = np.array([model.label_set.index(f.emotion) for f in frames])
    people = np.array([f.subject for f in frames])
    clip_ids = np.array([f.source.partition("#")[0] for f in frames])
    video_cnn = view_probabilities(model, frame_crops, views)
    video_trees = trees.predict(frame_features)
    video_mixed = trees.mixed(video_cnn, frame_features)

    with threadpool_limits(1):
        trees_ms = ms_per_face(trees.predict, features[found])
    cnn_ms = ms_per_face(lambda batch: view_probabilities(model, batch, views), crops)

    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
          f"{torch.__version__}; face model sha256 {model.sha256[:8]}…, trees sha256 {trees.sha256[:8]}… "
          f"(share {trees.share:.2f}, {len(trees.roots) // len(trees.labels)} rounds); landmarks found on "
          f"{found.mean():.1%} of PublicTest's {len(test)} faces and on {len(frame_crops)} MEAD frames of "
          f"{len(clips)} clips; the CNN's views: {args.views}")
    print()
    print("| faces | CNN (shipped) | trees alone | CNN + trees | gained / lost |")
    print("|---|---|---|---|---|")
    print(f"| PublicTest (chose the share) | {cnn_right.mean():.4f} | {trees_right.mean():.4f} (found faces) | "
          f"**{mixed_right.mean():.4f}** | {right_counts(cnn_right, mixed_right)} |")
    print(f"| PublicTest, share cross-fitted ({' and '.join(f'{s:.2f}' for s in crossed_shares)}) | "
          f"{cnn_right.mean():.4f} | | **{crossed_right.mean():.4f}** | {right_counts(cnn_right, crossed_right)} |")
    frames_cnn = video_cnn.argmax(axis=1) == frame_labels
    frames_mixed = video_mixed.argmax(axis=1) == frame_labels
    frames_trees = video_trees.argmax(axis=1) == frame_labels
    for name, rows in [("MEAD frames", np.ones(len(frame_labels), bool))] + [
            (f"MEAD frames of {p} ({np.sum(people == p)})", people == p) for p in sorted(set(people))]:
        print(f"| {name} | {frames_cnn[rows].mean():.3f} | {frames_trees[rows].mean():.3f} | "
              f"**{frames_mixed[rows].mean():.3f}** | {right_counts(frames_cnn[rows], frames_mixed[rows])} |")
    shown = sorted(set(clip_ids))
    clip_labels = np.array([frame_labels[clip_ids == c][0] for c in shown])

    def clips_right(probabilities: np.ndarray) -> np.ndarray:
        return np.array([probabilities[clip_ids == c].mean(axis=0).argmax() for c in shown]) == clip_labels

    clip_cnn, clip_mixed = clips_right(video_cnn), clips_right(video_mixed)
    print(f"| MEAD clips (their frames' mean) | {clip_cnn.sum()}/{len(shown)} | {clips_right(video_trees).sum()}"
          f"/{len(shown)} | **{clip_mixed.sum()}/{len(shown)}** | {right_counts(clip_cnn, clip_mixed)} |")
    print()
    gained = 100 * (mixed_right.mean() - cnn_right.mean())
    print(f"Cost per face, one thread, batches of 16: the CNN ({args.views}) {cnn_ms:.2f} ms, the trees "
          f"{trees_ms:.2f} ms (+{100 * trees_ms / cnn_ms:.0f}%); {gained:+.2f} points on PublicTest, "
          f"{gained / trees_ms:+.2f} points per added ms.")


if __name__ == "__main__":
    main()
