"""Who is who in an analysis with several faces: each person's thumbnail (cut from the analysed
video where that face was largest), one timeline row per person (its own fused emotion, and where
it speaks), and the speaker of the picked window marked under the player.

The player cannot tell the app its current time, so the mark follows the picked window (the
window slider, or a click on any timeline), which is also where the player starts.
"""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from .charts import person_figure

if TYPE_CHECKING:
    from ..results.records import AnalysisResult

THUMBNAIL_PX = 96
MAX_PEOPLE_ROWS = 6  # more people than this: the rest are named under the rows


def face_ids(windows: list[dict]) -> list[int]:
    """Every face id seen in the windows, in order."""
    return sorted({face["face_id"] for window in windows for face in window.get("faces") or []})


def has_several_people(windows: list[dict]) -> bool:
    return len(face_ids(windows)) > 1


def people_in_order(windows: list[dict], people: list[dict] | None) -> list[dict]:
    """The summary's people (face id, dominant emotion, seconds seen and speaking), those who speak
    longest first, then those seen longest; faces missing from the summary are added."""
    known = {p["face_id"]: p for p in people or []}
    for face_id in face_ids(windows):
        known.setdefault(face_id, {"face_id": face_id, "dominant_emotion": None, "seen_s": 0.0, "speaking_s": 0.0})
    return sorted(known.values(), key=lambda p: (-p["speaking_s"], -p["seen_s"], p["face_id"]))


def largest_boxes(frames_csv: str | Path) -> dict[int, tuple[float, tuple[float, float, float, float]]]:
    """Per face id, (source time, box in the original picture's pixels) of the frame where its box is
    largest: the sharpest view of that face the analysis saw."""
    best: dict[int, tuple[float, float, tuple]] = {}
    with open(frames_csv, newline="") as file:
        for row in csv.DictReader(file):
            if not row.get("face_id"):
                continue
            box = tuple(float(row[k]) for k in ("x0", "y0", "x1", "y1"))
            area = (box[2] - box[0]) * (box[3] - box[1])
            face_id = int(row["face_id"])
            if face_id not in best or area > best[face_id][0]:
                best[face_id] = (area, float(row["source_time_s"] or row["time_s"]), box)
    return {face_id: (time_s, box) for face_id, (_, time_s, box) in best.items()}


def frames_at(path: str | Path, times_s: list[float]) -> dict[float, np.ndarray]:
    """The RGB frame on screen at each time (seconds from the container's start, as the frames CSV's
    ``source_time_s``), seeking to the key frame before each."""
    import av

    from ..media.decode import _container_start

    found: dict[float, np.ndarray] = {}
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic)
        origin = _container_start(container)
        for wanted in sorted(set(times_s)):
            container.seek(max(0, int((wanted + origin) / stream.time_base)), stream=stream, backward=True)
            shown = None
            for frame in container.decode(stream):
                if frame.time is None:
                    continue
                if shown is not None and frame.time - origin > wanted + 1e-3:
                    break
                shown = frame
            if shown is not None:
                found[wanted] = shown.to_ndarray(format="rgb24")
    return found


def crop_face(image: np.ndarray, box: tuple[float, float, float, float], size: int = THUMBNAIL_PX,
              margin: float = 0.25) -> np.ndarray:
    """A square crop around ``box`` with ``margin`` of its size on each side, scaled to ``size``; what
    falls outside the picture (a face at its edge) is grey, so the face stays in the middle."""
    from PIL import Image

    x0, y0, x1, y1 = box
    side = max(1, round(max(x1 - x0, y1 - y0) * (1 + 2 * margin)))
    left, top = round((x0 + x1 - side) / 2), round((y0 + y1 - side) / 2)
    height, width = image.shape[:2]
    square = np.full((side, side, 3), 128, dtype=np.uint8)
    inside = image[max(0, top):min(height, top + side), max(0, left):min(width, left + side)]
    square[max(0, -top):max(0, -top) + inside.shape[0], max(0, -left):max(0, -left) + inside.shape[1]] = inside
    return np.asarray(Image.fromarray(square).resize((size, size), Image.Resampling.LANCZOS))


@st.cache_data(show_spinner="Cutting the faces' thumbnails…", max_entries=8)
def face_thumbnails(video: str, frames_csv: str, modified: float, wanted: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Per face id in ``wanted``, its thumbnail (``modified``: the frames CSV's time, so a new
    analysis is read anew)."""
    boxes = {face_id: seen for face_id, seen in largest_boxes(frames_csv).items() if face_id in wanted}
    frames = frames_at(video, [time_s for time_s, _ in boxes.values()])
    return {face_id: crop_face(frames[time_s], box) for face_id, (time_s, box) in boxes.items() if time_s in frames}


def thumbnails_of(result: AnalysisResult, wanted: list[int]) -> dict[int, np.ndarray]:
    """The thumbnails of the faces ``wanted``, or {} where there is no video or frames CSV to cut them from (or the
    file is gone)."""
    frames_csv = result.outputs.get("frames_csv")
    if result.info.kind != "video" or not frames_csv or not Path(frames_csv).exists():
        return {}
    import av

    try:
        return face_thumbnails(str(result.info.path), str(frames_csv), Path(frames_csv).stat().st_mtime,
                               tuple(sorted(wanted)))
    except (OSError, ValueError, StopIteration, av.error.FFmpegError) as error:  # moved or unreadable video
        st.caption(f"No thumbnails: {Path(result.info.path).name} could not be read ({error}).")
        return {}


SPEAKER_COLOUR = (255, 200, 0)  # the speaker's box on the marked frame
OTHER_COLOUR = (255, 255, 255)


def boxes_near(frames_csv: str | Path, time_s: float) -> tuple[float, dict[int, tuple[float, float, float, float]]]:
    """(source time, {face id: box}) of the sampled frame nearest ``time_s`` that shows a face."""
    best: tuple[float, float, dict] | None = None  # (distance, source time, boxes)
    with open(frames_csv, newline="") as file:
        for row in csv.DictReader(file):
            if not row.get("face_id"):
                continue
            distance = abs(float(row["time_s"]) - time_s)
            if best is None or distance < best[0] - 1e-9:
                best = (distance, float(row["source_time_s"] or row["time_s"]), {})
            if abs(distance - best[0]) <= 1e-9:
                best[2][int(row["face_id"])] = tuple(float(row[k]) for k in ("x0", "y0", "x1", "y1"))
    return (best[1], best[2]) if best else (time_s, {})


def mark_faces(image: np.ndarray, boxes: dict[int, tuple], speaker: int | None) -> np.ndarray:
    """``image`` with each face boxed and numbered: the speaker's box thick and coloured."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    width = max(2, round(max(image.shape[:2]) / 250))  # line width: 2 px up to 500 px pictures
    font = ImageFont.load_default(size=7 * width)
    for face_id, (x0, y0, x1, y1) in sorted(boxes.items(), key=lambda item: item[0] == speaker):  # speaker on top
        speaking = face_id == speaker
        colour = SPEAKER_COLOUR if speaking else OTHER_COLOUR
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=2 * width if speaking else width)
        label = f"Face {face_id}" + (" speaking" if speaking else "")
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        y = y0 - (bottom - top) - 2 * width if y0 >= (bottom - top) + 2 * width else y1
        draw.rectangle((x0, y, x0 + right - left + 2 * width, y + bottom - top + 2 * width), fill=colour)
        draw.text((x0 + width - left, y + width - top), label, fill=(0, 0, 0), font=font)
    return np.asarray(picture)


@st.cache_data(show_spinner=False, max_entries=32)
def marked_frame(video: str, frames_csv: str, modified: float, time_s: float, speaker: int | None) -> np.ndarray | None:
    """The frame nearest ``time_s`` with its faces marked (None: no face there)."""
    source_s, boxes = boxes_near(frames_csv, time_s)
    if not boxes:
        return None
    frame = frames_at(video, [source_s]).get(source_s)
    return mark_faces(frame, boxes, speaker) if frame is not None else None


def person_label(person: dict) -> str:
    line = f"**Face {person['face_id']}**"
    if person.get("dominant_emotion"):
        line += f" · mostly {person['dominant_emotion']}"
    return line + f"  \nspeaks {person['speaking_s']:.1f} s · seen {person['seen_s']:.1f} s"


def speaker_caption(window: dict) -> str:
    """Who speaks in the picked window, for the line under the player."""
    span = f"window {window['index']}, {window['start_s']:.1f}–{window['end_s']:.1f} s"
    if window.get("speaker_face_id") is not None:
        return f"Speaking ({span}): **Face {window['speaker_face_id']}**"
    if (window.get("speech") or {}).get("speech_ratio", 0) == 0 and window.get("speech") is not None:
        return f"Nobody speaks ({span})."
    return f"Speaking ({span}): nobody on screen could be named."


def show_speaker(result: AnalysisResult, window: dict, thumbnails: dict[int, np.ndarray]) -> None:
    """Under the player: the picked window's speaker, with that face's thumbnail, and the window's
    middle frame with every face boxed and numbered, the speaker's box coloured."""
    speaker = window.get("speaker_face_id")
    picture, text = st.columns([1, 5])
    if speaker in thumbnails:
        picture.image(thumbnails[speaker], width=56, caption=f"Face {speaker}")
    text.markdown(speaker_caption(window))
    frames_csv = result.outputs.get("frames_csv")
    if result.info.kind != "video" or not frames_csv or not Path(frames_csv).exists():
        return
    import av

    middle = (window["start_s"] + window["end_s"]) / 2
    with text.expander("Who is who at this window's middle"):
        try:
            marked = marked_frame(str(result.info.path), str(frames_csv), Path(frames_csv).stat().st_mtime, middle,
                                  speaker)
        except (OSError, ValueError, StopIteration, av.error.FFmpegError) as error:
            st.caption(f"{Path(result.info.path).name} could not be read ({error}).")
            return
        if marked is None:
            st.caption("No face was found in this window.")
        else:
            st.image(marked, caption=f"{middle:.1f} s: " + (f"Face {speaker} speaking" if speaker is not None
                                                               else "nobody named as the speaker"))


def show_people_timeline(result: AnalysisResult, windows: list[dict], marker_s: float, key: str,
                         on_pick) -> None:
    """One row per person: thumbnail and totals, then its fused emotion over time with the windows it
    speaks in marked. ``on_pick(chart_key)`` is called when a point of a row is clicked."""
    people = people_in_order(windows, result.summary.get("people"))
    thumbnails = thumbnails_of(result, [p["face_id"] for p in people[:MAX_PEOPLE_ROWS]])
    for person in people[:MAX_PEOPLE_ROWS]:
        face_id = person["face_id"]
        picture, chart = st.columns([1, 6], vertical_alignment="center")
        with picture:
            if face_id in thumbnails:
                st.image(thumbnails[face_id], width=THUMBNAIL_PX)
            st.markdown(person_label(person))
        with chart:
            chart_key = f"{key}_person_{face_id}"
            st.plotly_chart(person_figure(windows, face_id, marker_s, result.info.duration_s), key=chart_key,
                            on_select=partial(on_pick, chart_key), selection_mode="points")
    rest = people[MAX_PEOPLE_ROWS:]
    if rest:
        st.caption("Not shown: " + ", ".join(f"Face {p['face_id']} (seen {p['seen_s']:.1f} s)" for p in rest))
