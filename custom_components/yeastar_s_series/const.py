"""Constants of the Yeastar S-Series integration."""

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "yeastar_s_series"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Yeastar"
DEFAULT_PORT: Final = 8088
DEFAULT_USERNAME: Final = "api"

CONF_API_VERSION: Final = "api_version"
CONF_PASSWORD_HASH: Final = "password_hash"
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"
CONF_CALLBACK_HOST: Final = "callback_host"
CONF_CALLBACK_PORT: Final = "callback_port"
CONF_FINGERPRINT: Final = "certificate_fingerprint"
# Set when the PBX refuses the stored password; cleared by reauth or reconfigure.
CONF_AUTH_REFUSED: Final = "auth_refused"
# Extensions that are door stations: their call event entity is a doorbell (an option).
CONF_DOOR_STATIONS: Final = "door_stations"
# How often the trunk list is read (an option, in seconds): no report tells.
CONF_TRUNK_INTERVAL: Final = "trunk_interval"
# Whether call recordings may be played from Home Assistant (an option, off by default).
CONF_RECORDINGS: Final = "recordings"
# The PBX's event port, for the TCP report method (an option).
CONF_TCP_PORT: Final = "tcp_port"

API_VERSION_AUTO: Final = "auto"

DEFAULT_HEARTBEAT_INTERVAL: Final = 30
MIN_HEARTBEAT_INTERVAL: Final = 15
MAX_HEARTBEAT_INTERVAL: Final = 600

# While the PBX cannot be reached, it is tried again after these waits (seconds),
# the last one repeating: back within 10 s of its return, never a flood (one
# request at a time, at most 8 a minute). Never faster than the heartbeat.
RETRY_DELAYS: Final = (2.0, 4.0, 8.0)


def retry_delay(failures: int, interval: float) -> float:
    """Return the wait before the next try after `failures` failed ones in a row."""
    return min(RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1], interval)


# The PBX locks an IP for 10 minutes after five wrong passwords.
LOCKOUT_DURATION: Final = timedelta(minutes=10)

# Reports larger than this are refused unread: real ones are a few hundred bytes.
MAX_REPORT_SIZE: Final = 64 * 1024

EVENT_YEASTAR: Final = f"{DOMAIN}_event"


class ConnectionState(StrEnum):
    """What the integration knows of its session with the PBX."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"
    LOCKED_OUT = "locked_out"
    API_UNAVAILABLE = "api_unavailable"
    TLS_ERROR = "tls_error"
    CERTIFICATE_CHANGED = "certificate_changed"


def format_fingerprint(fingerprint: str) -> str:
    """Show a SHA-256 fingerprint the way browsers and the PBX's web page do: AB:CD:..."""
    digits = fingerprint.upper()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def signal_report(entry_id: str) -> str:
    """Dispatcher signal for every accepted report of one PBX."""
    return f"{DOMAIN}_{entry_id}_report"


def signal_link(entry_id: str) -> str:
    """Dispatcher signal for a change of the TCP event link's state."""
    return f"{DOMAIN}_{entry_id}_link"


def signal_call(entry_id: str, number: str) -> str:
    """Dispatcher signal for a call event of one extension."""
    return f"{DOMAIN}_{entry_id}_call_{number}"


def signal_calls(entry_id: str) -> str:
    """Dispatcher signal for a change of the PBX's calls in progress."""
    return f"{DOMAIN}_{entry_id}_calls"


def signal_missed_cleared(entry_id: str, number: str) -> str:
    """Dispatcher signal: the user cleared an extension's missed calls."""
    return f"{DOMAIN}_{entry_id}_missed_cleared_{number}"


def signal_extension(entry_id: str, number: str) -> str:
    """Dispatcher signal for a status change of one extension."""
    return f"{DOMAIN}_{entry_id}_extension_{number}"
