"""Tests for the S-Series API client, against the PBX simulator over loopback HTTP(S)."""
