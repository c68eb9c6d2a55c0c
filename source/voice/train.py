"""Training, evaluating and preprocessing the voice model (the recipe side; inference is model.py).

Features are computed once per dataset and setting: the clean MFCCs of every clip, and for
training clips ``augmented_copies`` waveform-augmented versions; each epoch then shows every
training clip as one of its versions, with fresh SpecAugment masks.
"""

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..datasets.speech import SpeechSample, scan_speech_dataset, speaker_split
from ..errors import DatasetError, StudioError
from ..labels import get_label_set
from ..media.decode import read_audio
from ..nets import EmotionNet, HeadOptions, load_imagenet_weights
from ..training.cache import cached_rows, default_workers, file_identity
from ..training.ensemble import MEMBER_RECIPES, EnsembleTraining, load_members
from ..training.flow import EpochTraining, PreparedData, run_training
from ..training.metrics import calibrated_report
from ..training.recipes import recipe_to_dict
from ..training.reports import model_card
from ..training.trainer import EpochReport, TrainOptions, predict_logits
from .augment import SpecAugment, WaveAugment
from .features import MfccTransform
from .model import KIND, VoiceModel

MAX_CLIP_S = 30.0  # dataset clips are a few seconds; longer files are read only this far


@dataclass(frozen=True)
class VoiceRecipe:
    backbone: str = "resnet18"
    # start from ImageNet weights (offline, mobilenet_v2 only): pretrained edge and texture
    # filters also help on MFCC maps, which are small images
    imagenet: bool = False
    head: HeadOptions = HeadOptions()
    label_set: str = "7class"
    transform: MfccTransform = MfccTransform()
    augment: WaveAugment | None = WaveAugment()
    augmented_copies: int = 4  # cached augmented versions of each training clip
    spec_augment: SpecAugment | None = SpecAugment()
    train: TrainOptions = TrainOptions()
    corpus: str | None = None  # None: every corpus found under the data folder
    # speakers held out for validation (model selection, early stopping, calibration); when
    # empty, ``validation_fraction`` of each corpus's speakers are drawn with the seed
    validation_speakers: tuple[str, ...] = ()
    validation_fraction: float = 0.2
    # speakers kept out of training and validation, only reported (an honest test split)
    test_speakers: tuple[str, ...] = ()


class CachedClips(Dataset):
    """Cached MFCC versions (clips, versions, 3, frames, n_mfcc) and targets.

    Version 0 is the clean clip; each epoch a seeded draw picks one version per clip.
    """

    def __init__(self, versions: np.ndarray, targets: np.ndarray, seed: int = 0):
        self.versions = versions
        self.targets = targets
        self.seed = seed
        self.chosen = np.zeros(len(targets), dtype=np.int64)

    def set_epoch(self, epoch: int) -> None:
        rng = np.random.default_rng([self.seed, epoch])
        self.chosen = rng.integers(0, self.versions.shape[1], len(self.targets))

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        x = torch.from_numpy(np.asarray(self.versions[index, self.chosen[index]], dtype=np.float32))
        return x, int(self.targets[index])


def _clip_versions(job: tuple) -> np.ndarray:
    path, transform, augment, copies = job
    clip = read_audio(path, MAX_CLIP_S)
    versions = [transform(clip)]
    seed = zlib.crc32(path.name.encode())  # stable per file, whatever folder it is in
    versions += [transform(augment.variant(clip, seed * 1000 + copy)) for copy in range(copies)]
    return np.stack(versions).astype(np.float16)


def clip_features(samples: list[SpeechSample], transform: MfccTransform,
                  augment: WaveAugment | None = None, copies: int = 0,
                  progress: Callable[[int, int], None] | None = None,
                  workers: int | None = None) -> np.ndarray:
    """(clips, 1 + copies, 3, frames, n_mfcc) float16, from the cache or computed in parallel
    (``workers`` processes, default one per core up to 8); an interrupted run keeps its clips."""
    copies = copies if augment is not None else 0
    key = {"transform": transform.to_dict(), "augment": augment.to_dict() if augment else None,
           "copies": copies, "files": [file_identity(s.path) for s in samples]}
    jobs = [(s.path, transform, augment, copies) for s in samples]
    return cached_rows("mfcc", key, jobs, _clip_versions, (1 + copies, *transform.output_shape),
                       np.float16, workers or default_workers(), progress)


@dataclass
class VoiceSplit:
    train: list[SpeechSample]
    validation: list[SpeechSample]
    test: list[SpeechSample] = field(default_factory=list)

    def speakers(self, part: str) -> list[str]:
        return sorted({s.speaker for s in getattr(self, part)})


def split_samples(samples: list[SpeechSample], recipe: VoiceRecipe) -> VoiceSplit:
    test: list[SpeechSample] = []
    if recipe.test_speakers:
        samples, test = speaker_split(samples, recipe.test_speakers)
    train, validation = speaker_split(samples, recipe.validation_speakers or None,
                                      recipe.validation_fraction, recipe.train.seed)
    return VoiceSplit(train, validation, test)


def fingerprint(recipe: VoiceRecipe, split: VoiceSplit) -> str:
    """What the run trains: the recipe but its training options (the trainer checks those) and data."""
    parts = {"recipe": {k: v for k, v in recipe_to_dict(recipe).items() if k != "train"},
             "data": [[str(s.path), s.emotion] for s in split.train + split.validation]}
    return str(zlib.crc32(json.dumps(parts, sort_keys=True, default=str).encode()))


def prepare_voice(data: Path, recipe: VoiceRecipe,
                  on_features: Callable[[str, int, int], None] | None = None,
                  workers: int | None = None, log: Callable[[str], None] = print) -> PreparedData:
    """Scan ``data``, split it by speaker and compute (or reuse) every part's features."""
    dataset = scan_speech_dataset(data, recipe.corpus)
    log(dataset.summary())
    label_set = get_label_set(recipe.label_set)
    samples, _ = label_set.keep(list(dataset.samples))
    split = split_samples(samples, recipe)
    log(f"split by speaker: train {len(split.train)} clips ({len(split.speakers('train'))} speakers), "
        f"validation {len(split.validation)} ({', '.join(split.speakers('validation'))}), "
        f"test {len(split.test)} ({', '.join(split.speakers('test')) or 'none'})")

    def clips(name: str, part: list[SpeechSample], augmented: bool, seed: int = 0) -> CachedClips:
        kept, targets = label_set.keep(part)
        progress = (lambda done, total: on_features(name, done, total)) if on_features else None
        features = (clip_features(kept, recipe.transform, recipe.augment, recipe.augmented_copies,
                                  progress, workers) if augmented
                    else clip_features(kept, recipe.transform, progress=progress, workers=workers))
        return CachedClips(features, targets, seed)

    return PreparedData(
        dataset.summary(), split,
        clips("features (train, augmented)", split.train, True, recipe.train.seed),
        clips("features (validation)", split.validation, False),
        clips("features (test)", split.test, False) if split.test else None)


class VoiceTraining(EpochTraining):
    """The MFCC voice model trained on prepared clips, SpecAugment on its training batches."""

    kind, title, unit = KIND, "voice model", "clips"

    def __init__(self, prepared: PreparedData, recipe: VoiceRecipe):
        self.prepared, self.recipe = prepared, recipe
        self.label_set = get_label_set(recipe.label_set)
        self.n_classes = len(self.label_set.labels)
        self.options, self.fingerprint = recipe.train, fingerprint(recipe, prepared.split)
        self.batch_transform = recipe.spec_augment
        self.datasets = {"train": prepared.train, "validation": prepared.validation, "test": prepared.test}
        self.facts = {"split": {part: prepared.split.speakers(part) for part in ("train", "validation", "test")}}

    def network(self) -> EmotionNet:
        torch.manual_seed(self.recipe.train.seed)
        network = EmotionNet(self.recipe.backbone, self.n_classes, self.recipe.head)
        if self.recipe.imagenet:
            load_imagenet_weights(network.backbone, self.recipe.backbone)
        return network

    def model(self, network, temperature: float) -> VoiceModel:
        return VoiceModel(network, self.recipe.transform, self.label_set, temperature)

    def card(self, out: Path, metrics: dict, command: str) -> str:
        recipe = self.recipe
        return model_card(
            f"Voice emotion model: {recipe.backbone} on MFCCs",
            [f"File `{out.name}`, labels: {', '.join(self.label_set.labels)} ({recipe.label_set}).",
             f"Input: the MFCC transform stored in the file: {recipe.transform.to_dict()}.",
             f"Start: {'ImageNet weights' if recipe.imagenet else 'random initialisation'}."],
            self.prepared.summary, _split_lines(metrics["split"]), metrics, _PARTS, "clips",
            command or "python run.py train --model voice_mfcc --data DIR")


def train_voice(data: Path, recipe: VoiceRecipe, out: Path, run_dir: Path | None = None,
                fresh: bool = False, command: str = "",
                on_features: Callable[[str, int, int], None] | None = None,
                on_epoch: Callable[[EpochReport], None] | None = None,
                log: Callable[[str], None] = print) -> dict:
    """Train on ``data``, calibrate on validation, test on test speakers, write ``out``.

    Writes the weights file, ``metrics.json`` and confusion-matrix PNGs beside it, the run
    reports in the run folder, and returns the metrics.
    """
    prepared = prepare_voice(data, recipe, on_features, log=log)
    return run_training(VoiceTraining(prepared, recipe), out, command, run_dir, fresh, on_epoch, log)


_PARTS = {"test": "the test speakers", "validation": "the validation speakers"}


def _split_lines(split: dict) -> list[str]:
    return ["Split by speaker, never by clip.",
            f"- train speakers: {', '.join(split['train'])}",
            f"- validation speakers (best epoch, early stopping, temperature): {', '.join(split['validation'])}",
            f"- test speakers (reported only, never used for any choice): {', '.join(split['test']) or 'none'}"]


def evaluate_voice(data: Path, weights: Path | None = None, speakers: tuple[str, ...] = (),
                   log: Callable[[str], None] = print,
                   on_features: Callable[[str, int, int], None] | None = None) -> dict:
    """The evaluate JSON for the model in ``weights`` (default: shipped) on every clip in ``data``."""
    model = VoiceModel.load(weights)
    dataset = scan_speech_dataset(data)
    log(dataset.summary())
    samples = list(dataset.samples)
    if speakers:
        _, samples = speaker_split(samples, speakers)
    kept, targets = model.label_set.keep(samples)
    if not kept:
        raise DatasetError(f"No clip in {data} has an emotion the model knows ({', '.join(model.labels)}).")
    if len(kept) < len(samples):
        log(f"{len(samples) - len(kept)} clip(s) have emotions outside the model's labels and are left out.")
    features = clip_features(kept, model.transform,
                             progress=on_features and (lambda done, total: on_features("features", done, total)))
    logits, _ = predict_logits(model.network, CachedClips(features, targets))
    return calibrated_report(KIND, model.sha256, model.labels, logits, targets, model.temperature)


class VoiceEnsembleTraining(EnsembleTraining):
    """Trained voice models joined, scored on the clips of their validation and test speakers."""

    kind, title, unit = KIND, "voice ensemble", "clips"

    def __init__(self, paths: list[Path], saved: list[dict], models: list[VoiceModel], split: dict,
                 samples: list[SpeechSample], summary: str, on_features: Callable[[str, int, int], None] | None):
        super().__init__(paths, saved, models, "voice models")
        self.samples, self.summary, self.on_features = samples, summary, on_features
        self.facts = {"split": split}
        self.parts = ("validation", "test") if split.get("test") else ("validation",)

    def scores(self, network, part):
        first = self.models[0]
        _, chosen = speaker_split(self.samples, self.facts["split"][part])
        kept, targets = first.label_set.keep(chosen)
        progress = ((lambda done, total: self.on_features(f"features ({part})", done, total))
                    if self.on_features else None)
        return predict_logits(network, CachedClips(clip_features(kept, first.transform, progress=progress), targets))

    def card(self, out: Path, metrics: dict, command: str) -> str:
        return model_card(
            f"Voice emotion model: an ensemble of {len(metrics['members'])} CNNs on MFCCs",
            self.about(out, metrics, "MFCC transform"), self.summary, _split_lines(metrics["split"]), metrics,
            _PARTS, "clips",
            command or "python run.py ensemble --model voice_mfcc --data DIR --members A.pt B.pt", MEMBER_RECIPES)


def ensemble_voice(data: Path, members: list[Path], out: Path, command: str = "",
                   on_features: Callable[[str, int, int], None] | None = None,
                   log: Callable[[str], None] = print) -> dict:
    """Join trained voice models into one that averages their calibrated probabilities.

    The members must share the MFCC transform, the labels and the speaker split: the ensemble's
    temperature is fitted on their validation speakers and it is reported on their test
    speakers (clips of ``data``). Writes ``out``, its metrics, confusion matrices and card.
    """
    saved, models = load_members(members, VoiceModel, "MFCC transform", "speaker split")
    first = models[0]
    split = first.metrics.get("split")
    if not split or not split.get("validation"):
        raise StudioError(f"{members[0]} does not record its validation speakers: train members "
                          "with `run.py train --model voice_mfcc`.")
    dataset = scan_speech_dataset(data)
    log(dataset.summary())
    samples, _ = first.label_set.keep(list(dataset.samples))
    return run_training(VoiceEnsembleTraining(members, saved, models, split, samples, dataset.summary(), on_features),
                        out, command, log=log)
