"""Tests for the Yeastar S-Series integration, its API client and the PBX simulator."""
