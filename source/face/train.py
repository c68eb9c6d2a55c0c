"""Training, evaluating and preprocessing the face model (the recipe side; inference is model.py).

Face crops are prepared once per dataset and size (grayscale uint8, cached on disk); each epoch
augments them afresh (Albumentations, seeded per image and epoch). With landmark features on,
MediaPipe runs once per image and its features are cached beside the crops.
"""

import json
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..datasets.faces import FaceSample, scan_face_dataset, scan_face_videos
from ..errors import DatasetError, StudioError
from ..labels import get_label_set
from ..nets import EmotionNet, EnsembleNet, HeadOptions, load_imagenet_weights
from ..training.cache import cached_array, cached_rows, default_workers, file_identity
from ..training.ensemble import MEMBER_RECIPES, EnsembleTraining, load_members
from ..training.flow import EpochTraining, PreparedData, run_training
from ..training.metrics import calibrated, calibrated_report
from ..training.recipes import recipe_from_dict, recipe_to_dict
from ..training.reports import model_card
from ..training.trainer import EpochReport, TrainOptions, predict_logits
from .augment import FaceAugment, SeededAugment
from .model import KIND, FaceModel
from .photos import photo_face_samples
from .transform import N_LANDMARK_FEATURES, FaceTransform
from .video import video_face_samples

_PARTS = {"validation": "the validation split", "test": "the test split"}  # model card headings


@dataclass(frozen=True)
class FaceDataRecipe:
    """What every face-image model trains on: the data, its split, crops and augmentation."""

    test_time_flip: bool = True  # predictions average the face and its mirror image
    label_set: str = "7class"
    transform: FaceTransform = FaceTransform()
    augment: FaceAugment | None = FaceAugment()
    corpus: str | None = None  # None: every corpus found under the data folder
    # the dataset's own splits (FER2013: train, test = PublicTest, private = PrivateTest)
    train_split: str = "train"
    validation_split: str = "test"  # best epoch, early stopping, temperature
    test_split: str = "private"  # reported only, when present
    # a dataset without those splits is split by subject: this share of subjects validates
    validation_fraction: float = 0.2


@dataclass(frozen=True)
class FaceRecipe(FaceDataRecipe):
    backbone: str = "mobilenet_v2"
    imagenet: bool = True  # start from ImageNet weights (offline, mobilenet_v2 only)
    # or start from a trained face model file of the same network, e.g. to fine-tune a model
    # trained on small crops at a larger crop size (its sha256 joins the run's identity)
    start_weights: str | None = None
    head: HeadOptions = HeadOptions()
    train: TrainOptions = TrainOptions(epochs=30, batch_size=64, lr_patience=2, early_stopping=6,
                                       class_weights=False, label_smoothing=0.1, time_limit_min=85)


def _source_identity(sample: FaceSample) -> list:
    path, _, row = sample.source.partition("#")
    return file_identity(Path(path)) + [row]


def face_samples(data: Path, transform: FaceTransform,
                 progress: Callable[[str, int, int], None] | None = None) -> tuple[list[FaceSample], str]:
    """Every face sample under ``data`` (face images, the largest face of photos, and frames of
    labelled videos), and a summary."""
    clips, skipped = scan_face_videos(data)
    try:
        dataset = scan_face_dataset(data)
        samples, note = photo_face_samples(list(dataset.samples), transform,
                                           progress and (lambda d, t: progress("faces in photos", d, t)))
        summary = dataset.summary() + (f"\n{note}" if note else "")
    except DatasetError:
        if not clips:
            raise
        samples, summary = [], str(data)
    if clips:
        frames = video_face_samples(clips, transform,
                                    progress=progress and (lambda d, t: progress("video frames", d, t)))
        corpora = Counter(clip.corpus for clip in clips)
        summary += (f"\n{len(clips)} labelled videos ({', '.join(f'{c} {n}' for c, n in corpora.items())}; "
                    f"{len(skipped)} skipped) -> {len(frames)} face frames: "
                    + ", ".join(f"{e} {n}" for e, n in sorted(Counter(f.emotion for f in frames).items())))
        samples += frames
    return samples, summary


def _crop(job: tuple) -> np.ndarray:
    sample, transform = job
    return transform.prepare(sample.image())


def face_crops(samples: list[FaceSample], transform: FaceTransform,
               progress: Callable[[int, int], None] | None = None,
               workers: int | None = None) -> np.ndarray:
    """(images, size, size) uint8, the transform's grayscale squares, from the cache or computed
    (``workers`` processes, default one per core up to 8); an interrupted run keeps its crops."""
    key = {"size": transform.size, "files": [_source_identity(s) for s in samples]}
    jobs = [(sample, transform) for sample in samples]
    return cached_rows("faces", key, jobs, _crop, (transform.size, transform.size), np.uint8,
                       workers or default_workers(), progress)


def landmark_array(samples: list[FaceSample], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(images, 1486) float32 landmark features: those found with the face where it was cut from a
    photo or a video frame (``FaceSample.landmarks``), else ``geometry.dataset_face_features`` of
    the image; zeros where MediaPipe finds no face."""
    from .geometry import CANVAS_PX, FACE_PX, dataset_face_features

    key = {"canvas": (FACE_PX, CANVAS_PX), "files": [_source_identity(s) for s in samples]}
    carried = [i for i, s in enumerate(samples) if s.landmarks is not None]
    if carried:  # those rows are the landmarks found with the face, not the canvas pass's
        key["carried"] = carried

    def compute() -> np.ndarray:
        from .landmarker import FaceLandmarker  # MediaPipe loads only when landmarks are used

        out = np.zeros((len(samples), N_LANDMARK_FEATURES), dtype=np.float32)
        if progress:
            progress(0, len(samples))  # nothing was cached: every image is looked at
        with FaceLandmarker(video=False, small_faces=False) as landmarker:
            for i, sample in enumerate(samples):
                out[i] = (sample.landmarks if sample.landmarks is not None  # found with the face
                          else np.nan_to_num(dataset_face_features(sample.image(), landmarker), nan=0.0))
                if progress:
                    progress(i + 1, len(samples))
        if not out.any():
            raise DatasetError("MediaPipe found no face in any image: landmark features cannot be built.")
        return out

    return cached_array("landmarks", key, compute)


class CachedFaces(Dataset):
    """Cached crops (and landmark features), augmented per epoch when ``augment`` is given."""

    def __init__(self, crops: np.ndarray, targets: np.ndarray, transform: FaceTransform,
                 extras: np.ndarray | None = None, augment: FaceAugment | None = None, seed: int = 0):
        self.crops = crops
        self.targets = targets
        self.transform = transform
        self.extras = extras
        self.augment = SeededAugment(augment, seed) if augment is not None else None
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        crop = np.asarray(self.crops[index])
        if self.augment is not None:
            crop = self.augment(crop, self.epoch, index)
        image = torch.from_numpy(self.transform.normalize(crop))
        if self.extras is None:
            return image, int(self.targets[index])
        # landmarks describe the unaugmented face: flipping would also need mirrored point ids
        return (image, torch.from_numpy(self.extras[index].astype(np.float32))), int(self.targets[index])


@dataclass
class FaceSplit:
    train: list[FaceSample]
    validation: list[FaceSample]
    test: list[FaceSample] = field(default_factory=list)
    how: str = ""


def split_samples(samples: list[FaceSample], recipe: FaceRecipe) -> FaceSplit:
    """The dataset's own train/validation/test splits, or else a seeded split by subject."""
    by_split = {name: [s for s in samples if s.split == name]
                for name in (recipe.train_split, recipe.validation_split, recipe.test_split)}
    if by_split[recipe.train_split] and by_split[recipe.validation_split]:
        return FaceSplit(by_split[recipe.train_split], by_split[recipe.validation_split],
                         by_split[recipe.test_split],
                         f"the dataset's splits: train {recipe.train_split!r}, validation "
                         f"{recipe.validation_split!r}, test {recipe.test_split!r}")
    subjects = sorted({s.subject for s in samples})
    rng = np.random.default_rng(recipe.train.seed)
    held = set(rng.permutation(subjects)[:max(1, round(len(subjects) * recipe.validation_fraction))])
    train = [s for s in samples if s.subject not in held]
    validation = [s for s in samples if s.subject in held]
    if not train or not validation:
        raise DatasetError(f"A subject split needs subjects on both sides: {len(subjects)} subjects.")
    return FaceSplit(train, validation, [],
                     f"by subject (seed {recipe.train.seed}): {len(held)} of {len(subjects)} "
                     "subjects validate")


def fingerprint(recipe: FaceRecipe, split: FaceSplit) -> str:
    """What the run trains: the recipe but its training options (the trainer checks those) and
    inference-only settings, and the data."""
    parts = {"recipe": {k: v for k, v in recipe_to_dict(recipe).items()
                        if k not in ("train", "test_time_flip")},
             "data": [[s.source, s.emotion] for s in split.train + split.validation]}
    if isinstance(getattr(recipe, "augment", None), FaceAugment):  # video changes that are off: no part of it
        parts["recipe"]["augment"] = recipe.augment.identity()
    if getattr(recipe, "start_weights", None):  # (image_vit's recipe has none)
        parts["start"] = FaceModel.load(recipe.start_weights).sha256
    return str(zlib.crc32(json.dumps(parts, sort_keys=True, default=str).encode()))


def build_network(recipe: FaceRecipe) -> EmotionNet:
    torch.manual_seed(recipe.train.seed)
    network = EmotionNet(recipe.backbone, len(get_label_set(recipe.label_set).labels), recipe.head,
                         recipe.transform.extra_features, recipe.test_time_flip)
    if recipe.start_weights:
        start = FaceModel.load(recipe.start_weights).network
        if isinstance(start, EnsembleNet):
            raise StudioError(f"{recipe.start_weights} is an ensemble: start from one of its members' "
                              "files (its model card lists them).")
        if _shape(start.config()) != _shape(network.config()):
            raise StudioError(f"{recipe.start_weights} holds another network ({start.config()}), not this "
                              f"recipe's ({network.config()}): start_weights must match backbone, head and labels.")
        network.load_state_dict(start.state_dict())
    elif recipe.imagenet:
        load_imagenet_weights(network.backbone, recipe.backbone)
    return network


def _shape(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "flip_average"}


def _faces(part: str, samples: list[FaceSample], targets: np.ndarray, transform: FaceTransform,
           progress, augment: FaceAugment | None = None, seed: int = 0,
           workers: int | None = None) -> CachedFaces:
    crops = face_crops(samples, transform, progress and (lambda d, t: progress(f"face crops ({part})", d, t)),
                       workers)
    extras = (landmark_array(samples, progress and (lambda d, t: progress(f"landmarks ({part})", d, t)))
              if transform.landmarks else None)
    return CachedFaces(crops, targets, transform, extras, augment, seed)


def prepare_faces(data: Path, recipe: FaceRecipe,
                  on_features: Callable[[str, int, int], None] | None = None,
                  workers: int | None = None, log: Callable[[str], None] = print) -> PreparedData:
    """Scan ``data``, split it and compute (or reuse) every part's crops (and landmarks)."""
    samples, summary = face_samples(data, recipe.transform, on_features)
    log(summary)
    samples = [s for s in samples if recipe.corpus in (None, s.corpus)]
    split = split_samples(samples, recipe)
    label_set = get_label_set(recipe.label_set)
    parts = {name: label_set.keep(getattr(split, name)) for name in ("train", "validation", "test")}
    log(f"split {split.how}: train {len(parts['train'][0])}, validation {len(parts['validation'][0])}, "
        f"test {len(parts['test'][0])} images")

    def faces(name: str, augment: FaceAugment | None = None) -> CachedFaces:
        kept, targets = parts[name]
        return _faces(name, kept, targets, recipe.transform, on_features, augment, recipe.train.seed,
                      workers)

    return PreparedData(summary, split, faces("train", recipe.augment), faces("validation"),
                         faces("test") if parts["test"][0] else None)


def _face_card(recipe: FaceRecipe) -> tuple[str, list[str]]:
    start = (f"the face model `{Path(recipe.start_weights).name}` (sha256 "
             f"{FaceModel.load(recipe.start_weights).sha256})" if recipe.start_weights
             else "ImageNet weights" if recipe.imagenet else "random initialisation")
    return (f"Face emotion model: {recipe.backbone} on {recipe.transform.size}px face crops",
            [f"Start: {start}."
             + (" Predictions average the face and its mirror image." if recipe.test_time_flip else "")])


class FaceTraining(EpochTraining):
    """A face-image model (``model_class``) trained on prepared faces, its network built by
    ``build(recipe)``, its card's title and lines from ``card(recipe)``."""

    unit = "images"

    def __init__(self, prepared: PreparedData, recipe: FaceRecipe, model_class: type[FaceModel],
                 build: Callable, card: Callable):
        self.prepared, self.recipe, self.model_class, self.build, self.card_text = (
            prepared, recipe, model_class, build, card)
        self.kind = model_class.KIND
        self.title = f"{self.kind} model"
        self.label_set = get_label_set(recipe.label_set)
        self.n_classes = len(self.label_set.labels)
        self.options, self.fingerprint = recipe.train, fingerprint(recipe, prepared.split)
        self.datasets = {"train": prepared.train, "validation": prepared.validation, "test": prepared.test}
        self.facts = {"split": prepared.split.how,
                      "sizes": {"train": len(prepared.train), "validation": len(prepared.validation),
                                "test": len(prepared.test) if prepared.test else 0}}

    def network(self) -> EmotionNet:
        return self.build(self.recipe)

    def model(self, network, temperature: float) -> FaceModel:
        return self.model_class(network, self.recipe.transform, self.label_set, temperature)

    def card(self, out: Path, metrics: dict, command: str) -> str:
        title, about = self.card_text(self.recipe)
        return model_card(
            title,
            [f"File `{out.name}`, labels: {', '.join(self.label_set.labels)} ({self.recipe.label_set}).",
             f"Input: the face transform stored in the file: {self.recipe.transform.to_dict()}.", *about],
            self.prepared.summary, [f"Split: {self.prepared.split.how}."], metrics, _PARTS, "images",
            command or f"python run.py train --model {self.kind} --data DIR")


def train_face(data: Path, recipe: FaceRecipe, out: Path, run_dir: Path | None = None,
               fresh: bool = False, command: str = "",
               on_features: Callable[[str, int, int], None] | None = None,
               on_epoch: Callable[[EpochReport], None] | None = None,
               log: Callable[[str], None] = print, model_class: type[FaceModel] = FaceModel,
               build: Callable = build_network, card: Callable = _face_card) -> dict:
    """Train on ``data``, calibrate on validation, test on the test split, write ``out``.

    Writes the weights file, ``metrics.json``, ``recipe.json``, confusion-matrix PNGs and the
    model card beside it, the run reports in the run folder, and returns the metrics. Another
    face-image model (``model_class``) brings its network (``build(recipe)``) and its card's
    title and lines (``card(recipe)``).
    """
    prepared = prepare_faces(data, recipe, on_features, log=log)
    return run_training(FaceTraining(prepared, recipe, model_class, build, card), out, command, run_dir, fresh,
                        on_epoch, log)


class FaceEnsembleTraining(EnsembleTraining):
    """Trained face models joined, scored on the validation and test images of their split."""

    kind, title, unit = KIND, "face ensemble", "images"

    def __init__(self, paths: list[Path], saved: list[dict], models: list[FaceModel], split: FaceSplit,
                 summary: str, on_features: Callable[[str, int, int], None] | None):
        super().__init__(paths, saved, models, "face models")
        self.split, self.summary, self.on_features = split, summary, on_features
        self.facts = {"split": split.how}
        self.parts = ("validation", "test") if split.test else ("validation",)

    def scores(self, network, part):
        first = self.models[0]
        kept, targets = first.label_set.keep(getattr(self.split, part))
        return predict_logits(network, _faces(part, kept, targets, first.transform, self.on_features))

    def card(self, out: Path, metrics: dict, command: str) -> str:
        return model_card(
            f"Face emotion model: an ensemble of {len(self.models)} CNNs on {self.models[0].transform.size}px "
            "face crops", self.about(out, metrics, "face transform"), self.summary, [f"Split: {self.split.how}."],
            metrics, _PARTS, "images",
            command or "python run.py ensemble --model face --data DIR --members A.pt B.pt", MEMBER_RECIPES)


def ensemble_face(data: Path, members: list[Path], out: Path, command: str = "",
                  on_features: Callable[[str, int, int], None] | None = None,
                  log: Callable[[str], None] = print) -> dict:
    """Join trained face models into one that averages their calibrated probabilities.

    The members must share the face transform (crop size, detail, landmarks), the labels and the
    split of ``data`` they were trained on: the ensemble's temperature is fitted on their
    validation images and it is reported on their test images. Writes ``out``, its metrics,
    confusion matrices and card.
    """
    saved, models = load_members(members, FaceModel, "face transform", "split")
    first = models[0]
    if "recipe" not in saved[0]:
        raise StudioError(f"{members[0]} does not record its recipe (its split): train members "
                          "with `run.py train --model face`.")
    recipe = recipe_from_dict(FaceRecipe, saved[0]["recipe"])
    samples, summary = face_samples(data, first.transform, on_features)
    log(summary)
    split = split_samples([s for s in samples if recipe.corpus in (None, s.corpus)], recipe)
    if split.how != first.metrics.get("split"):
        raise StudioError(f"{data} splits as {split.how}, not as the members were trained "
                          f"({first.metrics.get('split')}): give the dataset they were trained on.")
    return run_training(FaceEnsembleTraining(members, saved, models, split, summary, on_features), out, command,
                        log=log)


def evaluate_face(data: Path, weights: Path | None = None, split: str | None = None,
                  log: Callable[[str], None] = print,
                  on_features: Callable[[str, int, int], None] | None = None,
                  model_class: type[FaceModel] = FaceModel) -> dict:
    """The evaluate JSON for the ``model_class`` model in ``weights`` (default: shipped) on
    ``data`` (every image, or those of the dataset's ``split``)."""
    model = model_class.load(weights)
    samples, summary = face_samples(data, model.transform, on_features)
    log(summary)
    if split is not None:
        splits = sorted({s.split for s in samples if s.split})
        samples = [s for s in samples if s.split == split]
        if not samples:
            raise DatasetError(f"No image of {data} is in the split {split!r}; it has "
                               f"{', '.join(splits) or 'no splits'}.")
    kept, targets = model.label_set.keep(samples)
    if not kept:
        raise DatasetError(f"No image in {data} has an emotion the model knows ({', '.join(model.labels)}).")
    if len(kept) < len(samples):
        log(f"{len(samples) - len(kept)} image(s) have emotions outside the model's labels and are left out.")
    logits, _ = predict_logits(model.network, _faces("evaluate", kept, targets, model.transform, on_features))
    if model.geometry is None:
        return calibrated_report(model_class.KIND, model.sha256, model.labels, logits, targets, model.temperature)
    from .geometry import found_faces

    # the face branch as it runs: the geometry trees mixed in where the landmarker finds the face
    features = np.asarray(landmark_array(kept, on_features and (lambda d, t: on_features("landmarks", d, t))))
    mixed = model.geometry.mixed(calibrated(logits, model.temperature), features)
    report = calibrated_report(model_class.KIND, model.sha256, model.labels, np.log(np.maximum(mixed, 1e-12)),
                               targets, 1.0)
    report["geometry"] = {"sha256": model.geometry.sha256, "share": model.geometry.share,
                          "found": float(np.mean(found_faces(features)))}
    return report
