"""Plotly figures and tables of an analysis, in the colours of the written plots."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.plots import BRANCHES, EMOTION_COLORS
from ..labels import EMOTIONS, top_emotion

BRANCH_TITLES = {"fused": "Fused", "face": "Face", "voice": "Voice", "text": "Words"}


def timeline_figure(windows: list[dict], marker_s: float | None = None) -> go.Figure:
    """One row per branch (fused first), a line per emotion over the windows' start times: point
    ``i`` of every trace is window ``i``, so a click can seek the player there."""
    branches = [b for b in BRANCHES if any(w["probabilities"].get(b) for w in windows)]
    figure = make_subplots(rows=len(branches), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                           subplot_titles=[BRANCH_TITLES[b] for b in branches])
    starts = [w["start_s"] for w in windows]
    ends = [w["end_s"] for w in windows]
    for row, branch in enumerate(branches, start=1):
        for emotion in EMOTIONS:
            values = [(w["probabilities"].get(branch) or {}).get(emotion) for w in windows]
            figure.add_trace(go.Scatter(
                x=starts, y=values, mode="lines+markers", name=emotion, legendgroup=emotion,
                showlegend=row == 1, line={"color": EMOTION_COLORS[emotion], "width": 2},
                marker={"size": 6}, customdata=np.column_stack([range(len(windows)), ends]),
                hovertemplate=(f"{BRANCH_TITLES[branch]} · {emotion} %{{y:.0%}}<br>"
                               "window %{customdata[0]}: %{x:.1f}–%{customdata[1]:.1f} s<extra></extra>"),
            ), row=row, col=1)
        figure.update_yaxes(range=[0, 1], tickformat=".0%", row=row, col=1)
    if marker_s is not None:
        figure.add_vline(x=marker_s, line={"dash": "dot", "width": 1})
    figure.update_xaxes(title_text="time (s)", row=len(branches), col=1)
    figure.update_layout(height=170 + 150 * len(branches), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         hovermode="closest", legend={"orientation": "h", "y": 1.08})
    return figure


def distribution_figure(share: dict[str, float]) -> go.Figure:
    """Share of the analysed time each emotion was on top."""
    labels = list(share)
    figure = go.Figure(go.Bar(x=labels, y=[share[e] for e in labels],
                              marker_color=[EMOTION_COLORS.get(e, "#999") for e in labels],
                              hovertemplate="%{x}: %{y:.0%} of the time<extra></extra>"))
    figure.update_layout(height=280, yaxis={"tickformat": ".0%", "title": "share of time"},
                         margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure


def probability_figure(probabilities: dict[str, float], title: str) -> go.Figure:
    """One face's (or window's) probabilities as horizontal bars."""
    labels = list(probabilities)
    figure = go.Figure(go.Bar(x=[probabilities[e] for e in labels], y=labels, orientation="h",
                              marker_color=[EMOTION_COLORS.get(e, "#999") for e in labels],
                              hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    figure.update_layout(title=title, height=260, xaxis={"range": [0, 1], "tickformat": ".0%"},
                         margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def waveform_figure(times: np.ndarray, low: np.ndarray, high: np.ndarray) -> go.Figure:
    """The waveform's envelope: the lowest and highest sample of each short span."""
    figure = go.Figure([
        go.Scatter(x=times, y=high, mode="lines", line={"width": 0.5, "color": "#1f77b4"}, hoverinfo="skip"),
        go.Scatter(x=times, y=low, mode="lines", line={"width": 0.5, "color": "#1f77b4"}, fill="tonexty",
                   hoverinfo="skip"),
    ])
    figure.update_layout(height=200, showlegend=False, xaxis={"title": "time (s)"},
                         yaxis={"range": [-1, 1], "title": "amplitude"},
                         margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure


def mfcc_figure(mfcc: np.ndarray, seconds_per_frame: float, start_s: float) -> go.Figure:
    """MFCCs (frames x coefficients) as a heat map over time."""
    times = start_s + np.arange(mfcc.shape[0]) * seconds_per_frame
    figure = go.Figure(go.Heatmap(z=mfcc.T, x=times, y=np.arange(mfcc.shape[1]), colorscale="Viridis",
                                  colorbar={"title": "value"},
                                  hovertemplate="%{x:.2f} s · MFCC %{y}: %{z:.2f}<extra></extra>"))
    figure.update_layout(height=260, xaxis={"title": "time (s)"}, yaxis={"title": "coefficient"},
                         margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure


def _top(probabilities: dict | None) -> str:
    label, probability = top_emotion(probabilities)
    return f"{label} {probability:.0%}" if label else ""


def window_table(windows: list[dict]) -> pd.DataFrame:
    """A row per window: time, fused top emotion and confidence, each branch's top, the words."""
    return pd.DataFrame([{
        "window": w["index"], "start (s)": w["start_s"], "end (s)": w["end_s"],
        "top emotion": w.get("top_emotion") or "", "confidence": w.get("confidence"),
        **{BRANCH_TITLES[b]: _top(w["probabilities"].get(b)) for b in BRANCHES[1:]},
        "words": " ".join(word["text"] for word in w.get("words", [])),
    } for w in windows])


def sentence_table(sentences: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"start (s)": s["start_s"], "end (s)": s["end_s"], "sentence": s["text"],
                          "polarity": s["polarity"], "subjectivity": s["subjectivity"],
                          "emotion": s["emotion"]} for s in sentences])
