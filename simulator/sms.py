"""Text messages through the PBX's GSM/3G/4G trunks: ``sms/send`` and its result.

``sms/send`` takes ``trunk``, ``phonenumber`` and the ``message`` URL-encoded (UTF-8);
it only accepts the message and answers its ``smsid`` (``<number>-<unix time>``). A
few seconds later an ``sms-send`` report tells whether it went out. The documents'
errnos: 10026 no such GSM module (a trunk the PBX lacks, or one of another kind),
10027 the module busy or none idle (any state but ``Idle``), 10028 the number blank,
10030 the message blank; 10029 (the SMS file) has no cause a test can set up, so the
errno fault stands in for it.

What the documents do not say, inferred: a message beyond the documented limits
(2,000 characters, 1,000 with Chinese; no emoji) is accepted and then fails.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote

from .clock import SimClock
from .inventory import SimTrunk
from .reports import Report, SmsSent
from .switchboard import Refused

type Json = dict[str, Any]

ERRNO_NO_MODULE = "10026"
ERRNO_MODULE_BUSY = "10027"
ERRNO_NUMBER_BLANK = "10028"
ERRNO_MESSAGE_BLANK = "10030"
# Trunk types with a mobile module (compared case-insensitively).
MOBILE_TYPES = frozenset({"gsm", "3g", "4g", "lte", "wcdma", "cdma"})
RESULT_DELAY = 2.0  # seconds from acceptance to the result report
MAX_LENGTH = 2000
MAX_WIDE_LENGTH = 1000  # with any character beyond Latin-1 (Chinese, say)


class SmsOutcome(StrEnum):
    """What the PBX reports about an accepted message; ``silent``: no report at all."""

    SENT = "sent"
    FAILED = "failed"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class SimSms:
    """One message the PBX accepted, decoded, with what it reports (or will) about it."""

    smsid: str
    trunk: str
    number: str
    message: str
    outcome: SmsOutcome


class Exchange(Protocol):
    """What the messages need of their PBX: time and trunks."""

    clock: SimClock

    @property
    def trunks(self) -> dict[str, SimTrunk]:
        """Return the trunks by name."""


class SmsCentre:
    """Accept messages as ``sms/send`` does and report their results later."""

    def __init__(self, exchange: Exchange, emit: Callable[[Report], None]) -> None:
        """Serve ``exchange``, sending result reports with ``emit``; nothing sent yet."""
        self.messages: list[SimSms] = []
        self.result_delay = RESULT_DELAY
        self.next_outcomes: list[SmsOutcome] = []  # for the next messages, in turn
        self._pbx = exchange
        self._emit = emit
        self._timers: dict[str, asyncio.TimerHandle] = {}  # results due, by smsid

    def send(self, body: Json) -> Json:
        """``sms/send``: check the trunk and fields, accept, and schedule the result."""
        trunk = self._pbx.trunks.get(_text(body, "trunk"))
        if trunk is None or trunk.type.lower() not in MOBILE_TYPES:
            raise Refused(ERRNO_NO_MODULE)
        if not (number := _text(body, "phonenumber")):
            raise Refused(ERRNO_NUMBER_BLANK)
        raw = body.get("message")
        message = unquote(raw) if isinstance(raw, str) else ""
        if not message.strip():
            raise Refused(ERRNO_MESSAGE_BLANK)
        if trunk.status.lower() != "idle":
            raise Refused(ERRNO_MODULE_BUSY)
        if self.next_outcomes:
            outcome = self.next_outcomes.pop(0)
        else:
            outcome = SmsOutcome.SENT if _sendable(message) else SmsOutcome.FAILED
        sms = SimSms(self._smsid(number), trunk.name, number, message, outcome)
        self.messages.append(sms)
        if outcome is not SmsOutcome.SILENT:
            self._timers[sms.smsid] = asyncio.get_running_loop().call_later(
                self.result_delay, self._report, sms
            )
        return {"status": "Success", "smsid": sms.smsid}

    def cancel_timers(self) -> None:
        """Send no more results (the PBX stops)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _smsid(self, number: str) -> str:
        """Return a new id like the documents' ``18396210850-1502874159``.

        Two messages to one number within a second still get their own ids.
        """
        taken = {sms.smsid for sms in self.messages}
        second = int(self._pbx.clock.now())
        while f"{number}-{second}" in taken:
            second += 1
        return f"{number}-{second}"

    def _report(self, sms: SimSms) -> None:
        """Send the message's result."""
        del self._timers[sms.smsid]
        self._emit(SmsSent(smsid=sms.smsid, sent=sms.outcome is SmsOutcome.SENT))


def _text(body: Json, key: str) -> str:
    """Return a field as text, blank when it is missing or not text."""
    value = body.get(key)
    return str(value).strip() if isinstance(value, str | int) else ""


def _sendable(message: str) -> bool:
    """Say whether a message is within the documented limits."""
    if any(ord(char) > 0xFFFF or char in "\u200d\ufe0f" for char in message):
        return False
    wide = any(ord(char) > 0xFF for char in message)
    return len(message) <= (MAX_WIDE_LENGTH if wide else MAX_LENGTH)
