"""Security tests: secrets stay out of logs, states, diagnostics and flows."""
