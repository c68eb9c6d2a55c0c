"""Who is speaking: mouth movement during speech names the speaker; voice and words join only the
speaker's fused result; a two-person composite of real talking heads taking turns."""

import csv
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from source.analysis.pipeline import analyze
from source.analysis.speaker import MIN_MOVEMENT, mouth_movement, speaker_of
from source.analysis.timeline import fuse_window
from source.labels import EMOTIONS
from source.media.ffmpeg import ffmpeg_binary
from source.options import AnalysisOptions, SAMPLE_RATE

TALKING_HEADS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "av_samples" / "talking_heads"


@dataclass
class FakeFace:
    track_id: int
    expressions: dict


@dataclass
class FakeFrame:
    time_s: float
    faces: list = field(default_factory=list)


def frames(jaw: dict[int, list[float]], fps: float = 4.0) -> list[FakeFrame]:
    count = len(next(iter(jaw.values())))
    return [FakeFrame(i / fps, [FakeFace(t, {"jaw_open": v[i]}) for t, v in jaw.items() if v[i] is not None])
            for i in range(count)]


ALL_SPEECH = [(0, 4 * SAMPLE_RATE)]


def test_the_moving_mouth_during_speech_speaks():
    talking, still = [0.1, 0.5, 0.2, 0.6, 0.1, 0.4, 0.2, 0.5], [0.1] * 8
    movement = mouth_movement(frames({0: still, 1: talking}), 0.0, ALL_SPEECH)
    assert movement[1] > 10 * max(movement[0], 1e-3) and speaker_of(movement, 0.9) == 1
    assert speaker_of(movement, 0.05) is None  # too little speech: nobody
    assert mouth_movement(frames({0: still, 1: talking}), 0.0, []) == {}  # no speech: nothing judged
    assert speaker_of(mouth_movement(frames({0: still}), 0.0, ALL_SPEECH), 0.9) is None  # voice-over
    assert speaker_of({0: MIN_MOVEMENT * 3}, 0.9) == 0  # a lone face that talks


def test_close_calls_keep_the_previous_speaker():
    movement = {0: 0.10, 1: 0.09}
    assert speaker_of(movement, 0.9) is None and speaker_of(movement, 0.9, previous=1) == 1
    assert speaker_of(movement, 0.9, previous=7) is None


def one_hot(emotion: str, weight: float = 0.8) -> dict:
    rest = (1 - weight) / (len(EMOTIONS) - 1)
    return {e: weight if e == emotion else rest for e in EMOTIONS}


def test_voice_joins_only_the_speakers_fused_result():
    faces = [{"face_id": 0, "is_subject": True, "emotions": {"probabilities": one_hot("neutral", 0.5)}},
             {"face_id": 1, "is_subject": False, "emotions": {"probabilities": one_hot("neutral", 0.5)}}]
    entry = fuse_window({"index": 0, "start_s": 0.0, "end_s": 4.0, "faces": faces, "text": None,
                         "voice": {"probabilities": one_hot("angry", 0.95)}, "speaker_face_id": 1})
    listener, speaker = entry["faces"]
    assert speaker["is_speaker"] and speaker["is_subject"] and not listener["is_subject"]
    assert speaker["sources"] == ["face", "voice"] and listener["sources"] == ["face"]
    assert listener["fused"]["angry"] < speaker["fused"]["angry"]
    assert entry["probabilities"]["fused"] == speaker["fused"]


def composite(folder: Path, left: Path, right: Path, turns: int = 4, turn_s: float = 4.0) -> Path:
    """Two talking heads side by side taking turns every ``turn_s``: the one speaking plays with its
    own sound, the other is frozen on its frame from the turn's start."""
    parts = []
    for turn in range(turns):
        start = (turn // 2) * turn_s  # each clip's 0-4 s, then its 4-8 s
        speaking_left = turn % 2 == 0
        moving = f"trim=start={start}:duration={turn_s},setpts=PTS-STARTPTS,scale=512:512,fps=25"
        frozen = (f"trim=start={start}:duration=0.04,setpts=PTS-STARTPTS,scale=512:512,fps=25,"
                  f"tpad=stop_mode=clone:stop_duration={turn_s}")
        graph = (f"[0:v]{moving if speaking_left else frozen}[l];[1:v]{frozen if speaking_left else moving}[r];"
                 f"[l][r]hstack=shortest=1,trim=duration={turn_s}[v];"
                 f"[{0 if speaking_left else 1}:a]atrim=start={start}:duration={turn_s},asetpts=PTS-STARTPTS,"
                 "aresample=48000[a]")
        part = folder / f"turn{turn}.mp4"
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-i", str(left), "-i", str(right), "-filter_complex",
                        graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
                        str(part)], check=True)
        parts.append(part)
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
    out = folder / "two_people.mp4"
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", str(out)], check=True)
    return out


@pytest.mark.skipif(not TALKING_HEADS.is_dir(), reason="../shared/data/av_samples is absent")
def test_two_people_taking_turns(tmp_path):
    video = composite(tmp_path, TALKING_HEADS / "WDA_KatieHill_000.mp4", TALKING_HEADS / "RD_Radio2_000.mp4")
    result = analyze(video, AnalysisOptions(plots=False), tmp_path / "out")
    tracks = {t["face_id"]: t for t in result.faces["tracks"]}
    assert len(tracks) == 2
    with open(result.outputs["frames_csv"], newline="") as file:  # the left face's boxes start further left
        xs = {}
        for row in csv.DictReader(file):
            if row["face_id"]:
                xs.setdefault(int(row["face_id"]), []).append(float(row["x0"]))
    left = min(xs, key=lambda i: sum(xs[i]) / len(xs[i]))
    right = next(i for i in xs if i != left)
    expected = [left, right, left, right]
    assert [w["speaker_face_id"] for w in result.windows[:4]] == expected
    for window, speaker in zip(result.windows, expected):
        faces = {f["face_id"]: f for f in window["faces"]}
        assert faces[speaker]["is_speaker"] and faces[speaker]["is_subject"]
        assert "voice" in faces[speaker]["sources"]
        assert all("voice" not in f["sources"] for i, f in faces.items() if i != speaker)
    people = {p["face_id"]: p for p in result.summary["people"]}
    assert people[left]["speaking_s"] > 4 and people[right]["speaking_s"] > 4
    assert all(s["face_id"] in (left, right) for s in result.sentences)
    with open(result.outputs["windows_csv"], newline="") as file:
        rows = list(csv.DictReader(file))
    assert {(r["window"], r["face_id"]) for r in rows if r["is_speaker"] == "1"} == {
        (str(i), str(s)) for i, s in enumerate(expected)}


@pytest.mark.skipif(not TALKING_HEADS.is_dir(), reason="../shared/data/av_samples is absent")
def test_one_person_keeps_voice_and_words(tmp_path):
    result = analyze(TALKING_HEADS / "RD_Radio2_000.mp4", AnalysisOptions(plots=False), tmp_path)
    assert all(w["faces"] and w["faces"][0]["is_subject"] for w in result.windows)
    assert all("voice" in w["sources"] for w in result.windows if w["voice"])
    assert [w["speaker_face_id"] for w in result.windows] == [0, 0]


@pytest.mark.skipif(not TALKING_HEADS.is_dir(), reason="../shared/data/av_samples is absent")
def test_a_voice_over_names_nobody(tmp_path):
    video = tmp_path / "voice_over.mp4"
    graph = ("[0:v]trim=start=1:duration=0.04,setpts=PTS-STARTPTS,fps=25,tpad=stop_mode=clone:stop_duration=8[v];"
             "[1:a]atrim=duration=8,asetpts=PTS-STARTPTS[a]")
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-i", str(TALKING_HEADS / "WDA_KatieHill_000.mp4"),
                    "-i", str(TALKING_HEADS / "RD_Radio2_000.mp4"), "-filter_complex", graph, "-map", "[v]",
                    "-map", "[a]", "-t", "8", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(video)],
                   check=True)
    result = analyze(video, AnalysisOptions(plots=False, words=False), tmp_path / "out")
    assert all(w["faces"] and w["speech"]["speech_ratio"] > 0.5 for w in result.windows)
    assert [w["speaker_face_id"] for w in result.windows] == [None, None]
    assert result.summary["people"][0]["speaking_s"] == 0


def test_batch_summary_ranks_people_by_speaking_time():
    from source.batch import person_columns

    columns = person_columns([{"face_id": 0, "dominant_emotion": "sad", "speaking_s": 2.0, "seen_s": 8.0},
                              {"face_id": 3, "dominant_emotion": "happy", "speaking_s": 6.0, "seen_s": 8.0}])
    assert (columns["person1_face_id"], columns["person1_dominant_emotion"], columns["person1_speaking_s"]) == (3, "happy", 6.0)
    assert columns["person2_face_id"] == 0 and columns["person3_face_id"] == "" and columns["person4_seen_s"] == ""
