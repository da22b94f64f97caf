"""The one training engine, the per-family step functions, checkpoints and torchrun support."""
