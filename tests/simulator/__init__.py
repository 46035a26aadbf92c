"""Tests for the PBX simulator."""
