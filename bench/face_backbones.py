"""Face-model backbones on this CPU: training and inference cost per face crop.

    python bench/face_backbones.py [--backbones mobilenet_v2 resnet18 ...] [--size 64]

Training cost (forward, backward and AdamW step on batches of 64) sets how many FER2013 epochs
(28,709 images) fit in a run; inference cost at batch 1 is what one face in one frame costs in
``analyze``. Read with the accuracy each reaches (models/face/MODEL_CARD.md).
"""

import argparse
import os
import platform
import time

import torch

from source.nets import EmotionNet

FER_TRAIN_IMAGES = 28_709


def per_image_ms(step, batch: int, repeats: int) -> float:
    step()  # warm-up: allocations and kernel selection
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - started) / (repeats * batch) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+",
                        default=["shufflenet_v2_x1_0", "mobilenet_v2", "resnet18", "resnet34"])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), {args.size}px crops")
    print(f"{'backbone':>20} {'train ms/img':>13} {'min/FER epoch':>14} {'infer ms (1)':>13} "
          f"{'infer ms/img (32)':>18} {'params M':>9}")
    for name in args.backbones:
        network = EmotionNet(name, 7)
        optimizer = torch.optim.AdamW(network.parameters())
        batch = torch.randn(64, 3, args.size, args.size)
        targets = torch.randint(0, 7, (64,))

        def train_step():
            network.train()
            loss = torch.nn.functional.cross_entropy(network(batch), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        def infer(n: int):
            network.eval()
            with torch.no_grad():
                network(batch[:n])

        train = per_image_ms(train_step, 64, args.repeats)
        single = per_image_ms(lambda: infer(1), 1, args.repeats * 10)
        batched = per_image_ms(lambda: infer(32), 32, args.repeats)
        params = sum(p.numel() for p in network.parameters()) / 1e6
        print(f"{name:>20} {train:13.2f} {train * FER_TRAIN_IMAGES / 60000:14.1f} {single:13.2f} "
              f"{batched:18.2f} {params:9.1f}")


if __name__ == "__main__":
    main()
