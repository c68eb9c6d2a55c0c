"""Named emotion models: ``register_model`` / ``get_model`` / ``list_models``.

As with torchvision's weights, an entry brings everything needed to use it: how to build
the network, its weights file, its preprocessing transform and its label list, so nothing
is configured twice. Each model family registers itself in its ``register`` module; those
are imported (all of them, once) the first time the registry is read.

A ``register`` module is a table, not the model: it names the loader and the command handlers
by import path (:func:`lazy`, :class:`Commands`), so reading the registry (``run.py --help``,
the menu, the app's model list) imports no model code, torch or MediaPipe. A family's code is
imported when its model is loaded or one of its commands runs.
"""

import importlib

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from .errors import StudioError


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
class ModelEntry:
    name: str  # what users type: --model NAME
    branch: str  # "face", "audio", "text" or "fusion"
    description: str
    # () -> ready-to-use model carrying its transform and labels; "package.module:name" is
    # imported when first called
    load: Callable | str
    # CLI work this model supports: "predict", "train", ... -> handler(args) -> exit code; a
    # handler may be an import path "package.module:name" (see Commands), imported when used
    commands: Mapping[str, Callable | str] = field(default_factory=dict)
    # False: the studio holds no weights for it: its loader refuses to run without a file and names
    # its train command, and the app marks it "untrained" (the one place this is said)
    ships_trained: bool = True

    def __post_init__(self):
        if isinstance(self.load, str):
            object.__setattr__(self, "load", Lazy(self.load))
        if not isinstance(self.commands, Commands):
            object.__setattr__(self, "commands", Commands(self.commands))


_MODELS: dict[str, ModelEntry] = {}
# names that stand for another model: ``voice`` is the analysis's default voice model, so
# ``evaluate``/``card``/``predict --model voice`` follow the default (registered by the voice family)
_ALIASES: dict[str, str] = {}
_FAMILIES = ("source.audio.register", "source.face.register", "source.text.register",
             "source.fusion.register", "source.fusion.research.register")
_loaded = False


def _load_families() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _FAMILIES:
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


def list_models() -> list[ModelEntry]:
    _load_families()
    return sorted(_MODELS.values(), key=lambda e: e.name)


def branch_models(branch: str) -> tuple[str, ...]:
    """The names of a branch's registered models ("face", "audio", "text" or "fusion"), sorted:
    what ``AnalysisOptions.face_model`` / ``voice_model``, ``analyze --face-model`` / ``--voice-model``
    and the app's pickers choose from."""
    return tuple(entry.name for entry in list_models() if entry.branch == branch)


def get_model(name: str) -> ModelEntry:
    _load_families()
    name = _ALIASES.get(name, name)
    if name not in _MODELS:
        known = ", ".join(e.name for e in list_models()) or "none in this version"
        raise StudioError(f"There is no model named {name!r}. Available models: {known}.")
    return _MODELS[name]
