"""The view of one finished analysis: summary, player, timeline, window detail, tables, downloads.

Clicking a point of the timeline picks its window (the same as the window slider): the player
starts there and the detail panel shows that window. With several faces the timeline can show one
row per person (``people.py``), and the line under the player names the picked window's speaker.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from .charts import (LONG_MEDIA_WINDOWS, distribution_figure, people_legend_figure, probability_figure,
                     sentence_table, stacked_figure, timeline_figure, uncertain_spans, window_table)
from .common import downloads, friendly_errors
from .people import has_several_people, show_people_timeline, show_speaker, thumbnails_of
from .preview import browser_preview, playable

if TYPE_CHECKING:
    from ..results.records import AnalysisResult

VIEWS = ("Lines per branch", "Stacked (fused), zoomable")
PEOPLE_VIEW = "One row per person"  # offered (and shown first) when the analysis has several faces


def _window_picked_on_chart(chart_key: str, slider_key: str, n_windows: int) -> None:
    points = st.session_state[chart_key].selection.points
    # every trace has one point per window, in order: a point's index is its window's
    index = points[0].get("point_index") if points else None
    if isinstance(index, int) and 0 <= index < n_windows:
        st.session_state[slider_key] = index


def show_analysis(result: AnalysisResult, key: str) -> int:
    """Render ``result``; returns the index of the window picked."""
    info, summary = result.info, result.summary
    windows = [window.to_dict() for window in result.windows]  # the views read the analysis JSON's form
    st.subheader(Path(info.path).name)
    st.caption(info.describe())
    for warning in result.warnings:
        st.warning(warning)
    columns = st.columns(4)
    columns[0].metric("Dominant emotion", summary["dominant_emotion"] or "—")
    columns[1].metric("Windows", len(windows))
    columns[2].metric("Changes of top emotion", len(summary["changes"]))
    fusion = result.models.get("fusion", {}).get("method", "—")
    columns[3].metric("Fusion", fusion.split()[0], help=fusion)

    slider_key, chart_key = f"{key}_window", f"{key}_timeline"
    if st.session_state.get(slider_key, 0) >= len(windows):  # a new, shorter analysis
        st.session_state[slider_key] = 0
    index = st.select_slider(
        "Window", options=list(range(len(windows))), key=slider_key,
        format_func=lambda i: f"{i}: {windows[i]['start_s']:.1f}–{windows[i]['end_s']:.1f} s",
        help="Or click a point of the timeline.") if len(windows) > 1 else 0
    window = windows[index]

    several = has_several_people(windows)
    player, detail = st.columns([3, 2])
    with player:
        if info.kind == "video":
            with friendly_errors("The video preview"):
                source = info.path
                if not playable(info):  # the browser would show only an audio bar
                    with st.spinner("Making a preview the browser can play…"):
                        source = browser_preview(info)
                    st.caption(f"A browser-playable preview of {Path(info.path).name} ({info.video_codec} in "
                               f"{Path(info.path).suffix.lstrip('.').upper()}); the analysis read the original.")
                st.video(str(source), start_time=int(window["start_s"]))
            if several:
                speaker = window.get("speaker_face_id")
                show_speaker(result, window, thumbnails_of(result, [speaker]) if speaker is not None else {})
        elif info.kind == "audio":
            st.audio(info.path, start_time=int(window["start_s"]))
    with detail:
        st.markdown(f"**Window {index}** · {window['start_s']:.1f}–{window['end_s']:.1f} s · "
                    f"**{window.get('top_emotion') or 'no prediction'}**"
                    + (f" ({window['confidence']:.0%})" if window.get("confidence") else "")
                    + (f" · from {', '.join(window['sources'])}" if window.get("sources") else "")
                    + (" · fusion unsure: the branches disagree and the fused answer is under 60%, or no "
                       "branch gave it"
                       if window.get("uncertain") else ""))
        fused = window["probabilities"].get("fused")
        if fused:
            st.plotly_chart(probability_figure(fused, "Fused probabilities"), key=f"{key}_detail")
        if window.get("words"):
            st.caption("Words: " + " ".join(word["text"] for word in window["words"]))
        if len(window.get("faces") or []) > 1:
            st.markdown(people_line(window))

    if summary["dominant_emotion"]:
        view_key = f"{key}_view"
        views = (PEOPLE_VIEW, *VIEWS) if several else VIEWS
        shown = f"{info.path}|{len(windows)}|{several}"
        if st.session_state.get(f"{key}_shown") != shown:  # another analysis: its people or length pick the view
            st.session_state[f"{key}_shown"] = shown
            st.session_state[view_key] = PEOPLE_VIEW if several else VIEWS[len(windows) > LONG_MEDIA_WINDOWS]
        view = st.radio("Timeline", views, key=view_key, horizontal=True,
                        help="Lines: every branch, a line per emotion. Stacked: the fused emotions "
                             "stacked, with a range slider to zoom into long media."
                             + (" One row per person: each face's own fused emotion, a dark strip where "
                                "it speaks." if several else ""))
        if view == PEOPLE_VIEW:
            st.plotly_chart(people_legend_figure(), key=f"{key}_people_legend")
            show_people_timeline(result, windows, window["start_s"], key,
                                 partial(_window_picked_on_chart, slider_key=slider_key, n_windows=len(windows)))
        else:
            draw = stacked_figure if view == VIEWS[1] else timeline_figure
            st.plotly_chart(draw(windows, window["start_s"], info.duration_s), key=chart_key,
                            on_select=partial(_window_picked_on_chart, chart_key, slider_key, len(windows)),
                            selection_mode="points")
            if uncertain_spans(windows):
                st.caption("Grey: windows where fusion was unsure of its answer.")
        left, right = st.columns([1, 2])
        with left:
            st.markdown("**Share of time per emotion**")
            st.plotly_chart(distribution_figure(summary["emotion_share"]), key=f"{key}_share")
        with right:
            st.markdown("**Changes of the top emotion**")
            if summary["changes"]:
                st.dataframe([{"time (s)": c["time_s"], "from": c["from"], "to": c["to"]}
                              for c in summary["changes"]], hide_index=True)
            else:
                st.caption("The top emotion never changes.")
    st.markdown("**Windows**")
    st.dataframe(window_table(windows), hide_index=True, column_config={
        "start (s)": st.column_config.NumberColumn(format="%.1f"),
        "end (s)": st.column_config.NumberColumn(format="%.1f"),
        "confidence": st.column_config.ProgressColumn("confidence", min_value=0, max_value=1, format="percent")})
    if result.sentences:
        st.markdown("**Transcript**, sentence by sentence")
        st.dataframe(sentence_table(result.sentences), hide_index=True,
                     column_config={"start (s)": st.column_config.NumberColumn(format="%.1f"),
                                    "end (s)": st.column_config.NumberColumn(format="%.1f"),
                                    "polarity": st.column_config.NumberColumn(format="%.2f"),
                                    "subjectivity": st.column_config.NumberColumn(format="%.2f")})
    st.markdown(f"**Files** (written to `{Path(result.outputs['windows_csv']).parent}`)")
    downloads(result.outputs, key)
    return index


def people_line(window: dict) -> str:
    """Each face of a window with several, its fused top emotion, and who is speaking."""
    parts = []
    for face in window["faces"]:
        fused = face.get("fused") or {}
        top = max(fused, key=fused.get) if fused else None
        name = f"Face {face['face_id']}" + (" (speaking)" if face.get("is_speaker") else "")
        parts.append(f"**{name}**: " + (f"{top} {fused[top]:.0%}" if top else "no prediction"))
    nobody = "" if window.get("speaker_face_id") is not None else " · nobody on screen could be named as the speaker"
    return "People: " + " · ".join(parts) + nobody
