"""Where the PBX should post its event reports: Home Assistant as the PBX sees it."""

from collections.abc import Mapping
import ipaddress
import re
import socket
from typing import Any

from homeassistant.components import network
from homeassistant.components.webhook import async_generate_path
from homeassistant.const import SERVER_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .api import ReportTarget
from .const import CONF_CALLBACK_HOST, CONF_CALLBACK_PORT, DOMAIN

# One label of a host name (RFC 1123): letters, digits and inner hyphens.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)


def is_host(text: str) -> bool:
    """Say whether text is an IP address or a host name the PBX could post to."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        labels = text.removesuffix(".").split(".")
        return len(text) <= 253 and all(_LABEL.fullmatch(label) for label in labels)
    return True


class ReportAddressUnknownError(HomeAssistantError):
    """Home Assistant cannot tell its own address: the user must set the override."""


async def async_resolve_host(hass: HomeAssistant, host: str) -> set[str]:
    """Return the IP addresses of the PBX (the host itself when it is an address)."""
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        pass
    try:
        infos = await hass.loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return set()
    return {str(info[4][0]) for info in infos}


async def async_report_target(
    hass: HomeAssistant,
    pbx_addresses: set[str],
    pbx_host: str,
    webhook_id: str,
    options: Mapping[str, Any],
) -> ReportTarget:
    """Build the report target: the override from the options, else HA's own address.

    HA's address is the source address the system would use to reach the PBX (at
    one of its resolved addresses), so it is right on multi-homed hosts; behind NAT
    or in a container the user sets the override.
    """
    url = async_generate_path(webhook_id).lstrip("/")
    port = int(options.get(CONF_CALLBACK_PORT) or _http_port(hass))
    if host := options.get(CONF_CALLBACK_HOST):
        return ReportTarget(ipaddr=str(host), port=port, url=url)
    target_ip = min(pbx_addresses) if pbx_addresses else pbx_host
    if _is_loopback(target_ip):
        # A PBX on this host (the simulator): the network integration knows no loopback.
        return ReportTarget(ipaddr=target_ip, port=port, url=url)
    try:
        source_ip = await network.async_get_source_ip(hass, target_ip=target_ip)
    except HomeAssistantError as err:
        raise ReportAddressUnknownError(
            translation_domain=DOMAIN, translation_key="report_address_unknown"
        ) from err
    return ReportTarget(ipaddr=source_ip, port=port, url=url)


def _is_loopback(address: str) -> bool:
    """Return whether an address is a loopback address (False for host names)."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _http_port(hass: HomeAssistant) -> int:
    """Return the port Home Assistant's HTTP server listens on."""
    if hass.config.api is not None:
        return hass.config.api.port
    return SERVER_PORT
