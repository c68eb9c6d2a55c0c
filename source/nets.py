"""Image-like CNN backbones by name (torchvision families) with a configurable dense head.

Both single-modality models use this: the voice model on (3, frames, n_mfcc) MFCC stacks, the
face model on (3, size, size) crops. ``embed`` gives the head's last hidden layer (no softmax)
for the combined model.
"""

import copy
import logging
import warnings
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models

from .assets import asset_path

BACKBONES = (
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2",
    "googlenet", "mobilenet_v2", "densenet121", "alexnet", "vgg16",
    "squeezenet1_1", "shufflenet_v2_x1_0", "mnasnet1_0",
)
# backbones with ImageNet weights available offline: the registered asset holding them
PRETRAINED_ASSETS = {"mobilenet_v2": "mobilenet_v2-imagenet"}
# inputs are upsampled to at least this many pixels a side, so every family's pooling fits
_MIN_SIDE = {"alexnet": 64}
_DEFAULT_MIN_SIDE = 32


@dataclass(frozen=True)
class HeadOptions:
    units: int = 256
    layers: int = 1
    dropout: float = 0.3
    batch_norm: bool = True


def load_imagenet_weights(backbone: nn.Module, name: str) -> None:
    """Start ``backbone`` from its ImageNet weights (an offline asset, sha256-checked)."""
    if name not in PRETRAINED_ASSETS:
        raise ValueError(f"no offline ImageNet weights for {name}; available for "
                         f"{', '.join(PRETRAINED_ASSETS)} (other backbones train from scratch)")
    asset = PRETRAINED_ASSETS[name]
    state = torch.load(asset_path(asset), map_location="cpu", weights_only=True)
    own = backbone.state_dict()
    missing = [key for key in own if key not in state]
    if missing:
        raise ValueError(f"the {asset} weights do not fit {name}: missing {missing[:3]}")
    backbone.load_state_dict({key: state[key] for key in own})


def build_backbone(name: str) -> tuple[nn.Module, int]:
    """The named torchvision network without its classifier, and its feature size."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")
    extra = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    network = models.get_model(name, weights=None, **extra)
    if hasattr(network, "fc"):
        network.fc = nn.Identity()
    elif name == "squeezenet1_1":
        network.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    else:
        network.classifier = nn.Identity()
    network.eval()
    with torch.no_grad():
        size = _MIN_SIDE.get(name, _DEFAULT_MIN_SIDE)
        features = network(torch.zeros(1, 3, size, size)).shape[1]
    network.train()
    return network, features


class EmotionNet(nn.Module):
    """backbone -> dense layers -> logits over ``n_classes``."""

    def __init__(self, backbone: str, n_classes: int, head: HeadOptions = HeadOptions(),
                 extra_features: int = 0, flip_average: bool = False):
        super().__init__()
        # in eval mode, average the embedding of the input and of its mirror image (faces: a
        # left-right flip keeps the expression); the classifier is linear, so logits average too
        self.flip_average = flip_average
        self.backbone_name = backbone
        self.backbone, width = build_backbone(backbone)
        self.min_side = _MIN_SIDE.get(backbone, _DEFAULT_MIN_SIDE)
        self.extra_features = extra_features
        layers: list[nn.Module] = []
        width += extra_features  # e.g. face landmarks concatenated after the CNN
        for _ in range(head.layers):
            layers.append(nn.Linear(width, head.units))
            if head.batch_norm:
                layers.append(nn.BatchNorm1d(head.units))
            layers += [nn.ReLU(inplace=True), nn.Dropout(head.dropout)]
            width = head.units
        self.head = nn.Sequential(*layers)
        self.embedding_size = width
        self.classifier = nn.Linear(width, n_classes)
        self.head_options = head

    def embed(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        if self.flip_average and not self.training:  # the faces and their mirror images in one pass
            both = self.embed_as_is(torch.cat([x, x.flip(-1)]), None if extra is None else torch.cat([extra, extra]))
            return (both[:len(x)] + both[len(x):]) / 2
        return self.embed_as_is(x, extra)

    def embed_as_is(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """The embedding of ``x`` alone, without the mirror-image average (Grad-CAM maps must
        line up with the picture)."""
        height, width = x.shape[-2:]
        if min(height, width) < self.min_side:
            scale = self.min_side / min(height, width)
            x = F.interpolate(x, size=(max(self.min_side, round(height * scale)),
                                       max(self.min_side, round(width * scale))),
                              mode="bilinear", align_corners=False)
        features = self._backbone_for(x)(x)
        if extra is not None:
            features = torch.cat([features, extra], dim=1)
        return self.head(features)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(self.embed(x, extra))

    def _backbone_for(self, x: torch.Tensor) -> nn.Module:
        """The backbone, or in inference (eval mode, no gradient, float32 on the CPU) a frozen
        TorchScript copy of it with batch norms folded into the convolutions: MobileNetV2 on a
        window's 16 face crops and their mirror images runs about 2.6x faster on one CPU thread
        (bench/face_cnn.py), outputs equal to 1e-6. Training and Grad-CAM, which need gradients,
        use the backbone itself."""
        if (self.training or torch.is_grad_enabled() or x.dtype != torch.float32 or x.device.type != "cpu"
                or torch.is_autocast_enabled("cpu")):
            return self.backbone
        # the copy is made again once any weight or statistic has changed in place (an optimizer
        # step, a weight average, loaded weights): each change raises its tensor's version
        version = sum(t._version for t in (*self.backbone.parameters(), *self.backbone.buffers()))
        frozen, made_at = self.__dict__.get("_frozen_backbone", (None, None))  # not in state_dict
        if frozen is None or made_at != version:
            frozen = self._frozen_copy(x)
            self.__dict__["_frozen_backbone"] = (frozen, version)
        return frozen

    def _frozen_copy(self, x: torch.Tensor) -> nn.Module:
        try:
            # torch.jit's warnings are its own (deprecated for torch.compile, which needs a C++
            # compiler at run time; GoogLeNet's scripted outputs): the check below judges the copy
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frozen = torch.jit.optimize_for_inference(
                    torch.jit.freeze(torch.jit.script(copy.deepcopy(self.backbone).eval())))
                out = frozen(x)
            # some scripted families answer otherwise (GoogLeNet: its aux-logits tuple)
            if not isinstance(out, torch.Tensor) or not torch.allclose(out, self.backbone(x), rtol=1e-3, atol=1e-4):
                raise RuntimeError("the frozen copy does not answer as the backbone does")
            return frozen
        except Exception as error:  # noqa: BLE001 - any failure (a family TorchScript cannot
            # compile, a torch without torch.jit) leaves the backbone as it is: slower, same answers
            logging.getLogger(__name__).info("%s runs unfrozen: %s", self.backbone_name, error)
            return self.backbone

    def __getstate__(self) -> dict:  # a copy (copy.deepcopy) makes its own frozen backbone
        state = self.__dict__.copy()
        state.pop("_frozen_backbone", None)
        return state

    def config(self) -> dict:
        """What rebuilds this network: ``EmotionNet.from_config(net.config())``."""
        return {"backbone": self.backbone_name, "n_classes": self.classifier.out_features,
                "head": asdict(self.head_options), "extra_features": self.extra_features,
                "flip_average": self.flip_average}

    @classmethod
    def from_config(cls, config: dict) -> "EmotionNet":
        return cls(config["backbone"], config["n_classes"], HeadOptions(**config["head"]),
                   config["extra_features"], config.get("flip_average", False))


class EnsembleHead(nn.Module):
    """The members' classifiers, each over its part of the joined embedding: the log of the mean
    of their calibrated probabilities, so a softmax of the output is that mean."""

    def __init__(self, sizes: list[int], temperatures: list[float], n_classes: int):
        super().__init__()
        self.sizes = [int(size) for size in sizes]
        self.temperatures = [float(t) for t in temperatures]
        self.heads = nn.ModuleList(nn.Linear(size, n_classes) for size in self.sizes)
        self.in_features, self.out_features = sum(self.sizes), n_classes

    def forward(self, embedded: torch.Tensor) -> torch.Tensor:
        parts = embedded.split(self.sizes, dim=1)
        probabilities = torch.stack([torch.softmax(head(part) / temperature, dim=1) for head, part, temperature
                                     in zip(self.heads, parts, self.temperatures)]).mean(0)
        return probabilities.clamp_min(1e-12).log()

    def config(self) -> dict:
        return {"sizes": self.sizes, "temperatures": self.temperatures, "n_classes": self.out_features}


class EnsembleNet(nn.Module):
    """Networks trained apart on the same inputs and labels, used as one.

    The embedding is the members' embeddings side by side (the combined model reads all of
    them); the classifier is an ``EnsembleHead`` over the members' own classifier layers (shared
    with them). On the voice validation speakers, averaging calibrated probabilities beat
    averaging logits (0.622 against 0.600 accuracy for three members).
    """

    def __init__(self, members: list[EmotionNet], temperatures: list[float]):
        super().__init__()
        if len(members) < 2 or len(temperatures) != len(members):
            raise ValueError("an ensemble needs two or more members, each with its temperature")
        if len({m.classifier.out_features for m in members}) != 1:
            raise ValueError("the members of an ensemble must have the same labels")
        self.members = nn.ModuleList(members)
        self.classifier = EnsembleHead([m.embedding_size for m in members], temperatures,
                                       members[0].classifier.out_features)
        for member, head in zip(members, self.classifier.heads):
            head.load_state_dict(member.classifier.state_dict())
            member.classifier = head
        self.embedding_size = self.classifier.in_features

    def embed(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat([member.embed(x, extra) for member in self.members], dim=1)

    def embed_as_is(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """The members' embeddings of ``x`` alone, without their mirror-image average."""
        return torch.cat([member.embed_as_is(x, extra) for member in self.members], dim=1)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        return self.classifier(self.embed(x, extra))

    def config(self) -> dict:
        return {"members": [m.config() for m in self.members], "temperatures": self.classifier.temperatures}

    @classmethod
    def from_config(cls, config: dict) -> "EnsembleNet":
        return cls([EmotionNet.from_config(m) for m in config["members"]], config["temperatures"])


def network_from_config(config: dict) -> EmotionNet | EnsembleNet:
    """The single network or the ensemble that a saved ``config()`` describes."""
    return EnsembleNet.from_config(config) if "members" in config else EmotionNet.from_config(config)
