"""Names for numbers: extensions first, then the company phonebook, as PBXs dial."""

import pytest

from custom_components.yeastar_s_series.api.names import Contact, NameBook


@pytest.fixture
def names() -> NameBook:
    """Two extensions and two contacts, numbers written as phonebooks have them."""
    book = NameBook()
    book.set_extensions({"1001": "Front Desk", "1002": None})
    items = (
        {"firstname": "Alice", "lastname": "Example", "mobile": "+86 139-1234-5678"},
        {"company": "Plumbing Ltd", "businessnum": "(020) 8123 4567"},
        {"firstname": "Nobody"},  # no number: no contact
    )
    contacts = [Contact.from_api(item) for item in items]
    assert contacts[2] is None
    book.set_contacts(contact for contact in contacts if contact is not None)
    return book


@pytest.mark.parametrize(
    ("number", "name"),
    [
        ("1001", "Front Desk"),
        ("1002", None),  # an extension without a name
        ("+8613912345678", "Alice Example"),
        ("008613912345678", "Alice Example"),
        ("013912345678", "Alice Example"),  # trunk prefix 0, no country code
        ("913912345678", "Alice Example"),  # outside-line prefix 9
        ("02081234567", "Plumbing Ltd"),
        ("81234567", "Plumbing Ltd"),
        ("7654321", None),
        ("5678", None),  # a short code never matches by suffix
        (None, None),
    ],
)
def test_names(names: NameBook, number: str | None, name: str | None) -> None:
    """A number finds its name however it is spelled, and only its own."""
    assert names.name(number) == name
