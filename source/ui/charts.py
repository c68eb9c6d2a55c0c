"""Plotly figures and tables of an analysis, in the colours of the written plots."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..results.palette import BRANCHES, EMOTION_COLORS, uncertain_spans, window_spans
from ..labels import EMOTIONS, top_emotion

BRANCH_TITLES = {"fused": "Fused", "face": "Face", "voice": "Voice", "text": "Words"}


UNSURE_COLOR = "rgba(120, 120, 120, 0.22)"
UNSURE_STRIP = "rgba(90, 90, 90, 0.75)"
LONG_MEDIA_WINDOWS = 24  # more windows than this: the stacked view is shown first




def media_end(windows: list[dict], duration_s: float | None) -> float:
    """Where the time axis ends: the end of the media (or of the last window, if later)."""
    return max([duration_s or 0.0, *(w["end_s"] for w in windows)]) or 1.0


def _mark_uncertain(figure: go.Figure, windows: list[dict], rows: int) -> None:
    """A grey band over the windows fusion was unsure of, and a legend entry that says so."""
    spans = uncertain_spans(windows)
    for start, end in spans:
        for row in range(1, rows + 1):
            figure.add_vrect(x0=start, x1=end, fillcolor=UNSURE_COLOR, line_width=0, layer="below",
                             row=row, col=1)
    if spans:
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="fusion unsure",
                                    marker={"symbol": "square", "size": 12, "color": UNSURE_COLOR},
                                    hoverinfo="skip"), row=1, col=1)


def _span_data(windows: list[dict]) -> np.ndarray:
    return np.column_stack([range(len(windows)), [w["start_s"] for w in windows], [w["end_s"] for w in windows]])


def timeline_figure(windows: list[dict], marker_s: float | None = None, duration_s: float | None = None) -> go.Figure:
    """One row per branch (fused first), a line per emotion through the windows' centres, the
    x axis from 0 to the end of the media: point ``i`` of every emotion's trace is window ``i``, so
    a click can seek the player there. Windows fusion was unsure of are greyed."""
    branches = [b for b in BRANCHES if any(w["probabilities"].get(b) for w in windows)]
    figure = make_subplots(rows=len(branches), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                           subplot_titles=[BRANCH_TITLES[b] for b in branches])
    centres = [(w["start_s"] + w["end_s"]) / 2 for w in windows]
    for row, branch in enumerate(branches, start=1):
        for emotion in EMOTIONS:
            values = [(w["probabilities"].get(branch) or {}).get(emotion) for w in windows]
            figure.add_trace(go.Scatter(
                x=centres, y=values, mode="lines+markers", name=emotion, legendgroup=emotion,
                showlegend=row == 1, line={"color": EMOTION_COLORS[emotion], "width": 2},
                marker={"size": 6}, customdata=_span_data(windows),
                hovertemplate=(f"{BRANCH_TITLES[branch]} · {emotion} %{{y:.0%}}<br>"
                               "window %{customdata[0]}: %{customdata[1]:.1f}–%{customdata[2]:.1f} s"
                               "<extra></extra>"),
            ), row=row, col=1)
        figure.update_yaxes(range=[0, 1], tickformat=".0%", row=row, col=1)
    _mark_uncertain(figure, windows, len(branches))
    if marker_s is not None:
        figure.add_vline(x=marker_s, line={"dash": "dot", "width": 1})
    figure.update_xaxes(range=[0, media_end(windows, duration_s)])
    figure.update_xaxes(title_text="time (s)", row=len(branches), col=1)
    # the legend stands right of the rows: above them it covered the first row's title
    figure.update_layout(height=140 + 150 * len(branches), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         hovermode="closest", legend={"orientation": "v", "x": 1.01, "xanchor": "left",
                                                      "y": 1, "yanchor": "top"})
    return figure


def stacked_figure(windows: list[dict], marker_s: float | None = None, duration_s: float | None = None) -> go.Figure:
    """The fused probabilities stacked, each window flat over its own span, with a range slider
    to zoom into long media: point ``i`` of every trace is window ``i``'s start."""
    spans = _span_data(windows)
    x = [w["start_s"] for w in windows] + [windows[-1]["end_s"]]
    figure = go.Figure()
    for emotion in EMOTIONS:
        values = [(w["probabilities"].get("fused") or {}).get(emotion) or 0.0 for w in windows]
        figure.add_trace(go.Scatter(
            x=x, y=values + values[-1:], mode="lines", line={"shape": "hv", "width": 0.5,
                                                            "color": EMOTION_COLORS[emotion]},
            stackgroup="fused", name=emotion, customdata=np.vstack([spans, spans[-1:]]),
            hovertemplate=(f"{emotion} %{{y:.0%}}<br>window %{{customdata[0]}}: "
                           "%{customdata[1]:.1f}–%{customdata[2]:.1f} s<extra></extra>")))
    for start, end in uncertain_spans(windows):  # a grey strip above the plot: the colours stay readable
        figure.add_shape(type="rect", x0=start, x1=end, y0=1.015, y1=1.06, xref="x", yref="paper",
                         fillcolor=UNSURE_STRIP, line_width=0, layer="above")
    if uncertain_spans(windows):
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="fusion unsure (strip above)",
                                    marker={"symbol": "square", "size": 12, "color": UNSURE_STRIP},
                                    hoverinfo="skip"))
    if marker_s is not None:
        figure.add_vline(x=marker_s, line={"dash": "dot", "width": 1})
    figure.update_xaxes(range=[0, media_end(windows, duration_s)], title_text="time (s)",
                        rangeslider={"visible": True, "thickness": 0.12})
    figure.update_yaxes(range=[0, 1], tickformat=".0%", title_text="fused")
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="closest",
                         legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "yanchor": "top"})
    return figure


SPEAKING_STRIP = "rgba(20, 20, 20, 0.85)"


def speaking_spans(windows: list[dict], face_id: int) -> list[tuple[float, float]]:
    """(start, end) of each run of consecutive windows where ``face_id`` is the speaker."""
    return window_spans(windows, lambda window: window.get("speaker_face_id") == face_id)


def person_figure(windows: list[dict], face_id: int, marker_s: float | None = None,
                  duration_s: float | None = None) -> go.Figure:
    """One person's row: that face's own fused probabilities stacked, each window flat over its span
    (empty where the face is not on screen), and a dark strip above the windows where it speaks.
    Point ``i`` of every trace is window ``i``'s start, as in the stacked view."""
    faces = [next((f for f in w.get("faces") or [] if f["face_id"] == face_id), None) for w in windows]
    spans = _span_data(windows)
    x = [w["start_s"] for w in windows] + [windows[-1]["end_s"]]
    seen = [face is not None and bool(face.get("fused")) for face in faces]
    figure = go.Figure()
    for emotion in EMOTIONS:
        values = [(face.get("fused") or {}).get(emotion, 0.0) if face else 0.0 for face in faces]
        figure.add_trace(go.Scatter(
            x=x, y=values + values[-1:], mode="lines", line={"shape": "hv", "width": 0.5,
                                                            "color": EMOTION_COLORS[emotion]},
            stackgroup="fused", name=emotion, legendgroup=emotion, showlegend=False,
            customdata=np.vstack([spans, spans[-1:]]),
            hovertemplate=(f"Face {face_id} · {emotion} %{{y:.0%}}<br>window %{{customdata[0]}}: "
                           "%{customdata[1]:.1f}–%{customdata[2]:.1f} s<extra></extra>")))
    for start, end in speaking_spans(windows, face_id):
        figure.add_shape(type="rect", x0=start, x1=end, y0=1.03, y1=1.12, xref="x", yref="paper",
                         fillcolor=SPEAKING_STRIP, line_width=0, layer="above")
    for window, on_screen in zip(windows, seen):  # not on screen: a pale band says so
        if not on_screen:
            figure.add_vrect(x0=window["start_s"], x1=window["end_s"], fillcolor="rgba(200, 200, 200, 0.35)",
                             line_width=0, layer="below")
    if marker_s is not None:
        figure.add_vline(x=marker_s, line={"dash": "dot", "width": 1})
    figure.update_xaxes(range=[0, media_end(windows, duration_s)])
    figure.update_yaxes(range=[0, 1], tickformat=".0%", title_text="fused")
    figure.update_layout(height=170, margin={"l": 10, "r": 10, "t": 22, "b": 10}, hovermode="closest",
                         showlegend=False)
    return figure


def people_legend_figure() -> go.Figure:
    """The colours of the per-person rows, drawn once above them."""
    figure = go.Figure()
    for emotion in EMOTIONS:
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=emotion,
                                    marker={"symbol": "square", "size": 12, "color": EMOTION_COLORS[emotion]}))
    figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="speaking (strip above a row)",
                                marker={"symbol": "square", "size": 12, "color": SPEAKING_STRIP}))
    figure.update_layout(height=60, margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=True,
                         legend={"orientation": "h", "x": 0, "y": 0.5, "yanchor": "middle"},
                         xaxis={"visible": False}, yaxis={"visible": False})
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


def heard_figure(values: np.ndarray, seconds_per_frame: float, start_s: float, feature: str,
                 speech_s: list[tuple[float, float]] = ()) -> go.Figure:
    """What a voice model reads (frames x features: MFCCs, mel bands) as a heat map over time;
    given the spans of speech it heard (``speech_s``, in seconds of the media), the rest is dimmed."""
    times = start_s + np.arange(values.shape[0]) * seconds_per_frame
    figure = go.Figure(go.Heatmap(z=values.T, x=times, y=np.arange(values.shape[1]), colorscale="Viridis",
                                  colorbar={"title": "value"},
                                  hovertemplate=f"%{{x:.2f}} s · {feature} %{{y}}: %{{z:.2f}}<extra></extra>"))
    if speech_s:
        edges = [start_s, *np.ravel(speech_s), start_s + values.shape[0] * seconds_per_frame]
        for gap_start, gap_end in zip(edges[::2], edges[1::2]):
            if gap_end > gap_start:
                figure.add_vrect(x0=gap_start, x1=gap_end, fillcolor="rgba(255, 255, 255, 0.6)", line_width=0,
                                 layer="above")
    figure.update_layout(height=260, xaxis={"title": "time (s)"}, yaxis={"title": feature},
                         margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return figure


def _top(probabilities: dict | None) -> str:
    label, probability = top_emotion(probabilities)
    return f"{label} {probability:.0%}" if label else ""


def window_table(windows: list[dict]) -> pd.DataFrame:
    """A row per window: time, fused top emotion and confidence, whether fusion was unsure of it,
    each branch's top, the words."""
    return pd.DataFrame([{
        "window": w["index"], "start (s)": w["start_s"], "end (s)": w["end_s"],
        "top emotion": w.get("top_emotion") or "", "confidence": w.get("confidence"),
        "unsure": "unsure" if w.get("uncertain") else "",
        **{BRANCH_TITLES[b]: _top(w["probabilities"].get(b)) for b in BRANCHES[1:]},
        "words": " ".join(word["text"] for word in w.get("words", [])),
    } for w in windows])


def sentence_table(sentences: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"start (s)": s["start_s"], "end (s)": s["end_s"], "sentence": s["text"],
                          "polarity": s["polarity"], "subjectivity": s["subjectivity"],
                          "emotion": s["emotion"]} for s in sentences])
