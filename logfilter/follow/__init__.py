"""`logfilter follow`: files followed as they grow and rotate, checkpoints, health and metrics."""
