"""Names, colours and marked stretches of windows that every view of an analysis shares (the PNG/HTML plots
and the app's charts), with no plotting library behind them, so the app's first page can use them cheaply."""

EMOTION_COLORS = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701",
                  "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#7f7f7f"}
BRANCHES = ("fused", "face", "voice", "text")


def window_spans(windows: list[dict], keep) -> list[tuple[float, float]]:
    """(start, end) of each run of consecutive windows for which ``keep(window)`` holds: the
    stretches a timeline marks (unsure fusion, a person speaking)."""
    spans: list[list[float]] = []
    for window in windows:
        if not keep(window):
            continue
        if spans and window["start_s"] <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], window["end_s"])
        else:
            spans.append([window["start_s"], window["end_s"]])
    return [(start, end) for start, end in spans]


def uncertain_spans(windows: list[dict]) -> list[tuple[float, float]]:
    """(start, end) of each run of consecutive windows fusion was unsure of (``entry["uncertain"]``)."""
    return window_spans(windows, lambda window: window.get("uncertain", False))
