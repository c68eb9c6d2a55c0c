"""The Whisper voice model's encoder in float32 against int8 (dynamic quantisation of its linear
layers, as CTranslate2 runs the words branch's Whisper): accuracy on held-out speakers, how far the
head's embedding (what the learned fusion models read) moves, and the encoder's time per clip.

    python bench/voice_int8.py [--ravdess-actors 18 19 20] [--turev-speakers 1984] [--data ../shared/data]

Each clip is encoded both ways, float and int8 alternating, on the same trimmed speech; the head
(``voice_whisper``, trained on float32 states) is the same. Accuracy as ``run.py evaluate`` counts
it: 7 classes for RAVDESS (calm as neutral), TurEV-DB renormalised over its 4 emotions.
"""

import argparse
import os
import platform
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import torch
from common import ROOT

from source.voice.whisper_voice import whisper_encoder
from source.datasets.speech import scan_speech_dataset
from source.labels import EMOTIONS
from source.media.decode import read_audio
from source.media.speech import speech_span
from source.registry import get_model

TUREV_EMOTIONS = ("angry", "happy", "sad", "neutral")


def int8_copy(encoder: torch.nn.Module) -> torch.nn.Module:
    """``encoder`` with every linear layer (attention and MLP) quantised to int8, weights per
    channel at load and activations per batch at run time; convolutions and norms stay float."""
    import copy

    # torch.ao's eager quantisation is deprecated in favour of torchao: fine for a measurement
    warnings.filterwarnings("ignore", module=r"torch\.ao\.")
    warnings.filterwarnings("ignore", message=".*quantiz", category=DeprecationWarning)
    plain = copy.deepcopy(encoder)
    for module_name, module in list(plain.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):  # whisper's Linear subclass -> plain nn.Linear
                linear = torch.nn.Linear(child.in_features, child.out_features, bias=child.bias is not None)
                linear.load_state_dict(child.state_dict())
                setattr(module, child_name, linear)
    return torch.ao.quantization.quantize_dynamic(plain, {torch.nn.Linear}, dtype=torch.qint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--ravdess-actors", nargs="+", default=["18", "19", "20"])
    parser.add_argument("--turev-speakers", nargs="+", default=["1984"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in analyze: the voice model has one core
    model = get_model("voice_whisper").load()
    encoder = whisper_encoder(model.transform.whisper_model)
    float_encoder, quantised = encoder.encoder, int8_copy(encoder.encoder)
    corpora = {"ravdess": (args.data / "ravdess_speech", args.ravdess_actors, EMOTIONS),
               "turev": (args.data / "turev_speech", args.turev_speakers, TUREV_EMOTIONS)}
    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
          f"{torch.__version__}, 1 torch thread; Whisper {model.transform.whisper_model} encoder, head voice_whisper")
    print(f"{'corpus':>8} {'clips':>6} {'float32':>8} {'int8':>8} {'same top':>9} {'max |dp|':>9} "
          f"{'emb. cos':>9} {'float ms':>9} {'int8 ms':>8}")
    for corpus, (folder, speakers, emotions) in corpora.items():
        clips = [s for s in scan_speech_dataset(folder).samples if s.speaker.partition(":")[2] in speakers]
        keep = [EMOTIONS.index(e) for e in emotions]
        rows = {"float": [], "int8": []}
        seconds = {"float": 0.0, "int8": 0.0}
        labels = []
        for clip in clips:
            speech = speech_span(read_audio(clip.path))
            if speech is None:
                continue
            for kind, network in (("float", float_encoder), ("int8", quantised)):
                encoder.encoder = network
                started = time.perf_counter()
                pooled = encoder.pooled(speech, trimmed=True)
                seconds[kind] += time.perf_counter() - started
                rows[kind].append(pooled)
            labels.append(EMOTIONS.index(clip.emotion))
        encoder.encoder = float_encoder
        labels = np.array(labels)
        results = {}
        for kind, pooled in rows.items():
            embedded, probabilities = model.encode(torch.from_numpy(np.stack(pooled)))
            probabilities = probabilities.numpy()[:, keep]
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            results[kind] = (embedded.numpy(), probabilities, np.array(keep)[probabilities.argmax(axis=1)])
        (e_f, p_f, top_f), (e_q, p_q, top_q) = results["float"], results["int8"]
        cosine = np.sum(e_f * e_q, axis=1) / (np.linalg.norm(e_f, axis=1) * np.linalg.norm(e_q, axis=1))
        n = len(labels)
        print(f"{corpus:>8} {n:>6} {np.mean(top_f == labels):8.3f} {np.mean(top_q == labels):8.3f} "
              f"{np.mean(top_f == top_q):9.3f} {np.abs(p_f - p_q).max():9.3f} {cosine.min():9.4f} "
              f"{1000 * seconds['float'] / n:9.1f} {1000 * seconds['int8'] / n:8.1f}")


if __name__ == "__main__":
    main()
