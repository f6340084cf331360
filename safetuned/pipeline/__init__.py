"""Planning a job before any weights: config checks, data, steps; building its parts; fitting it."""
