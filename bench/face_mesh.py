"""MediaPipe's face mesh network as a face-expression backbone, beside the face CNN and the trees.

    pip install ai-edge-litert    # reads the .tflite; not a dependency of the studio
    python bench/face_mesh.py [--epochs 12] [--data ../shared/data]

The face landmarker bundle (the studio's ``face_landmarker`` asset, sha256-checked) holds
``face_landmarks_detector.tflite``: a residual network trained on many faces to place 478 landmarks.
The geometry trees read its output; this bench asks whether its inner activations, trained further
for expressions, add to the face branch. Steps:

1. The network is rebuilt in torch op by op (conv, depthwise conv, PReLU, add, max-pool, channel
   pad; options read off the shapes), and every op is checked against LiteRT's own tensors on the
   astronaut photo's face (``--check`` stops there).
2. Every FER2013 face of train and PublicTest, and its mirror image, is put on the network's 256 px
   input (scaled to 210 px, borders replicated: about where the landmarker's region puts a face),
   and the 16x16x128 activations where the network's third stage ends are kept (cached; LiteRT's
   reference kernels, about 25 ms an image on one core, so run on two processes).
3. The stages after it (16x16 -> 2x2) and a head (the 2x2x128 and 4x4x128 maps and the 8x8x128
   one pooled to 4x4, normalised -> 256 -> 7) are trained on train for a fixed number of epochs
   (one-cycle schedule, label smoothing 0.1, the mirror image at random, float32); nothing is
   chosen on PublicTest.
   ``--frozen`` trains the head alone on the unchanged network.
4. PublicTest (the face models' validation split: not held out for the CNN or the trees): this
   member alone (with its mirror), the face branch as shipped (CNN + trees), and the branch with
   this member mixed in at a share cross-fitted on seeded halves of PublicTest; the same on the
   MEAD frames (8 a clip from 30-90% of each labelled MEAD video-only clip, the CNN's own crop put
   on the input as a FER2013 face is). Cost per face: the whole network with LiteRT's XNNPACK
   kernels on one thread, which is what a runtime would use.
"""

import argparse
import multiprocessing
import os
import platform
import time
import zipfile
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from common import ROOT
from skimage import data as skimage_data
from face_tta import view_probabilities

from source.assets import asset_path
from source.datasets.faces import scan_face_dataset, scan_face_videos
from source.face.geometry import FaceGeometry
from source.face.geometry_train import GeometryRecipe, cross_fitted
from source.face.landmarker import FaceLandmarker
from source.face.model import FaceModel
from source.face.train import landmark_array
from source.face.video import video_face_samples
from source.paths import cache_dir
from source.training.cache import cached_array, file_identity

MESH_FILE = "face_landmarks_detector.tflite"
SIDE, FACE = 256, 210  # the network's input, and the side a 48 px dataset face is scaled to on it
CUT = 377  # the tensor where the third stage (16x16x128) ends; training starts after it
READ = (470, 439, 408)  # 2x2x128 (what the landmark layer reads), 4x4x128 and 8x8x128


def mesh_tflite() -> Path:
    out = cache_dir() / "face_mesh" / MESH_FILE
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(asset_path("face_landmarker")) as bundle:
            out.write_bytes(bundle.read(MESH_FILE))
    return out


def interpreter(preserve: bool):
    """LiteRT's interpreter of the mesh network: XNNPACK, or (``preserve``) the reference kernels
    with every tensor kept for reading."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType  # the bench's own extra package
    if not preserve:
        return Interpreter(model_path=str(mesh_tflite()), num_threads=1)
    return Interpreter(model_path=str(mesh_tflite()), experimental_preserve_all_tensors=True, num_threads=1,
                       experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)


def on_input(gray: np.ndarray) -> np.ndarray:
    """(1, SIDE, SIDE, 3) float32 in [0, 1]: a grey face crop scaled to FACE px, borders replicated."""
    face = cv2.resize(gray, (FACE, FACE), interpolation=cv2.INTER_CUBIC)
    pad = (SIDE - FACE) // 2
    face = cv2.copyMakeBorder(face, pad, SIDE - FACE - pad, pad, SIDE - FACE - pad, cv2.BORDER_REPLICATE)
    return np.repeat(face[:, :, None], 3, axis=2).astype(np.float32)[None] / 255.0


def _same(size: int, kernel: int, stride: int) -> tuple[int, int]:
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class MeshGraph(torch.nn.Module):
    """The tflite graph's ops in order over a dict of tensors, weights as parameters."""

    def __init__(self, steps: list, params: dict[str, torch.Tensor]):
        super().__init__()
        self.steps = steps
        self.params = torch.nn.ParameterDict({k: torch.nn.Parameter(v) for k, v in params.items()})

    def forward(self, tensors: dict[int, torch.Tensor]) -> dict[int, torch.Tensor]:
        for op, ins, out, options in self.steps:
            a = tensors[ins[0]]
            if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                weight = self.params[f"w{out}"]  # tflite: (out, kh, kw, in), depthwise (1, kh, kw, channels)
                depthwise = op == "DEPTHWISE_CONV_2D"
                weight = weight.permute(3, 0, 1, 2) if depthwise else weight.permute(0, 3, 1, 2)
                if options["same"]:
                    top, bottom = _same(a.shape[2], weight.shape[2], options["stride"])
                    left, right = _same(a.shape[3], weight.shape[3], options["stride"])
                    a = F.pad(a, (left, right, top, bottom))
                tensors[out] = F.conv2d(a, weight, self.params[f"b{out}"], stride=options["stride"],
                                        groups=a.shape[1] if depthwise else 1)
            elif op == "PRELU":
                tensors[out] = torch.where(a >= 0, a, a * self.params[f"a{out}"].view(1, -1, 1, 1))
            elif op == "ADD":
                tensors[out] = a + tensors[ins[1]]
            elif op == "MAX_POOL_2D":
                tensors[out] = F.max_pool2d(a, options["stride"], options["stride"])
            elif op == "PAD":
                tensors[out] = F.pad(a, options["pads"])
        return tensors


def rebuilt_mesh(face: np.ndarray) -> tuple[MeshGraph, float]:
    """The network up to READ, and the largest relative difference of any op's output from
    LiteRT's on ``face`` (an input as ``on_input`` makes)."""
    lite = interpreter(preserve=True)
    lite.allocate_tensors()
    lite.set_tensor(lite.get_input_details()[0]["index"], face)
    lite.invoke()
    steps, params, weights = [], {}, {}
    for op in lite._get_ops_details():
        name, out = op["op_name"], int(op["outputs"][0])
        ins = [int(i) for i in op["inputs"] if i >= 0]
        if name == "DEQUANTIZE":  # float16 weights made float32
            weights[out] = lite.get_tensor(out)
            continue
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "PRELU", "ADD", "MAX_POOL_2D", "PAD"):
            continue  # the presence score's logistic and reshape
        source, result = lite.get_tensor(ins[0]), lite.get_tensor(out)
        options: dict = {}
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            params[f"w{out}"] = torch.tensor(weights.get(ins[1], lite.get_tensor(ins[1])))
            params[f"b{out}"] = torch.tensor(weights.get(ins[2], lite.get_tensor(ins[2])))
            stride = max(1, round(source.shape[1] / result.shape[1]))
            kernel = params[f"w{out}"].shape[1]
            options = {"stride": stride, "same": kernel > 1 and -(-source.shape[1] // stride) == result.shape[1]}
        elif name == "PRELU":
            params[f"a{out}"] = torch.tensor(weights.get(ins[1], lite.get_tensor(ins[1])).reshape(-1))
        elif name == "MAX_POOL_2D":
            options = {"stride": round(source.shape[1] / result.shape[1])}
        elif name == "PAD":
            pads = lite.get_tensor(ins[1])  # NHWC (before, after) per axis -> F.pad's NCHW order
            options = {"pads": (int(pads[2][0]), int(pads[2][1]), int(pads[1][0]), int(pads[1][1]),
                                int(pads[3][0]), int(pads[3][1]))}
        steps.append((name, ins, out, options))
    needed, kept = set(READ), []
    for step in reversed(steps):  # only what READ depends on
        if step[2] in needed:
            kept.append(step)
            needed.update(step[1])
    kept.reverse()
    outputs = {step[2] for step in kept}
    graph = MeshGraph(kept, {k: v for k, v in params.items() if int(k[1:]) in outputs})
    with torch.no_grad():
        tensors = graph({0: torch.from_numpy(face).permute(0, 3, 1, 2)})
    worst = max(float(np.abs(tensors[out].permute(0, 2, 3, 1).numpy() - lite.get_tensor(out)).max()
                      / (np.abs(lite.get_tensor(out)).max() + 1e-6)) for _, _, out, _ in kept)
    return graph, worst


class MeshHead(torch.nn.Module):
    """The network's stages after CUT and a head on its last three maps."""

    def __init__(self, graph: MeshGraph, classes: int):
        super().__init__()
        start = next(i for i, step in enumerate(graph.steps) if CUT in step[1])
        tail = graph.steps[start:]
        outputs = {step[2] for step in tail}
        self.graph = MeshGraph(tail, {k: v.detach() for k, v in graph.params.items() if int(k[1:]) in outputs})
        # the maps keep their layout (where on the face matters), the 8x8 one pooled to 4x4; their
        # scales differ by orders of magnitude, so they are normalised before the head
        width = 128 * (2 * 2 + 4 * 4 + 4 * 4)
        self.head = torch.nn.Sequential(torch.nn.BatchNorm1d(width), torch.nn.Dropout(0.2),
                                        torch.nn.Linear(width, 256),
                                        torch.nn.GELU(), torch.nn.Dropout(0.3), torch.nn.Linear(256, classes))

    def forward(self, cut: torch.Tensor) -> torch.Tensor:
        t = self.graph({CUT: cut})
        return self.head(torch.cat([t[READ[0]].flatten(1), t[READ[1]].flatten(1),
                                    F.avg_pool2d(t[READ[2]], 2).flatten(1)], 1))


def _cut_rows(faces: list[np.ndarray]) -> np.ndarray:
    """(n, 2, 16, 16, 128) float16: the CUT activations of each grey face and its mirror image."""
    lite = interpreter(preserve=True)
    lite.allocate_tensors()
    out = np.zeros((len(faces), 2, 16, 16, 128), dtype=np.float16)
    for i, gray in enumerate(faces):
        for view, image in enumerate((gray, np.ascontiguousarray(gray[:, ::-1]))):
            lite.set_tensor(lite.get_input_details()[0]["index"], on_input(image))
            lite.invoke()
            out[i, view] = lite.get_tensor(CUT)[0]
    return out


def cut_activations(name: str, faces: list[np.ndarray], key: dict, processes: int = 2) -> np.ndarray:
    def compute() -> np.ndarray:
        started = time.monotonic()
        parts = np.array_split(np.arange(len(faces)), processes)
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            rows = pool.map(_cut_rows, [[faces[i] for i in part] for part in parts])
        print(f"{name}: {len(faces)} faces and their mirror images through the network, "
              f"{(time.monotonic() - started) / 60:.1f} min", flush=True)
        return np.concatenate(rows)
    return cached_array(f"face-mesh-{name}", {**key, "side": SIDE, "face": FACE, "cut": CUT}, compute)


def train_head(model: MeshHead, cut: np.ndarray, targets: np.ndarray, epochs: int, frozen: bool,
               seed: int = 0) -> None:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    batch = 128
    groups = [{"params": model.head.parameters(), "lr": 1e-3}]
    if not frozen:
        groups.append({"params": model.graph.parameters(), "lr": 1e-4})
    else:
        model.graph.requires_grad_(False)
    optimizer = torch.optim.AdamW(groups, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, [g["lr"] for g in groups], pct_start=0.15,
                                                   total_steps=epochs * (-(-len(cut) // batch)))
    target = torch.from_numpy(targets)
    started = time.monotonic()
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(cut))
        for start in range(0, len(order), batch):
            rows = np.sort(order[start:start + batch])
            views = rng.integers(0, 2, len(rows))
            x = torch.from_numpy(cut[rows, views].astype(np.float32)).permute(0, 3, 1, 2)
            loss = F.cross_entropy(model(x), target[rows], label_smoothing=0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}/{epochs}: {(time.monotonic() - started) / 60:.1f} min", flush=True)


@torch.no_grad()
def probabilities(model: MeshHead, cut: np.ndarray) -> np.ndarray:
    """(n, classes): softmax averaged over each face and its mirror image."""
    model.eval()
    out = []
    for start in range(0, len(cut), 256):
        views = [torch.from_numpy(cut[start:start + 256, v].astype(np.float32)).permute(0, 3, 1, 2) for v in (0, 1)]
        out.append(sum(torch.softmax(model(x), 1) for x in views).numpy() / 2)
    return np.concatenate(out)


def share_row(name: str, base: np.ndarray, member: np.ndarray, labels: np.ndarray) -> str:
    everywhere = np.ones(len(labels), dtype=bool)
    right, shares = cross_fitted(base, member, everywhere, labels, GeometryRecipe(max_share=0.8))
    alone = base.argmax(axis=1) == labels
    return (f"| {name} | {alone.mean():.4f} | {np.mean(member.argmax(axis=1) == labels):.4f} | "
            f"**{right.mean():.4f}** ({' and '.join(f'{s:.2f}' for s in shares)}) | "
            f"{np.sum(right & ~alone)} / {np.sum(alone & ~right)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--videos", default="av_samples/mead_video_only")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--frozen", action="store_true", help="train the head alone on the unchanged network")
    parser.add_argument("--check", action="store_true", help="only rebuild the network and check it")
    args = parser.parse_args()
    torch.set_num_threads(2)

    frame = skimage_data.astronaut()  # the test suite's astronaut photo
    with FaceLandmarker(video=False) as landmarker:
        face = max(landmarker.detect(frame), key=lambda f: f.area)
    model = FaceModel.load()
    graph, worst = rebuilt_mesh(on_input(model.transform.crop(frame, face.landmarks)))
    print(f"rebuilt: {len(graph.steps)} ops, largest relative difference from LiteRT {worst:.1e}")
    if args.check:
        return

    fer = scan_face_dataset(args.data / "fer2013").samples
    train = [s for s in fer if s.split == "train"]
    test, labels = model.label_set.keep([s for s in fer if s.split == "test"])
    labels = np.asarray(labels)
    train_targets = np.array([model.label_set.index(s.emotion) for s in train])
    train_cut = cut_activations("train", [s.image() for s in train], {"files": [file_identity(Path(s.source)) for s in train]})
    test_cut = cut_activations("test", [s.image() for s in test], {"files": [file_identity(Path(s.source)) for s in test]})

    clips = [c for c in scan_face_videos(args.data / args.videos)[0] if model.label_set.map(c.emotion) is not None]
    frames = video_face_samples(clips, model.transform)
    frame_labels = np.array([model.label_set.index(f.emotion) for f in frames])
    frame_crops = [cv2.resize(f.image(), (48, 48), interpolation=cv2.INTER_AREA) for f in frames]
    frame_cut = cut_activations("mead-frames", frame_crops, {"files": [f.source for f in frames]})

    member = MeshHead(graph, len(model.labels))
    started = time.monotonic()
    train_head(member, train_cut, train_targets, args.epochs, args.frozen)
    minutes = (time.monotonic() - started) / 60

    trees = FaceGeometry.load()
    cnn = view_probabilities(model, np.stack([model.transform.prepare(s.image()) for s in test]), ("id",))
    branch = trees.mixed(cnn, landmark_array(test))
    frame_features = np.stack([f.landmarks for f in frames])
    frame_branch = trees.mixed(view_probabilities(model, np.stack([f.image() for f in frames]), ("id",)), frame_features)

    lite = interpreter(preserve=False)
    lite.allocate_tensors()
    sample = on_input(test[0].image())
    lite.set_tensor(lite.get_input_details()[0]["index"], sample)
    lite.invoke()
    timings = []
    for _ in range(50):
        begun = time.perf_counter()
        lite.set_tensor(lite.get_input_details()[0]["index"], sample)
        lite.invoke()
        timings.append(time.perf_counter() - begun)

    print(f"{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch "
          f"{torch.__version__}; face model sha256 {model.sha256[:8]}…, trees sha256 {trees.sha256[:8]}…; "
          f"mesh member: {'head alone on the unchanged network' if args.frozen else 'stages after the cut and head'}"
          f", {args.epochs} epochs on FER2013 train ({len(train)} faces), {minutes:.1f} min")
    print()
    print("| faces | face branch (CNN + trees) | mesh member alone | branch + member, share cross-fitted | gained / lost |")
    print("|---|---|---|---|---|")
    print(share_row(f"PublicTest ({len(labels)})", branch, probabilities(member, test_cut), labels))
    print(share_row(f"MEAD frames ({len(frame_labels)}, {len(clips)} clips)", frame_branch,
                    probabilities(member, frame_cut), frame_labels))
    print()
    print(f"Cost of the whole mesh network per face, LiteRT XNNPACK, one thread: {1000 * np.median(timings):.1f} ms")


if __name__ == "__main__":
    main()
