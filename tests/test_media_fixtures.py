"""The generated test media are what media_fixtures.py says they are."""

from __future__ import annotations

import os
import unicodedata
import wave

import av
import numpy as np
import pytest
from PIL import Image

import media_fixtures as mf

TALKING = [f"astronaut_talking.{ext}" for ext in ("mp4", "mov", "mkv", "avi", "webm", "flv")]
TALKING_CODECS = {"avi": ("mpeg4", "mp3"), "webm": ("vp9", "opus")}  # the rest: stream copies


def probe(path) -> dict:
    with av.open(str(path)) as container:
        video = [s for s in container.streams if s.type == "video"]
        audio = [s for s in container.streams if s.type == "audio"]
        return {
            "duration": container.duration / 1e6 if container.duration else None,
            "video": [
                (s.codec_context.name, s.codec_context.width, s.codec_context.height) for s in video
            ],
            "audio": [
                (
                    s.codec_context.name,
                    s.codec_context.sample_rate,
                    s.codec_context.layout.nb_channels,
                )
                for s in audio
            ],
        }


def frames(path, fmt: str = "rgb24") -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format=fmt) for f in container.decode(video=0)]


def frame_times(path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(f.pts * stream.time_base) for f in container.decode(stream)]


def samples(path) -> tuple[np.ndarray, int]:
    """All audio as float32 mono, and its sample rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono")
        chunks = [
            g.to_ndarray().reshape(-1)
            for f in container.decode(stream)
            for g in resampler.resample(f)
        ]
        chunks += [g.to_ndarray().reshape(-1) for g in resampler.resample(None)]
        return np.concatenate(chunks), stream.codec_context.sample_rate


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture(scope="module")
def speech_seconds(media) -> float:
    return mf.wav_seconds(media["speech.wav"])


# --------------------------------------------------------------------------- images


def test_astronaut_images(media):
    from skimage import data

    photo = data.astronaut()
    assert np.array_equal(np.asarray(Image.open(media["astronaut.png"])), photo)
    with Image.open(media["astronaut.jpg"]) as jpg:
        assert jpg.format == "JPEG" and jpg.size == (512, 512) and jpg.mode == "RGB"
        assert np.abs(np.asarray(jpg, dtype=np.int16) - photo).mean() < 4


def test_big_8k(media):
    with Image.open(media["big_8k.png"]) as png:
        assert png.format == "PNG" and png.size == (7680, 4320)
    info = probe(media["big_8k.mp4"])
    assert info["video"] == [("h264", 7680, 4320)] and info["audio"] == []
    assert len(frames(media["big_8k.mp4"], "gray")) == 2


# --------------------------------------------------------------------------- audio


def test_speech_wav(media, speech_seconds):
    path = media["speech.wav"]
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
    assert 4.5 < speech_seconds < 8.0
    x, _ = samples(path)
    assert rms(x) > 0.03  # about -22 dBFS: clearly speech, not near-silence
    assert np.abs(x).max() < 0.99  # not clipped
    voiced = [rms(chunk) > 0.01 for chunk in np.array_split(x, round(speech_seconds / 0.5))]
    assert np.mean(voiced) > 0.6  # talking through most of it, not one blip


@pytest.mark.parametrize(
    "name, codec, rate, channels",
    [
        ("speech_44k.mp3", "mp3", 44_100, 2),
        ("speech_8k.wav", "pcm_s16le", 8_000, 1),
        ("speech.m4a", "aac", 48_000, 2),
        ("speech.ogg", "vorbis", 44_100, 1),
        ("speech.flac", "flac", 16_000, 1),
    ],
)
def test_speech_variants(media, speech_seconds, name, codec, rate, channels):
    info = probe(media[name])
    assert [(c.replace("mp3float", "mp3"), r, ch) for c, r, ch in info["audio"]] == [
        (codec, rate, channels)
    ]
    assert info["video"] == []
    assert info["duration"] == pytest.approx(speech_seconds, abs=0.1)
    x, got_rate = samples(media[name])
    assert len(x) / got_rate == pytest.approx(speech_seconds, abs=0.1)
    assert rms(x) > 0.03


def test_flac_is_lossless_copy_of_wav(media):
    wav, _ = samples(media["speech.wav"])
    flac, _ = samples(media["speech.flac"])
    assert np.array_equal(wav, flac)


def test_silence(media):
    path = media["silence.wav"]
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getnframes()) == (16_000, 1, 80_000)
        assert not any(wav.readframes(wav.getnframes()))


# --------------------------------------------------------------------------- video


@pytest.mark.parametrize("name", TALKING)
def test_talking_clip(media, speech_seconds, name):
    ext = name.rsplit(".", 1)[1]
    vcodec, acodec = TALKING_CODECS.get(ext, ("h264", "aac"))
    info = probe(media[name])
    assert [v[0] for v in info["video"]] == [vcodec] and info["video"][0][1:] == (640, 480)
    assert [a[0].replace("mp3float", "mp3") for a in info["audio"]] == [acodec]
    assert info["duration"] == pytest.approx(speech_seconds, abs=0.15)
    times = frame_times(media[name])
    assert len(times) == pytest.approx(speech_seconds * mf.FPS, abs=2)
    assert np.allclose(np.diff(times), 1 / mf.FPS, atol=2e-3)  # constant 25 fps
    x, rate = samples(media[name])
    assert len(x) / rate == pytest.approx(speech_seconds, abs=0.15) and rms(x) > 0.03


def test_talking_camera_moves_smoothly(media):
    gray = [f.astype(np.float32) for f in frames(media["astronaut_talking.mp4"], "gray")]
    steps = np.array([np.abs(a - b).mean() for a, b in zip(gray, gray[1:])])
    assert np.median(steps) > 1.0  # the picture keeps changing
    assert steps.max() < 15.0  # without cuts or jumps
    assert np.abs(gray[0] - gray[len(gray) // 2]).mean() > 10  # and goes somewhere


def test_two_faces(media):
    info = probe(media["two_faces.mp4"])
    assert info["video"] == [("h264", 960, 480)] and [a[0] for a in info["audio"]] == ["aac"]
    assert info["duration"] == pytest.approx(mf.CLIP_SECONDS, abs=0.1)
    assert len(frame_times(media["two_faces.mp4"])) == round(mf.CLIP_SECONDS * mf.FPS)


def test_no_audio_is_the_talking_video(media):
    info = probe(media["no_audio.mp4"])
    assert info["audio"] == [] and info["video"] == [("h264", 640, 480)]

    def packets(path):
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(video=0) if p.size]

    assert packets(media["no_audio.mp4"]) == packets(media["astronaut_talking.mp4"])


def test_no_face(media):
    info = probe(media["no_face.mp4"])
    assert info["video"] == [("h264", 640, 480)] and [a[0] for a in info["audio"]] == ["aac"]
    assert info["duration"] == pytest.approx(mf.CLIP_SECONDS, abs=0.1)


def test_one_frame(media):
    info = probe(media["one_frame.mp4"])
    assert info["video"] == [("h264", 640, 480)] and info["audio"] == []
    assert len(frames(media["one_frame.mp4"], "gray")) == 1


def test_short_1s(media):
    info = probe(media["short_1s.mp4"])
    assert info["video"] == [("h264", 640, 480)] and [a[0] for a in info["audio"]] == ["aac"]
    assert info["duration"] == pytest.approx(1.0, abs=0.05)
    assert len(frame_times(media["short_1s.mp4"])) == 25


def test_vfr_has_two_frame_rates(media):
    times = np.array(frame_times(media["vfr.mp4"]))
    steps = np.diff(times)
    slow, fast = steps[times[1:] <= mf.VFR_SPLIT], steps[times[1:] > mf.VFR_SPLIT + 0.05]
    assert np.allclose(slow, 0.1, atol=2e-3) and len(slow) >= 15
    assert np.allclose(fast, 1 / 30, atol=2e-3) and len(fast) >= 50
    assert times[-1] == pytest.approx(mf.CLIP_SECONDS - 1 / 30, abs=0.01)


# --------------------------------------------------------------------------- faces (OpenCV Haar)


@pytest.fixture(scope="module")
def find_faces():
    cv2 = pytest.importorskip("cv2")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def find(gray: np.ndarray, neighbours: int = 12) -> list[tuple[int, int, int, int]]:
        found = cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=neighbours, minSize=(40, 40)
        )
        return [(x, y, x + w, y + h) for x, y, w, h in np.asarray(found).reshape(-1, 4).tolist()]

    return find


def iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def test_faces_are_where_they_are_claimed(media, find_faces):
    """A stock detector finds the faces where the generator says they are, and none in coffee."""
    for i, gray in enumerate(frames(media["astronaut_talking.mp4"], "gray")):
        if i % 15 == 0:
            truth = mf.talking_face_box(i / mf.FPS)
            assert max(iou(truth, box) for box in find_faces(gray)) > 0.5, i
    for i, gray in enumerate(frames(media["two_faces.mp4"], "gray")):
        if i % 15 == 0:
            big, small = mf.two_faces_face_boxes(i / mf.FPS)
            assert (small[2] - small[0]) / (big[2] - big[0]) == pytest.approx(0.7)
            found = find_faces(gray)
            assert (
                max(iou(big, box) for box in found) > 0.5
                and max(iou(small, box) for box in found) > 0.5
            ), i
    for gray in frames(media["no_face.mp4"], "gray")[::10]:
        assert find_faces(gray, neighbours=3) == []


# --------------------------------------------------------------------------- bad files


def test_empty(media):
    assert media["empty.mp4"].stat().st_size == 0
    with pytest.raises(av.FFmpegError):
        av.open(str(media["empty.mp4"]))


def test_corrupt(media):
    assert media["corrupt.mp4"].stat().st_size == 64 * 1024
    with pytest.raises(av.FFmpegError):
        av.open(str(media["corrupt.mp4"]))


def test_truncated(media):
    full = media["astronaut_talking.mp4"].read_bytes()
    cut = media["truncated.mp4"].read_bytes()
    assert full.startswith(cut) and len(cut) == int(len(full) * 0.4)
    decoded = 0
    try:  # the index promises ~6 s but the data runs out: an error, or just an early end
        with av.open(str(media["truncated.mp4"])) as container:
            for _ in container.decode(video=0):
                decoded += 1
    except av.FFmpegError:
        pass
    assert decoded < 0.8 * len(frame_times(media["astronaut_talking.mp4"]))


def test_misnamed_files(media):
    video = media["video_named.jpg"]
    assert video.read_bytes()[4:8] == b"ftyp"
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(video)
    assert probe(video)["video"] == [("h264", 640, 480)]

    image = media["image_named.mp4"]
    assert image.read_bytes() == media["astronaut.png"].read_bytes()
    assert image.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    text = media["text_named.wav"]
    assert text.read_text().startswith("This is a plain text file")
    with pytest.raises(wave.Error):
        wave.open(str(text))
    with pytest.raises(av.FFmpegError):
        av.open(str(text))


def test_unicode_name(media):
    path = media[mf.UNICODE_NAME]
    assert path.name == "unicode name – café ü.mp4" == unicodedata.normalize("NFC", path.name)
    assert path.read_bytes() == media["astronaut_talking.mp4"].read_bytes()
    assert probe(path)["video"] == [("h264", 640, 480)]


# --------------------------------------------------------------------------- machinery


def test_looped_video(media, tmp_path):
    src = media["short_1s.mp4"]
    dst = mf.looped_video(src, 7.5, tmp_path / "looped.mp4")
    info = probe(dst)
    assert info["duration"] == pytest.approx(7.5, abs=0.2)
    assert [v[0] for v in info["video"]] == ["h264"] and [a[0] for a in info["audio"]] == ["aac"]
    times = frame_times(dst)
    assert np.all(np.diff(times) > 0) and len(times) == pytest.approx(7.5 * mf.FPS, abs=3)
    mtime = dst.stat().st_mtime_ns
    assert mf.looped_video(src, 7.5, dst) == dst and dst.stat().st_mtime_ns == mtime  # reused


def test_cache_is_reused_and_versioned(tmp_path):
    path = mf.media_path("text_named.wav", tmp_path)
    assert (tmp_path / mf.VERSION_FILE).read_text().strip() == str(mf.GENERATOR_VERSION)
    path.write_text("edited")
    assert mf.media_path("text_named.wav", tmp_path).read_text() == "edited"  # cached: not remade
    (tmp_path / mf.VERSION_FILE).write_text("0\n")
    mf._checked_dirs.discard(tmp_path.resolve())  # as a new process would
    assert (
        mf.media_path("text_named.wav", tmp_path)
        .read_text()
        .startswith("This is a plain text file")
    )
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]


def test_needs_speech():
    assert (
        mf.needs_speech("speech.wav")
        and mf.needs_speech("video_named.jpg")
        and mf.needs_speech("truncated.mp4")
    )
    assert not any(
        mf.needs_speech(n) for n in ("astronaut.png", "vfr.mp4", "big_8k.mp4", "corrupt.mp4")
    )


def test_missing_espeak_skips(monkeypatch, tmp_path):
    from conftest import Media

    monkeypatch.setattr(mf, "espeak_binary", lambda: None)
    with pytest.raises(pytest.skip.Exception, match="espeak-ng is not installed"):
        Media(tmp_path)["astronaut_talking.mp4"]
    assert Media(tmp_path)["silence.wav"].exists()  # files without speech still work
