"""Fusion of the face, voice and words branches into one prediction per window."""
