"""Typed models of what the S-Series API sends and receives."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .exceptions import YeastarResponseError


class ReportFormat(StrEnum):
    """Event report formats, named by the login `version` that selects them."""

    V1_0_0 = "1.0.0"
    V1_0_2 = "1.0.2"
    V2_0_0 = "2.0.0"


class ReportMethod(StrEnum):
    """How the PBX delivers its reports: a PBX-wide setting (API v2.0.0).

    HTTP: the PBX posts each report to the application. TCP: the application
    connects to the PBX's event port and reads them.
    """

    HTTP = "http"
    TCP = "tcp"

    @classmethod
    def from_login(cls, answer: dict[str, Any]) -> ReportMethod:
        """Read the v2 login answer's `transport`; older APIs know only HTTP."""
        if str(answer.get("transport", "")).strip().lower() == "tcp":
            return cls.TCP
        return cls.HTTP


class ApiVersion(StrEnum):
    """API versions of the S-Series firmware, newest first in `DETECTION_ORDER`."""

    V1_0_0 = "v1.0.0"
    V1_1_0 = "v1.1.0"
    V2_0_0 = "v2.0.0"

    @property
    def report_format(self) -> ReportFormat:
        """The format this API's event reports come in (chosen at login)."""
        return _REPORT_FORMATS[self]

    @property
    def login_version(self) -> str | None:
        """The login `version` that selects the report format.

        v1.0.0 knows no `version` field and reports in the old format.
        """
        if self is ApiVersion.V1_0_0:
            return None
        return self.report_format.value

    @property
    def extension_list_endpoint(self) -> str:
        """v2 renamed the extension list endpoint."""
        return "extension/list" if self is ApiVersion.V2_0_0 else "extensionlist/query"


_REPORT_FORMATS: dict[ApiVersion, ReportFormat] = {
    ApiVersion.V1_0_0: ReportFormat.V1_0_0,
    ApiVersion.V1_1_0: ReportFormat.V1_0_2,
    ApiVersion.V2_0_0: ReportFormat.V2_0_0,
}

DETECTION_ORDER = (ApiVersion.V2_0_0, ApiVersion.V1_1_0, ApiVersion.V1_0_0)


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """Where the PBX posts event reports: http://<ipaddr>:<port>/<url>."""

    ipaddr: str
    port: int
    url: str = ""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The PBX as `deviceinfo/query` describes it."""

    model: str
    serial: str
    firmware_version: str | None
    hardware_version: str | None
    uptime: str | None
    extension_status: str | None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DeviceInfo:
        """Build from the `deviceinfo` object; the serial is the one field we cannot do without."""
        info = data.get("deviceinfo")
        if not isinstance(info, dict) or not text(info.get("sn")):
            raise YeastarResponseError(
                "The PBX sent device information without a serial number"
            )
        return cls(
            model=text(info.get("devicename")) or "S-Series",
            serial=str(info["sn"]),
            firmware_version=text(info.get("firmwarever")),
            hardware_version=text(info.get("hardwarever")),
            uptime=text(info.get("uptime")),
            extension_status=text(info.get("extensionstatus")),
        )


class ExtensionStatus(StrEnum):
    """Extension states the S-Series reports, in lists and in `ExtensionStatus` reports.

    Lists say "Unavailable" where reports say "Unregistered" (no phone registered);
    both map to UNREGISTERED, which also keeps the state clear of Home Assistant's
    own "unavailable".
    """

    REGISTERED = "registered"
    UNREGISTERED = "unregistered"
    IDLE = "idle"
    RINGING = "ringing"
    BUSY = "busy"
    HOLD = "hold"
    MALFUNCTION = "malfunction"
    FXS_NO_PORT = "fxsnoport"

    @classmethod
    def parse(cls, value: object) -> ExtensionStatus | None:
        """Map the PBX's spelling ("Registered", "Fxsnoport") to a member; None if unknown."""
        if not isinstance(value, str):
            return None
        status = value.strip().lower()
        try:
            return cls(_STATUS_ALIASES.get(status, status))
        except ValueError:
            return None


_STATUS_ALIASES = {"unavailable": ExtensionStatus.UNREGISTERED.value}


@dataclass(frozen=True, slots=True)
class Extension:
    """One extension of the PBX's extension list."""

    number: str
    name: str | None
    status: ExtensionStatus | None
    type: str | None

    @classmethod
    def from_api(cls, item: object) -> Extension | None:
        """Build from a list item (v1 `extnumber`, v2 `number`); None when it has no number."""
        if not isinstance(item, dict):
            return None
        number = text(item.get("number")) or text(item.get("extnumber"))
        if number is None:
            return None
        return cls(
            number=number,
            name=text(item.get("username")),
            status=ExtensionStatus.parse(item.get("status")),
            type=text(item.get("type")),
        )


def text(value: object) -> str | None:
    """Return a non-empty string or number field as text, anything else as None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
