"""The face model in the model registry (names only: the model and its commands are imported when
used), and what ``run.py tune --model face`` searches."""

from ..registry import ModelEntry, ShippedWeights, TrainingCommands, register_model
from ..tuning.space import cnn_head_space

# what tune searches (see ``tuning.space`` for the range kinds); only mobilenet_v2 has offline
# ImageNet weights, so the others start from scratch
SEARCH_SPACE = {
    "backbone": ("choice", [{"backbone": "mobilenet_v2", "imagenet": True},
                            {"backbone": "resnet18", "imagenet": False},
                            {"backbone": "shufflenet_v2_x1_0", "imagenet": False}]),
    **cnn_head_space([32, 64, 128]),
}

register_model(ModelEntry(
    name="face",
    branch="face",
    description="face: CNN on aligned grayscale face crops, calibrated probabilities of 7 emotions",
    loader="source.face.model:FaceModel.load",
    weights=ShippedWeights("face/face_mobilenet_v2.pt",
                           "85f504137094dcd74bb101bb2877f342bb4f63d5106f2f7b610ffbb910a64096"),
    commands=TrainingCommands(
        recipe="source.face.train:FaceRecipe", unit="image", out="face_{recipe.backbone}.pt",
        train="source.face.train:train_face", evaluate="source.face.train:evaluate_face",
        prepare="source.face.train:prepare_faces", ensemble="source.face.train:ensemble_face",
        ensemble_out="face_ensemble.pt", search_space=SEARCH_SPACE,
    ).commands(predict="source.cli.face:predict"),
))

register_model(ModelEntry(
    name="face_geometry",
    branch="landmarks",
    description="face geometry: gradient-boosted trees on MediaPipe's landmarks and blendshapes, averaged "
                "into the face model it was trained beside (no picker offers it: it joins that model)",
    loader="source.face.geometry:FaceGeometry.load",
    weights=ShippedWeights("face_geometry/face_geometry.npz",
                           "209f3413e10d0239f7290671a978666b46a9bfc5254f9f406196cf069effcaa3"),
    commands={"train": "source.cli.face_geometry:train", "evaluate": "source.cli.face_geometry:evaluate"},
))
