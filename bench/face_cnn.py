"""The face network's inference cost: the backbone as trained (eager PyTorch, how every release
before 2026-12-05 ran it) against the frozen TorchScript copy ``nets.EmotionNet`` now runs in
inference.

    python bench/face_cnn.py [--weights FILE] [--threads 1 2]

Per batch of face crops (a photo's one face, a window's 16 frames, four faces over a window) with
their mirror images, as ``FaceModel.encode`` runs them: best of 15 runs, ms per call, and the
largest difference between the two outputs. The voice MFCC model's networks are timed the same way
on a window's MFCC map.
"""

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import torch

from source.face.model import FaceModel
from source.nets import EmotionNet
from source.voice.model import VoiceModel


def best_ms(call, x: torch.Tensor, repeats: int = 15) -> float:
    with torch.no_grad():
        call(x)  # warm-up: the frozen copy is made, the profiling executor runs
        call(x)
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            call(x)
            best = min(best, time.perf_counter() - started)
    return 1000 * best


def eager(network):
    """The network as it ran before: under no_grad, its backbones themselves, not frozen."""
    nets = [module for module in network.modules() if isinstance(module, EmotionNet)]

    def run(x):
        for net in nets:  # an instance attribute shadows the method
            net._backbone_for = lambda _, net=net: net.backbone
        try:
            return network(x)
        finally:
            for net in nets:
                del net._backbone_for
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="a face model file (default: the shipped one)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    face_model = FaceModel.load(args.weights)
    face, size = face_model.network.eval(), face_model.transform.size
    voice = VoiceModel.load()
    voice_network = voice.network.eval()
    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
          f"{torch.__version__}; face network {face.backbone_name} at {size} px, flip-averaged (2 images a crop)")
    print("| network | input | threads | eager ms | frozen ms | speed-up | largest difference |")
    print("|---|---|---|---|---|---|---|")
    cases = [("face", "1 crop", face, torch.randn(1, 3, size, size)),
             ("face", "16 crops (a window)", face, torch.randn(16, 3, size, size)),
             ("face", "64 crops (4 faces)", face, torch.randn(64, 3, size, size)),
             ("voice MFCC", "1 window", voice_network, torch.randn(1, *voice.transform.output_shape))]
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, what, network, x in cases:
            slow, fast = best_ms(eager(network), x), best_ms(network, x)
            with torch.no_grad():
                difference = (eager(network)(x) - network(x)).abs().max().item()
            print(f"| {name} | {what} | {threads} | {slow:.1f} | {fast:.1f} | {slow / fast:.2f}x | {difference:.1e} |")


if __name__ == "__main__":
    main()
