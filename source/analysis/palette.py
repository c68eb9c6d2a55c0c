"""Names and colours every view of an analysis shares (the PNG/HTML plots and the app's charts),
with no plotting library behind them, so the app's first page can use them cheaply."""

EMOTION_COLORS = {"angry": "#d62728", "disgust": "#8c564b", "fear": "#9467bd", "happy": "#f2b701",
                  "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#7f7f7f"}
BRANCHES = ("fused", "face", "voice", "text")
