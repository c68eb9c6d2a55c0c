"""The shared trainer, metrics, calibration and recipes, on small synthetic problems."""

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from source.errors import StudioError
from source.training.flow import EpochTraining, Fitted, Training, run_training
from source.training.metrics import (
    evaluation_report,
    expected_calibration_error,
    fit_temperature,
)
from source.training.recipes import load_recipe
from source.training.trainer import TrainOptions, class_weight_tensor, cpu_bf16_supported, fit
from source.voice.train import VoiceRecipe


class Blobs(Dataset):
    """Three Gaussian blobs in 8 dimensions, imbalanced 60/30/10."""

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.targets = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
        centres = np.eye(3, 8) * 2.5
        self.x = (centres[self.targets] + rng.normal(0, 1, (n, 8))).astype(np.float32)

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        return torch.from_numpy(self.x[i]), int(self.targets[i])


def small_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(16, 3))


def state_equal(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_training_learns_and_keeps_the_best_epoch(tmp_path):
    train, val = Blobs(300, 0), Blobs(150, 1)
    net = small_net()
    result = fit(net, train, val, TrainOptions(epochs=8, batch_size=32, learning_rate=0.01),
                 tmp_path / "run", "blobs", 3)
    assert result.best_score > 0.85
    assert len(result.history) == 8 and result.stopped == "epochs"
    best = max(result.history, key=lambda h: h["val_accuracy"])
    assert result.best_epoch == best["epoch"]
    assert (tmp_path / "run" / "best.pt").exists() and (tmp_path / "run" / "last.pt").exists()


def test_a_stopped_run_resumes_to_the_same_weights(tmp_path):
    train, val = Blobs(200, 0), Blobs(100, 1)
    options = TrainOptions(epochs=4, batch_size=16, learning_rate=0.01, mixup_alpha=0.4)
    straight = small_net()
    fit(straight, train, val, options, tmp_path / "straight", "blobs", 3)

    resumed = small_net()
    first = fit(resumed, train, val, TrainOptions(**{**options.__dict__, "time_limit_min": 0.0}),
                tmp_path / "resumed", "blobs", 3)
    assert first.stopped == "time limit" and len(first.history) == 1
    second = fit(small_net(seed=5), train, val, options, tmp_path / "resumed", "blobs", 3)
    assert len(second.history) == 4 and second.best_epoch == max(
        second.history, key=lambda h: h["val_accuracy"])["epoch"]
    again = small_net(seed=9)
    fit(again, train, val, options, tmp_path / "straight", "blobs", 3)  # finished: loads best
    assert state_equal(straight, again)
    assert [h["train_loss"] for h in second.history] == pytest.approx(
        [h["train_loss"] for h in json_history(tmp_path / "straight")])


def json_history(run_dir):
    return torch.load(run_dir / "last.pt", weights_only=True)["state"]["history"]


def test_a_run_folder_of_another_run_is_refused(tmp_path):
    train, val = Blobs(64, 0), Blobs(32, 1)
    fit(small_net(), train, val, TrainOptions(epochs=1), tmp_path, "first", 3)
    with pytest.raises(StudioError, match="different training run"):
        fit(small_net(), train, val, TrainOptions(epochs=1), tmp_path, "second", 3)

    with pytest.raises(StudioError, match="different training run"):
        fit(small_net(), train, val, TrainOptions(epochs=2, learning_rate=0.01), tmp_path, "first", 3)


def test_a_run_continues_with_more_epochs_in_bf16_and_from_older_checkpoints(tmp_path):
    train, val = Blobs(64, 0), Blobs(32, 1)
    fit(small_net(), train, val, TrainOptions(epochs=1), tmp_path, "run", 3)
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    # a checkpoint written before these settings existed ran with their defaults
    for newer in ("focal_gamma", "weighted_sampler", "backbone_lr_scale"):
        del last["options"][newer]
    torch.save(last, tmp_path / "last.pt")
    result = fit(small_net(), train, val, TrainOptions(epochs=2, mixed_precision=True), tmp_path, "run", 3)
    assert [h["epoch"] for h in result.history] == [1, 2]
    with pytest.raises(StudioError, match="different training run"):
        fit(small_net(), train, val, TrainOptions(epochs=3, focal_gamma=2.0), tmp_path, "run", 3)


def test_early_stopping_when_nothing_improves(tmp_path):
    train, val = Blobs(64, 0), Blobs(32, 1)
    result = fit(small_net(), train, val, TrainOptions(epochs=20, learning_rate=0.0, early_stopping=3),
                 tmp_path, "frozen", 3)
    assert result.stopped == "early stopping"
    assert len(result.history) == 4  # the first epoch sets the best, three more fail to beat it


def test_class_weights_are_inverse_frequency():
    weights = class_weight_tensor([0, 0, 0, 1], 3)
    assert weights[2] == 0  # absent class
    assert weights[1] == pytest.approx(3 * weights[0])
    assert weights[[0, 0, 0, 1]].mean() == pytest.approx(1.0)


def test_temperature_scaling_recovers_the_true_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4000, 5))
    true_t = 2.5
    p = np.exp(logits / true_t)
    p /= p.sum(1, keepdims=True)
    targets = np.array([rng.choice(5, p=row) for row in p])
    assert fit_temperature(logits, targets) == pytest.approx(true_t, rel=0.15)
    # overconfident raw probabilities have a large ECE; the fitted temperature shrinks it
    raw = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert expected_calibration_error(raw, targets) > 0.1
    assert expected_calibration_error(p, targets) < 0.03


def test_evaluation_report_schema_and_numbers():
    targets = np.array([0, 0, 1, 1, 2])
    probabilities = np.array([[.9, .1, 0], [.2, .7, .1], [.1, .8, .1], [.3, .6, .1], [.1, .1, .8]])
    report = evaluation_report("toy", "abc", ["a", "b", "c"], targets, probabilities)
    assert set(report) == {"model", "weights_sha256", "n", "accuracy", "macro_f1", "labels",
                           "per_class", "confusion", "ece"}
    assert report["confusion"] == [[1, 1, 0], [0, 2, 0], [0, 0, 1]]
    assert report["accuracy"] == pytest.approx(0.8)
    assert report["per_class"]["b"] == pytest.approx(
        {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2})
    assert report["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 1.0) / 3)
    json.dumps(report)  # plain data only


def test_recipe_overrides_nested_settings(tmp_path):
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps({"backbone": "mobilenet_v2", "train": {"epochs": 7}}))
    recipe = load_recipe(VoiceRecipe, path, ["train.learning_rate=0.01", "transform.n_mfcc=20",
                                             "test_speakers=[\"ravdess:01\"]", "label_set=5group"])
    assert recipe.backbone == "mobilenet_v2" and recipe.train.epochs == 7
    assert recipe.train.learning_rate == 0.01 and recipe.transform.n_mfcc == 20
    assert recipe.test_speakers == ("ravdess:01",) and recipe.label_set == "5group"
    assert recipe.train.batch_size == TrainOptions().batch_size  # untouched defaults stay
    # a list setting also takes comma-separated names (once kept as one string, matched by substring)
    listed = load_recipe(VoiceRecipe, None, ["test_speakers=ravdess:01, ravdess:02"])
    assert listed.test_speakers == ("ravdess:01", "ravdess:02")
    with pytest.raises(StudioError, match="no setting 'epoch'"):
        load_recipe(VoiceRecipe, None, ["train.epoch=3"])
    with pytest.raises(StudioError, match="Unknown recipe setting"):
        path.write_text(json.dumps({"backbones": "x"}))
        load_recipe(VoiceRecipe, path)


def test_fusion_recipes_saved_with_speakers_and_subjects_read_as_people():
    """The fusion recipes named speakers and filmed subjects apart until 2026-12-05; the shipped
    recipe files and the recipes inside the shipped weights still do. They read as one list of
    people per part, in the same parts, and a setting of the old name is refused by ``--set``."""
    from source.fusion.model import CombinedModel
    from source.fusion.train import CombinedRecipe
    from source.paths import MODELS_DIR
    from source.training.recipes import recipe_from_dict

    saved = json.loads((MODELS_DIR / "combined" / "recipe.json").read_text())
    assert {"validation_speakers", "validation_subjects"} <= set(saved)  # as the model was trained
    from_file = load_recipe(CombinedRecipe, MODELS_DIR / "combined" / "recipe.json")
    assert from_file.validation_people == (*saved["validation_speakers"], *saved["validation_subjects"])
    assert from_file.test_people == (*saved["test_speakers"], *saved["test_subjects"])
    assert from_file.train_people == tuple(saved["train_speakers"])
    assert recipe_from_dict(CombinedRecipe, CombinedModel.load().recipe) == from_file
    assert CombinedRecipe().validation_people == from_file.validation_people  # today's defaults: the same split
    with pytest.raises(StudioError, match="no setting 'test_subjects'"):
        load_recipe(CombinedRecipe, None, ["test_subjects=mead:M030"])


@pytest.mark.parametrize("precise", [0, 4])
def test_precise_batch_norm_measures_clean_inputs(tmp_path, precise):
    """Batch augmentation shifts training inputs by +50; precise BN re-measures without it."""
    train, val = Blobs(256, 0), Blobs(64, 1)
    torch.manual_seed(0)
    net = nn.Sequential(nn.BatchNorm1d(8), nn.Linear(8, 3))
    fit(net, train, val, TrainOptions(epochs=2, batch_size=32, precise_bn_batches=precise),
        tmp_path, "shifted", 3, batch_transform=lambda x, generator: x + 50)
    shift = net[0].running_mean.abs().max().item()
    assert (shift < 3) if precise else (shift > 20)


@pytest.mark.skipif(not cpu_bf16_supported(), reason="this CPU has no native bfloat16 (AVX512-BF16 or AMX)")
def test_mixed_precision_trains_in_bfloat16_and_keeps_float32_weights(tmp_path):
    train, val = Blobs(300, 0), Blobs(150, 1)
    seen = []
    net = small_net()
    net[0].register_forward_hook(lambda module, inputs, output: seen.append(output.dtype) if module.training else None)
    options = TrainOptions(epochs=4, batch_size=32, learning_rate=0.01, mixed_precision=True)
    result = fit(net, train, val, options, tmp_path / "mixed", "blobs", 3)
    assert set(seen) == {torch.bfloat16}  # training steps ran in bf16 autocast
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert result.best_score > 0.85
    plain = small_net()
    fit(plain, train, val, TrainOptions(epochs=4, batch_size=32, learning_rate=0.01), tmp_path / "plain",
        "blobs", 3)
    assert not state_equal(net, plain)  # bf16 steps round differently: the option does something


def test_weight_averaging_keeps_the_average_and_resumes_to_it(tmp_path):
    train, val = Blobs(200, 0), Blobs(100, 1)
    options = TrainOptions(epochs=3, batch_size=16, learning_rate=0.05, weight_average=0.9)
    averaged = small_net()
    result = fit(averaged, train, val, options, tmp_path / "straight", "blobs", 3)
    assert result.best_score > 0.85
    plain = small_net()
    fit(plain, train, val, TrainOptions(**{**options.__dict__, "weight_average": 0.0}), tmp_path / "plain", "blobs", 3)
    assert not state_equal(averaged, plain)
    # the run's last step is not what it keeps: the average lags behind it
    last = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)
    assert set(last["averaged"]) - {"n_averaged"} == {f"module.{key}" for key in last["model"]}
    assert not torch.equal(last["model"]["0.weight"], last["averaged"]["module.0.weight"])

    first = fit(small_net(), train, val, TrainOptions(**{**options.__dict__, "time_limit_min": 0.0}),
                tmp_path / "resumed", "blobs", 3)
    assert len(first.history) == 1
    resumed = small_net(seed=3)
    fit(resumed, train, val, options, tmp_path / "resumed", "blobs", 3)
    assert state_equal(averaged, resumed)
    with pytest.raises(ValueError, match="weight_average"):
        TrainOptions(weight_average=1.0)


def test_a_model_card_states_the_machine_it_was_written_on(monkeypatch):
    """The card names the cores and platform of the process that trained (and writes the card),
    not a fixed machine."""
    from source.training import reports

    monkeypatch.setattr(reports.os, "cpu_count", lambda: 48)
    monkeypatch.setattr(reports.platform, "system", lambda: "Plan9")
    monkeypatch.setattr(reports.platform, "machine", lambda: "riscv64")
    metrics = {"weights_sha256": "0" * 64, "best_epoch": 3, "epochs_run": 5, "stopped": "patience",
               "training_minutes": 1.5, "temperature": 1.0}
    card = reports.model_card("T", [], "data", [], metrics, {"validation": "v"}, "items", "cmd")
    assert "1.5 min of training epochs on 48 CPU cores (Plan9 riscv64), after feature extraction." in card
    assert "2 CPU cores" not in card
    monkeypatch.setattr(reports.os, "cpu_count", lambda: None)  # unknown: no number is made up
    assert reports.training_machine() == "CPU (Plan9 riscv64)"


class SavedAsJson:
    """A model whose file is JSON: what the training flow saved with it can be read back."""

    labels = ("a", "b", "c")

    def __init__(self, network, temperature: float):
        self.network, self.temperature, self.metrics = network, temperature, {}

    def save(self, path, **metadata) -> str:
        path.write_text(json.dumps({"metrics": self.metrics, **metadata}))
        return "5" * 64


class BlobTraining(EpochTraining):
    kind, title, unit, n_classes = "blobs", "blob model", "points", 3

    def __init__(self, options: TrainOptions):
        self.options, self.fingerprint, self.recipe = options, "blobs-1", BlobRecipe(options)
        self.datasets = {"train": Blobs(300, 0), "validation": Blobs(100, 1), "test": Blobs(100, 2)}
        self.facts = {"split": "three seeds"}

    def network(self) -> nn.Module:
        return small_net()

    def model(self, network, temperature: float) -> SavedAsJson:
        return SavedAsJson(network, temperature)

    def card(self, out, metrics, command) -> str:
        return f"# blobs\n{metrics['weights_sha256']} {command}\n"


@dataclass(frozen=True)
class BlobRecipe:
    train: TrainOptions = TrainOptions()


def test_the_training_flow_fits_calibrates_and_writes_every_file(tmp_path):
    epochs = []
    out, run_dir = tmp_path / "model" / "blobs.json", tmp_path / "run"
    options = TrainOptions(epochs=3, batch_size=32, learning_rate=0.01)
    metrics = run_training(BlobTraining(options), out, "train blobs", run_dir, on_epoch=epochs.append,
                           log=lambda line: None)
    assert list(metrics) == ["split", "best_epoch", "epochs_run", "stopped", "training_minutes", "history",
                             "run_dir", "temperature", "validation", "test", "weights_sha256"]
    assert len(epochs) == metrics["epochs_run"] == 3 and metrics["run_dir"] == str(run_dir)
    assert metrics["validation"]["accuracy"] > 0.7 and metrics["test"]["weights_sha256"] == "5" * 64
    assert json.loads((out.parent / "metrics.json").read_text()) == metrics
    saved = json.loads(out.read_text())
    assert saved["command"] == "train blobs" and saved["recipe"]["train"]["epochs"] == 3
    assert "history" not in saved["metrics"] and saved["metrics"]["temperature"] == metrics["temperature"]
    assert json.loads((out.parent / "recipe.json").read_text()) == saved["recipe"]
    assert (out.parent / "MODEL_CARD.md").read_text() == f"# blobs\n{'5' * 64} train blobs\n"
    for beside in ("confusion_validation.png", "confusion_test.png"):
        assert (out.parent / beside).stat().st_size > 0
    for report in ("training_history.png", "confusion_matrix.png", "classification_report.json"):
        assert (run_dir / report).exists()
    assert json.loads((run_dir / "evaluate_test.json").read_text()) == metrics["test"]
    # the finished run is resumed (no epoch to train) unless it is started over
    run_training(BlobTraining(options), out, "", run_dir, on_epoch=epochs.append, log=lambda line: None)
    assert len(epochs) == 3
    run_training(BlobTraining(options), out, "", run_dir, fresh=True, on_epoch=epochs.append, log=lambda line: None)
    assert len(epochs) == 6


class ChosenTemperature(Training):
    """A fit of its own (no epochs, no run folder) and no recipe: as an ensemble."""

    kind, title, unit, parts, facts = "chosen", "chosen model", "points", ("validation",), {"split": "given"}

    def fit(self, run_dir, fresh, on_epoch, log) -> Fitted:
        return Fitted("a network", {"training_note": "Training: none."})

    def scores(self, network, part):
        targets = np.array([0, 1, 2, 0, 1, 2])
        return np.eye(3)[targets] * 4.0, targets

    def model(self, network, temperature: float) -> SavedAsJson:
        return SavedAsJson(network, temperature)

    def card(self, out, metrics, command) -> str:
        return metrics["training_note"]


def test_a_fit_without_epochs_writes_no_run_reports_and_an_ensemble_no_recipe(tmp_path):
    out = tmp_path / "chosen.json"
    metrics = run_training(ChosenTemperature(), out, log=lambda line: None)
    assert list(metrics) == ["split", "training_note", "temperature", "validation", "weights_sha256"]
    assert metrics["validation"]["accuracy"] == 1.0
    assert metrics["temperature"] == pytest.approx(fit_temperature(*ChosenTemperature().scores(None, "validation")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MODEL_CARD.md", "chosen.json", "confusion_validation.png",
                                                          "metrics.json"]
