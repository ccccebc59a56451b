"""Running scenarios: the run, one trial, the live system, its context, the matrix."""
