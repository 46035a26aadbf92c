"""Client for the HTTP API of Yeastar S-Series IP-PBXs.

Independent of Home Assistant (a test keeps it so): it could be published as a
library of its own.
"""

from .client import TOKEN_LIFETIME, YeastarClient, detect_api_version, hash_password
from .events import Party, Report, ReportFormat, parse_report
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
    YeastarRequestError,
    YeastarResponseError,
    YeastarTimeoutError,
    YeastarTlsError,
    YeastarTokenError,
)
from .models import ApiVersion, DeviceInfo, Extension, ExtensionStatus, ReportTarget
from .tls import fetch_certificate_fingerprint, normalize_fingerprint

__all__ = [
    "TOKEN_LIFETIME",
    "ApiVersion",
    "DeviceInfo",
    "Extension",
    "ExtensionStatus",
    "Party",
    "Report",
    "ReportFormat",
    "ReportParseError",
    "ReportTarget",
    "YeastarApiUnavailableError",
    "YeastarAuthenticationError",
    "YeastarCertificateChangedError",
    "YeastarClient",
    "YeastarConnectionError",
    "YeastarConnectionRefusedError",
    "YeastarError",
    "YeastarInvalidAuthError",
    "YeastarLockedOutError",
    "YeastarRequestError",
    "YeastarResponseError",
    "YeastarTimeoutError",
    "YeastarTlsError",
    "YeastarTokenError",
    "detect_api_version",
    "fetch_certificate_fingerprint",
    "hash_password",
    "normalize_fingerprint",
    "parse_report",
]
