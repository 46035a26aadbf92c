"""An extension's settings a person changes every day: do not disturb, forwarding.

`extension/query` answers with every setting of an extension, secrets included
(the SIP registration password in plain text, the login password, the voicemail
PIN): only the settings below are read from it, the rest is never kept.

Forwarding comes in three modes (prefix `a` always, `n` no answer, `b` busy),
each `on`/`off` with a destination. The destination is written either as a kind
(`Voicemail`, `Extension`, `Mobile Number`, `Custom Number`) with its number in
`…ext` or `…prefix` + `…num`, or in a compact form (`voicemail`, `ext1000`,
`mobile1399999999`, `number95923333`): both are read.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import re
from typing import Any

from .models import ApiVersion, text


class ForwardMode(StrEnum):
    """When calls are forwarded."""

    ALWAYS = "always"
    NO_ANSWER = "no_answer"
    BUSY = "busy"

    @property
    def switch_key(self) -> str:
        """The on/off field of the mode."""
        return {"always": "alwaysforward", "no_answer": "noanswerforward"}.get(
            self.value, "busyforward"
        )

    @property
    def prefix(self) -> str:
        """The first letter of the mode's destination fields."""
        return {"always": "a", "no_answer": "n"}.get(self.value, "b")


class ForwardDestination(StrEnum):
    """Where forwarded calls go."""

    VOICEMAIL = "voicemail"
    EXTENSION = "extension"
    MOBILE = "mobile"
    NUMBER = "number"


# The PBX's names of the destination kinds, as `…transferto` writes them.
_KIND_NAMES = {
    ForwardDestination.VOICEMAIL: "Voicemail",
    ForwardDestination.EXTENSION: "Extension",
    ForwardDestination.MOBILE: "Mobile Number",
    ForwardDestination.NUMBER: "Custom Number",
}
_COMPACT = re.compile(r"^(voicemail|ext|mobile|number)(\d*)$", re.IGNORECASE)
_COMPACT_KINDS = {
    "voicemail": ForwardDestination.VOICEMAIL,
    "ext": ForwardDestination.EXTENSION,
    "mobile": ForwardDestination.MOBILE,
    "number": ForwardDestination.NUMBER,
}


@dataclass(frozen=True, slots=True)
class Forwarding:
    """One forwarding mode: on or off, and where to (when the PBX has a destination)."""

    enabled: bool
    destination: ForwardDestination | None = None
    number: str | None = None  # the extension, mobile or custom number

    @property
    def has_destination(self) -> bool:
        """Whether switching it on would send calls somewhere."""
        return self.destination is ForwardDestination.VOICEMAIL or bool(self.number)


@dataclass(frozen=True, slots=True)
class ExtensionSettings:
    """The settings of one extension the integration shows and changes."""

    number: str
    dnd: bool | None
    forwarding: dict[ForwardMode, Forwarding] = field(default_factory=dict)

    @classmethod
    def from_api(cls, item: object) -> ExtensionSettings | None:
        """Read one `extinfos` item (v1 `extnumber`, v2 `number`); secrets left unread."""
        if not isinstance(item, Mapping):
            return None
        number = text(item.get("number")) or text(item.get("extnumber"))
        if number is None:
            return None
        mobile = text(item.get("mobile")) or text(item.get("moblie"))  # sic
        return cls(
            number=number,
            dnd=_on(item.get("dnd")),
            forwarding={
                mode: _forwarding(item, mode, mobile)
                for mode in ForwardMode
                if mode.switch_key in item
            },
        )


def _forwarding(
    item: Mapping[str, Any], mode: ForwardMode, mobile: str | None
) -> Forwarding:
    """Read one forwarding mode with its destination."""
    prefix = mode.prefix
    kind_text = text(item.get(f"{prefix}transferto")) or ""
    destination: ForwardDestination | None = None
    number: str | None = None
    if match := _COMPACT.fullmatch(kind_text.replace(" ", "")):
        destination = _COMPACT_KINDS[match[1].lower()]
        number = match[2] or None
    else:
        destination = next(
            (
                kind
                for kind, name in _KIND_NAMES.items()
                if name.lower() == kind_text.lower()
            ),
            None,
        )
    if number is None:
        if destination is ForwardDestination.EXTENSION:
            number = text(item.get(f"{prefix}transferext"))
        elif destination is ForwardDestination.MOBILE:
            number = text(item.get(f"{prefix}transfernum")) or mobile
        elif destination is ForwardDestination.NUMBER:
            number = (
                "".join(
                    part
                    for key in ("transferprefix", "transfernum")
                    if (part := text(item.get(f"{prefix}{key}")))
                )
                or None
            )
    return Forwarding(
        enabled=_on(item.get(mode.switch_key)) is True,
        destination=destination,
        number=number,
    )


def key_field(version: ApiVersion) -> str:
    """Name the field that names the extension in `extension/query` and `…/update`."""
    return "number" if version is ApiVersion.V2_0_0 else "extid"


def query_all(version: ApiVersion) -> dict[str, str]:
    """Build the body that asks for every extension (v1: no field at all)."""
    return {"number": "all"} if version is ApiVersion.V2_0_0 else {}


def dnd_update(version: ApiVersion, number: str, on: bool) -> dict[str, str]:
    """Build the `extension/update` body that switches do not disturb."""
    return {key_field(version): number, "dnd": "on" if on else "off"}


def forwarding_update(
    version: ApiVersion,
    number: str,
    mode: ForwardMode,
    *,
    enabled: bool,
    destination: ForwardDestination | None = None,
    target: str | None = None,
) -> dict[str, str]:
    """Build the `extension/update` body that switches forwarding (and sets where to)."""
    body = {key_field(version): number, mode.switch_key: "on" if enabled else "off"}
    if destination is not None:
        prefix = mode.prefix
        body[f"{prefix}transferto"] = _KIND_NAMES[destination]
        if destination is ForwardDestination.EXTENSION and target:
            body[f"{prefix}transferext"] = target
        elif destination in (ForwardDestination.MOBILE, ForwardDestination.NUMBER):
            # The number is written whole: no outbound prefix left from before.
            body[f"{prefix}transferprefix"] = ""
            if target:
                body[f"{prefix}transfernum"] = target
    return body


def _on(value: object) -> bool | None:
    """Read `on`/`off` (None when the field says neither)."""
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return value.strip().lower() == "on"
    return None
