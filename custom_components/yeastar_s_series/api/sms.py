"""Text messages through a GSM/3G/4G trunk: what the PBX accepts, and its result.

`sms/send` takes the message URL-encoded, up to 2,000 characters, or 1,000 when
any is beyond GSM's alphabet (Chinese, say); it refuses emoji. The PBX only
accepts the message at once: whether it went out comes later in an `sms-send`
report, `Success` or `Failed` (v1 `Succeed`, one guide `Success`).
"""

from enum import StrEnum
from typing import Final
from urllib.parse import quote

MAX_LENGTH: Final = 2000
MAX_WIDE_LENGTH: Final = 1000  # with any character GSM's 7-bit alphabet lacks
# The 7-bit GSM alphabet (3GPP TS 23.038), basic set and extension, as Unicode.
_GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€\f"
)
# Emoji: characters beyond the Basic Multilingual Plane, and the joiner and
# variation selector that build emoji from BMP symbols. The documents say "no
# emoji" without a list: these are what no 16-bit SMS encoding can carry.
_EMOJI_PARTS: Final = frozenset("\u200d\ufe0e\ufe0f")


class SmsProblem(StrEnum):
    """Why a message cannot be sent as it is."""

    BLANK = "blank"
    TOO_LONG = "too_long"
    EMOJI = "emoji"


class SmsResult(StrEnum):
    """What became of a message the PBX accepted."""

    SENT = "sent"
    FAILED = "failed"


def message_problem(message: str) -> SmsProblem | None:
    """Say why the PBX would refuse the message, None when it would take it."""
    if not message.strip():
        return SmsProblem.BLANK
    if any(ord(char) > 0xFFFF or char in _EMOJI_PARTS for char in message):
        return SmsProblem.EMOJI
    wide = any(char not in _GSM_BASIC for char in message)
    if len(message) > (MAX_WIDE_LENGTH if wide else MAX_LENGTH):
        return SmsProblem.TOO_LONG
    return None


def send_body(trunk: str, number: str, message: str) -> dict[str, str]:
    """Build the `sms/send` body: the message URL-encoded (UTF-8), as the API wants."""
    return {"trunk": trunk, "phonenumber": number, "message": quote(message, safe="")}


def result_of(status: object) -> SmsResult | None:
    """Read an `sms-send` report's status (None for one the documents do not show)."""
    if not isinstance(status, str):
        return None
    return {
        "success": SmsResult.SENT,
        "succeed": SmsResult.SENT,
        "failed": SmsResult.FAILED,
    }.get(status.strip().lower())
