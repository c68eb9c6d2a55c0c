"""Media: probe, stream frames and audio, cut windows."""
