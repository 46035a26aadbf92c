"""Home Assistant tests of the integration, against the PBX simulator over loopback."""
