"""Plots written beside an analysis: the timeline (stacked fused probabilities over time), the
share of time per emotion and a heatmap (emotion x window, one row block per branch), as PNG
files and one interactive, self-contained Plotly HTML page."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from ..labels import EMOTIONS  # noqa: E402
from .writers import atomic_path  # noqa: E402

EMOTION_COLORS = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701",
                  "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#7f7f7f"}
BRANCHES = ("fused", "face", "voice", "text")


def _matrix(entries: list[dict], branch: str) -> np.ndarray:
    """(emotions, windows) probabilities of one branch; NaN where it had nothing."""
    rows = [entry["probabilities"].get(branch) for entry in entries]
    return np.array([[p[e] if p else np.nan for p in rows] for e in EMOTIONS], dtype=float)


def _times(entries: list[dict]) -> np.ndarray:
    return np.array([(e["start_s"] + e["end_s"]) / 2 for e in entries], dtype=float)


def write_plots(entries: list[dict], summary: dict, out_dir: Path, stem: str, title: str) -> dict[str, Path]:
    """Write ``<stem>_timeline.png``, ``_distribution.png``, ``_heatmap.png`` and ``_plots.html``
    for one or more analysed windows."""
    times = _times(entries)
    fused = _matrix(entries, "fused")
    branches = [b for b in BRANCHES if any(e["probabilities"].get(b) for e in entries)]
    outputs = {}

    figure, axes = plt.subplots(figsize=(10, 3.5))
    axes.stackplot(times, np.nan_to_num(fused), labels=EMOTIONS,
                   colors=[EMOTION_COLORS[e] for e in EMOTIONS], alpha=0.85)
    axes.set(xlabel="time (s)", ylabel="fused probability", ylim=(0, 1), title=f"{title}: emotions over time")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    outputs["timeline_png"] = _save(figure, out_dir / f"{stem}_timeline.png")

    share = summary["emotion_share"]
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.bar(list(EMOTIONS), [share.get(e, 0.0) for e in EMOTIONS], color=[EMOTION_COLORS[e] for e in EMOTIONS])
    axes.set(ylabel="share of time (top emotion)", ylim=(0, 1),
             title=f"dominant: {summary['dominant_emotion'] or 'none'}")
    axes.tick_params(axis="x", rotation=30)
    outputs["distribution_png"] = _save(figure, out_dir / f"{stem}_distribution.png")

    figure, all_axes = plt.subplots(len(branches), 1, figsize=(10, 1.0 + 1.4 * len(branches)),
                                    squeeze=False, sharex=True)
    edges = [entries[0]["start_s"]] + [e["end_s"] for e in entries]
    if edges[-1] <= edges[0]:  # a photo: one window of no duration
        edges = [0.0, 1.0]
    for axes, branch in zip(all_axes[:, 0], branches):
        image = axes.pcolormesh(edges, np.arange(len(EMOTIONS) + 1), _matrix(entries, branch),
                                cmap="magma", vmin=0, vmax=1, shading="flat")
        axes.set_yticks(np.arange(len(EMOTIONS)) + 0.5, EMOTIONS, fontsize=7)
        axes.set_ylabel(branch)
        axes.invert_yaxis()  # angry on top, as in the legend
    all_axes[-1, 0].set_xlabel("time (s)")
    figure.colorbar(image, ax=all_axes[:, 0].tolist(), fraction=0.02)
    outputs["heatmap_png"] = _save(figure, out_dir / f"{stem}_heatmap.png", tight=False)

    page = make_subplots(rows=3, cols=1, row_heights=[0.45, 0.25, 0.30], vertical_spacing=0.09,
                         subplot_titles=("fused probabilities over time", "share of time per emotion",
                                         "fused probabilities per window"))
    for index, emotion in enumerate(EMOTIONS):
        page.add_trace(go.Scatter(x=times, y=np.nan_to_num(fused[index]), name=emotion, stackgroup="fused",
                                  line={"color": EMOTION_COLORS[emotion]}, legendgroup=emotion), row=1, col=1)
    page.add_trace(go.Bar(x=list(EMOTIONS), y=[share.get(e, 0.0) for e in EMOTIONS], showlegend=False,
                          marker_color=[EMOTION_COLORS[e] for e in EMOTIONS]), row=2, col=1)
    page.add_trace(go.Heatmap(x=times, y=list(EMOTIONS), z=fused, zmin=0, zmax=1, colorscale="Magma",
                              showscale=False), row=3, col=1)
    page.update_layout(title=title, height=900, template="plotly_white")
    path = out_dir / f"{stem}_plots.html"
    with atomic_path(path) as temporary:
        page.write_html(str(temporary), include_plotlyjs=True, full_html=True)
    outputs["plots_html"] = path
    return outputs


def _save(figure, path: Path, tight: bool = True) -> Path:
    if tight:
        figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, format="png")
    plt.close(figure)
    return path
