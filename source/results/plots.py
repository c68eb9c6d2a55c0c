"""Plots written beside an analysis: the timeline (stacked fused probabilities over time, each
window over its span, windows fusion was unsure of hatched), the share of time per emotion and a
heatmap (emotion x window, one row block per branch), as PNG files and one interactive,
self-contained Plotly HTML page. A photo has no time axis: no timeline and no heatmap."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from ..labels import EMOTIONS  # noqa: E402
from .palette import BRANCHES, EMOTION_COLORS, uncertain_spans  # noqa: E402, F401  (shared with the app's charts)
from ..fileio import atomic_path  # noqa: E402


def _matrix(entries: list[dict], branch: str) -> np.ndarray:
    """(emotions, windows) probabilities of one branch; NaN where it had nothing."""
    rows = [entry["probabilities"].get(branch) for entry in entries]
    return np.array([[p[e] if p else np.nan for p in rows] for e in EMOTIONS], dtype=float)


def _edges(entries: list[dict]) -> list[float]:
    """Each window's start, then the last one's end: with step drawing, every window is flat
    over its own span."""
    return [e["start_s"] for e in entries] + [entries[-1]["end_s"]]


def _end(entries: list[dict], duration_s: float | None) -> float:
    """Where the time axis ends: the end of the media (or of the last window, if later)."""
    return max([duration_s or 0.0, *(e["end_s"] for e in entries)])




def timeline_png_figure(entries: list[dict], title: str, duration_s: float | None = None):
    """The fused probabilities stacked over time, each window over its span, from 0 to the end
    of the media; windows fusion was unsure of are hatched."""
    fused = np.nan_to_num(_matrix(entries, "fused"))
    figure, axes = plt.subplots(figsize=(10, 3.5))
    axes.stackplot(_edges(entries), np.hstack([fused, fused[:, -1:]]), labels=EMOTIONS, step="post",
                   colors=[EMOTION_COLORS[e] for e in EMOTIONS], alpha=0.85)
    for number, (start, end) in enumerate(uncertain_spans(entries)):
        axes.axvspan(start, end, facecolor="white", alpha=0.45, hatch="///", edgecolor="0.35", linewidth=0,
                     label="fusion unsure" if number == 0 else None)
    axes.set(xlabel="time (s)", ylabel="fused probability", ylim=(0, 1), xlim=(0, _end(entries, duration_s)),
             title=f"{title}: emotions over time")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return figure


def html_figure(entries: list[dict], summary: dict, title: str, duration_s: float | None = None) -> go.Figure:
    """The interactive page: the fused probabilities stacked over time (each window over its
    span), the share of time per emotion, and the fused probabilities per window as a heat map.
    A photo (no time) gets its face's fused probabilities instead."""
    fused = _matrix(entries, "fused")
    share = summary["emotion_share"]
    if not _has_time(entries):
        page = go.Figure(go.Bar(x=list(EMOTIONS), y=np.nan_to_num(fused[:, 0]),
                                marker_color=[EMOTION_COLORS[e] for e in EMOTIONS]))
        page.update_layout(title=f"{title}: fused probabilities", yaxis={"range": [0, 1], "tickformat": ".0%"},
                           height=450, template="plotly_white")
        return page
    page = make_subplots(rows=3, cols=1, row_heights=[0.45, 0.25, 0.30], vertical_spacing=0.09,
                         subplot_titles=("fused probabilities over time", "share of time per emotion",
                                         "fused probabilities per window"))
    edges = _edges(entries)
    for index, emotion in enumerate(EMOTIONS):
        values = np.nan_to_num(fused[index])
        page.add_trace(go.Scatter(x=edges, y=np.append(values, values[-1]), name=emotion, stackgroup="fused",
                                  line={"color": EMOTION_COLORS[emotion], "shape": "hv"}, legendgroup=emotion),
                       row=1, col=1)
    page.add_trace(go.Bar(x=list(EMOTIONS), y=[share.get(e, 0.0) for e in EMOTIONS], showlegend=False,
                          marker_color=[EMOTION_COLORS[e] for e in EMOTIONS]), row=2, col=1)
    page.add_trace(go.Heatmap(x=edges, y=list(EMOTIONS), z=fused, zmin=0, zmax=1, colorscale="Magma",
                              showscale=False), row=3, col=1)
    # the unsure windows: veiled over the stacked areas, outlined on the heat map; set at once (an
    # add_vrect per span checks every shape and trace before it: 24-33 s for an hour's 186 spans)
    spans = uncertain_spans(entries)
    veil = {"fillcolor": "rgba(255, 255, 255, 0.55)", "line": {"width": 0}, "layer": "above"}
    outline = {"fillcolor": "rgba(0, 0, 0, 0)", "line": {"color": "#555", "dash": "dot"}}
    page.update_layout(shapes=[{"type": "rect", "x0": start, "x1": end, "y0": 0, "y1": 1, "xref": f"x{row}",
                                "yref": f"y{row} domain", **style}
                               for row, style in (("", veil), ("3", outline)) for start, end in spans])
    end = _end(entries, duration_s)
    page.update_xaxes(range=[0, end], row=1, col=1)
    page.update_xaxes(range=[0, end], title_text="time (s)", row=3, col=1)
    page.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=1)
    page.update_layout(title=title, height=900, template="plotly_white")
    return page


def _has_time(entries: list[dict]) -> bool:
    """False for a photo: one window of no duration, which has no timeline to draw."""
    return entries[-1]["end_s"] > entries[0]["start_s"]


def write_plots(entries: list[dict], summary: dict, out_dir: Path, stem: str, title: str,
                duration_s: float | None = None) -> dict[str, Path]:
    """Write ``<stem>_timeline.png``, ``_distribution.png``, ``_heatmap.png`` and ``_plots.html``
    for one or more analysed windows; the time axes run to ``duration_s`` (the media's length)
    when given. A photo gets the distribution and the HTML page only: it has no time axis."""
    branches = [b for b in BRANCHES if any(e["probabilities"].get(b) for e in entries)]
    outputs = {}

    if _has_time(entries):
        outputs["timeline_png"] = _save(timeline_png_figure(entries, title, duration_s),
                                        out_dir / f"{stem}_timeline.png")

    share = summary["emotion_share"]
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.bar(list(EMOTIONS), [share.get(e, 0.0) for e in EMOTIONS], color=[EMOTION_COLORS[e] for e in EMOTIONS])
    axes.set(ylabel="share of time (top emotion)", ylim=(0, 1),
             title=f"dominant: {summary['dominant_emotion'] or 'none'}")
    axes.tick_params(axis="x", rotation=30)
    outputs["distribution_png"] = _save(figure, out_dir / f"{stem}_distribution.png")

    if _has_time(entries):
        figure, all_axes = plt.subplots(len(branches), 1, figsize=(10, 1.0 + 1.4 * len(branches)),
                                        squeeze=False, sharex=True)
        for axes, branch in zip(all_axes[:, 0], branches):
            image = axes.pcolormesh(_edges(entries), np.arange(len(EMOTIONS) + 1), _matrix(entries, branch),
                                    cmap="magma", vmin=0, vmax=1, shading="flat")
            axes.set_yticks(np.arange(len(EMOTIONS)) + 0.5, EMOTIONS, fontsize=7)
            axes.set_ylabel(branch)
            axes.invert_yaxis()  # angry on top, as in the legend
            for start, end in uncertain_spans(entries):
                axes.axvspan(start, end, facecolor="none", hatch="///", edgecolor="0.8", linewidth=0)
        all_axes[-1, 0].set_xlim(0, _end(entries, duration_s))
        all_axes[-1, 0].set_xlabel("time (s)")
        figure.colorbar(image, ax=all_axes[:, 0].tolist(), fraction=0.02)
        outputs["heatmap_png"] = _save(figure, out_dir / f"{stem}_heatmap.png", tight=False)

    path = out_dir / f"{stem}_plots.html"
    with atomic_path(path) as temporary:
        html_figure(entries, summary, title, duration_s).write_html(str(temporary), include_plotlyjs=True,
                                                                   full_html=True)
    outputs["plots_html"] = path
    return outputs


def _save(figure, path: Path, tight: bool = True) -> Path:
    if tight:
        figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=110, format="png")
    plt.close(figure)
    return path
