"""Stable face ids across frames: boxes matched to live tracks by overlap (Hungarian)."""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class Track:
    track_id: int
    box: tuple[float, float, float, float]
    last_seen_s: float
    first_seen_s: float
    frames: int = 0
    total_area: float = 0.0  # summed box area: the largest face over time is the subject


def iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class FaceTracker:
    """Give each face box the id of the track it continues, or a new id."""

    def __init__(self, min_iou: float = 0.3, max_gap_s: float = 2.0):
        self.min_iou = min_iou
        self.max_gap_s = max_gap_s
        self.tracks: dict[int, Track] = {}  # every track ever seen (small: a few per video)
        self._next_id = 0

    def update(self, time_s: float, boxes: list[tuple[float, float, float, float]]) -> list[int]:
        live = [t for t in self.tracks.values() if time_s - t.last_seen_s <= self.max_gap_s]
        ids: list[int | None] = [None] * len(boxes)
        if live and boxes:
            overlap = np.array([[iou(box, track.box) for track in live] for box in boxes])
            for row, col in zip(*linear_sum_assignment(-overlap)):
                if overlap[row, col] >= self.min_iou:
                    ids[row] = live[col].track_id
        # new faces get ids left to right, so ids are reproducible
        for row in sorted((r for r, i in enumerate(ids) if i is None), key=lambda r: boxes[r][0]):
            ids[row] = self._next_id
            self.tracks[self._next_id] = Track(self._next_id, boxes[row], time_s, time_s)
            self._next_id += 1
        for box, track_id in zip(boxes, ids):
            track = self.tracks[track_id]
            track.box, track.last_seen_s = box, time_s
            track.frames += 1
            track.total_area += (box[2] - box[0]) * (box[3] - box[1])
        return ids

    def assign(self, time_s: float, faces: list) -> None:
        """Set ``track_id`` on each face (``FaceDetection``) of the frame at ``time_s``."""
        for face, track_id in zip(faces, self.update(time_s, [f.box for f in faces])):
            face.track_id = track_id

    def subject_id(self) -> int | None:
        """The track with the largest summed face area: the default subject."""
        if not self.tracks:
            return None
        return max(self.tracks.values(), key=lambda t: t.total_area).track_id
