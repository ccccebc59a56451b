"""The HTTP workload and probes against a real loopback server."""
