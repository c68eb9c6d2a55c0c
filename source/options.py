"""Frozen option sets shared by every front end (CLI, app, service)."""

import math
from dataclasses import dataclass, field

SAMPLE_RATE = 16_000  # every audio branch works on 16 kHz mono float32
# class activation map methods of pytorch-grad-cam (face/cam.py maps each name to its class)
CAM_METHODS = ("gradcam", "gradcam++", "scorecam", "eigencam", "xgradcam", "layercam")
# the windows the figures were measured on, and every learned fusion model trained on: 16 face
# frames (fusion.data.FRAMES) at 4 frames per second and the speech of those seconds
TRAINED_WINDOW_S = 4.0

# the range of every numeric analysis setting (inclusive): a setting outside it is refused, so no
# request can make the frame sampling step 0 or the number of windows unbounded
LIMITS = {
    "window": (0.5, 600.0),  # seconds per window (and at least min_duration_s: 1.5 s by default)
    "hop": (0.25, 600.0),  # seconds between window starts
    "fps": (0.1, 240.0),  # video frames sampled per second
    "max_faces": (1, 20),  # faces tracked per frame
    "max_frame_side": (64, 4096),  # pixels: larger frames are scaled down to this
    "smooth": (1, 51),  # windows averaged per window
}


def check_range(name: str, value, label: str | None = None) -> None:
    """Raise ValueError (one line) unless ``value`` is a finite number within ``LIMITS[name]``."""
    low, high = LIMITS[name]
    label = label or name
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{label} must be a number, not {value!r}")
    if isinstance(low, int) and isinstance(high, int) and value != int(value):
        raise ValueError(f"{label} must be a whole number, not {value}")
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{label} must be between {low:g} and {high:g}, not {value:g}")


def window_length_note(window_s: float, fusion_model: str | None = None) -> str | None:
    """What windows of ``window_s`` seconds do that 4-s ones do not; ``fusion_model``: the learned
    fusion model used (None: late fusion). None for 4-s windows.

    The voice models hear a longer window whole (in pieces of what they hear at once,
    ``voice.pieces``), the face model scores every frame and the words are the window's: only a
    learned fusion model, trained on 4-s windows, reads a window of another length unlike anything
    it learned from."""
    if window_s == TRAINED_WINDOW_S:
        return None
    if fusion_model is not None:
        return (f"The {fusion_model} fusion model was trained on {TRAINED_WINDOW_S:g}-s windows (16 face frames "
                f"each): {window_s:g}-s windows are read as 16 frames spread over each and the speech of all of it, "
                f"which it was never trained or measured on. {TRAINED_WINDOW_S:g}-s windows or late fusion avoid this.")
    if window_s > TRAINED_WINDOW_S:
        return (f"Each {window_s:g}-s window is heard and seen whole (the voice model scores each part it can hear "
                f"at once and averages them): a change of emotion shorter than a window is averaged away. The "
                f"models' figures were measured on {TRAINED_WINDOW_S:g}-s windows.")
    return (f"{window_s:g}-s windows give each model less to go on (fewer frames and words, less speech) than the "
            f"{TRAINED_WINDOW_S:g}-s windows their figures were measured on.")


@dataclass(frozen=True)
class WindowOptions:
    """How media is cut into analysis windows."""

    window_s: float = 4.0
    hop_s: float | None = None  # None: hop = window (no overlap)
    fps: float = 4.0  # frames sampled per second of video
    min_duration_s: float = 1.5  # shorter inputs are rejected; a shorter tail window is dropped
    max_frame_side: int = 1280  # larger frames are scaled down before face detection

    def __post_init__(self):
        check_range("window", self.window_s, "the window length (s)")
        if self.hop_s is not None:
            check_range("hop", self.hop_s, "the hop (s)")
        check_range("fps", self.fps)
        check_range("max_frame_side", self.max_frame_side, "the largest frame side (px)")
        if not math.isfinite(self.min_duration_s) or self.min_duration_s <= 0:
            raise ValueError(f"the minimum duration must be positive, not {self.min_duration_s}")
        if self.min_duration_s > self.window_s:
            raise ValueError(
                f"window ({self.window_s} s) must be at least the minimum duration "
                f"({self.min_duration_s} s)"
            )

    @property
    def hop(self) -> float:
        return self.window_s if self.hop_s is None else self.hop_s


@dataclass(frozen=True)
class FaceOptions:
    """Face landmarking and tracking (crops are cut by the face model's own transform)."""

    max_faces: int = 4
    min_detection_confidence: float = 0.5
    track_iou: float = 0.3  # a face continues a track when its box overlaps this much
    track_max_gap_s: float = 2.0  # a track survives this long without a match

    def __post_init__(self):
        check_range("max_faces", self.max_faces, "the most faces per frame")
        for name in ("min_detection_confidence", "track_iou"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if not (isinstance(self.track_max_gap_s, (int, float)) and 0 <= self.track_max_gap_s < math.inf):
            raise ValueError(f"track_max_gap_s must be a finite number of seconds, not {self.track_max_gap_s!r}")


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
    audio: bool = True  # the sound track: the voice branch and the words (``words`` turns those off alone)
    face_model: str = "face"  # a face model of the registry (registry.branch_models("face"))
    face_weights: str | None = None  # face model file; None: the shipped model
    # a voice model of the registry (registry.branch_models("voice")); None: none, the words alone
    # hear the audio (``predict --model text``)
    voice_model: str | None = "voice_whisper"
    voice_weights: str | None = None  # voice model file; None: the shipped model
    words: bool = True  # transcribe speech (Whisper) and score the words of each window
    whisper_model: str = "tiny.en"  # "tiny.en", "base" (multilingual) or a model path
    # a fusion of the registry (registry.branch_models("fusion")): "late", the reliability- and
    # evidence-weighted mean of the branches present, or a learned model ("combined", ...); "auto":
    # the one that did best on the real-video set (late), or with fusion_weights the model of that file
    fusion: str = "auto"
    fusion_weights: str | None = None  # the fusion model's file; None: the shipped one
    smooth_windows: int = 1  # centred moving average of the fused probabilities; 1: none
    plots: bool = True  # timeline, distribution and heatmap (PNG and HTML) beside the CSV

    def __post_init__(self):
        from .registry import branch_models, canonical_name  # tables of names: no model code is imported

        for setting, branch in (("face_model", "face"), ("voice_model", "voice")):
            if setting == "voice_model" and self.voice_model is None:
                continue  # no voice model: the words alone hear the audio
            object.__setattr__(self, setting, canonical_name(getattr(self, setting)))  # a former name
            if (name := getattr(self, setting)) not in (names := branch_models(branch)):
                raise ValueError(f"{setting} must be one of {', '.join(names)}, not {name!r}")
        if not self.fusion:
            raise ValueError("fusion needs a method: auto, late or a fusion model's name")
        check_range("smooth", self.smooth_windows, "smoothing (windows)")
