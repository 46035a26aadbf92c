"""Changes to the PBX's configuration, one at a time and a gap apart.

Each `extension/update` makes the PBX apply its configuration. It refuses applies
that come too often (errno 10025), and before firmware 30.11.0.7 frequent applies
disturbed the calls in progress. So writes wait their turn, a gap after the last
one; a 10025 doubles the gap (up to a limit) and the write is tried once more
after it, then the refusal stands. The documents do not say how long the PBX
wants between applies: the first gap is a guess the PBX corrects.
"""

import asyncio
from collections.abc import Mapping
from typing import Final

from .api import YeastarClient, YeastarRequestError

FIRST_GAP: Final = 2.0  # seconds between two writes
LONGEST_GAP: Final = 32.0
APPLIED_TOO_OFTEN: Final = "10025"


class SettingsWriter:
    """Send one PBX's configuration changes in turn."""

    def __init__(self, client: YeastarClient) -> None:
        """Nothing written yet: the first write goes at once."""
        self._client = client
        self._lock = asyncio.Lock()
        self.gap = FIRST_GAP
        self._last: float | None = None

    async def async_update_extension(self, body: Mapping[str, str]) -> None:
        """Write an extension's settings when its turn comes (errors as the client's)."""
        async with self._lock:
            for attempt in range(2):
                await self._async_wait_turn()
                try:
                    await self._client.update_extension(body)
                except YeastarRequestError as err:
                    if err.errno != APPLIED_TOO_OFTEN or attempt:
                        raise
                    self.gap = min(self.gap * 2, LONGEST_GAP)
                else:
                    return
                finally:
                    self._last = asyncio.get_running_loop().time()

    async def _async_wait_turn(self) -> None:
        """Sleep until the gap since the last write has passed."""
        if self._last is not None:
            wait = self._last + self.gap - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
