"""Training and evaluating the face geometry trees (``run.py train/evaluate --model face_geometry``).

Recipe: scikit-learn's ``HistGradientBoostingClassifier`` on the landmark features of the face
dataset's train split (``train.landmark_array``: each face scaled onto a canvas the landmarker
reads), early-stopped on a seeded tenth of it. On the validation split (FER2013: PublicTest) the
temperature is fitted and the trees' ``share`` of the face branch is chosen, against the face
model the trees will be mixed with (the shipped one; its sha256 is stored). The card reports the
trees alone, the face model alone and the two mixed on each part; on validation also with the
share cross-fitted on its halves, a figure not scored on the faces that chose it.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.faces import FaceSample, scan_face_dataset
from ..errors import DatasetError
from ..labels import EMOTIONS
from ..training.flow import Fitted, Training, run_training
from ..training.metrics import calibrated, evaluation_report
from ..training.reports import model_card, training_machine
from ..training.trainer import predict_logits
from .geometry import KIND, FaceGeometry, found_faces, mix
from .model import FaceModel
from .train import _faces, landmark_array

TITLE = "Face geometry model (gradient-boosted trees on MediaPipe landmarks and blendshapes)"
SPLITS = {"train": "train", "validation": "test", "test": "private"}  # FER2013's names


@dataclass(frozen=True)
class GeometryRecipe:
    # chosen on PublicTest among ten settings (docs/results/face_geometry-2026-12-06.md)
    max_iter: int = 600
    learning_rate: float = 0.05
    l2_regularization: float = 1.0
    max_leaf_nodes: int = 63
    seed: int = 0
    share_step: float = 0.05  # the trees' share is searched on 0, step, ... max_share
    max_share: float = 0.6


def best_share(cnn: np.ndarray, trees: np.ndarray, where: np.ndarray, targets: np.ndarray,
               recipe: GeometryRecipe) -> float:
    shares = np.round(np.arange(0.0, recipe.max_share + 1e-9, recipe.share_step), 4)
    return float(max(shares, key=lambda s: np.mean(mix(cnn, trees, where, s).argmax(axis=1) == targets)))


def cross_fitted(cnn: np.ndarray, trees: np.ndarray, where: np.ndarray, targets: np.ndarray,
                 recipe: GeometryRecipe) -> tuple[np.ndarray, list[float]]:
    """Which faces the mix gets right with the share chosen on one seeded random half of them and
    scored on the other, and the reverse; and the two shares chosen."""
    order = np.random.default_rng(recipe.seed).permutation(len(targets))
    halves = (order[: len(order) // 2], order[len(order) // 2:])
    right = np.zeros(len(order), dtype=bool)
    chosen = []
    for choose, score in (halves, halves[::-1]):
        share = best_share(cnn[choose], trees[choose], where[choose], targets[choose], recipe)
        chosen.append(share)
        right[score] = mix(cnn[score], trees[score], where[score], share).argmax(axis=1) == targets[score]
    return right, chosen


class Part:
    """One split's faces: targets, landmark features, and the face model's probabilities."""

    def __init__(self, name: str, samples: list[FaceSample], targets: np.ndarray, face: FaceModel, log):
        self.name, self.targets = name, np.asarray(targets)
        log(f"{name}: landmarks of {len(samples)} faces (about 10 ms each unless cached)")
        step = max(1, len(samples) // 10)

        def progress(done: int, total: int) -> None:  # a line per tenth: minutes when nothing is cached
            if done and (done % step == 0 or done == total):
                log(f"  {name}: {done} of {total} faces")

        self.features = np.asarray(landmark_array(samples, progress))
        self.found = found_faces(self.features)
        self.samples = samples
        self.face = face
        self._cnn = None

    def cnn(self) -> np.ndarray:
        """The face model's calibrated probabilities (computed on first use)."""
        if self._cnn is None:
            logits, _ = predict_logits(self.face.network, _faces(self.name, self.samples, self.targets,
                                                                 self.face.transform, None))
            self._cnn = calibrated(logits, self.face.temperature)
        return self._cnn


class GeometryTraining(Training):
    kind, title, unit = KIND, TITLE, "images"

    def __init__(self, parts: dict[str, Part], face: FaceModel, recipe: GeometryRecipe, summary: str):
        self.data, self.face, self.recipe, self.summary = parts, face, recipe, summary
        self.parts = tuple(p for p in ("validation", "test") if p in parts)
        self.facts = {"split": "the dataset's splits: " + ", ".join(f"{p} {SPLITS[p]!r}" for p in parts),
                      "face_sha256": face.sha256,
                      "found": {p: round(float(part.found.mean()), 4) for p, part in parts.items()},
                      "calibration_data": "the validation faces the landmarker found"}

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        from sklearn.ensemble import HistGradientBoostingClassifier

        train = self.data["train"]
        started = time.monotonic()
        r = self.recipe
        log(f"fitting trees on {int(train.found.sum())} of {len(train.targets)} train faces with landmarks")
        classifier = HistGradientBoostingClassifier(
            max_iter=r.max_iter, learning_rate=r.learning_rate, l2_regularization=r.l2_regularization,
            max_leaf_nodes=r.max_leaf_nodes, early_stopping=True, random_state=r.seed)
        classifier.fit(train.features[train.found], train.targets[train.found])
        if list(classifier.classes_) != list(range(len(EMOTIONS))):
            raise DatasetError("The training faces with landmarks do not cover all seven emotions.")
        minutes = round((time.monotonic() - started) / 60, 1)
        return Fitted(FaceGeometry.from_classifier(classifier), {
            "rounds": int(classifier.n_iter_), "train_faces_found": int(train.found.sum()),
            "training_minutes": minutes,
            "training_note": (f"Training: one fit of {classifier.n_iter_} boosting rounds (early-stopped on a "
                              f"seeded tenth of the train faces), {minutes} min on {training_machine()}, "
                              "after landmark extraction.")})

    def scores(self, network: FaceGeometry, part: str) -> tuple[np.ndarray, np.ndarray]:
        data = self.data[part]
        return network.logits(data.features[data.found]), data.targets[data.found]

    def model(self, network: FaceGeometry, temperature: float) -> FaceGeometry:
        """The trees calibrated, with their share chosen on validation against the face model."""
        network.temperature = temperature
        validation = self.data["validation"]
        network.share = best_share(validation.cnn(), self.trees(network, validation), validation.found,
                                   validation.targets, self.recipe)
        network.face_sha256 = self.face.sha256
        return network

    @staticmethod
    def trees(network: FaceGeometry, part: Part) -> np.ndarray:
        out = np.zeros((len(part.targets), len(EMOTIONS)))
        out[part.found] = network.predict(part.features[part.found])
        return out

    def findings(self, model: FaceGeometry, scores, metrics) -> dict:
        """Per part: the face model alone and with the trees mixed in at the chosen share; on
        validation also with the share cross-fitted on its halves."""
        mixed, scored = {}, {}
        for name in self.parts:
            part = self.data[name]
            cnn, trees = scored[name] = part.cnn(), self.trees(model, part)
            alone = cnn.argmax(axis=1) == part.targets
            right = mix(cnn, trees, part.found, model.share).argmax(axis=1) == part.targets
            mixed[name] = {"faces": len(part.targets), "face_model_accuracy": float(alone.mean()),
                           "mixed_accuracy": float(right.mean()), "gained": int(np.sum(right & ~alone)),
                           "lost": int(np.sum(alone & ~right))}
        validation = self.data["validation"]
        right, chosen = cross_fitted(*scored["validation"], validation.found, validation.targets, self.recipe)
        mixed["validation"]["cross_fitted_accuracy"] = float(right.mean())
        mixed["validation"]["cross_fitted_shares"] = chosen
        return {"share": model.share, "mixed": mixed}

    def caption(self, part: str) -> str:
        return f"{part} faces with landmarks"

    def card(self, out: Path, metrics: dict, command: str) -> str:
        about = [f"File `{out.name}`: {metrics['rounds']} boosting rounds x 7 classes of trees as arrays "
                 "(no pickle), read with numpy.",
                 "Input: the landmarker's 478 landmarks (relative to the face box) and 52 blendshapes of a "
                 "face (`face.transform.landmark_features`); a dataset's faces are scaled to 144 px on a "
                 "256 px canvas of replicated borders first.",
                 "", "## In the face branch", "",
                 f"The face branch gives (1 - {metrics['share']:.2f}) x the face model + {metrics['share']:.2f} x "
                 f"these trees for every face with landmarks (share chosen on validation), where the face "
                 f"model is the one whose sha256 is `{metrics['face_sha256'][:12]}…` (the shipped one when "
                 "trained); with any other face model the trees are not used.", "",
                 "| part | faces | face model alone | with the trees | gained / lost |", "|---|---|---|---|---|"]
        for name, m in metrics["mixed"].items():
            about.append(f"| {name} | {m['faces']} | {m['face_model_accuracy']:.4f} | **{m['mixed_accuracy']:.4f}** "
                         f"| {m['gained']} / {m['lost']} |")
        v = metrics["mixed"]["validation"]
        about += ["", f"With the share chosen on one random half of the validation faces and scored on the "
                      f"other (and the reverse; shares {', '.join(f'{s:.2f}' for s in v['cross_fitted_shares'])}): "
                      f"**{v['cross_fitted_accuracy']:.4f}**. Faces the landmarker found: "
                  + ", ".join(f"{p} {share:.1%}" for p, share in metrics["found"].items())
                  + ". The metrics below are the trees alone, on the faces with landmarks."]
        split = [f"Split: {metrics['split']}. Validation chose the tree settings, the temperature and the "
                 "share, so it is not a held-out figure."]
        return model_card(TITLE, about, self.summary, split, metrics,
                          {"validation": "the validation faces with landmarks",
                           "test": "the test faces with landmarks"}, "images", command,
                          recipe="Recipe: `recipe.json` in this folder.")


def geometry_parts(data: Path, face: FaceModel, log) -> tuple[dict[str, Part], str]:
    dataset = scan_face_dataset(data)
    parts = {}
    for name, split in SPLITS.items():
        kept, targets = face.label_set.keep([s for s in dataset.samples if s.split == split])
        if kept:
            parts[name] = Part(name, kept, targets, face, log)
    if "train" not in parts or "validation" not in parts:
        raise DatasetError(f"{data} needs a 'train' and a 'test' split (FER2013's layout) to train the trees.")
    return parts, dataset.summary()


def train_geometry(data: Path, recipe: GeometryRecipe, out: Path, command: str, log=print) -> dict:
    """Fit the trees on ``data``'s train split, calibrate and choose their share on its test split
    (against the shipped face model); write them, ``metrics.json``, the confusion plots and the card."""
    face = FaceModel.load()
    parts, summary = geometry_parts(Path(data), face, log)
    return run_training(GeometryTraining(parts, face, recipe, summary), out, command, log=log)


def evaluate_geometry(data: Path, weights: Path | None = None, split: str | None = None) -> dict:
    """The evaluate JSON of the trees alone on ``data``'s faces with landmarks (``split``: only
    that split); the face branch as shipped is ``evaluate --model face``."""
    model = FaceGeometry.load(weights)
    samples = [s for s in scan_face_dataset(data).samples if split is None or s.split == split]
    targets = np.array([EMOTIONS.index(s.emotion) for s in samples if s.emotion in EMOTIONS])
    samples = [s for s in samples if s.emotion in EMOTIONS]
    if not samples:
        raise DatasetError(f"No face of {data}{f' in split {split!r}' if split else ''} has one of the seven emotions.")
    features = np.asarray(landmark_array(samples))
    where = found_faces(features)
    if not where.any():
        raise DatasetError(f"The landmarker found no face in {data}.")
    report = evaluation_report(KIND, model.sha256, EMOTIONS, targets[where], model.predict(features[where]))
    report["found"] = float(where.mean())
    return report
