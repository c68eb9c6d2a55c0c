"""The combined network: shapes, masking of missing frames and sources, modality dropout."""

import numpy as np
import torch

from source.fusion import combined
from source.fusion.combined import CombinedNet, FusionOptions, WindowBatch

OPTIONS = FusionOptions(voice_dim=12, face_dim=10, text_dim=9, lstm_units=8, dense_units=16)


def batch(size: int = 4, frames: int = 16, seed: int = 0) -> WindowBatch:
    generator = torch.Generator().manual_seed(seed)
    return WindowBatch(
        voice=torch.randn(size, 12, generator=generator),
        voice_present=torch.ones(size, dtype=torch.bool),
        faces=torch.randn(size, frames, 10, generator=generator),
        face_mask=torch.ones(size, frames, dtype=torch.bool),
        text=torch.rand(size, 9, generator=generator),
        text_present=torch.ones(size, dtype=torch.bool),
    )


def test_shapes_and_config_round_trip():
    net = CombinedNet(7, OPTIONS).eval()
    logits = net(*batch().tensors())
    assert logits.shape == (4, 7)
    again = CombinedNet.from_config(net.config())
    again.load_state_dict(net.state_dict())
    assert torch.allclose(again.eval()(*batch().tensors()), logits)


def test_missing_frames_are_left_out_not_read_as_zeros():
    torch.manual_seed(0)  # the size of the last check depends on the weights: no flakes
    net = CombinedNet(7, OPTIONS).eval()
    full = batch()
    gaps = batch()
    gaps.face_mask[:, 3:6] = False  # no face found in frames 3-5
    gaps.faces[:, 3:6] = 1000.0  # whatever sits in masked frames must not matter
    compact = batch()
    keep = [i for i in range(16) if not 3 <= i < 6]
    compact.faces = full.faces[:, keep]
    compact.face_mask = full.face_mask[:, keep]
    assert torch.allclose(net(*gaps.tensors()), net(*compact.tensors()), atol=1e-5)
    sequence = net.face_sequence(gaps.faces, gaps.face_mask)
    assert torch.allclose(sequence, net.face_sequence(compact.faces, compact.face_mask), atol=1e-6)
    # the same frames with faces in them do count (far beyond the tolerance of "equal" above)
    assert (sequence - net.face_sequence(full.faces, full.face_mask)).abs().max() > 1e-4


def test_a_window_without_face_or_speech_still_gets_a_prediction():
    net = CombinedNet(7, OPTIONS).eval()
    windows = batch()
    windows.face_mask[0] = False  # window 0: no face at all
    windows.voice_present[1] = False  # window 1: no speech
    windows.faces[0] = 1000.0
    windows.voice[1] = 1000.0
    logits = net(*windows.tensors())
    assert torch.isfinite(logits).all()
    presence = combined.presence(windows.voice_present, windows.face_mask, windows.text_present)
    assert presence[0].tolist() == [True, False, True] and presence[1].tolist() == [False, True, True]
    clean = batch()
    clean.face_mask[0] = False
    clean.voice_present[1] = False
    assert torch.allclose(logits, net(*clean.tensors()), atol=1e-5)  # absent inputs are ignored


def test_modality_dropout_hides_sources_but_never_all():
    net = CombinedNet(7, FusionOptions(modality_dropout=0.9))
    presence = torch.tensor([[True, True, True], [True, False, False], [False, True, True]] * 50)
    kept = net.hide_sources(presence, torch.Generator().manual_seed(0))
    assert kept.any(dim=1).all()
    assert not (kept & ~presence).any()  # nothing absent is switched on
    assert kept.sum() < presence.sum()
    net.train()
    loss = net.__class__(7, OPTIONS).train()(*batch(8).tensors()).logsumexp(1).mean()
    loss.backward()  # trains with a batch where some sources were hidden


def test_speech_clips_keep_their_augmented_versions_beside_video_speech():
    import numpy as np

    from source.fusion.data import Encodings
    from source.fusion.windows import _concat

    def encodings(items: int, versions: int, start: float) -> Encodings:
        values = start + np.arange(items * versions, dtype=np.float32).reshape(items, versions, 1)
        return Encodings(values.astype(np.float16), np.repeat(values, 7, axis=2),
                         np.ones((items, versions), dtype=bool), np.zeros(items, dtype=np.int64))

    clips, video = encodings(2, 5, 0.0), encodings(1, 1, 100.0)
    joined = _concat(clips, video)
    assert joined.embeddings.shape == (3, 5, 1) and joined.probabilities.shape == (3, 5, 7)
    np.testing.assert_array_equal(joined.embeddings[:2], clips.embeddings)  # every version kept
    assert (joined.embeddings[2] == 100).all() and joined.present.all()  # the video's own speech


def _windows(train: bool, short_windows: float = 0.0, voice_present: bool = True):
    import numpy as np

    from source.fusion.data import Encodings, FusionWindows
    from source.labels import get_label_set

    voice = Encodings(np.ones((4, 3, 8), np.float16), np.full((4, 3, 7), 1 / 7, np.float32),
                      np.full((4, 3), voice_present), np.array([0, 3, 4, 6]))
    faces = Encodings(np.ones((4, 16, 8), np.float16), np.full((4, 16, 7), 1 / 7, np.float32),
                      np.ones((4, 16), bool), np.array([0, 3, 4, 6]))
    return FusionWindows(voice, faces, np.zeros((4, 9)), np.zeros(4, bool), get_label_set("7class"),
                         np.array([[0, 0], [1, 1], [2, 2], [3, 3]]), partners=8, train=train,
                         short_windows=short_windows)


def test_short_training_windows_keep_a_prefix_of_6_to_15_frames():
    windows = _windows(train=True, short_windows=1.0)
    kept = [int(windows[i][0][3].sum()) for i in range(len(windows))]
    assert min(kept) >= 6 and max(kept) <= 15 and len(set(kept)) > 3  # lengths vary
    for i in range(len(windows)):
        mask = windows[i][0][3]
        assert mask[:int(mask.sum())].all()  # a prefix: the window ends early
    # validation and test windows are never cut, and training ones only in the share asked for
    assert all(int(w[0][3].sum()) == 16 for w in _windows(train=False, short_windows=1.0))
    assert all(int(w[0][3].sum()) == 16 for w in _windows(train=True, short_windows=0.0))


def test_the_cards_pairing_note_states_the_recipes_shares():
    """The model cards' account of the training windows is read from the recipe (faceless frames,
    short windows and their lengths), so a changed default cannot leave the text behind."""
    from dataclasses import replace

    from source.fusion.windows import PAIRING_NOTE, WindowsRecipe, pairing_note

    recipe = WindowsRecipe()
    assert PAIRING_NOTE == pairing_note(recipe)
    assert (f"{recipe.frame_dropout:.0%} of frames are marked faceless, {recipe.short_windows:.0%} of windows "
            "end early (6-15 of the 16 frames: 1.5-3.75 s, as the last window" in PAIRING_NOTE)
    other = pairing_note(replace(recipe, frame_dropout=0.2, short_windows=0.125))
    assert "20% of frames are marked faceless, 12.5% of windows end early (6-15 of the 16 frames" in other

def test_a_voice_version_without_speech_enters_as_absent():
    windows = _windows(train=True, voice_present=False)
    assert not any(bool(windows[i][0][1]) for i in range(len(windows)))
    assert all(bool(w[0][1]) for w in _windows(train=True))
    assert np.isnan(_windows(train=False, voice_present=False).branch_probabilities()["voice"]).all()
