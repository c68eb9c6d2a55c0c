"""Named emotion models: ``register_model`` / ``get_model`` / ``list_models``.

As with torchvision's weights, an entry brings everything needed to use it: how to build
the network, its weights file, its preprocessing transform and its label list, so nothing
is configured twice. Each model family registers itself in its ``register`` module; those
are imported (all of them, once) the first time the registry is read.

A ``register`` module is a table, not the model: it names the loader and the command handlers
by import path (:func:`lazy`, :class:`Commands`), so reading the registry (``run.py --help``,
the menu, the app's model list) imports no model code, torch or MediaPipe. A family's code is
imported when its model is loaded or one of its commands runs. A family that trains describes
its dataset commands as :class:`TrainingCommands`; ``source.cli.training`` builds them.

The ``register`` modules are found by name (every ``register.py`` under ``source/``), so a new
family is one package with its own ``register`` module and no edit elsewhere.
"""

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from .errors import StudioError, UntrainedModel
from .paths import MODELS_DIR


def resolve(target: str):
    """The object named ``"package.module:name"`` (``name`` may be dotted: ``Class.method``)."""
    module_name, _, attribute = target.partition(":")
    found = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        found = getattr(found, part)
    return found


class Lazy:
    """A callable named by its import path, imported on its first call (or :meth:`resolve`)."""

    __slots__ = ("target", "_found")

    def __init__(self, target: str):
        module_name, colon, attribute = target.partition(":")
        if not (module_name and colon and attribute):
            raise ValueError(f"a lazy target is 'package.module:name', not {target!r}")
        self.target, self._found = target, None

    def resolve(self) -> Callable:
        if self._found is None:
            self._found = resolve(self.target)
        return self._found

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"


def lazy(target: str) -> Lazy:
    """``lazy("source.face.model:FaceModel.load")``: the loader, imported when called."""
    return Lazy(target)


class Commands(Mapping):
    """The CLI work a model supports: the command names are known at once (``--help``, the menu,
    "supports"), each handler is imported when it is looked up.

    Either ``{command: handler}``, a handler being a function or its import path
    (``"source.cli.text:train"``); or the command names and ``handlers``: a module whose functions
    are named after the commands (``"source.cli.face"``), or a function returning
    ``{command: handler}`` for exactly those names (called once).
    """

    def __init__(self, names: Iterable[str] | Mapping[str, Callable | str],
                 handlers: str | Callable[[], Mapping[str, Callable]] | None = None):
        if isinstance(names, Mapping) == (handlers is not None):
            raise TypeError("Commands takes {command: handler}, or command names and their handlers")
        self._names = tuple(dict.fromkeys(names))
        self._source = dict(names) if handlers is None else handlers
        self._found: dict[str, Callable] = {}

    def _find(self, name: str) -> Callable:
        if isinstance(self._source, dict):
            handler = self._source[name]
            return resolve(handler) if isinstance(handler, str) else handler
        if isinstance(self._source, str):
            return getattr(importlib.import_module(self._source), name)
        handlers = dict(self._source())
        if set(handlers) != set(self._names):
            raise RuntimeError(f"the handlers of {sorted(self._names)} are {sorted(handlers)}")
        self._found.update(handlers)
        return handlers[name]

    def __getitem__(self, name: str) -> Callable:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._found:
            self._found[name] = self._find(name)
        return self._found[name]

    def __contains__(self, name) -> bool:  # Mapping's would look the handler up
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"Commands({list(self._names)}, {self._source!r})"


@dataclass(frozen=True)
class TrainingCommands:
    """What a family's dataset commands (preprocess, tune, train, ensemble, evaluate) need, its
    functions named by import path ("package.module:name", imported when a command runs); each
    takes the ``bound`` arguments first (a research family: its ``Family``). The handlers, built
    by ``source.cli.training``, read ``models/<model>/recipe.json`` as the shipped recipe when
    there is one and write to ``output_files/models/<model>/`` by default."""

    recipe: str  # the recipe's dataclass
    unit: str  # what its data counts, in progress bars and result lines: "image", "clip", "window"
    out: str  # the weights file train writes by default, formatted with ``recipe``: "face_{recipe.backbone}.pt"
    train: str  # train(data, recipe, out, run_dir, fresh, command, on_features=, on_epoch=, log=) -> metrics
    evaluate: str  # evaluate(data, weights, selection, on_features=) -> the evaluate report
    # what narrows evaluate (its ``selection``): "split" (--split, default all), "part" (--split,
    # default the test part) or "speakers" (--speakers)
    selects: str = "split"
    prepare: str | None = None  # prepare(data, recipe, on_features, workers, log): preprocess
    ensemble: str | None = None  # ensemble(data, members, out, command, on_features=, log=)
    ensemble_out: str = ""  # the file ensemble writes by default
    search_space: Mapping[str, tuple] | None = None  # what tune searches (see ``tuning.space``)
    bound: tuple = ()

    def __post_init__(self):
        if self.selects not in ("split", "part", "speakers"):
            raise ValueError(f"selects is split, part or speakers, not {self.selects!r}")

    def names(self) -> tuple[str, ...]:
        """The commands it supports."""
        return tuple(name for name, supported in (
            ("preprocess", self.prepare), ("tune", self.search_space), ("train", True),
            ("ensemble", self.ensemble), ("evaluate", True)) if supported)

    def commands(self, **own: str) -> "Commands":
        """These commands and the family's ``own`` (command -> handler's import path), imported
        when one runs."""
        return Commands((*own, *self.names()), partial(lazy("source.cli.training:handlers"), self, own))


@dataclass(frozen=True)
class ShippedWeights:
    """The weights file the studio ships for a model and its pinned sha256: a file that differs
    (damaged or replaced) is refused."""

    file: str  # under models/, e.g. "face/face_mobilenet_v2.pt"
    sha256: str

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.file


# how ``run.py analyze`` takes a file of a model of each branch (for the untrained refusal)
_FILE_OPTIONS = {"face": "--face-model {name} --face-weights FILE; the app: the Face model file setting",
                 "voice": "--voice-model {name} --voice-weights FILE",
                 "fusion": "--fusion {name} --fusion-weights FILE; the app: the Fusion model file setting"}


@dataclass(frozen=True, eq=False)  # one entry per name: compared (and hashed) by identity
class ModelEntry:
    name: str  # what users type: --model NAME
    branch: str  # "face", "voice", "text", "fusion", or "landmarks" (trees a face model mixes in)
    description: str
    # (path, expected_sha256=None, **options) -> ready-to-use model carrying its transform and
    # labels; "package.module:name" is imported when first called. ``load`` calls it.
    loader: Callable | str
    # the file the studio ships; None: none (the model ships untrained, or is a rule)
    weights: ShippedWeights | None = None
    # CLI work this model supports: "predict", "train", ... -> handler(args) -> exit code; a
    # handler may be an import path "package.module:name" (see Commands), imported when used
    commands: Mapping[str, Callable | str] = field(default_factory=dict)
    # True: a fixed rule (late fusion), nothing trained and no weights file to give
    rule: bool = False

    def __post_init__(self):
        if isinstance(self.loader, str):
            object.__setattr__(self, "loader", Lazy(self.loader))
        if not isinstance(self.commands, Commands):
            object.__setattr__(self, "commands", Commands(self.commands))

    @property
    def ships_trained(self) -> bool:
        """Whether the studio can run it as shipped: it has weights, or is a rule. One that cannot
        is refused (``load``) with its train command and marked "untrained" by the app."""
        return self.weights is not None or self.rule

    def load(self, path: str | Path | None = None, *encoders, **options):
        """The model in ``path``, or the shipped file (its sha256 checked); a model that ships
        untrained refuses, naming its train command. ``encoders`` and ``options`` go to the loader
        (the fusion models' ``voice`` and ``face``)."""
        if path is not None or self.rule:
            return self.loader(path, *encoders, **options)
        weights = self.shipped()
        return self.loader(weights.path, *encoders, expected_sha256=weights.sha256, **options)

    def shipped(self) -> ShippedWeights:
        """The file the studio ships (what a model class's ``load()`` without a path reads);
        ``UntrainedModel`` naming the train command when it ships none."""
        if self.weights is None:
            raise UntrainedModel.of(self.name, f"python run.py train --model {self.name} --data DIR",
                                    _FILE_OPTIONS.get(self.branch, "--weights FILE").format(name=self.name))
        return self.weights


_MODELS: dict[str, ModelEntry] = {}
# names that stand for another model: ``voice`` is the analysis's default voice model, so
# ``evaluate``/``card``/``predict --model voice`` follow the default (registered by the voice family)
_ALIASES: dict[str, str] = {}
_loaded = False


def register_modules() -> list[str]:
    """Every family's ``register`` module: each ``register.py`` in this package, sorted."""
    root = Path(__file__).resolve().parent
    return sorted(".".join((__package__, *path.relative_to(root).with_suffix("").parts))
                  for path in root.rglob("register.py"))


def _load_families() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in register_modules():
            importlib.import_module(module)


def register_model(entry: ModelEntry) -> ModelEntry:
    if entry.name in _MODELS:
        raise ValueError(f"model {entry.name!r} is registered twice")
    _MODELS[entry.name] = entry
    return entry


def register_alias(alias: str, name: str) -> None:
    """``get_model(alias)`` is ``get_model(name)`` (``name`` need not be registered yet)."""
    if alias in _ALIASES and _ALIASES[alias] != name:
        raise ValueError(f"alias {alias!r} already stands for {_ALIASES[alias]!r}")
    _ALIASES[alias] = name


def canonical_name(name: str) -> str:
    """The registered name an alias stands for (``audio`` -> ``voice_mfcc``); other names as given."""
    _load_families()
    return _ALIASES.get(name, name)


def list_models() -> list[ModelEntry]:
    _load_families()
    return sorted(_MODELS.values(), key=lambda e: e.name)


def branch_models(branch: str) -> tuple[str, ...]:
    """The names of a branch's registered models ("face", "voice", "text" or "fusion"), sorted, the
    rules (late fusion) first:
    what ``AnalysisOptions.face_model`` / ``voice_model``, ``analyze --face-model`` / ``--voice-model``
    and the app's pickers choose from."""
    return tuple(entry.name for entry in sorted(list_models(), key=lambda e: not e.rule) if entry.branch == branch)


def get_model(name: str) -> ModelEntry:
    _load_families()
    name = canonical_name(name)
    if name not in _MODELS:
        known = ", ".join(e.name for e in list_models()) or "none in this version"
        raise StudioError(f"There is no model named {name!r}. Available models: {known}.")
    return _MODELS[name]


def load(name_or_path: str | Path, **options):
    """A ready-to-use model: by registered name (or alias), its shipped weights; by weights file,
    that file, loaded by the model whose kind the file holds (a research family's file by its
    family). ``options`` go to the model's loader (e.g. the fusion models' ``voice`` and ``face``).
    The text model has no weights file of this format: load it by name."""
    _load_families()
    if isinstance(name_or_path, str) and canonical_name(name_or_path) in _MODELS:
        return get_model(name_or_path).load(**options)
    from .weights import WeightsError, read_field

    path = Path(name_or_path)
    if not path.exists():
        known = ", ".join(e.name for e in list_models())
        raise StudioError(f"{name_or_path} is neither a model name ({known}) nor an existing file.")
    kind = read_field(path, "kind")
    if not isinstance(kind, str) or kind not in _MODELS:
        raise WeightsError(f"{path} holds a {kind!r} model, which no registered model reads.")
    return _MODELS[kind].load(path, **options)
