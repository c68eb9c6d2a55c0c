"""What every model family trains with: the one training flow, the trainer, metrics and calibration, caches, reports."""
