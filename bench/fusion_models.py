"""Every emotion model on the combined model's held-out test windows: accuracy, macro-F1,
parameters and CPU time per window (one thread, batch of one, from face crops and MFCCs to
probabilities: the voice and face encoders are counted for the models that use them).

    python bench/fusion_models.py [--data ../shared/data] [--weights NAME=FILE ...] [--timed 50]

Families that ship untrained are measured only with ``--weights NAME=FILE``.
"""

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from source.voice.model import VoiceModel  # noqa: E402
from source.errors import UntrainedModel  # noqa: E402
from source.face.model import FaceModel  # noqa: E402
from source.fusion.model import CombinedModel  # noqa: E402
from source.fusion.research.families import WINDOW_FAMILIES  # noqa: E402
from source.fusion.research.family import FamilyModel, Inputs  # noqa: E402
from source.fusion.encodings import EncodedItems  # noqa: E402
from source.fusion.train import baselines  # noqa: E402
from source.fusion.windows import WindowsRecipe, fusion_data  # noqa: E402
from source.training.metrics import accuracy_and_macro_f1, calibrated  # noqa: E402
from source.training.recipes import current_keys, recipe_from_dict  # noqa: E402
from source.training.trainer import predict_logits  # noqa: E402


def parameters(*networks) -> int:
    return sum(p.numel() for n in networks for p in n.parameters())


def milliseconds(run, inputs: list) -> float:
    """Median ms of ``run(x)`` over ``inputs``, after one warm-up call."""
    with torch.no_grad():
        run(inputs[0])
        times = []
        for x in inputs:
            started = time.perf_counter()
            run(x)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--weights", nargs="*", default=[], metavar="NAME=FILE")
    parser.add_argument("--timed", type=int, default=50, help="windows timed per model")
    args = parser.parse_args()
    torch.set_num_threads(1)
    given = dict(item.split("=", 1) for item in args.weights)
    voice, face, combined = VoiceModel.load(), FaceModel.load(), CombinedModel.load()
    # the combined model's split, as every family's recipe keeps it
    shared = {field.name for field in dataclasses.fields(WindowsRecipe)}  # not its own settings
    saved = current_keys(WindowsRecipe, combined.recipe)  # its settings under their current names
    recipe = recipe_from_dict(WindowsRecipe, {k: v for k, v in saved.items() if k in shared})
    encoded = fusion_data(args.data, recipe, EncodedItems(voice, face)).parts["test"]
    targets = encoded.targets
    n_labels = len(combined.labels)
    timed = np.linspace(0, len(encoded) - 1, args.timed).round().astype(int)
    raw_windows = {}

    def raw_test(inputs: Inputs):
        key = str(inputs.identity())
        if key not in raw_windows:
            raw_windows[key] = fusion_data(args.data, recipe, inputs.items()).parts["test"]
            assert np.array_equal(raw_windows[key].pairs, encoded.pairs)  # the same windows
        return raw_windows[key]

    raw = raw_test(Inputs(face_transform=face.transform, voice_transform=voice.transform))
    mfcc = [torch.from_numpy(raw[i][0][0].numpy().reshape(voice.transform.output_shape))[None] for i in timed]
    crops = [torch.from_numpy(face.transform.normalize(raw[i][0][2].numpy().reshape(16, face.transform.size, face.transform.size).astype(np.uint8)))
             for i in timed]

    def encoders(i: int) -> tuple:
        """The window's inputs to an encoded fusion: both encoders run (what they cost is counted)."""
        window = encoded[timed[i]][0]
        voice_embedding = voice.network.embed(mfcc[i])
        face_embeddings = face.network.embed(crops[i])
        return (voice_embedding, window[1][None], face_embeddings[None], window[3][None], window[4][None],
                window[5][None])

    rows = []

    def add(name: str, probabilities: np.ndarray, n_parameters: int, ms: float) -> None:
        accuracy, macro_f1 = accuracy_and_macro_f1(targets, probabilities.argmax(1), n_labels)
        rows.append((name, accuracy, macro_f1, n_parameters, ms))

    branch = baselines(encoded, combined.labels)
    add("voice alone", branch["voice"], parameters(voice.network),
        milliseconds(lambda i: voice.network(mfcc[i]), range(len(timed))))
    add("face alone", branch["face"], parameters(face.network),
        milliseconds(lambda i: face.network(crops[i]), range(len(timed))))
    add("late (equal weights)", branch["late"], parameters(voice.network, face.network),
        milliseconds(lambda i: (voice.network(mfcc[i]), face.network(crops[i])), range(len(timed))))
    logits, _ = predict_logits(combined.network, encoded)
    add("combined", calibrated(logits, combined.temperature), parameters(voice.network, face.network, combined.network),
        milliseconds(lambda i: combined.network(*encoders(i)), range(len(timed))))
    for family in WINDOW_FAMILIES:
        try:
            model = FamilyModel.load(family, given.get(family.name), voice, face)
        except UntrainedModel:
            rows.append((family.name, None, None, None, None))
            continue
        if family.inputs == "encoded":
            logits, _ = predict_logits(model.network, encoded)
            ms = milliseconds(lambda i: model.network(*encoders(i)), range(len(timed)))
            n_parameters = parameters(voice.network, face.network, model.network)
        else:
            windows = raw_test(model.inputs)
            logits, _ = predict_logits(model.network, windows)
            batch = [tuple(t[None] if torch.is_tensor(t) else torch.tensor([t]) for t in windows[i][0]) for i in timed]
            ms = milliseconds(lambda x: model.network(*x), batch)
            n_parameters = parameters(model.network)
        add(family.name, calibrated(logits, model.temperature), n_parameters, ms)

    print(f"{len(encoded)} test windows (combined model's split: {', '.join(recipe.test_people)} "
          f"and a quarter of FER2013 PublicTest); "
          f"1 CPU thread, median of {len(timed)} windows")
    print("| model | accuracy | macro-F1 | parameters | CPU ms / window |")
    print("|---|---|---|---|---|")
    for name, accuracy, macro_f1, n_parameters, ms in rows:
        if accuracy is None:
            print(f"| {name} | ships untrained | | | |")
        else:
            print(f"| {name} | {accuracy:.3f} | {macro_f1:.3f} | {n_parameters / 1e6:.2f} M | {ms:.1f} |")


if __name__ == "__main__":
    main()
