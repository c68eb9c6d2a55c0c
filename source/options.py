"""Frozen option sets shared by every front end (CLI, app, service)."""

from dataclasses import dataclass, field

SAMPLE_RATE = 16_000  # every audio branch works on 16 kHz mono float32
FUSION_METHODS = ("auto", "late")  # besides these, any fusion model of the registry by name
# the face branch's models: the shipped CNN, or the ResNet-50 + ViT hybrid (with a trained file)
FACE_MODELS = ("face", "image_vit")
# class activation map methods of pytorch-grad-cam (face/cam.py maps each name to its class)
CAM_METHODS = ("gradcam", "gradcam++", "scorecam", "eigencam", "xgradcam", "layercam")


@dataclass(frozen=True)
class WindowOptions:
    """How media is cut into analysis windows."""

    window_s: float = 4.0
    hop_s: float | None = None  # None: hop = window (no overlap)
    fps: float = 4.0  # frames sampled per second of video
    min_duration_s: float = 1.5  # shorter inputs are rejected; a shorter tail window is dropped
    max_frame_side: int = 1280  # larger frames are scaled down before face detection

    def __post_init__(self):
        if self.window_s <= 0 or self.fps <= 0:
            raise ValueError("window length and fps must be positive")
        if self.hop_s is not None and self.hop_s <= 0:
            raise ValueError("hop must be positive")
        if self.min_duration_s > self.window_s:
            raise ValueError(
                f"window ({self.window_s} s) must be at least the minimum duration "
                f"({self.min_duration_s} s)"
            )

    @property
    def hop(self) -> float:
        return self.window_s if self.hop_s is None else self.hop_s

    @property
    def frames_per_window(self) -> int:
        return round(self.window_s * self.fps)


@dataclass(frozen=True)
class FaceOptions:
    """Face landmarking and tracking (crops are cut by the face model's own transform)."""

    max_faces: int = 4
    min_detection_confidence: float = 0.5
    track_iou: float = 0.3  # a face continues a track when its box overlaps this much
    track_max_gap_s: float = 2.0  # a track survives this long without a match


@dataclass(frozen=True)
class CamOptions:
    """A class activation map of the face model over the photo."""

    method: str = "gradcam"
    target: str | None = None  # the emotion to explain; None: each face's top emotion
    # a module name such as "backbone.features.13" (in each member of an ensemble, or one per
    # member, comma-separated); None: the face model's default
    layer: str | None = None
    alpha: float = 0.45  # opacity of the heat map over the face

    def __post_init__(self):
        if self.method not in CAM_METHODS:
            raise ValueError(f"unknown CAM method {self.method!r}; choose from {', '.join(CAM_METHODS)}")


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything ``analyze`` needs besides the input path."""

    windows: WindowOptions = field(default_factory=WindowOptions)
    faces: FaceOptions = field(default_factory=FaceOptions)
    face: bool = True
    audio: bool = True
    face_model: str = "face"  # one of FACE_MODELS
    face_weights: str | None = None  # face model file; None: the shipped model
    voice_weights: str | None = None  # voice model file; None: the shipped model
    words: bool = True  # transcribe speech (Whisper) and score the words of each window
    whisper_model: str = "tiny.en"  # "tiny.en", "base" (multilingual) or a model path
    # "auto": the shipped combined model when there is one and it was trained on the face and
    # voice models in use, else late fusion; "late": the mean of the branches present; any other
    # name: that fusion model of the registry ("combined", "xattn_fusion", ...), with fusion_weights
    fusion: str = "auto"
    fusion_weights: str | None = None  # the fusion model's file; None: the shipped one
    smooth_windows: int = 1  # centred moving average of the fused probabilities; 1: none
    plots: bool = True  # timeline, distribution and heatmap (PNG and HTML) beside the CSV

    def __post_init__(self):
        if self.face_model not in FACE_MODELS:
            raise ValueError(f"face_model must be one of {', '.join(FACE_MODELS)}, not {self.face_model!r}")
        if not self.fusion:
            raise ValueError("fusion needs a method: auto, late or a fusion model's name")
        if self.smooth_windows < 1:
            raise ValueError(f"smoothing needs at least 1 window, not {self.smooth_windows}")
