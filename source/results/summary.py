"""The summary of a run's windows (dominant emotion, share of time, changes, people), read from
their JSON form (``records.WindowRecord.to_dict``), as every view of a finished analysis reads it."""

from ..labels import top_emotion


def summarize(entries: list[dict]) -> dict:
    """Dominant emotion, share of the analysed time per emotion, and the times the top emotion changes."""
    durations: dict[str, float] = {}  # a photo's single window counts as one second
    changes, previous = [], None
    for entry in entries:
        label = entry.get("top_emotion")
        if label is None:
            continue
        durations[label] = durations.get(label, 0.0) + ((entry["end_s"] - entry["start_s"]) or 1.0)
        if previous is not None and label != previous:
            changes.append({"time_s": entry["start_s"], "from": previous, "to": label})
        previous = label
    total = sum(durations.values())
    share = {label: round(seconds / total, 4) for label, seconds in
             sorted(durations.items(), key=lambda item: -item[1])} if total else {}
    return {"dominant_emotion": next(iter(share), None), "emotion_share": share, "changes": changes,
            "windows_with_prediction": sum(1 for e in entries if e.get("top_emotion")),
            "people": people(entries)}


def people(entries: list[dict]) -> list[dict]:
    """Per face id: its dominant fused emotion (by time), seconds on screen and seconds speaking
    (windows where it is the speaker, times the window's share of speech)."""
    found: dict[int, dict] = {}
    for entry in entries:
        length = (entry["end_s"] - entry["start_s"]) or 1.0
        for face in entry.get("faces", []):  # a research family's rows carry no faces
            person = found.setdefault(face["face_id"], {"face_id": face["face_id"], "seen_s": 0.0,
                                                        "speaking_s": 0.0, "emotions": {}})
            person["seen_s"] += length
            if face.get("is_speaker"):
                person["speaking_s"] += length * (entry.get("speech") or {}).get("speech_ratio", 0.0)
            label, _ = top_emotion(face.get("fused"))
            if label:
                person["emotions"][label] = person["emotions"].get(label, 0.0) + length
    return [{"face_id": p["face_id"], "dominant_emotion": max(p["emotions"], key=p["emotions"].get, default=None),
             "seen_s": round(p["seen_s"], 2), "speaking_s": round(p["speaking_s"], 2)}
            for p in sorted(found.values(), key=lambda p: p["face_id"])]
