"""Emotion Studio: multimodal (face, voice, words) emotion recognition over time."""

__version__ = "0.1.0"
