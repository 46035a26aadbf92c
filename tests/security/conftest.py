"""The integration tests' simulated PBX and Home Assistant HTTP server, re-exported."""

from tests.integration.conftest import _enable, config_entry, ha_port, pbx

__all__ = ["_enable", "config_entry", "ha_port", "pbx"]
