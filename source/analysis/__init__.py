"""Analysis: the one ``analyze`` every front end calls, the timeline rows and their writers."""
