"""The emotion timeline: fused probabilities per window (and face), and smoothing (the summary
of the windows is ``results.summary``'s).

Fusion gives a window's record (``results.records.WindowRecord``) its ``probabilities`` (per branch, and
``fused``), ``top_emotion``, ``confidence`` and ``sources``, and each of its faces its own
``fused`` and ``sources``; smoothing averages the fused results. Both return new records.
Smoothing is a centred moving average over windows, streamed with a look-ahead of half its
width, so rows are still written as the analysis goes.
"""

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace

from ..fusion.late import (branch_weights, is_uncertain, is_unsupported, late_fusion, text_distribution,
                           text_probabilities, with_words)
from ..labels import mean_probabilities, top_emotion
from ..results.records import FaceInWindow, WindowRecord


def fuse_window(window: WindowRecord, combined: Callable[[int | None], dict | None] | None = None) -> WindowRecord:
    """The window with its per-branch and fused probabilities, per window and face, and whether the
    result is ``uncertain``: late fusion, or ``combined(face_id)`` (a learned fusion model's
    probabilities for that face, None: no face). With several faces, the voice and words join only
    the fused result of the face that speaks (``speaker_face_id``), which becomes the subject.

    A learned model's result gets the words as late fusion weighs them (``late.with_words``) and is
    guarded: where it puts first an emotion that no branch put first, the late-fusion result is used
    instead (and the window is uncertain), so it cannot invent an emotion on footage unlike its
    training data."""
    voice = window.voice["probabilities"] if window.voice else None
    text = text_distribution(window.text)
    weights = branch_weights(window.text)
    speaker = window.speaker_face_id
    # the window's subject is the one who speaks
    faces = [replace(face, is_speaker=face.face_id == speaker,
                     is_subject=face.face_id == speaker if speaker is not None else face.is_subject)
             for face in window.faces]
    several = len(faces) > 1

    def hears(face: FaceInWindow | None) -> bool:
        """Whether the voice and words belong to ``face``: with several faces, only the speaker's
        (the subject's when no speaker could be named); a lone face keeps them."""
        return face is None or not several or face.is_subject

    def branches(face: FaceInWindow | None) -> dict:
        scores = face.emotions["probabilities"] if face and face.emotions else None
        heard = hears(face)
        return {"face": scores, "voice": voice if heard else None,
                "text": text if heard and weights["text"] > 0 else None}

    def fused(face: FaceInWindow | None) -> tuple[dict | None, bool]:
        present = branches(face)
        late = late_fusion(present, weights)
        learned = combined(face.face_id if face else None) if combined is not None and hears(face) else None
        if learned is not None:  # the words join it as they join late fusion (it never learned them)
            learned = with_words(learned, present, weights)
        if learned is not None and not is_unsupported(present, learned):
            return learned, is_uncertain(present, learned)
        return late, is_uncertain(present, late) or learned is not None

    def with_fused(face: FaceInWindow) -> FaceInWindow:
        result, uncertain = fused(face)
        return replace(face, sources=tuple(name for name, p in branches(face).items() if p), fused=result,
                       uncertain=uncertain)

    faces = [with_fused(face) for face in faces]
    subject = next((f for f in faces if f.is_subject), None)
    present = branches(subject)
    fused_window, uncertain = (subject.fused, subject.uncertain) if subject else fused(None)
    # the words are shown as the text model scored them, neutral included; fusion used their emotional part
    shown = {**present, "text": text_probabilities(window.text) if present["text"] else None}
    label, confidence = top_emotion(fused_window)
    return replace(window, faces=tuple(faces), sources=tuple(name for name, p in present.items() if p),
                   uncertain=uncertain,
                   probabilities={**{name: p for name, p in shown.items() if p}, "fused": fused_window},
                   top_emotion=label, confidence=confidence)


def smoothed(windows: Iterator[WindowRecord], width: int) -> Iterator[WindowRecord]:
    """The windows with ``fused`` (window and faces) averaged over ``width`` windows centred on
    each; the unsmoothed values stay in ``fused_unsmoothed``. ``width`` 1 passes them through."""
    if width <= 1:
        yield from windows
        return
    half = width // 2
    raw: list[dict] = []  # every window's unsmoothed values (a few numbers each)
    pending: deque[WindowRecord] = deque()

    def release(index: int) -> WindowRecord:
        window = pending.popleft()
        around = raw[max(0, index - half):index + half + 1]
        own = raw[index]["window"]
        fused = mean_probabilities([r["window"] for r in around]) if own else own
        faces = tuple(replace(face, smoothed=True, fused_unsmoothed=face.fused,
                              fused=mean_probabilities([r["faces"].get(face.face_id) for r in around])
                              if face.fused else face.fused)
                      for face in window.faces)
        label, confidence = top_emotion(fused)
        return replace(window, faces=faces, top_emotion=label, confidence=confidence,
                       probabilities={**window.probabilities, "fused": fused, "fused_unsmoothed": own})

    released = 0
    for window in windows:
        raw.append({"window": window.probabilities["fused"],
                    "faces": {f.face_id: f.fused for f in window.faces}})
        pending.append(window)
        if len(pending) > half:
            yield release(released)
            released += 1
    while pending:
        yield release(released)
        released += 1
