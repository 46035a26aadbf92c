"""Client for the HTTP API of Yeastar S-Series IP-PBXs.

Independent of Home Assistant (a test keeps it so): it could be published as a
library of its own.
"""

from . import call_control
from .client import DEFAULT_PORT, TOKEN_LIFETIME, YeastarClient, hash_password
from .exceptions import (
    ReportParseError,
    YeastarApiUnavailableError,
    YeastarAuthenticationError,
    YeastarCertificateChangedError,
    YeastarConnectionError,
    YeastarConnectionRefusedError,
    YeastarError,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarLoginUnansweredError,
    YeastarRequestError,
    YeastarResponseError,
    YeastarTimeoutError,
    YeastarTlsError,
    YeastarTokenError,
    YeastarUnsupportedError,
)
from .models import (
    ApiVersion,
    DeviceInfo,
    Extension,
    ExtensionStatus,
    ReportFormat,
    ReportMethod,
    ReportTarget,
)
from .reports import Party, Report, parse_report
from .tcp import DEFAULT_TCP_PORT, EventSplitter, YeastarEventLink
from .tls import fetch_certificate_fingerprint, normalize_fingerprint

__all__ = [
    "call_control",
    "DEFAULT_PORT",
    "DEFAULT_TCP_PORT",
    "TOKEN_LIFETIME",
    "ApiVersion",
    "DeviceInfo",
    "EventSplitter",
    "Extension",
    "ExtensionStatus",
    "Party",
    "Report",
    "ReportFormat",
    "ReportMethod",
    "ReportParseError",
    "ReportTarget",
    "YeastarApiUnavailableError",
    "YeastarAuthenticationError",
    "YeastarCertificateChangedError",
    "YeastarClient",
    "YeastarConnectionError",
    "YeastarConnectionRefusedError",
    "YeastarError",
    "YeastarEventLink",
    "YeastarInvalidAuthError",
    "YeastarLockedOutError",
    "YeastarLoginUnansweredError",
    "YeastarRequestError",
    "YeastarResponseError",
    "YeastarTimeoutError",
    "YeastarTlsError",
    "YeastarTokenError",
    "YeastarUnsupportedError",
    "fetch_certificate_fingerprint",
    "hash_password",
    "normalize_fingerprint",
    "parse_report",
]
