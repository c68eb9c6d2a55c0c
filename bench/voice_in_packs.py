"""A Whisper voice model on held-out RAVDESS actors, each clip heard alone and heard as ``analyze``
hears speech: each actor's clips joined into one monologue (random order, 1 s of silence between),
transcribed, and for ``voice_whisper_shared`` each clip's frames read from the words branch's packs.

    python bench/voice_in_packs.py [--weights FILE] [--actors 18 19 20] [--data ../shared/data/ravdess_speech]

Prints the accuracy (7 classes, calm as neutral) over the clips that have a voice result both ways.
Measured 2026-12-05 (see models/voice_whisper_shared/MODEL_CARD.md): 73.4% alone, 69.8% inside
the packs; a model trained on clips alone only: 45.0% inside the packs.
"""

import argparse
from pathlib import Path

import numpy as np
from common import ROOT

from source.datasets.speech import scan_speech_dataset
from source.media.decode import read_audio
from source.options import SAMPLE_RATE
from source.registry import get_model
from source.text.transcribe import EncodedSpeechTimeline, TranscribeOptions, load_transcriber


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="a voice_whisper_shared file (default: the shipped one)")
    parser.add_argument("--actors", nargs="+", default=["18", "19", "20"])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ravdess_speech")
    args = parser.parse_args()
    model = get_model("voice_whisper_shared").load(args.weights)
    transcriber = load_transcriber(TranscribeOptions(model=model.transform.whisper_model, threads=2))
    samples = scan_speech_dataset(args.data).samples
    pause = np.zeros(SAMPLE_RATE, np.float32)
    rng = np.random.default_rng(0)
    alone = packed = heard = 0
    for actor in args.actors:
        clips = [s for s in samples if s.speaker.partition(":")[2] == actor]
        clips = [clips[i] for i in rng.permutation(len(clips))]
        audios = [read_audio(clip.path) for clip in clips]
        places, at = [], 0.0
        for audio in audios:
            places.append((at, at + audio.size / SAMPLE_RATE))
            at += (audio.size + pause.size) / SAMPLE_RATE
        timeline = EncodedSpeechTimeline()
        monologue = np.concatenate([part for audio in audios for part in (audio, pause)])
        list(transcriber.stream([monologue], on_encoded=timeline.add))
        for clip, audio, (start, end) in zip(clips, audios, places):
            own, shared = model.predict_window(audio), model.encode_frames(timeline.take(start, end))[1]
            if own is None or shared is None:
                continue
            heard += 1
            alone += own["top_emotion"] == clip.emotion
            packed += shared["top_emotion"] == clip.emotion
    print(f"actors {', '.join(args.actors)}: {heard} clips with a voice result both ways; "
          f"alone {alone / heard:.3f}, inside the transcriber's packs {packed / heard:.3f}")


if __name__ == "__main__":
    main()
