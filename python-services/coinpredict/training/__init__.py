"""Training: the torch loop (written once), splits, calibration, artifacts and the pipeline."""
