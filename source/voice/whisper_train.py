"""Training and evaluating the Whisper voice model across speech corpora (the recipe side).

Every labelled corpus found is used at once. A corpus that labels only some emotions (TurEV-DB:
angry, calm, happy, sad) must not teach the model that the others never occur, so each clip's
loss is a softmax over its own corpus's emotions only (the other logits masked). Examples are
weighted so each corpus, and each emotion within a corpus, counts the same. Speakers are split
per corpus into train, validation (early stopping, calibration) and test (only reported).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..datasets.speech import SpeechSample, scan_speech_dataset
from ..errors import DatasetError
from ..labels import EMOTIONS, get_label_set
from ..training.flow import Fitted, Training, run_training
from ..training.metrics import evaluation_report, fit_temperature
from ..training.reports import confusion_table
from ..media.decode import read_audio
from .model import VoiceModel
from .whisper_voice import (LayerWeightedHead, SharedWhisperVoiceModel, WhisperTransform, WhisperVoiceModel,
                            encodings, packed_encodings)

MASKED = -1e4  # a logit no softmax gives weight to
# how often people express each emotion in ordinary conversation: the shares of GoEmotions' Ekman
# training labels (Reddit comments). The corpora are balanced by design, real speech is not: a
# fraction of this prior (``prior_strength``) is added to the logits, so a close call between
# neutral and disgust goes to neutral
NATURAL_PRIOR = {"angry": 0.118, "disgust": 0.017, "fear": 0.015, "happy": 0.368, "sad": 0.069,
                 "surprise": 0.113, "neutral": 0.300}


@dataclass(frozen=True)
class WhisperVoiceRecipe:
    whisper_model: str = "base"
    encoder: str = "layers"  # a key of whisper_voice.ENCODERS: "transcriber" reads the words branch's pass
    # "transcriber" only: training versions of each clip heard inside a pack of its speaker's clips,
    # as analyze reads it (whisper_voice.packed_encodings)
    packed_copies: int = 0
    augmented_copies: int = 2  # besides the clip as recorded
    layers: str = "all"  # "all": learned weights over every layer; "last": the encoder's output only
    hidden: int = 256
    dropout: float = 0.3
    lr: float = 3e-4
    weight_decay: float = 0.05
    batch_size: int = 128
    # 0.2: the largest of 0, 0.1, 0.2, 0.3, 0.5 that cost at most 2 points of balanced accuracy on
    # the validation speakers of either corpus
    prior_strength: float = 0.2
    max_epochs: int = 80
    patience: int = 15
    seed: int = 0
    # per corpus: validation and test speakers (bare ids); everyone else trains
    validation_speakers: dict = field(default_factory=lambda: {"ravdess": ["16", "17"], "turev": ["1358"]})
    test_speakers: dict = field(default_factory=lambda: {"ravdess": ["18", "19", "20"], "turev": ["1984"]})


def model_class(recipe: WhisperVoiceRecipe) -> type[WhisperVoiceModel]:
    """The kind a recipe trains: the shared-encoder model reads the words branch's encoder."""
    return SharedWhisperVoiceModel if recipe.encoder == "transcriber" else WhisperVoiceModel


def transform_of(recipe: WhisperVoiceRecipe) -> WhisperTransform:
    return WhisperTransform(recipe.whisper_model, recipe.encoder)


def corpus_masks(samples: list[SpeechSample]) -> dict[str, np.ndarray]:
    """Per corpus, which of the seven emotions it labels."""
    masks = {}
    for sample in samples:
        masks.setdefault(sample.corpus, np.zeros(len(EMOTIONS), bool))[EMOTIONS.index(sample.emotion)] = True
    return masks


def part_of(sample: SpeechSample, recipe: WhisperVoiceRecipe) -> str:
    bare = sample.speaker.partition(":")[2]
    if bare in recipe.test_speakers.get(sample.corpus, ()):
        return "test"
    if bare in recipe.validation_speakers.get(sample.corpus, ()):
        return "validation"
    return "train"


def _balanced_weights(samples: list[SpeechSample]) -> np.ndarray:
    """Weights giving each corpus, and each emotion within it, the same total."""
    counts: dict[tuple[str, str], int] = {}
    for s in samples:
        counts[s.corpus, s.emotion] = counts.get((s.corpus, s.emotion), 0) + 1
    per_corpus = {c: sum(1 for (corpus, _) in counts if corpus == c) for c, _ in counts}
    weights = np.array([1.0 / (counts[s.corpus, s.emotion] * per_corpus[s.corpus]) for s in samples])
    return weights / weights.mean()


def _masked(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return logits.masked_fill(~masks, MASKED)


def _network(recipe: WhisperVoiceRecipe, features: np.ndarray) -> LayerWeightedHead:
    layers, width = features.shape[-2:]
    network = LayerWeightedHead(layers, width, len(EMOTIONS), recipe.hidden, recipe.dropout)
    flat = features.reshape(-1, layers, width).astype(np.float32)
    network.mean.copy_(torch.from_numpy(flat.mean(axis=0)))
    network.std.copy_(torch.from_numpy(flat.std(axis=0) + 1e-3))
    if recipe.layers == "last":  # the ablation: only the encoder's output
        network.layer_logits.data[:] = MASKED
        network.layer_logits.data[-1] = 0.0
        network.layer_logits.requires_grad_(False)
    return network


def _balanced_accuracy(network, features, targets, masks) -> float:
    with torch.no_grad():
        predicted = _masked(network(features), masks).argmax(1).numpy()
    return float(np.mean([np.mean(predicted[targets == c] == c) for c in np.unique(targets)]))


def fit_head(recipe: WhisperVoiceRecipe, train: tuple, validation: tuple, log=print) -> tuple[LayerWeightedHead, dict]:
    """Train the head on (features, targets, masks, weights) with early stopping on validation
    balanced accuracy (masked to each clip's corpus); returns the best network and its history."""
    torch.manual_seed(recipe.seed)
    x, y, m, w = (torch.from_numpy(a) for a in train)
    vx, vy, vm = torch.from_numpy(validation[0]), validation[1], torch.from_numpy(validation[2])
    network = _network(recipe, train[0])
    optimiser = torch.optim.AdamW([p for p in network.parameters() if p.requires_grad], lr=recipe.lr,
                                  weight_decay=recipe.weight_decay)
    generator = torch.Generator().manual_seed(recipe.seed)
    best, best_state, history, waited = -1.0, None, [], 0
    for epoch in range(1, recipe.max_epochs + 1):
        network.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), recipe.batch_size):
            batch = order[start:start + recipe.batch_size]
            logits = _masked(network(x[batch]), m[batch])
            loss = (torch.nn.functional.cross_entropy(logits, y[batch], reduction="none") * w[batch]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        network.eval()
        score = _balanced_accuracy(network, vx, vy, vm)
        history.append({"epoch": epoch, "train_loss": total / len(x), "val_balanced_accuracy": score})
        if score > best:
            best, waited = score, 0
            best_state = {k: v.clone() for k, v in network.state_dict().items()}
        else:
            waited += 1
            if waited >= recipe.patience:
                break
    network.load_state_dict(best_state)
    best_epoch = max(history, key=lambda h: h["val_balanced_accuracy"])["epoch"]
    log(f"best epoch {best_epoch} of {len(history)}: validation balanced accuracy {best:.3f}")
    return network.eval(), {"history": history, "best_epoch": best_epoch, "epochs_run": len(history)}


def load_corpora(data: list[Path]) -> list[SpeechSample]:
    return [s for root in data for s in scan_speech_dataset(root).samples]


def prepared(samples: list[SpeechSample], recipe: WhisperVoiceRecipe, progress=None, workers: int = 1) -> dict:
    """Per part, (features, targets, masks, weights) with clips without detected speech left out;
    training clips contribute every copy, validation and test only the clip as recorded."""
    masks = corpus_masks(samples)
    features = encodings([s.path for s in samples], transform_of(recipe), 1 + recipe.augmented_copies, progress,
                         workers=workers)
    if recipe.packed_copies:
        features = np.concatenate([features, packed_encodings([s.path for s in samples], [s.speaker for s in samples],
                                                              transform_of(recipe), recipe.packed_copies, progress)],
                                  axis=1)
    parts = {}
    for part in ("train", "validation", "test"):
        index = [i for i, s in enumerate(samples) if part_of(s, recipe) == part]
        copies = features.shape[1] if part == "train" else 1
        rows = np.asarray(features[index, :copies], dtype=np.float32)
        chosen = [samples[i] for i in index]
        targets = np.repeat([EMOTIONS.index(s.emotion) for s in chosen], copies)
        clip_masks = np.repeat(np.stack([masks[s.corpus] for s in chosen]), copies, axis=0)
        weights = np.repeat(_balanced_weights(chosen), copies)
        corpora = np.repeat([s.corpus for s in chosen], copies)
        paths = np.repeat([str(s.path) for s in chosen], copies)
        copy = np.tile(np.arange(copies), len(chosen))
        rows = rows.reshape(-1, *rows.shape[2:])
        ok = ~np.isnan(rows).any(axis=(1, 2))
        parts[part] = {"x": rows[ok], "y": targets[ok], "mask": clip_masks[ok], "w": weights[ok].astype(np.float32),
                       "corpus": corpora[ok], "copy": copy[ok], "path": paths[ok],
                       "no_speech": int((~ok[copy == 0]).sum())}
    return parts


def _where(part: dict, keep: np.ndarray) -> dict:
    return {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in part.items()}


def cross_corpus(parts: dict, recipe: WhisperVoiceRecipe, log=print) -> dict:
    """Train on one corpus (its train speakers, stopped on its validation speakers), test on every
    clip of each other corpus, as recorded: per direction, the report over the test corpus's emotions."""
    corpora = sorted(str(c) for c in set(parts["train"]["corpus"]))
    everyone = {k: np.concatenate([parts[p][k] for p in parts]) for k in ("x", "y", "mask", "corpus", "copy")}
    everyone["no_speech"] = 0
    results = {}
    for source in corpora:
        train = _where(parts["train"], parts["train"]["corpus"] == source)
        validation = _where(parts["validation"], parts["validation"]["corpus"] == source)
        network, _ = fit_head(recipe, (train["x"], train["y"], train["mask"], train["w"]),
                              (validation["x"], validation["y"], validation["mask"]), log)
        with torch.no_grad():
            logits = _masked(network(torch.from_numpy(validation["x"])), torch.from_numpy(validation["mask"])).numpy()
        model = model_class(recipe)(network, transform_of(recipe), get_label_set("7class"),
                                    fit_temperature(logits, validation["y"]))  # one corpus: plain fit
        for target in corpora:
            if target != source:
                test = _where(everyone, (everyone["corpus"] == target) & (everyone["copy"] == 0))
                results[f"trained on {source}, tested on all of {target}"] = corpus_reports(
                    model.predict_features(test["x"]), test, model.KIND, "", known=train["mask"][0])
    return results


def corpus_reports(probabilities: np.ndarray, part: dict, kind: str, sha256: str,
                   known: np.ndarray | None = None) -> dict:
    """Per corpus: the evaluate report of a model's calibrated ``probabilities`` (clips, 7) over that
    corpus's own emotions (renormalised over them, argmax among them); with ``known`` (a mask of
    the emotions a model was trained on), over the emotions in both."""
    reports = {}
    for corpus in sorted(set(part["corpus"])):
        labels = np.flatnonzero(part["mask"][part["corpus"] == corpus][0] & (True if known is None else known))
        rows = (part["corpus"] == corpus) & np.isin(part["y"], labels)
        among = probabilities[rows][:, labels]
        among = among / np.clip(among.sum(1, keepdims=True), 1e-12, None)
        targets = np.searchsorted(labels, part["y"][rows])
        report = evaluation_report(kind, sha256, [EMOTIONS[i] for i in labels], targets, among)
        report["no_speech_clips"] = part["no_speech"]
        reports[str(corpus)] = report
    return reports


def mfcc_baseline(part: dict) -> dict:
    """The MFCC voice model (``audio``, the design card's) on the same clips as ``part``, scored the
    same way: per corpus, the report over that corpus's own emotions."""
    mfcc = VoiceModel.load()
    paths = part["path"]
    heard = np.concatenate([mfcc.predict([read_audio(path) for path in paths[start:start + 64]])
                            for start in range(0, len(paths), 64)])
    return {"model": mfcc.KIND, "weights_sha256": mfcc.sha256,
            "corpora": corpus_reports(heard, part, mfcc.KIND, mfcc.sha256)}


def _table(rows: list[tuple[str, str, dict]]) -> list[str]:
    """A markdown table of (model, part, per-corpus reports) rows."""
    lines = ["| model | corpus | part | clips | classes | accuracy | macro-F1 | ECE |",
             "|---|---|---|---|---|---|---|---|"]
    for model, part, reports in rows:
        for corpus, m in reports.items():
            lines.append(f"| {model} | {corpus} | {part} | {m['n']} | {len(m['labels'])} | {m['accuracy']:.3f} | "
                         f"{m['macro_f1']:.3f} | {m['ece']:.3f} |")
    return lines


def whisper_card(metrics: dict, recipe: WhisperVoiceRecipe, samples: list[SpeechSample], command: str) -> str:
    """The model card: data, split, layer weights, per-corpus metrics and confusions."""
    corpora = sorted({s.corpus for s in samples})
    if recipe.encoder == "transcriber":
        title = f"Voice model on the words branch's Whisper-{recipe.whisper_model} encoder output"
        inputs = (f"The output of the frozen Whisper {recipe.whisper_model} encoder that the words branch runs "
                  "(the studio's shipped CTranslate2 weights, int8), over the speech as the transcriber hears it "
                  "(Silero VAD's spans with the transcriber's settings, joined, in Whisper's 30-s window), pooled "
                  f"(mean and standard deviation over the speech's frames), then a small MLP ({recipe.hidden} "
                  "hidden units). In `analyze` it reads the frames the words branch has already computed: the voice "
                  "runs no encoder of its own.")
    else:
        title = f"Voice model on Whisper-{recipe.whisper_model} encoder states"
        inputs = (f"The frozen Whisper {recipe.whisper_model} encoder (the studio's shipped weights) on the trimmed, "
                  "loudness-normalised speech of a window (Silero VAD), every layer's states pooled (mean and "
                  "standard deviation over the speech's frames), a learned softmax weighting of the layers and a "
                  f"small MLP ({recipe.hidden} hidden units). Learned layer weights (input embedding first): "
                  f"{', '.join(f'{w:.2f}' for w in metrics['layer_weights'])}.")
    lines = [f"# {title}", "", f"Weights: sha256 `{metrics['weights_sha256']}`.", inputs, "",
             "## Data and split", "",
             *(f"- {c}: {sum(s.corpus == c for s in samples)} clips; validation speakers "
               f"{', '.join(recipe.validation_speakers.get(c, [])) or 'none'}, test speakers "
               f"{', '.join(recipe.test_speakers.get(c, [])) or 'none'}; everyone else trains." for c in corpora),
             "- Each corpus is scored over its own emotions (TurEV-DB: angry, neutral (calm), happy, sad): "
             "the loss is masked to them in training and the argmax is taken among them in evaluation; "
             "RAVDESS has all seven (calm counts as neutral).",
             f"- Training clips: as recorded plus {recipe.augmented_copies} augmented "
             f"{'copy' if recipe.augmented_copies == 1 else 'copies'} each (noise 5-30 dB "
             "SNR, room reverberation 0.2-0.8 s, gain, tempo 0.9-1.1, pitch +-2 semitones); examples weighted so "
             "each corpus and each emotion within it counts the same.",
             *([f"- Plus {recipe.packed_copies} versions of each training clip heard inside a pack of its speaker's "
                "clips (a random order each time, about 20 s joined with short pauses), as the transcriber hands "
                "frames to the voice in `analyze`."] if recipe.packed_copies else []),
             f"- Early stopping on the validation speakers' balanced accuracy: best epoch {metrics['best_epoch']} of "
             f"{metrics['epochs_run']}; temperature {metrics['temperature']:.3f} fitted on them (each corpus's "
             "log-likelihood counting the same). The test speakers chose nothing.",
             f"- A deployment prior: {recipe.prior_strength} x log(P(emotion)) is added to the calibrated logits, P "
             "being how often each emotion is labelled in ordinary conversation (GoEmotions' Ekman training "
             f"labels: {', '.join(f'{e} {p:.3f}' for e, p in NATURAL_PRIOR.items())}); the strength is the largest "
             "of 0, 0.1, 0.2, 0.3 and 0.5 that cost at most 2 points of balanced accuracy on the validation "
             "speakers. The metrics below include it; the cross-corpus models do not have it.", "",
             "## Metrics", "",
             *_table([(metrics["kind"], part, metrics[part]) for part in ("validation", "test")]
                     + ([(f"{metrics['baseline']['model']} (MFCC)", "test", metrics["baseline"]["corpora"])]
                        if "baseline" in metrics else [])), "",
             *([f"The `{metrics['baseline']['model']}` rows: the MFCC model (the design card's voice model) on the same "
                "test clips, scored the same way (argmax among each corpus's emotions).", ""]
               if "baseline" in metrics else [])]
    for corpus, m in metrics["test"].items():
        lines += [f"Confusion, {corpus} test speakers (rows: true, columns: predicted):", "",
                  confusion_table(m), ""]
    for name, reports in metrics.get("cross_corpus", {}).items():
        lines += [f"Cross-corpus, {name}:", "", *_table([(metrics["kind"], "all", reports)]), ""]
    lines += ["## Reproduce", "", "```", command, "```", "", "Recipe: `recipe.json` in this folder.", ""]
    return "\n".join(lines)


class WhisperVoiceTraining(Training):
    """The Whisper voice head on every corpus at once: its own loop (``fit_head``), a temperature
    whose fit counts each corpus the same, the deployment prior added after calibration, reports
    per corpus over each corpus's own emotions, with the MFCC model's and the cross-corpus ones."""

    title, unit, parts = "voice model", "clips", ("validation", "test")
    evaluate_reports = False  # per corpus (``corpus_reports``)

    def __init__(self, samples: list[SpeechSample], parts: dict, recipe: WhisperVoiceRecipe, started: float,
                 log: Callable[[str], None]):
        self.samples, self.data, self.recipe, self.started = samples, parts, recipe, started
        self.log = log  # the cross-corpus models' fits say their epochs too
        self.kind = model_class(recipe).KIND
        self.facts = {}

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        train, validation = self.data["train"], self.data["validation"]
        network, fitted = fit_head(self.recipe, (train["x"], train["y"], train["mask"], train["w"]),
                                   (validation["x"], validation["y"], validation["mask"]), log)
        return Fitted(network, {"best_epoch": fitted["best_epoch"], "epochs_run": fitted["epochs_run"],
                                "layer_weights": [round(float(v), 4) for v in network.layer_weights()],
                                "training_minutes": round((time.monotonic() - self.started) / 60, 1),
                                "history": fitted["history"]})

    def scores(self, network, part):
        """The logits masked to each clip's corpus's emotions."""
        data = self.data[part]
        with torch.no_grad():
            return _masked(network(torch.from_numpy(data["x"])), torch.from_numpy(data["mask"])).numpy(), data["y"]

    def calibrate(self, network, scores) -> float:
        return fit_temperature(*scores["validation"], groups=self.data["validation"]["corpus"])

    def model(self, network, temperature: float) -> WhisperVoiceModel:
        with torch.no_grad():  # the prior, after calibration: logits / T + strength * log(prior)
            prior = torch.tensor([NATURAL_PRIOR[e] for e in EMOTIONS]).log()
            network.classifier.bias += self.recipe.prior_strength * temperature * prior
        return model_class(self.recipe)(network, transform_of(self.recipe), get_label_set("7class"), temperature)

    def report(self, model, part, logits, targets) -> dict:
        """Per corpus, over its own emotions, with the prior: as the model predicts."""
        return corpus_reports(model.predict_features(self.data[part]["x"]), self.data[part], model.KIND, "")

    def findings(self, model, scores, metrics) -> dict:
        return {"kind": model.KIND, "baseline": mfcc_baseline(self.data["test"]),
                "cross_corpus": cross_corpus(self.data, self.recipe, self.log)}

    def card(self, out: Path, metrics: dict, command: str) -> str:
        return whisper_card(metrics, self.recipe, self.samples, command)


def train_whisper_voice(data: list[Path], recipe: WhisperVoiceRecipe, out: Path, command: str,
                        progress: Callable | None = None, log=print, workers: int = 1) -> dict:
    """Train, calibrate, report and write the model, its metrics, recipe and card; ``workers``
    processes compute the encodings (each runs its own encoder)."""
    started = time.monotonic()
    samples = load_corpora(data)
    training = WhisperVoiceTraining(samples, prepared(samples, recipe, progress, workers), recipe, started,
                                    log)
    return run_training(training, out, command, log=log)


def evaluate_whisper_voice(data: Path, weights: Path | None = None, speakers: tuple[str, ...] = (),
                           progress: Callable | None = None,
                           load: Callable[[Path | None], WhisperVoiceModel] = WhisperVoiceModel.load) -> dict:
    """The evaluate JSON on every clip under ``data`` (or ``speakers``): the plain 7-way report over
    all clips, per corpus the report over that corpus's own emotions (``corpora``), and the same
    per-corpus reports of the MFCC voice model on the same clips (``baseline``)."""
    model = load(weights)
    samples = [s for s in load_corpora([data]) if not speakers or s.speaker in speakers
               or s.speaker.partition(":")[2] in speakers]
    if not samples:
        raise DatasetError(f"No clip of {', '.join(speakers)} under {data}.")
    features = encodings([s.path for s in samples], model.transform, 1, progress)[:, 0]
    features = np.asarray(features, dtype=np.float32)
    ok = ~np.isnan(features).any(axis=(1, 2))
    masks = corpus_masks(samples)
    kept = [s for s, good in zip(samples, ok) if good]
    part = {"x": features[ok], "y": np.array([EMOTIONS.index(s.emotion) for s in kept]),
            "mask": np.stack([masks[s.corpus] for s in kept]), "corpus": np.array([s.corpus for s in kept]),
            "no_speech": int((~ok).sum())}
    report = evaluation_report(model.KIND, model.sha256, EMOTIONS, part["y"], model.predict_features(part["x"]))
    report["no_speech_clips"] = part["no_speech"]
    report["corpora"] = corpus_reports(model.predict_features(part["x"]), part, model.KIND, model.sha256)
    report["baseline"] = mfcc_baseline({**part, "path": np.array([str(s.path) for s in kept])})
    return report
