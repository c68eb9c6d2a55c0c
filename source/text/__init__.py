"""Words: Whisper transcripts with timestamps (transcribe, convert) and text-emotion features."""
