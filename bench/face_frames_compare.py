"""Clip-clustered comparison of two models in a bench/face_frames.py JSON: accuracy with binomial and
clip-bootstrap standard errors, frames gained/lost (exact McNemar), per subject, per class, clip votes.

usage: python bench/face_frames_compare.py FILE BASE NEW
"""
import json, math, sys
from collections import defaultdict
import numpy as np

d = json.load(open(sys.argv[1])); base, new = sys.argv[2], sys.argv[3]
frames = d["frames"]; labels = d["labels"]
clip = [f["source"].split("#")[0] for f in frames]
clips = sorted(set(clip))
rb = np.array([f[base] == f["target"] for f in frames], float)
rn = np.array([f[new] == f["target"] for f in frames], float)
print(f"frames {len(frames)}, clips {len(clips)}")
for name, r in ((base, rb), (new, rn)):
    a = r.mean(); print(f"{name}: {int(r.sum())}/{len(r)} = {a:.4f}, binomial SE {math.sqrt(a*(1-a)/len(r)):.4f}")
# clip bootstrap
rng = np.random.default_rng(0)
idx = defaultdict(list)
for i, c in enumerate(clip): idx[c].append(i)
boots = []
for _ in range(10000):
    pick = rng.choice(len(clips), len(clips))
    ii = np.concatenate([idx[clips[k]] for k in pick])
    boots.append((rb[ii].mean(), rn[ii].mean(), rn[ii].mean() - rb[ii].mean()))
boots = np.array(boots)
print("clip-bootstrap SE base %.4f new %.4f diff %.4f; diff 95%% interval %.4f..%.4f" % (
    boots[:, 0].std(), boots[:, 1].std(), boots[:, 2].std(), *np.percentile(boots[:, 2], [2.5, 97.5])))
g = int(((rn == 1) & (rb == 0)).sum()); l = int(((rb == 1) & (rn == 0)).sum()); n = g + l
p = min(1.0, 2 * sum(math.comb(n, k) for k in range(min(g, l) + 1)) / 2 ** n) if n else 1.0
print(f"gained {g}, lost {l}, exact McNemar p {p:.3f}; same prediction {sum(f[base]==f[new] for f in frames)}/{len(frames)}")
print("per subject: subject | frames | base | new | gained/lost")
for s in sorted({f["subject"] for f in frames}):
    ii = [i for i, f in enumerate(frames) if f["subject"] == s]
    print(f"{s} | {len(ii)} | {int(rb[ii].sum())} ({rb[ii].mean():.3f}) | {int(rn[ii].sum())} ({rn[ii].mean():.3f}) | "
          f"{int(((rn[ii]==1)&(rb[ii]==0)).sum())}/{int(((rb[ii]==1)&(rn[ii]==0)).sum())}")
print("per class: class | frames | base recall | new recall | gained/lost")
for c, name in enumerate(labels):
    ii = [i for i, f in enumerate(frames) if f["target"] == c]
    if ii:
        print(f"{name} | {len(ii)} | {int(rb[ii].sum())} ({rb[ii].mean():.3f}) | {int(rn[ii].sum())} ({rn[ii].mean():.3f}) | "
              f"{int(((rn[ii]==1)&(rb[ii]==0)).sum())}/{int(((rb[ii]==1)&(rn[ii]==0)).sum())}")
# clip majority vote
cv = {m: 0 for m in (base, new)}
for c in clips:
    ii = idx[c]
    for m in (base, new):
        votes = np.bincount([frames[i][m] for i in ii], minlength=len(labels))
        cv[m] += int(votes.argmax() == frames[ii[0]]["target"])
print(f"clip majority vote: {base} {cv[base]}/{len(clips)}, {new} {cv[new]}/{len(clips)}")
