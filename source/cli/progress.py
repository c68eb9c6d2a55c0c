"""What every model's ``run.py`` work shares: tqdm bars for feature stages and epochs, result
lines, and writing ``--json`` files."""

import shlex
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from ..analysis.writers import write_json
from ..training.trainer import EpochReport


class StageBars:
    """One tqdm bar per named stage, reused while the stage lasts: ``bars(name, done, total)``."""

    def __init__(self, unit: str):
        self.unit = unit
        self.bar, self.name = None, None

    def __call__(self, name: str, done: int, total: int) -> None:
        if name != self.name:
            self.close()
            self.bar, self.name = tqdm(total=total, desc=name, unit=self.unit), name
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar, self.name = None, None


class EpochBar:
    """The epochs bar of a training run, with loss, validation accuracy and learning rate."""

    def __init__(self, stages: StageBars):
        self.stages = stages
        self.bar = None

    def __call__(self, report: EpochReport) -> None:
        self.stages.close()
        if self.bar is None:
            self.bar = tqdm(total=report.epochs, initial=report.epoch - 1, desc="epochs", unit="epoch")
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{report.train_loss:.3f}", val_acc=f"{report.val_accuracy:.3f}",
                             lr=f"{report.learning_rate:.1e}", best="*" if report.best else "")

    def close(self) -> None:
        self.stages.close()
        if self.bar is not None:
            self.bar.close()


@contextmanager
def media_bar(desc: str):
    """A bar over seconds of media; yields ``progress(done_s, total_s)``."""
    with tqdm(unit="s", desc=desc) as bar:
        def progress(done: float, total: float | None) -> None:
            if total and bar.total is None:
                bar.total = round(total, 1)
            bar.update(round(done, 2) - bar.n)

        yield progress


def command_line() -> str:
    """The command that is running, as the model card's "reproduce" line."""
    return "python run.py " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""


def train_with_bars(train: Callable, recipe, out: Path, args, unit: str) -> int:
    """``train(data, recipe, out, run_dir, fresh, command, on_features, on_epoch, log)`` with
    a bar per feature stage and one for the epochs, then the result lines."""
    bars = StageBars(unit)
    epochs = EpochBar(bars)
    try:
        metrics = train(args.data, recipe, out, args.run_dir, args.fresh, command_line(),
                        on_features=bars, on_epoch=epochs, log=tqdm.write)
    finally:
        epochs.close()
    _print_training_result(metrics, out, unit + "s")
    return 0


def evaluate_with_bars(evaluate: Callable[[StageBars], dict], unit: str, json_path: Path | None) -> int:
    """``evaluate(bars)`` -> the evaluate report, printed and written to ``--json``."""
    bars = StageBars(unit)
    try:
        report = evaluate(bars)
    finally:
        bars.close()
    print(f"accuracy {report['accuracy']:.3f}, macro-F1 {report['macro_f1']:.3f}, "
          f"ECE {report['ece']:.3f}, {report['n']} {unit}s")
    write_json_arg(json_path, report)
    return 0


def _print_training_result(metrics: dict, out: Path, unit: str) -> None:
    for part in ("validation", "test"):
        if part in metrics:
            m = metrics[part]
            print(f"{part}: accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}, "
                  f"ECE {m['ece_uncalibrated']:.3f} -> {m['ece']:.3f} (temperature "
                  f"{metrics['temperature']:.2f}), {m['n']} {unit}")
    print(f"wrote {out} (sha256 {metrics['weights_sha256'][:12]}…), metrics.json, model card "
          "and confusion plots")


def write_json_arg(path: Path | None, payload: dict) -> None:
    """Write ``--json`` output when it was asked for."""
    if path is not None:
        print(f"wrote {write_json(path, payload)}")
