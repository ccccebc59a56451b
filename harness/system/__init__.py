"""Launch the system under test, track its process tree by role, and tear it down."""
