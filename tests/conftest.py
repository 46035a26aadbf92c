"""Shared test set-up.

pytest-homeassistant-custom-component ships a `custom_components` package of its
own; importing ours here, before any test runs, makes Home Assistant find it.
"""

import custom_components.yeastar_s_series  # noqa: F401
