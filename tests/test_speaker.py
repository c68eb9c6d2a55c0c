"""Who is speaking: lip movement during speech names the speaker; voice and words join only the
speaker's fused result; two-person composites of real talking heads (``two_people.py``) taking turns
beside a frozen listener, and beside listeners that move (head motion, blinks, a little mouth
movement without sound)."""

import csv
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from source.analysis.pipeline import analyze
from source.analysis.speaker import MIN_MOVEMENT, mouth_movement, mouth_opening, speaker_of
from source.analysis.timeline import fuse_window
from window_records import face_record, window_record
from source.labels import EMOTIONS
from source.media.ffmpeg import ffmpeg_binary
from source.options import AnalysisOptions, SAMPLE_RATE
from two_people import ACTRESS, beside_listener, composite, expected_speakers

TALKING_HEADS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "av_samples" / "talking_heads"


@dataclass
class FakeFace:
    track_id: int
    landmarks: np.ndarray


def landmarks(gap: float, height: float = 100.0) -> np.ndarray:
    """A face mesh whose inner lips are ``gap`` of the face's height apart."""
    points = np.zeros((478, 3), np.float32)
    points[10, :2], points[152, :2] = (50, 0), (50, height)  # forehead, chin
    points[13, :2], points[14, :2] = (50, 0.6 * height), (50, (0.6 + gap) * height)  # inner lips
    return points


@dataclass
class FakeFrame:
    time_s: float
    faces: list = field(default_factory=list)


def frames(gaps: dict[int, list[float]], fps: float = 4.0) -> list[FakeFrame]:
    """Frames at ``fps`` with a face per track id whose lips are ``gaps[id][i]`` apart in frame i."""
    count = len(next(iter(gaps.values())))
    return [FakeFrame(i / fps, [FakeFace(t, landmarks(v[i])) for t, v in gaps.items() if v[i] is not None])
            for i in range(count)]


ALL_SPEECH = [(0, 4 * SAMPLE_RATE)]


def test_the_moving_mouth_during_speech_speaks():
    talking, still = [0.01, 0.05, 0.02, 0.06, 0.01, 0.04, 0.02, 0.05], [0.01] * 8
    movement = mouth_movement(frames({0: still, 1: talking}), 0.0, ALL_SPEECH)
    assert movement[1] > 10 * max(movement[0], 1e-3) and speaker_of(movement, 0.9) == 1
    assert speaker_of(movement, 0.05) is None  # too little speech: nobody
    assert mouth_movement(frames({0: still, 1: talking}), 0.0, []) == {}  # no speech: nothing judged
    assert speaker_of(mouth_movement(frames({0: still}), 0.0, ALL_SPEECH), 0.9) is None  # voice-over
    assert speaker_of({0: MIN_MOVEMENT * 3}, 0.9) == 0  # a lone face that talks


def test_the_lip_gap_does_not_change_as_the_head_turns_nods_or_comes_closer():
    face = landmarks(0.04)
    angle = np.radians(25)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = face.copy()
    moved[:, :2] = 1.7 * face[:, :2] @ turn.T + (300, -40)  # rotated, 1.7 times larger, shifted
    assert mouth_opening(FakeFace(0, face)) == pytest.approx(0.04, abs=1e-6)
    assert mouth_opening(FakeFace(0, moved)) == pytest.approx(0.04, abs=1e-5)


def test_a_listeners_blinks_and_jolts_do_not_outweigh_a_talker():
    """A listener whose lips jump in a few frames (a jolt, a cut, a blink that moves the mesh) has a
    larger mean change than a steady talker, but the median names the talker."""
    listener = [0.01] * 16
    listener[5] = listener[11] = 0.2
    talker = [0.02 if i % 2 else 0.05 for i in range(16)]
    movement = mouth_movement(frames({0: listener, 1: talker}), 0.0, ALL_SPEECH)
    assert np.mean(np.abs(np.diff(listener))) > np.mean(np.abs(np.diff(talker)))
    assert movement[0] < MIN_MOVEMENT < movement[1] and speaker_of(movement, 0.9) == 1


def test_the_movement_is_measured_over_a_quarter_second_at_any_frame_rate():
    def lips(fps: float) -> list[float]:  # the same mouth sampled at fps
        return [0.03 * (1 + np.sin(2 * np.pi * 3.1 * i / fps)) for i in range(int(4 * fps))]

    at_4, at_12 = (mouth_movement(frames({0: lips(fps)}, fps), 0.0, ALL_SPEECH)[0] for fps in (4.0, 12.0))
    assert at_4 > MIN_MOVEMENT and 0.8 < at_12 / at_4 < 1.25


def test_close_calls_keep_the_previous_speaker():
    movement = {0: 0.10, 1: 0.09}
    assert speaker_of(movement, 0.9) is None and speaker_of(movement, 0.9, previous=1) == 1
    assert speaker_of(movement, 0.9, previous=7) is None


def one_hot(emotion: str, weight: float = 0.8) -> dict:
    rest = (1 - weight) / (len(EMOTIONS) - 1)
    return {e: weight if e == emotion else rest for e in EMOTIONS}


def test_voice_joins_only_the_speakers_fused_result():
    faces = [face_record(0, is_subject=True, emotions={"probabilities": one_hot("neutral", 0.5)}),
             face_record(1, is_subject=False, emotions={"probabilities": one_hot("neutral", 0.5)})]
    window = window_record(0, 0.0, 4.0, faces, voice={"probabilities": one_hot("angry", 0.95)}, speaker_face_id=1)
    fused = fuse_window(window)
    listener, speaker = fused.faces
    assert speaker.is_speaker and speaker.is_subject and not listener.is_subject
    assert speaker.sources == ("face", "voice") and listener.sources == ("face",)
    assert listener.fused["angry"] < speaker.fused["angry"]
    assert fused.probabilities["fused"] == speaker.fused
    assert window.faces[0].is_subject and window.probabilities == {}  # fusion made a new record


@pytest.mark.skipif(not TALKING_HEADS.is_dir(), reason="../shared/data/av_samples is absent")
def test_two_people_taking_turns(tmp_path):
    video = composite(tmp_path, TALKING_HEADS / "WDA_KatieHill_000.mp4", TALKING_HEADS / "RD_Radio2_000.mp4")
    result = analyze(video, AnalysisOptions(plots=False), tmp_path / "out")
    tracks = {t["face_id"]: t for t in result.faces["tracks"]}
    assert len(tracks) == 2
    sides = face_sides(result.outputs["frames_csv"])
    left, right = sides["left"], sides["right"]
    expected = [left, right, left, right]
    assert [w.speaker_face_id for w in result.windows[:4]] == expected
    for window, speaker in zip(result.windows, expected):
        faces = {f.face_id: f for f in window.faces}
        assert faces[speaker].is_speaker and faces[speaker].is_subject
        assert "voice" in faces[speaker].sources
        assert all("voice" not in f.sources for i, f in faces.items() if i != speaker)
    people = {p["face_id"]: p for p in result.summary["people"]}
    assert people[left]["speaking_s"] > 4 and people[right]["speaking_s"] > 4
    assert all(s["face_id"] in (left, right) for s in result.sentences)
    with open(result.outputs["windows_csv"], newline="") as file:
        rows = list(csv.DictReader(file))
    assert {(r["window"], r["face_id"]) for r in rows if r["is_speaker"] == "1"} == {
        (str(i), str(s)) for i, s in enumerate(expected)}


def face_sides(frames_csv: Path) -> dict[str, int]:
    """The face id on each side of the picture: the track whose boxes lie further left is "left"."""
    xs: dict[int, list[float]] = {}
    with open(frames_csv, newline="") as file:
        for row in csv.DictReader(file):
            if row["face_id"]:
                xs.setdefault(int(row["face_id"]), []).append((float(row["x0"]) + float(row["x1"])) / 2)
    centres = {face: sum(v) / len(v) for face, v in xs.items()}
    return {"left": min(centres, key=centres.get), "right": max(centres, key=centres.get)}


@pytest.mark.skipif(not TALKING_HEADS.is_dir(), reason="../shared/data/av_samples is absent")
def test_a_moving_listener_is_not_taken_for_the_speaker(tmp_path):
    """Listeners that move: a held frame whose head sways and bobs, the listener's own clip at a
    quarter of its speed without sound (head motion, blinks, slow small mouth movement), and the
    RAVDESS actress's silences between sentences (a real listener: head motion, blinks, parted
    lips). At least 90% of the spoken windows go to the face that speaks."""
    heads = TALKING_HEADS
    videos = [
        (composite(tmp_path, heads / "WDA_KatieHill_000.mp4", heads / "RD_Radio2_000.mp4", "nodding"),
         expected_speakers()),
        (composite(tmp_path, heads / "WDA_EdMarkey0_000.mp4", heads / "RD_Radio34_000.mp4", "slowed"),
         expected_speakers()),
        (beside_listener(tmp_path, heads / "WDA_AlexandriaOcasioCortez_000.mp4", heads / ACTRESS, listener_left=True),
         ["right", "right"]),
        (beside_listener(tmp_path, heads / "WDA_BobMenendez_000.mp4", heads / ACTRESS, listener_left=False),
         ["left", "left"]),
    ]
    right = spoken = 0
    missed = []
    for video, expected in videos:
        result = analyze(video, AnalysisOptions(plots=False, words=False), tmp_path / video.stem)
        sides = face_sides(result.outputs["frames_csv"])
        for window, side in zip(result.windows, expected):
            if window.speech["speech_ratio"] < 0.5:
                continue
            spoken += 1
            if window.speaker_face_id == sides[side]:
                right += 1
            else:
                missed.append((video.name, window.index, sides[side], window.speaker_face_id,
                               window.mouth_movement))
    assert spoken >= 10 and right >= 0.9 * spoken, (right, spoken, missed)


@pytest.mark.skipif(not TALKING_HEADS.is_dir(), reason="../shared/data/av_samples is absent")
def test_one_person_keeps_voice_and_words(tmp_path):
    result = analyze(TALKING_HEADS / "RD_Radio2_000.mp4", AnalysisOptions(plots=False), tmp_path)
    assert all(w.faces and w.faces[0].is_subject for w in result.windows)
    assert all("voice" in w.sources for w in result.windows if w.voice)
    assert [w.speaker_face_id for w in result.windows] == [0, 0]


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
    assert all(w.faces and w.speech["speech_ratio"] > 0.5 for w in result.windows)
    assert [w.speaker_face_id for w in result.windows] == [None, None]
    assert result.summary["people"][0]["speaking_s"] == 0


def test_batch_summary_ranks_people_by_speaking_time():
    from source.batch import person_columns

    columns = person_columns([{"face_id": 0, "dominant_emotion": "sad", "speaking_s": 2.0, "seen_s": 8.0},
                              {"face_id": 3, "dominant_emotion": "happy", "speaking_s": 6.0, "seen_s": 8.0}])
    assert (columns["person1_face_id"], columns["person1_dominant_emotion"], columns["person1_speaking_s"]) == (3, "happy", 6.0)
    assert columns["person2_face_id"] == 0 and columns["person3_face_id"] == "" and columns["person4_seen_s"] == ""
