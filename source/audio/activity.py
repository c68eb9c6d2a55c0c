"""Speech activity moved to :mod:`source.media.speech` (the media layer: the voice and words
branches and the analysis all use it). These names stay importable from here for the modules
that have not moved yet (``analysis.pipeline``, ``fusion.research.predict``, ``audio.model``)."""

from ..media.speech import (  # noqa: F401
    MIN_SPEECH_S,
    SILENCE_DB,
    SPAN_PAD_S,
    VAD_THRESHOLD,
    speech_activity,
    speech_segments,
    speech_span,
)
