"""Helpers shared by test modules: running ``run.py`` in a subprocess, the evaluate JSON keys."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVALUATE_KEYS = {"model", "weights_sha256", "n", "accuracy", "macro_f1", "labels", "per_class",
                 "confusion", "ece"}


def run_py(*args, cache: Path) -> subprocess.CompletedProcess:
    """``python run.py ARGS`` with its own feature cache folder."""
    env = {**os.environ, "EMOTION_STUDIO_CACHE": str(cache)}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def joined_with_another_member(trained, weights: Path, other_network, data: Path, tmp_path: Path, sample):
    """``run.py ensemble`` over ``weights`` (the model ``trained``) and a second member: the
    network ``other_network`` (another initialisation) with the same transform, labels and split.
    Checks the ensemble's embedding, its record of the members, and that its probabilities for
    ``sample`` are the members' calibrated ones averaged, then scaled by its own temperature.
    Returns (the ensemble, its metrics, the second member's file)."""
    import json

    import numpy as np

    model_class = type(trained)
    other = model_class(other_network, trained.transform, trained.label_set, 2.0, trained.metrics)
    other_weights = tmp_path / "other.pt"
    other_sha256 = other.save(other_weights)
    ensemble_weights = tmp_path / "ensemble" / "ensemble.pt"
    joined = run_py("ensemble", "--model", model_class.KIND, "--data", data, "--members", weights,
                    other_weights, "--out", ensemble_weights, cache=tmp_path / "cache")
    assert joined.returncode == 0, joined.stderr
    assert "validation: accuracy" in joined.stdout
    ensemble = model_class.load(ensemble_weights)
    assert ensemble.network.embedding_size == 2 * trained.network.embedding_size
    metrics = json.loads((ensemble_weights.parent / "metrics.json").read_text())
    assert [m["sha256"] for m in metrics["members"]] == [trained.sha256, other_sha256]
    mean = np.mean([m.predict([sample])[0] for m in (trained, model_class.load(other_weights))], axis=0)
    expected = mean ** (1 / ensemble.temperature)
    assert np.allclose(ensemble.predict([sample])[0], expected / expected.sum(), atol=1e-4)
    return ensemble, metrics, other_weights
