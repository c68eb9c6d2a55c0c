"""The MFCC transform on real speech: shapes, trimming, silence, options, round trip."""

import numpy as np
import pytest
import soundfile

from source.voice.features import MfccTransform, spectral_gate


@pytest.fixture(scope="module")
def speech(media):
    audio, rate = soundfile.read(media["speech.wav"], dtype="float32")
    assert rate == 16000
    return audio


def test_reference_shape(speech):
    transform = MfccTransform()
    assert transform.output_shape == (3, 126, 13)
    features = transform(speech)
    assert features.shape == (3, 126, 13) and features.dtype == np.float32
    assert np.isfinite(features).all()


def test_repeat_channels_match_reference_design(speech):
    features = MfccTransform(channels="repeat", normalize=False)(speech)
    assert np.array_equal(features[0], features[1]) and np.array_equal(features[0], features[2])


def test_deltas_differ_from_mfcc(speech):
    features = MfccTransform()(speech)
    assert not np.allclose(features[0], features[1])


def test_leading_silence_is_trimmed(speech):
    transform = MfccTransform()
    padded = np.concatenate([np.zeros(16000, np.float32), speech])
    fitted = transform.fit_length(padded)
    assert np.flatnonzero(fitted)[0] <= 2048  # trimming works in frames of 2048 samples


def test_short_and_silent_clips(speech):
    transform = MfccTransform()
    assert transform.fit_length(speech[:8000]).size == transform.n_samples
    silent = transform(np.zeros(40000, np.float32))
    assert silent.shape == (3, 126, 13) and np.isfinite(silent).all()


def test_other_sizes():
    transform = MfccTransform(duration_s=2.0, n_mfcc=40, hop_length=256)
    assert transform(np.random.default_rng(0).normal(size=32000).astype(np.float32)).shape == (3, 126, 40)


def test_spectral_gate_damps_steady_noise(speech):
    rng = np.random.default_rng(0)
    noisy = speech + 0.02 * rng.normal(size=speech.size).astype(np.float32)
    cleaned = spectral_gate(noisy, 2048, 512)
    assert cleaned.shape == noisy.shape
    quiet = slice(0, 1600)  # espeak leaves a short pause before the first word
    assert np.std(cleaned[quiet]) < np.std(noisy[quiet])
    assert MfccTransform(denoise=True)(noisy).shape == (3, 126, 13)


def test_round_trip_through_dict():
    transform = MfccTransform(n_mfcc=20, denoise=True)
    assert MfccTransform.from_dict(transform.to_dict()) == transform
    with pytest.raises(ValueError):
        MfccTransform(channels="stereo")
