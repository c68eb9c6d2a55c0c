"""What every model's ``run.py`` work shares: tqdm bars for feature stages and epochs, result
lines, and writing ``--json`` files."""

import shlex
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from ..fileio import write_json
from ..paths import MODELS_DIR
from ..training.trainer import EpochReport


class LineProgress:
    """What a tqdm bar says, as plain lines for a pipe or a log (no carriage returns): one when a
    stage begins for the first time, then at most one every ``interval`` seconds (naming the stage
    of the moment: an analysis goes through decode, faces, voice, words and fusion once per window),
    and the last one when it closes. Implements the part of tqdm's interface the commands use."""

    def __init__(self, total: float | None = None, desc: str | None = None, unit: str = "it", initial: float = 0,
                 interval: float = 10.0, file=None, **_ignored):
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.interval = interval
        self.file = file
        self.postfix = ""
        self._started = self._last = time.monotonic()
        self._said = None  # the last line written
        self._new_stage = False
        self._stages = {desc}  # the stages seen

    def _line(self) -> str:
        parts = [f"{self.desc}:" if self.desc else "progress:"]
        if self.total:
            fraction = min(1.0, self.n / self.total)
            parts.append(f"{fraction:.0%} ({_number(self.n)}/{_number(self.total)} {self.unit})")
        else:
            parts.append(f"{_number(self.n)} {self.unit}")
        elapsed = time.monotonic() - self._started
        parts.append(f"{_clock(elapsed)} elapsed")
        if self.total and 0 < self.n < self.total:
            parts.append(f"about {_clock(elapsed / self.n * (self.total - self.n))} left")
        return " ".join(parts[:2]) + ", " + ", ".join(parts[2:]) + (f" ({self.postfix})" if self.postfix else "")

    def _say(self) -> None:
        line = self._line()
        if line != self._said:
            print(line, file=self.file or sys.stderr, flush=True)
            self._said = line
        self._last = time.monotonic()

    def update(self, delta: float = 1) -> None:
        self.n += delta
        if self._new_stage or time.monotonic() - self._last >= self.interval:
            self._say()
            self._new_stage = False

    def set_description(self, desc: str) -> None:
        """A stage: the first update of one not seen before is written at once."""
        if desc not in self._stages:
            self._stages.add(desc)
            self._new_stage = True
        self.desc = desc

    def set_postfix(self, **values) -> None:
        self.postfix = ", ".join(f"{key} {value}" for key, value in values.items() if value != "")

    def close(self) -> None:
        self._say()  # the last state, unless that line was just written

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def progress_bar(**kwargs):
    """A tqdm bar on a terminal; plain periodic lines (:class:`LineProgress`) when stderr is a
    pipe or a file, where a bar's carriage returns would leave debris."""
    if sys.stderr.isatty():
        return tqdm(**kwargs)
    return LineProgress(**kwargs)


class StageBars:
    """One tqdm bar per named stage, reused while the stage lasts: ``bars(name, done, total)``.

    A stage's first report is what was already cached (see ``training.cache.cached_rows``);
    ``cache_summary`` tells, per stage, how much was reused and how much computed.
    """

    def __init__(self, unit: str):
        self.unit = unit
        self.bar, self.name = None, None
        self.reused: dict[str, tuple[int, int]] = {}  # stage -> (already cached, total)

    def __call__(self, name: str, done: int, total: int) -> None:
        if name != self.name:
            self.close()
            self.bar, self.name = progress_bar(total=total, desc=name, unit=self.unit), name
            self.reused.setdefault(name, (done, total))
        self.bar.update(done - self.bar.n)

    def cache_summary(self) -> list[str]:
        return [f"{name}: {total} {self.unit}s, {reused} already cached, {total - reused} computed"
                for name, (reused, total) in self.reused.items()]

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
            self.bar = progress_bar(total=report.epochs, initial=report.epoch - 1, desc="epochs", unit="epoch")
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
    with progress_bar(unit="s", desc=desc) as bar:
        def progress(done: float, total: float | None) -> None:
            if total and bar.total is None:
                bar.total = round(total, 1)
            if bar.total is not None:  # the last window may end past the rounded total
                done = min(done, bar.total)
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
    print(f"run reports (training_history.png, confusion_matrix.png, classification_report.json, "
          f"evaluate_*.json) in {metrics['run_dir']}")
    promote_if_asked(args, out, metrics)
    return 0


def promote_if_asked(args, out: Path, metrics: dict) -> None:
    """``train --promote``: copy what training wrote into ``models/<model>/`` and say which
    sha256 to pin (every family's ``train`` calls this, so the flag is never silently ignored)."""
    if not getattr(args, "promote", False):
        return
    from ..registry import get_model

    target = MODELS_DIR / get_model(args.model).name  # "voice" is the default voice model
    run_dir = metrics.get("run_dir")
    copied = promote(out, Path(run_dir) if run_dir else None, target)
    print(f"promoted: {len(copied)} files copied to {target}, the model card among them. The "
          f"studio loads its shipped weights by their pinned sha256: ship {out.name} by "
          f"pinning {metrics['weights_sha256']} in the model's registry entry (weights=ShippedWeights(...) "
          f"in its family's register.py).")


def ensemble_with_bars(ensemble: Callable, out: Path, args, unit: str) -> int:
    """``ensemble(data, members, out, command, on_features, log)`` with a bar per feature
    stage, then the result lines."""
    bars = StageBars(unit)
    try:
        metrics = ensemble(args.data, args.members, out, command_line(), on_features=bars, log=tqdm.write)
    finally:
        bars.close()
    _print_training_result(metrics, out, unit + "s")
    return 0


def promote(out: Path, run_dir: Path | None, target: Path) -> list[Path]:
    """Copy a trained model (weights, model card, metrics, recipe, confusion plots, all beside
    ``out``) and its run reports (when it has a run folder) into the model's folder ``target``."""
    beside = [out, *(out.parent / name for name in ("MODEL_CARD.md", "metrics.json", "recipe.json")),
              *sorted(out.parent.glob("confusion_*.png"))]
    reports = [] if run_dir is None else [
        run_dir / name for name in ("training_history.png", "confusion_matrix.png", "classification_report.json")]
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(path, target / path.name)) for path in beside + reports if path.exists()]


def preprocess_with_bars(prepare: Callable, recipe, args, unit: str) -> int:
    """``prepare(data, recipe, on_features, workers, log)`` (what training computes before its
    first epoch) with a bar per stage, then what was reused and what computed."""
    bars = StageBars(unit)
    try:
        prepare(args.data, recipe, bars, args.workers, tqdm.write)
    finally:
        bars.close()
    print("\n".join(["cache:", *bars.cache_summary(), "training will reuse these features"]))
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
