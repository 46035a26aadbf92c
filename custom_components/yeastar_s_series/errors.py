"""What a user reads when an action or a switch fails: the PBX's refusal in words."""

from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    ApiVersion,
    YeastarAuthenticationError,
    YeastarError,
    YeastarRequestError,
    YeastarUnsupportedError,
)
from .const import DOMAIN
from .coordinator import YeastarConfigEntry

# The PBX's refusals, in the user's terms (the documents' error table).
ERRNO_KEYS: Final = {
    "10004": "required_field_blank",
    "10005": "no_such_call",
    "10006": "no_such_extension",
    "10007": "no_such_call",
    "10008": "extension_busy",
    "10011": "no_such_number",
    "10015": "call_not_connected",
    "10016": "too_late",
    "10017": "configuration_failed",
    "10024": "no_outbound_permission",
    "10025": "applied_too_often",
    "10026": "no_gsm_module",
    "10027": "gsm_module_busy",
    "10028": "sms_number_blank",
    "10029": "sms_file_error",
    "10030": "sms_message_blank",
    "10031": "number_not_allowed",
    "20012": "download_expired",
    "20014": "recording_gone",
    "20015": "download_not_allowed",
    "20019": "call_records_unavailable",
    "20020": "call_records_unavailable",
    "20021": "call_records_unavailable",
}


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Say in words what the caller got wrong."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def unavailable(entry: YeastarConfigEntry) -> HomeAssistantError:
    """Say that the PBX cannot take the action now."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="pbx_unavailable",
        translation_placeholders={"title": entry.title},
    )


def refusal(
    err: YeastarError, entry: YeastarConfigEntry, version: ApiVersion
) -> HomeAssistantError:
    """Word a failed request: what the PBX refused, or that it cannot be reached."""
    if isinstance(err, YeastarRequestError) and not isinstance(
        err, YeastarAuthenticationError
    ):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=ERRNO_KEYS.get(err.errno, "request_refused"),
            translation_placeholders={"errno": err.errno},
        )
    if isinstance(err, YeastarUnsupportedError):
        return invalid("not_supported", version=version.value)
    return unavailable(entry)
