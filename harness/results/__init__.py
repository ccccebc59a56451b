"""What a run produced (trials, scenarios, the run) and the JSON journal that stores it."""
