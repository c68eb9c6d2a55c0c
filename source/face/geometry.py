"""Face geometry: gradient-boosted trees on MediaPipe's landmarks and blendshapes, averaged into
the face CNN's probabilities.

The landmarker finds every face the studio reads, and what it returns for one (478 landmarks
relative to the face box and 52 blendshapes: ``transform.landmark_features``) describes the
expression a second way, learned by MediaPipe on other faces than FER2013's. Trees trained on
those features are right less often than the CNN but on other faces, so the face branch gives
``(1 - share) * CNN + share * trees`` for every face with landmarks (``share`` chosen on
validation). A trees file pins the face model it was mixed with (its sha256): with another face
model, the CNN answers alone (``FaceModel.load``).

The trees are plain arrays in one ``.npz`` file (no pickle), evaluated here with numpy:
``run.py train --model face_geometry`` fits them with scikit-learn and stores its trees.
"""

import functools
from pathlib import Path

import cv2
import numpy as np

from ..labels import EMOTIONS
from ..registry import get_model
from ..weights import WeightsError, load_arrays, save_arrays
from .landmarker import FaceLandmarker
from .transform import N_LANDMARK_FEATURES, landmark_features

KIND = "face_geometry"
FORMAT = 1
# FER2013-like 48 px faces are scaled to FACE_PX on a CANVAS_PX square of replicated borders
# before the landmarker reads them: of 300 PublicTest faces it found 91% this way, 84% scaled
# to 144 px without the border
FACE_PX, CANVAS_PX = 144, 256
NODE_ARRAYS = ("feature", "threshold", "left", "right", "leaf", "value", "missing_left")


def dataset_face_features(image: np.ndarray, landmarker: FaceLandmarker) -> np.ndarray:
    """The landmark features of a dataset's face crop (gray, any size), NaN where none was found."""
    face = cv2.resize(image, (FACE_PX, FACE_PX), interpolation=cv2.INTER_CUBIC)
    pad = (CANVAS_PX - FACE_PX) // 2
    canvas = np.pad(face, ((pad, CANVAS_PX - FACE_PX - pad),) * 2, mode="edge")
    faces = landmarker.detect(np.repeat(canvas[:, :, None], 3, axis=2))
    if not faces:
        return np.full(N_LANDMARK_FEATURES, np.nan, dtype=np.float32)
    largest = max(faces, key=lambda f: f.area)
    return landmark_features(largest.landmarks, largest.box, largest.blendshapes)


def found_faces(features: np.ndarray) -> np.ndarray:
    """The rows of landmark features that are a face's: not NaN (``dataset_face_features`` found
    none) and not all zeros (``train.landmark_array``'s rows where it found none)."""
    features = np.asarray(features)
    return ~np.isnan(features).any(axis=1) & features.any(axis=1)


def mix(probabilities: np.ndarray, trees: np.ndarray, found: np.ndarray, share: float) -> np.ndarray:
    """``(1 - share) * probabilities + share * trees`` on the ``found`` rows; the others as they are."""
    out = np.array(probabilities)
    out[found] = (1 - share) * out[found] + share * trees[found]
    return out


class FaceGeometry:
    """The trees: every tree's nodes in flat arrays (children as indices into them), a tree per
    class per boosting round; ``share`` of the face branch, pinned to ``face_sha256``."""

    def __init__(self, nodes: dict[str, np.ndarray], roots: np.ndarray, baseline: np.ndarray,
                 temperature: float = 1.0, share: float = 0.0, face_sha256: str = "",
                 metrics: dict | None = None, sha256: str = ""):
        self.nodes, self.roots, self.baseline = nodes, roots, baseline
        self.temperature, self.share, self.face_sha256 = temperature, share, face_sha256
        self.metrics, self.sha256 = metrics or {}, sha256
        self.depth = _depth(nodes, roots)

    @property
    def labels(self) -> tuple[str, ...]:
        return EMOTIONS

    @classmethod
    def from_classifier(cls, classifier) -> "FaceGeometry":
        """The trees of a fitted ``HistGradientBoostingClassifier`` over EMOTIONS (numerical features)."""
        if list(classifier.classes_) != list(range(len(EMOTIONS))):
            raise ValueError("the classifier must be fitted on all seven emotions, as 0..6")
        parts, roots, offset = [], [], 0
        for round_ in classifier._predictors:  # a round: one tree per class
            for tree in round_:
                nodes = tree.nodes
                parts.append((nodes, offset))
                roots.append(offset)
                offset += len(nodes)
        flat = {
            "feature": np.concatenate([n["feature_idx"] for n, _ in parts]).astype(np.int32),
            "threshold": np.concatenate([n["num_threshold"] for n, _ in parts]).astype(np.float64),
            "left": np.concatenate([n["left"] + o for n, o in parts]).astype(np.int32),
            "right": np.concatenate([n["right"] + o for n, o in parts]).astype(np.int32),
            "leaf": np.concatenate([n["is_leaf"] for n, _ in parts]).astype(bool),
            "value": np.concatenate([n["value"] for n, _ in parts]).astype(np.float32),
            "missing_left": np.concatenate([n["missing_go_to_left"] for n, _ in parts]).astype(bool),
        }
        baseline = np.asarray(classifier._baseline_prediction, dtype=np.float64).reshape(-1)
        return cls(flat, np.asarray(roots, dtype=np.int32), baseline)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(n, 7) raw scores of the trees for (n, N_LANDMARK_FEATURES) landmark features."""
        x = np.asarray(features, dtype=np.float64).reshape(-1, N_LANDMARK_FEATURES)
        n = self.nodes
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            leaf = n["leaf"][node]
            if leaf.all():
                break
            value = x[rows, n["feature"][node]]
            go_left = np.where(np.isnan(value), n["missing_left"][node], value <= n["threshold"][node])
            node = np.where(leaf, node, np.where(go_left, n["left"][node], n["right"][node]))
        per_tree = n["value"][node].astype(np.float64).reshape(len(x), -1, len(self.baseline))
        return per_tree.sum(axis=1) + self.baseline

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(n, 7) calibrated probabilities."""
        scaled = self.logits(features) / self.temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        exp = np.exp(scaled)
        return exp / exp.sum(axis=1, keepdims=True)

    def mixed(self, probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The CNN's ``probabilities`` (n, 7) with the trees' averaged in at ``share``, for the rows
        of ``features`` (n, N_LANDMARK_FEATURES) that are landmarks (``found_faces``)."""
        features = np.asarray(features, dtype=np.float32).reshape(-1, N_LANDMARK_FEATURES)
        found = found_faces(features)
        trees = np.zeros((len(features), len(EMOTIONS)), dtype=np.float32)
        if found.any() and self.share > 0:
            trees[found] = self.predict(features[found])
        return mix(np.asarray(probabilities, dtype=np.float32), trees, found, self.share)

    def save(self, path: str | Path, **metadata) -> str:
        meta = {"format": FORMAT, "kind": KIND, "labels": list(EMOTIONS), "temperature": self.temperature,
                "share": self.share, "face_sha256": self.face_sha256, "n_features": N_LANDMARK_FEATURES,
                "metrics": self.metrics, **metadata}
        return save_arrays(path, meta, {"roots": self.roots, "baseline": self.baseline, **self.nodes})

    @classmethod
    def load(cls, path: str | Path | None = None, expected_sha256: str | None = None) -> "FaceGeometry":
        """The trees in ``path`` (refused unless its sha256 is ``expected_sha256``, when given), or
        the shipped ones: the file the registry's ``face_geometry`` entry ships."""
        if path is None:
            shipped = get_model(KIND).shipped()
            path, expected_sha256 = shipped.path, shipped.sha256
        path = Path(path)
        meta, arrays, sha256 = load_arrays(path, expected_sha256, "face geometry model")
        if any(name not in arrays for name in (*NODE_ARRAYS, "roots", "baseline")):
            raise WeightsError(f"{path} is not an Emotion Studio face geometry model (arrays missing).")
        nodes = {name: arrays[name] for name in NODE_ARRAYS}
        roots, baseline = arrays["roots"], arrays["baseline"]
        if (meta.get("format") != FORMAT or meta.get("kind") != KIND or meta.get("labels") != list(EMOTIONS)
                or meta.get("n_features") != N_LANDMARK_FEATURES):
            raise WeightsError(f"{path} is not an Emotion Studio face geometry model.")
        size = len(nodes["feature"])
        indices = (nodes["feature"], nodes["left"], nodes["right"], roots)
        if (any(a.ndim != 1 or len(a) != size for a in nodes.values()) or len(baseline) != len(EMOTIONS)
                or any(a.dtype.kind not in "iu" for a in indices) or any(a.min(initial=0) < 0 for a in indices)
                or nodes["leaf"].dtype != bool or nodes["missing_left"].dtype != bool
                or len(roots) % len(EMOTIONS) or not len(roots) or roots.max() >= size
                or max(nodes["left"].max(), nodes["right"].max()) >= size
                or nodes["feature"][~nodes["leaf"]].max(initial=0) >= N_LANDMARK_FEATURES):
            raise WeightsError(f"{path}: its trees' arrays do not fit together (edited or damaged).")
        try:
            return cls(nodes, roots, baseline, float(meta["temperature"]), float(meta["share"]),
                       str(meta["face_sha256"]), meta.get("metrics"), sha256)
        except (KeyError, TypeError, ValueError) as error:
            raise WeightsError(f"{path}: its trees do not fit together ({error}; edited or damaged).") from error


MAX_DEPTH = 64  # far deeper than boosted trees grow; a file claiming more has a loop in it


def _depth(nodes: dict[str, np.ndarray], roots: np.ndarray) -> int:
    """The most steps from a root to a leaf (the number of rounds ``logits`` walks)."""
    level = np.asarray(roots)
    for depth in range(MAX_DEPTH + 1):
        inner = level[~nodes["leaf"][level]]
        if not len(inner):
            return depth
        level = np.unique(np.concatenate([nodes["left"][inner], nodes["right"][inner]]))
    raise ValueError(f"trees deeper than {MAX_DEPTH} levels")


def shipped_geometry_for(face_sha256: str) -> "FaceGeometry | None":
    """The shipped trees if they were mixed with the face model ``face_sha256``, else None."""
    if get_model(KIND).weights is None:
        return None
    trees = _shipped()
    return trees if trees.face_sha256 == face_sha256 else None


@functools.cache
def _shipped() -> FaceGeometry:
    return FaceGeometry.load()
