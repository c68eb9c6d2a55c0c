"""Analysis: the one ``analyze`` every front end calls (``pipeline``), fusing and smoothing its
window records (``timeline``); the records and their writers are ``source.results``'."""
