"""`make bench`: speed and memory of safetuned against the baselines a user would otherwise run."""
