"""What every trained single-modality model is: a network, the input transform it was trained
with, its label set, a calibration temperature and its measured metrics, saved in one file.

Subclasses set ``KIND``, ``TRANSFORM`` (a class with ``to_dict``/``from_dict``) and where the
shipped weights are; ``load()`` with no path gives the shipped model, checked against its sha256.
"""

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import torch

from .errors import StudioError
from .labels import LabelSet, get_label_set, scored
from .nets import EmotionNet, network_from_config
from .registry import get_model
from .weights import WeightsError, load_weights, save_weights


def _first_problem(error: Exception) -> str:
    """The first line of an error that names a problem (load_state_dict lists one per line)."""
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r} entry"
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    named = [line for line in lines if not line.startswith("Error(s) in loading")]
    return (named or lines or [type(error).__name__])[0].rstrip(".")[:300]


class TrainedModel:
    """What every trained model file holds besides its network's inputs: the network (kept in
    eval mode), its label set, calibration temperature, measured metrics and the file's sha256."""

    def __init__(self, network: torch.nn.Module, label_set: LabelSet, temperature: float = 1.0,
                 metrics: dict | None = None, sha256: str = ""):
        self.network = network.eval()
        self.label_set = label_set
        self.temperature = temperature
        self.metrics = metrics or {}
        self.sha256 = sha256

    @property
    def labels(self) -> tuple[str, ...]:
        return self.label_set.labels

    def scored(self, probabilities) -> dict:
        """One row of probabilities as ``{"probabilities": {label: p}, "top_emotion", "confidence"}``."""
        return scored({label: round(float(p), 4) for label, p in zip(self.labels, probabilities)})


class EmotionModel(TrainedModel):
    KIND: ClassVar[str]  # the kind its files hold, and its name in the registry
    TRANSFORM: ClassVar[type]
    # rebuilds the saved network (a single network or an ensemble) from its ``config()``
    NETWORK_FROM_CONFIG: ClassVar[Callable[[dict], torch.nn.Module]] = staticmethod(network_from_config)

    def __init__(self, network: EmotionNet, transform, label_set: LabelSet,
                 temperature: float = 1.0, metrics: dict | None = None, sha256: str = ""):
        super().__init__(network, label_set, temperature, metrics, sha256)
        self.transform = transform

    def encode(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(embeddings, calibrated probabilities) of network inputs, in one pass: the combined
        model reads the embeddings, the timeline the probabilities."""
        with torch.no_grad():
            embedded = self.network.embed(*inputs)
            return embedded, torch.softmax(self.network.classifier(embedded) / self.temperature, dim=1)

    def save(self, path: str | Path, **metadata) -> str:
        return save_weights(path, self.network, kind=self.KIND, transform=self.transform.to_dict(),
                            label_set=self.label_set.name, temperature=self.temperature,
                            metrics=self.metrics, **metadata)

    @classmethod
    def load(cls, path: str | Path | None = None, expected_sha256: str | None = None):
        """The model in ``path`` (refused unless its sha256 is ``expected_sha256``, when given), or
        the shipped one (the registry's entry names the file and its sha256)."""
        if path is None:
            shipped = get_model(cls.KIND).shipped()
            path, expected_sha256 = shipped.path, shipped.sha256
        saved = load_weights(path, cls.KIND, expected_sha256)
        try:
            return cls.from_saved(saved)
        except WeightsError as error:
            raise WeightsError(f"{path}: {error}") from error

    @classmethod
    def from_saved(cls, saved: dict):
        """The model in a dict read by ``load_weights`` (whose other entries, e.g. the recipe
        and command, stay with the caller)."""
        try:
            network = cls.NETWORK_FROM_CONFIG(saved["network"])
            network.load_state_dict(saved["state_dict"])
            return cls(network, cls.TRANSFORM.from_dict(saved["transform"]),
                       get_label_set(saved["label_set"]), float(saved["temperature"]),
                       saved.get("metrics"), saved["sha256"])
        except StudioError:
            raise
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            raise WeightsError(f"the network the file describes does not fit its weights or settings "
                               f"(edited or damaged): {_first_problem(error)}.") from error
