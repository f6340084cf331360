"""Running a job: its lifecycle and lock, checkpoints, DDP ranks, callbacks and W&B files."""
