"""Traffic during a trial: request generators whose every outcome lands on the timeline."""
