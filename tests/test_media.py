"""Probing, streaming decode and windows on real generated media."""

import numpy as np
import pytest

from source.errors import MediaError
from source.media.decode import DecodeReport, Frame, iter_audio, iter_frames, read_image
from source.media.probe import probe
from source.media.windows import iter_windows
from source.options import SAMPLE_RATE, WindowOptions


@pytest.mark.parametrize("name", ["astronaut_talking.mp4", "astronaut_talking.mov",
                                  "astronaut_talking.mkv", "astronaut_talking.avi",
                                  "astronaut_talking.webm", "astronaut_talking.flv"])
def test_probe_video_containers(media, name):
    info = probe(media[name])
    assert info.kind == "video" and info.has_audio
    assert (info.width, info.height) == (640, 480)
    assert 5.0 < info.duration_s < 8.0
    assert info.fps == pytest.approx(25, abs=0.1)


@pytest.mark.parametrize("name,rate", [("speech.wav", 16000), ("speech_44k.mp3", 44100),
                                       ("speech_8k.wav", 8000), ("speech.m4a", 48000),
                                       ("speech.ogg", 44100), ("speech.flac", 16000)])
def test_probe_audio_formats(media, name, rate):
    info = probe(media[name])
    assert info.kind == "audio" and info.has_audio and not info.has_video
    assert info.sample_rate == rate
    assert 5.0 < info.duration_s < 8.0


def test_probe_images(media):
    assert probe(media["astronaut.png"]).kind == "image"
    info = probe(media["big_8k.png"])
    assert (info.kind, info.width, info.height) == ("image", 7680, 4320)


def test_probe_reports_misnamed_files(media):
    video = probe(media["video_named.jpg"])
    assert video.kind == "video" and "holds video" in video.name_mismatch
    image = probe(media["image_named.mp4"])
    assert image.kind == "image" and "holds image" in image.name_mismatch


@pytest.mark.parametrize("name,message", [
    ("empty.mp4", "empty (0 bytes)"),
    ("corrupt.mp4", "corrupt, truncated or in an unsupported format"),
    ("text_named.wav", "corrupt, truncated or in an unsupported format"),
])
def test_probe_refuses_bad_files(media, name, message):
    with pytest.raises(MediaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        probe(media[name])


def test_probe_missing_file(tmp_path):
    with pytest.raises(MediaError, match="does not exist"):
        probe(tmp_path / "nothing.mp4")


def test_frames_sampled_at_target_rate(media):
    report = DecodeReport()
    frames = list(iter_frames(media["astronaut_talking.mp4"], 4.0, 1280, report))
    duration = probe(media["astronaut_talking.mp4"]).duration_s
    assert len(frames) == pytest.approx(duration * 4, abs=1)
    assert [f.time_s for f in frames[:5]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    for frame in frames:  # the frame on screen at the sampling time
        assert frame.source_time_s <= frame.time_s + 1e-6
        assert frame.time_s - frame.source_time_s < 0.04 + 1e-6
        assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
    assert not report.warnings


def test_variable_frame_rate_sampling_uses_true_times(media):
    frames = list(iter_frames(media["vfr.mp4"], 10.0, 1280, DecodeReport()))
    gaps = np.diff([f.source_time_s for f in frames])
    # 0-2 s is 10 fps: each sample shows a new frame 0.1 s apart; 2-4 s is 30 fps
    first = gaps[[i for i, f in enumerate(frames[1:]) if f.time_s < 2.0]]
    assert np.allclose(first, 0.1, atol=0.01)
    for frame in frames:
        assert 0 <= frame.time_s - frame.source_time_s < 0.1 + 1e-6


def test_large_frames_are_scaled_down(media):
    frames = list(iter_frames(media["big_8k.mp4"], 4.0, 1280, DecodeReport()))
    assert frames and frames[0].image.shape == (720, 1280, 3)
    assert frames[0].scale == pytest.approx(1280 / 7680)
    photo = read_image(media["big_8k.png"], 1280)
    assert photo.image.shape == (720, 1280, 3)


@pytest.mark.parametrize("name", ["speech.wav", "speech_8k.wav", "speech_44k.mp3", "speech.ogg",
                                  "speech.m4a"])
def test_audio_resampled_to_16k_mono(media, name):
    report = DecodeReport()
    audio = np.concatenate(list(iter_audio(media[name], report)))
    assert audio.dtype == np.float32 and audio.ndim == 1
    duration = probe(media["speech.wav"]).duration_s
    # encoders pad a few ms (mp3/aac priming), never more than 0.1 s
    assert audio.size / SAMPLE_RATE == pytest.approx(duration, abs=0.1)
    assert np.sqrt(np.mean(audio ** 2)) > 0.01


def test_same_speech_in_every_format_lines_up(media):
    reference = np.concatenate(list(iter_audio(media["speech.wav"], DecodeReport())))
    flac = np.concatenate(list(iter_audio(media["speech.flac"], DecodeReport())))
    assert np.allclose(reference, flac, atol=1e-4)


def test_truncated_file_gives_the_frames_before_the_break_and_says_where_it_ended(media):
    """The first 40% of the 6-s talking clip (its index intact): the frames up to the break, at
    their sampling times, and the report says where the video stopped (analyze warns from it)."""
    report = DecodeReport()
    frames = list(iter_frames(media["truncated.mp4"], 4.0, 1280, report))
    assert [f.time_s for f in frames] == [i / 4 for i in range(8)]
    full = probe(media["astronaut_talking.mp4"]).duration_s
    assert 1.75 <= report.video_end_s < 2.5 < full


def _frames(times):
    image = np.zeros((4, 4, 3), np.uint8)
    return iter([Frame(i, t, t, image) for i, t in enumerate(times)])


def test_windows_cut_frames_and_audio_by_time():
    times = [i / 4 for i in range(int(9.0 * 4))]  # 9 s at 4 fps
    audio = iter([np.ones(SAMPLE_RATE, np.float32) * k for k in range(9)])  # 9 one-second chunks
    windows = list(iter_windows(_frames(times), audio, WindowOptions(), 9.0))
    assert [(w.start_s, w.end_s) for w in windows] == [(0.0, 4.0), (4.0, 8.0)]  # 1 s tail dropped
    assert [len(w.frames) for w in windows] == [16, 16]
    assert windows[1].frames[0].time_s == 4.0
    assert windows[0].audio.size == 4 * SAMPLE_RATE
    assert windows[1].audio[0] == 4 and windows[1].audio[-1] == 7


def test_windows_overlap_and_keep_long_tail():
    times = [i / 4 for i in range(int(7.0 * 4))]
    windows = list(iter_windows(_frames(times), None, WindowOptions(hop_s=2.0), 7.0))
    assert [(w.start_s, w.end_s) for w in windows] == [(0.0, 4.0), (2.0, 6.0), (4.0, 7.0)]
    assert windows[1].frames[0].time_s == 2.0 and len(windows[1].frames) == 16
    assert len(windows[2].frames) == 12 and windows[2].audio is None


def test_windows_stop_where_the_streams_stop():
    # the container claims 20 s, the data ends at 5 s (a truncated file)
    times = [i / 4 for i in range(20)]
    windows = list(iter_windows(_frames(times), None, WindowOptions(), 20.0))
    assert [(w.start_s, w.end_s) for w in windows] == [(0.0, 4.0)]
