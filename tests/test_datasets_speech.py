"""Speech corpora found by their original layouts: tiny trees of real generated speech, named by
each corpus's convention, with corrupt, mislabelled and misfiled files among them."""

import random
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile

from source.datasets import (
    SpeechSample,
    detect_speech_corpora,
    scan_speech_dataset,
    speaker_split,
)
from source.errors import DatasetError

CORRUPT, EMPTY, NO_SAMPLES, TEXT = "<random bytes>", "<0 bytes>", "<wav header only>", "<text>"

# corpus -> {file: what it holds}
TREES = {
    "ravdess": {
        "Actor_01/03-01-05-01-01-01-01.wav": "speech.wav",
        "Actor_01/03-01-02-02-01-02-01.flac": "speech.flac",
        "Actor_02/03-02-03-01-02-01-02.wav": "speech.wav",  # song
        "Actor_02/03-01-09-01-01-01-02.wav": "speech.wav",
        "Actor_02/03-01-04-01-01-01-02.wav": CORRUPT,
        "Actor_01/01-01-05-01-01-01-01.wav": "speech.wav",
        "Actor_01/take 3.wav": "speech.wav",
        "Actor_01/._03-01-05-01-01-01-01.wav": CORRUPT,  # macOS AppleDouble: not audio, not listed
        "Actor_01/notes.txt": TEXT,
    },
    "crema-d": {
        "AudioWAV/1001_DFA_ANG_XX.wav": "speech.wav",
        "AudioWAV/1091_IEO_HAP_LO.wav": "speech.wav",
        "AudioWAV/1002_IEO_XXX_LO.wav": "speech.wav",
        "AudioWAV/1003_DFA_SAD_XX.wav": CORRUPT,
        "AudioWAV/1076_MTI_SAD_XX.wav": NO_SAMPLES,  # like the one empty clip CREMA-D ships
        "AudioMP3/1001_DFA_ANG_XX.mp3": "speech_44k.mp3",
    },
    "tess": {
        "OAF_angry/OAF_back_angry.wav": "speech.wav",
        "OAF_Pleasant_surprise/OAF_bite_ps.wav": "speech.wav",
        "YAF_pleasant_surprised/YAF_bath_ps.wav": "speech.wav",
        "OAF_angry/OAF_base_bored.wav": "speech.wav",
        "OAF_angry/OAF_bean_sad.wav": "speech.wav",
        "YAF_sad/YAF_back_sad.wav": CORRUPT,
    },
    "savee": {
        "ALL/DC_a01.wav": "speech.wav",
        "ALL/JE_sa05.wav": "speech.wav",
        "AudioData/JK/su03.wav": "speech.wav",
        "AudioData/KL/h12.flac": "speech.flac",
        "ALL/KL_x01.wav": "speech.wav",
        "AudioData/JK/n01.wav": CORRUPT,
        "AudioData/JK/intro.wav": "speech.wav",
    },
    "emodb": {
        "wav/03a01Fa.wav": "speech.wav",
        "wav/08b02Wa.wav": "speech.wav",
        "wav/16b10Nc.wav": "speech.wav",
        "wav/10a04Lb.wav": "speech.wav",
        "wav/11a05Xa.wav": "speech.wav",
        "wav/12b09Ta.wav": CORRUPT,
        "erkennung.txt": TEXT,
    },
    "turev": {
        "Sound Source/Angry/1157_kz_acik.wav": "speech.wav",
        "Sound Source/Calm/1234_sk_beste.flac": "speech.flac",
        "Sound Source/Happy/7895_mt_cay.wav": "speech.wav",
        "Sound Source/Sad/1358_hl_algi.wav": CORRUPT,
        "Sound Source/Bored/1358_hl_bugu.wav": "speech.wav",
    },
    "urdu": {
        "Angry/SM1_F10_A010.wav": "speech.wav",
        "Neutral/SF3_F2_N001.wav": "speech.wav",
        "Sad/SM1_F11_S048.wav": EMPTY,
    },
    "generic": {
        "Angry/a.wav": "speech.wav",
        "anger/b.mp3": "speech_44k.mp3",
        "calm/c.ogg": "speech.ogg",
        "happiness/d.m4a": "speech.m4a",  # a format libsndfile cannot read: PyAV checks it
        "sad/e.flac": "speech.flac",
        "sad/e.wav": "speech.wav",
        "boredom/f.wav": "speech.wav",
        "excited/g.wav": "speech.wav",
        "sad/h.wav": CORRUPT,
        "sad/i.wav": EMPTY,
    },
}

# corpus -> {file: (emotion, speaker)}
SAMPLES = {
    "ravdess": {
        "Actor_01/03-01-05-01-01-01-01.wav": ("angry", "ravdess:01"),
        "Actor_01/03-01-02-02-01-02-01.flac": ("neutral", "ravdess:01"),
        "Actor_02/03-02-03-01-02-01-02.wav": ("happy", "ravdess:02"),
    },
    "crema-d": {
        "AudioWAV/1001_DFA_ANG_XX.wav": ("angry", "crema-d:1001"),
        "AudioWAV/1091_IEO_HAP_LO.wav": ("happy", "crema-d:1091"),
    },
    "tess": {
        "OAF_angry/OAF_back_angry.wav": ("angry", "tess:OAF"),
        "OAF_Pleasant_surprise/OAF_bite_ps.wav": ("surprise", "tess:OAF"),
        "YAF_pleasant_surprised/YAF_bath_ps.wav": ("surprise", "tess:YAF"),
    },
    "savee": {
        "ALL/DC_a01.wav": ("angry", "savee:DC"),
        "ALL/JE_sa05.wav": ("sad", "savee:JE"),
        "AudioData/JK/su03.wav": ("surprise", "savee:JK"),
        "AudioData/KL/h12.flac": ("happy", "savee:KL"),
    },
    "emodb": {
        "wav/03a01Fa.wav": ("happy", "emodb:03"),
        "wav/08b02Wa.wav": ("angry", "emodb:08"),
        "wav/16b10Nc.wav": ("neutral", "emodb:16"),
    },
    "turev": {
        "Sound Source/Angry/1157_kz_acik.wav": ("angry", "turev:1157"),
        "Sound Source/Calm/1234_sk_beste.flac": ("neutral", "turev:1234"),
        "Sound Source/Happy/7895_mt_cay.wav": ("happy", "turev:7895"),
    },
    "urdu": {
        "Angry/SM1_F10_A010.wav": ("angry", "urdu:SM1"),
        "Neutral/SF3_F2_N001.wav": ("neutral", "urdu:SF3"),
    },
    "generic": {
        "Angry/a.wav": ("angry", "generic:Angry/a"),
        "anger/b.mp3": ("angry", "generic:anger/b"),
        "calm/c.ogg": ("neutral", "generic:calm/c"),
        "happiness/d.m4a": ("happy", "generic:happiness/d"),
        "sad/e.flac": ("sad", "generic:sad/e"),
    },
}

# corpus -> {file: how its reason starts}
SKIPPED = {
    "ravdess": {
        "Actor_02/03-01-09-01-01-01-02.wav": "unknown emotion: RAVDESS emotion code 09",
        "Actor_02/03-01-04-01-01-01-02.wav": "unreadable audio:",
        "Actor_01/01-01-05-01-01-01-01.wav": "not audio-only: RAVDESS modality 01",
        "Actor_01/take 3.wav": "name does not match: RAVDESS",
    },
    "crema-d": {
        "AudioWAV/1002_IEO_XXX_LO.wav": "unknown emotion: CREMA-D emotion code XXX",
        "AudioWAV/1003_DFA_SAD_XX.wav": "unreadable audio:",
        "AudioWAV/1076_MTI_SAD_XX.wav": "empty audio:",
        "AudioMP3/1001_DFA_ANG_XX.mp3": "duplicate: the same recording as "
                                        "AudioWAV/1001_DFA_ANG_XX.wav",
    },
    "tess": {
        "OAF_angry/OAF_base_bored.wav": "unknown emotion: 'bored'",
        "OAF_angry/OAF_bean_sad.wav": "label conflict: the name says sad, the folder OAF_angry",
        "YAF_sad/YAF_back_sad.wav": "unreadable audio:",
    },
    "savee": {
        "ALL/KL_x01.wav": "unknown emotion: SAVEE emotion code x",
        "AudioData/JK/n01.wav": "unreadable audio:",
        "AudioData/JK/intro.wav": "name does not match: SAVEE",
    },
    "emodb": {
        "wav/10a04Lb.wav": "not modelled: boredom",
        "wav/11a05Xa.wav": "unknown emotion: EmoDB emotion letter X",
        "wav/12b09Ta.wav": "unreadable audio:",
    },
    "turev": {
        "Sound Source/Sad/1358_hl_algi.wav": "unreadable audio:",
        "Sound Source/Bored/1358_hl_bugu.wav": "unknown emotion: 'Bored'",
    },
    "urdu": {
        "Sad/SM1_F11_S048.wav": "empty audio:",
    },
    "generic": {
        "sad/e.wav": "duplicate: the same recording as sad/e.flac",
        "boredom/f.wav": "not modelled: boredom",
        "excited/g.wav": "no known layout:",
        "sad/h.wav": "unreadable audio:",
        "sad/i.wav": "empty audio: the file is 0 bytes",
    },
}


def make_tree(root: Path, media, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == CORRUPT:
            path.write_bytes(random.Random(name).randbytes(4096))
        elif content == EMPTY:
            path.touch()
        elif content == NO_SAMPLES:
            soundfile.write(path, np.zeros(0, dtype=np.int16), 16000)
        elif content == TEXT:
            path.write_text("not audio\n")
        else:
            shutil.copyfile(media[content], path)
    return root


def relative(dataset, path: Path) -> str:
    return path.relative_to(dataset.root).as_posix()


@pytest.mark.parametrize("corpus", list(TREES))
def test_each_corpus_layout(tmp_path, media, corpus):
    root = make_tree(tmp_path, media, TREES[corpus])
    assert detect_speech_corpora(root) == (corpus,)
    dataset = scan_speech_dataset(root)
    assert {relative(dataset, s.path): (s.emotion, s.speaker) for s in dataset.samples} == \
        SAMPLES[corpus]
    assert {s.corpus for s in dataset.samples} == {corpus}
    reasons = {relative(dataset, path): reason for path, reason in dataset.skipped}
    assert reasons.keys() == SKIPPED[corpus].keys()
    for name, start in SKIPPED[corpus].items():
        assert reasons[name].startswith(start), (name, reasons[name])
    summary = dataset.summary()
    assert f"{len(SAMPLES[corpus])} clips" in summary
    assert f"skipped {len(SKIPPED[corpus])} files" in summary


def test_labels_keep_the_corpus_word(tmp_path, media):
    dataset = scan_speech_dataset(make_tree(tmp_path, media, TREES["ravdess"]))
    calm = next(s for s in dataset.samples if s.path.suffix == ".flac")
    assert (calm.label, calm.emotion) == ("calm", "neutral")


def test_generic_folders_say_speakers_are_unknown(tmp_path, media):
    dataset = scan_speech_dataset(make_tree(tmp_path, media, TREES["generic"]))
    assert len(dataset.speakers) == len(dataset.samples)
    summary = dataset.summary()
    assert "speakers unknown for the 5 clips" in summary
    assert "generic: Angry 1, anger 1 are all counted as angry" in summary


def test_a_root_with_several_corpora_loads_them_all(tmp_path, media):
    root = tmp_path / "speech"
    make_tree(root / "RAVDESS", media, TREES["ravdess"])
    make_tree(root / "downloads" / "TESS", media, TREES["tess"])
    (root / "EmoDB").symlink_to(make_tree(tmp_path / "elsewhere", media, TREES["emodb"]))
    (root / "RAVDESS" / "loop").symlink_to(root)  # followed links must not recurse forever
    assert detect_speech_corpora(root) == ("ravdess", "tess", "emodb")
    dataset = scan_speech_dataset(root)
    assert Counter(s.corpus for s in dataset.samples) == {"ravdess": 3, "tess": 3, "emodb": 3}
    assert len(dataset.skipped) == 4 + 3 + 3
    summary = dataset.summary()
    assert "emotion   ravdess  tess  emodb  total" in summary
    assert "surprise        0     2      0      2" in summary


def test_a_forced_corpus_reads_every_file_by_its_convention(tmp_path, media):
    # emotion folders holding RAVDESS-named files: by name they are RAVDESS clips ...
    root = make_tree(tmp_path, media, {"sad/03-01-05-01-01-01-01.wav": "speech.wav",
                                       "sad/clip.wav": "speech.wav"})
    auto = scan_speech_dataset(root)
    assert [(s.corpus, s.emotion) for s in auto.samples] == [("ravdess", "angry"),
                                                             ("generic", "sad")]
    # ... unless the folders are what the user means
    forced = scan_speech_dataset(root, corpus="generic")
    assert [(s.corpus, s.emotion) for s in forced.samples] == [("generic", "sad")] * 2
    ravdess = scan_speech_dataset(root, corpus="ravdess")
    assert [relative(ravdess, path) for path, _ in ravdess.skipped] == ["sad/clip.wav"]


def test_a_folder_without_a_corpus_says_what_is_recognised_and_found(tmp_path, media):
    make_tree(tmp_path, media, {"recordings/take1.wav": "speech.wav", "readme.txt": TEXT})
    with pytest.raises(DatasetError) as error:
        detect_speech_corpora(tmp_path)
    message = str(error.value)
    for layout in ("Actor_01/03-01-05-01-01-01-01.wav", "AudioWAV/1001_DFA_ANG_XX.wav",
                   "OAF_angry/OAF_back_angry.wav", "DC_a01.wav", "AudioData/DC/a01.wav",
                   "wav/03a01Fa.wav", "angry/any_name.wav"):
        assert layout in message
    assert "Found: 1 audio file, none named or filed like these" in message
    assert "recordings/take1.wav" in message
    with pytest.raises(DatasetError, match="No speech-emotion corpus"):
        scan_speech_dataset(tmp_path)
    with pytest.raises(DatasetError, match="no audio files"):
        detect_speech_corpora(make_tree(tmp_path / "texts", media, {"a.txt": TEXT}))


def test_unusable_inputs_raise_studio_errors(tmp_path, media):
    with pytest.raises(DatasetError, match="does not exist"):
        scan_speech_dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="not a folder"):
        scan_speech_dataset(media["speech.wav"])
    with pytest.raises(DatasetError, match="choose from ravdess, crema-d"):
        scan_speech_dataset(tmp_path, corpus="iemocap")
    broken = make_tree(tmp_path / "broken", media, {"Actor_01/03-01-05-01-01-01-01.wav": CORRUPT})
    with pytest.raises(DatasetError, match="No usable clips(.|\n)*unreadable audio: 1"):
        scan_speech_dataset(broken)


def fake_samples(speakers_per_corpus: dict[str, int], clips: int = 3) -> list[SpeechSample]:
    return [SpeechSample(Path(f"{corpus}/{n:02d}/{clip}.wav"), "happy", f"{corpus}:{n:02d}",
                         corpus, "happy")
            for corpus, count in speakers_per_corpus.items()
            for n in range(1, count + 1) for clip in range(clips)]


def speakers(samples) -> set[str]:
    return {s.speaker for s in samples}


def test_speaker_split_never_shares_a_speaker_and_repeats_itself():
    samples = fake_samples({"ravdess": 20, "tess": 2, "savee": 4, "emodb": 1})
    train, validation = speaker_split(samples)
    assert not speakers(train) & speakers(validation)
    assert len(train) + len(validation) == len(samples)
    held = Counter(s.partition(":")[0] for s in speakers(validation))
    assert held == {"ravdess": 4, "tess": 1, "savee": 1}  # a lone speaker (emodb) trains
    assert speaker_split(list(reversed(samples)))[1] == list(reversed(validation))
    assert speaker_split(samples, seed=0) == (train, validation)
    assert any(speaker_split(samples, seed=seed)[1] != validation for seed in range(1, 5))
    # a corpus's draw does not depend on which other corpora are present
    alone = speaker_split(fake_samples({"ravdess": 20}))[1]
    assert speakers(alone) == {s for s in speakers(validation) if s.startswith("ravdess:")}


def test_speaker_split_with_named_speakers():
    samples = fake_samples({"ravdess": 5, "emodb": 3})
    train, validation = speaker_split(samples, validation_speakers=["ravdess:02", "05"])
    assert speakers(validation) == {"ravdess:02", "ravdess:05"}
    assert not speakers(train) & speakers(validation)
    with pytest.raises(DatasetError, match="ambiguous"):
        speaker_split(samples, validation_speakers=["01"])
    with pytest.raises(DatasetError, match="No speaker 'ravdess:09'"):
        speaker_split(samples, validation_speakers=["ravdess:09"])
    with pytest.raises(DatasetError, match="both sides"):
        speaker_split(samples, validation_speakers=[])
    with pytest.raises(DatasetError, match="both sides"):
        speaker_split(fake_samples({"emodb": 1}))
    with pytest.raises(DatasetError, match="between 0 and 1"):
        speaker_split(samples, fraction=1.0)


def test_real_ravdess_speech(shared_data):
    started = time.perf_counter()
    dataset = scan_speech_dataset(shared_data / "ravdess_speech")
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0
    assert dataset.skipped == ()
    assert len(dataset.samples) == 1200 and dataset.corpora == ("ravdess",)
    assert dataset.speakers == tuple(f"ravdess:{n:02d}" for n in range(1, 21))
    # per actor: 60 clips, codes 02-08 x 2 intensities x 2 statements x 2 repetitions = 8 each,
    # neutral (01) at normal intensity only = 4; calm (02) joins neutral: 20 x (4 + 8)
    assert Counter(s.emotion for s in dataset.samples) == {
        "neutral": 240, "happy": 160, "sad": 160, "angry": 160, "fear": 160, "disgust": 160,
        "surprise": 160}
    assert Counter(s.label for s in dataset.samples if s.emotion == "neutral") == {
        "calm": 160, "neutral": 80}
    assert set(Counter(s.speaker for s in dataset.samples).values()) == {60}
    assert "ravdess: calm 160, neutral 80 are all counted as neutral" in dataset.summary()
    train, validation = speaker_split(dataset.samples)
    assert (len(train), len(validation), len(speakers(validation))) == (960, 240, 4)
    assert not speakers(train) & speakers(validation)


def test_real_turev_speech(shared_data):
    dataset = scan_speech_dataset(shared_data / "turev_speech")
    assert dataset.skipped == () and dataset.corpora == ("turev",)
    assert dataset.speakers == ("turev:1157", "turev:1234", "turev:1358", "turev:1984", "turev:7895")
    assert Counter(s.emotion for s in dataset.samples) == {"angry": 405, "happy": 275, "sad": 401, "neutral": 326}
    assert {s.label for s in dataset.samples if s.emotion == "neutral"} == {"Calm"}
