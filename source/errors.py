"""Error types with messages meant for the person using the studio.

Front ends (CLI, app, service) only render these; they never show a traceback for them.
"""


class StudioError(Exception):
    """Base class: ``str(error)`` is a complete, user-facing explanation."""


class MediaError(StudioError):
    """The input file cannot be used: missing, empty, corrupt, unsupported or too short."""


class NoAudioTrack(MediaError):
    """A branch needs audio but the file holds none."""


class NoVideoTrack(MediaError):
    """A branch needs pictures but the file holds none."""


class AssetMissing(StudioError):
    """An external model file is not cached and could not be fetched."""


class AssetChecksumMismatch(StudioError):
    """An external model file is present but its sha256 is not the registered one."""


class NoFaceFound(StudioError):
    """No face was found where one was required (e.g. a still photo)."""


class DatasetError(StudioError):
    """A dataset folder cannot be used: missing, in no known layout, or without usable clips."""


class UntrainedModel(StudioError):
    """A registered model that ships without trained weights was asked to predict."""

    @classmethod
    def of(cls, name: str, train_command: str, analyze: str) -> "UntrainedModel":
        """The refusal of model ``name``: how to train it and pass the file it writes (``analyze``:
        how ``run.py analyze`` takes that file)."""
        return cls(f"{name} ships untrained: there are no trained weights to predict with. Train it with "
                   f"`{train_command}` (writes output_files/models/{name}/{name}.pt), then pass that file with "
                   f"--weights (analyze: {analyze}).")
