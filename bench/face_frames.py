"""Per-frame predictions of face models on a dataset (and, for two models, frames gained/lost and an
exact McNemar test); writes JSON. Used by docs/results/face_video_aug-2026-12-05.md.

usage: python bench/face_frames.py DATA OUT.json [--split S] NAME=WEIGHTS [NAME=WEIGHTS]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json  # noqa: E402
import math  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402

from source.face.model import FaceModel  # noqa: E402
from source.face.train import _faces, face_samples  # noqa: E402
from source.training.trainer import predict_logits  # noqa: E402

args = sys.argv[1:]
data, out = Path(args[0]), Path(args[1])
split = None
if args[2] == "--split":
    split, args = args[3], args[:2] + args[4:]
result = {"data": str(data), "split": split, "models": {}}
frames = None
for spec in args[2:]:
    name, weights = spec.split("=", 1)
    model = FaceModel.load(Path(weights))
    samples, _ = face_samples(data, model.transform, None)
    if split:
        samples = [s for s in samples if s.split == split]
    kept, targets = model.label_set.keep(samples)
    logits, _ = predict_logits(model.network, _faces("evaluate", kept, targets, model.transform, None))
    pred = np.asarray(logits).argmax(1)
    if frames is None:
        frames = [{"source": s.source, "subject": s.subject, "emotion": s.emotion, "target": int(t)}
                  for s, t in zip(kept, targets)]
        result["labels"] = list(model.labels)
    else:
        assert [f["source"] for f in frames] == [s.source for s in kept]
    for f, p in zip(frames, pred):
        f[name] = int(p)
    result["models"][name] = {"weights": weights, "sha256": model.sha256}
result["frames"] = frames
labels = result["labels"]
names = list(result["models"])
summary = {}
for name in names:
    right = np.array([f[name] == f["target"] for f in frames])
    acc = right.mean()
    per_class = {labels[c]: [int(sum(right[i] for i, f in enumerate(frames) if f["target"] == c)),
                             sum(1 for f in frames if f["target"] == c)] for c in range(len(labels))}
    per_subject = defaultdict(lambda: [0, 0])
    for r, f in zip(right, frames):
        per_subject[f["subject"]][0] += int(r)
        per_subject[f["subject"]][1] += 1
    summary[name] = {"accuracy": float(acc), "right": int(right.sum()), "n": len(frames),
                     "se": float(math.sqrt(acc * (1 - acc) / len(frames))),
                     "per_class_recall": per_class, "per_subject": dict(per_subject)}
if len(names) == 2:
    a, b = names
    gained = sum(1 for f in frames if f[b] == f["target"] and f[a] != f["target"])
    lost = sum(1 for f in frames if f[a] == f["target"] and f[b] != f["target"])
    n = gained + lost
    # exact two-sided McNemar (binomial on the discordant pairs)
    tail = sum(math.comb(n, k) for k in range(0, min(gained, lost) + 1)) / 2 ** n if n else 1.0
    summary["paired"] = {"base": a, "new": b, "gained": gained, "lost": lost,
                         "mcnemar_exact_p": min(1.0, 2 * tail),
                         "agree_prediction": sum(1 for f in frames if f[a] == f[b])}
result["summary"] = summary
out.write_text(json.dumps(result, indent=1))
print(json.dumps(summary, indent=1))
