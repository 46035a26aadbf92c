"""Packaging rules of hassfest and the HACS action, held as offline file checks."""
