"""The Models tab: every registered model with its measured results, confusion matrices and card,
and the external files (assets) with what is cached, what is missing and the command that fetches it."""

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from ..assets import asset_status, assets_dir, fetch_command, list_assets
from ..paths import MODELS_DIR, PROJECT_ROOT, cache_dir
from ..registry import list_models

SPLITS = ("validation", "test")
# bench/real_video.py --report writes <set>-<date>.json here (a variant adds a suffix after the date):
# real_video (the labelled clips), real_media_pairs (with --pairs)
REAL_VIDEO_REPORTS = PROJECT_ROOT / "docs" / "results"
REAL_MEDIA_SETS = {"real_video": "real video", "real_media_pairs": "real media pairs"}


NOT_HELD_OUT = "not measured on held-out data"


def _measured(metrics: dict, split: str) -> bool:
    part = metrics.get(split)
    return isinstance(part, dict) and "accuracy" in part and part.get("n", 0) > 0


def _metrics_rows(name: str, metrics: dict) -> list[dict]:
    """A row per split measured; a model measured on validation only gets a test row that says
    it was not measured on held-out data, so the table never reads as if it had been."""
    rows = [{"model": name, "split": split, "n": metrics[split]["n"], "accuracy": metrics[split]["accuracy"],
             "macro-F1": metrics[split]["macro_f1"], "ECE": metrics[split].get("ece"),
             "note": "held out from every choice" if split == "test" else "chose the epoch and calibration"}
            for split in SPLITS if _measured(metrics, split)]
    if rows and not _measured(metrics, "test"):
        rows.append({"model": name, "split": "test", "n": 0, "accuracy": None, "macro-F1": None, "ECE": None,
                     "note": NOT_HELD_OUT})
    return rows + _mixed_rows(name, metrics)


def _mixed_rows(name: str, metrics: dict) -> list[dict]:
    """For a model whose answers are mixed into the face model's (the geometry trees): the face
    branch's figure with them, beside their own, which alone is not what the studio gives."""
    rows = []
    for split, mixed in (metrics.get("mixed") or {}).items():
        if split == "validation":
            note = "the face branch as it runs: the face model with these mixed in; chose their share"
            if "cross_fitted_accuracy" in mixed:
                note += f" ({mixed['cross_fitted_accuracy']:.3f} with the share chosen on other faces)"
        else:
            note = "the face branch as it runs; held out from every choice"
        rows.append({"model": f"face + {name}", "split": split, "n": mixed["faces"],
                     "accuracy": mixed["mixed_accuracy"], "macro-F1": None, "ECE": None, "note": note})
    return rows


def _metrics(entry) -> dict | None:
    path = MODELS_DIR / entry.name / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def newest_report(kind: str) -> Path | None:
    """The newest report of one of ``REAL_MEDIA_SETS``; None when there is none."""
    reports = sorted(REAL_VIDEO_REPORTS.glob(f"{kind}-????-??-??.json"))
    return reports[-1] if reports else None


def real_video_rows(report: dict, set_name: str) -> list[dict]:
    """A row per fusion method and source that answered labelled clips: clips right overall and of
    people the method's fusion model never trained or validated on, windows right."""
    rows = []
    for method, result in report["methods"].items():
        for source, s in result["scores"].items():
            if not s["clips"]:
                continue
            unseen = result["held_out"][source]
            rows.append({"set": set_name, "method": method, "source": source,
                         "clips right": f"{s['clips_right']}/{s['clips']}",
                         "accuracy (clips)": s["clips_right"] / s["clips"],
                         "clips right, people never fitted on": f"{unseen['clips_right']}/{unseen['clips']}",
                         "windows right": f"{s['windows_right']}/{s['windows']}"})
    return rows


def _real_media() -> None:
    reports = {kind: path for kind in REAL_MEDIA_SETS if (path := newest_report(kind)) is not None}
    if not reports:
        return
    rows = [row for kind, path in reports.items()
            for row in real_video_rows(json.loads(path.read_text(encoding="utf-8")), REAL_MEDIA_SETS[kind])]
    st.markdown("### Measured on real media")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "accuracy (clips)": st.column_config.NumberColumn(format="%.3f")})
    st.caption(f"{', '.join(path.name for path in reports.values())} (docs/results, each with its .md). Real "
               "video: labelled clips of posed MEAD and RAVDESS video. Real media pairs: MEAD face videos with the "
               "speech of RAVDESS actors acting the same emotion, both real, only the pairing made. Each branch "
               "alone and fused; a clip's answer is the emotion with the highest mean probability over its "
               "windows. Few clips and few people; the default fusion (auto) was chosen on these two sets. The "
               "table above is measured on each model's own data.")


def _model(entry) -> None:
    folder = MODELS_DIR / entry.name
    card = folder / "MODEL_CARD.md"
    st.markdown(f"#### `{entry.name}` · {entry.branch}")
    st.caption(entry.description)
    if entry.rule:
        st.caption("A fixed rule: nothing is trained. Its figures on real video are in the README "
                   "and docs/results.")
        return
    if not entry.ships_trained or _metrics(entry) is None:
        if "train" in entry.commands:
            st.warning(f"No trained weights ship for {entry.name}. Train them with: "
                       f"python run.py train --model {entry.name} --data DIR")
        else:
            st.caption("Uses external files only (see the assets below).")
        return
    if not _measured(_metrics(entry), "test"):
        st.caption(f"Measured on validation data only: {NOT_HELD_OUT} (its card says what was).")
    plots = sorted(folder.glob("confusion_*.png"))
    for column, plot in zip(st.columns(max(2, len(plots))), plots):
        column.image(str(plot), caption=plot.stem.replace("_", " "), width="stretch")
    if card.exists():
        with st.expander("Model card"):  # its confusion images are shown above
            st.markdown("\n".join(line for line in card.read_text().splitlines() if not line.startswith("![")))


@st.cache_data(ttl=60, show_spinner=False)
def _cached_folders() -> list[dict]:
    root = cache_dir()
    rows = []
    for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.exists() else []:
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        rows.append({"folder": str(folder), "size (MB)": round(size / 2**20, 1)})
    return rows


def render() -> None:
    entries = list_models()
    st.markdown("### Measured results of the shipped models")
    rows = [row for entry in entries for row in _metrics_rows(entry.name, _metrics(entry) or {})]
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="%.3f") for c in ("accuracy", "macro-F1", "ECE")})
    st.caption("validation: the data that chose the epoch and calibration; test: held out from every choice.")
    _real_media()
    for entry in entries:
        with st.container(border=True):
            _model(entry)
    st.markdown("### External files (assets)")
    st.caption(f"Verified by sha256 and cached in {assets_dir()}.")
    rows = []
    for asset in list_assets():
        status = asset_status(asset.name)
        rows.append({"asset": asset.name, "what": asset.description, "state": status.state,
                     "license": asset.license,
                     "to do": "" if status.state == "ok" else fetch_command(asset.name)})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    missing = [row["asset"] for row in rows if row["state"] != "ok"]
    if missing:
        st.warning(f"Missing or damaged: {', '.join(missing)}. Fetch them all with:")
        st.code("python run.py assets --fetch", language="bash")
    st.markdown("### Caches")
    st.dataframe(_cached_folders(), hide_index=True)
