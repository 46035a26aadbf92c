"""Names for the numbers in a call: extension names, and the PBX's company contacts.

Outside numbers come as PBXs dial them: with or without `+` and a country code,
with a trunk prefix (`0`, `00`, `9`), with spaces and dashes in the phonebook.
Two numbers match when their digits, leading zeros dropped, are the same, or
when the shorter one (at least seven digits, an outside-line 9 dropped) ends the
longer one.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
import re

from .models import text

type NameLookup = Callable[[str | None], str | None]

_NOT_DIGITS = re.compile(r"\D")
# Fewer digits than this are an extension or a short code, never matched by suffix.
MIN_SUFFIX_DIGITS = 7
# Number fields of a company contact (v2 `companycontacts/query`).
CONTACT_NUMBER_FIELDS = (
    "businessnum",
    "businessnum2",
    "mobile",
    "mobile2",
    "homenum",
    "homenum2",
    "othernum",
)


def digits(number: str) -> str:
    """Return the digits of a number as the phonebook or the PBX writes it, no leading 0."""
    return _NOT_DIGITS.sub("", number).lstrip("0")


def numbers_match(first: str, second: str) -> bool:
    """Say whether two spellings of a phone number are the same number."""
    a, b = digits(first), digits(second)
    if not a or not b:
        return False
    if a == b:
        return True
    return _ends(a, b) or _ends(b, a)


def _ends(number: str, other: str) -> bool:
    """Say whether `number` (without an outside-line 9) is the end of a longer `other`."""
    for candidate in {number, number.removeprefix("9")}:
        if MIN_SUFFIX_DIGITS <= len(candidate) < len(other) and other.endswith(
            candidate
        ):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Contact:
    """One entry of the PBX's company phonebook."""

    name: str
    numbers: tuple[str, ...]

    @classmethod
    def from_api(cls, item: object) -> Contact | None:
        """Build from a `companycontacts` item; None without a name or a number."""
        if not isinstance(item, Mapping):
            return None
        name = " ".join(
            part
            for key in ("firstname", "lastname")
            if isinstance(part := item.get(key), str) and part.strip()
        ).strip() or text(item.get("company"))
        numbers = tuple(
            number
            for key in CONTACT_NUMBER_FIELDS
            if (number := text(item.get(key))) is not None and digits(number)
        )
        if not name or not numbers:
            return None
        return cls(name=name, numbers=numbers)


class NameBook:
    """Who a number is: an extension of the PBX, or a company contact."""

    def __init__(self) -> None:
        """Start knowing nobody."""
        self._extensions: dict[str, str] = {}
        self._contacts: dict[str, str] = {}  # digits -> name

    def set_extensions(self, names: Mapping[str, str | None]) -> None:
        """Take the extension list's names (extension number -> name)."""
        self._extensions = {number: name for number, name in names.items() if name}

    def set_contacts(self, contacts: Iterable[Contact]) -> None:
        """Take the company phonebook."""
        self._contacts = {
            digits(number): contact.name
            for contact in contacts
            for number in contact.numbers
        }

    def name(self, number: str | None) -> str | None:
        """Return the name of a number, None when nobody has it."""
        if not number:
            return None
        if (name := self._extensions.get(number)) is not None:
            return name
        wanted = digits(number)
        if (name := self._contacts.get(wanted)) is not None:
            return name
        return next(
            (
                name
                for known, name in self._contacts.items()
                if numbers_match(known, wanted)
            ),
            None,
        )
