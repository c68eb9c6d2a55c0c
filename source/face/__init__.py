"""Faces: landmarks and blendshapes (MediaPipe), aligned crops, tracking across frames."""
