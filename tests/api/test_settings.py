"""Reading `extinfos` items: what the PBX leaves out or garbles is not guessed."""

import pytest

from custom_components.yeastar_s_series.api.settings import ExtensionSettings


@pytest.mark.parametrize("item", [None, ["1000"], {"username": "Jayson"}])
def test_items_without_a_number_are_skipped(item: object) -> None:
    """No object, or no `number`/`extnumber`: no settings."""
    assert ExtensionSettings.from_api(item) is None


def test_dnd_the_answer_does_not_tell() -> None:
    """No `dnd` field (the v2 page shows none) or an unknown word: unknown, not off."""
    assert ExtensionSettings.from_api({"number": "1000"}) == ExtensionSettings(
        number="1000", dnd=None
    )
    settings = ExtensionSettings.from_api({"extnumber": "1000", "dnd": "maybe"})
    assert settings is not None
    assert settings.dnd is None
