"""What every model family trains with: the trainer, metrics and calibration, caches, reports."""
