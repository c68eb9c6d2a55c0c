"""Where the face model looked: class activation maps (pytorch-grad-cam) laid over the photo.

The map is computed on the model's own face crop, for any of its classes and on any layer,
then warped back through the crop's alignment onto the original picture.
"""

from dataclasses import replace

import cv2
import numpy as np
import torch
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from ..nets import EnsembleNet
from ..options import CAM_METHODS, CamOptions
from .align import crop_affine
from .landmarker import FaceDetection
from .model import FaceModel

CAM_CLASSES = dict(zip(CAM_METHODS, (GradCAM, GradCAMPlusPlus, ScoreCAM, EigenCAM, XGradCAM, LayerCAM)))
MIN_MAP_SIDE = 4  # the default layer is the deepest whose map is at least this many cells a side


def _networks(model: FaceModel) -> list[nn.Module]:
    """The model's network, or an ensemble's members: each member is explained on its own layer
    and their maps are averaged (pytorch-grad-cam's multi-layer mean)."""
    return list(model.network.members) if isinstance(model.network, EnsembleNet) else [model.network]


def _deepest_layer(network: nn.Module, model: FaceModel) -> str:
    """The deepest backbone block (at most two levels down) whose map is >= MIN_MAP_SIDE a side:
    the last block of small inputs is only 2x2 cells, too coarse to show anything."""
    order: list[tuple[str, int]] = []
    hooks = []
    for name, module in network.backbone.named_modules():
        if name and name.count(".") <= 1:
            hooks.append(module.register_forward_hook(
                lambda _m, _i, out, name=name: order.append((name, out.shape[-1]))
                if isinstance(out, torch.Tensor) and out.dim() == 4 else None))
    try:
        size = model.transform.size
        extra = torch.zeros(1, model.transform.extra_features) if model.transform.landmarks else None
        with torch.enable_grad():  # hooks fire in the backbone itself, not in its frozen inference copy
            network(torch.zeros(1, 3, size, size), extra)
    finally:
        for hook in hooks:
            hook.remove()
    usable = [name for name, side in order if side >= MIN_MAP_SIDE]
    return "backbone." + (usable or [name for name, _ in order])[-1]


def default_layer(model: FaceModel) -> str:
    """The layer explained by default: the deepest backbone block with a map of at least
    MIN_MAP_SIDE cells. An ensemble's members are named alike when that layer has the same name
    in each, else one name per member, comma-separated."""
    names = [_deepest_layer(network, model) for network in _networks(model)]
    return names[0] if len(set(names)) == 1 else ", ".join(names)


def target_layers(model: FaceModel, layer: str) -> list[nn.Module]:
    """The modules ``layer`` names: one name (in every member of an ensemble) or one per member."""
    networks = _networks(model)
    names = [name.strip() for name in layer.split(",")]
    if len(names) == 1:
        names *= len(networks)
    if len(names) != len(networks):
        raise ValueError(f"give one layer, or one per member of the ensemble ({len(networks)}), not {layer!r}")
    try:
        return [network.get_submodule(name) for network, name in zip(networks, names)]
    except AttributeError:
        raise ValueError(f"the model has no layer {layer!r}; e.g. {default_layer(model)}") from None


class _WithExtras(nn.Module):
    """The network with its landmark features fixed, so CAM libraries see one input, and without
    the mirror-image average, so the map lines up with the face as it is."""

    def __init__(self, network: nn.Module, extra: torch.Tensor | None):
        super().__init__()
        self.network, self.extra = network, extra

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        extra = None if self.extra is None else self.extra.expand(images.shape[0], -1)
        return self.network.classifier(self.network.embed_as_is(images, extra))


def face_cam(model: FaceModel, face: np.ndarray, extra: np.ndarray | None = None,
             options: CamOptions = CamOptions()) -> tuple[np.ndarray, str]:
    """(heat map over the model's crop, size x size in 0..1; the emotion it explains)."""
    inputs = model.inputs([face], None if extra is None else [extra])
    if options.target is None:
        target = model.labels[int(model.logits(inputs)[0].argmax())]
    elif options.target in model.labels:
        target = options.target
    else:
        raise ValueError(f"the model has no class {options.target!r}; it has {', '.join(model.labels)}")
    layers = target_layers(model, options.layer or default_layer(model))
    wrapped = _WithExtras(model.network, inputs[1] if len(inputs) > 1 else None).eval()
    with CAM_CLASSES[options.method](model=wrapped, target_layers=layers) as cam:
        heat = cam(input_tensor=inputs[0], targets=[ClassifierOutputTarget(model.labels.index(target))])[0]
    return np.nan_to_num(heat).astype(np.float32), target


def overlay_heat(frame: np.ndarray, heat: np.ndarray, affine: np.ndarray, alpha: float) -> np.ndarray:
    """``frame`` (RGB) with a crop's heat map warped back onto it through the crop's ``affine``."""
    height, width = frame.shape[:2]
    back = cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
    heat_full = cv2.warpAffine(heat, affine, (width, height), flags=back, borderValue=0)
    inside = cv2.warpAffine(np.ones_like(heat), affine, (width, height), flags=back, borderValue=0)
    colour = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * np.clip(heat_full, 0, 1)), cv2.COLORMAP_JET),
                          cv2.COLOR_BGR2RGB)
    weight = (alpha * inside)[..., None]
    return np.uint8(np.clip(frame * (1 - weight) + colour * weight, 0, 255))


def explain_faces(model: FaceModel, frame: np.ndarray, faces: list[FaceDetection],
                  options: CamOptions = CamOptions()) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Per face of an RGB frame: (the model's crop, the heat map over it, the emotion explained)."""
    options = replace(options, layer=options.layer or default_layer(model))  # found once, not per face
    crops, extras = model.detection_inputs(frame, faces)
    return [(crop, *face_cam(model, crop, extras[index] if extras else None, options))
            for index, crop in enumerate(crops)]


def draw_explanations(model: FaceModel, frame: np.ndarray, faces: list[FaceDetection],
                      explanations: list[tuple[np.ndarray, np.ndarray, str]],
                      options: CamOptions = CamOptions()) -> np.ndarray:
    """The RGB frame with every face's heat map warped onto it, its box and the emotion explained."""
    out = frame.copy()
    for face, (_, heat, target) in zip(faces, explanations):
        affine = crop_affine(face.landmarks, model.transform.size, model.transform.crop_margin)
        out = overlay_heat(out, heat, affine, options.alpha)
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        thickness = max(1, round(max(frame.shape[:2]) / 400))
        cv2.rectangle(out, (x0, y0), (x1, y1), (255, 255, 255), thickness)
        cv2.putText(out, f"{options.method}: {target}", (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thickness, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def cam_overlay(model: FaceModel, frame: np.ndarray, faces: list[FaceDetection],
                options: CamOptions = CamOptions()) -> tuple[np.ndarray, list[str]]:
    """The RGB frame with every face's heat map over it, its box and the emotion explained."""
    explanations = explain_faces(model, frame, faces, options)
    return (draw_explanations(model, frame, faces, explanations, options),
            [target for _, _, target in explanations])
