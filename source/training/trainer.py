"""The epoch trainer, ``fit``: the face, voice (MFCC) and fusion networks (the combined model and the
research families) train with it. The text model (a logistic regression), the Whisper voice
model's head (its own loop in ``audio/whisper_train.py``) and late fusion (a weight search) do not.

Best-on-validation checkpoints, ReduceLROnPlateau, early stopping, class weighting, optional
mixup, and runs that resume where they stopped: ``last.pt`` in the run folder is rewritten after
every epoch, and each epoch's randomness is derived from (seed, epoch), so a resumed run takes the
same steps as one that never stopped.

Datasets yield ``(inputs, target)``, where inputs is a tensor or a tuple of tensors passed to the
model as ``model(*inputs)``, and expose ``targets`` (every target, in order) for class weights.
A dataset with ``set_epoch(epoch)`` is told each epoch (to pick that epoch's cached augmented copy).
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

from ..fileio import atomic_path
from ..errors import StudioError
from .metrics import accuracy_and_macro_f1

MONITORS = ("accuracy", "macro_f1", "loss")


@dataclass(frozen=True)
class TrainOptions:
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    lr_factor: float = 0.5  # ReduceLROnPlateau: multiply the rate by this ...
    lr_patience: int = 3  # ... after this many epochs without a better monitored score
    early_stopping: int = 10  # stop after this many epochs without a better score
    class_weights: bool = True  # weight the loss by inverse class frequency
    label_smoothing: float = 0.0
    mixup_alpha: float = 0.0  # 0: off; else mix pairs of samples with Beta(alpha, alpha)
    monitor: str = "accuracy"  # validation score that picks the best epoch
    seed: int = 0
    time_limit_min: float | None = None  # stop (resumably) once an epoch ends past this
    # recompute batch-norm statistics on this many training batches, without batch
    # augmentation or mixup, after each epoch: running averages gathered on masked and mixed
    # batches do not match clean inputs ("precise BN")
    precise_bn_batches: int = 0
    focal_gamma: float = 0.0  # 0: cross-entropy; else focal loss with this gamma
    weighted_sampler: bool = False  # draw training samples inversely to their class's frequency
    # a model with a ``backbone`` trains it at this multiple of the learning rate (differential rates)
    backbone_lr_scale: float = 1.0
    # training steps in bfloat16 autocast, on CPUs with native bf16 (AVX512-BF16 or AMX): about
    # 2x faster for convolutions and attention there; elsewhere emulated bf16 is slower, so the
    # steps stay float32. Validation and prediction are always float32.
    mixed_precision: bool = False
    # 0: off; else validate, keep and return an exponential moving average of the weights (and
    # batch-norm statistics) with this decay per step: steadier than the last step's weights when
    # validation accuracy swings from epoch to epoch on small data (0.99: about 100 steps)
    weight_average: float = 0.0

    def __post_init__(self):
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {', '.join(MONITORS)}, not {self.monitor!r}")
        if not 0.0 <= self.weight_average < 1.0:
            raise ValueError(f"weight_average is a decay in [0, 1), not {self.weight_average}")


@dataclass
class EpochReport:
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    val_macro_f1: float
    learning_rate: float
    seconds: float
    best: bool


@dataclass
class FitResult:
    best_epoch: int
    best_score: float
    history: list[dict] = field(default_factory=list)
    stopped: str = ""  # why training ended: "epochs", "early stopping", "time limit"


def cpu_bf16_supported() -> bool:
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def _batch_inputs(inputs) -> tuple[torch.Tensor, ...]:
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def predict_logits(model: nn.Module, data: Dataset, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(logits, targets) for every sample of ``data``, in order, with the model in eval mode."""
    model.eval()
    logits, targets = [], []
    with torch.no_grad():
        for inputs, target in DataLoader(data, batch_size=batch_size, shuffle=False):
            logits.append(model(*_batch_inputs(inputs)).float())
            targets.append(target)
    return torch.cat(logits).numpy(), torch.cat(targets).numpy()


def class_weight_tensor(targets, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights, averaging 1 over the samples; absent classes get 0."""
    counts = np.bincount(np.asarray(targets), minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / (counts > 0).sum(), 0.0)
    return torch.tensor(weights, dtype=torch.float32)


# how long to go on, and in which precision the steps run, are not part of a run's identity: a
# finished or stopped run can be continued with more epochs, another time limit, or in bf16
_NOT_IDENTITY = ("epochs", "time_limit_min", "mixed_precision")
_DEFAULTS = asdict(TrainOptions())


def _identity(options: TrainOptions | dict) -> dict:
    """The settings a resumed run must share with the run it continues. A checkpoint written
    before a setting existed lacks it: it ran with that setting's default."""
    values = {**_DEFAULTS, **(asdict(options) if isinstance(options, TrainOptions) else options)}
    return {k: v for k, v in values.items() if k not in _NOT_IDENTITY}


def _save(payload: dict, path: Path) -> None:
    with atomic_path(path) as temporary:  # a run killed mid-write keeps its previous checkpoint
        torch.save(payload, temporary)


def fit(model: nn.Module, train: Dataset, validation: Dataset, options: TrainOptions,
        run_dir: str | Path, fingerprint: str, n_classes: int,
        batch_transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
        progress: Callable[[EpochReport], None] | None = None) -> FitResult:
    """Train ``model`` in place and leave it holding the best validation epoch's weights (with
    ``options.weight_average``: its averaged weights).

    ``run_dir`` keeps ``last.pt`` (to resume) and ``best.pt``. ``fingerprint`` names what is
    being trained (model, data, recipe): a run folder holding a different run is refused rather
    than mixed into this one. ``batch_transform`` augments the first input of training batches.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    last_path, best_path = run_dir / "last.pt", run_dir / "best.pt"
    torch.use_deterministic_algorithms(True, warn_only=True)

    optimizer = torch.optim.AdamW(_parameter_groups(model, options), lr=options.learning_rate,
                                  weight_decay=options.weight_decay)
    mode = "min" if options.monitor == "loss" else "max"
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=mode, factor=options.lr_factor, patience=options.lr_patience)
    weights = class_weight_tensor(train.targets, n_classes) if options.class_weights else None
    criterion = (FocalLoss(options.focal_gamma, weights) if options.focal_gamma > 0
                 else nn.CrossEntropyLoss(weight=weights, label_smoothing=options.label_smoothing))

    averaged = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(options.weight_average), use_buffers=True)
                if options.weight_average else None)
    evaluated = averaged.module if averaged is not None else model  # what validation scores and best.pt keeps
    state = {"epoch": 0, "best_score": None, "best_epoch": 0, "bad_epochs": 0, "history": []}
    if last_path.exists():
        saved = torch.load(last_path, map_location="cpu", weights_only=True)
        if saved["fingerprint"] != fingerprint or _identity(saved["options"]) != _identity(options):
            raise StudioError(
                f"The run folder {run_dir} holds a different training run (other data, model or "
                f"settings). Choose another run folder, or start over with --fresh.")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        if averaged is not None:
            averaged.load_state_dict(saved["averaged"])
        state = saved["state"]

    started = time.monotonic()

    def out_of_time() -> bool:
        limit = options.time_limit_min
        return limit is not None and time.monotonic() - started > limit * 60

    while state["epoch"] < options.epochs and state["bad_epochs"] < options.early_stopping:
        epoch = state["epoch"]
        epoch_started = time.monotonic()
        train_loss = _train_epoch(model, train, options, epoch, optimizer, criterion, batch_transform,
                                  averaged.update_parameters if averaged is not None else None)
        if options.precise_bn_batches:
            _precise_batch_norm(evaluated, train, options, epoch)
        logits, targets = predict_logits(evaluated, validation)
        val_loss = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(targets)).item()
        accuracy, macro_f1 = accuracy_and_macro_f1(targets, logits.argmax(1), n_classes)
        score = {"accuracy": accuracy, "macro_f1": macro_f1, "loss": val_loss}[options.monitor]
        best = state["best_score"] is None or (score < state["best_score"] if mode == "min"
                                               else score > state["best_score"])
        if best:
            state.update(best_score=score, best_epoch=epoch + 1, bad_epochs=0)
            _save(evaluated.state_dict(), best_path)
        else:
            state["bad_epochs"] += 1
        scheduler.step(score)
        report = EpochReport(epoch + 1, options.epochs, train_loss, val_loss, accuracy, macro_f1,
                             optimizer.param_groups[0]["lr"], time.monotonic() - epoch_started, best)
        state["history"].append(asdict(report))
        state["epoch"] = epoch + 1
        _save({"fingerprint": fingerprint, "options": _identity(options), "model": model.state_dict(),
               "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "state": state,
               **({"averaged": averaged.state_dict()} if averaged is not None else {})}, last_path)
        if progress:
            progress(report)
        if out_of_time():
            break

    if state["bad_epochs"] >= options.early_stopping:
        stopped = "early stopping"
    elif state["epoch"] < options.epochs:
        stopped = "time limit"
    else:
        stopped = "epochs"
    if not best_path.exists():
        raise StudioError(f"No epoch finished in {run_dir}: nothing to keep.")
    model.load_state_dict(torch.load(best_path, map_location="cpu", weights_only=True))
    model.eval()
    return FitResult(state["best_epoch"], state["best_score"], state["history"], stopped)


class FocalLoss(nn.Module):
    """Cross-entropy scaled by (1 - p_target) ** gamma: easy samples count less."""

    def __init__(self, gamma: float, weight: torch.Tensor | None = None):
        super().__init__()
        self.gamma, self.weight = gamma, weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        weight = self.weight[target] if self.weight is not None else torch.ones_like(log_p)
        return (weight * (1 - log_p.exp()) ** self.gamma * -log_p).sum() / weight.sum()


def _parameter_groups(model: nn.Module, options: TrainOptions) -> list[dict]:
    """One group, or the backbone's parameters at ``backbone_lr_scale`` times the rate."""
    backbone = getattr(model, "backbone", None)
    if options.backbone_lr_scale == 1.0 or not isinstance(backbone, nn.Module):
        return [{"params": list(model.parameters())}]
    inner = {id(p) for p in backbone.parameters()}
    return [{"params": [p for p in model.parameters() if id(p) not in inner]},
            {"params": list(backbone.parameters()), "lr": options.learning_rate * options.backbone_lr_scale}]


def _sampler(data: Dataset, generator: torch.Generator) -> WeightedRandomSampler:
    """Samples drawn with replacement, each with weight 1 / its class's count."""
    targets = np.asarray(data.targets)
    counts = np.bincount(targets)
    return WeightedRandomSampler(torch.from_numpy(1.0 / counts[targets]), len(targets), generator=generator)


def _precise_batch_norm(model: nn.Module, data: Dataset, options: TrainOptions, epoch: int) -> None:
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches below
    generator = torch.Generator().manual_seed(options.seed * 100_003 + epoch + 1)
    loader = DataLoader(data, batch_size=options.batch_size, shuffle=True, generator=generator,
                        drop_last=len(data) > options.batch_size)
    model.train()
    with torch.no_grad():
        for batch, (inputs, _) in enumerate(loader):
            if batch == options.precise_bn_batches:
                break
            model(*_batch_inputs(inputs))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum


def _train_epoch(model: nn.Module, data: Dataset, options: TrainOptions, epoch: int,
                 optimizer: torch.optim.Optimizer, criterion: nn.Module,
                 batch_transform: Callable | None, after_step: Callable[[nn.Module], None] | None = None) -> float:
    seed = options.seed * 100_003 + epoch  # the same per epoch whether or not the run resumed
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    if hasattr(data, "set_epoch"):
        data.set_epoch(epoch)
    order = ({"sampler": _sampler(data, generator)} if options.weighted_sampler
             else {"shuffle": True, "generator": generator})
    loader = DataLoader(data, batch_size=options.batch_size, **order,
                        drop_last=len(data) > options.batch_size)  # batch norm needs 2+ samples
    model.train()
    total, count = 0.0, 0
    mixed = options.mixed_precision and cpu_bf16_supported()
    for inputs, target in loader:
        inputs = list(_batch_inputs(inputs))
        if batch_transform is not None:
            inputs[0] = batch_transform(inputs[0], generator)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            if options.mixup_alpha > 0:
                mix = float(rng.beta(options.mixup_alpha, options.mixup_alpha))
                order = torch.randperm(target.shape[0], generator=generator)
                inputs = [mix * x + (1 - mix) * x[order] for x in inputs]
                output = model(*inputs).float()
                loss = mix * criterion(output, target) + (1 - mix) * criterion(output, target[order])
            else:
                loss = criterion(model(*inputs).float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step(model)
        total += loss.item() * target.shape[0]
        count += target.shape[0]
    return total / max(count, 1)
